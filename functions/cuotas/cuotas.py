"""Sistema UNO paymentDue: configure a school's dues for a school year, and read them back.

The request as a whole is refused (``UnoError``) when its context is not the token's business, or the school
is not the business's and the year's. Otherwise each due gets its own result (SIF's ``createResponse``):
200 with its id when stored, or its refusal: 400 (its date ranges), 404 (no price configuration for its
article), 409 (repeated in the request, or changed by another request meanwhile), 503 (DynamoDB busy;
nothing stored for it, sending it again is safe). Re-posting a due (same article, grade, term and sales
type) replaces its installments and keeps its id; re-posting it unchanged writes nothing.

Dues are written in transactions of at most ``max_acciones`` items, each also checking the school's
membership and the price configuration of its articles at write time (docs/decisions.md, "UNO: writes").
"""

from __future__ import annotations

from dataclasses import replace

from cuotas.deps import CuotasDeps, default_cuotas_deps
from recaudo.models.cuotas import (
    NO_EXISTE,
    OTRA_EMPRESA,
    SIN_DATOS,
    Contexto,
    Cuota,
    Ocupado,
    Resultado,
    UnoError,
    reglas_de_pagos,
    sin_precio,
)

CREADO = 200  # the document answers 200 per created due (SIF would say 201)
REPETIDO = (
    "El due repite articleRefId, gradeRefId, termRefId y salesTypeRefId del due {n} de la misma solicitud; "
    "envíe cada due una sola vez."
)
CONCURRENTE = "Otra solicitud modificó este due al mismo tiempo; no se guardó. Reenvíelo."
OCUPADO = "El servicio está ocupado; este due no se guardó. Reenviarlo es seguro."


def _del_token(empresa: int | None, ctx: Contexto) -> None:
    if empresa is None or ctx.business_id != empresa:
        raise UnoError(403, OTRA_EMPRESA)


def configurar(
    empresa: int | None, ctx: Contexto, cuotas: list[Cuota], deps: CuotasDeps | None = None
) -> list[Resultado]:
    """One result per due, in the order sent."""
    deps = deps or default_cuotas_deps()
    _del_token(empresa, ctx)
    try:
        ciclo = deps.cuotas.ciclo_del_colegio(ctx)
    except Ocupado as exc:
        raise UnoError(503, OCUPADO.replace("este due no se guardó", "nada se guardó")) from exc
    if ciclo is None:
        raise UnoError(404, NO_EXISTE)

    resultados: list[Resultado | None] = [None] * len(cuotas)
    primero: dict[object, int] = {}
    vigentes: list[int] = []  # positions still to decide
    for i, cuota in enumerate(cuotas):
        if cuota.clave in primero:
            resultados[i] = Resultado(409, mensaje=REPETIDO.format(n=primero[cuota.clave] + 1))
        elif (problema := reglas_de_pagos(cuota.pagos, ciclo)) is not None:
            primero[cuota.clave] = i
            resultados[i] = Resultado(400, mensaje=problema)
        else:
            primero[cuota.clave] = i
            vigentes.append(i)

    try:
        con_precio = deps.cuotas.articulos_con_precio(ctx, {cuotas[i].clave.article_ref_id for i in vigentes})
        for i in vigentes:
            articulo = cuotas[i].clave.article_ref_id
            if articulo not in con_precio:
                resultados[i] = Resultado(404, mensaje=sin_precio(articulo))
        vigentes = [i for i in vigentes if resultados[i] is None]
        pendientes = _por_escribir(deps, ctx, cuotas, vigentes, resultados)
    except Ocupado:
        for i in vigentes:
            resultados[i] = resultados[i] or Resultado(503, mensaje=OCUPADO)
        pendientes = []

    # A round is spent by dues that lost a race; those cancelled only alongside another item are written
    # again at no cost, unless the pass settled nothing (a cancellation naming no item, such as a
    # conflict with another transaction): then they spend it too. Each pass settles an item or spends
    # a round, so this ends.
    rondas = deps.rondas
    while pendientes:
        perdidas, acompanantes = _escribir(deps, ctx, cuotas, pendientes, resultados)
        atascadas = acompanantes if not perdidas and len(acompanantes) == len(pendientes) else []
        if perdidas or atascadas:
            rondas -= 1
            if rondas <= 0:
                for i, _version in perdidas + atascadas:
                    resultados[i] = Resultado(409, mensaje=CONCURRENTE)
                pendientes = [] if atascadas else acompanantes
                continue
        pendientes = perdidas + acompanantes

    final = [r or Resultado(500, mensaje="sin resultado") for r in resultados]
    deps.metricas.count("CuotasGuardadas", sum(1 for r in final if r.status == CREADO))
    deps.metricas.count("CuotasRechazadas", sum(1 for r in final if r.status != CREADO))
    return final


