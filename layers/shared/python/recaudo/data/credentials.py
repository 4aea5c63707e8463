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

    def verify_llave(self, codigo_banco: str, llave: str, now: datetime | None = None) -> bool:
        """Whether ``llave`` is the bank's llaveAcceso, or its previous one while a rotation's grace
        period lasts (``now`` before ``llaveAnteriorHasta``). Compared in constant time."""
        response = self._client.get_item(
            TableName=self._table, Key=key(f"BANCO#{codigo_banco}", "BANCO"), ConsistentRead=True
        )
        item = response.get("Item")
        record = from_item(item) if item else {}
        current = secret_matches(llave, record.get("llaveAccesoHash", "0" * 64))
        previous = secret_matches(llave, record.get("llaveAnteriorHash", "0" * 64))
        hasta = record.get("llaveAnteriorHasta")
        in_grace = bool(hasta) and now is not None and now.isoformat() < str(hasta)
        return item is not None and (current or (previous and in_grace))

    def token_activo(self, key_id: str, codigo_banco: str) -> bool:
        """Whether the bank's token is still active now (the authorizer's answer may be cached)."""
        item = self._client.get_item(
            TableName=self._table, Key=key(f"TOKEN#{key_id}", "TOKEN"), ConsistentRead=True
        ).get("Item")
        if not item:
            return False
        record = from_item(item)
        return record.get("activo") is True and str(record.get("codigoBanco")) == codigo_banco

    def rotate_llave(self, codigo_banco: str, now: datetime, gracia_segundos: int) -> str:
        """A new llaveAcceso for the bank (returned once; only its hash is stored). The current one keeps
        working for ``gracia_segundos`` (0: revoked at once); an older previous one stops now."""
        from datetime import timedelta

        llave = new_secret()
        hasta = (now + timedelta(seconds=gracia_segundos)).isoformat()
        self._client.update_item(
            TableName=self._table,
            Key=key(f"BANCO#{codigo_banco}", "BANCO"),
            UpdateExpression=(
                "SET llaveAnteriorHash = llaveAccesoHash, llaveAnteriorHasta = :hasta, "
                "llaveAccesoHash = :nueva, llaveRotada = :ahora"
            ),
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=to_item(
                {":hasta": hasta, ":nueva": hash_secret(llave), ":ahora": now.isoformat()}
            ),
        )
        return llave

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

    def usage_key(self, codigo_banco: str) -> str | None:
        """The bank's API key value in Conectividad's usage plan (what the TOKEN authorizer returns as
        ``usageIdentifierKey``), or None when the bank has none yet. Not a credential: banks never send
        it, it only meters them. Eventually consistent (the authorizer caches its answer anyway)."""
        response = self._client.get_item(
            TableName=self._table, Key=key(f"BANCO#{codigo_banco}", "BANCO"), ProjectionExpression="apiKeyValue"
        )
        item = response.get("Item")
        value = from_item(item).get("apiKeyValue") if item else None
        return str(value) if value else None

    def set_usage_key(self, codigo_banco: str, value: str, key_id: str | None = None) -> str | None:
        """Store the bank's API key value (and the key's id) on its record; returns the id of the key it
        replaces, if any. An unknown bank is refused (ConditionalCheckFailedException)."""
        values = to_item({":valor": value, ":id": key_id or ""})
        response = self._client.update_item(
            TableName=self._table,
            Key=key(f"BANCO#{codigo_banco}", "BANCO"),
            UpdateExpression="SET apiKeyValue = :valor, apiKeyId = :id",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=values,
            ReturnValues="UPDATED_OLD",
        )
        previous = from_item(response.get("Attributes") or {}).get("apiKeyId")
        return str(previous) if previous else None
