"""Bank credentials: API tokens (by key id) and bank records. Only hashes are stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recaudo.auth import IssuedToken, hash_secret, new_secret, new_token, secret_matches
from recaudo.data.dynamo import from_item, key, to_item


@dataclass(frozen=True, slots=True)
class BankCredentials:
    codigo_banco: str
    token: str
    llave_acceso: str


class CredentialsRepository:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    def verify_token(self, key_id: str, secret: str, scope: str = "conectividad") -> str | None:
        """Whom the token belongs to (a bank code; for ``scope="radian"`` a tenant, for ``"uno"`` a
        businessId), or None. The secret is compared in constant time; a token of another API's scope is
        refused."""
        response = self._client.get_item(
            TableName=self._table, Key=key(f"TOKEN#{key_id}", "TOKEN"), ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            # Compare anyway so an unknown key id costs the same as a wrong secret.
            secret_matches(secret, "0" * 64)
            return None
        record = from_item(item)
        matches = secret_matches(secret, record["secretHash"])
        if record.get("activo") is not True or not matches or record.get("ambito", "conectividad") != scope:
            return None
        return str(record["codigoBanco"] if scope == "conectividad" else record["tenant"])

    def verify_llave(self, codigo_banco: str, llave: str) -> bool:
        """Whether ``llave`` is the bank's llaveAcceso (compared in constant time)."""
        response = self._client.get_item(
            TableName=self._table, Key=key(f"BANCO#{codigo_banco}", "BANCO"), ConsistentRead=True
        )
        item = response.get("Item")
        stored = from_item(item)["llaveAccesoHash"] if item else "0" * 64
        return secret_matches(llave, stored) and item is not None

    def create_bank(self, codigo_banco: str, nombre: str, now: datetime) -> BankCredentials:
        """Create a bank with one API token and its llaveAcceso. The plain secrets are returned once."""
        token: IssuedToken = new_token()
        llave = new_secret()
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {
                                "PK": f"BANCO#{codigo_banco}",
                                "SK": "BANCO",
                                "codigoBanco": codigo_banco,
                                "nombre": nombre,
                                "llaveAccesoHash": hash_secret(llave),
                                "creado": now.isoformat(),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {"Put": self._token_put(token, codigo_banco, now)},
            ]
        )
        return BankCredentials(codigo_banco=codigo_banco, token=token.token, llave_acceso=llave)

    def add_token(self, codigo_banco: str, now: datetime) -> str:
        """Issue another API token for an existing bank (rotation)."""
        token = new_token()
        self._client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": key(f"BANCO#{codigo_banco}", "BANCO"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {"Put": self._token_put(token, codigo_banco, now)},
            ]
        )
        return token.token

    def create_tenant(self, tenant: str, nombre: str, now: datetime) -> str:
        """A RADIAN tenant with one API token (returned once; only its hash is stored)."""
        token = new_token()
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {
                                "PK": f"TENANT#{tenant}",
                                "SK": "TENANT",
                                "tenant": tenant,
                                "nombre": nombre,
                                "creado": now.isoformat(),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {"Put": self._tenant_token_put(token, tenant, now)},
            ]
        )
        return token.token

    def add_business_token(self, business_id: int, now: datetime) -> str:
        """A Sistema UNO business's API token (returned once; only its hash is stored). The business
        itself lives in the cuotas table; its token opens only the UNO API, and only for its businessId."""
        token = new_token()
        self._client.put_item(**self._tenant_token_put(token, str(business_id), now, ambito="uno"))
        return token.token

    def add_tenant_token(self, tenant: str, now: datetime) -> str:
        token = new_token()
        self._client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": key(f"TENANT#{tenant}", "TENANT"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {"Put": self._tenant_token_put(token, tenant, now)},
            ]
        )
        return token.token

    def _tenant_token_put(
        self, token: IssuedToken, tenant: str, now: datetime, ambito: str = "radian"
    ) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": to_item(
                {
                    "PK": f"TOKEN#{token.key_id}",
                    "SK": "TOKEN",
                    "ambito": ambito,
                    "tenant": tenant,
                    "secretHash": hash_secret(token.secret),
                    "activo": True,
                    "creado": now.isoformat(),
                }
            ),
            "ConditionExpression": "attribute_not_exists(PK)",
        }

    def revoke_token(self, key_id: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=key(f"TOKEN#{key_id}", "TOKEN"),
            UpdateExpression="SET activo = :no",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":no": {"BOOL": False}},
        )

    def _token_put(self, token: IssuedToken, codigo_banco: str, now: datetime) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": to_item(
                {
                    "PK": f"TOKEN#{token.key_id}",
                    "SK": "TOKEN",
                    "codigoBanco": codigo_banco,
                    "secretHash": hash_secret(token.secret),
                    "activo": True,
                    "creado": now.isoformat(),
                }
            ),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
