"""Sistema UNO reference data: a business (with its API token), its school years, schools and price
configurations. Used by the admin CLI and the local stack's demo seed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from recaudo.data.credentials import CredentialsRepository
from recaudo.data.cuotas import CuotasRepository
from recaudo.models.cuotas import Ciclo, Contexto

# The document's context and articles: its payload works as is against the demo business.
DEMO_CONTEXTO = Contexto(business_id=10, school_id=6498, school_year_id=64)
DEMO_CICLO = Ciclo(64, date(2017, 1, 1), date(2017, 12, 31))
DEMO_ARTICULOS_CON_PRECIO = (3245, 3259, 3260)
DEMO_ARTICULO_SIN_PRECIO = 9999


def crear_empresa(
    cuotas: CuotasRepository, credenciales: CredentialsRepository, business_id: int, nombre: str, now: datetime
) -> str:
    """The business, then its first API token (printed once; only its hash is stored)."""
    cuotas.crear_empresa(business_id, nombre, now)
    return credenciales.add_business_token(business_id, now)


def seed_demo(cuotas: CuotasRepository, credenciales: CredentialsRepository, now: datetime) -> dict[str, Any]:
    ctx = DEMO_CONTEXTO
    token = crear_empresa(cuotas, credenciales, ctx.business_id, "Empresa Demo UNO", now)
    cuotas.crear_ciclo(ctx.business_id, DEMO_CICLO)
    cuotas.crear_colegio(ctx.business_id, ctx.school_id, "Colegio Demo", [ctx.school_year_id])
    for articulo in DEMO_ARTICULOS_CON_PRECIO:
        cuotas.configurar_precio(ctx, articulo)
    return {
        "token": token,
        "context": {"businessId": ctx.business_id, "schoolId": ctx.school_id, "schoolYearId": ctx.school_year_id},
        "pricedArticles": list(DEMO_ARTICULOS_CON_PRECIO),
        "unpricedArticle": DEMO_ARTICULO_SIN_PRECIO,
        "schoolYear": {"inicio": str(DEMO_CICLO.inicio), "fin": str(DEMO_CICLO.fin)},
    }
