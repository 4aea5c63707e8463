"""The local stack's S3 drops as S3 and Lambda run them: event records with the object's versionId and
a sequencer (local_stack/s3_eventos.py), versioned buckets as the template declares them, and Lambda's
asynchronous invocation with its retries and on-failure destination (local_stack/async_invoke.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local_stack import emulator, s3_eventos
from local_stack.async_invoke import AsyncConfig, AsyncInvoker, Attempt, async_configs, failure_record
from local_stack.resources import check_types, dead_letter_queues, provision
from local_stack.template import Naming, Stack, TemplateError

FN = "arn:aws:lambda:us-east-1:123456789012:function:importer"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:S-Fallidas"


def stack_of(resources: dict) -> Stack:
    return Stack("S", {"Resources": resources}, Path("/nonexistent"), Naming("S", "us-east-1", "123456789012"))


@pytest.fixture
def s3_events(monkeypatch):
    """moto's S3 notifications captured (the event S3 would send), with the local stack's event fields."""
    from moto.s3 import notifications

    monkeypatch.setattr(notifications, "_get_s3_event", notifications._get_s3_event)  # restored afterwards
    monkeypatch.setattr(s3_eventos, "_ORIGINAL", {})
    s3_eventos.install()
    assert s3_eventos.installed()
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(notifications, "_invoke_awslambda", lambda account, event, arn, region: sent.append(event))
    return sent


def _bucket(s3, name: str, versioned: bool) -> None:
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": FN,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "entrada/"}]}},
                }
            ]
        },
    )


class TestS3Events:
    def test_given_two_puts_on_one_key_of_a_versioned_bucket_then_each_event_names_its_version_in_sequence(
        self, aws, s3_events
    ):
        import boto3

        s3 = boto3.client("s3")
        _bucket(s3, "bucket-v", versioned=True)
        # When two files are PUT back to back on one key
        first = s3.put_object(Bucket="bucket-v", Key="entrada/club/x.csv", Body=b"uno")["VersionId"]
        second = s3.put_object(Bucket="bucket-v", Key="entrada/club/x.csv", Body=b"dos")["VersionId"]
        # Then each event carries its object's version id and a sequencer that grows, as S3's do
        objects = [e["Records"][0]["s3"]["object"] for e in s3_events]
        assert [o["versionId"] for o in objects] == [first, second] and first != second
        assert len(objects[0]["sequencer"]) == 18 and int(objects[0]["sequencer"], 16) < int(
            objects[1]["sequencer"], 16
        )
        # and reading the first event's version gives the first file, whatever came after
        assert s3.get_object(Bucket="bucket-v", Key="entrada/club/x.csv", VersionId=first)["Body"].read() == b"uno"

    def test_given_an_unversioned_bucket_then_no_version_id_but_a_sequencer(self, aws, s3_events):
        import boto3

        s3 = boto3.client("s3")
        _bucket(s3, "bucket-u", versioned=False)
        s3.put_object(Bucket="bucket-u", Key="entrada/club/x.csv", Body=b"uno")
        (obj,) = [e["Records"][0]["s3"]["object"] for e in s3_events]
        assert "versionId" not in obj and obj["sequencer"]

    def test_given_one_object_notified_to_several_destinations_then_one_sequencer(self, aws, monkeypatch):
        from moto.s3 import notifications

        monkeypatch.setattr(notifications, "_get_s3_event", notifications._get_s3_event)
        monkeypatch.setattr(s3_eventos, "_ORIGINAL", {})
        s3_eventos.install()

        class Key:
            name, size, etag, version_id = "entrada/x.csv", 1, '"e"', "v1"

        class Bucket:
            name, arn, region_name, is_versioned = "b", "arn:aws:s3:::b", "us-east-1", True

        key = Key()
        one = notifications._get_s3_event("s3:ObjectCreated:Put", Bucket(), key, "a")
        two = notifications._get_s3_event("s3:ObjectCreated:Put", Bucket(), key, "b")
        assert one["Records"][0]["s3"]["object"]["sequencer"] == two["Records"][0]["s3"]["object"]["sequencer"]
        assert one["Records"][0]["s3"]["object"]["versionId"] == "v1"


def test_given_the_emulators_s3_hook_with_an_async_invoker_then_permitted_events_go_to_it(monkeypatch):
    from moto.s3 import notifications
    from moto.s3.responses import S3Response

    monkeypatch.setattr(notifications, "_invoke_awslambda", notifications._invoke_awslambda)
    monkeypatch.setattr(notifications, "_get_s3_event", notifications._get_s3_event)
    for name in ("key_response", "bucket_response"):
        monkeypatch.setattr(S3Response, name, getattr(S3Response, name))  # restored afterwards
    monkeypatch.delitem(emulator._ORIGINALS, "s3", raising=False)
    monkeypatch.setattr(s3_eventos, "_ORIGINAL", {})
    delivered: list[tuple[str, Any]] = []
    # Given the hook installed with the runner's invoker
    emulator.async_s3_notifications(lambda *_: True, lambda arn, event: delivered.append((arn, event)))
    assert emulator.hooks_installed()["s3"] and s3_eventos.installed()
    # When S3 notifies / Then the invoker gets the event (it runs it in the background, with retries)
    event = {"Records": [{"s3": {"bucket": {"arn": "arn:aws:s3:::b"}}}]}
    notifications._invoke_awslambda("123456789012", event, FN, "us-east-1")
    assert delivered == [(FN, event)]
    monkeypatch.delitem(emulator._ORIGINALS, "s3")


def test_given_a_put_with_user_metadata_when_its_event_is_delivered_then_the_object_already_has_it(aws, monkeypatch):
    import boto3
    from moto.s3 import notifications
    from moto.s3.models import s3_backends
    from moto.s3.responses import S3Response

    for name in ("_invoke_awslambda", "_get_s3_event"):
        monkeypatch.setattr(notifications, name, getattr(notifications, name))
    for name in ("key_response", "bucket_response"):
        monkeypatch.setattr(S3Response, name, getattr(S3Response, name))  # restored afterwards
    monkeypatch.delitem(emulator._ORIGINALS, "s3", raising=False)
    monkeypatch.setattr(s3_eventos, "_ORIGINAL", {})
    s3 = boto3.client("s3", region_name="us-east-1")
    _bucket(s3, "cobranzas", versioned=True)
    seen: list[dict[str, str]] = []

    def deliver(arn: str, event: dict[str, Any]) -> None:  # what the function would read, when it runs
        from urllib.parse import unquote_plus

        obj = event["Records"][0]["s3"]["object"]
        backend = s3_backends["123456789012"]["aws"]
        stored = backend.get_object("cobranzas", unquote_plus(obj["key"]), version_id=obj["versionId"])
        seen.append({k: v for k, v in stored.metadata.items() if k.startswith("x-amz-meta-")})

    # Given the emulator's hook (moto notifies from inside put_object, before it sets the metadata)
    emulator.async_s3_notifications(lambda *_: True, deliver)
    # When a report is PUT with its marker
    s3.put_object(Bucket="cobranzas", Key="entrada/club/a.csv.resultado.txt", Body=b"OK", Metadata={"m": "1"})
    # Then the event reached the function only once the object carried its metadata
    assert seen == [{"x-amz-meta-m": "1"}]
    monkeypatch.delitem(emulator._ORIGINALS, "s3")


# ---- the template: versioned buckets, invoke configurations, their queues ----


INVOKE_CONFIG = {
    "Type": "AWS::Lambda::EventInvokeConfig",
    "Properties": {
        "FunctionName": {"Ref": "Fn"},
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 1,
        "MaximumEventAgeInSeconds": 600,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Fallidas", "Arn"]}}},
    },
}
TEMPLATE = {
    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "importer"}},
    "Fallidas": {"Type": "AWS::SQS::Queue", "Properties": {}},
    "FallidasPolicy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Fallidas"}]}},
    "Config": INVOKE_CONFIG,
}


class TestTemplate:
    def test_given_an_on_failure_queue_then_it_is_a_known_dead_letter_and_the_config_is_read(self):
        stack = stack_of(TEMPLATE)
        check_types(stack)  # the queue and its policy are not unknown types
        assert dead_letter_queues(stack) == {"Fallidas"}
        assert async_configs(stack) == {FN: AsyncConfig(retry_attempts=1, max_event_age_seconds=600, on_failure=QUEUE)}

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"DestinationConfig": {"OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:1:q"}}}, "on-success"),
            ({"Qualifier": "live"}, "qualifier"),
            ({"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sns:us-east-1:1:t"}}}, "only SQS"),
        ],
    )
    def test_given_what_the_async_invoker_cannot_honour_then_the_start_up_stops(self, change, message):
        config = {**INVOKE_CONFIG, "Properties": {**INVOKE_CONFIG["Properties"], **change}}
        with pytest.raises(TemplateError, match=message):
            async_configs(stack_of({**TEMPLATE, "Config": config}))

    def test_given_a_versioned_bucket_in_the_template_then_provisioned_versioned(self, aws):
        import boto3

        stack = stack_of(
            {
                "Files": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "Enabled"}}},
                "Logs": {"Type": "AWS::S3::Bucket", "Properties": {}},
            }
        )
        s3 = boto3.client("s3")
        provision(stack, {"s3": s3}, {})
        assert s3.get_bucket_versioning(Bucket=stack.physical["Files"])["Status"] == "Enabled"
        assert "Status" not in s3.get_bucket_versioning(Bucket=stack.physical["Logs"])


# ---- Lambda's asynchronous invocation ----


class Runner:
    """The invoker's surroundings: a function failing ``failures`` times, a role, a queue, a terminal."""

    def __init__(self, failures: int, may_send: bool = True, config: AsyncConfig | None = None) -> None:
        self.failures, self.may_send = failures, may_send
        self.attempts: list[Any] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.slept: list[float] = []
        self.lines: list[str] = []
        self.now = 0.0
        self.invoker = AsyncInvoker(
            self.invoke,
            {FN: config or AsyncConfig(on_failure=QUEUE)},
            lambda arn, action, resource: (self.may_send, "no statement allows it"),
            lambda queue, body: self.sent.append((queue, json.loads(body))),
            self.lines.append,
            sleep=self.sleep,
            clock=lambda: self.now,
        )

    def invoke(self, arn: str, event: Any) -> Attempt:
        self.attempts.append(event)
        if len(self.attempts) <= self.failures:
            return Attempt(False, {"errorType": "RuntimeError", "errorMessage": f"boom {len(self.attempts)}"})
        return Attempt(True)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


