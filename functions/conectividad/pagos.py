"""The logic behind ejecutar-pago*, historial-pagos and verificar-pago (reversar-pago: ``reversas``).

A payment is checked here (bank, llaveAcceso, convenio, invoice, period, amount), then run through
the Express state machine (apply -> confirm -> verify, compensated on failure) under Powertools
idempotency. Data-level conditions in the ledger make a double payment impossible regardless.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from conectividad.deps import PaymentDeps, default_payment_deps
from conectividad.queries import corte_hasta
from recaudo.dates import format_ddmmyyyy, local_today
from recaudo.errors import (
    DeudorNoExiste,
    ErrorSistema,
    NoAutenticado,
    ParametrosIncorrectos,
    SinFacturasPendientes,
)
from recaudo.idempotency import EnProceso
from recaudo.models.conectividad import HistorialReply, PagoItemReply, PagoRequest, fingerprint
from recaudo.models.ledger import Convenio, Deuda, EstadoDeuda, TipoConvenio
from recaudo.models.pagos import APLICADO, CONFIRMADO, Payment
from recaudo.money import dumps
from recaudo.observability import logger


def _same_code(a: str, b: str) -> bool:
    """Bank codes come as 00152 or 152: numeric codes compare by value."""
    return str(int(a)) == str(int(b)) if a.isdigit() and b.isdigit() else a == b


def autenticar_banco(codigo_banco: str, llave: str, banco_autenticado: str | None, deps: PaymentDeps) -> str:
    """The authenticated bank's code, once the body's codigoBanco and llaveAcceso match the token's bank."""
    if not banco_autenticado or not _same_code(codigo_banco, banco_autenticado):
        raise NoAutenticado("codigoBanco no corresponde al token")
    if not deps.credentials.verify_llave(banco_autenticado, llave):
        raise NoAutenticado("llaveAcceso inválida")
    return banco_autenticado


def _reply(payment: Payment) -> str:
    if payment.carrito:
        items = [PagoItemReply(numeroFactura=payment.numero_factura, codigoRespuesta=0)]
    else:
        items = [
            PagoItemReply(
                numeroFactura=payment.numero_factura,
                codigoRespuesta=0,
                idRubro=d.id_rubro,
                descripcion=d.descripcion,
                montoPagado=d.monto,
            )
            for d in payment.deudas
        ]
    return dumps([i.model_dump(mode="python", exclude_none=True) for i in items])


def _in_convenio(d: Deuda, convenio: Convenio, today: date) -> bool:
    bound = corte_hasta(convenio.tipo, today, None)
    return (
        d.institucion == convenio.institucion
        and (not convenio.rubros or d.id_rubro in convenio.rubros)
        and (bound is None or d.fecha_corte <= bound)
    )


def _existing(req: PagoRequest, solicitud: str, deps: PaymentDeps) -> str | None:
    """A payment already stored for this invoice. The very same request (same fingerprint: bank,
    convenio, period, agency, amount, transactions) gets the first reply back, as after an expired
    idempotency record; any other request is refused."""
    payment = deps.payments.get(req.numeroFactura)
    if payment is None:
        return None
    if payment.estado == APLICADO:
        raise EnProceso("el pago de esta factura está en proceso")
    if payment.estado == CONFIRMADO and payment.solicitud == solicitud:
        logger.info("payment replayed from the ledger", extra={"numeroFactura": req.numeroFactura})
        return _reply(payment)
    if req.transacciones:
        raise ParametrosIncorrectos(f"numeroFactura {req.numeroFactura} ya fue usado por otro pago")
    raise SinFacturasPendientes(f"la factura {req.numeroFactura} ya fue pagada")


def _payable(deuda: Deuda | None, what: str, convenio: Convenio, today: date) -> Deuda:
    """A debt a payment may settle: it exists (else 5), is pending (else 3) and is in the convenio's
    selection today (else 5)."""
    if deuda is None:
        raise ParametrosIncorrectos(f"{what} no existe")
    if deuda.estado is not EstadoDeuda.PENDIENTE:
        raise SinFacturasPendientes(f"{what} ya fue pagada")
    if not _in_convenio(deuda, convenio, today):
        raise ParametrosIncorrectos(f"{what} no pertenece al convenio {convenio.codigo}")
    return deuda


def _deudas_factura(req: PagoRequest, convenio: Convenio, today: date, deps: PaymentDeps) -> list[Deuda]:
    what = f"la factura {req.numeroFactura}"
    deuda = _payable(deps.ledger.get_deuda_por_factura(req.numeroFactura), what, convenio, today)
    if req.periodo != f"{deuda.year:04d}{deuda.periodo}":
        raise ParametrosIncorrectos(
            f"periodo {req.periodo} no corresponde a la factura ({deuda.year:04d}{deuda.periodo})"
        )
    return [deuda]


def _deudas_carrito(req: PagoRequest, convenio: Convenio, today: date, deps: PaymentDeps) -> list[Deuda]:
    if not req.transacciones:
        raise ParametrosIncorrectos("transacciones: requeridas para el convenio de carrito de compras")
    if deps.ledger.get_deuda_por_factura(req.numeroFactura) is not None:
        raise ParametrosIncorrectos("numeroFactura del carrito no puede ser el número de una factura existente")
    deudas = []
    for tx in req.transacciones:
        found = deps.ledger.get_deuda_por_transaccion(
            tx.auxiliarContable, tx.numeroCuenta, tx.tipoTransaccion, tx.numeroDocumento
        )
        deuda = _payable(found, f"la transacción {tx.numeroDocumento}", convenio, today)
        if tx.numeroPersona is not None and tx.numeroPersona != deuda.numero_persona:
            raise ParametrosIncorrectos(f"numeroPersona no corresponde a la transacción {tx.numeroDocumento}")
        deudas.append(deuda)
    if len({d.identificacion for d in deudas}) != 1:
        raise ParametrosIncorrectos("las transacciones de un carrito deben ser de una misma persona")
    return deudas


