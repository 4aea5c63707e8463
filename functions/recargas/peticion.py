"""The signed request as the logic needs it, read from API Gateway's proxy event."""

from __future__ import annotations

import base64
import binascii

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from recargas.recargas import STAGE, SolicitudFirmada
from recaudo.models.recargas import SolicitudInvalida

MAX_BODY_BYTES = 64 * 1024  # a top-up is ~100 bytes


def solicitud_firmada(app: APIGatewayRestResolver) -> SolicitudFirmada:
    event = app.current_event
    raw = event.raw_event
    body = raw.get("body") or ""
    if raw.get("isBase64Encoded"):  # every CPS body arrives base64 (binary media type */*)
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise SolicitudInvalida("cuerpo ilegible") from None
    else:
        data = body.encode("utf-8")
    if len(data) > MAX_BODY_BYTES:
        raise SolicitudInvalida(f"cuerpo demasiado grande (máximo {MAX_BODY_BYTES} bytes)")
    multi = raw.get("multiValueQueryStringParameters") or {}
    query = (
        [(k, v) for k, values in multi.items() for v in values]
        if multi
        else list((raw.get("queryStringParameters") or {}).items())
    )
    path = (raw.get("requestContext") or {}).get("path") or f"/{STAGE}{event.path}"
    return SolicitudFirmada(event.http_method, path, dict(event.headers or {}), data, query)
