"""Query parameters shared by the Conectividad endpoints, validated by the Powertools resolver."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from recaudo.dates import InvalidDate, parse_ddmmyyyy
from recaudo.errors import ParametrosIncorrectos

ID_PATTERN = r"^[A-Za-z0-9-]{1,30}$"

Identificacion = Annotated[str, Query(pattern=ID_PATTERN, description="Identificación de la persona")]
IdentificacionOpcional = Annotated[
    str | None, Query(pattern=ID_PATTERN, description="Identificación de la persona (o use idDeudor)")
]
IdDeudor = Annotated[str | None, Query(pattern=ID_PATTERN, description="Alias de identificacion")]
CodigoConvenio = Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{1,20}$", description="Código de convenio")]
NumeroPagina = Annotated[int, Query(ge=1, le=100_000, description="Número de página (desde 1)")]
LongitudPagina = Annotated[int, Query(ge=1, le=100, description="Longitud de página (1 a 100)")]
FechaLimite = Annotated[
    str | None,
    Query(
        pattern=r"^([0-9]{2}/[0-9]{2}/[0-9]{4})?$",
        description="Fecha límite dd/mm/yyyy hasta donde filtrar saldos (opcional)",
    ),
]
IdRubro = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{1,10}$", description="Identificador de rubro")]
Year = Annotated[int | None, Query(ge=1900, le=2999, description="Año")]


def fecha(name: str, value: str) -> date:
    """A dd/mm/yyyy parameter as a date; an impossible date is a code 5."""
    try:
        return parse_ddmmyyyy(value)
    except InvalidDate as exc:
        raise ParametrosIncorrectos(f"{name}: {exc}") from exc


def fecha_limite(value: str | None) -> date | None:
    """The optional ``fechaLimite`` (an empty value, ``fechaLimite=``, counts as absent)."""
    return fecha("fechaLimite", value) if value else None


def deudor(identificacion: str | None, id_deudor: str | None) -> str:
    """``idDeudor`` is an alias of ``identificacion``; both may come only if they agree."""
    if identificacion and id_deudor and identificacion != id_deudor:
        raise ParametrosIncorrectos("identificacion e idDeudor no coinciden")
    value = identificacion or id_deudor
    if not value:
        raise ParametrosIncorrectos("identificacion: requerido")
    return value
