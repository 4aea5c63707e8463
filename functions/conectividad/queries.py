"""The logic behind the Conectividad queries. Handlers call one function each; the data access and
the clock arrive through ``QueryDeps`` (``conectividad.deps``) so tests can replace them."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from conectividad.deps import QueryDeps, default_query_deps
from recaudo.dates import end_of_month, format_ddmmyyyy, local_today
from recaudo.errors import DeudorNoExiste, ErrorSistema, ParametrosIncorrectos, SinFacturasPendientes
from recaudo.models.conectividad import (
    PersonaReply,
    SaldoReply,
    SaldoResumenReply,
    SaldosDetallePage,
    SaldosResumenPage,
)
from recaudo.models.ledger import Convenio, Deuda, Persona, TipoConvenio

# ---- convenio rules (docs/decisions.md, "What each convenio type selects") ----


def corte_hasta(tipo: TipoConvenio, today: date, fecha_limite: date | None) -> date | None:
    """The latest ``fechaCorte`` a convenio type selects, narrowed by the optional ``fechaLimite``."""
    bound: date | None
    if tipo is TipoConvenio.VENCIDO:
        bound = today - timedelta(days=1)  # vencido: the cut-off date has passed
    elif tipo is TipoConvenio.PARCIAL:
        bound = end_of_month(today)  # parcial: due up to the current period (month)
    else:
        bound = None  # total and carrito: every pending debt, future ones included
    if fecha_limite is not None:
        bound = fecha_limite if bound is None else min(bound, fecha_limite)
    return bound


def _persona(deps: QueryDeps, identificacion: str) -> Persona:
    persona = deps.ledger.get_persona(identificacion)
    if persona is None:
        raise DeudorNoExiste(identificacion)
    return persona


def _convenio(deps: QueryDeps, codigo: str) -> Convenio:
    convenio = deps.ledger.get_convenio(codigo)
    if convenio is None:
        raise ParametrosIncorrectos(f"codigoConvenio desconocido: {codigo}")
    return convenio


def _pendientes(deps: QueryDeps, identificacion: str, convenio: Convenio, fecha_limite: date | None) -> list[Deuda]:
    persona = convenio.identificacion_ledger(identificacion)  # an integrator's client is its own
    if deps.ledger.get_persona(persona) is None:
        raise DeudorNoExiste(identificacion)
    today = local_today(deps.clock, deps.time_zone)
    deudas = deps.ledger.deudas_pendientes(
        persona, convenio.institucion, convenio.rubros, corte_hasta(convenio.tipo, today, fecha_limite)
    )
    if not deudas:
        raise SinFacturasPendientes(identificacion)
    return deudas


def saldo_reply(d: Deuda, carrito: bool) -> SaldoReply:
    """A debt as the saldos endpoints reply it; only carrito carries the transaction fields."""
    return SaldoReply(
        descripcion=d.descripcion,
        estado=d.estado.value,
        fechaCorte=format_ddmmyyyy(d.fecha_corte),
        idRubro=d.id_rubro,
        idSaldo=d.id_saldo,
        monto=d.monto,
        numeroPersona=d.numero_persona,
        periodo=d.periodo,
        saldo=d.saldo,
        saldoInteres=d.saldo_interes,
        tipoCobro=d.tipo_cobro,
        year=str(d.year),
        auxiliarContable=d.auxiliar_contable if carrito else None,
        numeroCuenta=d.numero_cuenta if carrito else None,
        tipoTransaccion=d.tipo_transaccion if carrito else None,
        numeroDocumento=d.numero_documento if carrito else None,
    )


def id_referencia(year: int, id_rubro: str) -> int:
    """``idReferencia`` as the document builds it: the year followed by the two-digit rubro (201817)."""
    numeric = id_rubro.isascii() and id_rubro.isdigit()
    return int(f"{year:04d}{int(id_rubro):02d}") if numeric else year


def pagina(total: int, numero: int, longitud: int) -> tuple[int, slice]:
    """(cantidadPaginas, the slice of the page). Asking past the last page is a code 5."""
    cantidad = math.ceil(total / longitud)
    if numero > cantidad:
        raise ParametrosIncorrectos(f"numeroPagina {numero} excede cantidadPaginas {cantidad}")
    start = (numero - 1) * longitud
    return cantidad, slice(start, start + longitud)


# ---- the endpoints' logic ----


def obtener_persona(identificacion: str, deps: QueryDeps | None = None) -> PersonaReply:
    persona = _persona(deps or default_query_deps(), identificacion)
    return PersonaReply(
        identificacion=persona.identificacion, nombre=persona.nombre, tipoIdentificacion=persona.tipo_identificacion
    )


def saldos_persona(
    identificacion: str, codigo_convenio: str, fecha_limite: date | None, deps: QueryDeps | None = None
) -> list[SaldoReply]:
    deps = deps or default_query_deps()
    convenio = _convenio(deps, codigo_convenio)
    carrito = convenio.tipo is TipoConvenio.CARRITO
    return [saldo_reply(d, carrito) for d in _pendientes(deps, identificacion, convenio, fecha_limite)]


def saldos_por_tipo(
    identificacion: str, tipo: TipoConvenio, fecha_limite: date | None, deps: QueryDeps | None = None
) -> list[SaldoReply]:
    """saldos-total-persona, -parcial- and -vencido-: the institution's default convenio of that type."""
    deps = deps or default_query_deps()
    convenio = deps.ledger.get_convenio_predeterminado(tipo)
    if convenio is None:
        raise ErrorSistema(f"no hay convenio predeterminado de tipo {tipo.value}")
    return [saldo_reply(d, False) for d in _pendientes(deps, identificacion, convenio, fecha_limite)]


