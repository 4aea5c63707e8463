"""The items a cobranzas import writes, as ``TransactWriteItems`` actions: per row the debt's upsert
(never over a paid one) and, for a new row, its invoice pointer; per payer new to the period its
profile. Pure CPU, no I/O (``benchmarks/cobranzas.py`` measures it); ``CobranzasRepository`` sends
them. Keys: docs/data-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

from recaudo.data.ledger import factura_pk, persona_pk
from recaudo.formats.cobranzas import Fila, format_monto
from recaudo.models.cobranzas import Integrador, Periodo, id_saldo, identificacion_cliente, numero_persona
from recaudo.models.ledger import EstadoDeuda

GSI = "GSI1"
MAX_ACCIONES = 100  # TransactWriteItems' limit on DynamoDB
TIPO_COBRO = "COBRANZA"
TIPO_IDENTIFICACION = "CLIENTE"


# An integrator's collections are spread over this many GSI1 partitions (by client): one GSI
# partition takes ~1,000 writes/s, and a 64,000-row file must land in seconds (docs/decisions.md).
GSI_PARTICIONES = 16


def particion(id_cliente: str) -> int:
    return blake2b(id_cliente.encode(), digest_size=2).digest()[0] % GSI_PARTICIONES


def gsi_pk(integrador: str, parte: int) -> str:
    return f"COB#{integrador}#{parte:02d}"


def gsi_sk(periodo: str, id_cliente: str, id_concepto: str, ocurrencia: int) -> str:
    base = f"{periodo}#{id_cliente}#{id_concepto}"
    return base if ocurrencia == 1 else f"{base}#{ocurrencia}"


# ---- the CPU part of an import: rows -> transaction actions (no I/O; benchmarked) ----

_DEBT_SET = (
    ("identificacion", ":ident"),
    ("idCliente", ":cli"),
    ("ocurrencia", ":ocu"),
    ("numeroPersona", "if_not_exists(numeroPersona, :np)"),
    ("idSaldo", ":ids"),
    ("institucion", ":inst"),
    ("idRubro", ":conc"),
    ("descripcion", ":desc"),
    ("#y", ":y"),
    ("periodo", ":mm"),
    ("fechaCorte", ":fc"),
    ("saldo", ":monto"),
    ("saldoInteres", ":cero"),
    ("tipoCobro", ":tc"),
    ("estado", ":pend"),
    ("version", "if_not_exists(version, :cero) + :uno"),
    ("GSI1PK", ":g1pk"),
    ("GSI1SK", ":g1sk"),
    ("integrador", ":integ"),
    ("periodoCobranza", ":per"),
    ("nombreCliente", ":nom"),
    ("celular", ":cel"),
    ("telefono", ":tel"),
    ("mail", ":mail"),
    ("opcional1", ":o1"),
    ("opcional2", ":o2"),
    ("huella", ":h"),
    ("importacion", ":imp"),
)
# a correction clears an earlier rejection (RCH): the row as sent now is what is to be collected
_DEBT_UPDATE = "SET " + ", ".join(f"{a} = {v}" for a, v in _DEBT_SET) + " REMOVE motivoRechazo"
_DEBT_CONDITION = "attribute_not_exists(PK) OR estado = :pend"
# a new debt's whole item: every attribute the update sets, with a first version and person number
_DEBT_PUT = tuple(
    ("year" if a == "#y" else a, {"numeroPersona": ":np", "version": ":uno"}.get(a, v)) for a, v in _DEBT_SET
)
_FIJOS = frozenset({":inst", ":y", ":mm", ":fc", ":cero", ":uno", ":tc", ":pend", ":integ", ":per", ":imp"})
_DEBT_PUT_PROPIOS = tuple((a, v) for a, v in _DEBT_PUT if v not in _FIJOS)
_S = "S"


@dataclass(slots=True)
class Grupo:
    """Actions that must land together: a row's, or a payer's profile (``fila`` None).
    The logic batches them by ``len(acciones)``; only this package reads the actions themselves."""

    fila: Fila | None
    acciones: list[dict[str, Any]]
    # a new row, written as a Put of the whole debt (``attribute_not_exists``): if the debt turns out to
    # exist (a concurrent import of the same row), the logic retries it as an update
    nueva: bool = False


@dataclass(slots=True)
class _Cliente:
    id_cliente: str
    pk: str
    ident: dict[str, str]
    cli: dict[str, str]
    np: dict[str, str]
    g1pk: dict[str, str]


class Acciones:
    """Builds the low-level ``TransactWriteItems`` actions of one import (integrator and period fixed)."""

    def __init__(self, table: str, integrador: Integrador, periodo: Periodo, importacion: str) -> None:
        self.table = table
        self.integrador = integrador
        self.periodo = periodo
        fecha = periodo.fecha_corte.isoformat()
        self._sk_prefix = f"SALDO#{integrador.institucion}#{fecha}#"
        self._fijos = {
            ":inst": {_S: integrador.institucion},
            ":y": {"N": str(periodo.year)},
            ":mm": {_S: periodo.mes},
            ":fc": {_S: fecha},
            ":cero": {"N": "0"},
            ":uno": {"N": "1"},
            ":tc": {_S: TIPO_COBRO},
            ":pend": {_S: EstadoDeuda.PENDIENTE.value},
            ":integ": {_S: integrador.id},
            ":per": {_S: periodo.codigo},
            ":imp": {_S: importacion},
        }
        # a new debt's attributes that are the same for every row of the import, as item cells
        self._fijos_item = {a: self._fijos[v] for a, v in _DEBT_PUT if v in self._fijos}
        self._ultimo: _Cliente | None = None

    def _cliente(self, id_cliente: str) -> _Cliente:
        """The cells of a client's identity, computed once for its consecutive rows (a file lists a
        client's concepts together)."""
        if self._ultimo is None or self._ultimo.id_cliente != id_cliente:
            ident = identificacion_cliente(self.integrador.id, id_cliente)
            self._ultimo = _Cliente(
                id_cliente,
                persona_pk(ident),
                {_S: ident},
                {_S: id_cliente},
                {"N": str(numero_persona(ident))},
                {_S: gsi_pk(self.integrador.id, particion(id_cliente))},
            )
        return self._ultimo

    def deuda_sk(self, fila: Fila, ids: int) -> str:
        return f"{self._sk_prefix}{fila.id_concepto}#{ids:020d}"

    def _ids(self, fila: Fila) -> int:
        return id_saldo(
            self.integrador.id,
            self.periodo.codigo,
            fila.id_cliente,
            fila.id_concepto,
            self.integrador.clave_facturas,
            fila.ocurrencia,
        )

    def clave(self, fila: Fila) -> tuple[str, str]:
        """The primary key (PK, SK) of the row's debt: what the import's look-ahead reads."""
        return self._cliente(fila.id_cliente).pk, self.deuda_sk(fila, self._ids(fila))

    def fila(self, fila: Fila, huella: str, nueva: bool) -> Grupo:
        """Upsert the debt (never over a paid one); a new row also claims its invoice number."""
        ids = self._ids(fila)
        cliente = self._cliente(fila.id_cliente)
        pk, sk = cliente.pk, self.deuda_sk(fila, ids)
        propios = {
            ":ident": cliente.ident,
            ":cli": cliente.cli,
            ":ocu": {"N": str(fila.ocurrencia)},
            ":np": cliente.np,
            ":ids": {"N": str(ids)},
            ":conc": {_S: fila.id_concepto},
            ":desc": {_S: fila.descripcion},
            ":monto": {"N": format_monto(fila.monto)},
            ":g1pk": cliente.g1pk,
            ":g1sk": {_S: gsi_sk(self.periodo.codigo, fila.id_cliente, fila.id_concepto, fila.ocurrencia)},
            ":nom": {_S: fila.nombre},
            ":cel": {_S: fila.celular},
            ":tel": {_S: fila.telefono},
            ":mail": {_S: fila.mail},
            ":o1": {_S: fila.opcional1},
            ":o2": {_S: fila.opcional2},
            ":h": {_S: huella},
        }
        if not nueva:
            update = {
                "Update": {
                    "TableName": self.table,
                    "Key": {"PK": {_S: pk}, "SK": {_S: sk}},
                    "UpdateExpression": _DEBT_UPDATE,
                    "ConditionExpression": _DEBT_CONDITION,
                    "ExpressionAttributeNames": {"#y": "year"},
                    "ExpressionAttributeValues": self._fijos | propios,
                }
            }
            return Grupo(fila, [update])
        # A new row is a Put of the whole item, the same attributes the update sets (version 1): the
        # same item at the same cost on DynamoDB, and no update expression to evaluate.
        item = {"PK": {_S: pk}, "SK": {_S: sk}} | self._fijos_item
        for attribute, value in _DEBT_PUT_PROPIOS:
            item[attribute] = propios[value]
        actions: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
            (
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            "PK": {_S: factura_pk(ids)},
                            "SK": {_S: "FACT"},
                            "deudaPK": {_S: pk},
                            "deudaSK": {_S: sk},
                        },
                        # new, or already pointing at this very debt (a re-import racing the look-ahead)
                        "ConditionExpression": "attribute_not_exists(PK) OR deudaSK = :sk",
                        "ExpressionAttributeValues": {":sk": {_S: sk}},
                    }
                }
            ),
        ]
        return Grupo(fila, actions, nueva=True)

    def persona(self, fila: Fila) -> Grupo:
        """The integrator's client profile: created, or renamed by the integrator's newest file; its
        person number never changes. Another integrator's client of the same IDCliente is another item."""
        cliente = self._cliente(fila.id_cliente)
        item = {
            "PK": {_S: cliente.pk},
            "SK": {_S: "PERFIL"},
            "identificacion": cliente.ident,
            "idCliente": cliente.cli,
            "integrador": self._fijos[":integ"],
            "nombre": {_S: fila.nombre},
            "tipoIdentificacion": {_S: TIPO_IDENTIFICACION},
            "numeroPersona": cliente.np,  # a pure function of the client: never changes
        }
        action = {"Put": {"TableName": self.table, "Item": item}}
        return Grupo(None, [action])
