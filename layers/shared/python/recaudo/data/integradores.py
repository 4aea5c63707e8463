"""Cobranzas integrators, in the credentials table. Only the SHA-256 of an integrator's hash is
stored (``HASHINTEG#<digest>``), beside its record (``INTEG#<id>``). Keys: docs/data-model.md.

A hash item carries a copy of the integrator's values (one read authenticates a request), ``activo``
and, while a rotation's grace period lasts, ``expira``: authentication compares it with the clock, so
an old hash stops at that instant whatever any cleanup does. Every write that touches an integrator's
hash items also bumps ``version`` on its ``INTEG#`` record, in one conditional transaction: two
operators rotating or revoking at once cannot leave a hash that the other meant to end.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from recaudo.auth import hash_secret, new_secret
from recaudo.data.dynamo import from_item, key, to_item
from recaudo.dates import Clock, utc_now
from recaudo.models.cobranzas import Integrador

# the integrator's values copied onto each of its hash items
_VALORES = ("id", "nombre", "institucion", "convenio", "zonaHoraria", "creado", "claveFacturas")
# DynamoDB takes at most 100 actions per transaction: the record, the new hash and the old ones
_MAX_HASHES = 98


class IntegradorNoExiste(LookupError):
    """No ``INTEG#<id>`` record."""


class IntegradorRevocado(Exception):
    """Rotating a revoked integrator's hash needs an explicit re-activation."""


class CambioConcurrente(Exception):
    """Another rotation or revocation of the same integrator won the race: nothing was written."""


@dataclass(frozen=True)
class Rotacion:
    hash: str = field(repr=False)  # the new hash, in the clear: returned once, never stored or logged
    anterior_hasta: datetime | None  # until when the previous hash still works (None: it stopped now)
    terminados: int  # hashes ended now
    reactivado: bool


