"""The handler's X-Ray subsegment, written without the X-Ray SDK.

Every function traces exactly one thing of its own: the ``## handler`` subsegment with the ``ColdStart``
and ``Service`` annotations, and the exception when the handler raises (``fault`` and ``cause``), as
Powertools' ``Tracer(auto_patch=False).capture_lambda_handler(capture_response=False)`` wrote it; Lambda
itself records the invocation's segment. The SDK (with wrapt and the asyncio it imports) cost ~45 ms of
every cold start and ~200 µs of every request for that one subsegment (docs/benchmarks.md); this writes
the same document to the daemon (``AWS_XRAY_DAEMON_ADDRESS``) in one UDP datagram, the daemon's
documented protocol: a JSON header line, then the segment document.

Off when ``POWERTOOLS_TRACE_DISABLED`` is true, outside Lambda (no ``LAMBDA_TASK_ROOT``), under SAM local or
Chalice, and for requests Lambda did not sample.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import time
import traceback
from collections.abc import Callable
from typing import Any

from recaudo.emf import COMPACT_JSON, env_true

_HEADER = '{"format":"json","version":1}\n'


def _disabled() -> bool:
    if env_true("POWERTOOLS_TRACE_DISABLED"):
        return True
    return not os.getenv("LAMBDA_TASK_ROOT") or bool(os.getenv("AWS_SAM_LOCAL") or os.getenv("AWS_CHALICE_CLI_MODE"))


def _daemon() -> tuple[str, int]:
    """``AWS_XRAY_DAEMON_ADDRESS``: ``host:port`` or ``udp:host:port tcp:host:port``."""
    value = os.getenv("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000").strip()
    for part in value.split():
        if part.startswith("udp:") or (":" in part and not part.startswith("tcp:")):
            host, _, port = part.removeprefix("udp:").rpartition(":")
            return host, int(port)
    return "127.0.0.1", 2000


def _sampled_context() -> tuple[str, str] | None:
    """(trace id, parent id) of this invocation when Lambda sampled it, else None."""
    header = os.environ.get("_X_AMZN_TRACE_ID")
    if not header or "Sampled=1" not in header:  # most requests: no parsing for them
        return None
    fields = dict(part.split("=", 1) for part in header.split(";") if "=" in part)
    root, parent = fields.get("Root"), fields.get("Parent")
    if not root or not parent or fields.get("Sampled") != "1":
        return None
    return root, parent


def _cause(exc: BaseException) -> dict[str, Any]:
    stack = [
        {"path": os.path.basename(frame.filename), "line": frame.lineno, "label": frame.name}
        for frame in traceback.extract_tb(exc.__traceback__, limit=10)
    ]
    return {
        "working_directory": os.getcwd(),
        "exceptions": [
            {
                "id": os.urandom(8).hex(),
                "message": str(exc),
                "type": type(exc).__name__,
                "remote": False,
                "stack": stack,
            }
        ],
    }


class HandlerTracer:
    """``trace(handler)``: the handler wrapped in its ``## <name>`` subsegment."""

    def __init__(self, service: str | None = None, send: Callable[[bytes], None] | None = None) -> None:
        self.service = service or os.getenv("POWERTOOLS_SERVICE_NAME") or "service_undefined"
        self.disabled = _disabled()
        self._socket: socket.socket | None = None
        self._address = _daemon()
        self._cold = True
        self._datagram = send or self._udp

    def _send(self, document: dict[str, Any]) -> None:
        self._datagram((_HEADER + COMPACT_JSON.encode(document)).encode())

    def _udp(self, datagram: bytes) -> None:
        if self._socket is None:
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._socket.setblocking(False)
        # the daemon is best effort, as with the SDK: never fail a request over a trace
        with contextlib.suppress(OSError):
            self._socket.sendto(datagram, self._address)

    def trace(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        name = f"## {handler.__name__}"

        @functools.wraps(handler)
        def traced(event: Any, context: Any) -> Any:
            cold, self._cold = self._cold, False
            ids = None if self.disabled else _sampled_context()
            if ids is None:
                return handler(event, context)
            start = time.time()
            document: dict[str, Any] = {
                "id": os.urandom(8).hex(),
                "name": name,
                "start_time": start,
                "parent_id": ids[1],
                "in_progress": False,
                "annotations": {"ColdStart": cold, "Service": self.service},
                "trace_id": ids[0],
                "type": "subsegment",
                "namespace": "local",
            }
            try:
                return handler(event, context)
            except Exception as exc:
                document["fault"] = True
                document["metadata"] = {self.service: {f"{handler.__name__} error": f"{type(exc).__name__}: {exc}"}}
                document["cause"] = _cause(exc)
                raise
            finally:
                document["end_time"] = time.time()
                self._send(document)

        return traced
