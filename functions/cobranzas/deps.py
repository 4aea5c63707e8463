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


class _ArchivosAlUsarlo:
    """The bucket's client, built on the first call that needs it: the export endpoints never touch the
    bucket, so they never build an S3 client (~70 ms of a cold start, S3's service model and endpoint
    rules). The import endpoints and the S3 import build it on their first request, as before at init."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self._s3: Archivos | None = None

    def _archivos(self) -> Archivos:
        if self._s3 is None:
            from recaudo.aws import client
            from recaudo.data.archivos import Archivos as ArchivosS3

            self._s3 = ArchivosS3(client("s3"), self.bucket)
        return self._s3

    def trozos(self, key: str, chunk_bytes: int, version: str | None) -> Iterator[bytes]:
        return self._archivos().trozos(key, chunk_bytes, version)

    def poner_texto(self, key: str, text: str) -> None:
        self._archivos().poner_texto(key, text)

    def leer_texto(self, key: str) -> str | None:
        return self._archivos().leer_texto(key)

    def borrar(self, key: str) -> None:
        self._archivos().borrar(key)

    def es_reporte(self, key: str, version: str | None) -> bool:
        return self._archivos().es_reporte(key, version)

    def version_actual(self, key: str) -> str | None:
        return self._archivos().version_actual(key)

    def url_put(self, key: str, seconds: int) -> str:
        return self._archivos().url_put(key, seconds)


@cache
def default_cobranzas_deps() -> CobranzasDeps:
    from recaudo.aws import client
    from recaudo.data.cobranzas import CobranzasRepository
    from recaudo.data.integradores import IntegradoresRepository
    from recaudo.settings import CobranzasSettings, load

    s = load(CobranzasSettings)
    ddb = client("dynamodb")
    return CobranzasDeps(
        cobranzas=CobranzasRepository(s.ledger_table, ddb, page_limit=s.query_page_limit),
        integradores=IntegradoresRepository(s.credentials_table, ddb),
        archivos=_ArchivosAlUsarlo(s.bucket),
        max_http_bytes=s.max_http_bytes,
        plazo_http=s.http_import_budget_seconds,
        escritores=s.import_writers,
        upload_url_seconds=s.upload_url_seconds,
        claim_seconds=s.claim_seconds,
    )
