"""The logic behind the S3 drop: an object put under ``entrada/<integrador>/`` is imported and its
report written next to it (docs/decisions.md, "S3 drops"). Nothing dropped is ignored silently:

- exactly the version the event names is read, and each version is claimed once
  (``IMP#<integrador>`` / ``s3-<hash of key and versionId>``): a redelivered event imports nothing;
- each version's report is ``<key>.<versionId>.resultado.txt``; ``<key>.resultado.txt`` is the report
  of the key's current version (removed while that version is being imported, so ``importar/reporte``
  answers "en curso" instead of an earlier version's report);
- any key under the prefix is a file, whatever its suffix or folder depth, except our own reports
  (recognised by their metadata, so a report never triggers an import) and console folder markers;
- a drop that cannot be imported (no integrator folder, unknown or inactive integrator) gets a report
  saying why, and nothing is imported;
- a failed import gives its claim back and raises, so that Lambda's own retries take it (and, once they
  are spent, its on-failure destination keeps the event). A run that would outlive the function stops
  reading rows in time to do the same (the retry skips the rows already written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from hashlib import blake2b

from cobranzas.deps import CobranzasDeps, default_cobranzas_deps
from cobranzas.importacion import CHUNK_BYTES, PREFIJO_ENTRADA, importar
from recaudo.models.cobranzas import Integrador, Resultado
from recaudo.observability import logger

SUFIJO_REPORTE = ".resultado.txt"
# A run stops reading rows this long before the function's timeout, to finish the transactions in flight,
# give its claim back and say so in the report.
MARGEN_SEGUNDOS = 20.0
# A version id as S3 issues them (letters, digits, "._-") names its report as is; anything else by digest.
_ETIQUETA = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MOTIVO_FALLA = (
    "error interno al importar el archivo; se reintenta automáticamente y, si vuelve a fallar, "
    "el operador es alertado (las filas ya escritas no se duplican)"
)
MOTIVO_TIEMPO = (
    "importación incompleta: se agotó el tiempo de la función antes de la línea {linea}; se reintenta "
    "automáticamente y continúa (las filas ya escritas no se duplican)"
)


class TiempoAgotado(Exception):
    """The function's deadline was near: the import stopped reading rows (``linea``: the first not
    read) and its claim was given back. Lambda's retry resumes it (rows already written are skipped)."""

    def __init__(self, linea: int) -> None:
        super().__init__(f"importación incompleta en la línea {linea}: se reintenta")
        self.linea = linea


@dataclass(frozen=True)
class Entrega:
    """One object-created record: the object's key (decoded) and the version the event names."""

    clave: str
    version: str | None = None  # S3's versionId; absent (or "null") when the bucket is not versioned
    secuenciador: str | None = None
    etag: str | None = None

    @property
    def versionada(self) -> bool:
        return bool(self.version) and self.version != "null"

    @property
    def version_leida(self) -> str | None:
        """The version to read: the event's, or the current object on an unversioned bucket."""
        return self.version if self.versionada else None

    @property
    def importacion(self) -> str:
        """The claim's id: per version (key and versionId); only on an unversioned bucket, the key and
        the event's sequencer (or ETag)."""
        version = self.version if self.versionada else (self.secuenciador or self.etag or "")
        return "s3-" + blake2b(f"{self.clave}\x1f{version}".encode(), digest_size=16).hexdigest()

    @property
    def clave_reporte(self) -> str:
        """This version's own report (``importar/reporte?importacion=<name>.<versionId>``)."""
        if not self.versionada or self.version is None:
            return self.clave + SUFIJO_REPORTE
        return f"{self.clave}.{etiqueta(self.version)}{SUFIJO_REPORTE}"

    @property
    def clave_ultimo(self) -> str:
        """The report of the key's current version (``importar/reporte?importacion=<name>``)."""
        return self.clave + SUFIJO_REPORTE


def etiqueta(version: str) -> str:
    """A version id as it appears in its report's key: itself when it is a plain token, otherwise a
    digest of it (32 hex digits), so that the key stays one path segment."""
    if _ETIQUETA.match(version):
        return version
    return blake2b(version.encode(), digest_size=16).hexdigest()


