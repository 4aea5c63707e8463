"""The logic behind importar/csv, importar/url, importar/reporte and the S3 drop: import a collections
file into the ledger and report it.

An import streams the file (``Lector``), looks up what the ledger holds of its rows (by key, a few
hundred rows at a time), and writes only new or changed rows, 100 actions per conditional
transaction. Re-import semantics
(docs/decisions.md): the same client, concept and period is the same collection; while it is EMI a
re-import updates it, once ACP it is never touched (a changed row fails, an unchanged one counts as
imported). Rows absent from a re-import stay as they were.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import NoReturn

from cobranzas.deps import CobranzasDeps, default_cobranzas_deps
from cobranzas.integradores import autenticar, periodo_en_curso
from recaudo.data.cobranzas import Rechazo
from recaudo.data.cobranzas_acciones import MAX_ACCIONES, Grupo
from recaudo.errors import CobranzasError
from recaudo.formats.cobranzas import ArchivoInvalido, Fallida, Fila, Lector
from recaudo.models.cobranzas import Integrador, Reanudacion, Resultado
from recaudo.models.ledger import EstadoDeuda
from recaudo.observability import logger

CHUNK_BYTES = 64 * 1024
# rows looked up together (BatchGetItem by key, 100 per request, side by side)
LOTE_CONSULTA = 400
PREFIJO_ENTRADA = "entrada"
PREFIJO_REPORTES = "reportes"
# an import id or a dropped file's name: one path segment under the integrator's own prefix
_NOMBRE_IMPORTACION = re.compile(r"^[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,199}$")
MOTIVO_PAGADA = "la cobranza ya fue pagada (ACP): no se modifica"
MOTIVO_CONDICION = "la cobranza fue pagada durante la importación o su número de factura está en uso: no se modificó"


class _Escritor:
    """Batches write groups into transactions of at most ``MAX_ACCIONES`` actions and sends them
    from ``escritores`` threads, at most one batch per thread in flight. Results are counted in
    the caller's thread. A batch that fails stops the sending; what was written is still counted."""

    def __init__(
        self,
        deps: CobranzasDeps,
        resultado: Resultado,
        reintentar: Callable[[Fila], Grupo] | None = None,
        rechazadas: list[Fallida] | None = None,
    ) -> None:
        self.deps, self.resultado, self.reintentar = deps, resultado, reintentar
        self.rechazadas = rechazadas if rechazadas is not None else []  # failures the ledger decided
        self.reintentos: list[Grupo] = []  # new rows found to exist meanwhile: sent again as updates
        self.grupos: list[Grupo] = []
        self.acciones = 0
        self.pool = ThreadPoolExecutor(max_workers=deps.escritores) if deps.escritores > 1 else None
        self.en_vuelo: dict[Future[list[Rechazo]], list[Grupo]] = {}
        self.max_en_vuelo = deps.escritores
        self.latencia = 0.0  # the slowest transaction so far (seconds): what draining one may take
        self.fallo: BaseException | None = None

    def agregar(self, grupos: list[Grupo]) -> None:
        if self.reintentos:
            reintentos, self.reintentos = self.reintentos, []
            for grupo in reintentos:
                self.agregar([grupo])
        n = sum(len(g.acciones) for g in grupos)
        if self.acciones + n > MAX_ACCIONES:
            self.enviar()
        self.grupos.extend(grupos)
        self.acciones += n

    def enviar(self) -> None:
        if not self.grupos or self.fallo is not None:
            return
        grupos, self.grupos, self.acciones = self.grupos, [], 0
        if self.pool is None:
            try:
                self._contar(grupos, self.deps.cobranzas.escribir(grupos))
            except Exception as exc:  # noqa: BLE001 (kept, raised by terminar with what was written)
                self.fallo = self.fallo or exc
            return
        while len(self.en_vuelo) >= self.max_en_vuelo:
            self._esperar(FIRST_COMPLETED)
        if self.fallo is None:
            self.en_vuelo[self.pool.submit(self._escribir, grupos)] = grupos

    def _escribir(self, grupos: list[Grupo]) -> list[Rechazo]:
        inicio = self.deps.monotonic()
        try:
            return self.deps.cobranzas.escribir(grupos)
        finally:
            self.latencia = max(self.latencia, self.deps.monotonic() - inicio)

    def drenaje(self) -> float:
        """How long finishing the batches in flight may take: they run side by side, and a latency
        measured by a writer already includes any wait behind the others (DynamoDB throttling, or the
        local stack's serialised emulator); twice the slowest seen, as a margin."""
        return 2 * self.latencia if self.en_vuelo else 0.0

    def terminar(self) -> None:
        """Send the last batch, wait for every batch in flight, and raise the first failure."""
        try:
            while True:
                if self.fallo is None:
                    self.agregar([])  # the retries still waiting
                    self.enviar()
                self._esperar(ALL_COMPLETED)
                if self.fallo is not None or not self.reintentos:
                    break
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
        if self.fallo is not None:
            raise self.fallo

    def _esperar(self, cuando: str) -> None:
        if not self.en_vuelo:
            return
        hechos, _ = wait(self.en_vuelo, return_when=cuando)
        for futuro in hechos:
            grupos = self.en_vuelo.pop(futuro)
            error = futuro.exception()
            if error is not None:
                self.fallo = self.fallo or error
            else:
                self._contar(grupos, futuro.result())

    def _contar(self, grupos: list[Grupo], rechazos: list[Rechazo]) -> None:
        nuevas = {id(g.fila) for g in grupos if g.nueva}
        rechazadas = {id(r.fila) for r in rechazos}
        for r in rechazos:
            if r.acciones == {0} and id(r.fila) in nuevas and self.reintentar is not None:
                # only the debt's "attribute_not_exists" failed: another import wrote this very row
                # meanwhile (its invoice pointer names it); write it as an update of that collection
                self.reintentos.append(self.reintentar(r.fila))
            else:
                fallida = Fallida(r.fila.linea, MOTIVO_CONDICION)
                self.resultado.fallar(fallida)
                self.rechazadas.append(fallida)
        escritas = sum(1 for g in grupos if g.fila is not None and id(g.fila) not in rechazadas)
        self.resultado.importados += escritas
        self.resultado.escritas += escritas


