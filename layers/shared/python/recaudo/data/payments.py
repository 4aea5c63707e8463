"""Payments: every write that moves money is one DynamoDB transaction guarded by conditions.

Keys (docs/data-model.md): the payment ``PAGO#<numeroFactura>`` (a cart's: ``PAGO#<n>#BANCO#<banco>``),
with its reversed (``REV#``) and compensated (``COMP#``) copies beside it; the request that made it
``SOLICITUD#<banco>#<identidad>``; the debts it settles (their own keys, guarded by ``estado`` and
``version``); the person's history ``HIST#<identificacion>``; a transaction-number sequence
``SEQ#transacciones``. A payment left APLICADO is listed by the sparse GSI2 (``GSI2PK = APLICADO``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from recaudo.data.dynamo import from_item, guarded, key, query_all, to_item, transact
from recaudo.data.ledger import deuda_key
from recaudo.models.ledger import Deuda
from recaudo.models.pagos import (
    APLICADO,
    COMPENSADO,
    CONFIRMADO,
    REVERSADO,
    DebtRef,
    DebtState,
    DeudaNoPendiente,
    HistorialPago,
    NumeroNoDisponible,
    PagoExistente,
    PagoInexistente,
    Payment,
    PaymentError,
    Solicitud,
    SolicitudRepetida,
    Throttled,
)

ATASCO_INDEX = "GSI2"  # the sparse index of payments left APLICADO: GSI2PK = "APLICADO", GSI2SK = fechaPago#pk


def payment_pk(numero_factura: int, banco_carrito: str | None = None) -> str:
    """An invoice's payment key; with ``banco_carrito``, that bank's cart with that receipt number."""
    return f"PAGO#{numero_factura}#BANCO#{banco_carrito}" if banco_carrito else f"PAGO#{numero_factura}"


def solicitud_key(banco: str, identidad: str) -> dict[str, Any]:
    return key(f"SOLICITUD#{banco}#{identidad}", "SOLICITUD")


def history_key(payment: Payment) -> dict[str, Any]:
    return key(f"HIST#{payment.identificacion}", payment.history_sk)


def _attributes(payment: Payment) -> dict[str, Any]:
    """The payment's DynamoDB attributes: the flow payload's fields, amounts as numbers (Decimal)."""
    values = payment.as_dict()
    values["monto"] = payment.monto
    values["deudas"] = [d.as_dict() | {"monto": d.monto} for d in payment.deudas]
    return values


def _payment(item: dict[str, Any]) -> Payment:
    return Payment.of(item | {"deudas": [dict(x) for x in item["deudas"]]})


class PaymentsRepository:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    # ---- reads ----

    def get(self, numero_factura: int, banco_carrito: str | None = None) -> Payment | None:
        """The invoice's current payment (APLICADO or CONFIRMADO); with ``banco_carrito``, that bank's cart."""
        item = self._client.get_item(
            TableName=self._table, Key=key(payment_pk(numero_factura, banco_carrito), "PAGO"), ConsistentRead=True
        ).get("Item")
        return _payment(from_item(item)) if item else None

    def reversed(self, numero_factura: int, banco_carrito: str | None = None) -> list[Payment]:
        """The invoice's (or cart's) earlier payments that were reversed, newest last."""
        return [p for p in self.all_of(payment_pk(numero_factura, banco_carrito)) if p.estado == REVERSADO]

    def all_of(self, pk: str) -> list[Payment]:
        """Every payment kept under ``pk``: the current one, the reversed and the compensated ones."""
        items = query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues=to_item({":pk": pk}),
            ConsistentRead=True,
        )
        return [_payment(item) for item in items]

    def solicitud(self, banco: str, identidad: str) -> Solicitud | None:
        """The payment a bank's request (its identity) already made, if any."""
        item = self._client.get_item(
            TableName=self._table, Key=solicitud_key(banco, identidad), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        v = from_item(item)
        return Solicitud(str(v["pagoPK"]), int(v["numeroFactura"]), int(v["numeroTransaccion"]), str(v["huella"]))

    def atascados(self, antes_de: str, limite: int = 100) -> list[Payment]:
        """Payments still APLICADO whose fechaPago is before ``antes_de`` (ISO instant), oldest first.
        The index is eventually consistent: the caller's conditional writes decide."""
        items = query_all(
            self._client,
            TableName=self._table,
            IndexName=ATASCO_INDEX,
            KeyConditionExpression="GSI2PK = :a AND GSI2SK < :antes",
            ExpressionAttributeValues=to_item({":a": APLICADO, ":antes": antes_de}),
            Limit=limite,
        )
        out = []
        for item in items:
            out.append(_payment(item))
            if len(out) >= limite:
                break
        return out

    def get_debt_state(self, ref: DebtRef) -> DebtState | None:
        item = self._client.get_item(TableName=self._table, Key=key(ref.pk, ref.sk), ConsistentRead=True).get("Item")
        if not item:
            return None
        values = from_item(item)
        pago_factura = values.get("pagoFactura")
        return DebtState(
            estado=str(values.get("estado")),
            pago_factura=int(pago_factura) if pago_factura is not None else None,
            monto=Decimal(values["saldo"]) + Decimal(values["saldoInteres"]),
        )

    def history(self, identificacion: str, desde: date, hasta: date) -> list[HistorialPago]:
        """The person's history entries whose local payment date is in [desde, hasta], oldest first."""
        items = query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :desde AND :hasta",
            ExpressionAttributeValues=to_item(
                {":pk": f"HIST#{identificacion}", ":desde": desde.isoformat(), ":hasta": f"{hasta.isoformat()}#~"}
            ),
            ConsistentRead=True,
        )
        return [
            HistorialPago(
                numero_transaccion=int(item["numeroTransaccion"]),
                numero_factura=int(item["numeroFactura"]),
                fecha_pago=date.fromisoformat(item["fechaPago"]),
                monto_pago=Decimal(item["montoPago"]),
                cuenta_origen=item["cuentaOrigen"],
                estado=str(item.get("estado", "")),
                banco=str(item.get("banco", "")),
            )
            for item in items
        ]

    @staticmethod
    def debt_ref(deuda: Deuda) -> DebtRef:
        """How a payment names a debt it settles: the debt's key and the version it was read at."""
        pk, sk = deuda_key(deuda)
        return DebtRef(pk, sk, deuda.version, deuda.id_saldo, deuda.id_rubro, deuda.descripcion, deuda.monto)

    def next_transaction_number(self) -> int:
        response = self._guard(
            self._client.update_item,
            TableName=self._table,
            Key=key("SEQ#transacciones", "SEQ"),
            UpdateExpression="ADD valor :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["valor"]["N"])

    # ---- the flow's writes ----

    def apply(self, payment: Payment) -> None:
        """Record the payment and its request, and move every debt pending -> paid, all or nothing.

        The request's SOLICITUD# item makes a second payment by the same request impossible, also
        after a reversal; only a compensated payment's item may be taken over (``identidad_previa``).
        A cart reserves its receipt number (``FACT#<n>``), so no debt can take that number later."""
        atasco = {"GSI2PK": APLICADO, "GSI2SK": f"{payment.fecha_pago}#{payment.pk}"}
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item({"PK": payment.pk, "SK": "PAGO"} | _attributes(payment) | atasco),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            self._solicitud_put(payment),
        ]
        if payment.reclamar_huella:  # the same body without a key is a retry of this payment too
            items.append(self._solicitud_put(payment, "F:" + payment.solicitud, nueva=True))
        if payment.carrito:
            items.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": key(f"FACT#{payment.numero_factura}", "FACT"),
                        "UpdateExpression": "ADD carritos :b",
                        "ConditionExpression": "attribute_not_exists(deudaPK)",
                        "ExpressionAttributeValues": {":b": {"SS": [payment.banco]}},
                    }
                }
            )
        for debt in payment.deudas:
            items.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": key(debt.pk, debt.sk),
                        "UpdateExpression": "SET estado = :pagado, version = version + :one, pagoFactura = :nf REMOVE motivoRechazo",
                        "ConditionExpression": "estado = :pendiente AND version = :v",
                        "ExpressionAttributeValues": to_item(
                            {
                                ":pagado": "pagado",
                                ":pendiente": "pendiente",
                                ":one": 1,
                                ":v": debt.version,
                                ":nf": payment.numero_factura,
                            }
                        ),
                    }
                }
            )
        reasons = self._transact(items)
        if reasons is None:
            return
        failed = [i for i, r in enumerate(reasons) if r == "ConditionalCheckFailed"]
        if 0 in failed:
            existing = self.get(payment.numero_factura, payment.banco if payment.carrito else None)
            if existing is not None and existing.numero_transaccion == payment.numero_transaccion:
                return  # a retried attempt: this very payment was applied by an earlier one
            raise PagoExistente(f"factura {payment.numero_factura} ya tiene un pago")
        if 1 in failed or (payment.reclamar_huella and 2 in failed):
            raise SolicitudRepetida(f"factura {payment.numero_factura}: la solicitud ya hizo un pago")
        if payment.carrito and len(items) - len(payment.deudas) - 1 in failed:
            raise NumeroNoDisponible(f"el número {payment.numero_factura} es el de una factura")
        if failed:
            raise DeudaNoPendiente(f"factura {payment.numero_factura}: una deuda ya no está pendiente ({reasons})")
        raise PaymentError(f"factura {payment.numero_factura}: transacción rechazada ({reasons})")

    def _solicitud_put(self, payment: Payment, identidad: str | None = None, nueva: bool = False) -> dict[str, Any]:
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": to_item(
                {
                    **from_item(solicitud_key(payment.banco, identidad or payment.identidad)),
                    "pagoPK": payment.pk,
                    "numeroFactura": payment.numero_factura,
                    "numeroTransaccion": payment.numero_transaccion,
                    "huella": payment.solicitud,
                    "creado": payment.fecha_pago,
                }
            ),
        }
        if nueva:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            if payment.identidad_previa is None:
                put["ConditionExpression"] = "attribute_not_exists(PK)"
            else:  # take over the item of a compensated payment, only if it still names that one
                put["ConditionExpression"] = "attribute_not_exists(PK) OR numeroTransaccion = :prev"
                put["ExpressionAttributeValues"] = to_item({":prev": payment.identidad_previa})
        return {"Put": put}

    def confirm(self, payment: Payment, cuenta_origen: str) -> bool:
        """APLICADO -> CONFIRMADO plus the history entry. False when it was already confirmed."""
        reasons = self._transact(
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": key(payment.pk, "PAGO"),
                        "UpdateExpression": "SET estado = :confirmado REMOVE GSI2PK, GSI2SK",
                        "ConditionExpression": "estado = :aplicado AND numeroTransaccion = :tx",
                        "ExpressionAttributeValues": to_item(
                            {":confirmado": CONFIRMADO, ":aplicado": APLICADO, ":tx": payment.numero_transaccion}
                        ),
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {
                                **from_item(history_key(payment)),
                                "numeroTransaccion": payment.numero_transaccion,
                                "numeroFactura": payment.numero_factura,
                                "fechaPago": payment.fecha_local.isoformat(),
                                "montoPago": payment.monto,
                                "cuentaOrigen": cuenta_origen,
                                "estado": CONFIRMADO,
                                "banco": payment.banco,
                            }
                        ),
                    }
                },
            ]
        )
        if reasons is None:
            return True
        current = self.get(payment.numero_factura, payment.banco if payment.carrito else None)
        if (
            current is not None
            and current.estado == CONFIRMADO
            and current.numero_transaccion == payment.numero_transaccion
        ):
            return False
        raise PagoInexistente(f"factura {payment.numero_factura}: no hay pago aplicado que confirmar")

    def compensate(self, payment: Payment, motivo: str, at: str) -> bool:
        """Undo ``apply`` (and ``confirm``): the debts go back to pending and the payment moves to its
        audit copy ``COMP#<transaction>`` (never deleted), so a new request can apply afresh. False
        when there was nothing left to undo (never applied, or already compensated)."""
        audit = _attributes(payment) | {"estado": COMPENSADO, "fechaCompensacion": at, "motivo": motivo[:500]}
        items: list[dict[str, Any]] = [
            self._delete_payment(
                payment, "estado IN (:aplicado, :confirmado)", {":aplicado": APLICADO, ":confirmado": CONFIRMADO}
            ),
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item({"PK": payment.pk, "SK": f"COMP#{payment.numero_transaccion:020d}"} | audit),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {"Delete": {"TableName": self._table, "Key": history_key(payment)}},
        ]
        items += [self._back_to_pending(payment, d) for d in payment.deudas]
        reasons = self._transact(items)
        if reasons is None:
            return True
        if reasons[0] == "ConditionalCheckFailed":
            return False  # nothing of this payment is applied: nothing to undo
        raise PaymentError(f"factura {payment.numero_factura}: la compensación fue rechazada ({reasons})")

    def reverse(self, payment: Payment, reversed_at: str) -> None:
        """The confirmed payment moves to the invoice's reversed list (``REV#<transaction>``) and every
        debt goes back to pending, all or nothing; the invoice can then be paid again."""
        archived = _attributes(payment) | {"estado": REVERSADO, "fechaReversa": reversed_at}
        items: list[dict[str, Any]] = [
            self._delete_payment(
                payment, "estado = :confirmado AND banco = :banco", {":confirmado": CONFIRMADO, ":banco": payment.banco}
            ),
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item({"PK": payment.pk, "SK": f"REV#{payment.numero_transaccion:020d}"} | archived),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": history_key(payment),
                    "UpdateExpression": "SET estado = :reversado",
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeValues": to_item({":reversado": REVERSADO}),
                }
            },
        ]
        items += [self._back_to_pending(payment, d) for d in payment.deudas]
        reasons = self._transact(items)
        if reasons is not None:
            raise PagoInexistente(f"factura {payment.numero_factura}: no hay pago confirmado que reversar ({reasons})")

    # ---- helpers ----

    def _delete_payment(self, payment: Payment, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        """Remove the invoice's current payment, only if it is still this very payment."""
        return {
            "Delete": {
                "TableName": self._table,
                "Key": key(payment.pk, "PAGO"),
                "ConditionExpression": f"{condition} AND numeroTransaccion = :tx",
                "ExpressionAttributeValues": to_item(values | {":tx": payment.numero_transaccion}),
            }
        }

    def _back_to_pending(self, payment: Payment, debt: DebtRef) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": key(debt.pk, debt.sk),
                "UpdateExpression": "SET estado = :pendiente, version = version + :one REMOVE pagoFactura",
                "ConditionExpression": "estado = :pagado AND pagoFactura = :nf",
                "ExpressionAttributeValues": to_item(
                    {":pendiente": "pendiente", ":pagado": "pagado", ":one": 1, ":nf": payment.numero_factura}
                ),
            }
        }

    def _transact(self, items: list[dict[str, Any]]) -> list[str] | None:
        return transact(self._client, items, throttled=Throttled)

    def _guard(self, call: Any, **kwargs: Any) -> Any:
        return guarded(call, throttled=Throttled, **kwargs)
