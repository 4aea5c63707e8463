"""Polling afacturar: the schedule's planner and the batch poller (docs/decisions.md, "RADIAN: polling").

- ``planificar``: the schedule fires it; it slices the due invoices (next poll at or before now) into
  batches of GSI1 key ranges and starts one run of the state machine, whose Map polls at most
  ``MaxConcurrency`` batches at a time. A scheduled run still going means this tick starts nothing.
- ``sondear_lote``: one batch, with async httpx under a semaphore and a rate limiter. Each reply is
  applied on its own (``aplicar``): events stored by CUDE and the badges written under the version
  read, in one transaction; a change of badges publishes one ``InvoiceStatusChanged``. afacturar
  refusing our token (401, 11) stops the run: the batch raises ``AfacturarNoAutenticado`` and the
  alarm metric is counted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from radian.deps import PREFIJO_PROGRAMADO, Afacturar, SondeoDeps, default_sondeo_deps
from recaudo.clients.radian import ResultadoSondeo, Sondeo
from recaudo.events import PublishFailed
from recaudo.models.radian import (
    AfacturarNoAutenticado,
    CambioEstado,
    Evento,
    Factura,
    fin_de_sondeo,
    insignias,
    proximo_tras_exito,
    proximo_tras_fallo,
)
from recaudo.observability import logger

_INTENTOS = 8  # re-reads after losing a race with another poller (poll now, a scheduled run, …)


@dataclass
class Resumen:
    sondeadas: int = 0
    cambios: int = 0
    eventos_nuevos: int = 0
    sin_cambio: int = 0
    reintentar: int = 0
    fallidas: int = 0
    terminadas: int = 0
    no_autenticado: bool = False

    def sumar(self, otro: Resumen) -> None:
        for campo in dataclasses.fields(self):
            if campo.name != "no_autenticado":
                setattr(self, campo.name, getattr(self, campo.name) + getattr(otro, campo.name))
        self.no_autenticado |= otro.no_autenticado


# ---- the schedule ----


def planificar(deps: SondeoDeps | None = None) -> dict[str, Any]:
    deps = deps or default_sondeo_deps()
    ahora = deps.clock()
    if deps.flujo.running(PREFIJO_PROGRAMADO):
        deps.metricas.count("SondeoOmitido")
        return {"iniciado": False, "motivo": "una ejecución programada sigue en curso"}
    lotes = [
        {"shard": lote.shard, "desde": lote.desde, "hasta": lote.hasta}
        for lote in deps.facturas.lotes(ahora, deps.tamano_lote, deps.max_lotes)
    ]
    if not lotes:
        return {"iniciado": False, "motivo": "ninguna factura vence", "lotes": 0}
    nombre = f"{PREFIJO_PROGRAMADO}{ahora:%Y%m%dT%H%M%S}-{random.getrandbits(32):08x}"
    ejecucion = deps.flujo.start(nombre, {"lotes": lotes})
    deps.metricas.count("LotesPlanificados", len(lotes))
    return {"iniciado": True, "ejecucion": ejecucion, "lotes": len(lotes)}


# ---- one batch ----


def _del_lote(lote: dict[str, Any], deps: SondeoDeps) -> list[Factura]:
    """A batch is a slice of the polling index (scheduled) or named invoices ("poll now")."""
    if "facturas" in lote:
        out = []
        for clave in lote["facturas"]:
            factura = deps.facturas.get(str(clave["tenant"]), str(clave["cufe"]))
            if factura is not None:
                out.append(factura)
        return out
    return deps.facturas.del_lote(int(lote["shard"]), str(lote["desde"]), str(lote["hasta"]))


def sondear_lote(lote: dict[str, Any], deps: SondeoDeps | None = None) -> dict[str, Any]:
    deps = deps or default_sondeo_deps()
    facturas = _del_lote(lote, deps)
    if not facturas:  # all polled or deleted since the plan: no client, no secret read
        return dataclasses.asdict(Resumen())
    resumen = asyncio.run(sondear(facturas, deps))
    for nombre, valor in (("Sondeos", resumen.sondeadas), ("CambiosDeEstado", resumen.cambios)):
        deps.metricas.count(nombre, valor)
    if resumen.reintentar or resumen.fallidas:
        deps.metricas.count("SondeosFallidos", resumen.reintentar + resumen.fallidas)
    if resumen.no_autenticado:
        deps.metricas.count("AfacturarNoAutenticado")  # the alarm's metric
        raise AfacturarNoAutenticado("afacturar rechazó el token: la ejecución se detiene")
    return dataclasses.asdict(resumen)


async def sondear(facturas: list[Factura], deps: SondeoDeps) -> Resumen:
    """Poll each invoice once: at most ``concurrencia`` calls in flight and ``por_segundo`` started
    per second. A reply is written (DynamoDB, EventBridge: blocking calls) by a pool of as many
    threads, after its call has given its slot to the next one. The first 401 stops new calls."""
    from concurrent.futures import ThreadPoolExecutor

    from aiolimiter import AsyncLimiter

    resumen = Resumen()
    semaforo = asyncio.Semaphore(deps.concurrencia)
    limite = AsyncLimiter(deps.por_segundo, 1.0)
    detener = asyncio.Event()
    loop = asyncio.get_running_loop()
    # the default executor has min(32, cpus + 4) threads: 6 on a 2-vCPU Lambda, fewer than the calls
    escritores = ThreadPoolExecutor(max_workers=deps.concurrencia, thread_name_prefix="radian-escritura")
    cliente = deps.afacturar()

    async def una(factura: Factura) -> None:
        async with semaforo:
            if detener.is_set():
                return
            await limite.acquire()
            try:
                sondeo = await cliente.historial(factura.cufe)
            except Exception:  # noqa: BLE001 (logged just below) - the client's own fault: this one waits
                logger.exception("poll failed in the client", extra={"cufe": factura.cufe})
                resumen.sondeadas += 1
                resumen.fallidas += 1
                return
        if sondeo.resultado is ResultadoSondeo.NO_AUTENTICADO:
            detener.set()
            resumen.no_autenticado = True
            return
        try:
            parcial = await loop.run_in_executor(escritores, aplicar, factura, sondeo, deps)
        except Exception:  # noqa: BLE001 (logged with its trace just below)
            # this invoice stays due (its write did not happen, or its event is still pending):
            # the next run takes it again; the others of the batch go on
            logger.exception("poll not applied", extra={"cufe": factura.cufe})
            resumen.sondeadas += 1
            resumen.fallidas += 1
            return
        resumen.sumar(parcial)

    try:
        await asyncio.gather(*(una(f) for f in facturas))
    finally:
        await _cerrar(cliente)
        escritores.shutdown(wait=False)
    return resumen


async def _cerrar(cliente: Afacturar) -> None:
    await cliente.aclose()


# ---- one reply ----


def aplicar(factura: Factura, sondeo: Sondeo, deps: SondeoDeps) -> Resumen:
    """Apply one poll's outcome to the invoice, under the version read; on losing a race, re-read
    and apply again (the other writer's events are already there, so nothing is counted twice)."""
    resumen = Resumen(sondeadas=1)
    actual: Factura | None = factura
    for intento in range(_INTENTOS):
        if actual is None:  # deleted meanwhile: nothing to do
            return resumen
        ahora = deps.clock()
        if sondeo.resultado is ResultadoSondeo.OK:
            nueva, nuevos = _tras_exito(actual, sondeo.eventos, ahora, deps)
        else:
            nueva, nuevos = _tras_fallo(actual, sondeo, ahora, deps), []
        if deps.facturas.guardar(nueva, actual.version, nuevos):
            _contar(resumen, actual, nueva, nuevos, sondeo)
            cambio = nueva.cambio_pendiente
            # A change this write made is ours to publish. One carried over is a publication that failed
            # before this poll: ours only if nobody wrote in between, for after losing a race it is the
            # winner's, being published now (if that fails, it stays pending for the next poll).
            if cambio is not None and (cambio.version == nueva.version or intento == 0):
                _publicar(nueva, deps)
            return resumen
        actual = deps.facturas.get(factura.tenant, factura.cufe)
    raise RuntimeError(f"factura {factura.cufe}: {_INTENTOS} escrituras concurrentes seguidas")


def _tras_exito(f: Factura, recibidos: list[Evento], ahora: datetime, deps: SondeoDeps) -> tuple[Factura, list[Evento]]:
    nuevos = [e for e in {e.cude: e for e in recibidos}.values() if e.cude not in f.cudes]
    historia = list(recibidos)
    if not f.cudes <= {e.cude for e in recibidos}:
        # afacturar's reply lacks an event we stored: events are facts, keep deriving from all of them
        historia += deps.facturas.eventos(f.tenant, f.cufe)
    despues = insignias(historia)
    cambio = f.cambio_pendiente
    ultimo_cambio = f.ultimo_cambio
    if despues != f.insignias:
        antes = cambio.antes if cambio is not None else f.insignias  # an unpublished change folds in
        cambio = CambioEstado(version=f.version + 1, antes=antes, despues=despues, fecha=ahora)
        if antes == despues:  # back where the last published state was: no change to announce
            cambio = None
        ultimo_cambio = ahora
    elif nuevos:
        ultimo_cambio = ahora  # an event that changes no badge still means the invoice is moving
    moved = dataclasses.replace(f, ultimo_cambio=ultimo_cambio)
    fin = fin_de_sondeo(f, despues, ahora, deps.politica)
    nueva = dataclasses.replace(
        moved,
        version=f.version + 1,
        insignias=despues,
        cudes=f.cudes | {e.cude for e in nuevos},
        ultimo_sondeo=ahora,
        ultimo_resultado="OK" if recibidos else "SIN_EVENTOS",
        ultimo_error=None,
        fallos=0,
        motivo_fin=fin,
        proximo_sondeo=None if fin else proximo_tras_exito(ultimo_cambio, f.registrada, ahora, deps.politica),
        cambio_pendiente=cambio,
    )
    return nueva, nuevos


def _tras_fallo(f: Factura, sondeo: Sondeo, ahora: datetime, deps: SondeoDeps) -> Factura:
    fallos = f.fallos + 1
    fin = fin_de_sondeo(f, f.insignias, ahora, deps.politica)
    detalle = " ".join(p for p in (sondeo.codigo and f"codigo_error {sondeo.codigo}:", sondeo.descripcion) if p)
    return dataclasses.replace(
        f,
        version=f.version + 1,
        ultimo_sondeo=ahora,
        ultimo_resultado=sondeo.resultado.value,
        ultimo_error=detalle or sondeo.resultado.value,
        fallos=fallos,
        motivo_fin=fin,
        proximo_sondeo=None if fin else proximo_tras_fallo(fallos, ahora, deps.politica, random.uniform(0.5, 1.0)),
    )


def _contar(r: Resumen, antes: Factura, nueva: Factura, nuevos: list[Evento], sondeo: Sondeo) -> None:
    r.eventos_nuevos += len(nuevos)
    if sondeo.resultado is ResultadoSondeo.REINTENTAR:
        r.reintentar += 1
    elif sondeo.resultado is not ResultadoSondeo.OK:
        r.fallidas += 1
    elif nueva.insignias != antes.insignias:
        r.cambios += 1
    else:
        r.sin_cambio += 1
    if nueva.motivo_fin and not antes.motivo_fin:
        r.terminadas += 1


def _publicar(f: Factura, deps: SondeoDeps) -> None:
    """At least once: the change stays on the invoice until EventBridge takes it; a failed
    publication is retried by the invoice's next poll. ``id`` lets consumers drop a repeat."""
    cambio = f.cambio_pendiente
    assert cambio is not None
    try:
        deps.eventos.publish(
            "InvoiceStatusChanged",
            {
                "id": f"{f.tenant}:{f.cufe}:{cambio.version}",
                "tenant": f.tenant,
                "cufe": f.cufe,
                "version": cambio.version,
                "antes": sorted(i.value for i in cambio.antes),
                "despues": sorted(i.value for i in cambio.despues),
                "fecha": cambio.fecha.isoformat(),
            },
        )
    except PublishFailed:
        return  # kept on the invoice: published by the next poll
    deps.facturas.confirmar_publicacion(f.tenant, f.cufe, cambio.version)
