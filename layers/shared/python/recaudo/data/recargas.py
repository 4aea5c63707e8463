"""CPS recargas in DynamoDB: channels (credentials table), nonces and Idempotency-Key records
(idempotency table, with TTL) and top-up operations (ledger table, ``RECARGA#<id>``).

Every state change of an operation is a conditional write; the keys are in docs/data-model.md.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from recaudo.data.dynamo import from_item, to_item
from recaudo.models.recargas import EstadoRecarga, Recarga


@dataclass(frozen=True, slots=True)
class Canal:
    api_key: str
    nombre: str
    activo: bool
    clave_cifrada: bytes  # the private key, encrypted with KMS (context {"canal": api_key})
    version: int
    creado: str


def _now(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class CanalesRepository:
    def __init__(self, table: str, client: Any) -> None:
        self._table, self._client = table, client

    @staticmethod
    def _key(api_key: str) -> dict[str, Any]:
        return {"PK": {"S": f"CANAL#{api_key}"}, "SK": {"S": "CANAL"}}

    def get(self, api_key: str) -> Canal | None:
        item = self._client.get_item(TableName=self._table, Key=self._key(api_key), ConsistentRead=True).get("Item")
        if not item:
            return None
        d = from_item(item)
        return Canal(
            api_key=api_key,
            nombre=d["nombre"],
            activo=d["estado"] == "ACTIVO",
            clave_cifrada=base64.b64decode(d["claveCifrada"]),
            version=int(d["version"]),
            creado=d["creado"],
        )

    def put_new(self, api_key: str, nombre: str, clave_cifrada: bytes, now: datetime) -> None:
        item = {
            "PK": f"CANAL#{api_key}",
            "SK": "CANAL",
            "nombre": nombre,
            "estado": "ACTIVO",
            "claveCifrada": base64.b64encode(clave_cifrada).decode("ascii"),
            "version": 1,
            "creado": _now(now),
        }
        self._client.put_item(TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")

    def rotate(self, api_key: str, clave_cifrada: bytes, now: datetime) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=self._key(api_key),
            UpdateExpression="SET claveCifrada = :c, version = version + :one, rotado = :t",
            ConditionExpression="attribute_exists(PK) AND estado = :activo",
            ExpressionAttributeValues=to_item(
                {":c": base64.b64encode(clave_cifrada).decode("ascii"), ":one": 1, ":t": _now(now), ":activo": "ACTIVO"}
            ),
        )

    def revoke(self, api_key: str, now: datetime) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=self._key(api_key),
            UpdateExpression="SET estado = :revocado, revocado = :t",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=to_item({":revocado": "REVOCADO", ":t": _now(now)}),
        )


class UnaVezRepository:
    """Single-use claims with an expiry (the idempotency table's TTL): nonces, Idempotency-Keys."""

    def __init__(self, table: str, client: Any) -> None:
        self._table, self._client = table, client

    def claim_nonce(self, api_key: str, nonce: str, ttl_seconds: int, now: datetime) -> bool:
        """True the first time (api-key, nonce) is seen; False for a replay."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item({"id": f"cps-nonce#{api_key}#{nonce}", "expiration": int(now.timestamp()) + ttl_seconds}),
                ConditionExpression="attribute_not_exists(id)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def claim_key(
        self, api_key: str, key: str, huella: str, operacion: str, ttl_seconds: int, now: datetime
    ) -> dict[str, Any] | None:
        """None when this request now owns the key; else the record of the request that does."""
        record_id = f"cps-idem#{api_key}#{key}"
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(
                    {
                        "id": record_id,
                        "huella": huella,
                        "operacion": operacion,
                        "expiration": int(now.timestamp()) + ttl_seconds,
                    }
                ),
                ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                ExpressionAttributeValues=to_item({":now": int(now.timestamp())}),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            item = self._client.get_item(TableName=self._table, Key={"id": {"S": record_id}}, ConsistentRead=True).get(
                "Item"
            )
            return from_item(item) if item else {"huella": None, "operacion": None}
        return None

    def release_key(self, api_key: str, key: str, operacion: str) -> None:
        """Give the key back when its request failed before registering its operation, so a retry
        with it is not answered "in progress" for a day. Only the owner's, only without a reply."""
        # someone else's by now, or answered: nothing to give back
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.delete_item(
                TableName=self._table,
                Key={"id": {"S": f"cps-idem#{api_key}#{key}"}},
                ConditionExpression="operacion = :op AND attribute_not_exists(respuesta)",
                ExpressionAttributeValues=to_item({":op": operacion}),
            )

    def save_reply(self, api_key: str, key: str, status: int, body: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"id": {"S": f"cps-idem#{api_key}#{key}"}},
            UpdateExpression="SET respuestaEstado = :s, respuesta = :b",
            ConditionExpression="attribute_exists(id) AND attribute_not_exists(respuesta)",
            ExpressionAttributeValues=to_item({":s": status, ":b": body}),
        )


