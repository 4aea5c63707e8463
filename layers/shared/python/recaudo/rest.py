"""The Conectividad REST resolver: validation on, errors mapped to return codes in one place, and
replies serialised with exact Decimal amounts."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Callable
from enum import StrEnum
from functools import cache
from typing import Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.json_schema import SkipJsonSchema

from recaudo.errors import CodigoRespuesta, ConectividadError, ParametrosIncorrectos, error_body
from recaudo.money import dumps, loads
from recaudo.observability import logger

# The resolver logs every route's arguments at DEBUG: llaveAcceso, the integrator hash. Never.
logging.getLogger("aws_lambda_powertools.event_handler.api_gateway").setLevel(logging.INFO)


class ErrorShape(StrEnum):
    """How an endpoint's refusals travel: in the shape of its own documented success
    (docs/decisions.md, "Conectividad: error shapes")."""

    OBJECT = "object"  # {"codigoRespuesta", "descripcion"}: the queries, historial-pagos, verificar-pago
    ARRAY = "array"  # ejecutar-pago*: [{"numeroFactura", "codigoRespuesta", "descripcion"}], like its success
    CODE = "code"  # reversar-pago: the bare code (5, 4, 1), like its success (0)


class PagoErrorItem(BaseModel):
    """Rechazo de ejecutar-pago*: el arreglo de la respuesta correcta, con codigoRespuesta distinto de 0."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    numeroFactura: int | SkipJsonSchema[None] = Field(
        default=None, description="El del cuerpo; se omite si el cuerpo no se pudo leer o no trae uno válido"
    )
    codigoRespuesta: int = Field(ge=1, le=5)
    descripcion: str


# The bare code of a reversar-pago refusal (a Literal: Powertools finds an Annotated response model by its
# bare type, and would lose it).
CodigoError = Literal[1, 2, 3, 4, 5]

_DESCRIPTIONS: dict[int, str] = {
    400: "codigoRespuesta 5: parámetros incorrectos",
    401: "codigoRespuesta 4: no autenticado",
    403: "API Gateway: codigoRespuesta 4, banco sin plan de uso (API key); o 5, rechazada por el firewall",
    404: "codigoRespuesta 2 o 3: deudor inexistente o sin facturas pendientes",
    409: "codigoRespuesta 1: la misma solicitud está en proceso; reintente en unos segundos",
    413: "API Gateway o el firewall: codigoRespuesta 5, cuerpo demasiado grande",
    429: "API Gateway: codigoRespuesta 1, demasiadas solicitudes o cuota diaria agotada; reintente más tarde",
    500: "codigoRespuesta 1: error de sistema",
}
# Refused before the function runs (token, usage plan, throttling, firewall, size, a failed integration):
# gateway responses cannot vary by route, so these are always the object (infra/stack.py). 403, 413 and 429
# come only from there.
_GATEWAY_NOTE = ". La función responde en la forma de este endpoint; API Gateway (token, límites), con el objeto"

_EN_CURSO = (
    "codigoRespuesta 1, descripcion «En proceso: …»: el pago se está aplicando y su resultado aún no se conoce; "
    "consulte verificar-pago o reenvíe la misma solicitud en unos segundos (nunca paga dos veces)"
)


def _error_responses(shape: ErrorShape, in_progress: bool) -> dict[int, Any]:
    # here, not at the top: only Conectividad's routes describe these replies (the other contexts'
    # functions would import Conectividad's models for nothing at every cold start)
    from recaudo.models.conectividad import ErrorReply

    def reply(status: int, model: Any, note: str = "") -> dict[str, Any]:
        return {"description": _DESCRIPTIONS[status] + note, "content": {"application/json": {"model": model}}}

    if shape is ErrorShape.OBJECT:
        out = {status: reply(status, ErrorReply) for status in (400, 401, 403, 404, 429, 500)}
        own: Any = ErrorReply
    else:
        own = list[PagoErrorItem] if shape is ErrorShape.ARRAY else CodigoError
        out = {
            400: reply(400, own | ErrorReply, _GATEWAY_NOTE),
            401: reply(401, own | ErrorReply, _GATEWAY_NOTE),
            403: reply(403, ErrorReply),
            409: reply(409, list[PagoErrorItem] if shape is ErrorShape.ARRAY else Literal[1]),
            413: reply(413, ErrorReply),
            429: reply(429, ErrorReply),
            500: reply(500, own | ErrorReply, _GATEWAY_NOTE),
        }
        if shape is ErrorShape.ARRAY:  # a payment can find its invoice paid (3); a reversal never answers 2 or 3
            out[404] = reply(404, own)
    if in_progress or shape is ErrorShape.ARRAY:
        out[202] = {"description": _EN_CURSO, "content": {"application/json": {"model": own}}}
    return out


