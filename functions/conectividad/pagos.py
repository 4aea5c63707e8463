"""The logic behind ejecutar-pago*, reversar-pago, historial-pagos and verificar-pago.

A payment is checked here (bank, llaveAcceso, convenio, invoice, period, amount), then run through
the Express state machine (apply -> confirm -> verify, compensated on failure) under Powertools
idempotency. Data-level conditions in the ledger make a double payment impossible regardless.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Protocol

from conectividad.queries import corte_hasta
from recaudo.data.ledger import deuda_key
from recaudo.data.payments import APLICADO, CONFIRMADO, DebtRef, PagoInexistente, Payment
from recaudo.dates import Clock, format_ddmmyyyy, local_today, utc_now
from recaudo.errors import (
    DeudorNoExiste,
    ErrorSistema,
    NoAutenticado,
    ParametrosIncorrectos,
    SinFacturasPendientes,
)
from recaudo.events import EventPublisher, PublishFailed
from recaudo.idempotency import EnProceso
from recaudo.models.conectividad import HistorialReply, PagoItemReply, PagoRequest, ReversaRequest, fingerprint
from recaudo.models.ledger import Convenio, Deuda, EstadoDeuda, TipoConvenio
from recaudo.money import dumps
from recaudo.observability import logger
from recaudo.stepfunctions import FlowOutcome


class Flow(Protocol):
    def run(self, name: str, payload: dict[str, Any]) -> FlowOutcome: ...


class Guard(Protocol):
    def run(self, key: dict[str, Any], payload: dict[str, Any], fn: Any, lambda_context: Any = None) -> Any: ...


@dataclass(frozen=True)
class PaymentDeps:
    ledger: Any
    payments: Any
    credentials: Any
    flow: Flow
    idempotency: Guard
    events: EventPublisher
    time_zone: str
    clock: Clock = utc_now


@cache
def default_deps() -> PaymentDeps:
    from recaudo.aws import client
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
        flow=SyncStateMachine(client("stepfunctions"), s.state_machine_arn),
        idempotency=IdempotencyGuard(s.idempotency_table, s.idempotency_seconds, ddb),
        events=EventBridgePublisher(client("events"), s.event_bus_name, "recaudo.conectividad"),
        time_zone=s.time_zone,
    )


def _same_code(a: str, b: str) -> bool:
    """Bank codes come as 00152 or 152: numeric codes compare by value."""
    return str(int(a)) == str(int(b)) if a.isdigit() and b.isdigit() else a == b


def _autenticar(codigo_banco: str, llave: str, banco_autenticado: str | None, deps: PaymentDeps) -> str:
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


def _ref(d: Deuda) -> DebtRef:
    pk, sk = deuda_key(d)
    return DebtRef(pk, sk, d.version, d.id_saldo, d.id_rubro, d.descripcion, d.monto)


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
        deudas=tuple(_ref(d) for d in deudas),
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
    deps = deps or default_deps()
    banco = _autenticar(req.codigoBanco, req.llaveAcceso, banco_autenticado, deps)
    # After a reversal the invoice is pending again: paying it again is a new operation.
    reversas = len(deps.payments.reversed(req.numeroFactura))
    key = {"operacion": "pago", "banco": banco, "numeroFactura": req.numeroFactura, "reversas": reversas}
    # the bank's code is in the key, normalised; the payload must not tell 152 from 00152
    payload = req.model_dump(mode="json", exclude={"llaveAcceso", "codigoBanco"}) | {
        "tipo": tipo.value if tipo else None
    }
    return deps.idempotency.run(key, payload, lambda: _pagar(req, tipo, banco, deps), lambda_context)


# ---- reversal ----


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
    if payment.banco != banco:
        raise NoAutenticado("el pago fue registrado por otro banco")
    if payment.convenio != req.codigoConvenio or payment.periodo != req.periodo:
        raise ParametrosIncorrectos(
            f"el pago de la factura {req.numeroFactura} no es del convenio {req.codigoConvenio} y periodo {req.periodo}"
        )
    if payment.estado == APLICADO:
        raise EnProceso("el pago de esta factura está en proceso")
    try:
        deps.payments.reverse(payment, deps.clock().isoformat())
    except PagoInexistente:
        earlier = _ya_reversado(req, banco, deps.payments.reversed(req.numeroFactura))  # fresh: a race was lost
        if earlier is None:  # not reversed by a concurrent call either
            raise
        _publish_reversal(earlier, deps)
        return {"reversa": "previa"}
    _publish_reversal(payment, deps)
    return {"reversa": "aplicada"}


def reversar_pago(
    req: ReversaRequest, banco_autenticado: str | None, deps: PaymentDeps | None = None, lambda_context: Any = None
) -> str:
    """``aplicada`` when this call reversed the payment, ``previa`` when it already was (a replay or a
    second reversal): both are the documented ``0``, and nothing changes the second time."""
    deps = deps or default_deps()
    banco = _autenticar(req.codigoBanco, req.llaveAcceso, banco_autenticado, deps)
    # The key names the payment being reversed: after pay -> reverse -> pay again, a new reversal
    # must reverse the new payment, not replay the first reversal.
    current = deps.payments.get(req.numeroFactura)
    earlier = deps.payments.reversed(req.numeroFactura)
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


# ---- history and verification ----


def historial_pagos(cedula: str, inicio: date, fin: date, deps: PaymentDeps | None = None) -> list[HistorialReply]:
    deps = deps or default_deps()
    if inicio > fin:
        raise ParametrosIncorrectos("fechaInicio posterior a fechaFinal")
    if fin - inicio > timedelta(days=366):
        raise ParametrosIncorrectos("el rango no puede superar un año")
    if deps.ledger.get_persona(cedula) is None:
        raise DeudorNoExiste(cedula)
    return [
        HistorialReply(
            numeroTransaccion=int(item["numeroTransaccion"]),
            fechaPago=format_ddmmyyyy(date.fromisoformat(item["fechaPago"])),
            montoPago=Decimal(item["montoPago"]),
            cuentaOrigen=item["cuentaOrigen"],
        )
        for item in deps.payments.history(cedula, inicio, fin)
        if item.get("estado") == CONFIRMADO
    ]


def verificar_pago(numero_factura: int, deps: PaymentDeps | None = None) -> bool:
    """True while a confirmed, unreversed payment exists for the invoice."""
    deps = deps or default_deps()
    payment = deps.payments.get(numero_factura)
    return payment is not None and payment.estado == CONFIRMADO
