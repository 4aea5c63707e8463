"""Collections (cobranzas) in the one ledger, and the integrators who load them.

A collection row *is* a debt: the item lives in the payer's partition (``PER#<IDCliente>``) with the
debt's sort key, so Conectividad queries and payments see it with no copy and no sync. Its
identity is deterministic (integrator, period, client, concept), which makes re-imports idempotent;
``GSI1`` (``COB#<integrador>`` / ``<periodo>#<cliente>#<concepto>``) lists an integrator's
collections for the export and for the import's look-ahead. Keys: docs/data-model.md.

Every import write is a ``TransactWriteItems`` (up to 100 actions) whose debt updates carry
``attribute_not_exists(PK) OR estado = pendiente``: a paid collection (ACP) is never touched, even
when a bank pays it between the look-ahead read and the write.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from hashlib import blake2b
from typing import Any

from recaudo.auth import hash_secret, new_secret
from recaudo.data.dynamo import from_item, key, query_all, to_item
from recaudo.data.ledger import factura_pk, persona_pk
from recaudo.formats.cobranzas import Fila, format_monto
from recaudo.models.ledger import EstadoDeuda

GSI = "GSI1"
MAX_ACCIONES = 100  # TransactWriteItems' limit on DynamoDB
TIPO_COBRO = "COBRANZA"
TIPO_IDENTIFICACION = "CLIENTE"

# export states (Pay per TIC): issued, accepted (paid), rejected
EMI, ACP, RCH = "EMI", "ACP", "RCH"


def gsi_pk(integrador: str) -> str:
    return f"COB#{integrador}"


def id_saldo(integrador: str, periodo: str, id_cliente: str, id_concepto: str) -> int:
    """The collection's invoice number (``numeroFactura`` for ejecutar-pago): 19 digits starting with
    1, a pure function of its identity, so a re-import finds the same debt."""
    digest = blake2b(f"{integrador}\x1f{periodo}\x1f{id_cliente}\x1f{id_concepto}".encode(), digest_size=8).digest()
    return 10**18 + int.from_bytes(digest, "big") % 10**18


def numero_persona(id_cliente: str) -> int:
    """A stable 9-digit person number for payers first seen through a collections file."""
    return 100_000_000 + int.from_bytes(blake2b(id_cliente.encode(), digest_size=8).digest(), "big") % 900_000_000


@dataclass(frozen=True, slots=True)
class Integrador:
    id: str
    nombre: str
    institucion: str
    convenio: str
    zona_horaria: str


@dataclass(frozen=True, slots=True)
class Periodo:
    """``YYYYMM`` plus the debt fields derived from it (the cut-off is the period's last day)."""

    codigo: str
    fecha_corte: date

    @property
    def year(self) -> int:
        return int(self.codigo[:4])

    @property
    def mes(self) -> str:
        return self.codigo[4:]


@dataclass(frozen=True, slots=True)
class Existente:
    estado: str
    huella: str


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

    def fila(self, fila: Fila, huella: str, nueva: bool) -> list[dict[str, Any]]:
        """Upsert the debt (never over a paid one); a new row also claims its invoice number."""
        ids = id_saldo(self.integrador.id, self.periodo.codigo, fila.id_cliente, fila.id_concepto)
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
        return actions

    def persona(self, fila: Fila) -> dict[str, Any]:
        """Create the payer's profile if absent; an existing profile keeps its name and number."""
        return {
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


@dataclass(slots=True)
class Grupo:
    """Actions that must land together: a row's, or a payer profile (``fila`` None)."""

    fila: Fila | None
    acciones: list[dict[str, Any]]


@dataclass(slots=True)
class Rechazo:
    fila: Fila
    codigo: str


class CobranzasRepository:
    def __init__(
        self,
        table_name: str,
        client: Any,
        page_limit: int = 250,
        sleep: Callable[[float], None] = time.sleep,
        max_intentos: int = 6,
    ) -> None:
        self._table = table_name
        self._client = client
        self._page_limit = page_limit
        self._sleep = sleep
        self._max_intentos = max_intentos
        self.solicitudes_escritura = 0  # every TransactWriteItems/PutItem/UpdateItem sent

    @property
    def table(self) -> str:
        return self._table

    # ---- reads ----

    def existentes(self, integrador: str, periodo: str) -> dict[tuple[str, str], Existente]:
        """The period's collections of one integrator: client and concept -> state and content digest."""
        items = query_all(
            self._client,
            TableName=self._table,
            IndexName=GSI,
            KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :p)",
            ExpressionAttributeValues=to_item({":pk": gsi_pk(integrador), ":p": f"{periodo}#"}),
            ProjectionExpression="identificacion, idRubro, estado, huella",
            Limit=self._page_limit * 4,
        )
        return {(i["identificacion"], i["idRubro"]): Existente(i["estado"], i.get("huella", "")) for i in items}

    def cobranzas(
        self,
        integrador: str,
        periodo: str | None,
        id_cliente: str | None = None,
        id_concepto: str | None = None,
        opcional1: str | None = None,
        opcional2: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """An integrator's collections, by period (None: every period), every filter ANDed. The
        narrowest key condition the filters allow, the rest as a DynamoDB filter; every page read."""
        values: dict[str, Any] = {":pk": gsi_pk(integrador)}
        key_condition = "GSI1PK = :pk"
        if periodo is not None:
            values[":p"] = f"{periodo}#" + (f"{id_cliente}#" if id_cliente is not None else "")
            key_condition += " AND begins_with(GSI1SK, :p)"
        filters = []
        for attribute, value in (
            ("identificacion", id_cliente if periodo is None else None),
            ("idRubro", id_concepto),
            ("opcional1", opcional1),
            ("opcional2", opcional2),
        ):
            if value is not None:
                values[f":{attribute}"] = value
                filters.append(f"{attribute} = :{attribute}")
        kwargs: dict[str, Any] = {}
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        yield from query_all(
            self._client,
            TableName=self._table,
            IndexName=GSI,
            KeyConditionExpression=key_condition,
            ExpressionAttributeValues=to_item(values),
            Limit=self._page_limit,
            **kwargs,
        )

    # ---- writes ----

    def escribir(self, grupos: list[Grupo]) -> list[Rechazo]:
        """One transaction for up to 100 actions (the caller sizes the batch). Rows whose condition
        fails (paid meanwhile, or an invoice number taken) are dropped and returned; conflicts with
        concurrent transactions are retried with backoff. Nothing is written twice."""
        rechazos: list[Rechazo] = []
        for intento in range(self._max_intentos):
            if not any(g.fila is not None for g in grupos):
                return rechazos
            acciones = [a for g in grupos for a in g.acciones]
            owners = [g for g in grupos for _ in g.acciones]
            try:
                self.solicitudes_escritura += 1
                self._client.transact_write_items(TransactItems=acciones)
                return rechazos
            except self._client.exceptions.TransactionCanceledException as exc:
                reasons = exc.response.get("CancellationReasons") or []
                failed = {
                    id(owners[i]): r.get("Code")
                    for i, r in enumerate(reasons)
                    if r.get("Code") == "ConditionalCheckFailed"
                }
                if failed:
                    for g in grupos:
                        if id(g) in failed and g.fila is not None:
                            rechazos.append(Rechazo(g.fila, "ConditionalCheckFailed"))
                    grupos = [g for g in grupos if id(g) not in failed]
                    continue  # retry the rest at once: nothing was written
                codes = {r.get("Code") for r in reasons} - {"None", None}
                # retry only what is known to be transient; an unexplained cancellation is raised
                if not codes or not codes <= {
                    "TransactionConflict",
                    "ThrottlingError",
                    "ProvisionedThroughputExceeded",
                }:
                    raise
            self._sleep(random.uniform(0, min(2.0, 0.05 * 2**intento)))
        raise TransaccionNoAplicada(
            f"{len(grupos)} grupos sin aplicar tras {self._max_intentos} intentos por conflictos"
        )

    # ---- import records (claims: one import per file version, even when S3 delivers twice) ----

    def reclamar_importacion(
        self, integrador: str, importacion: str, fuente: str, archivo: str, now: datetime, ttl_seconds: int
    ) -> bool:
        """Claim an import. False when it is already done or another invocation is running it."""
        epoch = int(now.timestamp())
        self.solicitudes_escritura += 1
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(
                    {
                        "PK": f"IMP#{integrador}",
                        "SK": importacion,
                        "estado": "EN_CURSO",
                        "fuente": fuente,
                        "archivo": archivo,
                        "creado": now.isoformat(),
                        "expira": epoch + ttl_seconds,
                    }
                ),
                # a crashed run's claim expires after the function timeout and may be retaken
                ConditionExpression="attribute_not_exists(PK) OR (estado = :curso AND expira < :ahora)",
                ExpressionAttributeValues=to_item({":curso": "EN_CURSO", ":ahora": epoch}),
            )
            return True
        except self._client.exceptions.ConditionalCheckFailedException:
            return False

    def terminar_importacion(
        self, integrador: str, importacion: str, resultado: str, reporte: str, importados: int, fallidos: int
    ) -> None:
        self.solicitudes_escritura += 1
        self._client.update_item(
            TableName=self._table,
            Key=key(f"IMP#{integrador}", importacion),
            UpdateExpression="SET estado = :t, resultado = :r, reporte = :k, importados = :i, fallidos = :f REMOVE expira",
            ExpressionAttributeValues=to_item(
                {":t": "TERMINADO", ":r": resultado, ":k": reporte, ":i": importados, ":f": fallidos}
            ),
        )


class TransaccionNoAplicada(Exception):
    """Transactions kept conflicting; the rows involved were not written (a re-import is safe)."""


def estado_exportado(item: dict[str, Any]) -> str:
    if item.get("motivoRechazo"):
        return RCH
    return ACP if item.get("estado") == EstadoDeuda.PAGADO.value else EMI


def textos_item(item: dict[str, Any]) -> tuple[str, ...]:
    """The collection's text fields in import order (Monto apart)."""
    return (
        item["identificacion"],
        item.get("nombreCliente", ""),
        item.get("celular", ""),
        item.get("telefono", ""),
        item.get("mail", ""),
        item["idRubro"],
        item.get("descripcion", ""),
        item.get("opcional1", ""),
        item.get("opcional2", ""),
    )


def monto_item(item: dict[str, Any]) -> Decimal:
    return Decimal(item["saldo"]) + Decimal(item.get("saldoInteres", 0))


# ---- integrators (credentials table; only the hash's digest is stored) ----


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
    )