def ok_responses(
    model: type[BaseModel] | Any,
    description: str,
    error_shape: ErrorShape = ErrorShape.OBJECT,
    headers: dict[str, Any] | None = None,
    in_progress: bool = False,
) -> dict[int, Any]:
    """The success reply and every refusal the endpoint can give, in ``error_shape`` (the one its
    resolver was built with). ``in_progress``: it may answer 202 «En proceso» (``EnCurso``); the
    ejecutar-pago endpoints always may."""
    ok: dict[str, Any] = {"description": description, "content": {"application/json": {"model": model}}}
    if headers:
        ok["headers"] = headers
    return dict(sorted(({200: ok} | _error_responses(error_shape, in_progress)).items()))


def json_response(payload: Any, status_code: int = 200, ensure_ascii: bool = True) -> Response:
    """A JSON reply from a typed model (or a list of them), with Decimals written exactly."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="python", exclude_none=True)
    elif isinstance(payload, list):
        payload = [p.model_dump(mode="python", exclude_none=True) if isinstance(p, BaseModel) else p for p in payload]
    body = dumps(payload, ensure_ascii=ensure_ascii)
    return Response(
        status_code=status_code,
        content_type="application/json; charset=utf-8" if not ensure_ascii else content_types.APPLICATION_JSON,
        body=body,
    )


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if p not in ("query", "body", "path", "header")]
        parts.append(f"{'.'.join(loc) or 'request'}: {error.get('msg', 'inválido')}")
    return "; ".join(parts)


def _json_body(text: str | None) -> Any:
    """Request bodies with every fraction read as Decimal; anything unreadable is a validation error."""
    if not text:
        raise json.JSONDecodeError("cuerpo vacío: se espera JSON", "", 0)
    try:
        return loads(text)
    except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: a hostile, deeply nested body
        raise json.JSONDecodeError(f"JSON inválido: {exc}", str(text)[:0], 0) from exc


@cache
def _invoice_adapter() -> TypeAdapter[Any]:
    from recaudo.models.conectividad import NumeroFactura

    return TypeAdapter(NumeroFactura)


def _numero_factura(app: APIGatewayRestResolver) -> int | None:
    """The request's ``numeroFactura``, if its body is JSON with a valid one; else None (never a guess)."""
    try:
        body = app.current_event.json_body  # parsed once already when it was valid JSON
    except (ValueError, TypeError, RecursionError):  # not JSON, not UTF-8, base64 gone wrong, too deep
        return None
    if not isinstance(body, dict) or "numeroFactura" not in body:
        return None
    try:
        return int(_invoice_adapter().validate_python(body["numeroFactura"]))
    except ValidationError:
        return None


def _json_object(text: str | None) -> Any:
    """A request body that must be one JSON object: Powertools would take the first element of a
    top-level array as the model (``[{payment}, …]`` paid its first item)."""
    body = _json_body(text)
    if not isinstance(body, dict):
        raise json.JSONDecodeError("se espera un objeto JSON", "", 0)
    return body


def conectividad_resolver(error_shape: ErrorShape = ErrorShape.OBJECT) -> APIGatewayRestResolver:
    """Every refusal (the logic's, validation's, an unexpected failure's) rendered here, once, in
    ``error_shape``: the shape of the endpoint's own success reply, with the HTTP status of its code."""
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=_json_object)

    def refusal(body: dict[str, Any], status: int) -> Response:
        if error_shape is ErrorShape.CODE:
            return json_response(body["codigoRespuesta"], status)
        if error_shape is ErrorShape.ARRAY:
            numero = _numero_factura(app)
            return json_response([body if numero is None else {"numeroFactura": numero, **body}], status)
        return json_response(body, status)

    @app.exception_handler(ConectividadError)
    def _business(exc: ConectividadError) -> Response:
        logger.info("conectividad reply", extra={"codigoRespuesta": int(exc.codigo)})
        return refusal(exc.body(), exc.http_status)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return _business(ParametrosIncorrectos(_describe_validation(exc)))

    @app.exception_handler(RequestUnsupportedContentType)
    def _content_type(exc: RequestUnsupportedContentType) -> Response:
        return _business(ParametrosIncorrectos("Content-Type no soportado: se espera application/json"))

    @app.exception_handler(UnicodeDecodeError)
    def _encoding(exc: UnicodeDecodeError) -> Response:  # Powertools decodes the body before our parser
        return _business(ParametrosIncorrectos("el cuerpo no es UTF-8: se espera JSON en UTF-8"))

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response:
        return _business(ParametrosIncorrectos("ruta desconocida"))

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # The stack trace goes to the log, never to the bank.
        logger.exception("unexpected error")
        return refusal(error_body(CodigoRespuesta.ERROR_SISTEMA), 500)

    return app


