"""What every UNO endpoint reads from the request: the business the token vouches for, the matrix
parameter's context, and the body's exact bytes."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Path

from recaudo.formats.cuotas import ENTIDAD, contexto, segmento
from recaudo.models.cuotas import Contexto, UnoError
from recaudo.rest import authorizer_value

# The route's one segment: "paymentDue;contextId=…" (docs/decisions.md, "UNO: the route").
Recurso = Annotated[
    str,
    Path(description='paymentDue;contextId=<JSON URL-encoded: {"businessId":10,"schoolId":6498,"schoolYearId":64}>'),
]


def empresa(app: APIGatewayRestResolver) -> int | None:
    value = authorizer_value(app, "businessId")
    if not value:  # only reachable if the route were deployed without the authorizer
        raise UnoError(401, "No autenticado.")
    return int(value) if value.isdigit() else None


def contexto_de(recurso: str) -> Contexto:
    """``paymentDue;contextId=…`` (the route's last segment) → the context; another entity is unknown."""
    entidad, params = segmento(recurso)
    if entidad != ENTIDAD:
        raise UnoError(404, f"Recurso desconocido: {entidad[:40]!r}; se espera {ENTIDAD};contextId=…")
    return contexto(params)


def cuerpo(app: APIGatewayRestResolver) -> bytes:
    """The bytes as sent: every body reaches the function base64-encoded (binary media type ``*/*``), so
    a BOM and the encoding declaration decide how it is read, not API Gateway."""
    event = app.current_event
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnoError(400, "Cuerpo ilegible.") from exc
