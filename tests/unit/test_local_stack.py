"""The local stack's pieces: intrinsics, the resource-type gate, schedules, policies, moto hooks."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local_stack import emulator
from local_stack.gateway.apis import _path_regex
from local_stack.gateway.authorizers import policy_allows
from local_stack.resources import NOT_EMULATED, PROVISIONED, SERVED_BY_GATEWAY, Schedule, check_types
from local_stack.schedules import ScheduleError, Timer, next_fire
from local_stack.template import Naming, Stack, TemplateError


def stack_of(resources: dict, parameters: dict | None = None) -> Stack:
    template = {"Resources": resources, "Parameters": parameters or {}}
    return Stack("S", template, Path("/nonexistent"), Naming("S", "us-east-1", "123456789012"))


TABLE = {"Type": "AWS::DynamoDB::Table", "Properties": {}}
FN = {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "named-fn"}}


class TestIntrinsics:
    def test_given_refs_and_attributes_then_names_and_arns_as_cloudformation_gives(self):
        s = stack_of({"Tbl": TABLE, "Fn": FN})
        assert s.resolve({"Ref": "Tbl"}) == "S-Tbl"
        assert s.resolve({"Fn::GetAtt": ["Tbl", "Arn"]}) == "arn:aws:dynamodb:us-east-1:123456789012:table/S-Tbl"
        assert s.resolve({"Fn::GetAtt": "Fn.Arn"}) == "arn:aws:lambda:us-east-1:123456789012:function:named-fn"

    def test_given_join_sub_select_split_then_resolved(self):
        s = stack_of({"Tbl": TABLE})
        assert s.resolve({"Fn::Join": ["/", ["a", {"Ref": "AWS::Region"}]]}) == "a/us-east-1"
        assert s.resolve({"Fn::Sub": "${Tbl}@${AWS::AccountId} ${!Literal}"}) == "S-Tbl@123456789012 ${Literal}"
        assert s.resolve({"Fn::Sub": ["${X}-${Tbl.Arn}", {"X": "x"}]}).startswith("x-arn:aws:dynamodb")
        assert s.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"

    @pytest.mark.parametrize(
        "value",
        [{"Ref": "Missing"}, {"Fn::GetAtt": ["Missing", "Arn"]}, {"Fn::ImportValue": "x"}, {"Fn::If": ["c", 1, 2]}],
    )
    def test_given_an_unknown_reference_or_intrinsic_then_it_fails_loudly(self, value):
        with pytest.raises(TemplateError):
            stack_of({"Tbl": TABLE}).resolve(value)


class TestResourceTypes:
    def test_given_an_unknown_type_then_start_up_fails_naming_it(self):
        s = stack_of({"Tbl": TABLE, "Q": {"Type": "AWS::SQS::Queue", "Properties": {}}})
        with pytest.raises(TemplateError, match=r"AWS::SQS::Queue.*NOT_EMULATED"):
            check_types(s)

    def test_given_the_not_emulated_list_then_every_entry_has_a_reason_and_none_is_also_emulated(self):
        assert all(len(reason) > 10 for reason in NOT_EMULATED.values())
        assert not (set(NOT_EMULATED) & (PROVISIONED | SERVED_BY_GATEWAY))
        # the data and compute types the product relies on are emulated, never skipped
        assert {
            "AWS::DynamoDB::Table",
            "AWS::S3::Bucket",
            "AWS::StepFunctions::StateMachine",
            "AWS::Lambda::Function",
            "AWS::Events::Rule",
        } <= PROVISIONED
        # (a bucket *policy* is access control, like IAM, not data: its TLS-only rule cannot hold on HTTP)
        skipped = {
            t for t in NOT_EMULATED if t.startswith(("AWS::DynamoDB", "AWS::S3", "AWS::StepFunctions", "AWS::SQS"))
        }
        assert skipped <= {"AWS::S3::BucketPolicy"}


class TestSchedules:
    NOW = datetime(2026, 11, 21, 10, 7, 30, tzinfo=UTC)  # a Saturday

    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("rate(1 minute)", datetime(2026, 11, 21, 10, 8, 30, tzinfo=UTC)),
            ("rate(2 hours)", datetime(2026, 11, 21, 12, 7, 30, tzinfo=UTC)),
            ("cron(0/15 * * * ? *)", datetime(2026, 11, 21, 10, 15, tzinfo=UTC)),
            ("cron(0 12 ? * MON-FRI *)", datetime(2026, 11, 23, 12, 0, tzinfo=UTC)),
            ("cron(0 8 ? * 2 *)", datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),  # AWS 2 = Monday
            ("cron(30 6 1 * ? *)", datetime(2026, 12, 1, 6, 30, tzinfo=UTC)),
            ("cron(0 0 1 1 ? 2028)", datetime(2028, 1, 1, 0, 0, tzinfo=UTC)),
        ],
    )
    def test_given_an_expression_then_the_next_fire_time(self, expression, expected):
        assert next_fire(expression, self.NOW) == expected

    @pytest.mark.parametrize(
        "expression", ["rate(0 minutes)", "cron(0 12 * * *)", "cron(0 12 1 * 1 *)", "every day", "rate(5 weeks)"]
    )
    def test_given_an_invalid_expression_then_refused(self, expression):
        with pytest.raises(ScheduleError):
            next_fire(expression, self.NOW)

    def test_given_a_running_timer_then_schedules_fire_with_scheduled_events(self):
        # Given a clock that jumps a minute per reading, so no real waiting is needed
        ticks = iter(self.NOW + timedelta(minutes=n) for n in range(10_000))
        lock = threading.Lock()

        def clock():
            with lock:
                return next(ticks)

        fired, done = [], threading.Event()

        def fire(schedule, event):
            fired.append(event)
            if len(fired) >= 3:
                done.set()

        timer = Timer([Schedule("tick", "rate(1 minute)", "fn")], fire, "us-east-1", "123456789012", clock=clock)
        timer.start()
        assert done.wait(5)
        timer.stop()
        assert fired[0]["detail-type"] == "Scheduled Event"
        assert fired[0]["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/tick"]


class TestGatewayPieces:
    ARN = "arn:aws:execute-api:us-east-1:1:api/stage/GET/items/1"

    @pytest.mark.parametrize(
        ("statements", "allowed"),
        [
            (
                [
                    {
                        "Effect": "Allow",
                        "Action": "execute-api:Invoke",
                        "Resource": "arn:aws:execute-api:us-east-1:1:api/stage/*/*",
                    }
                ],
                True,
            ),
            (
                [
                    {
                        "Effect": "Allow",
                        "Action": "execute-api:Invoke",
                        "Resource": "arn:aws:execute-api:us-east-1:1:api/stage/POST/*",
                    }
                ],
                False,
            ),
            (
                [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*/items/*"},
                ],
                False,
            ),
            ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}], False),
            ([], False),
        ],
    )
    def test_given_a_policy_then_deny_wins_and_resources_match_as_globs(self, statements, allowed):
        assert policy_allows({"Statement": statements}, self.ARN) is allowed

    def test_given_templates_then_static_segments_outrank_parameters_and_greedy_last(self):
        static, _ = _path_regex("/items/special")
        param, p_rank = _path_regex("/items/{id}")
        greedy, g_rank = _path_regex("/items/{proxy+}")
        assert static.match("/items/special") and param.match("/items/special")
        assert _path_regex("/items/special")[1] > p_rank > g_rank
        assert greedy.match("/items/a/b/c").group("proxy") == "a/b/c"
        assert not param.match("/items/a/b")


def test_given_the_moto_lambda_hook_when_moto_invokes_a_function_then_our_dispatcher_answers(aws, monkeypatch):
    """Breaks if a moto upgrade renames or stops calling LambdaFunction._invoke_lambda."""
    import boto3
    from moto.awslambda.models import LambdaFunction

    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", LambdaFunction._invoke_lambda)  # restored afterwards
    calls = []
    emulator.route_lambda_invokes(
        lambda name, event: calls.append((name, event)) or (json.dumps({"ok": name}), False, "")
    )
    assert emulator.hooks_installed()["lambda"]

    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = boto3.client("lambda")
    lam.create_function(FunctionName="f", Runtime="python3.13", Role=role, Handler="x.handler", Code={"ZipFile": b"PK"})
    response = lam.invoke(FunctionName="f", Payload=json.dumps({"n": 1}))
    assert json.loads(response["Payload"].read()) == {"ok": "f"}
    assert calls == [("f", {"n": 1})]


@pytest.mark.parametrize("allowed", [True, False])
def test_given_the_s3_hook_when_a_notification_fires_then_delivered_from_another_thread_only_if_permitted(
    monkeypatch, allowed
):
    import threading

    from moto.s3 import notifications

    seen = []
    done = threading.Event()
    checked = []
    monkeypatch.setattr(
        notifications, "_invoke_awslambda", lambda *args: (seen.append(threading.current_thread()), done.set())
    )
    monkeypatch.delitem(emulator._ORIGINALS, "s3", raising=False)

    def guard(function_arn, service, source_arn):  # the function's resource policy, as the runner checks it
        checked.append((function_arn, service, source_arn))
        return allowed

    emulator.async_s3_notifications(guard)
    assert emulator.hooks_installed()["s3"]
    # When S3 notifies for a bucket
    event = {"Records": [{"s3": {"bucket": {"arn": "arn:aws:s3:::b"}}}]}
    notifications._invoke_awslambda("123456789012", event, "arn:fn", "us-east-1")
    # Then the permission is asked for that service and bucket, and the delivery is async, or refused
    assert checked == [("arn:fn", "s3.amazonaws.com", "arn:aws:s3:::b")]
    if allowed:
        assert done.wait(5) and seen[0] is not threading.current_thread()
    else:
        assert not done.wait(0.5) and seen == []
    monkeypatch.delitem(emulator._ORIGINALS, "s3")
