"""The logic behind the S3 drop: a file put at ``entrada/<integrador>/<name>.csv`` is imported
and its report written next to it (``<key>.resultado.txt``)."""

from __future__ import annotations

from hashlib import blake2b

from cobranzas.deps import CobranzasDeps, default_cobranzas_deps
from cobranzas.importacion import CHUNK_BYTES, PREFIJO_ENTRADA, importar
from recaudo.observability import logger


def importar_objeto(bucket_key: str, version: str, deps: CobranzasDeps | None = None) -> str | None:
    """Import a file dropped at ``entrada/<integrador>/<name>.csv``; the report goes next to it.
    ``version`` (the event's sequencer or ETag) names this version of the object: a second delivery
    of the same event finds the import claimed and does nothing. Returns the reply line, or None."""
    deps = deps or default_cobranzas_deps()
    partes = bucket_key.split("/")
    if len(partes) != 3 or partes[0] != PREFIJO_ENTRADA or not partes[2]:
        logger.warning("object outside an integrator prefix ignored", extra={"key": bucket_key})
        return None
    integrador = deps.integradores.get(partes[1])
    if integrador is None:
        logger.warning("object under an unknown integrator prefix ignored", extra={"key": bucket_key})
        return None
    importacion = "s3-" + blake2b(f"{bucket_key}\x1f{version}".encode(), digest_size=16).hexdigest()
    now = deps.clock()
    if not deps.cobranzas.reclamar_importacion(integrador.id, importacion, "s3", bucket_key, now, deps.claim_seconds):
        logger.info("duplicate delivery: import already claimed", extra={"key": bucket_key, "importacion": importacion})
        return None
    resultado = importar(integrador, deps.archivos.trozos(bucket_key, CHUNK_BYTES), importacion, deps)
    clave = f"{bucket_key}.resultado.txt"
    deps.archivos.poner_texto(clave, resultado.reporte())
    deps.cobranzas.terminar_importacion(
        integrador.id, importacion, resultado.linea(), clave, resultado.importados, resultado.fallidos
    )
    return resultado.linea()
