"""CPS recargas: the catalogue of basic services, a top-up operation and its states, and the wire
models of the three documented endpoints plus our status extension.

The catalogue's ids and names are the document's (seed 002). Which services can report a balance,
the amount limits and the carrier's product codes are ours (docs/decisions.md, "CPS").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, slots=True)
class Servicio:
    id: int
    nombre: str
    puede_consultar_saldo: bool
    monto_minimo: Decimal
    monto_maximo: Decimal
    producto: str  # the carrier's product code


def _s(id_: int, nombre: str, saldo: bool, minimo: str, maximo: str) -> Servicio:
    return Servicio(id_, nombre, saldo, Decimal(minimo), Decimal(maximo), nombre)


# The document's 20 services, in its order. Prepaid lines and TV, and post-paid accounts whose
# balance is what is owed, can report a balance; the rest cannot.
CATALOGO: dict[int, Servicio] = {
    s.id: s
    for s in (
        _s(59, "DIGITEL_PREPAGO", True, "1.00", "5000.00"),
        _s(63, "DIGITEL_FIJO", False, "1.00", "20000.00"),
        _s(64, "DIGITEL_INTERNET", False, "1.00", "20000.00"),
        _s(229, "DIGITEL_POSPAGO", True, "1.00", "50000.00"),
        _s(57, "MOVISTAR_PREPAGO", True, "1.00", "5000.00"),
        _s(62, "MOVISTAR_FIJO", False, "1.00", "20000.00"),
        _s(61, "MOVISTAR_INTERNET", False, "1.00", "20000.00"),
        _s(60, "MOVISTAR_TV", True, "1.00", "20000.00"),
        _s(228, "MOVISTAR_POSPAGO", True, "1.00", "50000.00"),
        _s(58, "MOVILNET_PREPAGO", True, "1.00", "5000.00"),
        _s(214, "MOVILNET_FIJO", False, "1.00", "20000.00"),
        _s(215, "SIMPLETV", True, "1.00", "20000.00"),
        _s(216, "CORPOELEC", True, "1.00", "100000.00"),
        _s(212, "INTER_PREPAGO", True, "1.00", "20000.00"),
        _s(213, "INTER_POSPAGO", True, "1.00", "50000.00"),
        _s(207, "CANTV_RESIDENCIAL", True, "1.00", "50000.00"),
        _s(209, "CANTV_EMPRESAS", True, "1.00", "200000.00"),
        _s(210, "CANTV_ABA", True, "1.00", "50000.00"),
        _s(211, "ABA_ULTRA", True, "1.00", "50000.00"),
        _s(208, "TV_SATELITAL", False, "1.00", "20000.00"),
    )
}

NUMERO = re.compile(r"^[0-9]{6,20}$")  # a line, contract or meter number: digits, leading zeros kept


class EstadoRecarga(StrEnum):
    PENDIENTE = "PENDIENTE"  # registered; the carrier may or may not have it yet
    CONFIRMADA = "CONFIRMADA"  # applied by the carrier, TopUpConfirmed published
    FALLIDA = "FALLIDA"  # declined (or expired unapplied), TopUpFailed published

    @property
    def final(self) -> bool:
        return self is not EstadoRecarga.PENDIENTE


@dataclass(frozen=True, slots=True)
class Recarga:
    """One top-up operation. Its id is the carrier's idempotency reference."""

    id: str
    canal: str
    servicio: int
    numero: str
    monto: Decimal
    estado: EstadoRecarga
    creada: datetime
    expira: datetime
    motivo: str | None = None
    autorizacion: str | None = None
    saldo: Decimal | None = None
    verificada: bool = False
    version: int = 0
    enviada: str | None = None  # when the top-up went to the carrier (at most once)

    def con(self, **changes: object) -> Recarga:
        return replace(self, **changes)  # type: ignore[arg-type]


class ResultadoOperador(StrEnum):
    """What the carrier said about a reference."""

    APLICADA = "APLICADA"
    RECHAZADA = "RECHAZADA"
    EN_PROCESO = "EN_PROCESO"
    DESCONOCIDA = "DESCONOCIDA"  # it has no such request (yet)
    EXPIRADA = "EXPIRADA"  # received after its expiry: never applied
    SIN_RESPUESTA = "SIN_RESPUESTA"  # timeout, 5xx, reset: outcome unknown


@dataclass(frozen=True, slots=True)
class RespuestaOperador:
    resultado: ResultadoOperador
    motivo: str | None = None
    autorizacion: str | None = None
    saldo: Decimal | None = None


# ---- domain errors ----


class RecargaError(Exception):
    """A refusal in the CPS dialect: ``{"codigo": …, "mensaje": …}`` with an HTTP status."""

    status = 400
    codigo = "SOLICITUD_INVALIDA"

    def __init__(self, mensaje: str) -> None:
        super().__init__(mensaje)
        self.mensaje = mensaje


class SolicitudInvalida(RecargaError):
    pass


class NoAutenticado(RecargaError):
    status = 401
    codigo = "NO_AUTENTICADO"


class ServicioDesconocido(RecargaError):
    codigo = "SERVICIO_DESCONOCIDO"


class MontoFueraDeLimites(RecargaError):
    codigo = "MONTO_FUERA_DE_LIMITES"


class SinConsultaDeSaldo(RecargaError):
    codigo = "SERVICIO_SIN_CONSULTA_DE_SALDO"


class OperacionInexistente(RecargaError):
    status = 404
    codigo = "OPERACION_INEXISTENTE"


class ClaveDeIdempotenciaReutilizada(RecargaError):
    status = 422
    codigo = "IDEMPOTENCY_KEY_REUTILIZADA"


class OperadorNoDisponible(RecargaError):
    status = 503
    codigo = "OPERADOR_NO_DISPONIBLE"


# ---- wire models (field names as the document writes them; ours in Spanish) ----


class _Wire(BaseModel):
    # defer_build: a function builds the models it uses, on first use; the others never
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


class PagoRecargaRequest(_Wire):
    numberService: str = Field(pattern=NUMERO.pattern, description="keeps its leading zeros")
    idTypeService: int = Field(gt=0)
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)


class RecargaReply(_Wire):
    idOperacion: str
    estado: EstadoRecarga
    numberService: str
    idTypeService: int
    amount: Decimal
    autorizacion: str | None = None
    motivo: str | None = None
    consultar: str = Field(description="GET this path (signed) for the operation's state")


class SaldoReply(_Wire):
    numberService: str
    idTypeService: int
    balance: Decimal
    currency: str = "VES"


class ServicioReply(_Wire):
    idTypeService: int
    name: str
    canGetBalance: bool
    minAmount: Decimal
    maxAmount: Decimal


class ErrorReply(_Wire):
    codigo: str
    mensaje: str
