"""The handler's subsegment on the wire (issue 15): a real UDP datagram to a socket standing in for
the X-Ray daemon on loopback, as Lambda's daemon receives it."""

from __future__ import annotations

import json
import socket

from recaudo.tracing import HandlerTracer


def test_given_a_daemon_on_loopback_when_a_sampled_handler_runs_then_it_receives_the_subsegment(monkeypatch):
    # Given a daemon listening on a loopback UDP port, inside a sampled Lambda invocation
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(5)
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", f"127.0.0.1:{daemon.getsockname()[1]}")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-6740a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1")
    try:

        def handler(event, context):
            return "ok"

        # When the traced handler runs
        assert HandlerTracer(service="e2e").trace(handler)({}, None) == "ok"
        # Then the daemon got one datagram: the protocol's header line, then the subsegment
        datagram, _ = daemon.recvfrom(65536)
        header, _, body = datagram.decode().partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        doc = json.loads(body)
        assert (doc["name"], doc["type"], doc["parent_id"]) == ("## handler", "subsegment", "53995c3f42cd8ad8")
        assert doc["annotations"] == {"ColdStart": True, "Service": "e2e"}
    finally:
        daemon.close()
