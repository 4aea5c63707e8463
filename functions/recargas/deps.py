"""Everything the recargas context touches outside itself: its ports, and the real adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Protocol

from recaudo.data.recargas import Canal
from recaudo.dates import utc_now
from recaudo.models.recargas import Recarga, RespuestaOperador


class Canales(Protocol):
    def get(self, api_key: str) -> Canal | None: ...


class Claves(Protocol):
    def clave(self, api_key: str, version: int, cifrada: bytes) -> str: ...


class UnaVez(Protocol):
    def claim_nonce(self, api_key: str, nonce: str, ttl_seconds: int, now: datetime) -> bool: ...
    def claim_key(
        self, api_key: str, key: str, huella: str, operacion: str, ttl_seconds: int, now: datetime
    ) -> dict[str, Any] | None: ...
    def save_reply(self, api_key: str, key: str, status: int, body: str) -> None: ...
    def release_key(self, api_key: str, key: str, operacion: str) -> None: ...


class Recargas(Protocol):
    def put_new(self, r: Recarga) -> None: ...
    def get(self, id_: str) -> Recarga | None: ...
    def mark_sent(self, id_: str, now: datetime) -> bool: ...
    def confirm(self, id_: str, autorizacion: str | None, now: datetime) -> bool: ...
    def fail(self, id_: str, motivo: str, now: datetime) -> bool: ...
    def mark_verified(self, id_: str, verified: bool, now: datetime) -> bool: ...


class Operador(Protocol):
    def recargar(
        self, referencia: str, producto: str, numero: str, monto: Decimal, expira: datetime
    ) -> RespuestaOperador: ...
    def estado(self, referencia: str) -> RespuestaOperador: ...
    def saldo(self, producto: str, numero: str) -> Decimal | None: ...


class Flujo(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> None: ...


class Eventos(Protocol):
    def publish(self, detail_type: str, detail: Any) -> None: ...


@dataclass(frozen=True)
class AuthDeps:
    canales: Canales
    claves: Claves
    una_vez: UnaVez
    ventana_nonce_ms: int
    clock: Callable[[], datetime] = utc_now


@dataclass(frozen=True)
class RecargaDeps:
    auth: AuthDeps
    recargas: Recargas
    una_vez: UnaVez
    flujo: Flujo
    operador: Operador
    espera_segundos: float  # how long the pay endpoint waits for the outcome before "en proceso"
    idempotencia_segundos: int
    sleep: Callable[[float], None]
    clock: Callable[[], datetime] = utc_now


@dataclass(frozen=True)
class FlujoDeps:
    recargas: Recargas
    operador: Operador
    eventos: Eventos
    vigencia_segundos: int  # how long the carrier may still apply a request (its "expira")
    clock: Callable[[], datetime] = utc_now


class StandardStateMachine:
    """StartExecution named after the operation: a second start with that name starts nothing new."""

    def __init__(self, client: Any, arn: str) -> None:
        self._client, self._arn = client, arn

    def start(self, name: str, payload: dict[str, Any]) -> None:
        import contextlib
        import json

        # the same operation's execution, already running or done: nothing new to start
        with contextlib.suppress(self._client.exceptions.ExecutionAlreadyExists):
            self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))


@cache
def _operador() -> Operador:
    from recaudo.clients.operador import CarrierClient, Timeouts
    from recaudo.settings import RecargasSettings, load

    s = load(RecargasSettings)
    return CarrierClient(s.carrier_url, s.carrier_token, Timeouts(topup_read=s.carrier_read_timeout))


class _OperadorAlUsarlo:
    """The carrier's client, built on its first call: of the API's handlers only the balance query
    calls the carrier, so pagar, servicios and operacion never import httpx nor build the client."""

    def recargar(
        self, referencia: str, producto: str, numero: str, monto: Decimal, expira: datetime
    ) -> RespuestaOperador:
        return _operador().recargar(referencia, producto, numero, monto, expira)

    def estado(self, referencia: str) -> RespuestaOperador:
        return _operador().estado(referencia)

    def saldo(self, producto: str, numero: str) -> Decimal | None:
        return _operador().saldo(producto, numero)


@cache
def default_auth_deps() -> AuthDeps:
    from recaudo.aws import client
    from recaudo.data.claves import ClavesEnMemoria, ClavesKms
    from recaudo.data.recargas import CanalesRepository, UnaVezRepository
    from recaudo.settings import RecargasSettings, load

    s = load(RecargasSettings)
    ddb = client("dynamodb")
    return AuthDeps(
        canales=CanalesRepository(s.credentials_table, ddb),
        claves=ClavesEnMemoria(ClavesKms(s.key_id, client("kms"))),
        una_vez=UnaVezRepository(s.idempotency_table, ddb),
        ventana_nonce_ms=s.nonce_window_seconds * 1000,
    )


@cache
def default_recarga_deps() -> RecargaDeps:
    import time

    from recaudo.aws import al_usarlo, client
    from recaudo.data.recargas import RecargasRepository, UnaVezRepository
    from recaudo.settings import RecargasSettings, load

    s = load(RecargasSettings)
    ddb = client("dynamodb")
    return RecargaDeps(
        auth=default_auth_deps(),
        recargas=RecargasRepository(s.ledger_table, ddb),
        una_vez=UnaVezRepository(s.idempotency_table, ddb),
        # built on first use: of the API only a top-up starts the machine
        flujo=StandardStateMachine(al_usarlo("stepfunctions"), s.state_machine_arn),
        operador=_OperadorAlUsarlo(),
        espera_segundos=s.wait_seconds,
        idempotencia_segundos=s.idempotency_seconds,
        sleep=time.sleep,
    )


@cache
def default_flujo_deps() -> FlujoDeps:
    from recaudo.aws import client
    from recaudo.data.recargas import RecargasRepository
    from recaudo.events import EventBridgePublisher
    from recaudo.settings import RecargasSettings, load

    s = load(RecargasSettings)
    return FlujoDeps(
        recargas=RecargasRepository(s.ledger_table, client("dynamodb")),
        operador=_operador(),
        eventos=EventBridgePublisher(client("events"), s.event_bus_name, "recaudo.recargas"),
        vigencia_segundos=s.carrier_validity_seconds,
    )
