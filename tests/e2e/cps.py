"""A CPS channel's client for the e2e tests: signs each request as the document says (independently
of recaudo.firmas: the HMAC is computed here from the raw bytes sent)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any

import httpx


class Channel:
    def __init__(self, base_url: str, api_key: str, private_key: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)
        self.api_key, self.private_key = api_key, private_key
        self._last = 0
        self._lock = threading.Lock()

    def nonce(self) -> str:
        """Unix milliseconds, distinct per request: concurrent requests in one millisecond get the next."""
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1_000_000)
            return str(self._last)

    def headers(self, path: str, signed_json: bytes, nonce: str | None = None) -> dict[str, str]:
        nonce = nonce or self.nonce()
        message = path.encode() + nonce.encode() + signed_json
        signature = hmac.new(self.private_key.encode(), message, hashlib.sha384).hexdigest()
        return {"api-key": self.api_key, "api-nonce": nonce, "api-signature": signature}

    def pay(self, body: bytes | dict[str, Any], idempotency_key: str | None = None, **extra: str) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        headers = {**self.headers("/v2/operation/use/pay", raw), "Content-Type": "application/json", **extra}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self.http.post("/cps/v2/operation/use/pay", content=raw, headers=headers)

    def get(self, path: str, query: dict[str, Any] | None = None) -> httpx.Response:
        signed = json.dumps(query, separators=(",", ":")).encode() if query else b""
        params = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (query or {}).items()}
        return self.http.get(f"/cps{path}", params=params, headers=self.headers(path, signed))

    def operation(self, id_: str) -> httpx.Response:
        return self.get(f"/v2/operation/{id_}")

    def wait_final(self, id_: str, seconds: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            reply = self.operation(id_)
            if reply.status_code == 200 or time.monotonic() > deadline:
                return reply.json()
            time.sleep(0.5)
