"""Cobranzas (Pay per TIC): the integrator, the period, a collection as the export shows it, the
import's result and the export's filters. The CSV itself (rows, reader, writer) is
``recaudo.formats.cobranzas``; the items and keys are ``recaudo.data.cobranzas``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from hashlib import blake2b

from recaudo.formats.cobranzas import MAX_FALLIDAS_EN_REPORTE, Fallida, reporte
from recaudo.models.ledger import EstadoDeuda

# export states (Pay per TIC): issued, accepted (paid), rejected
EMI, ACP, RCH = "EMI", "ACP", "RCH"


class TransaccionNoAplicada(Exception):
    """Transactions kept conflicting; the rows involved were not written (a re-import is safe)."""


def id_saldo(integrador: str, periodo: str, id_cliente: str, id_concepto: str, clave: str, ocurrencia: int = 1) -> int:
    """The collection's invoice number (``numeroFactura`` for ejecutar-pago): 19 digits starting with
    1, a keyed hash of its identity (``clave``: the integrator's secret key, hex), so a re-import finds
    the same debt and nobody without the key can predict a number (docs/decisions.md). The identity
    is the integrator, period, client, concept and the row's occurrence of that pair in the file."""
    data = f"{integrador}\x1f{periodo}\x1f{id_cliente}\x1f{id_concepto}".encode()
    if ocurrencia != 1:
        data += f"\x1f{ocurrencia}".encode()
    digest = blake2b(data, key=bytes.fromhex(clave), digest_size=8).digest()
    return 10**18 + int.from_bytes(digest, "big") % 10**18


def numero_persona(identificacion: str) -> int:
    """A stable 9-digit person number for payers first seen through a collections file."""
    return 100_000_000 + int.from_bytes(blake2b(identificacion.encode(), digest_size=8).digest(), "big") % 900_000_000


def identificacion_cliente(integrador: str, id_cliente: str) -> str:
    """A collection client's identity in the ledger: the integrator's own client, never another's
    (``176`` at two clubs is two people). Conectividad maps a bank's ``identificacion`` to it through
    the integrator's convenio (``Convenio.identificacion_ledger``)."""
    return f"{integrador}:{id_cliente}"


@dataclass(frozen=True, slots=True)
class Integrador:
    id: str
    nombre: str
    institucion: str
    convenio: str
    zona_horaria: str
    # the key of its collections' invoice numbers (hex, 32 bytes); never leaves the credentials table
    clave_facturas: str = field(default="", repr=False)
    # False once revoked: its hash opens nothing and its S3 drops are refused
    activo: bool = True


@dataclass(frozen=True, slots=True)
class Periodo:
    """``YYYYMM`` plus the debt fields derived from it (the cut-off is the period's last day)."""

    codigo: str
    fecha_corte: date

    @property
    def year(self) -> int:
        return int(self.codigo[:4])

    @property
    def mes(self) -> str:
        return self.codigo[4:]


@dataclass(frozen=True, slots=True)
class Existente:
    """What the import's look-ahead knows of a collection already in the period."""

    estado: str
    huella: str


@dataclass(frozen=True, slots=True)
class Reanudacion:
    """Where an HTTP import cut short by its time budget stopped, for a resend of the very same file
    (docs/decisions.md, "a resend resumes"): every line before ``linea`` is settled; ``importados``
    counts its imported rows and ``rechazadas`` the failures the ledger decided (paid, number in use).
    Failures of the rows themselves are found again by reading the same bytes."""

    linea: int
    importados: int
    rechazadas: tuple[Fallida, ...] = ()


@dataclass(frozen=True, slots=True)
class Cobranza:
    """A collection as the export writes it: the import's columns, its debt's state and the reason
    of a rejection (written by the automatic-debit flow)."""

    id_cliente: str
    nombre: str
    celular: str
    telefono: str
    mail: str
    id_concepto: str
    descripcion: str
    opcional1: str
    opcional2: str
    monto: Decimal
    estado_deuda: str
    motivo_rechazo: str = ""
    periodo: str = ""

    @property
    def textos(self) -> tuple[str, ...]:
        """The text columns in import order (Monto apart)."""
        return (
            self.id_cliente,
            self.nombre,
            self.celular,
            self.telefono,
            self.mail,
            self.id_concepto,
            self.descripcion,
            self.opcional1,
            self.opcional2,
        )

    @property
    def estado(self) -> str:
        """ACP once paid (a payment outranks an earlier rejection), RCH when rejected, else EMI."""
        if self.estado_deuda == EstadoDeuda.PAGADO.value:
            return ACP
        return RCH if self.motivo_rechazo else EMI


@dataclass
class Resultado:
    """An import's outcome: the reply line (``OK: …`` / ``ERROR: …``) and the row-error report."""

    periodo: str
    importados: int = 0
    fallidos: int = 0
    escritas: int = 0  # rows actually written (new or changed)
    fallidas: list[Fallida] = field(default_factory=list)
    error: str | None = None
    incompleta: int | None = None  # the time budget ran out: the first line not read
    interrumpida: bool = False  # a write failed: what was written before stays

    @property
    def terminada(self) -> bool:
        return self.error is None and self.incompleta is None and not self.interrumpida

    def linea(self) -> str:
        if self.error is not None:
            return f"ERROR: {self.error}"
        hecho = f"{self.importados} registros importados" + (f" y {self.fallidos} fallidos" if self.fallidos else "")
        if self.incompleta is not None:
            hasta = (
                f"(hasta la línea {self.incompleta - 1})" if self.incompleta > 1 else "(antes de leer la primera línea)"
            )
            return (
                f"ERROR: importación incompleta: se agotó el tiempo de la solicitud tras {hecho} {hasta}; "
                "envíe el mismo archivo otra vez para completarla"
            )
        if self.interrumpida:
            return (
                f"ERROR: importación interrumpida por un error interno tras {hecho}; "
                "envíe el mismo archivo otra vez para completarla"
            )
        text = f"OK: {self.periodo} - {self.importados} registros importados"
        return text + (f" - {self.fallidos} registros fallidos" if self.fallidos else "")

    def reporte(self) -> str:
        return reporte(self.linea(), self.fallidas, max(0, self.fallidos - len(self.fallidas)))

    def fallar(self, fallida: Fallida) -> None:
        self.fallidos += 1
        if len(self.fallidas) < MAX_FALLIDAS_EN_REPORTE:
            self.fallidas.append(fallida)


@dataclass(frozen=True)
class Filtros:
    """The export's filters, ANDed."""

    periodo: str | None  # None: every period ("*")
    id_cliente: str | None = None
    id_concepto: str | None = None
    opcional1: str | None = None
    opcional2: str | None = None
