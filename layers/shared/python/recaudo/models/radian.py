"""RADIAN (seed 003): an e-invoice's events as afacturar returns them, their order, and the invoice's
legal status derived as DIAN's own platform does: a **set** of badges, not one state.

The rules (the seed documents' public facts, "RADIAN", from DIAN's platform code; decisions in
docs/decisions.md, "RADIAN"):
- events are ordered by ``fecha`` (Colombia time) and then by ``numero`` **as an integer**;
- a repeated CUDE is one event;
- while the last event is 040 (cancelación del endoso), it is dropped with the most recent 038/039
  (never a 037: an endoso en propiedad cannot be cancelled); the same for 042 and the latest 041;
- Título Valor: 030, 032 and (033 or 034), with no 031 (a reclamo blocks it);
- Disponibilizada 036; Endosada 037/038/039/047; Limitada 041; Pagada 045; Protestada 048;
  Transferida 049;
- Factura Electrónica always, except when Disponibilizada or Limitada is present.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Insignia(StrEnum):
    FACTURA_ELECTRONICA = "Factura Electrónica"
    TITULO_VALOR = "Título Valor"
    DISPONIBILIZADA = "Disponibilizada"
    ENDOSADA = "Endosada"
    LIMITADA = "Limitada"
    PAGADA = "Pagada"
    PROTESTADA = "Protestada"
    TRANSFERIDA = "Transferida"


@dataclass(frozen=True, slots=True)
class Evento:
    cude: str
    codigo: str  # "030" … "051"
    numero: int
    fecha: datetime  # naive: Colombia time, as afacturar sends it
    descripcion: str = ""

    @property
    def orden(self) -> tuple[datetime, int, str]:
        return (self.fecha, self.numero, self.cude)


ENDOSOS = frozenset({"037", "038", "039", "047"})
ENDOSOS_CANCELABLES = ("038", "039")


def ordenados(eventos: Iterable[Evento]) -> list[Evento]:
    """One event per CUDE (the first seen), by date then ``numero`` as an integer."""
    unicos: dict[str, Evento] = {}
    for evento in eventos:
        unicos.setdefault(evento.cude, evento)
    return sorted(unicos.values(), key=lambda e: e.orden)


def _sin_anulaciones(eventos: list[Evento]) -> list[Evento]:
    """Drop a trailing 040 with the latest 038/039, a trailing 042 with the latest 041; repeat."""
    vigentes = list(eventos)
    while vigentes and vigentes[-1].codigo in ("040", "042"):
        anulacion = vigentes.pop()
        anulados = ENDOSOS_CANCELABLES if anulacion.codigo == "040" else ("041",)
        for i in range(len(vigentes) - 1, -1, -1):
            if vigentes[i].codigo in anulados:
                del vigentes[i]
                break
    return vigentes


def insignias(eventos: Iterable[Evento]) -> frozenset[Insignia]:
    codigos = {e.codigo for e in _sin_anulaciones(ordenados(eventos))}
    out: set[Insignia] = set()
    if {"030", "032"} <= codigos and codigos & {"033", "034"} and "031" not in codigos:
        out.add(Insignia.TITULO_VALOR)
    if "036" in codigos:
        out.add(Insignia.DISPONIBILIZADA)
    if codigos & ENDOSOS:
        out.add(Insignia.ENDOSADA)
    if "041" in codigos:
        out.add(Insignia.LIMITADA)
    if "045" in codigos:
        out.add(Insignia.PAGADA)
    if "048" in codigos:
        out.add(Insignia.PROTESTADA)
    if "049" in codigos:
        out.add(Insignia.TRANSFERIDA)
    if not out & {Insignia.DISPONIBILIZADA, Insignia.LIMITADA}:
        out.add(Insignia.FACTURA_ELECTRONICA)
    return frozenset(out)