def authorizer_value(app: APIGatewayRestResolver, name: str) -> str | None:
    """A value the TOKEN authorizer put in the request context (e.g. ``codigoBanco``)."""
    authorizer = app.current_event.request_context.authorizer
    return authorizer.get(name) if authorizer else None


TEXT_PLAIN = "text/plain; charset=utf-8"
TEXT_CSV = "text/csv; charset=utf-8"


def text_response(
    body: str, status_code: int = 200, content_type: str = TEXT_PLAIN, headers: dict[str, str] | None = None
) -> Response:
    return Response(status_code=status_code, content_type=content_type, body=body, headers=headers)


HASH_EN_URL = (
    "el hash no se acepta en la URL (queda en registros de proxies, historial del navegador y encabezados "
    "Referer): envíelo en el campo hash del formulario (POST) o en el encabezado Authorization: Bearer <hash>"
)
# the OpenAPI security scheme of the header (routes list it in ``security``)
HASH_BEARER = "hashIntegrador"
_BEARER_DESC = (
    "Authorization: Bearer <HASH del integrador>: la forma de GET (en POST, también el campo hash del formulario). "
    "Nunca ?hash= en la URL: se rechaza (400)."
)


def cobranzas_security_schemes() -> dict[str, Any]:
    """The OpenAPI security scheme the cobranzas routes name (``HASH_BEARER``), for the document's writer."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {HASH_BEARER: HTTPBearer(description=_BEARER_DESC)}


_BEARER = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr] +([^\s]+) *$")


def bearer(authorization: str | None) -> str | None:
    """The integrator hash of ``Authorization: Bearer <hash>``; None without the header."""
    from recaudo.errors import CobranzasError

    if not authorization:
        return None
    match = _BEARER.match(authorization)
    if match is None:
        raise CobranzasError("encabezado Authorization inválido: se espera «Bearer <hash>»", 401)
    return match.group(1)


def hash_integrador(formulario: str | None, authorization: str | None) -> str | None:
    """The request's integrator hash: the form's ``hash`` field (the document's way) or the
    ``Authorization: Bearer`` header; both may come only if they agree."""
    from recaudo.errors import CobranzasError

    del_encabezado = bearer(authorization)
    if formulario and del_encabezado and not hmac.compare_digest(formulario.encode(), del_encabezado.encode()):
        raise CobranzasError("el hash del formulario y el de Authorization no coinciden: envíe uno solo")
    return formulario or del_encabezado


class _CobranzasValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation with two cobranzas rules first: no hash in the query string,
    and multipart bodies read strictly by ``recaudo.formats.formulario`` (Powertools' own reader
    accepted truncated bodies and raised 500s on malformed ones)."""

    def handler(self, app: Any, next_middleware: Any) -> Response:
        from recaudo.errors import CobranzasError

        event = app.current_event.raw_event
        nombres = {*(event.get("queryStringParameters") or {}), *(event.get("multiValueQueryStringParameters") or {})}
        if any(str(n).strip().lower() == "hash" for n in nombres):
            raise CobranzasError(HASH_EN_URL)
        return super().handler(app, next_middleware)

    def _get_body(self, app: Any) -> dict[str, Any]:
        from aws_lambda_powertools.event_handler.openapi.params import File, UploadFile

        from recaudo.formats import formulario

        content_type = app.current_event.headers.get("content-type") or ""
        if not formulario.es_multipart(content_type):
            return super()._get_body(app)
        params = app.context["_route"].dependant.body_params
        archivos = {p.alias for p in params if isinstance(p.field_info, File)}
        textos = {p.alias for p in params} - archivos
        datos = formulario.cuerpo(app.current_event.body, app.current_event.is_base64_encoded)
        valores = formulario.leer(datos, content_type, textos, archivos)
        return {k: UploadFile(content=v) if isinstance(v, bytes) else v for k, v in valores.items()}


def cobranzas_resolver(rechazar_formulario: Callable[[str, str, int], Any] | None = None) -> APIGatewayRestResolver:
    """The Pay per TIC dialect: replies are text, and every refusal is ``ERROR: <descripción>``.
    Request values are never echoed into logs (the hash travels as a form field or a Bearer header).

    ``rechazar_formulario(hash, motivo, status)``: how a broken form whose hash was read is refused
    (the import endpoint records it as an import, so its report can be fetched); it raises the refusal."""
    from recaudo.errors import CobranzasError
    from recaudo.formats.formulario import FormularioInvalido

    def _form_body(text: str | None) -> Any:
        # POST without a body (a GET-like call with the Bearer header) is allowed: an empty body is no fields.
        return {} if not text else _json_body(text)

    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=_form_body)
    app._request_validation_middleware = _CobranzasValidation()
    # the security scheme routes name is declared where the document is written (cobranzas_security_schemes):
    # declaring it here would import the OpenAPI document's models at every cold start

    @app.exception_handler(CobranzasError)
    def _refused(exc: CobranzasError) -> Response:
        logger.info("cobranzas refused", extra={"status": exc.status})
        headers = {"X-Recaudo-Importacion": exc.importacion} if exc.importacion else None
        return text_response(f"ERROR: {exc.descripcion}", exc.status, headers=headers)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unexpected error")
        # it cannot know how far an import got: never "nada se perdió"; a resend is safe (idempotent)
        return text_response(
            "ERROR: error interno; reintente (reenviar el mismo archivo es seguro: no duplica cobranzas)", 500
        )

    @app.exception_handler(FormularioInvalido)
    def _broken_form(exc: FormularioInvalido) -> Response:
        logger.info("cobranzas form refused", extra={"motivo": exc.descripcion, "hashLeido": exc.hash is not None})
        try:
            hash_ = exc.hash or bearer(app.current_event.headers.get("authorization"))
            if rechazar_formulario is None or not hash_:
                return _refused(exc)  # the hash cannot be read: nobody to record the import for
            rechazar_formulario(hash_, exc.descripcion, exc.status)
        except CobranzasError as refusal:
            return _refused(refusal)
        except Exception as unexpected:  # noqa: BLE001 - an exception handler must answer, never raise
            return _unexpected(unexpected)
        return _refused(exc)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return _refused(CobranzasError(f"parámetros inválidos: {_describe_validation(exc)}"))

    @app.exception_handler(RequestUnsupportedContentType)
    def _content_type(exc: RequestUnsupportedContentType) -> Response:
        return _refused(
            CobranzasError("Content-Type no soportado: use multipart/form-data o application/x-www-form-urlencoded")
        )

    @app.exception_handler(UnicodeDecodeError)
    def _encoding(exc: UnicodeDecodeError) -> Response:  # a text body that is not UTF-8
        return _refused(CobranzasError("el cuerpo no es UTF-8; envíe el archivo como multipart/form-data"))

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response:
        return _refused(CobranzasError("ruta desconocida", 404))

    return app


