"""What the Conectividad logic needs from outside itself: its ports (small Protocols listing only the
methods the logic calls), the deps dataclasses that carry them, and the factories that build the
real adapters once per container from the validated environment. Tests pass fakes instead.

Every adapter here is an AWS call some function makes: its construct (infra/constructs/conectividad.py)
must grant it, and the local stack enforces each function's role.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from recaudo.dates import Clock, utc_now

if TYPE_CHECKING:  # annotations only: the query functions never load the payments' models, events or flow
    from recaudo.events import EventPublisher
    from recaudo.models.ledger import Convenio, Deuda, Persona, TipoConvenio
    from recaudo.models.pagos import DebtRef, DebtState, HistorialPago, Payment, Solicitud
    from recaudo.stepfunctions import FlowOutcome

EVENT_SOURCE = "recaudo.conectividad"

# ---- ports ----


class Ledger(Protocol):
    """Persons, convenios and debts, as the saldos queries read them."""

    def get_persona(self, identificacion: str) -> Persona | None: ...
    def get_convenio(self, codigo: str) -> Convenio | None: ...
    def get_convenio_predeterminado(self, tipo: TipoConvenio) -> Convenio | None: ...
    def deudas_pendientes(
        self, identificacion: str, institucion: str, rubros: Sequence[str] = (), corte_hasta: date | None = None
    ) -> list[Deuda]: ...


class PaymentLedger(Protocol):
    """The debts a payment settles, by invoice or by carrito transaction."""

    def get_persona(self, identificacion: str) -> Persona | None: ...
    def get_convenio(self, codigo: str) -> Convenio | None: ...
    def get_deuda_por_factura(self, id_saldo: int) -> Deuda | None: ...
    def get_deuda_por_transaccion(
        self, auxiliar: str, cuenta: int | str, tipo: str, documento: str
    ) -> Deuda | None: ...


class Payments(Protocol):
    """Payments as the endpoints read, number and reverse them."""

    def get(self, numero_factura: int, banco_carrito: str | None = None) -> Payment | None: ...
    def reversed(self, numero_factura: int, banco_carrito: str | None = None) -> list[Payment]: ...
    def all_of(self, pk: str) -> list[Payment]: ...
    def solicitud(self, banco: str, identidad: str) -> Solicitud | None: ...
    def history(self, identificacion: str, desde: date, hasta: date) -> list[HistorialPago]: ...
    def next_transaction_number(self) -> int: ...
    def debt_ref(self, deuda: Deuda) -> DebtRef: ...
    def reverse(self, payment: Payment, reversed_at: str) -> None: ...


class FlowPayments(Protocol):
    """Payments as the state machine's tasks apply, confirm, verify and compensate them."""

    def apply(self, payment: Payment) -> None: ...
    def confirm(self, payment: Payment, cuenta_origen: str) -> bool: ...
    def compensate(self, payment: Payment, motivo: str, at: str) -> bool: ...
    def get(self, numero_factura: int, banco_carrito: str | None = None) -> Payment | None: ...
    def get_debt_state(self, ref: DebtRef) -> DebtState | None: ...
    def atascados(self, antes_de: str, limite: int = 100) -> list[Payment]: ...


class BankKeys(Protocol):
    def verify_llave(self, codigo_banco: str, llave: str, now: datetime | None = None) -> bool: ...
    def token_activo(self, key_id: str, codigo_banco: str) -> bool: ...


class Flow(Protocol):
    def run(self, name: str, payload: dict[str, Any]) -> FlowOutcome: ...


class Guard(Protocol):
    def run(
        self, key: dict[str, Any], payload: dict[str, Any], fn: Callable[[], Any], lambda_context: Any = None
    ) -> Any: ...


# ---- deps ----


@dataclass(frozen=True)
class QueryDeps:
    """obtener-persona and the saldos queries (``queries``)."""

    ledger: Ledger
    time_zone: str
    clock: Clock = utc_now


@dataclass(frozen=True)
class PaymentDeps:
    """ejecutar-pago*, historial-pagos and verificar-pago (``pagos``), reversar-pago (``reversas``)."""

    ledger: PaymentLedger
    payments: Payments
    credentials: BankKeys
    flow: Flow
    idempotency: Guard
    events: EventPublisher
    time_zone: str
    clock: Clock = utc_now


@dataclass(frozen=True)
class FlowDeps:
    """The payment state machine's tasks (``flujo``)."""

    payments: FlowPayments
    events: EventPublisher
    clock: Clock = utc_now


@cache
def default_query_deps() -> QueryDeps:
    from recaudo.aws import client
    from recaudo.data.ledger import LedgerRepository
    from recaudo.settings import LedgerSettings, load

    settings = load(LedgerSettings)
    ledger = LedgerRepository(settings.ledger_table, client("dynamodb"), page_limit=settings.query_page_limit)
    return QueryDeps(ledger=ledger, time_zone=settings.time_zone)


@cache
def default_payment_deps() -> PaymentDeps:
    from recaudo.aws import al_usarlo, client
    from recaudo.data.credentials import CredentialsRepository
    from recaudo.data.ledger import LedgerRepository
    from recaudo.data.payments import PaymentsRepository
    from recaudo.events import EventBridgePublisher
    from recaudo.idempotency import IdempotencyGuard
    from recaudo.settings import PaymentSettings, load
    from recaudo.stepfunctions import SyncStateMachine

    s = load(PaymentSettings)
    ddb = client("dynamodb")
    return PaymentDeps(
        ledger=LedgerRepository(s.ledger_table, ddb, page_limit=s.query_page_limit),
        payments=PaymentsRepository(s.ledger_table, ddb),
        credentials=CredentialsRepository(s.credentials_table, ddb),
        # waits at most payment_wait_seconds for the outcome, then answers "en proceso" (never a retry:
        # a second StartSyncExecution would be a second attempt). These endpoints share these deps: the
        # Step Functions and EventBridge clients are built on first use (only ejecutar-pago starts the
        # flow, only the reversal publishes), so the others never build them.
        flow=SyncStateMachine(al_usarlo("stepfunctions", s.payment_wait_seconds), s.state_machine_arn),
        idempotency=IdempotencyGuard(s.idempotency_table, s.idempotency_seconds, ddb),
        events=EventBridgePublisher(al_usarlo("events"), s.event_bus_name, EVENT_SOURCE),
        time_zone=s.time_zone,
    )


@cache
def default_flow_deps() -> FlowDeps:
    from recaudo.aws import client
    from recaudo.data.payments import PaymentsRepository
    from recaudo.events import EventBridgePublisher
    from recaudo.settings import FlowSettings, load

    s = load(FlowSettings)
    return FlowDeps(
        payments=PaymentsRepository(s.ledger_table, client("dynamodb")),
        events=EventBridgePublisher(client("events"), s.event_bus_name, EVENT_SOURCE),
    )
