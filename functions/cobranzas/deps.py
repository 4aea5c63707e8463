"""What the cobranzas logic needs from outside itself: its ports (small Protocols listing only the
methods the logic calls), the deps dataclass that carries them, and the factory that builds the
real adapters once per container from the validated environment. Tests pass their own.

Every adapter here is an AWS call some function makes: its construct (infra/constructs/cobranzas.py)
must grant it, and the local stack enforces each function's role.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Protocol

from recaudo.data.cobranzas import Rechazo
from recaudo.data.cobranzas_acciones import Acciones, Grupo
from recaudo.dates import Clock, utc_now
from recaudo.formats.cobranzas import Fila
from recaudo.models.cobranzas import Cobranza, Existente, Integrador, Periodo, Reanudacion

# ---- ports ----


class Cobranzas(Protocol):
    """The collections in the ledger: the import's look-ahead and writes, its claims, the export."""

    def existentes(self, acciones: Acciones, filas: Sequence[Fila]) -> dict[tuple[str, str, int], Existente]: ...
    def empezar(self, integrador: str, periodo: str, importacion: str, archivo: str) -> Reanudacion | None: ...
    def pausar(self, integrador: str, periodo: str, importacion: str, punto: Reanudacion) -> bool: ...
    def acciones(self, integrador: Integrador, periodo: Periodo, importacion: str) -> Acciones: ...
    def escribir(self, grupos: list[Grupo]) -> list[Rechazo]: ...
    def reclamar_importacion(
        self, integrador: str, importacion: str, fuente: str, archivo: str, now: datetime, ttl_seconds: int
    ) -> bool: ...
    def liberar_importacion(self, integrador: str, importacion: str) -> None: ...
    def terminar_importacion(
        self, integrador: str, importacion: str, resultado: str, reporte: str, importados: int, fallidos: int
    ) -> None: ...
    def cobranzas(
        self,
        integrador: str,
        periodo: str | None,
        id_cliente: str | None = None,
        id_concepto: str | None = None,
        opcional1: str | None = None,
        opcional2: str | None = None,
    ) -> Iterator[Cobranza]: ...


class Integradores(Protocol):
    def autenticar(self, hash_presentado: str | None) -> Integrador | None: ...
    def get(self, integrador_id: str) -> Integrador | None: ...


class Archivos(Protocol):
    """The cobranzas bucket: dropped files (read by version), reports, upload URLs."""

    def trozos(self, key: str, chunk_bytes: int, version: str | None) -> Iterator[bytes]: ...
    def poner_texto(self, key: str, text: str) -> None: ...
    def leer_texto(self, key: str) -> str | None: ...
    def borrar(self, key: str) -> None: ...
    def es_reporte(self, key: str, version: str | None) -> bool: ...
    def version_actual(self, key: str) -> str | None: ...
    def url_put(self, key: str, seconds: int) -> str: ...


# ---- deps ----


@dataclass
class CobranzasDeps:
    """Every cobranzas endpoint and the S3 import (``importacion``, ``exportacion``)."""

    cobranzas: Cobranzas
    integradores: Integradores
    archivos: Archivos
    max_http_bytes: int = 4 * 1024 * 1024
    upload_url_seconds: int = 900
    claim_seconds: int = 1200
    # the HTTP import's time budget (seconds) and its parallel transaction writers
    plazo_http: float = 20.0
    escritores: int = 16
    clock: Clock = utc_now
    monotonic: Callable[[], float] = time.monotonic


@cache
def default_cobranzas_deps() -> CobranzasDeps:
    from recaudo.aws import al_usarlo, client
    from recaudo.data.archivos import Archivos as ArchivosS3
    from recaudo.data.cobranzas import CobranzasRepository
    from recaudo.data.integradores import IntegradoresRepository
    from recaudo.settings import CobranzasSettings, load

    s = load(CobranzasSettings)
    ddb = client("dynamodb")
    return CobranzasDeps(
        cobranzas=CobranzasRepository(s.ledger_table, ddb, page_limit=s.query_page_limit),
        integradores=IntegradoresRepository(s.credentials_table, ddb),
        # built on the first call on the bucket: the export functions never touch it
        archivos=ArchivosS3(al_usarlo("s3"), s.bucket),
        max_http_bytes=s.max_http_bytes,
        plazo_http=s.http_import_budget_seconds,
        escritores=s.import_writers,
        upload_url_seconds=s.upload_url_seconds,
        claim_seconds=s.claim_seconds,
    )
