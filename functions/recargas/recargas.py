"""The logic behind the CPS endpoints: signed requests, a top-up registered once and handed to its
state machine, the channel's definite answer (the outcome, or "en proceso" with the operation id),
Idempotency-Key with Stripe's semantics, balances and the catalogue."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import simplejson

from recargas.deps import AuthDeps, RecargaDeps, default_auth_deps, default_recarga_deps
from recaudo.data.recargas import Canal
from recaudo.firmas import (
    FirmaRechazada,
    Rechazo,
    candidatos_get,
    candidatos_post,
    leer_encabezados,
    verificar_firma,
    verificar_nonce,
)
from recaudo.models.recargas import (
    CATALOGO,
    ClaveDeIdempotenciaReutilizada,
    EstadoRecarga,
    MontoFueraDeLimites,
    NoAutenticado,
    OperacionInexistente,
    OperadorNoDisponible,
    PagoRecargaRequest,
    Recarga,
    RecargaReply,
    SaldoReply,
    Servicio,
    ServicioDesconocido,
    ServicioReply,
    SinConsultaDeSaldo,
    SolicitudInvalida,
)
from recaudo.money import InvalidAmount, check_money, dumps
from recaudo.observability import logger

STAGE = "cps"
# How a GET's query values were typed in the client's object (docs/decisions.md, "CPS").
QUERY_TYPES: dict[str, type[bool] | type[int] | type[str]] = {
    "canGetBalance": bool,
    "idTypeService": int,
    "numberService": str,
}
IDEMPOTENCY_KEY = "idempotency-key"


@dataclass(frozen=True)
class SolicitudFirmada:
    method: str
    path: str  # with the stage, as requestContext.path has it (/cps/v2/…)
    headers: Mapping[str, str]
    body: bytes  # exactly as received
    query: Sequence[tuple[str, str]]  # in the order received


def autenticar(solicitud: SolicitudFirmada, deps: AuthDeps | None = None) -> Canal:
    """The channel that signed this request, or NoAutenticado naming the check that failed."""
    deps = deps or default_auth_deps()
    try:
        encabezados = leer_encabezados(solicitud.headers)
        canal = deps.canales.get(encabezados.api_key)
        if canal is None or not canal.activo:
            raise FirmaRechazada(Rechazo.CANAL_DESCONOCIDO)
        now = deps.clock()
        verificar_nonce(encabezados.nonce_ms, int(now.timestamp() * 1000), deps.ventana_nonce_ms)
        clave = deps.claves.clave(canal.api_key, canal.version, canal.clave_cifrada)
        if solicitud.method == "GET":
            candidatos = candidatos_get(solicitud.path, STAGE, encabezados.nonce, solicitud.query, QUERY_TYPES)
        else:
            candidatos = candidatos_post(solicitud.path, STAGE, encabezados.nonce, solicitud.body)
        verificar_firma(clave, encabezados.firma, candidatos)
        ttl = 2 * deps.ventana_nonce_ms // 1000 + 60  # outlives the window: a replay is always caught
        if not deps.una_vez.claim_nonce(canal.api_key, encabezados.nonce, ttl, now):
            raise FirmaRechazada(Rechazo.NONCE_REPETIDO)
    except FirmaRechazada as refused:
        raise NoAutenticado(refused.motivo.value) from None
    return canal


# ---- the catalogue ----


def servicios(solicitud: SolicitudFirmada, can_get_balance: bool, deps: AuthDeps | None = None) -> list[ServicioReply]:
    autenticar(solicitud, deps)
    return [
        ServicioReply(
            idTypeService=s.id,
            name=s.nombre,
            canGetBalance=s.puede_consultar_saldo,
            minAmount=s.monto_minimo,
            maxAmount=s.monto_maximo,
        )
        for s in CATALOGO.values()
        if s.puede_consultar_saldo or not can_get_balance
    ]


def _servicio(id_type_service: int) -> Servicio:
    servicio = CATALOGO.get(id_type_service)
    if servicio is None:
        raise ServicioDesconocido(
            f"idTypeService {id_type_service} no está en el catálogo (GET /cps/v2/list/basic_services)"
        )
    return servicio


# ---- balance ----


def saldo(
    solicitud: SolicitudFirmada, number_service: str, id_type_service: int, deps: RecargaDeps | None = None
) -> SaldoReply:
    deps = deps or default_recarga_deps()
    autenticar(solicitud, deps.auth)
    servicio = _servicio(id_type_service)
    if not servicio.puede_consultar_saldo:
        raise SinConsultaDeSaldo(f"{servicio.nombre} no permite consultar saldo (canGetBalance=false)")
    try:
        balance = deps.operador.saldo(servicio.producto, number_service)
    except Exception as exc:
        raise OperadorNoDisponible("el operador no respondió la consulta de saldo; reintente") from exc
    if balance is None:
        raise SolicitudInvalida(f"el operador no reconoce el número {number_service} para {servicio.nombre}")
    return SaldoReply(numberService=number_service, idTypeService=servicio.id, balance=balance)


# ---- pay ----


def _strict_json(body: bytes) -> Any:
    """UTF-8 JSON, fractions as Decimal, and a key given twice refused (which one would count?)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key")
        return dict(items)

    return simplejson.loads(body.decode("utf-8"), use_decimal=True, object_pairs_hook=pairs)


