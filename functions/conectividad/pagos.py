"""The logic behind ejecutar-pago*, historial-pagos and verificar-pago (reversar-pago: ``reversas``).

A payment is checked here (token, bank, llaveAcceso, convenio, invoice, period, amount), then run
through the Express state machine (apply -> confirm -> verify, compensated on failure). The ledger's
conditional writes make a second payment impossible: one per invoice (or bank's cart), and one per
bank request (its Idempotency-Key, or its fingerprint), also after a reversal.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NoReturn

from conectividad.deps import PaymentDeps, default_payment_deps
from conectividad.queries import corte_hasta
from recaudo.dates import format_ddmmyyyy, local_today
from recaudo.emf import MetricUnit
from recaudo.errors import (
    DeudorNoExiste,
    ErrorSistema,
    NoAutenticado,
    ParametrosIncorrectos,
    SinFacturasPendientes,
)
from recaudo.idempotency import EnCurso, EnProceso
from recaudo.models.conectividad import HistorialReply, PagoItemReply, PagoRequest, fingerprint
from recaudo.models.ledger import Convenio, Deuda, EstadoDeuda, TipoConvenio
from recaudo.models.pagos import APLICADO, COMPENSADO, CONFIRMADO, Payment, Solicitud
from recaudo.money import dumps
from recaudo.observability import logger, metrics


def _same_code(a: str, b: str) -> bool:
    """Bank codes come as 00152 or 152: numeric codes compare by value."""
    return str(int(a)) == str(int(b)) if a.isdigit() and b.isdigit() else a == b


def autenticar_banco(
    codigo_banco: str, llave: str, banco_autenticado: str | None, deps: PaymentDeps, key_id: str | None = None
) -> str:
    """The authenticated bank's code, once the body's codigoBanco and llaveAcceso match the token's bank.
    Money moves only with a token that is active now: the authorizer's cached answer is not enough."""
    if not banco_autenticado or not _same_code(codigo_banco, banco_autenticado):
        raise NoAutenticado("codigoBanco no corresponde al token")
    if key_id is not None and not deps.credentials.token_activo(key_id, banco_autenticado):
        raise NoAutenticado("el token fue revocado")
    if not deps.credentials.verify_llave(banco_autenticado, llave, deps.clock()):
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


def identidad(clave: str | None, solicitud: str) -> str:
    """A request's identity: its Idempotency-Key (hashed: never stored as sent), else its fingerprint."""
    import hashlib

    return f"K:{hashlib.sha256(clave.encode()).hexdigest()}" if clave else f"F:{solicitud}"


def _por_solicitud(solicitud: Solicitud, deps: PaymentDeps) -> str | None:
    """The answer for a request that already made a payment: its first reply while the payment stands,
    "en proceso" while it is being applied, a refusal once it was reversed. None when that payment was
    compensated (nothing was charged), so the request may pay now."""
    made = next(
        (p for p in deps.payments.all_of(solicitud.pago_pk) if p.numero_transaccion == solicitud.numero_transaccion),
        None,
    )
    if made is None or made.estado == COMPENSADO:
        return None
    if made.estado == APLICADO:
        raise EnProceso(f"el pago de la factura {made.numero_factura} se está aplicando; reintente en unos segundos")
    if made.estado == CONFIRMADO:
        logger.info("payment replayed from the ledger", extra={"numeroFactura": made.numero_factura})
        return _reply(made)
    raise ParametrosIncorrectos(
        f"esta solicitud ya pagó la factura {made.numero_factura} (transacción {made.numero_transaccion}) y ese "
        "pago fue reversado; para pagar de nuevo envíe un Idempotency-Key nuevo"
    )