def _pagar(req: PagoRequest, tipo: TipoConvenio | None, banco: str, deps: PaymentDeps) -> str:
    solicitud = fingerprint(req, tipo.value if tipo else None, banco)
    replay = _existing(req, solicitud, deps)
    if replay is not None:
        return replay
    convenio = deps.ledger.get_convenio(req.codigoConvenio)
    if convenio is None:
        raise ParametrosIncorrectos(f"codigoConvenio desconocido: {req.codigoConvenio}")
    if tipo is not None and convenio.tipo is not tipo:
        raise ParametrosIncorrectos(f"el convenio {convenio.codigo} no es de tipo {tipo.value}")
    carrito = convenio.tipo is TipoConvenio.CARRITO
    if req.transacciones and not carrito:
        raise ParametrosIncorrectos("transacciones solo aplica al convenio de carrito de compras")
    today = local_today(deps.clock, deps.time_zone)
    deudas = (_deudas_carrito if carrito else _deudas_factura)(req, convenio, today, deps)
    owed = sum((d.monto for d in deudas), Decimal("0.00"))
    if req.montoTotal != owed:
        raise ParametrosIncorrectos(f"montoTotal {req.montoTotal} no coincide con lo adeudado {owed}")

    payment = Payment(
        numero_factura=req.numeroFactura,
        numero_transaccion=deps.payments.next_transaction_number(),
        banco=banco,
        agencia=req.codigoAgencia,
        convenio=convenio.codigo,
        periodo=req.periodo,
        monto=owed,
        identificacion=deudas[0].identificacion,
        deudas=tuple(deps.payments.debt_ref(d) for d in deudas),
        carrito=carrito,
        fecha_pago=deps.clock().isoformat(),
        fecha_local=today,
        solicitud=solicitud,
    )
    outcome = deps.flow.run(
        f"pago-{req.numeroFactura}-{uuid.uuid4().hex[:12]}",
        {"pago": payment.as_dict(), "cuentaOrigen": f"Banco {banco} / Agencia {req.codigoAgencia}"},
    )
    if outcome.status == "SUCCEEDED":
        return _reply(payment)
    logger.warning("payment flow did not succeed", extra={"error": outcome.error, "numeroFactura": req.numeroFactura})
    if outcome.error == "DeudaNoPendiente":
        raise SinFacturasPendientes(f"la factura {req.numeroFactura} ya fue pagada")
    if outcome.error == "PagoExistente":
        replay = _existing(req, solicitud, deps)
        if replay is not None:
            return replay
    raise ErrorSistema("el pago no se aplicó; no se cobró nada")


def ejecutar_pago(
    req: PagoRequest,
    tipo: TipoConvenio | None,
    banco_autenticado: str | None,
    deps: PaymentDeps | None = None,
    lambda_context: Any = None,
) -> str:
    """The reply body (JSON text) of ejecutar-pago / -total / -parcial / -vencido."""
    deps = deps or default_payment_deps()
    banco = autenticar_banco(req.codigoBanco, req.llaveAcceso, banco_autenticado, deps)
    # After a reversal the invoice is pending again: paying it again is a new operation.
    reversas = len(deps.payments.reversed(req.numeroFactura))
    key = {"operacion": "pago", "banco": banco, "numeroFactura": req.numeroFactura, "reversas": reversas}
    # the bank's code is in the key, normalised; the payload must not tell 152 from 00152
    payload = req.model_dump(mode="json", exclude={"llaveAcceso", "codigoBanco"}) | {
        "tipo": tipo.value if tipo else None
    }
    return deps.idempotency.run(key, payload, lambda: _pagar(req, tipo, banco, deps), lambda_context)


# ---- history and verification ----


def historial_pagos(cedula: str, inicio: date, fin: date, deps: PaymentDeps | None = None) -> list[HistorialReply]:
    deps = deps or default_payment_deps()
    if inicio > fin:
        raise ParametrosIncorrectos("fechaInicio posterior a fechaFinal")
    if fin - inicio > timedelta(days=366):
        raise ParametrosIncorrectos("el rango no puede superar un año")
    if deps.ledger.get_persona(cedula) is None:
        raise DeudorNoExiste(cedula)
    return [
        HistorialReply(
            numeroTransaccion=entry.numero_transaccion,
            fechaPago=format_ddmmyyyy(entry.fecha_pago),
            montoPago=entry.monto_pago,
            cuentaOrigen=entry.cuenta_origen,
        )
        for entry in deps.payments.history(cedula, inicio, fin)
        if entry.estado == CONFIRMADO  # reversed payments are left out
    ]


def verificar_pago(numero_factura: int, deps: PaymentDeps | None = None) -> bool:
    """True while a confirmed, unreversed payment exists for the invoice."""
    deps = deps or default_payment_deps()
    payment = deps.payments.get(numero_factura)
    return payment is not None and payment.estado == CONFIRMADO