def parse_pago(body: bytes) -> PagoRecargaRequest:
    """The body, strictly: a JSON object; numberService a string (its leading zero is data);
    idTypeService an integer; amount a number with at most two decimals."""
    try:
        data = _strict_json(body) if body.strip() else None
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise SolicitudInvalida("el cuerpo no es JSON válido (UTF-8, sin claves repetidas)") from None
    if not isinstance(data, dict):
        raise SolicitudInvalida("el cuerpo debe ser un objeto JSON")
    unknown = set(data) - {"numberService", "idTypeService", "amount"}
    if unknown:
        raise SolicitudInvalida(f"campos desconocidos: {', '.join(sorted(unknown))}")
    number, type_id, amount = data.get("numberService"), data.get("idTypeService"), data.get("amount")
    if not isinstance(number, str):
        raise SolicitudInvalida("numberService debe ser un texto (conserva los ceros a la izquierda)")
    if isinstance(type_id, bool) or not isinstance(type_id, int):
        raise SolicitudInvalida("idTypeService debe ser un entero del catálogo")
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
        raise SolicitudInvalida("amount debe ser un número")
    try:
        money = check_money(Decimal(amount))
    except InvalidAmount:
        raise SolicitudInvalida("amount debe tener como máximo dos decimales") from None
    try:
        return PagoRecargaRequest(numberService=number, idTypeService=type_id, amount=money)
    except ValueError as exc:
        raise SolicitudInvalida(f"solicitud inválida: {str(exc).splitlines()[0]}") from None


def _reply(r: Recarga) -> RecargaReply:
    return RecargaReply(
        idOperacion=r.id,
        estado=r.estado,
        numberService=r.numero,
        idTypeService=r.servicio,
        amount=r.monto,
        autorizacion=r.autorizacion or None,
        motivo=r.motivo,
        consultar=f"/{STAGE}/v2/operation/{r.id}",
    )


@dataclass(frozen=True)
class Respuesta:
    status: int
    reply: RecargaReply | None = None
    raw: str | None = None  # a replayed first reply, byte for byte

    @property
    def body(self) -> str:
        """The exact text sent: a replay is the first reply's text; otherwise the reply, amounts exact."""
        if self.raw is not None:
            return self.raw
        assert self.reply is not None
        return dumps(self.reply.model_dump(mode="python", exclude_none=True))


