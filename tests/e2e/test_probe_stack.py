"""The local stack's emulation, over real HTTP and real AWS SDK calls, against the probe app."""

from __future__ import annotations

import base64
import json
import re
import time

import httpx
import pytest


@pytest.fixture(scope="module")
def http(probe):
    with httpx.Client(base_url=probe.state["apiBaseUrls"]["probe"], timeout=30) as client:
        yield client


def records(probe, kind: str, expect: int, within: float = 10.0) -> list[dict]:
    table = (
        probe.state["tables"]["Records091F6ECA"]
        if "Records091F6ECA" in probe.state["tables"]
        else next(iter(probe.state["tables"].values()))
    )
    ddb = probe.aws("dynamodb")
    deadline = time.monotonic() + within
    while True:
        items = ddb.query(
            TableName=table,
            KeyConditionExpression="PK = :k",
            ExpressionAttributeValues={":k": {"S": kind}},
            ConsistentRead=True,
        )["Items"]
        if len(items) >= expect or time.monotonic() > deadline:
            return [json.loads(i["detail"]["S"]) for i in items]
        time.sleep(0.2)


class TestGateway:
    def test_given_path_parameters_and_a_greedy_proxy_then_the_event_carries_them(self, http):
        body = http.get("/items/42/a/b", params=[("x", "1"), ("x", "2")]).json()
        assert body["resource"] == "/items/{itemId}/{proxy+}"
        assert body["pathParameters"] == {"itemId": "42", "proxy": "a/b"}
        assert body["queryStringParameters"] == {"x": "2"}
        assert body["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
        assert body["stage"] == "probe"

    @pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
    def test_given_an_any_method_then_every_verb_reaches_the_function(self, http, method):
        response = http.request(method, "/items/7", content=b"{}" if method != "GET" else None)
        assert response.status_code == 200
        assert response.json()["httpMethod"] == method

    def test_given_repeated_headers_then_multi_value_headers_both_ways(self, http):
        response = http.get("/items", headers=[("X-Twice", "one"), ("X-Twice", "two")])
        assert response.json()["multiValueHeaders"]["X-Twice"] == ["one", "two"]
        assert response.headers.get_list("X-Multi") == ["a", "b"]

    def test_given_a_binary_media_type_then_the_body_arrives_base64(self, http):
        payload = bytes(range(256))
        body = http.post("/items/1", content=payload, headers={"Content-Type": "image/png"}).json()
        assert body["isBase64Encoded"] is True
        assert base64.b64decode(body["body"]) == payload

    def test_given_a_multipart_form_then_the_body_arrives_base64_and_intact(self, http):
        response = http.post("/items/1", files={"file": ("a.csv", "x;ñ\n".encode())}, data={"hash": "h"})
        body = response.json()
        assert body["isBase64Encoded"] is True
        raw = base64.b64decode(body["body"])
        assert b'name="hash"' in raw and "x;ñ".encode() in raw

    def test_given_a_binary_response_then_the_bytes_come_back_exactly(self, http):
        response = http.get("/png")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/png"
        assert response.content == bytes(range(256))

    def test_given_an_unknown_path_then_missing_authentication_token(self, http):
        response = http.get("/nowhere")
        assert response.status_code == 403
        assert response.json() == {"message": "Missing Authentication Token"}

    def test_given_a_required_query_parameter_then_the_validator_enforces_it(self, http):
        assert http.get("/required").status_code == 400
        assert http.get("/required", params={"needed": "1"}).status_code == 200

    def test_given_a_function_past_its_timeout_then_504_and_the_worker_recovers(self, http):
        started = time.monotonic()
        first = http.get("/sleepy")
        assert first.status_code == 504
        assert time.monotonic() - started < 10  # the template's 1 s timeout, not the function's 30 s sleep
        assert http.get("/sleepy").status_code == 504  # a fresh worker, timed out again

    @pytest.mark.parametrize("path", ["/crash", "/boom", "/malformed"])
    def test_given_a_crashed_raising_or_malformed_function_then_502(self, http, path):
        response = http.get(path)
        assert response.status_code == 502
        assert response.json() == {"message": "Internal server error"}
        assert http.get(path).status_code == 502  # and again: the worker was replaced, nothing hangs


class TestRequestAuthorizer:
    def test_given_no_identity_then_401_with_the_apis_gateway_response(self, http):
        response = http.get("/secure")
        assert (response.status_code, response.json()) == (401, {"probe": "unauthorized"})

    def test_given_a_deny_policy_then_403(self, http):
        assert http.get("/secure", headers={"X-Key": "deny"}).status_code == 403

    def test_given_an_allow_policy_then_the_context_reaches_the_function_and_is_cached(self, http):
        first = http.get("/secure", headers={"X-Key": "open-sesame"}).json()
        second = http.get("/secure", headers={"X-Key": "open-sesame"}).json()
        assert first["authorizer"]["principalId"] == "probe"
        # the authorizer ran once: the second request used the cached policy (its counter did not move)
        assert first["authorizer"]["calls"] == second["authorizer"]["calls"]


class TestEventSources:
    def test_given_an_object_created_under_the_prefix_then_the_function_runs_once(self, probe):
        bucket = next(iter(probe.state["buckets"].values()))
        s3 = probe.aws("s3")
        s3.put_object(Bucket=bucket, Key="in/hello.csv", Body=b"x")
        s3.put_object(Bucket=bucket, Key="elsewhere/ignored.csv", Body=b"x")
        uploads = records(probe, "upload", expect=1)
        assert [u["event"] for u in uploads] == ["ObjectCreated:Put"]
        assert "hello.csv" in uploads[0]["key"]

    def test_given_an_event_matching_a_rule_then_its_lambda_target_runs(self, probe):
        probe.aws("events").put_events(
            Entries=[
                {"Source": "probe.tests", "DetailType": "Probe", "Detail": json.dumps({"n": 7})},
                {"Source": "someone.else", "DetailType": "Probe", "Detail": json.dumps({"n": 8})},
            ]
        )
        assert records(probe, "event", expect=1) == [{"n": 7}]

    def test_given_the_moto_lambda_hook_then_step_functions_tasks_run_in_our_workers(self, probe):
        # This breaks if a moto upgrade stops routing LambdaFunction._invoke_lambda to the workers.
        sfn = probe.aws("stepfunctions")
        machine = next(iter(probe.state["stateMachines"].values()))
        ok = sfn.start_execution(stateMachineArn=machine, name="double-5", input=json.dumps({"n": 5, "fail": False}))
        caught = sfn.start_execution(stateMachineArn=machine, name="fail-1", input=json.dumps({"n": 1, "fail": True}))
        results = {}
        deadline = time.monotonic() + 20
        while len(results) < 2 and time.monotonic() < deadline:
            for name, execution in (("ok", ok), ("caught", caught)):
                described = sfn.describe_execution(executionArn=execution["executionArn"])
                if described["status"] != "RUNNING":
                    results[name] = described
            time.sleep(0.2)
        assert results["ok"]["status"] == "SUCCEEDED"
        output = json.loads(results["ok"]["output"])
        assert output["n"] == 20 and output["worker"].startswith("Probe-double")
        assert results["caught"]["status"] == "SUCCEEDED"
        assert json.loads(results["caught"]["output"]) == {"compensated": True}

    def test_given_a_schedule_rule_then_the_timer_knows_it(self, probe):
        (schedule,) = probe.state["schedules"]
        assert schedule["expression"] == "rate(1 minute)"
        assert schedule["function"].startswith("Probe-tick")


def test_given_function_output_then_it_goes_to_the_function_log_and_the_terminal_shows_one_request_line(probe, http):
    import time

    # Given a function that raises / When it is called
    http.get("/boom")
    log = probe.state_file.parent / "logs" / "boom.log"
    deadline = time.monotonic() + 10  # the worker's output reaches its log file through a relay thread
    while not (log.exists() and "RuntimeError: boom" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    # Then its traceback is in its own log file, not on the terminal
    assert "RuntimeError: boom" in log.read_text()
    while " /probe/boom " not in probe.terminal() and time.monotonic() < deadline:  # written once the reply is sent
        time.sleep(0.05)
    terminal = probe.terminal()
    assert "RuntimeError: boom" not in terminal
    # and the terminal has one line for the request: time, method, path, status, milliseconds, function
    line = [line for line in terminal.splitlines() if " /probe/boom " in line][-1]  # other tests call it too
    assert re.match(r"^\d\d:\d\d:\d\d\.\d{3}  GET +/probe/boom  502  \d+ ms  boom$", line), line
