"""A fake top-up carrier: a real HTTP server on loopback that speaks docs/carrier-api.md.

Its behaviour is chosen by the number's last digit (``BEHAVIOURS``), so a test or a user picks a
case by the number they top up:

    1 applied · 2 declined · 3 times out, then applied · 4 answers 500, but applied · 5 slow (2 s),
    then applied · 6 applied, and its balance can be queried · anything else: applied

A reference is applied at most once, whatever is sent again (the carrier's idempotency); a request
received after its ``expira`` is refused (410). ``GET /_calls/<referencia>`` tells tests how many
top-up requests arrived for a reference and whether it was applied; ``POST /_config`` sets the
latency added to every answer (the benchmark uses 100 ms).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local_stack.fakes import serve

BEHAVIOURS = {
    "1": "aplicada",
    "2": "rechazada",
    "3": "timeout_luego_aplicada",
    "4": "error_5xx_aplicada",
    "5": "lenta",
    "6": "saldo",
}
# One demo number per behaviour (Movistar prepaid lines, leading zero kept).
NUMBERS = {name: f"041400000{i:02d}" for i, name in ((int(k), v) for k, v in BEHAVIOURS.items())}


@dataclass
class Operation:
    referencia: str
    numero: str
    producto: str
    monto: Decimal
    estado: str = "EN_PROCESO"
    motivo: str | None = None
    autorizacion: str | None = None
    posts: int = 0


@dataclass
class FakeCarrier:
    token: str = "fake-carrier-token"
    latency: float = 0.0  # added to every answer (the benchmark uses 0.1 s)
    hang: float = 7.0  # how long a "timeout" top-up hangs (longer than the client's read timeout)
    slow: float = 2.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    operations: dict[str, Operation] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # ---- behaviour ----

    def behaviour(self, numero: str) -> str:
        return BEHAVIOURS.get(numero[-1:], "aplicada")

    def _apply(self, op: Operation) -> None:
        op.estado, op.autorizacion = "APLICADA", f"AUT-{uuid.uuid4().hex[:10].upper()}"

    def topup(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        referencia = str(body.get("referencia") or "")
        if not referencia or not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", referencia):
            return 400, {"motivo": "referencia inválida"}
        expira = datetime.fromisoformat(str(body.get("expira", "1970-01-01T00:00:00Z")).replace("Z", "+00:00"))
        with self.lock:
            op = self.operations.get(referencia)
            if op is None:
                if self.clock() > expira:
                    return 410, {"referencia": referencia, "estado": "EXPIRADA"}
                op = Operation(referencia, str(body["numero"]), str(body["producto"]), Decimal(str(body["monto"])))
                self.operations[referencia] = op
                first = True
            else:
                first = False
            op.posts += 1
        if not first:  # idempotent by reference: the first outcome, nothing applied again
            return (200, self._reply(op)) if op.estado != "EN_PROCESO" else (409, self._reply(op))
        kind = self.behaviour(op.numero)
        if kind == "rechazada":
            op.estado, op.motivo = "RECHAZADA", "número no habilitado para recargas"
            return 200, self._reply(op)
        if kind == "timeout_luego_aplicada":
            time.sleep(self.hang)  # the client has given up by now; the top-up is applied anyway
            self._apply(op)
            return 200, self._reply(op)
        if kind == "error_5xx_aplicada":
            self._apply(op)
            return 500, {"motivo": "error interno del operador"}
        if kind == "lenta":
            time.sleep(self.slow)
        self._apply(op)
        return 200, self._reply(op)

    def status(self, referencia: str) -> tuple[int, dict[str, Any]]:
        op = self.operations.get(referencia)
        if op is None:
            return 404, {"referencia": referencia, "estado": "DESCONOCIDA"}
        return 200, self._reply(op)

    def balance(self, producto: str, numero: str) -> tuple[int, dict[str, Any]]:
        if not numero.isdigit():
            return 404, {"motivo": "número desconocido"}
        saldo = Decimal(int(numero[-4:]) % 1000) + Decimal("0.50")
        return 200, {"producto": producto, "numero": numero, "saldo": float(saldo), "moneda": "VES"}

    @staticmethod
    def _reply(op: Operation) -> dict[str, Any]:
        out: dict[str, Any] = {"referencia": op.referencia, "estado": op.estado}
        if op.motivo:
            out["motivo"] = op.motivo
        if op.autorizacion:
            out["autorizacion"] = op.autorizacion
        return out

    # ---- HTTP ----

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        carrier = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout case): the outcome stands anyway

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {carrier.token}":
                    self._send(401, {"motivo": "token inválido"})
                    return False
                return True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if urlsplit(self.path).path == "/_config":  # for benchmarks: {"latency": seconds}
                    carrier.latency = float(json.loads(raw or b"{}").get("latency", carrier.latency))
                    return self._send(200, {"latency": carrier.latency})
                if urlsplit(self.path).path != "/v1/recargas":
                    return self._send(404, {"motivo": "ruta desconocida"})
                if not self._authorized():
                    return None
                try:
                    body = json.loads(raw)
                    assert isinstance(body, dict)
                except (ValueError, AssertionError):
                    return self._send(400, {"motivo": "JSON inválido"})
                time.sleep(carrier.latency)
                return self._send(*carrier.topup(body))

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path.startswith("/_calls/"):  # for tests: what arrived for a reference
                    op = carrier.operations.get(url.path.rsplit("/", 1)[-1])
                    return self._send(200, {"posts": op.posts if op else 0, "estado": op.estado if op else None})
                if not self._authorized():
                    return None
                time.sleep(carrier.latency)
                if url.path.startswith("/v1/recargas/"):
                    return self._send(*carrier.status(url.path.rsplit("/", 1)[-1]))
                if url.path == "/v1/saldos":
                    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                    return self._send(*carrier.balance(query.get("producto", ""), query.get("numero", "")))
                return self._send(404, {"motivo": "ruta desconocida"})

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server, url = serve(Handler, host, port, "fake-carrier")
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
