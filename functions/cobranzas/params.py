"""Request values of the cobranzas API. The document calls them "variables de invocación": the filters
may come in the query string or in the form body (urlencoded or multipart); the body wins.

The integrator hash is never read from the URL (proxy and CDN logs, browser history and Referer headers
keep URLs): it comes in the form's ``hash`` field (POST, the document's way) or in the header
``Authorization: Bearer <hash>`` (GET, and POST too); ``?hash=`` is refused (``recaudo.rest``)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Form, Query

from recaudo.rest import HASH_BEARER, hash_integrador

HASH_DESC = "HASH del integrador (solicitado a integraciones); también puede ir en Authorization: Bearer <hash>"

HashForm = Annotated[str | None, Form(alias="hash", description=HASH_DESC, max_length=512)]

# OpenAPI: the Authorization header is a security scheme (a header parameter named Authorization is
# ignored by OpenAPI tools), declared by recaudo.rest.cobranzas_resolver.
BEARER: list[dict[str, list[str]]] = [{HASH_BEARER: []}]
BEARER_O_FORMULARIO: list[dict[str, list[str]]] = [{}, {HASH_BEARER: []}]  # POST: the form's hash, or the header

PERIODO_DESC = "YYYYMM, o * para todos los periodos (por defecto: el periodo en curso)"
TEXT = {"max_length": 200}


def first(*values: str | None) -> str | None:
    """The first value given (form before query)."""
    for value in values:
        if value not in (None, ""):
            return value
    return None


def hash_de(app: Any, formulario: str | None = None) -> str | None:
    """The request's integrator hash: the form's field, or ``Authorization: Bearer <hash>``."""
    return hash_integrador(formulario, app.current_event.headers.get("authorization"))


class Filtro:
    """The export filters, as query parameters and as form fields."""

    PeriodoQ = Annotated[str | None, Query(alias="periodo", description=PERIODO_DESC, max_length=6)]
    PeriodoF = Annotated[str | None, Form(alias="periodo", description=PERIODO_DESC, max_length=6)]
    ClienteQ = Annotated[str | None, Query(alias="id_cliente", **TEXT)]
    ClienteF = Annotated[str | None, Form(alias="id_cliente", **TEXT)]
    ConceptoQ = Annotated[str | None, Query(alias="id_concepto", **TEXT)]
    ConceptoF = Annotated[str | None, Form(alias="id_concepto", **TEXT)]
    Opcional1Q = Annotated[str | None, Query(alias="opcional1", **TEXT)]
    Opcional1F = Annotated[str | None, Form(alias="opcional1", **TEXT)]
    Opcional2Q = Annotated[str | None, Query(alias="opcional2", **TEXT)]
    Opcional2F = Annotated[str | None, Form(alias="opcional2", **TEXT)]
