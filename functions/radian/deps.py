"""Everything the RADIAN context touches outside itself: its ports, and the real adapters."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from recaudo.dates import utc_now
from recaudo.models.radian import Evento, Factura, Insignia, PoliticaSondeo

if TYPE_CHECKING:  # the tracking API's functions never import httpx: only the poller calls afacturar
    from recaudo.clients.radian import Sondeo

# the names of the polling state machine's executions: started by the schedule, or by "poll now"
PREFIJO_PROGRAMADO = "programado-"
PREFIJO_AHORA = "ahora-"


class Facturas(Protocol):
    def registrar(self, factura: Factura) -> bool: ...
    def get(self, tenant: str, cufe: str) -> Factura | None: ...
    def eventos(self, tenant: str, cufe: str) -> list[Evento]: ...
    def eliminar(self, tenant: str, cufe: str) -> bool: ...
    def listar(
        self, tenant: str, insignia: Insignia | None, limite: int, siguiente: str | None
    ) -> tuple[list[Factura], str | None]: ...
    def lotes(self, corte: datetime, tamano: int, maximo: int) -> Iterator[Any]: ...
    def del_lote(self, shard: int, desde: str, hasta: str) -> list[Factura]: ...
    def guardar(self, factura: Factura, version_leida: int, nuevos: Iterable[Evento] = ()) -> bool: ...
    def confirmar_publicacion(self, tenant: str, cufe: str, version: int) -> None: ...


class Afacturar(Protocol):
    """afacturar's event history, one CUFE per call (``recaudo.clients.radian.AfacturarClient``)."""

    async def historial(self, cufe: str) -> Sondeo: ...
    async def aclose(self) -> None: ...


class Eventos(Protocol):
    def publish(self, detail_type: str, detail: Any) -> None: ...


class Flujo(Protocol):
    """The polling state machine: a run over batches of invoices."""

    def start(self, name: str, payload: dict[str, Any]) -> str: ...
    def running(self, prefix: str) -> bool: ...


class Metricas(Protocol):
    def count(self, name: str, value: int = 1) -> None: ...


@dataclass(frozen=True)
class SeguimientoDeps:
    """The tracking API."""

    facturas: Facturas
    flujo: Flujo
    clock: Callable[[], datetime] = utc_now


@dataclass(frozen=True)
class SondeoDeps:
    """The schedule's planner and the batch pollers."""

    facturas: Facturas
    afacturar: Callable[[], Afacturar]  # a new client per run: async clients belong to one event loop
    eventos: Eventos
    flujo: Flujo
    metricas: Metricas
    politica: PoliticaSondeo
    tamano_lote: int = 100
    max_lotes: int = 400
    concurrencia: int = 16
    por_segundo: float = 10.0
    clock: Callable[[], datetime] = utc_now


class PollingStateMachine:
    """StartExecution of the polling run; ``running`` tells whether a scheduled run is still going."""

    def __init__(self, client: Any, arn: str) -> None:
        self._client, self._arn = client, arn

    def start(self, name: str, payload: dict[str, Any]) -> str:
        import json

        response = self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))
        return str(response["executionArn"])

    def running(self, prefix: str) -> bool:
        pages = self._client.get_paginator("list_executions").paginate(
            stateMachineArn=self._arn, statusFilter="RUNNING"
        )
        return any(e["name"].startswith(prefix) for page in pages for e in page.get("executions", []))


def politica(s: Any) -> PoliticaSondeo:
    return PoliticaSondeo(
        activo=timedelta(minutes=s.active_minutes),
        normal=timedelta(minutes=s.normal_minutes),
        lento=timedelta(minutes=s.slow_minutes),
        edad_maxima=timedelta(days=s.max_age_days),
        reintento_base=timedelta(minutes=s.retry_base_minutes),
        reintento_maximo=timedelta(minutes=s.retry_max_minutes),
    )


@cache
def _settings() -> Any:
    from recaudo.settings import RadianSettings, load

    return load(RadianSettings)


@cache
def default_seguimiento_deps() -> SeguimientoDeps:
    from recaudo.aws import al_usarlo, client
    from recaudo.data.radian import FacturasRepository

    s = _settings()
    return SeguimientoDeps(
        facturas=FacturasRepository(s.table, client("dynamodb"), s.shards),
        # built on first use: of the tracking API only "poll now" starts the polling machine
        flujo=PollingStateMachine(al_usarlo("stepfunctions"), s.state_machine_arn),
    )


def _afacturar() -> Afacturar:
    """A client for this run, with the token read from Secrets Manager now (a rotated token is
    picked up by the next run); the token is never logged."""
    from recaudo.aws import client
    from recaudo.clients.radian import AfacturarClient

    s = _settings()
    token = client("secretsmanager").get_secret_value(SecretId=s.afacturar_secret_id)["SecretString"]
    return AfacturarClient(
        s.afacturar_url, token.strip(), s.afacturar_entorno, s.afacturar_read_timeout, conexiones=s.concurrency
    )


@cache
def default_sondeo_deps() -> SondeoDeps:
    from recaudo.aws import client
    from recaudo.data.radian import FacturasRepository
    from recaudo.events import EventBridgePublisher
    from recaudo.observability import MetricasEmf

    s = _settings()
    return SondeoDeps(
        facturas=FacturasRepository(s.table, client("dynamodb"), s.shards),
        afacturar=_afacturar,
        eventos=EventBridgePublisher(client("events"), s.event_bus_name, "recaudo.radian"),
        flujo=PollingStateMachine(client("stepfunctions"), s.state_machine_arn),
        metricas=MetricasEmf(),
        politica=politica(s),
        tamano_lote=s.batch_size,
        max_lotes=s.max_batches,
        concurrencia=s.concurrency,
        por_segundo=s.rate_per_second,
    )