def text_responses(ok: str, content_type: str = "text/plain") -> dict[int, Any]:
    error = {"content": {"text/plain": {"schema": {"type": "string", "example": "ERROR: hash inválido"}}}}
    return {
        200: {"description": ok, "content": {content_type: {"schema": {"type": "string"}}}},
        400: {"description": "ERROR: solicitud o archivo inválido"} | error,
        401: {"description": "ERROR: hash faltante o inválido"} | error,
        413: {"description": "ERROR: demasiado grande para este endpoint"} | error,
        500: {"description": "ERROR: error interno"} | error,
    }


# ---- CPS recargas: JSON, every refusal {"codigo", "mensaje"} ----

RECARGAS_ERRORS: dict[int, str] = {
    400: "solicitud inválida (cuerpo, parámetros, servicio o monto)",
    401: "no autenticado: falta un encabezado, firma inválida, nonce vencido o repetido, api-key desconocida",
    404: "operación inexistente para este canal",
    409: "una solicitud con la misma Idempotency-Key está en curso",
    422: "Idempotency-Key reutilizada con otra solicitud",
    503: "el operador no respondió; reintente",
}


def recargas_responses(model: Any, description: str, accepted: bool = False) -> dict[int, Any]:
    from recaudo.models.recargas import ErrorReply

    out: dict[int, Any] = {200: {"description": description, "content": {"application/json": {"model": model}}}}
    if accepted:
        out[202] = {
            "description": "en proceso: consulte GET /cps/v2/operation/{idOperacion}",
            "content": {"application/json": {"model": model}},
        }
    for status, text in RECARGAS_ERRORS.items():
        out[status] = {"description": text, "content": {"application/json": {"model": ErrorReply}}}
    return out