def importar_objeto(
    entrega: Entrega, deps: CobranzasDeps | None = None, segundos_restantes: float | None = None
) -> str | None:
    """Import one dropped object and report it next to it. Returns the report's first line, or None
    when there was nothing to do (our own report, a folder marker, an import already claimed).
    ``segundos_restantes``: the time left before the function's timeout (None: no deadline)."""
    deps = deps or default_cobranzas_deps()
    clave = entrega.clave
    partes = clave.split("/")
    if partes[0] != PREFIJO_ENTRADA or clave.endswith("/"):
        # outside the inbox (the notification's filter keeps those away), or a console "folder"
        logger.info("object is not a dropped file: ignored", extra={"key": clave})
        return None
    if clave.endswith(SUFIJO_REPORTE) and deps.archivos.es_reporte(clave, entrega.version_leida):
        return None  # one of our reports: never a file to import (no loop)
    if len(partes) < 3 or not partes[1]:
        return _rechazar(entrega, f"el archivo debe ir en {PREFIJO_ENTRADA}/<integrador>/; no se importó", deps)
    integrador = deps.integradores.get(partes[1])
    if integrador is None:
        return _rechazar(entrega, f"integrador desconocido: {partes[1]}; el archivo no se importó", deps)
    if not integrador.activo:
        return _rechazar(entrega, f"el integrador {integrador.id} está inactivo; el archivo no se importó", deps)
    return _importar(integrador, entrega, deps, segundos_restantes)


def _importar(
    integrador: Integrador, entrega: Entrega, deps: CobranzasDeps, segundos_restantes: float | None
) -> str | None:
    importacion = entrega.importacion
    extra = {"key": entrega.clave, "version": entrega.version, "importacion": importacion}
    if not deps.cobranzas.reclamar_importacion(
        integrador.id, importacion, "s3", entrega.clave, deps.clock(), deps.claim_seconds
    ):
        logger.info("duplicate delivery: import already claimed", extra=extra)
        return None
    try:
        if _es_actual(entrega, deps):  # importar/reporte?importacion=<name> answers "en curso" meanwhile
            deps.archivos.borrar(entrega.clave_ultimo)
        chunks = deps.archivos.trozos(entrega.clave, CHUNK_BYTES, entrega.version_leida)
        resultado = importar(integrador, chunks, importacion, deps, limite=_limite(segundos_restantes, deps))
        if resultado.incompleta is not None:
            raise TiempoAgotado(resultado.incompleta)
        reporte = _reportar(entrega, resultado.reporte(), deps)
        deps.cobranzas.terminar_importacion(
            integrador.id, importacion, resultado.linea(), reporte, resultado.importados, resultado.fallidos
        )
    except Exception as exc:
        logger.exception("import failed: its claim is given back and Lambda retries it", extra=extra)
        try:
            deps.cobranzas.liberar_importacion(integrador.id, importacion)
        finally:
            _reportar_falla(entrega, exc, deps)
        raise
    return resultado.linea()


def _rechazar(entrega: Entrega, motivo: str, deps: CobranzasDeps) -> str:
    """A drop that is not imported: its report says why."""
    logger.warning("dropped file refused", extra={"key": entrega.clave, "version": entrega.version, "motivo": motivo})
    resultado = Resultado("", error=motivo)
    _reportar(entrega, resultado.reporte(), deps)
    return resultado.linea()


def _es_actual(entrega: Entrega, deps: CobranzasDeps) -> bool:
    """Whether the event's version is still the key's current one (a later PUT makes it not)."""
    return entrega.versionada and deps.archivos.version_actual(entrega.clave) == entrega.version


def _reportar(entrega: Entrega, texto: str, deps: CobranzasDeps) -> str:
    """The version's own report, and the key's latest report while this version is the current one."""
    deps.archivos.poner_texto(entrega.clave_reporte, texto)
    if _es_actual(entrega, deps):
        deps.archivos.poner_texto(entrega.clave_ultimo, texto)
    return entrega.clave_reporte


def _reportar_falla(entrega: Entrega, exc: Exception, deps: CobranzasDeps) -> None:
    """Until the retry's own report replaces it, the report says the import failed and is retried."""
    motivo = MOTIVO_TIEMPO.format(linea=exc.linea) if isinstance(exc, TiempoAgotado) else MOTIVO_FALLA
    try:
        _reportar(entrega, Resultado("", error=motivo).reporte(), deps)
    except Exception:  # noqa: BLE001 - best effort: the failure itself is raised, retried and alarmed
        logger.warning("the failure report could not be written", extra={"key": entrega.clave}, exc_info=True)


def _limite(segundos_restantes: float | None, deps: CobranzasDeps) -> float | None:
    """The instant (``deps.monotonic()``) after which no more rows are read: the margin before the
    function's timeout, or half the time left when that is shorter. None: no deadline."""
    if segundos_restantes is None:
        return None
    return deps.monotonic() + max(segundos_restantes - MARGEN_SEGUNDOS, segundos_restantes / 2)
