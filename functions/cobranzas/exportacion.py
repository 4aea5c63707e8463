"""The logic behind exportar/csv and descargar/csv: an integrator's collections as CSV lines (the
import's columns, Estado EMI/ACP/RCH and MotivoRechazo), filtered by period, client, concept and the
optional fields."""

from __future__ import annotations

import re

from cobranzas.deps import CobranzasDeps, default_cobranzas_deps
from cobranzas.integradores import autenticar, periodo_en_curso
from recaudo.errors import CobranzasError
from recaudo.formats.cobranzas import linea_exportacion
from recaudo.models.cobranzas import Filtros, Integrador

_PERIODO = re.compile(r"^[0-9]{4}(0[1-9]|1[0-2])$")
# Lambda's response limit is 6 MB; UTF-8 text stays well under it at this many characters.
MAX_EXPORT_CHARS = 2_500_000


def filtros(
    integrador: Integrador,
    periodo: str | None,
    deps: CobranzasDeps,
    id_cliente: str | None = None,
    id_concepto: str | None = None,
    opcional1: str | None = None,
    opcional2: str | None = None,
) -> Filtros:
    """The request's filters: ``periodo`` YYYYMM, ``*`` (every period) or empty (the current one);
    an empty filter is no filter."""
    periodo = (periodo or "").strip()
    if periodo == "*":
        codigo = None
    elif not periodo:
        codigo = periodo_en_curso(integrador, deps).codigo
    elif _PERIODO.match(periodo):
        codigo = periodo
    else:
        raise CobranzasError("periodo debe ser YYYYMM o *")
    return Filtros(codigo, _filtro(id_cliente), _filtro(id_concepto), _filtro(opcional1), _filtro(opcional2))


def _filtro(valor: str | None) -> str | None:
    return valor if valor not in (None, "") else None


def exportar(
    hash_: str | None,
    periodo: str | None,
    id_cliente: str | None = None,
    id_concepto: str | None = None,
    opcional1: str | None = None,
    opcional2: str | None = None,
    deps: CobranzasDeps | None = None,
    planilla: bool = False,
) -> tuple[Integrador, Filtros, str]:
    """The integrator's collections as CSV lines (import columns + estado + motivo de rechazo, then
    the period when ``periodo=*``). ``planilla``: descargar/csv's spreadsheet-safe cells."""
    deps = deps or default_cobranzas_deps()
    integrador = autenticar(hash_, deps)
    f = filtros(integrador, periodo, deps, id_cliente, id_concepto, opcional1, opcional2)
    lines = []
    size = 0
    for cobranza in deps.cobranzas.cobranzas(
        integrador.id, f.periodo, f.id_cliente, f.id_concepto, f.opcional1, f.opcional2
    ):
        line = linea_exportacion(
            cobranza.textos,
            cobranza.monto,
            cobranza.estado,
            cobranza.motivo_rechazo,
            periodo=cobranza.periodo if f.periodo is None else None,
            planilla=planilla,
        )
        size += len(line)
        if size > MAX_EXPORT_CHARS:
            raise CobranzasError(
                "la exportación supera lo que el endpoint puede enviar: filtre por periodo, cliente o concepto", 413
            )
        lines.append(line)
    return integrador, f, "".join(lines)


def nombre_descarga(integrador: Integrador, f: Filtros) -> str:
    return f"cobranzas-{integrador.id}-{f.periodo or 'todos'}.csv"