def _por_escribir(
    deps: CuotasDeps, ctx: Contexto, cuotas: list[Cuota], posiciones: list[int], resultados: list[Resultado | None]
) -> list[tuple[int, int | None]]:
    """(position, version replaced or None) of the dues that need a write, each with its id set in
    ``cuotas``; a due stored with the same installments is answered now, unchanged."""
    guardadas = deps.cuotas.cuotas(ctx, [cuotas[i].clave for i in posiciones])
    nuevas = [i for i in posiciones if cuotas[i].clave not in guardadas]
    ids = iter(deps.cuotas.reservar_ids(len(nuevas)))
    pendientes: list[tuple[int, int | None]] = []
    for i in posiciones:
        previa = guardadas.get(cuotas[i].clave)
        if previa is None:
            cuotas[i] = replace(cuotas[i], id=next(ids))
            pendientes.append((i, None))
        elif previa.pagos == cuotas[i].pagos:
            resultados[i] = Resultado(CREADO, id=previa.id)
        else:
            cuotas[i] = replace(cuotas[i], id=previa.id)
            pendientes.append((i, previa.version))
    return pendientes


def _lotes(
    deps: CuotasDeps, cuotas: list[Cuota], pendientes: list[tuple[int, int | None]]
) -> list[list[tuple[int, int | None]]]:
    """Consecutive groups that fit one transaction (its membership check, one check per article, one put per due)."""
    lotes: list[list[tuple[int, int | None]]] = []
    actual: list[tuple[int, int | None]] = []
    articulos: set[int] = set()
    for p in pendientes:
        articulo = cuotas[p[0]].clave.article_ref_id
        if actual and deps.cuotas.acciones(len(articulos | {articulo}), len(actual) + 1) > deps.max_acciones:
            lotes.append(actual)
            actual, articulos = [], set()
        actual.append(p)
        articulos.add(articulo)
    if actual:
        lotes.append(actual)
    return lotes


def _escribir(
    deps: CuotasDeps,
    ctx: Contexto,
    cuotas: list[Cuota],
    pendientes: list[tuple[int, int | None]],
    resultados: list[Resultado | None],
) -> tuple[list[tuple[int, int | None]], list[tuple[int, int | None]]]:
    """One pass of writes; returns what must be written again: the dues that lost a race (re-read), and
    those cancelled only because another item of their transaction failed."""
    otra_vez: list[tuple[int, int | None]] = []
    releidas: list[tuple[int, int | None]] = []
    for lote in _lotes(deps, cuotas, pendientes):
        try:
            rechazo = deps.cuotas.guardar(ctx, [(cuotas[i], v) for i, v in lote], deps.clock())
        except Ocupado:
            for i, _v in lote:
                resultados[i] = Resultado(503, mensaje=OCUPADO)
            continue
        if rechazo is None:
            for i, _v in lote:
                resultados[i] = Resultado(CREADO, id=cuotas[i].id)
            continue
        if rechazo.sin_colegio:  # the school left the year meanwhile
            for i, _v in lote:
                resultados[i] = Resultado(404, mensaje=NO_EXISTE)
            continue
        perdidas = []
        for i, v in lote:
            articulo = cuotas[i].clave.article_ref_id
            if articulo in rechazo.articulos_sin_precio:
                resultados[i] = Resultado(404, mensaje=sin_precio(articulo))
            elif cuotas[i].clave in rechazo.en_conflicto:
                perdidas.append(i)
            else:
                otra_vez.append((i, v))  # cancelled only because another item failed
        if perdidas:  # re-read them: another request created or changed them
            try:
                releidas += _por_escribir(deps, ctx, cuotas, perdidas, resultados)
            except Ocupado:
                for i in perdidas:
                    resultados[i] = Resultado(503, mensaje=OCUPADO)
    return releidas, otra_vez


def consultar(empresa: int | None, ctx: Contexto, deps: CuotasDeps | None = None) -> list[Cuota]:
    """The school's dues for the year, in key order (article, grade, term, sales type)."""
    deps = deps or default_cuotas_deps()
    _del_token(empresa, ctx)
    try:
        if deps.cuotas.ciclo_del_colegio(ctx) is None:
            raise UnoError(404, NO_EXISTE)
        cuotas = deps.cuotas.todas(ctx)
    except Ocupado as exc:
        raise UnoError(503, "El servicio está ocupado; reintente.") from exc
    if not cuotas:
        raise UnoError(404, SIN_DATOS)
    return cuotas