EVENT = {"Records": [{"s3": {"object": {"key": "entrada%2Fclub%2Fx.csv", "versionId": "v1"}}}]}


class TestAsyncInvocation:
    def test_given_a_function_that_fails_once_then_lambdas_retry_runs_it_again_and_nothing_is_sent(self):
        runner = Runner(failures=1)
        assert runner.invoker.run(FN, EVENT) == "ok"
        assert runner.attempts == [EVENT, EVENT] and runner.slept == [1.0] and runner.sent == []
        assert runner.lines == ["ASYNC importer: attempt 1 of 3 failed (RuntimeError: boom 1); retry in 1 s"]

    def test_given_a_function_that_keeps_failing_then_retried_twice_and_the_event_goes_to_the_queue(self):
        # Given a function that fails every time, with Lambda's default two retries and a queue
        runner = Runner(failures=99)
        # When S3's event is invoked asynchronously
        assert runner.invoker.run(FN, EVENT) == "sent"
        # Then three attempts, 1 s then 2 s apart (Lambda's minutes), then Lambda's record in the queue
        assert len(runner.attempts) == 3 and runner.slept == [1.0, 2.0]
        ((queue, record),) = runner.sent
        assert queue == QUEUE
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert record["requestContext"]["functionArn"] == FN + ":$LATEST"
        assert record["requestPayload"] == EVENT
        assert record["responseContext"]["functionError"] == "Unhandled"
        assert record["responsePayload"] == {"errorType": "RuntimeError", "errorMessage": "boom 3"}
        assert runner.lines[-1] == "ASYNC importer: event sent to S-Fallidas (RetriesExhausted)"

    def test_given_an_event_older_than_its_maximum_age_then_no_more_retries(self):
        runner = Runner(failures=99, config=AsyncConfig(retry_attempts=2, max_event_age_seconds=2, on_failure=QUEUE))
        assert runner.invoker.run(FN, EVENT) == "sent"
        assert len(runner.attempts) == 2  # the second retry would start after 3 s: older than 2 s
        assert runner.sent[0][1]["requestContext"]["condition"] == "EventAgeExceeded"

    def test_given_a_role_that_may_not_send_to_the_destination_then_denied_and_said(self):
        runner = Runner(failures=99, may_send=False)
        assert runner.invoker.run(FN, EVENT) == "denied" and runner.sent == []
        assert runner.lines[-1].startswith("DENIED importer: sqs:SendMessage on " + QUEUE)

    def test_given_no_destination_and_no_retries_then_dropped_after_one_attempt(self):
        runner = Runner(failures=99, config=AsyncConfig(retry_attempts=0))
        assert runner.invoker.run(FN, EVENT) == "dropped" and len(runner.attempts) == 1
        assert "no on-failure destination" in runner.lines[-1]

    def test_given_submit_then_the_invocation_runs_in_the_background(self):
        runner = Runner(failures=0)
        thread = runner.invoker.submit(FN, EVENT)
        thread.join(5)
        assert runner.attempts == [EVENT]

    def test_given_lambda_itself_fails_to_run_it_then_retried_like_an_error(self):
        runner = Runner(failures=0)
        calls = []

        def broken(arn: str, event: Any) -> Attempt:
            calls.append(event)
            if len(calls) == 1:
                raise RuntimeError("worker did not start")
            return Attempt(True)

        runner.invoker._invoke = broken
        assert runner.invoker.run(FN, EVENT) == "ok" and len(calls) == 2
        assert "ServiceException: worker did not start" in runner.lines[0]

    def test_given_the_runner_stops_then_events_in_flight_are_abandoned_quietly(self):
        # Given an invocation failing while the runner stops (its workers are gone)
        runner = Runner(failures=99)

        def stopping(arn: str, event: Any) -> Attempt:
            runner.invoker.stop()
            raise RuntimeError("worker did not start")

        runner.invoker._invoke = stopping
        # Then no retry, no destination, no terminal line after "stopped."
        thread = runner.invoker.submit(FN, EVENT)
        thread.join(5)
        assert runner.invoker.run(FN, EVENT) == "stopped"
        assert runner.sent == [] and runner.lines == [] and runner.slept == []

    def test_given_the_record_then_it_has_lambdas_shape(self):
        record = failure_record(FN, EVENT, "RetriesExhausted", 3, Attempt(False, {"errorMessage": "x"}))
        assert set(record) == {
            "version",
            "timestamp",
            "requestContext",
            "requestPayload",
            "responseContext",
            "responsePayload",
        }
        assert record["timestamp"].endswith("Z") and record["version"] == "1.0"
