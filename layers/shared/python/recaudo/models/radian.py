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
Also: the tracked invoice (``Factura``), the adaptive polling policy, and the tracking API's models.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


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
    # who signed the event and for whom (an endoso's endorsee, a payment's payer), as afacturar sends them
    identificacion_evento: str = ""
    emisor_nombre: str = ""
    emisor_identificacion: str = ""
    receptor_nombre: str = ""
    receptor_identificacion: str = ""

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


# ---- what we keep of a tracked invoice ----

CUFE_PATTERN = r"^[0-9a-fA-F]{96}$"


def normalizar_cufe(texto: str) -> str | None:
    """A CUFE is the hex of a SHA-384: 96 hex characters, kept lowercase; anything else is None."""
    valor = texto.strip().lower() if isinstance(texto, str) else ""
    if len(valor) == 96 and all(ch in "0123456789abcdef" for ch in valor):
        return valor
    return None


@dataclass(frozen=True, slots=True)
class CambioEstado:
    """A change of the badge set, kept on the invoice until ``InvoiceStatusChanged`` is published."""

    version: int
    antes: frozenset[Insignia]
    despues: frozenset[Insignia]
    fecha: datetime  # UTC


@dataclass(frozen=True, slots=True)
class Metadatos:
    nit_emisor: str | None = None
    numero: str | None = None
    monto: Decimal | None = None
    vencimiento: date | None = None


@dataclass(frozen=True, slots=True)
class Factura:
    """One invoice a tenant tracks: its derived badges, the CUDEs stored, and when to poll it next.

    ``proximo_sondeo`` None means polling has stopped (``motivo_fin`` says why: paid, or too old)."""

    tenant: str
    cufe: str
    registrada: datetime  # UTC
    version: int = 1
    insignias: frozenset[Insignia] = frozenset({Insignia.FACTURA_ELECTRONICA})
    cudes: frozenset[str] = frozenset()
    proximo_sondeo: datetime | None = None
    ultimo_sondeo: datetime | None = None
    ultimo_cambio: datetime | None = None
    ultimo_resultado: str | None = None
    ultimo_error: str | None = None
    fallos: int = 0
    motivo_fin: str | None = None
    metadatos: Metadatos = Metadatos()
    cambio_pendiente: CambioEstado | None = None


# ---- adaptive polling: pure, so a table test pins it ----


@dataclass(frozen=True, slots=True)
class PoliticaSondeo:
    """How often an invoice is polled. All configurable (RADIAN settings); defaults in docs/decisions.md."""

    activo: timedelta = timedelta(hours=1)  # moved in the last ``ventana_activa``
    ventana_activa: timedelta = timedelta(days=3)
    normal: timedelta = timedelta(hours=6)  # moved in the last ``ventana_normal``
    ventana_normal: timedelta = timedelta(days=30)
    lento: timedelta = timedelta(hours=24)  # quiet for longer
    edad_maxima: timedelta = timedelta(days=180)  # since registration: stop polling after this
    reintento_base: timedelta = timedelta(minutes=5)  # 28, 15, timeouts, failed polls: backoff
    reintento_maximo: timedelta = timedelta(hours=6)


FIN_PAGADA = "PAGADA"
FIN_ANTIGUA = "ANTIGUA"


def fin_de_sondeo(factura: Factura, insignias_: frozenset[Insignia], ahora: datetime, p: PoliticaSondeo) -> str | None:
    """Why polling stops now (paid: terminal; or older than the configured age), or None."""
    if Insignia.PAGADA in insignias_:
        return FIN_PAGADA
    if ahora - factura.registrada >= p.edad_maxima:
        return FIN_ANTIGUA
    return None


def proximo_tras_exito(
    ultimo_cambio: datetime | None, registrada: datetime, ahora: datetime, p: PoliticaSondeo
) -> datetime:
    """Invoices still moving are polled more often; quiet ones less."""
    quieta = ahora - (ultimo_cambio or registrada)
    if quieta <= p.ventana_activa:
        return ahora + p.activo
    if quieta <= p.ventana_normal:
        return ahora + p.normal
    return ahora + p.lento


def proximo_tras_fallo(fallos: int, ahora: datetime, p: PoliticaSondeo, azar: float = 1.0) -> datetime:
    """Exponential backoff after ``fallos`` consecutive failed polls (1 = the first), capped; ``azar``
    in [0.5, 1] spreads retries so a DIAN outage does not return as one wave."""
    espera = p.reintento_base
    for _ in range(max(0, fallos - 1)):  # doubled until the cap: 2**fallos would overflow timedelta
        if espera >= p.reintento_maximo:
            break
        espera *= 2
    return ahora + min(espera, p.reintento_maximo) * azar


