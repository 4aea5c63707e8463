"""Request values of the cobranzas API. The document calls them "variables de invocación": they may
come in the query string or in the form body (urlencoded or multipart); the body wins."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Form, Query

HASH_DESC = "HASH del integrador (solicitado a integraciones)"

HashQuery = Annotated[str | None, Query(alias="hash", description=HASH_DESC, max_length=512)]
HashForm = Annotated[str | None, Form(alias="hash", description=HASH_DESC, max_length=512)]

PERIODO_DESC = "YYYYMM, o * para todos los periodos (por defecto: el periodo en curso)"
TEXT = {"max_length": 200}


def first(*values: str | None) -> str | None:
    """The first value given (form before query)."""
    for value in values:
        if value not in (None, ""):
            return value
    return None


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