class IntegradoresRepository:
    def __init__(self, table_name: str, client: Any, clock: Clock = utc_now) -> None:
        self._table = table_name
        self._client = client
        self._clock = clock

    def autenticar(self, hash_presentado: str | None) -> Integrador | None:
        """The integrator whose hash this is, or None. The lookup is by the SHA-256 of the hash (a
        256-bit secret), and the stored digest is compared in constant time. A revoked hash, or one
        whose rotation grace period has ended (``expira`` before now), opens nothing."""
        digest = hash_secret(hash_presentado or "")
        item = self._client.get_item(
            TableName=self._table, Key=key(f"HASHINTEG#{digest}", "HASH"), ConsistentRead=True
        ).get("Item")
        record = from_item(item) if item else {}
        stored = str(record.get("hashDigest", "0" * 64))
        if not (hmac.compare_digest(stored.encode("ascii"), digest.encode("ascii")) and item and hash_presentado):
            return None
        if record.get("activo") is not True:
            return None
        expira = record.get("expira")
        if expira is not None and not self._clock() < datetime.fromisoformat(str(expira)):
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

    def rotar(self, integrador_id: str, now: datetime, gracia_segundos: int, reactivar: bool = False) -> Rotacion:
        """Issue a new hash (returned once). The current one keeps working until ``now + gracia_segundos``
        (0: it stops now); a previous one still in its grace period stops now. A revoked integrator is
        rotated only with ``reactivar``: it becomes active again with the new hash alone (its revoked
        hashes never come back)."""
        record = self._record(integrador_id)
        activo = record.get("activo", True) is True
        if not activo and not reactivar:
            raise IntegradorRevocado(integrador_id)
        plano = new_secret()
        digest = hash_secret(plano)
        hasta = now + timedelta(seconds=gracia_segundos) if activo and gracia_segundos > 0 else None
        vigentes = self._hashes_activos(integrador_id)
        acciones: list[dict[str, Any]] = []
        terminados = 0
        for item in vigentes:
            if hasta is not None and "expira" not in item:  # the current hash: its grace period starts
                acciones.append(self._expirar(item["hashDigest"], hasta))
            else:  # rotation without grace, a re-activation, or an older previous hash
                acciones.append(self._terminar(item["hashDigest"], now))
                terminados += 1
        nuevo = {k: record[k] for k in _VALORES if k in record}
        nuevo |= {"PK": f"HASHINTEG#{digest}", "SK": "HASH", "hashDigest": digest, "activo": True, "emitido": now}
        acciones.append({"Put": self._put(nuevo, "attribute_not_exists(PK)")})
        cambios = {"activo": True, "hashRotado": now.isoformat()}
        if not activo:
            cambios["reactivado"] = now.isoformat()
        acciones.append(self._actualizar_record(record, cambios))
        self._transaccion(acciones)
        return Rotacion(plano, hasta, terminados, reactivado=not activo)

    def revocar(self, integrador_id: str, now: datetime) -> int:
        """End every hash of the integrator now and mark it inactive (its HTTP calls get 401, its S3
        drops are refused). Returns how many hashes were still working."""
        record = self._record(integrador_id)
        vigentes = self._hashes_activos(integrador_id)
        acciones = [self._terminar(item["hashDigest"], now) for item in vigentes]
        acciones.append(self._actualizar_record(record, {"activo": False, "revocado": now.isoformat()}))
        self._transaccion(acciones)
        return len(vigentes)

    # ---- helpers ----

    def _record(self, integrador_id: str) -> dict[str, Any]:
        item = self._client.get_item(
            TableName=self._table, Key=key(f"INTEG#{integrador_id}", "INTEG"), ConsistentRead=True
        ).get("Item")
        if not item:
            raise IntegradorNoExiste(integrador_id)
        return from_item(item)

    def _hashes_activos(self, integrador_id: str) -> list[dict[str, Any]]:
        """Every hash item of the integrator still marked active (expired or not). An operator's scan:
        the hash items are keyed by digest only, and rotations and revocations are rare."""
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": True,
            "FilterExpression": "begins_with(PK, :p) AND SK = :sk AND id = :id AND activo = :si",
            "ExpressionAttributeValues": to_item(
                {":p": "HASHINTEG#", ":sk": "HASH", ":id": integrador_id, ":si": True}
            ),
        }
        while True:
            page = self._client.scan(**kwargs)
            found.extend(from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if len(found) > _MAX_HASHES:
            raise CambioConcurrente(
                f"{integrador_id}: {len(found)} hashes activos, más de los que cabe terminar juntos"
            )
        return found

    def _put(self, values: dict[str, Any], condition: str) -> dict[str, Any]:
        item = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}
        return {"TableName": self._table, "Item": to_item(item), "ConditionExpression": condition}

    def _expirar(self, digest: str, hasta: datetime) -> dict[str, Any]:
        return self._update_hash(digest, "SET expira = :hasta", {":hasta": hasta.isoformat()})

    def _terminar(self, digest: str, now: datetime) -> dict[str, Any]:
        return self._update_hash(
            digest, "SET activo = :no, finalizado = :ahora", {":no": False, ":ahora": now.isoformat()}
        )

    def _update_hash(self, digest: str, expression: str, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": key(f"HASHINTEG#{digest}", "HASH"),
                "UpdateExpression": expression,
                "ConditionExpression": "attribute_exists(PK) AND activo = :si",
                "ExpressionAttributeValues": to_item(values | {":si": True}),
            }
        }

    def _actualizar_record(self, record: dict[str, Any], cambios: dict[str, Any]) -> dict[str, Any]:
        """The ``INTEG#`` record's update, conditioned on the version read (absent: never rotated)."""
        version = int(record.get("version", 0))
        names = {f"#c{i}": nombre for i, nombre in enumerate(cambios)}
        values = {f":c{i}": valor for i, valor in enumerate(cambios.values())} | {":v": version + 1}
        sets = ", ".join(f"#c{i} = :c{i}" for i in range(len(cambios)))
        if version:
            condition, values = "version = :leida", values | {":leida": version}
        else:
            condition = "attribute_exists(PK) AND attribute_not_exists(version)"
        return {
            "Update": {
                "TableName": self._table,
                "Key": key(f"INTEG#{record['id']}", "INTEG"),
                "UpdateExpression": f"SET {sets}, version = :v",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(values),
            }
        }

    def _transaccion(self, acciones: list[dict[str, Any]]) -> None:
        try:
            self._client.transact_write_items(TransactItems=acciones)
        except self._client.exceptions.TransactionCanceledException as exc:
            raise CambioConcurrente(
                "otro cambio del integrador se cruzó con este: nada se escribió; reintente"
            ) from exc


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