class RadianError(Exception):
    """A refusal of the tracking API: ``{"codigo": …, "mensaje": …}`` with ``status``."""

    def __init__(self, status: int, codigo: str, mensaje: str, errores: list[dict[str, Any]] | None = None) -> None:
        super().__init__(mensaje)
        self.status, self.codigo, self.mensaje, self.errores = status, codigo, mensaje, errores

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"codigo": self.codigo, "mensaje": self.mensaje}
        if self.errores:
            out["errores"] = self.errores
        return out


class FacturaNoEncontrada(RadianError):
    def __init__(self, cufe: str) -> None:
        super().__init__(404, "FACTURA_NO_ENCONTRADA", f"no sigue la factura {cufe}")


class SolicitudInvalida(RadianError):
    def __init__(self, mensaje: str, errores: list[dict[str, Any]] | None = None) -> None:
        super().__init__(400, "SOLICITUD_INVALIDA", mensaje, errores)


class Ocupado(Exception):
    """DynamoDB throttled a write: nothing was written, the same work may be done again later."""


class AfacturarNoAutenticado(Exception):
    """afacturar refused our token (401 or 11): the run stops and the alarm metric is raised.
    The state machine's Map fails on this error name, ending every branch of the run."""


def insignia_de(texto: str) -> Insignia | None:
    """A badge named by its code (``TITULO_VALOR``), its name (``Título Valor``) or a slug (``titulo-valor``)."""
    import unicodedata

    def plano(s: str) -> str:
        sin_tildes = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
        return "".join(ch for ch in sin_tildes.upper() if ch.isalnum())

    buscado = plano(texto)
    for insignia in Insignia:
        if plano(insignia.name) == buscado or plano(insignia.value) == buscado:
            return insignia
    return None


# ---- the tracking API's requests and replies (docs/openapi-radian.json) ----


class _Modelo(BaseModel):
    # defer_build: a function builds the models it uses, on first use; the others never
    model_config = ConfigDict(defer_build=True)


class FacturaNueva(_Modelo):
    model_config = ConfigDict(extra="forbid")

    cufe: str = Field(description="CUFE: 96 caracteres hexadecimales (SHA-384); se guarda en minúsculas")
    nitEmisor: str | None = Field(default=None, pattern=r"^[0-9]{5,15}(-[0-9])?$", description="NIT del emisor")
    numero: str | None = Field(default=None, min_length=1, max_length=40, description="Número de la factura")
    monto: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2, description="Valor total")
    vencimiento: date | None = Field(default=None, description="Fecha de vencimiento (AAAA-MM-DD)")

    @field_validator("cufe")
    @classmethod
    def _cufe(cls, value: str) -> str:
        cufe = normalizar_cufe(value)
        if cufe is None:
            raise ValueError(
                f"CUFE inválido ({len(value)} caracteres): se esperan 96 caracteres hexadecimales (SHA-384)"
            )
        return cufe


class RegistroRequest(_Modelo):
    model_config = ConfigDict(extra="forbid")

    facturas: list[FacturaNueva] = Field(min_length=1, max_length=100, description="De 1 a 100 facturas")


class Registrada(_Modelo):
    cufe: str
    resultado: str = Field(description="REGISTRADA (nueva) o YA_REGISTRADA (ya se seguía: nada cambia)")


class RegistroReply(_Modelo):
    facturas: list[Registrada]


class EventoReply(_Modelo):
    numero: str
    codigo: str
    descripcion: str
    fecha: str = Field(description="Hora de Colombia (UTC−5), como la envía afacturar: AAAA-MM-DD HH:MM:SS")
    cude: str


class SeguimientoReply(_Modelo):
    activo: bool
    proximoSondeo: str | None = None
    ultimoSondeo: str | None = None
    ultimoResultado: str | None = None
    ultimoError: str | None = None
    fallos: int = 0
    motivoFin: str | None = Field(default=None, description="PAGADA o ANTIGUA cuando el sondeo terminó")


class ResumenFactura(_Modelo):
    cufe: str
    insignias: list[str]
    registrada: str
    ultimoCambio: str | None = None
    nitEmisor: str | None = None
    numero: str | None = None
    monto: Decimal | None = None
    vencimiento: str | None = None


class FacturaReply(ResumenFactura):
    version: int
    seguimiento: SeguimientoReply
    eventos: list[EventoReply]


class ListaReply(_Modelo):
    facturas: list[ResumenFactura]
    siguiente: str | None = Field(default=None, description="Pásela como ?siguiente= para la página siguiente")


class EliminadaReply(_Modelo):
    cufe: str
    resultado: str = "ELIMINADA"


class SondeoReply(_Modelo):
    cufe: str
    resultado: str = Field(description="SONDEO_SOLICITADO: consulte la factura en unos segundos")
    ejecucion: str
    consultar: str


class ErrorReply(_Modelo):
    codigo: str
    mensaje: str
    errores: list[dict[str, Any]] | None = None
