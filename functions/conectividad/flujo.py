"""The payment state machine's tasks: one Lambda each (``conectividad.flujo.<task>``).

Each task gets the execution state ``{"pago": {...}, "cuentaOrigen": "..."}`` and raises named
exceptions (``recaudo.models.pagos``) that the state machine retries or compensates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from conectividad.deps import FlowDeps, default_flow_deps
from recaudo.emf import MetricUnit
from recaudo.events import PublishFailed
from recaudo.models.ledger import EstadoDeuda
from recaudo.models.pagos import CONFIRMADO, Payment, Throttled, VerificacionFallida
from recaudo.observability import lambda_handler, logger, metrics


def aplicar_pago(state: dict[str, Any], deps: FlowDeps | None = None) -> dict[str, Any]:
    deps = deps or default_flow_deps()
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
    deps = deps or default_flow_deps()
    payment = Payment.of(state["pago"])
    first_time = deps.payments.confirm(payment, state["cuentaOrigen"])
    _publish(deps, "PaymentConfirmed", payment)  # after the commit
    metrics.add_metric(name="PagoConfirmado", unit=MetricUnit.Count, value=1)
    return {"confirmado": True, "primeraVez": first_time}


def verificar_pago(state: dict[str, Any], deps: FlowDeps | None = None) -> dict[str, Any]:
    deps = deps or default_flow_deps()
    expected = Payment.of(state["pago"])
    stored = deps.payments.get(expected.numero_factura, expected.banco if expected.carrito else None)
    if stored is None or stored.estado != CONFIRMADO or stored.numero_transaccion != expected.numero_transaccion:
        raise VerificacionFallida(f"factura {expected.numero_factura}: el pago no quedó confirmado")
    total = Decimal("0.00")
    for ref in stored.deudas:
        debt = deps.payments.get_debt_state(ref)
        if debt is None or debt.estado != EstadoDeuda.PAGADO.value or debt.pago_factura != expected.numero_factura:
            raise VerificacionFallida(f"factura {expected.numero_factura}: la deuda {ref.id_saldo} no quedó pagada")
        total += debt.monto
    if total != stored.monto or stored.monto != expected.monto:
        raise VerificacionFallida(f"factura {expected.numero_factura}: {total} pagado frente a {stored.monto}")
    metrics.add_metric(name="PagoVerificado", unit=MetricUnit.Count, value=1)
    return {"verificado": True, "monto": str(total)}


def compensar_pago(state: dict[str, Any], deps: FlowDeps | None = None) -> dict[str, Any]:
    deps = deps or default_flow_deps()
    payment = Payment.of(state["pago"])
    error = state.get("error") or {}
    motivo = f"{error.get('Error', '')}: {error.get('Cause', '')}"[:500] if error else "sin causa"
    undone = deps.payments.compensate(payment, motivo, deps.clock().isoformat())
    # every attempt publishes: a retry after a lost event finds nothing left to undo
    _publish(deps, "PaymentCompensated", payment)
    metrics.add_metric(name="PagoCompensado", unit=MetricUnit.Count, value=1)
    logger.warning(
        "payment compensated",
        extra={"numeroFactura": payment.numero_factura, "undone": undone, "error": error.get("Error")},
    )
    return {"compensado": undone}


aplicar = lambda_handler(lambda event, _ctx: aplicar_pago(event), correlation_id_path="pago.numeroFactura")
confirmar = lambda_handler(lambda event, _ctx: confirmar_pago(event), correlation_id_path="pago.numeroFactura")
verificar = lambda_handler(lambda event, _ctx: verificar_pago(event), correlation_id_path="pago.numeroFactura")
compensar = lambda_handler(lambda event, _ctx: compensar_pago(event), correlation_id_path="pago.numeroFactura")
