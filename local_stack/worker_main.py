"""The process behind one Lambda function: imports the handler once (a cold start), then serves
invocations from its parent over a private connection. stdout and stderr are the function's logs,
forwarded line by line to the parent, which prefixes them with the function's name.

Workers are forked from a forkserver that has already imported the heavy third-party libraries
(``local_stack.worker_preload``), so starting one costs the function's own imports only. The
function's environment is applied after the fork, before any of its code is imported.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from typing import Any


def lambda_marshal(result: Any) -> Any:
    """What the Lambda Python runtime does with a handler's return value: Decimal becomes a float,
    anything else JSON cannot hold is a Runtime.MarshalError."""

    def default(value: Any) -> Any:
        if isinstance(value, decimal.Decimal):
            return float(value)
        raise TypeError(f"{value!r} is not JSON serializable")

    return json.loads(json.dumps(result, default=default))


class LambdaContext:
    """What the Lambda runtime hands a handler, with the deadline of this invocation."""

    def __init__(self, spec: dict[str, Any], request_id: str, deadline: float) -> None:
        self.function_name = spec["name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec["arn"]
        self.memory_limit_in_mb = spec["memory"]
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec['name']}"
        self.log_stream_name = "local"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    return {"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": traceback.format_exception(exc)}


def _forward_output(log_conn: Any) -> None:
    """Point fds 1 and 2 at a pipe and forward its lines to the parent."""
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 1)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115

    def pump() -> None:
        with os.fdopen(read_fd, "rb") as stream:
            for raw in iter(stream.readline, b""):
                try:
                    log_conn.send(raw.decode("utf-8", "replace").rstrip("\n"))
                except (OSError, EOFError):
                    return

    threading.Thread(target=pump, daemon=True).start()


def serve(conn: Any, log_conn: Any, spec: dict[str, Any], env: dict[str, str]) -> None:
    # Ctrl-C in the terminal reaches the whole process group: the runner stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(env)
    if hasattr(time, "tzset"):
        time.tzset()
    os.chdir(spec["code_dir"])
    _forward_output(log_conn)
    # The function's code first; the layer after the environment's own packages, so that its
    # (Lambda-platform) binary wheels never shadow the host's and only its pure code is used.
    sys.path.insert(0, spec["code_dir"])
    sys.path.extend(spec["layer_dirs"])

    started = time.monotonic()
    handler = None
    init_error = None
    try:
        module_name, function_name = spec["handler"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), function_name)
    except BaseException as exc:  # noqa: BLE001 - an init failure is reported, like Lambda's
        init_error = _error(exc)
        traceback.print_exc()
    conn.send({"ready": True, "init_ms": (time.monotonic() - started) * 1000, "init_error": init_error})

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        request_id = message.get("request_id") or str(uuid.uuid4())
        if init_error is not None or handler is None:
            conn.send({"ok": False, "error": init_error})
            continue
        context = LambdaContext(spec, request_id, time.monotonic() + spec["timeout"])
        try:
            result = handler(message["event"], context)
        except Exception as exc:  # noqa: BLE001 - reported to the caller as a function error
            traceback.print_exc()
            reply = {"ok": False, "error": _error(exc)}
        else:
            try:
                reply = {"ok": True, "result": lambda_marshal(result)}
            except (TypeError, ValueError) as exc:
                reply = {"ok": False, "error": {"errorType": "Runtime.MarshalError", "errorMessage": str(exc)}}
        sys.stdout.flush()
        sys.stderr.flush()
        conn.send(reply)
