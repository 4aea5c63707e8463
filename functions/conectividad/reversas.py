"""The logic behind reversar-pago: atomic and idempotent; reversing twice changes nothing the second
time and is not an error (docs/decisions.md, "Reversal")."""

from __future__ import annotations

from typing import Any

from conectividad.deps import PaymentDeps, default_payment_deps
from conectividad.pagos import autenticar_banco
from recaudo.dates import format_ddmmyyyy, local_today
from recaudo.errors import ErrorSistema, ParametrosIncorrectos
from recaudo.events import PublishFailed
from recaudo.idempotency import EnProceso
from recaudo.models.conectividad import ReversaRequest
from recaudo.models.ledger import TipoConvenio
from recaudo.models.pagos import APLICADO, PagoInexistente, Payment


def _ya_reversado(req: ReversaRequest, banco: str, reversed_payments: list[Payment]) -> Payment | None:
    matches = [p for p in reversed_payments if p.banco == banco and p.convenio == req.codigoConvenio]
    return matches[-1] if matches else None


def _publish_reversal(payment: Payment, deps: PaymentDeps) -> None:
    """At least once: also on a repeated reversal, in case the first one's event was lost."""
    detail = {
        "numeroFactura": payment.numero_factura,
        "numeroTransaccion": payment.numero_transaccion,
        "banco": payment.banco,
        "monto": str(payment.monto),
    }
    try:
        deps.events.publish("PaymentReversed", detail)
    except PublishFailed as exc:
        raise ErrorSistema("la reversa se aplicó pero su evento no se publicó; reintente") from exc


def _reversar(
    req: ReversaRequest, banco: str, payment: Payment | None, reversed_before: list[Payment], deps: PaymentDeps
) -> dict[str, Any]:
    """``payment`` and ``reversed_before`` were just read to build the idempotency key; the
    reversal's own conditions guard against anything that changed since."""
    if payment is None:
        earlier = _ya_reversado(req, banco, reversed_before)
        if earlier is None:
            raise ParametrosIncorrectos(f"no existe un pago para la factura {req.numeroFactura}")
        _publish_reversal(earlier, deps)
        return {"reversa": "previa"}
    if payment.banco != banco:  # as if absent: a bank learns nothing about another bank's payments
        raise ParametrosIncorrectos(f"no existe un pago de este banco para la factura {req.numeroFactura}")
    if payment.convenio != req.codigoConvenio or payment.periodo != req.periodo:
        raise ParametrosIncorrectos(
            f"el pago de la factura {req.numeroFactura} no es del convenio {req.codigoConvenio} y periodo {req.periodo}"
        )
    if payment.estado == APLICADO:
        raise EnProceso("el pago de esta factura se está aplicando; reintente en unos segundos")
    today = local_today(deps.clock, deps.time_zone)
    if payment.fecha_local != today:
        raise ParametrosIncorrectos(
            f"fuera de la ventana de reversa: un pago se reversa el mismo día de su aplicación "
            f"({format_ddmmyyyy(payment.fecha_local)}, hora de {deps.time_zone}); hoy es {format_ddmmyyyy(today)}"
        )
    try:
        deps.payments.reverse(payment, deps.clock().isoformat())
    except PagoInexistente:
        fresh = deps.payments.reversed(req.numeroFactura, banco if payment.carrito else None)  # a race was lost
        earlier = _ya_reversado(req, banco, fresh)
        if earlier is None:  # not reversed by a concurrent call either
            raise
        _publish_reversal(earlier, deps)
        return {"reversa": "previa"}
    _publish_reversal(payment, deps)
    return {"reversa": "aplicada"}


def reversar_pago(
    req: ReversaRequest,
    banco_autenticado: str | None,
    deps: PaymentDeps | None = None,
    lambda_context: Any = None,
    key_id: str | None = None,
) -> str:
    """``aplicada`` when this call reversed the payment, ``previa`` when it already was (a replay or a
    second reversal): both are the documented ``0``, and nothing changes the second time."""
    deps = deps or default_payment_deps()
    banco = autenticar_banco(req.codigoBanco, req.llaveAcceso, banco_autenticado, deps, key_id)
    convenio = deps.ledger.get_convenio(req.codigoConvenio)
    if convenio is None:
        raise ParametrosIncorrectos(f"codigoConvenio desconocido: {req.codigoConvenio}")
    carrito = banco if convenio.tipo is TipoConvenio.CARRITO else None  # a cart lives under the bank's number
    # The key names the payment being reversed: after pay -> reverse -> pay again, a new reversal
    # must reverse the new payment, not replay the first reversal.
    current = deps.payments.get(req.numeroFactura, carrito)
    earlier = deps.payments.reversed(req.numeroFactura, carrito)
    transaccion = current.numero_transaccion if current else (earlier[-1].numero_transaccion if earlier else 0)
    key = {"operacion": "reversa", "banco": banco, "numeroFactura": req.numeroFactura, "transaccion": transaccion}
    payload = req.model_dump(mode="json", exclude={"llaveAcceso", "codigoBanco"})
    ran: list[str] = []

    def reverse_once() -> dict[str, Any]:
        result = _reversar(req, banco, current, earlier, deps)
        ran.append(result["reversa"])
        return result

    try:
        deps.idempotency.run(key, payload, reverse_once, lambda_context)
    except PagoInexistente as exc:
        raise ParametrosIncorrectos(str(exc)) from exc
    return ran[0] if ran else "previa"
