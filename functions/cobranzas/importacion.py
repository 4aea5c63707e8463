"""The logic behind importar/csv, importar/url, importar/reporte and the S3 drop: import a collections
file into the ledger and report it.

An import streams the file (``Lector``), looks up what the period already holds (one GSI query),
and writes only new or changed rows, 100 actions per conditional transaction. Re-import semantics
(docs/decisions.md): the same client, concept and period is the same collection; while it is EMI a
re-import updates it, once ACP it is never touched (a changed row fails, an unchanged one counts as
imported). Rows absent from a re-import stay as they were.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import NoReturn

from cobranzas.deps import CobranzasDeps, default_cobranzas_deps
from cobranzas.integradores import autenticar, periodo_en_curso
from recaudo.data.cobranzas_acciones import MAX_ACCIONES, Grupo
from recaudo.errors import CobranzasError
from recaudo.formats.cobranzas import ArchivoInvalido, Fallida, Lector
from recaudo.models.cobranzas import Integrador, Resultado
from recaudo.models.ledger import EstadoDeuda
from recaudo.observability import logger

CHUNK_BYTES = 64 * 1024
PREFIJO_ENTRADA = "entrada"
PREFIJO_REPORTES = "reportes"
# an import id or a dropped file's name: one path segment under the integrator's own prefix
_NOMBRE_IMPORTACION = re.compile(r"^[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,199}$")
MOTIVO_PAGADA = "la cobranza ya fue pagada (ACP): no se modifica"
MOTIVO_CONDICION = "la cobranza fue pagada durante la importación o su número de factura está en uso: no se modificó"


class _Lote:
    """Groups waiting for the next transaction (at most MAX_ACCIONES actions)."""

    def __init__(self, deps: CobranzasDeps, resultado: Resultado, personas: set[str]) -> None:
        self.deps, self.resultado, self.personas = deps, resultado, personas
        self.grupos: list[Grupo] = []
        self.acciones = 0

    def agregar(self, grupos: list[Grupo]) -> None:
        n = sum(len(g.acciones) for g in grupos)
        if self.acciones + n > MAX_ACCIONES:
            self.enviar()
        self.grupos.extend(grupos)
        self.acciones += n

    def enviar(self) -> None:
        if not self.grupos:
            return
        grupos, self.grupos, self.acciones = self.grupos, [], 0
        rechazos = self.deps.cobranzas.escribir(grupos)
        rechazadas = {id(r.fila) for r in rechazos}
        for r in rechazos:
            self.resultado.fallar(Fallida(r.fila.linea, MOTIVO_CONDICION))
        filas = [g.fila for g in grupos if g.fila is not None]
        escritas = [f for f in filas if id(f) not in rechazadas]
        self.resultado.importados += len(escritas)
        self.resultado.escritas += len(escritas)
        if not escritas:  # nothing was sent: the profiles in this batch were not written either
            for g in grupos:
                if g.cliente is not None:
                    self.personas.discard(g.cliente)


def importar(integrador: Integrador, chunks: Iterable[bytes], importacion: str, deps: CobranzasDeps) -> Resultado:
    """Import one file for the integrator's current period. Whole-file problems give an ERROR
    result with nothing written; row problems are counted and reported by line."""
    periodo = periodo_en_curso(integrador, deps)
    resultado = Resultado(periodo.codigo)
    existentes = deps.cobranzas.existentes(integrador.id, periodo.codigo)
    personas = {cliente for cliente, _ in existentes}
    acciones = deps.cobranzas.acciones(integrador, periodo, importacion)
    lote = _Lote(deps, resultado, personas)
    lector = Lector()
    try:
        for fila in lector.filas(chunks):
            if isinstance(fila, Fallida):
                resultado.fallar(fila)
                continue
            huella = fila.huella()
            antes = existentes.get(fila.clave)
            if antes is not None:
                if antes.huella == huella:
                    resultado.importados += 1  # already there, exactly as sent
                elif antes.estado != EstadoDeuda.PENDIENTE.value:
                    resultado.fallar(Fallida(fila.linea, MOTIVO_PAGADA))
                else:
                    lote.agregar([acciones.fila(fila, huella, nueva=False)])
                continue
            grupos: list[Grupo] = []
            if fila.id_cliente not in personas:
                personas.add(fila.id_cliente)
                grupos.append(acciones.persona(fila))
            grupos.append(acciones.fila(fila, huella, nueva=True))
            lote.agregar(grupos)
        lote.enviar()
    except ArchivoInvalido as exc:
        resultado.error = str(exc)
    logger.info(
        "cobranzas imported",
        extra={
            "integrador": integrador.id,
            "importacion": importacion,
            "periodo": periodo.codigo,
            "importados": resultado.importados,
            "escritas": resultado.escritas,
            "fallidos": resultado.fallidos,
            "error": resultado.error,
        },
    )
    return resultado


def trozos(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK_BYTES):
        yield data[start : start + CHUNK_BYTES]


def _nueva_importacion(deps: CobranzasDeps) -> tuple[str, datetime]:
    now = deps.clock()
    return f"http-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}", now


def importar_http(hash_: str | None, contenido: bytes | None, deps: CobranzasDeps | None = None) -> tuple[str, str]:
    """POST importar/csv: -> (reply line, importacion id). Whole-file errors raise CobranzasError
    carrying the import id, so that their report can be fetched."""
    deps = deps or default_cobranzas_deps()
    integrador = autenticar(hash_, deps)
    if contenido is None:
        rechazar_http(hash_, "falta el archivo (campo 'file' del formulario multipart)", deps=deps)
    if len(contenido) > deps.max_http_bytes:
        raise CobranzasError(
            f"archivo demasiado grande para este endpoint (máximo {deps.max_http_bytes} bytes): "
            "pida una URL de carga en /api2/cobranzas/importar/url",
            413,
        )
    importacion, now = _nueva_importacion(deps)
    deps.cobranzas.reclamar_importacion(integrador.id, importacion, "http", "", now, deps.claim_seconds)
    resultado = importar(integrador, trozos(contenido), importacion, deps)
    clave = f"{PREFIJO_REPORTES}/{integrador.id}/{importacion}.txt"
    deps.archivos.poner_texto(clave, resultado.reporte())
    deps.cobranzas.terminar_importacion(
        integrador.id, importacion, resultado.linea(), clave, resultado.importados, resultado.fallidos
    )
    if resultado.error is not None:
        raise CobranzasError(resultado.error, importacion=importacion)
    return resultado.linea(), importacion


def rechazar_http(hash_: str | None, motivo: str, status: int = 400, deps: CobranzasDeps | None = None) -> NoReturn:
    """A whole-file problem found before any row could be read (no file, a broken multipart body):
    once the hash is known, the refusal is recorded as an import whose report is the ERROR line,
    and the reply carries its id. Without a valid hash it is refused (401) with no record."""
    deps = deps or default_cobranzas_deps()
    integrador = autenticar(hash_, deps)
    importacion, now = _nueva_importacion(deps)
    deps.cobranzas.reclamar_importacion(integrador.id, importacion, "http", "", now, deps.claim_seconds)
    resultado = Resultado(periodo_en_curso(integrador, deps).codigo, error=motivo)
    clave = f"{PREFIJO_REPORTES}/{integrador.id}/{importacion}.txt"
    deps.archivos.poner_texto(clave, resultado.reporte())
    deps.cobranzas.terminar_importacion(integrador.id, importacion, resultado.linea(), clave, 0, 0)
    raise CobranzasError(motivo, status, importacion=importacion)


def clave_reporte(integrador: Integrador, importacion: str) -> str:
    if not _NOMBRE_IMPORTACION.match(importacion):
        raise CobranzasError("importacion inválida")
    if importacion.startswith("http-"):
        return f"{PREFIJO_REPORTES}/{integrador.id}/{importacion}.txt"
    return f"{PREFIJO_ENTRADA}/{integrador.id}/{importacion}.resultado.txt"


def obtener_reporte(hash_: str | None, importacion: str | None, deps: CobranzasDeps | None = None) -> str:
    """The report of an HTTP import (its id) or of an S3 drop (the file's name under the prefix)."""
    deps = deps or default_cobranzas_deps()
    integrador = autenticar(hash_, deps)
    if not importacion:
        raise CobranzasError("falta importacion")
    texto = deps.archivos.leer_texto(clave_reporte(integrador, importacion))
    if texto is None:
        raise CobranzasError("reporte no encontrado (la importación puede estar en curso)", 404)
    return texto


def url_de_carga(hash_: str | None, deps: CobranzasDeps | None = None) -> tuple[str, str]:
    """A presigned PUT for a file too large for the HTTP endpoint -> (url, name of the report)."""
    deps = deps or default_cobranzas_deps()
    integrador = autenticar(hash_, deps)
    nombre = f"{deps.clock():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.csv"
    clave = f"{PREFIJO_ENTRADA}/{integrador.id}/{nombre}"
    return deps.archivos.url_put(clave, deps.upload_url_seconds), nombre
