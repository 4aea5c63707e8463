"""afacturar's RADIAN event history (seed 003), over async httpx.

``POST <base>/api/radian/historico_eventos`` as a **multipart form** (``cufe``, and ``entorno`` when
configured), with ``Accept: application/json`` (without it the server may answer an HTML redirect)
and ``Authorization: Bearer <token>``. Calls can take tens of seconds: the read timeout is above 60 s.

Every reply becomes a ``Sondeo`` (a poll's outcome), never an exception the caller must guess at:
- ``codigo_error`` 0 (int or string): the events; 12: no events, a normal empty history;
- 401 (HTTP or code) or 11: not authenticated: the run must stop and raise its alarm;
- 28 (afacturar's 60 s timeout), 15 (DIAN's error), a timeout, a 5xx: try again later;
- an unknown code, or a reply that is not JSON (an HTML login page): a failed poll, recorded.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

import httpx

from recaudo.models.radian import Evento

PATH = "/api/radian/historico_eventos"


class ResultadoSondeo(StrEnum):
    OK = "OK"  # events (possibly none)
    NO_AUTENTICADO = "NO_AUTENTICADO"  # stop the run, alarm
    REINTENTAR = "REINTENTAR"  # 28, 15, timeout, 5xx: later, with backoff
    FALLIDO = "FALLIDO"  # unknown code, unreadable reply


@dataclass(frozen=True)
class Sondeo:
    resultado: ResultadoSondeo
    eventos: list[Evento] = field(default_factory=list)
    codigo: str | None = None
    descripcion: str = ""


def _descripcion(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


_EXTRA = (
    "identificacion_evento",
    "emisor_nombre",
    "emisor_identificacion",
    "receptor_nombre",
    "receptor_identificacion",
)


def _evento(item: dict[str, Any]) -> Evento:
    return Evento(
        cude=str(item["cude"]).strip().lower(),
        codigo=str(item["codigo"]).strip().zfill(3),
        numero=int(str(item["numero"]).strip()),
        fecha=datetime.strptime(str(item["fecha"]).strip(), "%Y-%m-%d %H:%M:%S"),
        descripcion=str(item.get("descripcion") or ""),
        **{campo: str(item.get(campo) or "") for campo in _EXTRA},
    )


def interpretar(status: int, content: bytes) -> Sondeo:
    """A reply, whatever it is, as a poll's outcome."""
    if status == 401:
        return Sondeo(ResultadoSondeo.NO_AUTENTICADO, codigo="401", descripcion="HTTP 401")
    if status >= 500:
        return Sondeo(ResultadoSondeo.REINTENTAR, descripcion=f"HTTP {status}")
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return Sondeo(ResultadoSondeo.FALLIDO, descripcion=f"respuesta no JSON (HTTP {status})")
    if not isinstance(data, dict):
        return Sondeo(ResultadoSondeo.FALLIDO, descripcion="respuesta JSON inesperada")
    if data.get("message") == "Unauthenticated.":
        return Sondeo(ResultadoSondeo.NO_AUTENTICADO, codigo="401", descripcion="Unauthenticated.")
    codigo = str(data.get("codigo_error", "")).strip()
    descripcion = _descripcion(data.get("descripcion_error"))
    if codigo == "0":
        try:
            eventos = [_evento(item) for item in data.get("resultado") or []]
        except (KeyError, ValueError, TypeError) as exc:
            return Sondeo(ResultadoSondeo.FALLIDO, codigo=codigo, descripcion=f"evento ilegible: {exc}")
        return Sondeo(ResultadoSondeo.OK, eventos, codigo, descripcion)
    if codigo == "12":
        return Sondeo(ResultadoSondeo.OK, [], codigo, descripcion or "CUFE sin eventos")
    if codigo in ("401", "11"):
        return Sondeo(ResultadoSondeo.NO_AUTENTICADO, codigo=codigo, descripcion=descripcion)
    if codigo in ("28", "15"):
        return Sondeo(ResultadoSondeo.REINTENTAR, codigo=codigo, descripcion=descripcion)
    return Sondeo(ResultadoSondeo.FALLIDO, codigo=codigo or None, descripcion=descripcion or "código desconocido")


# httpcore 1.0.x scans its whole pool for every request it assigns, O(connections x queued), and
# compares max_keepalive_connections with all connections, not the idle ones, so a busy pool reopens
# connections (encode/httpcore#1035, still open). Small pools, each kept whole, avoid both; the
# busiest request goes to the least busy pool. Measured in benchmarks/radian.py.
_POR_POOL = 4


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context per container (loading the CA bundle costs ~50 ms): verified, as httpx's own."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class AfacturarClient:
    """One per polling run: ``conexiones`` connections at most, kept alive, in pools of four."""

    def __init__(
        self,
        base_url: str,
        token: str,
        entorno: str | None = None,
        read_timeout: float = 75.0,
        transport: httpx.AsyncBaseTransport | None = None,
        conexiones: int = 16,
    ) -> None:
        self._entorno = entorno
        pools = 1 if transport is not None else max(1, -(-conexiones // _POR_POOL))
        por_pool = min(conexiones, _POR_POOL)
        self._clients = [
            httpx.AsyncClient(
                base_url=base_url.rstrip("/"),
                headers={"Accept": "application/json", "Authorization": f"Bearer {token}"},
                timeout=httpx.Timeout(read_timeout, connect=5.0),
                transport=transport,
                verify=_tls(),
                limits=httpx.Limits(max_connections=por_pool, max_keepalive_connections=por_pool),
            )
            for _ in range(pools)
        ]
        self._en_curso = [0] * pools

    async def historial(self, cufe: str) -> Sondeo:
        fields = {"cufe": cufe, **({"entorno": self._entorno} if self._entorno else {})}
        i = min(range(len(self._clients)), key=self._en_curso.__getitem__)
        client = self._clients[i]
        # multipart, as afacturar expects (httpx sends multipart when files are given), encoded once:
        # one write instead of one per part
        request = client.build_request("POST", PATH, files={name: (None, value) for name, value in fields.items()})
        request.read()
        self._en_curso[i] += 1
        try:
            response = await client.send(request)
        except httpx.TransportError as exc:
            return Sondeo(ResultadoSondeo.REINTENTAR, descripcion=f"sin respuesta: {type(exc).__name__}")
        finally:
            self._en_curso[i] -= 1
        return interpretar(response.status_code, response.content)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
