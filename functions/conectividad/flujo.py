"""The payment state machine's tasks: one Lambda each (``conectividad.flujo.<task>``).

Each task gets the execution state ``{"pago": {...}, "cuentaOrigen": "..."}`` and raises named
exceptions (``recaudo.data.payments``) that the state machine retries or compensates.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from recaudo.data.payments import CONFIRMADO, Payment, PaymentError, Throttled
from recaudo.events import EventPublisher, PublishFailed
from recaudo.observability import lambda_handler, logger, metrics


class VerificacionFallida(PaymentError):
    """The payment read back does not match its debts."""


class Payments(Protocol):
    def apply(self, payment: Payment) -> None: ...
    def confirm(self, payment: Payment, cuenta_origen: str) -> bool: ...
    def compensate(self, payment: Payment) -> bool: ...
    def get(self, numero_factura: int) -> Payment | None: ...
    def get_debt_state(self, ref: Any) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class FlowDeps:
    payments: Payments
    events: EventPublisher


@cache
def default_deps() -> FlowDeps:
    from recaudo.aws import client
    from recaudo.data.payments import PaymentsRepository
    from recaudo.events import EventBridgePublisher
    from recaudo.settings import FlowSettings, load

    settings = load(FlowSettings)
    return FlowDeps(
        PaymentsRepository(settings.ledger_table, client("dynamodb")),
        EventBridgePublisher(client("events"), settings.event_bus_name, "recaudo.conectividad"),
    )


def aplicar_pago(state: dict[str, Any], deps: FlowDeps | None = None) -> dict[str, Any]:
    deps = deps or default_deps()
    payment = Payment.of(state["pago"])
    deps.payments.apply(payment)
    metrics.add_metric(name="PagoAplicado", unit=MetricUnit.Count, value=1)
    logger.info("payment applied", extra={"numeroFactura": payment.numero_factura, "deudas": len(payment.deudas)})
    return {"aplicado": True}


def _publish(deps: FlowDeps, detail_type: str, payment: Payment) -> None:
    """At least once: a retried task may publish again; consumers dedupe on numeroFactura +
    numeroTransaccion. A PaymentCompensated cancels a PaymentConfirmed of the same transaction."""
    detail = {
        "numeroFactura": payment.numero_factura,
        "numeroTransaccion": payment.numero_transaccion,
        "banco": payment.banco,
        "convenio": payment.convenio,
        "identificacion": payment.identificacion,
        "monto": str(payment.monto),
        "idSaldos": [d.id_saldo for d in payment.deudas],
    }
    try:
        deps.events.publish(detail_type, detail)
    except PublishFailed as exc:
        raise Throttled(str(exc)) from exc  # the state machine retries the task with backoff


def confirmar_pago(state: dict[str, Any], deps: FlowDeps | None = None) -> dict[str, Any]:
    deps = deps or default_deps()
    payment = Payment.of(state["pago"])
    first_time = deps.payments.confirm(payment, state["cuentaOrigen"])
    _publish(deps, "PaymentConfirmed", payment)  # after the commit
    metrics.add_metric(name="PagoConfirmado", unit=MetricUnit.Count, value=1)
    return {"confirmado": True, "primeraVez": first_time}


def verificar_pago(state: dict[str, Any], deps: FlowDeps | None = None) -> dict[str, Any]:
    deps = deps or default_deps()
    expected = Payment.of(state["pago"])
    stored = deps.payments.get(expected.numero_factura)
    if stored is None or stored.estado != CONFIRMADO or stored.numero_transaccion != expected.numero_transaccion:
        raise VerificacionFallida(f"factura {expected.numero_factura}: el pago no quedó confirmado")
    total = Decimal("0.00")
    for ref in stored.deudas:
        debt = deps.payments.get_debt_state(ref)
        if (
            debt is None
            or debt.get("estado") != "pagado"
            or int(debt.get("pagoFactura", -1)) != expected.numero_factura
        ):
            raise VerificacionFallida(f"factura {expected.numero_factura}: la deuda {ref.id_saldo} no quedó pagada")
        total += Decimal(debt["saldo"]) + Decimal(debt["saldoInteres"])
    if total != stored.monto or stored.monto != expected.monto:
        raise VerificacionFallida(f"factura {expected.numero_factura}: {total} pagado frente a {stored.monto}")
    metrics.add_metric(name="PagoVerificado", unit=MetricUnit.Count, value=1)
    return {"verificado": True, "monto": str(total)}


def compensar_pago(state: dict[str, Any], deps: FlowDeps | None = None) -> dict[str, Any]:
    deps = deps or default_deps()
    payment = Payment.of(state["pago"])
    undone = deps.payments.compensate(payment)
    # every attempt publishes: a retry after a lost event finds nothing left to undo
    _publish(deps, "PaymentCompensated", payment)
    metrics.add_metric(name="PagoCompensado", unit=MetricUnit.Count, value=1)
    logger.warning(
        "payment compensated",
        extra={"numeroFactura": payment.numero_factura, "undone": undone, "error": state.get("error")},
    )
    return {"compensado": undone}


aplicar = lambda_handler(lambda event, _ctx: aplicar_pago(event), correlation_id_path="pago.numeroFactura")
confirmar = lambda_handler(lambda event, _ctx: confirmar_pago(event), correlation_id_path="pago.numeroFactura")
verificar = lambda_handler(lambda event, _ctx: verificar_pago(event), correlation_id_path="pago.numeroFactura")
compensar = lambda_handler(lambda event, _ctx: compensar_pago(event), correlation_id_path="pago.numeroFactura")
