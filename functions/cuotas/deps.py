"""Everything the cuotas (Sistema UNO) context touches outside itself: its port, and the real adapter."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Protocol

from recaudo.dates import utc_now
from recaudo.models.cuotas import Ciclo, ClaveCuota, Contexto, Cuota, Rechazo


class Cuotas(Protocol):
    """``recaudo.data.cuotas.CuotasRepository``: only what the logic calls."""

    def ciclo_del_colegio(self, ctx: Contexto) -> Ciclo | None: ...
    def articulos_con_precio(self, ctx: Contexto, articulos: Iterable[int]) -> set[int]: ...
    def cuotas(self, ctx: Contexto, claves: Iterable[ClaveCuota]) -> dict[ClaveCuota, Cuota]: ...
    def todas(self, ctx: Contexto) -> list[Cuota]: ...
    def reservar_ids(self, cantidad: int) -> list[int]: ...
    def acciones(self, articulos: int, cuotas: int) -> int: ...
    def guardar(self, ctx: Contexto, cuotas: list[tuple[Cuota, int | None]], now: datetime) -> Rechazo | None: ...


class Metricas(Protocol):
    def count(self, name: str, value: int = 1) -> None: ...


@dataclass(frozen=True)
class CuotasDeps:
    cuotas: Cuotas
    metricas: Metricas
    max_acciones: int = 100  # per write transaction
    rondas: int = 3  # write attempts of a due that lost a race
    clock: Callable[[], datetime] = utc_now


@cache
def default_cuotas_deps() -> CuotasDeps:
    from recaudo.aws import client
    from recaudo.data.cuotas import CuotasRepository
    from recaudo.observability import MetricasEmf
    from recaudo.settings import CuotasSettings, load

    s = load(CuotasSettings)
    return CuotasDeps(cuotas=CuotasRepository(s.cuotas_table, client("dynamodb")), metricas=MetricasEmf())