class ImportacionInterrumpida(Exception):
    """A write failed mid-file. ``resultado`` counts what was written before: a resend completes it."""

    def __init__(self, resultado: Resultado, causa: BaseException) -> None:
        super().__init__(f"{type(causa).__name__} tras {resultado.escritas} filas escritas")
        self.resultado = resultado
        self.causa = causa


def importar(
    integrador: Integrador,
    chunks: Iterable[bytes],
    importacion: str,
    deps: CobranzasDeps,
    limite: float | None = None,
    archivo: str = "",
) -> Resultado:
    """Import one file for the integrator's current period. Whole-file problems give an ERROR
    result with nothing written; row problems are counted and reported by line.

    ``limite`` (a ``deps.monotonic()`` instant) is the time budget: once finishing the batches in
    flight (twice the slowest latency seen) would pass it, no more rows are read,
    those batches are finished, and the result says the import is incomplete. Its resume point is
    kept (``archivo``: the file's SHA-256), and a resend of the very same file, if no other import of
    the period came in between, reads its first lines again without looking them up or writing them.
    A whole import of such a file leaves its point past the last line: a resend of the same bytes is
    answered with the same counts, nothing looked up or written. A failed write raises
    ``ImportacionInterrumpida``."""
    periodo = periodo_en_curso(integrador, deps)
    resultado = Resultado(periodo.codigo)
    punto = deps.cobranzas.empezar(integrador.id, periodo.codigo, importacion, archivo)
    desde = 0  # the first line this attempt looks up: those before were settled by an earlier one
    rechazadas: list[Fallida] = []  # failures the ledger decided: a resume point keeps them
    if punto is not None:
        desde = punto.linea
        resultado.importados = punto.importados
        for fallida in punto.rechazadas:
            resultado.fallar(fallida)
        rechazadas.extend(punto.rechazadas)
    personas: set[str] = set()  # clients whose profile this import writes (with their first written row)
    acciones = deps.cobranzas.acciones(integrador, periodo, importacion)
    escritor = _Escritor(deps, resultado, lambda fila: acciones.fila(fila, fila.huella(), nueva=False), rechazadas)
    pendientes: list[Fila] = []  # rows read, waiting for their look-ahead

    def procesar() -> None:
        try:
            existentes = deps.cobranzas.existentes(acciones, pendientes)
        except Exception as exc:  # noqa: BLE001 (kept: a failed read stops the import like a failed write)
            escritor.fallo = escritor.fallo or exc
            pendientes.clear()
            return
        for fila in pendientes:
            huella = fila.huella()
            antes = existentes.get(fila.clave)
            if antes is not None:
                if antes.huella == huella:
                    resultado.importados += 1  # already there, exactly as sent
                    continue
                if antes.estado != EstadoDeuda.PENDIENTE.value:
                    pagada = Fallida(fila.linea, MOTIVO_PAGADA)
                    resultado.fallar(pagada)
                    rechazadas.append(pagada)
                    continue
            grupos: list[Grupo] = []
            if fila.id_cliente not in personas:
                # the profile follows the integrator's newest file: written with the client's first written row
                personas.add(fila.id_cliente)
                grupos.append(acciones.persona(fila))
            grupos.append(acciones.fila(fila, huella, nueva=antes is None))
            escritor.agregar(grupos)
        pendientes.clear()

    lector = Lector()
    ultima = 0  # the last line read
    try:
        for fila in lector.filas(chunks):
            ultima = fila.linea
            if escritor.fallo is not None:
                break
            if fila.linea < desde:  # settled by an earlier attempt at this very file: only read again
                if isinstance(fila, Fallida):
                    resultado.fallar(fila)  # the same bytes fail the same way: counted again, not kept
                continue
            if limite is not None and deps.monotonic() + escritor.drenaje() > limite:
                resultado.incompleta = fila.linea
                break
            if isinstance(fila, Fallida):
                resultado.fallar(fila)
                continue
            pendientes.append(fila)
            if len(pendientes) >= LOTE_CONSULTA:
                procesar()
    except ArchivoInvalido as exc:
        resultado.error = str(exc)
    try:
        if pendientes and escritor.fallo is None:
            procesar()  # the rows already read are settled before stopping, whatever stopped the reading
        escritor.terminar()
    except Exception as exc:
        _registrar(integrador, importacion, periodo.codigo, resultado, error=repr(exc))
        raise ImportacionInterrumpida(resultado, exc) from exc
    if archivo and resultado.error is None:
        # cut short: where to resume; whole: past its last line, so that a resend of the same bytes
        # (a client that did not get the reply) is answered from it, nothing looked up or written
        linea = resultado.incompleta if resultado.incompleta is not None else ultima + 1
        reanudable = deps.cobranzas.pausar(
            integrador.id, periodo.codigo, importacion, Reanudacion(linea, resultado.importados, tuple(rechazadas))
        )
        if not reanudable:
            logger.info("cobranzas import not resumable", extra={"importacion": importacion})
    _registrar(integrador, importacion, periodo.codigo, resultado)
    return resultado