def recargas_reply(respuesta: Any) -> Response:
    """A pay or status reply: its exact text (a replayed first reply is sent byte for byte)."""
    return Response(status_code=respuesta.status, content_type=content_types.APPLICATION_JSON, body=respuesta.body)


def recargas_resolver() -> APIGatewayRestResolver:
    """The CPS dialect: JSON, and every refusal is ``{"codigo": …, "mensaje": …}``; never a 500 with
    a trace. Bodies are read by the logic from the raw event (signatures cover the exact bytes)."""
    from recaudo.models.recargas import RecargaError

    app = APIGatewayRestResolver(enable_validation=True)

    def error(status: int, codigo: str, mensaje: str) -> Response:
        return Response(
            status_code=status,
            content_type=content_types.APPLICATION_JSON,
            body=json.dumps({"codigo": codigo, "mensaje": mensaje}, ensure_ascii=False),
        )

    @app.exception_handler(RecargaError)
    def _business(exc: RecargaError) -> Response:
        logger.info("cps refusal", extra={"codigo": exc.codigo, "status": exc.status})
        return error(exc.status, exc.codigo, exc.mensaje)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return error(400, "SOLICITUD_INVALIDA", _describe_validation(exc))

    @app.exception_handler(RequestUnsupportedContentType)
    def _content_type(exc: RequestUnsupportedContentType) -> Response:
        return error(400, "SOLICITUD_INVALIDA", "Content-Type no soportado: se espera application/json")

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response:
        return error(404, "RUTA_DESCONOCIDA", "ruta desconocida")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unexpected error")
        return error(
            500, "ERROR_INTERNO", "error interno; si envió una recarga, consulte su estado antes de reintentar"
        )

    return app


# ---- RADIAN tracking: JSON, every refusal {"codigo", "mensaje"[, "errores"]} ----

RADIAN_ERRORS: dict[int, str] = {
    400: "SOLICITUD_INVALIDA: cuerpo, CUFE, estado o página inválidos (errores: uno por campo)",
    401: "NO_AUTENTICADO: falta Authorization: Token <keyId>.<secreto> o no es válido",
    404: "FACTURA_NO_ENCONTRADA: este cliente no sigue esa factura (o RUTA_DESCONOCIDA)",
    413: "SOLICITUD_INVALIDA: cuerpo demasiado grande",
    500: "ERROR_INTERNO: nada se perdió; reintente",
}


def radian_responses(model: Any, description: str, status: int = 200) -> dict[int, Any]:
    from recaudo.models.radian import ErrorReply

    out: dict[int, Any] = {status: {"description": description, "content": {"application/json": {"model": model}}}}
    for code, text in RADIAN_ERRORS.items():
        out[code] = {"description": text, "content": {"application/json": {"model": ErrorReply}}}
    return out


def radian_json(payload: Any, status_code: int = 200) -> Response:
    """A RADIAN reply: UTF-8 JSON (badge names carry accents), Decimals exact."""
    return json_response(payload, status_code, ensure_ascii=False)


