"""Domain records of the ledger: persons, convenios and debts (saldos)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

MUNICIPALIDAD = "MUNI"


class TipoConvenio(StrEnum):
    TOTAL = "total"
    PARCIAL = "parcial"
    VENCIDO = "vencido"
    CARRITO = "carrito"


class EstadoDeuda(StrEnum):
    PENDIENTE = "pendiente"
    PAGADO = "pagado"


@dataclass(frozen=True, slots=True)
class Persona:
    identificacion: str
    nombre: str
    tipo_identificacion: str
    numero_persona: int


@dataclass(frozen=True, slots=True)
class Convenio:
    codigo: str
    tipo: TipoConvenio
    descripcion: str
    institucion: str = MUNICIPALIDAD
    # Empty: every rubro of the institution.
    rubros: tuple[str, ...] = field(default_factory=tuple)
    # A cobranzas integrator's convenio: its clients are its own (``<integrador>:<IDCliente>``)
    integrador: str = ""

    def identificacion_ledger(self, identificacion: str) -> str:
        """The ledger person a bank's ``identificacion`` names under this convenio: an integrator's
        client number is only meaningful at that integrator."""
        return f"{self.integrador}:{identificacion}" if self.integrador else identificacion


@dataclass(frozen=True, slots=True)
class Deuda:
    id_saldo: int
    identificacion: str
    numero_persona: int
    institucion: str
    id_rubro: str
    descripcion: str
    year: int
    periodo: str
    fecha_corte: date
    saldo: Decimal
    saldo_interes: Decimal
    tipo_cobro: str
    estado: EstadoDeuda = EstadoDeuda.PENDIENTE
    version: int = 1
    # The carrito-de-compras identity of the debt (what a bank sends back in ``transacciones``).
    auxiliar_contable: str | None = None
    numero_cuenta: int | None = None
    tipo_transaccion: str | None = None
    numero_documento: str | None = None

    @property
    def monto(self) -> Decimal:
        return self.saldo + self.saldo_interes