def pagar(solicitud: SolicitudFirmada, deps: RecargaDeps | None = None) -> Respuesta:
    deps = deps or default_recarga_deps()
    canal = autenticar(solicitud, deps.auth)
    pedido = parse_pago(solicitud.body)
    servicio = _servicio(pedido.idTypeService)
    if not servicio.monto_minimo <= pedido.amount <= servicio.monto_maximo:
        raise MontoFueraDeLimites(
            f"{servicio.nombre} acepta montos entre {servicio.monto_minimo} y {servicio.monto_maximo}"
        )
    now = deps.clock()
    operacion = f"rc{uuid.uuid4().hex}"
    key = next((v for k, v in solicitud.headers.items() if k.lower() == IDEMPOTENCY_KEY), None)
    if key is not None:
        if not 1 <= len(key) <= 255:
            raise SolicitudInvalida("Idempotency-Key debe tener entre 1 y 255 caracteres")
        huella = hashlib.sha256(solicitud.body).hexdigest()
        owner = deps.una_vez.claim_key(canal.api_key, key, huella, operacion, deps.idempotencia_segundos, now)
        if owner is not None:
            return _repeticion(owner, huella, canal, deps)
    recarga = Recarga(
        id=operacion,
        canal=canal.api_key,
        servicio=servicio.id,
        numero=pedido.numberService,
        monto=pedido.amount,
        estado=EstadoRecarga.PENDIENTE,
        creada=now,
        expira=now + timedelta(seconds=60),
    )
    try:
        deps.recargas.put_new(recarga)
    except Exception:
        if key is not None:  # nothing registered: the key must not point at an operation that never was
            deps.una_vez.release_key(canal.api_key, key, operacion)
        raise
    if not _iniciar(operacion, deps):
        # never started, so never sent: refusing it is safe; if a start did go through, its first
        # task finds the operation final and sends nothing
        deps.recargas.fail(operacion, "no se pudo iniciar la recarga; no se envió al operador", deps.clock())
    try:
        final = _esperar(operacion, deps)
    except Exception:  # noqa: BLE001 - it is registered and running: "en proceso", with its id, not an error
        logger.exception("could not read the operation back", extra={"operacion": operacion})
        final = recarga
    respuesta = Respuesta(200 if final.estado.final else 202, _reply(final))
    if key is not None and respuesta.status == 200:  # a final reply is replayed as sent
        assert respuesta.reply is not None
        try:
            deps.una_vez.save_reply(canal.api_key, key, respuesta.status, respuesta.body)
        except Exception:  # noqa: BLE001 - the top-up happened: answer it; a retry gets its state anyway
            logger.exception("could not save the reply for its Idempotency-Key", extra={"operacion": operacion})
    return respuesta


def _iniciar(operacion: str, deps: RecargaDeps, attempts: int = 3) -> bool:
    """StartExecution named after the operation: repeating it starts nothing new, so it is retried."""
    for attempt in range(attempts):
        try:
            deps.flujo.start(operacion, {"id": operacion})
            return True
        except Exception:  # noqa: BLE001 - throttling, a network fault: try again, then give up cleanly
            logger.warning("state machine start failed", extra={"operacion": operacion, "intento": attempt + 1})
            deps.sleep(0.2 * 2**attempt)
    return False


def _esperar(operacion: str, deps: RecargaDeps) -> Recarga:
    """The operation once final, or as it stands when the wait is over (still PENDIENTE)."""
    deadline = deps.clock() + timedelta(seconds=deps.espera_segundos)
    pause = 0.05
    while True:
        current = deps.recargas.get(operacion)
        assert current is not None
        if current.estado.final or deps.clock() >= deadline:
            return current
        deps.sleep(pause)
        pause = min(pause * 1.5, 0.5)


def _repeticion(owner: Mapping[str, Any], huella: str, canal: Canal, deps: RecargaDeps) -> Respuesta:
    if owner.get("huella") != huella:
        raise ClaveDeIdempotenciaReutilizada("esta Idempotency-Key ya se usó con otra solicitud")
    if owner.get("respuesta"):
        return Respuesta(int(owner["respuestaEstado"]), raw=str(owner["respuesta"]))
    operacion = deps.recargas.get(str(owner.get("operacion")))
    if operacion is None:  # the first request is still registering it
        raise SolicitudInvalida("una solicitud con esta Idempotency-Key está en curso; consulte en unos segundos")
    return Respuesta(200 if operacion.estado.final else 409, _reply(operacion))


# ---- our extension: an operation's state ----


def consultar(solicitud: SolicitudFirmada, operacion: str, deps: RecargaDeps | None = None) -> Respuesta:
    deps = deps or default_recarga_deps()
    canal = autenticar(solicitud, deps.auth)
    recarga = deps.recargas.get(operacion) if operacion.isalnum() and len(operacion) <= 64 else None
    if recarga is None or recarga.canal != canal.api_key:  # another channel's operation does not exist
        raise OperacionInexistente(f"no existe la operación {operacion[:64]} para este canal")
    return Respuesta(200 if recarga.estado.final else 202, _reply(recarga))