def radian_resolver() -> APIGatewayRestResolver:
    """The RADIAN tracking dialect: JSON, and every refusal is ``{"codigo", "mensaje"}`` (with
    ``errores``, one per invalid field, when the body is refused); never a 500 with a trace."""
    from recaudo.models.radian import RadianError

    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=_json_body)

    def error(status: int, codigo: str, mensaje: str, errores: list[dict[str, Any]] | None = None) -> Response:
        body: dict[str, Any] = {"codigo": codigo, "mensaje": mensaje}
        if errores:
            body["errores"] = errores
        return json_response(body, status, ensure_ascii=False)

    @app.exception_handler(RadianError)
    def _business(exc: RadianError) -> Response:
        logger.info("radian refusal", extra={"codigo": exc.codigo, "status": exc.status})
        return error(exc.status, exc.codigo, exc.mensaje, exc.errores)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        errores = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ()) if p not in ("query", "body", "path", "header")]
            mensaje = str(e.get("msg", "inválido")).removeprefix("Value error, ")
            errores.append({"campo": ".".join(loc) or "solicitud", "mensaje": mensaje})
        resumen = "; ".join(f"{x['campo']}: {x['mensaje']}" for x in errores[:5])
        return error(400, "SOLICITUD_INVALIDA", resumen[:1000], errores[:100])

    @app.exception_handler(RequestUnsupportedContentType)
    def _content_type(exc: RequestUnsupportedContentType) -> Response:
        return error(400, "SOLICITUD_INVALIDA", "Content-Type no soportado: se espera application/json")

    @app.exception_handler(UnicodeDecodeError)
    def _encoding(exc: UnicodeDecodeError) -> Response:  # Powertools decodes the body before our parser
        return error(400, "SOLICITUD_INVALIDA", "el cuerpo no es UTF-8: se espera JSON en UTF-8")

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response:
        return error(404, "RUTA_DESCONOCIDA", "ruta desconocida")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unexpected error")
        return error(500, "ERROR_INTERNO", "error interno; nada se perdió, reintente")

    return app


# ---- Sistema UNO: XML, every refusal <error refId><code/><message/></error> ----

UNO_ERRORS: dict[int, str] = {
    400: "contextId o payload inválido (XML mal formado, DOCTYPE, fuera de paymentDue.xsd)",
    401: "no autenticado: Authorization: Token <keyId>.<secreto> faltante o inválido",
    403: "el token no autoriza la empresa (businessId) del contextId",
    404: "el colegio no pertenece a la empresa y al ciclo, o no hay datos (o ruta desconocida)",
    413: "payload demasiado grande",
    500: "error interno; nada se perdió",
    503: "servicio ocupado; reenviar es seguro",
}


def uno_responses(description: str) -> dict[int, Any]:
    xml = {"application/xml": {"schema": {"type": "string", "format": "xml"}}}
    out: dict[int, Any] = {200: {"description": description, "content": xml}}
    for status, text in UNO_ERRORS.items():
        out[status] = {"description": f"<error>: {text}", "content": xml}
    return out


def xml_response(body: str, status_code: int = 200) -> Response:
    from recaudo.formats.cuotas import XML

    return Response(status_code=status_code, content_type=XML, body=body)


# What Powertools' router accepts in a path segment; anything else (a decoded '"', '#', '\\') is
# percent-encoded before routing, so a matrix parameter always reaches its route.
_ROUTABLE = frozenset("-._~()'!*:@,;=+&$%<> []{}|^/") | frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
)


def _routable(path: str) -> str:
    return "".join(ch if ch in _ROUTABLE else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in path)


def uno_resolver() -> APIGatewayRestResolver:
    """The Sistema UNO dialect: XML, and every refusal is ``<error refId="<request id>"><code>status</code>
    <message>…</message></error>`` with ``application/xml``; never a 500 with a trace."""
    from recaudo.formats.cuotas import error_xml
    from recaudo.models.cuotas import UnoError

    app = APIGatewayRestResolver(enable_validation=True)

    def error(status: int, mensaje: str) -> Response:
        ref_id = app.current_event.request_context.request_id or "00000000-0000-1000-0000-000000000000"
        return xml_response(error_xml(status, mensaje, ref_id), status)

    @app.exception_handler(UnoError)
    def _refused(exc: UnoError) -> Response:
        logger.info("uno refusal", extra={"status": exc.status})
        return error(exc.status, exc.mensaje)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return error(400, _describe_validation(exc))

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response:
        return error(404, "Recurso desconocido: se espera /wssb/admin/paymentDue;contextId=…")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unexpected error")
        return error(500, "Error interno; nada se perdió. Reintente.")

    return app


def uno_handler(app: APIGatewayRestResolver) -> Any:
    """The decorator stack, with the path made routable first (see ``_routable``)."""
    from recaudo.observability import lambda_handler

    def resolve(event: dict[str, Any], context: Any) -> Any:
        if isinstance(event.get("path"), str):
            event["path"] = _routable(event["path"])
        return app.resolve(event, context)

    return lambda_handler(resolve)
