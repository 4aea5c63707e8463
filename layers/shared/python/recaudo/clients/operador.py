"""The top-up carrier's client (docs/carrier-api.md), over httpx.

- A top-up POST is sent **once**: no transport retry, no retry on 5xx. A timeout, a reset
  connection or a 5xx is ``SIN_RESPUESTA`` (outcome unknown), resolved by asking the status of our
  reference, never by sending again.
- Status and balance queries are reads: safe to repeat; the state machine repeats them with backoff.
- Explicit connect and read timeouts; one client (and its connection pool) per container.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from recaudo.models.recargas import RespuestaOperador, ResultadoOperador
from recaudo.money import CENT, dumps


@dataclass(frozen=True)
class Timeouts:
    connect: float = 2.0
    topup_read: float = 6.0
    query_read: float = 5.0


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        return None


class CarrierClient:
    def __init__(self, base_url: str, token: str, timeouts: Timeouts = Timeouts(), transport: Any = None) -> None:
        self._timeouts = timeouts
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeouts.query_read, connect=timeouts.connect),
            transport=transport,  # None: httpx's own, with no retries
        )

    def close(self) -> None:
        self._client.close()

    # ---- the three calls ----

    def recargar(
        self, referencia: str, producto: str, numero: str, monto: Decimal, expira: datetime
    ) -> RespuestaOperador:
        body = dumps(
            {
                "referencia": referencia,
                "producto": producto,
                "numero": numero,
                "monto": monto.quantize(CENT),  # an exact JSON number, never through float
                "expira": expira.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ).encode("utf-8")
        try:
            response = self._client.post(
                "/v1/recargas",
                content=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=httpx.Timeout(self._timeouts.topup_read, connect=self._timeouts.connect),
            )
        except httpx.TransportError:  # timeout, reset, refused: we cannot know whether it was applied
            return RespuestaOperador(ResultadoOperador.SIN_RESPUESTA, "el operador no respondió")
        if response.status_code == 410:
            return RespuestaOperador(ResultadoOperador.EXPIRADA, "la solicitud llegó vencida al operador")
        if response.status_code >= 500 or response.status_code == 409:
            return RespuestaOperador(ResultadoOperador.SIN_RESPUESTA, f"el operador respondió {response.status_code}")
        return self._outcome(response)

    def estado(self, referencia: str) -> RespuestaOperador:
        try:
            response = self._client.get(f"/v1/recargas/{referencia}")
        except httpx.TransportError:
            return RespuestaOperador(ResultadoOperador.SIN_RESPUESTA, "el operador no respondió")
        if response.status_code == 404:
            return RespuestaOperador(ResultadoOperador.DESCONOCIDA)
        if response.status_code >= 500:
            return RespuestaOperador(ResultadoOperador.SIN_RESPUESTA, f"el operador respondió {response.status_code}")
        return self._outcome(response)

    def saldo(self, producto: str, numero: str) -> Decimal | None:
        """The balance, or None when the carrier does not know the number. Raises on no answer."""
        response = self._client.get("/v1/saldos", params={"producto": producto, "numero": numero})
        if response.status_code in (404, 422):
            return None
        response.raise_for_status()
        return _decimal(self._json(response).get("saldo"))

    # ---- parsing ----

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _outcome(self, response: httpx.Response) -> RespuestaOperador:
        data = self._json(response)
        estado = str(data.get("estado") or "")
        if response.status_code != 200 or estado not in {r.value for r in ResultadoOperador}:
            # an answer we do not understand is not an outcome: resolve it by the status query
            return RespuestaOperador(ResultadoOperador.SIN_RESPUESTA, f"respuesta ilegible ({response.status_code})")
        return RespuestaOperador(
            ResultadoOperador(estado),
            motivo=data.get("motivo"),
            autorizacion=data.get("autorizacion"),
            saldo=_decimal(data.get("saldo")),
        )
