"""Conectividad payments: the payment and the debts it settles, its states, its history entries and
the named errors of the payment flow.

The errors' class names are part of the state machine (``infra/flows/pago.py`` catches and retries
them by name): never rename them. ``Payment.as_dict`` / ``Payment.of`` are the flow's JSON payload
(``{"pago": {...}}``), amounts as strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

# a payment's states: applied (debts paid, not yet confirmed), confirmed, reversed (archived under
# REV#), compensated (undone by the flow; archived under COMP#)
APLICADO, CONFIRMADO, REVERSADO, COMPENSADO = "APLICADO", "CONFIRMADO", "REVERSADO", "COMPENSADO"


class PaymentError(Exception):
    """Base of the named errors the payment flow raises (Step Functions sees the class name)."""


class DeudaNoPendiente(PaymentError):
    """A debt is no longer pending (paid by someone else, or changed since it was read)."""


class PagoExistente(PaymentError):
    """A payment for that invoice already exists."""


class SolicitudRepetida(PaymentError):
    """The bank's request (its Idempotency-Key, or the same body) already made a payment."""


class NumeroNoDisponible(PaymentError):
    """A cart's receipt number is some debt's own invoice number."""


class PagoInexistente(PaymentError):
    """No payment for that invoice, or not in a state the operation needs."""


class Throttled(PaymentError):
    """DynamoDB throttled or was briefly unavailable, or an event was not accepted: safe to retry."""


class VerificacionFallida(PaymentError):
    """The payment read back does not match its debts."""


@dataclass(frozen=True)
class DebtRef:
    """A debt as a payment settles it: its key, the version it was read at and what the bank is told."""

    pk: str
    sk: str
    version: int
    id_saldo: int
    id_rubro: str
    descripcion: str
    monto: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "pk": self.pk,
            "sk": self.sk,
            "version": self.version,
            "idSaldo": self.id_saldo,
            "idRubro": self.id_rubro,
            "descripcion": self.descripcion,
            "monto": str(self.monto),
        }

    @staticmethod
    def of(d: dict[str, Any]) -> DebtRef:
        return DebtRef(
            d["pk"],
            d["sk"],
            int(d["version"]),
            int(d["idSaldo"]),
            d["idRubro"],
            d["descripcion"],
            Decimal(str(d["monto"])),
        )


@dataclass(frozen=True)
class Payment:
    numero_factura: int
    numero_transaccion: int
    banco: str
    agencia: str
    convenio: str
    periodo: str
    monto: Decimal
    identificacion: str
    deudas: tuple[DebtRef, ...]
    carrito: bool
    fecha_pago: str  # ISO instant (UTC)
    fecha_local: date
    estado: str = APLICADO
    # SHA-256 of what the bank asked for (recaudo.models.conectividad.fingerprint): a replay from the
    # ledger is only answered when the new request has the same one.
    solicitud: str = ""
    # The request's identity (docs/decisions.md, "Conectividad: a retry never pays twice"):
    # "K:<sha256 of the Idempotency-Key>" or "F:<fingerprint>". One payment per (bank, identity),
    # guarded by the SOLICITUD# item the apply transaction writes.
    identidad: str = ""
    # The transaction of a compensated payment whose SOLICITUD# item this payment may take over.
    identidad_previa: int | None = None
    # A keyed payment also claims its body's keyless identity ("F:<fingerprint>"), only if no earlier
    # payment holds it: a reversed payment's claim must stay, so its late keyless retry stays refused.
    reclamar_huella: bool = False

    @property
    def pk(self) -> str:
        """An invoice's payment lives under the invoice; a cart's under the bank's own receipt number."""
        if self.carrito:
            return f"PAGO#{self.numero_factura}#BANCO#{self.banco}"
        return f"PAGO#{self.numero_factura}"

    @property
    def history_sk(self) -> str:
        base = f"{self.fecha_local.isoformat()}#{self.numero_factura:020d}"
        return f"{base}#{self.banco}" if self.carrito else base

    def as_dict(self) -> dict[str, Any]:
        return {
            "numeroFactura": self.numero_factura,
            "numeroTransaccion": self.numero_transaccion,
            "banco": self.banco,
            "agencia": self.agencia,
            "convenio": self.convenio,
            "periodo": self.periodo,
            "monto": str(self.monto),
            "identificacion": self.identificacion,
            "deudas": [d.as_dict() for d in self.deudas],
            "carrito": self.carrito,
            "fechaPago": self.fecha_pago,
            "fechaLocal": self.fecha_local.isoformat(),
            "estado": self.estado,
            "solicitud": self.solicitud,
            "identidad": self.identidad,
            "identidadPrevia": self.identidad_previa,
            "reclamarHuella": self.reclamar_huella,
        }

    @staticmethod
    def of(d: dict[str, Any]) -> Payment:
        return Payment(
            numero_factura=int(d["numeroFactura"]),
            numero_transaccion=int(d["numeroTransaccion"]),
            banco=str(d["banco"]),
            agencia=str(d["agencia"]),
            convenio=str(d["convenio"]),
            periodo=str(d["periodo"]),
            monto=Decimal(str(d["monto"])),
            identificacion=str(d["identificacion"]),
            deudas=tuple(DebtRef.of(x) for x in d["deudas"]),
            carrito=bool(d["carrito"]),
            fecha_pago=str(d["fechaPago"]),
            fecha_local=date.fromisoformat(str(d["fechaLocal"])),
            estado=str(d.get("estado", APLICADO)),
            solicitud=str(d.get("solicitud", "")),
            identidad=str(d.get("identidad") or ""),
            identidad_previa=int(d["identidadPrevia"]) if d.get("identidadPrevia") is not None else None,
            reclamar_huella=bool(d.get("reclamarHuella", False)),
        )


@dataclass(frozen=True, slots=True)
class DebtState:
    """A settled debt as it stands in the ledger, read back to verify a payment."""

    estado: str
    pago_factura: int | None  # the invoice whose payment settled it
    monto: Decimal  # saldo + saldoInteres


@dataclass(frozen=True, slots=True)
class HistorialPago:
    """One entry of a person's payment history (``historial-pagos``)."""

    numero_transaccion: int
    numero_factura: int
    fecha_pago: date  # the local payment date
    monto_pago: Decimal
    cuenta_origen: str
    estado: str  # CONFIRMADO, or REVERSADO once reversed
    banco: str = ""  # the bank that made the payment: a bank sees only its own entries


@dataclass(frozen=True, slots=True)
class Solicitud:
    """What a bank's request (its identity) already did: the payment it made."""

    pago_pk: str
    numero_factura: int
    numero_transaccion: int
    huella: str  # the request's fingerprint
