"""Fakes of the external systems the app calls, served on loopback beside the local stack."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # socketserver's default of 5 resets bursts of concurrent clients


def serve(handler: type[BaseHTTPRequestHandler], host: str, port: int, name: str) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``handler`` on ``host:port`` (0: any free port) from a daemon thread; the server and its URL.
    A short poll interval: ``shutdown()`` returns in 50 ms, not 500 (tests start one fake each)."""
    server = _Server((host, port), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name=name).start()
    bound_host, bound_port = server.server_address[:2]
    return server, f"http://{bound_host!s}:{int(bound_port)}"
