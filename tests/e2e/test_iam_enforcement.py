"""IAM enforced by the local stack: every AWS call a function makes is authorized against its own
synthesized role, and every service invocation against the function's resource policy. Removing a
permission from cdk.out makes the stack refuse exactly that, as AWS would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ROOT, RunningStack


def mutated_assembly(source: Path, target: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of a cloud assembly whose template ``change`` edits; the assets are linked, not copied."""
    target.mkdir(parents=True)
    manifest = json.loads((source / "manifest.json").read_text())
    templates = {
        a["properties"]["templateFile"]
        for a in manifest["artifacts"].values()
        if a.get("type") == "aws:cloudformation:stack"
    }
    for entry in source.iterdir():
        if entry.name in templates:
            template = json.loads(entry.read_text())
            change(template)
            (target / entry.name).write_text(json.dumps(template))
        else:
            (target / entry.name).symlink_to(entry)
    return target


def function_id(template: dict[str, Any], handler: str) -> str:
    return next(k for k, r in template["Resources"].items() if r.get("Properties", {}).get("Handler") == handler)


def remove_action(template: dict[str, Any], role_of_function: str, action: str) -> None:
    """Drop ``action`` from every statement of the policies attached to that function's role."""
    role = template["Resources"][role_of_function]["Properties"]["Role"]["Fn::GetAtt"][0]
    removed = 0
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy" or {"Ref": role} not in resource["Properties"]["Roles"]:
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if action in actions:
                statement["Action"] = [a for a in actions if a != action]
                removed += 1
    assert removed, f"{action} is not in the role of {role_of_function}"


def remove_permissions(template: dict[str, Any], function: str) -> None:
    """Drop every AWS::Lambda::Permission of a function (its resource policy)."""
    resources = template["Resources"]
    doomed = [
        k
        for k, r in resources.items()
        if r["Type"] == "AWS::Lambda::Permission" and json.dumps(r["Properties"]["FunctionName"]).count(f'"{function}"')
    ]
    assert doomed, function
    for key in doomed:
        del resources[key]
    for resource in resources.values():  # and the DependsOn that named them
        if isinstance(resource.get("DependsOn"), list):
            resource["DependsOn"] = [d for d in resource["DependsOn"] if d not in doomed]


def handler_function(template: dict[str, Any], handler: str) -> str:
    return function_id(template, f"probe.handlers.{handler}")


@pytest.fixture(scope="module")
def probe_http(probe: RunningStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=probe.state["apiBaseUrls"]["probe"], timeout=30) as client:
        yield client


class TestRolesOnTheProbe:
    def test_given_a_read_only_role_when_the_function_writes_then_aws_refuses_as_aws_would(self, probe, probe_http):
        # Given a function whose role may read the table and write under allowed/ in the bucket
        # When it tries what its role allows and what it does not
        outcome = probe_http.get("/try-write").json()
        # Then reads pass, writes are AccessDeniedException (DynamoDB) / AccessDenied (S3)
        assert outcome["getItem"] == "ok" and outcome["scan"] == "ok"
        assert outcome["putItem"] == "AccessDeniedException"
        assert outcome["transactPut"] == "AccessDeniedException"  # a transaction's Put needs dynamodb:PutItem
        assert outcome["putAllowed"] == "ok"
        assert outcome["putElsewhere"] == "AccessDenied"
        assert outcome["getObject"] == "AccessDenied"
        # and the terminal names the refused call
        deadline = time.monotonic() + 5
        while "dynamodb:PutItem" not in probe.terminal() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("DENIED try_write" in line and "dynamodb:PutItem" in line for line in probe.terminal().splitlines())

    def test_given_a_presigned_url_then_it_carries_the_signing_roles_permissions(self, probe_http):
        # Given a URL presigned by a function that may put under allowed/
        url = probe_http.get("/try-write").json()["presigned"]
        # When anyone uses it / Then S3 accepts it (the signer's role allows it)
        assert httpx.put(url, content=b"via url").status_code == 200

    def test_given_a_missing_object_then_404_only_for_a_role_that_may_list_the_bucket(self, probe_http):
        # Given two roles with s3:GetObject, one also with s3:ListBucket / When both read a missing key
        # Then, as in S3, the one that may not list gets AccessDenied (403), the other NoSuchKey (404)
        assert probe_http.get("/read-missing").json() == {"get": "AccessDenied"}
        assert probe_http.get("/read-missing-listed").json() == {"get": "NoSuchKey"}


@pytest.fixture(scope="module")
def trimmed_probe(probe: RunningStack, tmp_path_factory) -> Iterator[RunningStack]:
    """The probe with permissions removed from its cdk.out: a route's, a rule's and a task's."""
    source = Path(probe.cdk_out)

    def change(template: dict[str, Any]) -> None:
        remove_permissions(template, handler_function(template, "png"))
        remove_permissions(template, handler_function(template, "on_event"))
        flow_role = next(
            r["Properties"]["RoleArn"]["Fn::GetAtt"][0]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::StepFunctions::StateMachine"
        )
        doubler = handler_function(template, "double")
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": flow_role} in resource["Properties"]["Roles"]:
                statements = resource["Properties"]["PolicyDocument"]["Statement"]
                resource["Properties"]["PolicyDocument"]["Statement"] = [
                    s for s in statements if doubler not in json.dumps(s.get("Resource"))
                ]

    out = mutated_assembly(source, tmp_path_factory.mktemp("trimmed") / "cdk.out", change)
    stack = RunningStack(out, tmp_path_factory.mktemp("trimmed-run"), seed=False)
    yield stack
    stack.stop_cleanly()