class RecargasRepository:
    def __init__(self, table: str, client: Any) -> None:
        self._table, self._client = table, client

    @staticmethod
    def _key(id_: str) -> dict[str, Any]:
        return {"PK": {"S": f"RECARGA#{id_}"}, "SK": {"S": "RECARGA"}}

    def put_new(self, r: Recarga) -> None:
        item = {
            "PK": f"RECARGA#{r.id}",
            "SK": "RECARGA",
            "canal": r.canal,
            "servicio": r.servicio,
            "numero": r.numero,
            "monto": r.monto,
            "estado": r.estado.value,
            "creada": _now(r.creada),
            "expira": _now(r.expira),
            "version": 0,
        }
        self._client.put_item(TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")

    def get(self, id_: str) -> Recarga | None:
        item = self._client.get_item(TableName=self._table, Key=self._key(id_), ConsistentRead=True).get("Item")
        if not item:
            return None
        d = from_item(item)
        return Recarga(
            id=id_,
            canal=d["canal"],
            servicio=int(d["servicio"]),
            numero=d["numero"],
            monto=Decimal(d["monto"]),
            estado=EstadoRecarga(d["estado"]),
            creada=datetime.fromisoformat(d["creada"].replace("Z", "+00:00")),
            expira=datetime.fromisoformat(d["expira"].replace("Z", "+00:00")),
            motivo=d.get("motivo"),
            autorizacion=d.get("autorizacion"),
            saldo=Decimal(d["saldo"]) if d.get("saldo") is not None else None,
            verificada=bool(d.get("verificada", False)),
            version=int(d.get("version", 0)),
            enviada=d.get("enviada"),
        )

    def mark_sent(self, id_: str, now: datetime) -> bool:
        """Claim the right to send the top-up to the carrier: True once per operation, ever."""
        return self._update(
            id_,
            "SET enviada = :t",
            "attribute_exists(PK) AND attribute_not_exists(enviada) AND estado = :pendiente",
            {":t": _now(now), ":pendiente": EstadoRecarga.PENDIENTE.value},
        )

    def confirm(self, id_: str, autorizacion: str | None, now: datetime) -> bool:
        """PENDIENTE -> CONFIRMADA. False when it was not pending (already final)."""
        return self._update(
            id_,
            "SET estado = :confirmada, autorizacion = :a, resuelta = :t, version = version + :one",
            "estado = :pendiente",
            {
                ":confirmada": EstadoRecarga.CONFIRMADA.value,
                ":a": autorizacion or "",
                ":t": _now(now),
                ":one": 1,
                ":pendiente": EstadoRecarga.PENDIENTE.value,
            },
        )

    def fail(self, id_: str, motivo: str, now: datetime) -> bool:
        """PENDIENTE -> FALLIDA. False when it was not pending (already final)."""
        return self._update(
            id_,
            "SET estado = :fallida, motivo = :m, resuelta = :t, version = version + :one",
            "estado = :pendiente",
            {
                ":fallida": EstadoRecarga.FALLIDA.value,
                ":m": motivo,
                ":t": _now(now),
                ":one": 1,
                ":pendiente": EstadoRecarga.PENDIENTE.value,
            },
        )

    def mark_verified(self, id_: str, verified: bool, now: datetime) -> bool:
        return self._update(
            id_,
            "SET verificada = :v, verificadaEn = :t",
            "estado = :confirmada",
            {":v": verified, ":t": _now(now), ":confirmada": EstadoRecarga.CONFIRMADA.value},
        )

    def _update(self, id_: str, expression: str, condition: str, values: dict[str, Any]) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(id_),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=to_item(values),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True
