"""Payments: every write that moves money is one DynamoDB transaction guarded by conditions.

Keys (docs/data-model.md): the payment ``PAGO#<numeroFactura>``, the debts it settles (their own
keys, guarded by ``estado`` and ``version``), the person's history ``HIST#<identificacion>``, and a
transaction-number sequence ``SEQ#transacciones``.
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
    CONFIRMADO,
    REVERSADO,
    DebtRef,
    DebtState,
    DeudaNoPendiente,
    HistorialPago,
    PagoExistente,
    PagoInexistente,
    Payment,
    PaymentError,
    Throttled,
)


def payment_pk(numero_factura: int) -> str:
    return f"PAGO#{numero_factura}"


def history_key(identificacion: str, fecha_local: date, numero_factura: int) -> dict[str, Any]:
    return key(f"HIST#{identificacion}", f"{fecha_local.isoformat()}#{numero_factura:020d}")


def _attributes(payment: Payment) -> dict[str, Any]:
    """The payment's DynamoDB attributes: the flow payload's fields, amounts as numbers (Decimal)."""
    values = payment.as_dict()
    values["monto"] = payment.monto
    values["deudas"] = [d.as_dict() | {"monto": d.monto} for d in payment.deudas]
    return values


class PaymentsRepository:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    # ---- reads ----

    def get(self, numero_factura: int) -> Payment | None:
        item = self._client.get_item(
            TableName=self._table, Key=key(payment_pk(numero_factura), "PAGO"), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        values = from_item(item)
        values["deudas"] = [dict(x) for x in values["deudas"]]
        return Payment.of(values)

    def reversed(self, numero_factura: int) -> list[Payment]:
        """The invoice's earlier payments that were reversed (kept under the invoice, newest last)."""
        items = query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :rev)",
            ExpressionAttributeValues=to_item({":pk": payment_pk(numero_factura), ":rev": "REV#"}),
            ConsistentRead=True,
        )
        return [Payment.of(item | {"deudas": [dict(x) for x in item["deudas"]]}) for item in items]

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
        """Record the payment and move every debt pending -> paid, all or nothing."""
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item({"PK": payment_pk(payment.numero_factura), "SK": "PAGO"} | _attributes(payment)),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        if payment.carrito:  # a cart's receipt number must not be some debt's own invoice number
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": key(f"FACT#{payment.numero_factura}", "FACT"),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
        for debt in payment.deudas:
            items.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": key(debt.pk, debt.sk),
                        "UpdateExpression": "SET estado = :pagado, version = version + :one, pagoFactura = :nf",
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
        if reasons[0] == "ConditionalCheckFailed":
            existing = self.get(payment.numero_factura)
            if existing is not None and existing.numero_transaccion == payment.numero_transaccion:
                return  # a retried attempt: this very payment was applied by an earlier one
            raise PagoExistente(f"factura {payment.numero_factura} ya tiene un pago")
        if "ConditionalCheckFailed" in reasons:
            raise DeudaNoPendiente(f"factura {payment.numero_factura}: una deuda ya no está pendiente ({reasons})")
        raise PaymentError(f"factura {payment.numero_factura}: transacción rechazada ({reasons})")

    def confirm(self, payment: Payment, cuenta_origen: str) -> bool:
        """APLICADO -> CONFIRMADO plus the history entry. False when it was already confirmed."""
        reasons = self._transact(
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": key(payment_pk(payment.numero_factura), "PAGO"),
                        "UpdateExpression": "SET estado = :confirmado",
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
                                **from_item(
                                    history_key(payment.identificacion, payment.fecha_local, payment.numero_factura)
                                ),
                                "numeroTransaccion": payment.numero_transaccion,
                                "numeroFactura": payment.numero_factura,
                                "fechaPago": payment.fecha_local.isoformat(),
                                "montoPago": payment.monto,
                                "cuentaOrigen": cuenta_origen,
                                "estado": CONFIRMADO,
                            }
                        ),
                    }
                },
            ]
        )
        if reasons is None:
            return True
        current = self.get(payment.numero_factura)
        if (
            current is not None
            and current.estado == CONFIRMADO
            and current.numero_transaccion == payment.numero_transaccion
        ):
            return False
        raise PagoInexistente(f"factura {payment.numero_factura}: no hay pago aplicado que confirmar")

    def compensate(self, payment: Payment) -> bool:
        """Undo ``apply`` (and ``confirm``): the debts go back to pending and the payment is removed,
        so a retry can apply afresh. False when there was nothing left to undo."""
        items: list[dict[str, Any]] = [
            self._delete_payment(
                payment, "estado IN (:aplicado, :confirmado)", {":aplicado": APLICADO, ":confirmado": CONFIRMADO}
            ),
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": history_key(payment.identificacion, payment.fecha_local, payment.numero_factura),
                }
            },
        ]
        items += [self._back_to_pending(payment, d) for d in payment.deudas]
        return self._transact(items) is None

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
                    "Item": to_item(
                        {"PK": payment_pk(payment.numero_factura), "SK": f"REV#{payment.numero_transaccion:020d}"}
                        | archived
                    ),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": history_key(payment.identificacion, payment.fecha_local, payment.numero_factura),
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
                "Key": key(payment_pk(payment.numero_factura), "PAGO"),
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