def _ya_pagada(req: PagoRequest, current: Payment) -> NoReturn:
    if current.estado == APLICADO:
        raise EnProceso(f"el pago de la factura {req.numeroFactura} se está aplicando; reintente en unos segundos")
    if current.carrito:
        raise ParametrosIncorrectos(f"numeroFactura {req.numeroFactura} ya fue usado por otro pago de carrito")
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
    deudas: list[Deuda] = []
    for tx in req.transacciones:
        found = deps.ledger.get_deuda_por_transaccion(
            tx.auxiliarContable, tx.numeroCuenta, tx.tipoTransaccion, tx.numeroDocumento
        )
        deuda = _payable(found, f"la transacción {tx.numeroDocumento}", convenio, today)
        if tx.numeroPersona is not None and tx.numeroPersona != deuda.numero_persona:
            raise ParametrosIncorrectos(f"numeroPersona no corresponde a la transacción {tx.numeroDocumento}")
        ref = deps.payments.debt_ref(deuda)
        if any((r.pk, r.sk) == (ref.pk, ref.sk) for r in map(deps.payments.debt_ref, deudas)):  # its key
            raise ParametrosIncorrectos(f"la transacción {tx.numeroDocumento} repite una deuda del carrito")
        deudas.append(deuda)
    if len({d.identificacion for d in deudas}) != 1:
        raise ParametrosIncorrectos("las transacciones de un carrito deben ser de una misma persona")
    return deudas


def _pagar(req: PagoRequest, tipo: TipoConvenio | None, banco: str, clave: str | None, deps: PaymentDeps) -> str:
    solicitud = fingerprint(req, tipo.value if tipo else None, banco)
    ident = identidad(clave, solicitud)
    convenio = deps.ledger.get_convenio(req.codigoConvenio)
    if convenio is None:
        raise ParametrosIncorrectos(f"codigoConvenio desconocido: {req.codigoConvenio}")
    if tipo is not None and convenio.tipo is not tipo:
        raise ParametrosIncorrectos(f"el convenio {convenio.codigo} no es de tipo {tipo.value}")
    carrito = convenio.tipo is TipoConvenio.CARRITO
    if req.transacciones and not carrito:
        raise ParametrosIncorrectos("transacciones solo aplica al convenio de carrito de compras")

    replay, previa = _lo_que_hizo(req, banco, ident, solicitud, carrito, deps)
    if replay is not None:
        return replay

    today = local_today(deps.clock, deps.time_zone)
    try:
        deudas = (_deudas_carrito if carrito else _deudas_factura)(req, convenio, today, deps)
    except SinFacturasPendientes:
        # A twin of this very request may have applied between our check and this read: answer as
        # it stands (409 or its reply), not "ya fue pagada" to the request that paid it.
        replay, _ = _lo_que_hizo(req, banco, ident, solicitud, carrito, deps)
        if replay is not None:
            return replay
        raise
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
        identidad=ident,
        identidad_previa=previa,
        # a keyed payment claims its body's keyless identity only while no payment holds it
        reclamar_huella=clave is not None and deps.payments.solicitud(banco, f"F:{solicitud}") is None,
    )
    outcome = deps.flow.run(
        f"pago-{req.numeroFactura}-{uuid.uuid4().hex[:12]}",
        {"pago": payment.as_dict(), "cuentaOrigen": f"Banco {banco} / Agencia {req.codigoAgencia}"},
    )
    if outcome.status == "SUCCEEDED":
        return _reply(payment)
    return _sin_exito(req, payment, outcome.status, outcome.error, deps)


def _lo_que_hizo(
    req: PagoRequest, banco: str, ident: str, solicitud: str, carrito: bool, deps: PaymentDeps
) -> tuple[str | None, int | None]:
    """What this request (or the invoice) already has: the first reply to replay, or a refusal /
    "en proceso" raised; else (None, the compensated transaction whose identity item it may take)."""
    previa: int | None = None
    hecha = deps.payments.solicitud(banco, ident)
    if hecha is not None:
        if hecha.huella != solicitud:
            raise ParametrosIncorrectos("el Idempotency-Key ya se usó con otra solicitud")
        replay = _por_solicitud(hecha, deps)
        if replay is not None:
            return replay, None
        previa = hecha.numero_transaccion  # its payment was compensated: this request may pay
    current = deps.payments.get(req.numeroFactura, banco if carrito else None)
    if current is not None:
        _ya_pagada(req, current)
    return None, previa


