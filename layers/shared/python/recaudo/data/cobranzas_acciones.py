"""The items a cobranzas import writes, as ``TransactWriteItems`` actions: per row the debt's upsert
(never over a paid one) and, for a new row, its invoice pointer; per payer new to the period its
profile. Pure CPU, no I/O (``benchmarks/cobranzas.py`` measures it); ``CobranzasRepository`` sends
them. Keys: docs/data-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recaudo.data.ledger import factura_pk, persona_pk
from recaudo.formats.cobranzas import Fila, format_monto
from recaudo.models.cobranzas import Integrador, Periodo, id_saldo, numero_persona
from recaudo.models.ledger import EstadoDeuda

GSI = "GSI1"
MAX_ACCIONES = 100  # TransactWriteItems' limit on DynamoDB
TIPO_COBRO = "COBRANZA"
TIPO_IDENTIFICACION = "CLIENTE"


def gsi_pk(integrador: str) -> str:
    return f"COB#{integrador}"


# ---- the CPU part of an import: rows -> transaction actions (no I/O; benchmarked) ----

_DEBT_SET = (
    ("identificacion", ":cli"),
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
_DEBT_UPDATE = "SET " + ", ".join(f"{a} = {v}" for a, v in _DEBT_SET)
_DEBT_CONDITION = "attribute_not_exists(PK) OR estado = :pend"
_PERSON_UPDATE = (
    "SET identificacion = :cli, nombre = if_not_exists(nombre, :nom), "
    "tipoIdentificacion = if_not_exists(tipoIdentificacion, :tid), numeroPersona = if_not_exists(numeroPersona, :np)"
)
_S = "S"


@dataclass(slots=True)
class Grupo:
    """Actions that must land together: a row's, or a payer's profile (``fila`` None, ``cliente`` set).
    The logic batches them by ``len(acciones)``; only this package reads the actions themselves."""

    fila: Fila | None
    acciones: list[dict[str, Any]]
    cliente: str | None = None


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
            ":g1pk": {_S: gsi_pk(integrador.id)},
            ":integ": {_S: integrador.id},
            ":per": {_S: periodo.codigo},
            ":imp": {_S: importacion},
        }

    def deuda_sk(self, fila: Fila, ids: int) -> str:
        return f"{self._sk_prefix}{fila.id_concepto}#{ids:020d}"

    def fila(self, fila: Fila, huella: str, nueva: bool) -> Grupo:
        """Upsert the debt (never over a paid one); a new row also claims its invoice number."""
        ids = id_saldo(
            self.integrador.id, self.periodo.codigo, fila.id_cliente, fila.id_concepto, self.integrador.clave_facturas
        )
        pk, sk = persona_pk(fila.id_cliente), self.deuda_sk(fila, ids)
        values = dict(self._fijos)
        values.update(
            {
                ":cli": {_S: fila.id_cliente},
                ":np": {"N": str(numero_persona(fila.id_cliente))},
                ":ids": {"N": str(ids)},
                ":conc": {_S: fila.id_concepto},
                ":desc": {_S: fila.descripcion},
                ":monto": {"N": format_monto(fila.monto)},
                ":g1sk": {_S: f"{self.periodo.codigo}#{fila.id_cliente}#{fila.id_concepto}"},
                ":nom": {_S: fila.nombre},
                ":cel": {_S: fila.celular},
                ":tel": {_S: fila.telefono},
                ":mail": {_S: fila.mail},
                ":o1": {_S: fila.opcional1},
                ":o2": {_S: fila.opcional2},
                ":h": {_S: huella},
            }
        )
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"PK": {_S: pk}, "SK": {_S: sk}},
                    "UpdateExpression": _DEBT_UPDATE,
                    "ConditionExpression": _DEBT_CONDITION,
                    "ExpressionAttributeNames": {"#y": "year"},
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        if nueva:
            actions.append(
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
            )
        return Grupo(fila, actions)

    def persona(self, fila: Fila) -> Grupo:
        """Create the payer's profile if absent; an existing profile keeps its name and number."""
        action = {
            "Update": {
                "TableName": self.table,
                "Key": {"PK": {_S: persona_pk(fila.id_cliente)}, "SK": {_S: "PERFIL"}},
                "UpdateExpression": _PERSON_UPDATE,
                "ExpressionAttributeValues": {
                    ":cli": {_S: fila.id_cliente},
                    ":nom": {_S: fila.nombre},
                    ":tid": {_S: TIPO_IDENTIFICACION},
                    ":np": {"N": str(numero_persona(fila.id_cliente))},
                },
            }
        }
        return Grupo(None, [action], cliente=fila.id_cliente)