def _registrar(integrador: Integrador, importacion: str, periodo: str, r: Resultado, error: str = "") -> None:
    logger.info(
        "cobranzas imported" if not error else "cobranzas import interrupted",
        extra={
            "integrador": integrador.id,
            "importacion": importacion,
            "periodo": periodo,
            "importados": r.importados,
            "escritas": r.escritas,
            "fallidos": r.fallidos,
            "incompleta": r.incompleta,
            "error": r.error or error or None,
        },
    )


def trozos(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK_BYTES):
        yield data[start : start + CHUNK_BYTES]


def _nueva_importacion(deps: CobranzasDeps) -> tuple[str, datetime]:
    now = deps.clock()
    return f"http-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}", now


def importar_http(hash_: str | None, contenido: bytes | None, deps: CobranzasDeps | None = None) -> tuple[str, str]:
    """POST importar/csv: -> (reply line, importacion id). Whole-file errors raise CobranzasError
    carrying the import id, so that their report can be fetched. The file is imported within
    ``deps.plazo_http`` seconds (the gateway's 29 s, less what the reply needs): when the budget runs
    out, or a write fails, the reply says how far it got (503) and a resend of the file completes it."""
    deps = deps or default_cobranzas_deps()
    limite = deps.monotonic() + deps.plazo_http
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
    try:
        archivo = hashlib.sha256(contenido).hexdigest()
        resultado = importar(integrador, trozos(contenido), importacion, deps, limite=limite, archivo=archivo)
    except ImportacionInterrumpida as exc:
        logger.exception("cobranzas import interrupted", extra={"importacion": importacion})
        resultado = exc.resultado
        resultado.interrumpida = True
    clave = f"{PREFIJO_REPORTES}/{integrador.id}/{importacion}.txt"
    deps.archivos.poner_texto(clave, resultado.reporte())
    deps.cobranzas.terminar_importacion(
        integrador.id, importacion, resultado.linea(), clave, resultado.importados, resultado.fallidos
    )
    if resultado.error is not None:
        raise CobranzasError(resultado.error, importacion=importacion)
    if not resultado.terminada:
        raise CobranzasError(resultado.linea().removeprefix("ERROR: "), 503, importacion=importacion)
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