def saldos_resumen(
    identificacion: str,
    codigo_convenio: str,
    numero_pagina: int,
    longitud_pagina: int,
    fecha_limite: date | None,
    deps: QueryDeps | None = None,
) -> SaldosResumenPage:
    deps = deps or default_query_deps()
    deudas = _pendientes(deps, identificacion, _convenio(deps, codigo_convenio), fecha_limite)
    grupos: dict[tuple[int, str], list[Deuda]] = {}
    for d in deudas:
        grupos.setdefault((d.year, d.id_rubro), []).append(d)
    resumen = [
        SaldoResumenReply(
            descripcion=items[0].descripcion,
            idReferencia=id_referencia(year, rubro),
            idRubro=rubro,
            montoTotal=sum((d.monto for d in items), Decimal("0.00")),
            year=year,
        )
        for (year, rubro), items in grupos.items()
    ]
    cantidad, page = pagina(len(resumen), numero_pagina, longitud_pagina)
    return SaldosResumenPage(
        cantidadPaginas=cantidad,
        longitudPagina=longitud_pagina,
        numeroPagina=numero_pagina,
        saldosPersonaResumen=resumen[page],
    )


def saldos_resumen_detalle(
    identificacion: str,
    codigo_convenio: str,
    id_rubro: str | None,
    year: int | None,
    numero_pagina: int,
    longitud_pagina: int,
    fecha_limite: date | None,
    deps: QueryDeps | None = None,
) -> SaldosDetallePage:
    deps = deps or default_query_deps()
    convenio = _convenio(deps, codigo_convenio)
    deudas = [
        d
        for d in _pendientes(deps, identificacion, convenio, fecha_limite)
        if (id_rubro is None or d.id_rubro == id_rubro) and (year is None or d.year == year)
    ]
    if not deudas:
        raise SinFacturasPendientes(f"{identificacion} (rubro {id_rubro}, año {year})")
    cantidad, page = pagina(len(deudas), numero_pagina, longitud_pagina)
    carrito = convenio.tipo is TipoConvenio.CARRITO
    return SaldosDetallePage(
        cantidadPaginas=cantidad,
        longitudPagina=longitud_pagina,
        numeroPagina=numero_pagina,
        saldosPersona=[saldo_reply(d, carrito) for d in deudas[page]],
    )
