"""recaudo.tracing (issue 15): the handler's X-Ray subsegment, written without the X-Ray SDK, as
Powertools' Tracer wrote it: ``## handler`` with ColdStart and Service, the exception on a fault, only
for invocations Lambda sampled. The datagram's bytes are checked here; tests/e2e/test_xray_daemon.py
sends one to a real UDP socket."""

from __future__ import annotations

import json

import pytest

from recaudo import tracing

SAMPLED = "Root=1-6740a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def lambda_env(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", SAMPLED)


def traced(handler, sent):
    tracer = tracing.HandlerTracer(service="pagos", send=sent.append)
    return tracer.trace(handler)


def document(datagram: bytes) -> dict:
    header, _, body = datagram.decode().partition("\n")
    assert json.loads(header) == {"format": "json", "version": 1}
    return json.loads(body)


def test_given_a_sampled_invocation_when_the_handler_answers_then_one_subsegment_reaches_the_daemon(lambda_env):
    sent: list[bytes] = []

    def handler(event, context):
        return {"statusCode": 200}

    fn = traced(handler, sent)
    # When two invocations answer
    assert fn({}, None) == {"statusCode": 200}
    fn({}, None)
    # Then each sent one subsegment of Lambda's trace, under the invocation's segment
    first, second = (document(d) for d in sent)
    assert first["type"] == "subsegment" and first["name"] == "## handler"
    assert first["trace_id"] == "1-6740a1b2-0123456789abcdef01234567" and first["parent_id"] == "53995c3f42cd8ad8"
    assert len(first["id"]) == 16 and first["id"] != second["id"]
    assert first["end_time"] >= first["start_time"] and first["in_progress"] is False
    # And only the first is the cold start
    assert first["annotations"] == {"ColdStart": True, "Service": "pagos"}
    assert second["annotations"] == {"ColdStart": False, "Service": "pagos"}
    assert "fault" not in first


def test_given_a_handler_that_raises_then_the_subsegment_records_the_fault_and_the_error_still_raises(lambda_env):
    sent: list[bytes] = []

    def handler(event, context):
        raise RuntimeError("boom")

    # When the handler raises
    with pytest.raises(RuntimeError, match="boom"):
        traced(handler, sent)({}, None)
    # Then the subsegment carries the fault and its exception
    doc = document(sent[0])
    assert doc["fault"] is True
    assert doc["cause"]["exceptions"][0]["type"] == "RuntimeError"
    assert doc["cause"]["exceptions"][0]["message"] == "boom"
    assert doc["metadata"] == {"pagos": {"handler error": "RuntimeError: boom"}}


@pytest.mark.parametrize(
    "header",
    [
        "Root=1-6740a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=0",
        "Root=1-6740a1b2-0123456789abcdef01234567;Sampled=1",
        "",
    ],
    ids=["not-sampled", "no-parent", "no-header"],
)
def test_given_an_invocation_lambda_did_not_sample_then_nothing_is_sent(lambda_env, monkeypatch, header):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", header)
    sent: list[bytes] = []
    # When the handler answers / Then no datagram goes out
    assert traced(lambda e, c: "ok", sent)({}, None) == "ok"
    assert sent == []


@pytest.mark.parametrize(
    ("name", "value"),
    [("POWERTOOLS_TRACE_DISABLED", "true"), ("LAMBDA_TASK_ROOT", None), ("AWS_SAM_LOCAL", "true")],
)
def test_given_tracing_disabled_or_outside_lambda_then_nothing_is_sent(lambda_env, monkeypatch, name, value):
    if value is None:
        monkeypatch.delenv(name)
    else:
        monkeypatch.setenv(name, value)
    sent: list[bytes] = []
    assert traced(lambda e, c: "ok", sent)({}, None) == "ok"
    assert sent == []


@pytest.mark.parametrize(
    ("value", "address"),
    [
        (None, ("127.0.0.1", 2000)),
        ("169.254.79.129:2000", ("169.254.79.129", 2000)),
        ("tcp:127.0.0.1:2001 udp:127.0.0.2:2002", ("127.0.0.2", 2002)),
    ],
)
def test_given_the_daemon_address_variable_then_datagrams_go_to_its_udp_address(monkeypatch, value, address):
    if value is None:
        monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", value)
    assert tracing._daemon() == address
