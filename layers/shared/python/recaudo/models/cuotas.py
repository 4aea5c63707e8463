"""Sistema UNO ``paymentDue`` (seed 004): a school's fee installments (*cuotas*) per article and grade for
one school year, and the rules a due must keep before it is stored.

- ``Contexto``: the SIF matrix parameter ``;contextId={"businessId","schoolId","schoolYearId"}``;
- ``Cuota`` (a ``<due>``, ``colegio_articulo_abono``): its key (article, grade, term, sales type) and its
  ``Pago`` list (``<payment>``), each a date range with a price and two percentages;
- ``UnoError``: a refusal, written as UNO's ``<error refId><code/><message/></error>``.

The rules that need no stored data live here (``reglas_de_pagos``); those that do (the school, the price
configuration) live in the logic. Decisions: docs/decisions.md, "UNO". Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

# The id wrapper UNO (and SIF) use for integer ids: 00000000-0000-1000-0000-000005786419.
_UUID_PREFIX = "00000000-0000-1000-0000-"
MAX_ID = 10**12 - 1  # 12 digits: what fits the wrapper


def uuid_de(numero: int) -> str:
    if not 0 < numero <= MAX_ID:
        raise ValueError(f"id fuera de rango: {numero}")
    return f"{_UUID_PREFIX}{numero:012d}"


def numero_de(uuid: str) -> int | None:
    """The integer a UNO id wraps, or None if it is not one."""
    if not uuid.startswith(_UUID_PREFIX) or len(uuid) != len(_UUID_PREFIX) + 12 or not uuid[-12:].isdigit():
        return None
    return int(uuid[-12:]) or None


@dataclass(frozen=True, slots=True)
class Contexto:
    """Whose dues: the business (the token's), the school and the school year."""

    business_id: int
    school_id: int
    school_year_id: int


@dataclass(frozen=True, slots=True)
class Ciclo:
    """A school year; its dates, when known, bound every installment."""

    school_year_id: int
    inicio: date | None = None
    fin: date | None = None


@dataclass(frozen=True, slots=True)
class Pago:
    """One installment: ``price`` with ``discountPercent`` and ``taxPercent``, due from ``startDate`` to
    ``endDate`` (both inclusive)."""

    price: Decimal
    discount_percent: Decimal
    tax_percent: Decimal
    start_date: date
    end_date: date


@dataclass(frozen=True, slots=True)
class ClaveCuota:
    """What makes two dues the same one: re-posting it replaces its installments (docs/decisions.md)."""

    article_ref_id: int
    grade_ref_id: int
    term_ref_id: int
    sales_type_ref_id: int


@dataclass(frozen=True, slots=True)
class Cuota:
    clave: ClaveCuota
    pagos: tuple[Pago, ...]
    id: int | None = None  # ours, from the counter; None until stored
    version: int = 0


@dataclass(frozen=True, slots=True)
class Resultado:
    """One ``<create>``: the due's id and 200, or its refusal (``status`` and ``mensaje``) and no id."""

    status: int
    id: int | None = None
    mensaje: str | None = None


@dataclass(frozen=True)
class Rechazo:
    """Why a write transaction was cancelled: which of its checks failed (nothing was written)."""

    sin_colegio: bool = False
    articulos_sin_precio: frozenset[int] = frozenset()
    en_conflicto: frozenset[ClaveCuota] = field(default_factory=frozenset)


class UnoError(Exception):
    """A refusal of the whole request: ``<error refId=…><code>status</code><message>…</message></error>``."""

    def __init__(self, status: int, mensaje: str) -> None:
        super().__init__(mensaje)
        self.status, self.mensaje = status, mensaje


class Ocupado(Exception):
    """DynamoDB throttled a step: nothing of that step was written; the same request may be sent again."""


class NoExiste(Exception):
    """A reference an admin command names (business, school year, school) does not exist."""


# The document's own messages, and ours in the same voice (docs/decisions.md, "UNO: messages").
SIN_EMPRESA = "Debe especificar una empresa (businessId)."
SIN_COLEGIO = "Debe especificar un colegio (schoolId)."
SIN_CICLO = "Debe especificar un ciclo para consultar."
NO_EXISTE = "No existe la entidad con el id especificado."
SIN_DATOS = "No se encontraron datos con los parámetros especificados."
OTRA_EMPRESA = "El token no autoriza la empresa especificada (businessId)."


def sin_precio(article_ref_id: int) -> str:
    return (
        f"No existe configuración de precios (colegio_articulo_precio) para el artículo {article_ref_id} "
        "en este colegio y ciclo."
    )


def _rango(p: Pago) -> str:
    return f"{p.start_date.isoformat()}..{p.end_date.isoformat()}"


def reglas_de_pagos(pagos: tuple[Pago, ...], ciclo: Ciclo | None = None) -> str | None:
    """The first rule a due's installments break, as its message; None if they keep them all.

    Each range has ``startDate`` ≤ ``endDate``; sorted by start, each starts the day after the previous one
    ends (no gap, no overlap); and all lie inside the school year when its dates are known. The order the
    installments are sent in does not matter."""
    for i, p in enumerate(pagos, 1):
        if p.start_date > p.end_date:
            return f"payment {i}: startDate ({p.start_date}) es posterior a endDate ({p.end_date})."
    ordenados = sorted(pagos, key=lambda p: (p.start_date, p.end_date))
    for anterior, siguiente in pairwise(ordenados):
        esperado = anterior.end_date + timedelta(days=1)
        if siguiente.start_date <= anterior.end_date:
            return f"Los rangos de fechas se superponen: {_rango(anterior)} y {_rango(siguiente)}."
        if siguiente.start_date != esperado:
            return (
                f"Los rangos de fechas no son contiguos: después de {_rango(anterior)} el siguiente debe "
                f"empezar el {esperado.isoformat()}, no el {siguiente.start_date.isoformat()}."
            )
    if ciclo is not None:
        primero, ultimo = ordenados[0], max(pagos, key=lambda p: p.end_date)
        if ciclo.inicio is not None and primero.start_date < ciclo.inicio:
            return (
                f"El rango {_rango(primero)} empieza antes del ciclo escolar {ciclo.school_year_id} "
                f"({ciclo.inicio.isoformat()})."
            )
        if ciclo.fin is not None and ultimo.end_date > ciclo.fin:
            return (
                f"El rango {_rango(ultimo)} termina después del ciclo escolar {ciclo.school_year_id} "
                f"({ciclo.fin.isoformat()})."
            )
    return None