class TestPermissionsRemovedFromCdkOut:
    def test_given_no_permission_for_api_gateway_then_the_route_answers_500_and_the_function_never_runs(
        self, trimmed_probe
    ):
        # Given the png route's Lambda permission removed from the template
        with httpx.Client(base_url=trimmed_probe.state["apiBaseUrls"]["probe"], timeout=30) as http:
            # When it is called
            response = http.get("/png")
            # Then API Gateway's configuration error, as in AWS; other routes still work
            assert response.status_code == 500 and response.json() == {"message": "Internal server error"}
            assert response.headers["x-amzn-ErrorType"] == "API_CONFIGURATION_ERROR"
            assert http.get("/items").status_code == 200
        assert "DENIED apigateway.amazonaws.com" in trimmed_probe.terminal()

    def test_given_no_invoke_permission_on_the_state_machine_role_then_the_task_is_refused(self, trimmed_probe):
        # Given the state machine's role without lambda:InvokeFunction on the doubler
        sfn = trimmed_probe.aws("stepfunctions")
        (arn,) = trimmed_probe.state["stateMachines"].values()
        # When an execution reaches that task
        execution = sfn.start_execution(stateMachineArn=arn, name="denied-1", input=json.dumps({"fail": False, "n": 2}))
        deadline = time.monotonic() + 30
        while (status := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # Then it fails, and the terminal names the refused call
        assert status["status"] == "FAILED"
        assert "lambda:InvokeFunction" in trimmed_probe.terminal()

    def test_given_no_permission_for_eventbridge_then_a_matching_event_is_not_delivered(self, trimmed_probe):
        # Given the on_event rule's Lambda permission removed / When a matching event is put
        events = trimmed_probe.aws("events")
        events.put_events(Entries=[{"Source": "probe.tests", "DetailType": "Probe", "Detail": json.dumps({"x": 1})}])
        deadline = time.monotonic() + 10
        while "DENIED events.amazonaws.com" not in trimmed_probe.terminal() and time.monotonic() < deadline:
            time.sleep(0.1)
        # Then the stack refuses the delivery, as EventBridge would fail to invoke
        assert "DENIED events.amazonaws.com" in trimmed_probe.terminal()
        table = trimmed_probe.aws("dynamodb")
        (name,) = trimmed_probe.state["tables"].values()
        rows = table.query(
            TableName=name, KeyConditionExpression="PK = :k", ExpressionAttributeValues={":k": {"S": "event"}}
        )
        assert rows["Items"] == []


def test_given_no_permission_for_s3_then_the_stack_refuses_to_start_as_the_deployment_would_fail(
    probe, tmp_path_factory
):
    # Given the upload handler's S3 permission removed from the template
    out = mutated_assembly(
        Path(probe.cdk_out),
        tmp_path_factory.mktemp("no-s3") / "cdk.out",
        lambda t: remove_permissions(t, handler_function(t, "on_upload")),
    )
    # When the stack starts
    run = subprocess.run(
        [sys.executable, "-m", "local_stack", "--cdk-out", str(out), "--port", "0", "--no-seed",
         "--state-file", str(tmp_path_factory.mktemp("no-s3-run") / "stack.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # Then it stops with the reason, before serving anything
    assert run.returncode == 1
    assert "S3 may not invoke" in run.stderr and "deploy time" in run.stderr


@pytest.fixture(scope="module")
def recaudo_without_start(recaudo: RunningStack, tmp_path_factory) -> Iterator[RunningStack]:
    """The real app with one action removed from one role: ejecutar-pago-vencido's StartSyncExecution."""

    def change(template: dict[str, Any]) -> None:
        fn = function_id(template, "conectividad.ejecutar_pago_vencido.handler")
        remove_action(template, fn, "states:StartSyncExecution")

    out = mutated_assembly(Path(recaudo.cdk_out), tmp_path_factory.mktemp("recaudo-trim") / "cdk.out", change)
    stack = RunningStack(out, tmp_path_factory.mktemp("recaudo-trim-run"), seed=True)
    yield stack
    stack.stop_cleanly()


def test_given_one_action_removed_from_one_role_then_the_local_stack_refuses_that_call_and_nothing_is_charged(
    recaudo_without_start,
):
    stack = recaudo_without_start
    demo = stack.state["demo"]
    base = stack.state["apiBaseUrls"]["api"] + "/v1/integracion-conectividad"
    auth = {"Authorization": f"Token {demo['bank']['token']}"}
    body = {**demo["pago"]["body"], "montoTotal": demo["pago"]["monto"]}
    with httpx.Client(timeout=60) as http:
        # Given ejecutar-pago-vencido's role without states:StartSyncExecution / When the bank pays
        reply = http.post(f"{base}/ejecutar-pago-vencido", headers=auth, content=json.dumps(body).replace(
            f'"{demo["pago"]["monto"]}"', demo["pago"]["monto"]))  # fmt: skip
        # Then the function's own error path answers (code 1) and nothing was charged
        assert reply.status_code == 500 and reply.json()[0]["codigoRespuesta"] == 1  # the endpoint's array
        verified = http.get(f"{base}/verificar-pago", params={"numeroFactura": demo["pago"]["factura"]}, headers=auth)
        assert verified.status_code == 404
        # and the other endpoints, whose roles are intact, still work
        assert (
            http.get(f"{base}/obtener-persona", params={"identificacion": "12345678"}, headers=auth).status_code == 200
        )
    assert (
        "states:StartSyncExecution" in stack.terminal()
        and "DENIED Conectividad/ejecutar-pago-vencido" in stack.terminal()
    )
