"""The sweeper: a schedule that settles payments left APLICADO by a flow that never finished (its
Express execution timed out, or compensation failed).

A payment older than ``PAYMENT_SWEEP_AFTER_SECONDS`` (longer than the state machine's own limit, so
no execution can still be working on it) is driven forward, as the bank asked: confirmed, verified,
and compensated only if verification fails. Every step is the flow's own task, with the same
conditional writes, so a sweeper racing a late execution changes nothing twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conectividad import flujo
from conectividad.deps import FlowDeps, default_flow_deps
from recaudo.emf import MetricUnit
from recaudo.models.pagos import PaymentError, VerificacionFallida
from recaudo.observability import lambda_handler, logger, metrics


def barrer(after_seconds: int, limite: int = 100, deps: FlowDeps | None = None) -> dict[str, int]:
    deps = deps or default_flow_deps()
    antes_de = (deps.clock() - timedelta(seconds=after_seconds)).isoformat()
    atascados = deps.payments.atascados(antes_de, limite)
    metrics.add_metric(name="PagosAtascados", unit=MetricUnit.Count, value=len(atascados))
    resumen = {"atascados": len(atascados), "confirmados": 0, "compensados": 0, "fallidos": 0}
    for payment in atascados:
        state: dict[str, Any] = {
            "pago": payment.as_dict(),
            "cuentaOrigen": f"Banco {payment.banco} / Agencia {payment.agencia}",
        }
        try:
            flujo.confirmar_pago(state, deps)
            try:
                flujo.verificar_pago(state, deps)
            except VerificacionFallida as exc:
                state["error"] = {"Error": "VerificacionFallida", "Cause": str(exc)}
                flujo.compensar_pago(state, deps)
                resumen["compensados"] += 1
                continue
            resumen["confirmados"] += 1
        except PaymentError as exc:  # a late execution got there first, or DynamoDB was busy: next run
            resumen["fallidos"] += 1
            logger.warning(
                "sweeper could not settle a payment",
                extra={"numeroFactura": payment.numero_factura, "error": type(exc).__name__},
            )
    if resumen["fallidos"]:
        metrics.add_metric(name="BarridoFallido", unit=MetricUnit.Count, value=resumen["fallidos"])
    logger.info("sweep done", extra=resumen)
    return resumen


def _handler(event: dict[str, Any], _context: Any) -> dict[str, int]:
    from recaudo.settings import SweepSettings, load

    s = load(SweepSettings)
    return barrer(s.sweep_after_seconds, s.sweep_limit)


handler = lambda_handler(_handler)
