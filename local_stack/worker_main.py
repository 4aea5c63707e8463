"""The process behind one Lambda function: imports the handler once (a cold start), then serves
invocations from its parent over a private pipe. stdout and stderr are the function's logs.

argv: <read fd> <write fd> <spec json>
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import struct
import sys
import time
import traceback
import uuid
from typing import Any, BinaryIO

_HEADER = struct.Struct(">I")


def lambda_marshal(result: Any) -> Any:
    """What the Lambda Python runtime does with a handler's return value: Decimal becomes a float,
    anything else JSON cannot hold is a Runtime.MarshalError."""

    def default(value: Any) -> Any:
        if isinstance(value, decimal.Decimal):
            return float(value)
        raise TypeError(f"{value!r} is not JSON serializable")

    return json.loads(json.dumps(result, default=default))


def send(stream: BinaryIO, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode("utf-8")
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: BinaryIO) -> dict[str, Any] | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    return json.loads(stream.read(size).decode("utf-8"))


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
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


def main() -> None:
    read_fd, write_fd, spec_json = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    spec = json.loads(spec_json)
    inbox, outbox = os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb")
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
    send(outbox, {"ready": True, "init_ms": (time.monotonic() - started) * 1000, "init_error": init_error})

    while (message := receive(inbox)) is not None:
        request_id = message.get("request_id") or str(uuid.uuid4())
        if init_error is not None:
            send(outbox, {"ok": False, "error": init_error})
            continue
        context = LambdaContext(spec, request_id, time.monotonic() + spec["timeout"])
        try:
            result = handler(message["event"], context)
        except Exception as exc:  # noqa: BLE001 - reported to the caller as a function error
            traceback.print_exc()
            send(outbox, {"ok": False, "error": _error(exc)})
        else:
            try:
                send(outbox, {"ok": True, "result": lambda_marshal(result)})
            except (TypeError, ValueError) as exc:
                send(outbox, {"ok": False, "error": {"errorType": "Runtime.MarshalError", "errorMessage": str(exc)}})
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    main()
