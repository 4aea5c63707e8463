"""Cobranzas integrators, in the credentials table. Only the SHA-256 of an integrator's hash is
stored (``HASHINTEG#<digest>``), beside its record (``INTEG#<id>``). Keys: docs/data-model.md."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from recaudo.auth import hash_secret, new_secret
from recaudo.data.dynamo import from_item, key, to_item
from recaudo.models.cobranzas import Integrador


class IntegradoresRepository:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    def autenticar(self, hash_presentado: str | None) -> Integrador | None:
        """The integrator whose hash this is, or None. The lookup is by the SHA-256 of the hash (a
        256-bit secret), and the stored digest is compared in constant time."""
        import hmac

        digest = hash_secret(hash_presentado or "")
        item = self._client.get_item(
            TableName=self._table, Key=key(f"HASHINTEG#{digest}", "HASH"), ConsistentRead=True
        ).get("Item")
        stored = from_item(item)["hashDigest"] if item else "0" * 64
        if not (hmac.compare_digest(stored.encode("ascii"), digest.encode("ascii")) and item and hash_presentado):
            return None
        record = from_item(item)
        if record.get("activo") is not True:
            return None
        return _integrador(record)

    def get(self, integrador_id: str) -> Integrador | None:
        item = self._client.get_item(
            TableName=self._table, Key=key(f"INTEG#{integrador_id}", "INTEG"), ConsistentRead=True
        ).get("Item")
        return _integrador(from_item(item)) if item else None

    def crear(self, integrador: Integrador, now: datetime, hash_plano: str | None = None) -> str:
        """Register an integrator and issue its hash (returned once, stored only as a digest)."""
        plano = hash_plano or new_secret()
        values = {
            "id": integrador.id,
            "nombre": integrador.nombre,
            "institucion": integrador.institucion,
            "convenio": integrador.convenio,
            "zonaHoraria": integrador.zona_horaria,
            "creado": now.isoformat(),
            "claveFacturas": integrador.clave_facturas or secrets.token_hex(32),
        }
        digest = hash_secret(plano)
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item({"PK": f"INTEG#{integrador.id}", "SK": "INTEG"} | values),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {"PK": f"HASHINTEG#{digest}", "SK": "HASH", "hashDigest": digest, "activo": True} | values
                        ),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
        return plano


def _integrador(record: dict[str, Any]) -> Integrador:
    return Integrador(
        id=record["id"],
        nombre=record["nombre"],
        institucion=record["institucion"],
        convenio=record["convenio"],
        zona_horaria=record["zonaHoraria"],
        clave_facturas=str(record.get("claveFacturas", "")),
        activo=record.get("activo", True) is True,
    )