def _sin_exito(req: PagoRequest, payment: Payment, status: str, error: str | None, deps: PaymentDeps) -> str:
    """The answer when the flow did not succeed: a refusal only when nothing was charged, "en proceso"
    whenever the outcome is not known yet, never "error" for a payment that went through."""
    logger.warning(
        "payment flow did not succeed", extra={"status": status, "error": error, "numeroFactura": req.numeroFactura}
    )
    en_curso = EnCurso(
        f"el resultado del pago de la factura {req.numeroFactura} aún no es definitivo; consulte verificar-pago "
        "o reenvíe la misma solicitud: nunca se cobrará dos veces"
    )
    if error == "DeudaNoPendiente":  # paid meanwhile: by a twin of this request (its answer) or by another
        hecha = deps.payments.solicitud(payment.banco, payment.identidad)
        if hecha is not None and hecha.numero_transaccion != payment.identidad_previa:
            replay = _por_solicitud(hecha, deps)
            if replay is not None:
                return replay
        raise SinFacturasPendientes(f"la factura {req.numeroFactura} ya fue pagada")
    if error == "NumeroNoDisponible":
        raise ParametrosIncorrectos("numeroFactura del carrito no puede ser el número de una factura existente")
    if error in ("PagoExistente", "SolicitudRepetida"):  # a concurrent request won: answer as it stands now
        hecha = deps.payments.solicitud(payment.banco, payment.identidad)
        if hecha is not None and hecha.numero_transaccion != payment.identidad_previa:
            replay = _por_solicitud(hecha, deps)
            if replay is not None:
                return replay
        current = deps.payments.get(req.numeroFactura, payment.banco if payment.carrito else None)
        if current is not None:
            _ya_pagada(req, current)
        raise en_curso
    if error == "PagoCompensado":  # compensation succeeded: nothing was charged
        raise ErrorSistema("el pago no se aplicó y se deshizo; no se cobró nada; puede reintentarlo")
    if error == "CompensacionFallida":
        metrics.add_metric(name="CompensacionFallida", unit=MetricUnit.Count, value=1)
        raise en_curso
    stored = deps.payments.get(req.numeroFactura, payment.banco if payment.carrito else None)
    if status == "DESCONOCIDO" or (stored is not None and stored.numero_transaccion == payment.numero_transaccion):
        raise en_curso  # still running, timed out after applying, or our wait ran out
    raise ErrorSistema("el pago no se aplicó; no se cobró nada")


def ejecutar_pago(
    req: PagoRequest,
    tipo: TipoConvenio | None,
    banco_autenticado: str | None,
    deps: PaymentDeps | None = None,
    lambda_context: Any = None,
    clave: str | None = None,
    key_id: str | None = None,
) -> str:
    """The reply body (JSON text) of ejecutar-pago / -total / -parcial / -vencido. ``clave`` is the
    bank's Idempotency-Key; without one, the request's fingerprint is its identity."""
    deps = deps or default_payment_deps()
    banco = autenticar_banco(req.codigoBanco, req.llaveAcceso, banco_autenticado, deps, key_id)
    # No cache in front: the ledger's SOLICITUD# item is the request's memory. A cached first reply
    # would go stale the moment the payment is reversed (docs/decisions.md).
    return _pagar(req, tipo, banco, clave, deps)


# ---- history and verification ----


def historial_pagos(
    cedula: str, inicio: date, fin: date, banco: str | None, deps: PaymentDeps | None = None
) -> list[HistorialReply]:
    """The person's confirmed payments that this bank made: a bank never sees another bank's."""
    deps = deps or default_payment_deps()
    if not banco:
        raise NoAutenticado("token sin banco")
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
        if entry.estado == CONFIRMADO and _same_code(entry.banco or "", banco)  # reversed ones are left out
    ]


def verificar_pago(numero_factura: int, banco: str | None, deps: PaymentDeps | None = None) -> str | None:
    """The state of this bank's payment of the invoice (or of its cart with that receipt number):
    CONFIRMADO, APLICADO (being applied), or None. Another bank's payment is None, as if absent."""
    deps = deps or default_payment_deps()
    if not banco:
        raise NoAutenticado("token sin banco")
    for payment in (deps.payments.get(numero_factura), deps.payments.get(numero_factura, banco)):
        if payment is not None and payment.banco == banco:
            return payment.estado
    return None
