"""RADIAN's table: tracked invoices, their events keyed by CUDE, the polling schedule and the listing.

Keys (docs/data-model.md, "RADIAN"):
- invoice ``PK=FACTURA#<tenant>#<cufe>``, ``SK=FACTURA``; while polled, ``GSI1PK=SONDEO#<shard>``,
  ``GSI1SK=<next poll, UTC>#<tenant>#<cufe>`` (sparse: a stopped invoice leaves the index);
  always ``GSI2PK=TENANT#<tenant>``, ``GSI2SK=<cufe>`` (a tenant's invoices, by CUFE);
- event ``PK=FACTURA#<tenant>#<cufe>``, ``SK=EVENTO#<cude>``: one item per CUDE, so a repeated poll,
  or two pollers at once, write the same item again and never a second one.

Every change of an invoice is a write conditioned on the version read (``version = :v``), in the
same transaction as its new events: of two concurrent pollers, one wins and the other re-reads.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from recaudo.data.dynamo import from_item, guarded, to_item, transact
from recaudo.models.radian import (
    CambioEstado,
    Evento,
    Factura,
    Insignia,
    Metadatos,
    Ocupado,
    SolicitudInvalida,
)

_FECHA_EVENTO = "%Y-%m-%d %H:%M:%S"
_MAX_TRANSACCION = 100


def _utc(value: datetime) -> str:
    """Fixed width, so the polling index sorts by time."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fecha(text: str | None) -> datetime | None:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if text else None


def pk(tenant: str, cufe: str) -> str:
    return f"FACTURA#{tenant}#{cufe}"


def shard_de(cufe: str, shards: int) -> int:
    """A CUFE is a hash: its first hex digits spread invoices evenly over the polling shards."""
    return int(cufe[:8], 16) % shards


def _sondeo_sk(proximo: datetime, tenant: str, cufe: str) -> str:
    return f"{_utc(proximo)}#{tenant}#{cufe}"


@dataclass(frozen=True, slots=True)
class Lote:
    """A slice of one polling shard: every invoice whose GSI1SK lies in [desde, hasta]."""

    shard: int
    desde: str
    hasta: str
    cuantas: int


def _item(f: Factura, shards: int) -> dict[str, Any]:
    m = f.metadatos
    values: dict[str, Any] = {
        "PK": pk(f.tenant, f.cufe),
        "SK": "FACTURA",
        "GSI2PK": f"TENANT#{f.tenant}",
        "GSI2SK": f.cufe,
        "tenant": f.tenant,
        "cufe": f.cufe,
        "registrada": _utc(f.registrada),
        "version": f.version,
        "insignias": {i.name for i in f.insignias},
        "cudes": set(f.cudes) or None,
        "proximoSondeo": _utc(f.proximo_sondeo) if f.proximo_sondeo else None,
        "ultimoSondeo": _utc(f.ultimo_sondeo) if f.ultimo_sondeo else None,
        "ultimoCambio": _utc(f.ultimo_cambio) if f.ultimo_cambio else None,
        "ultimoResultado": f.ultimo_resultado,
        "ultimoError": f.ultimo_error[:500] if f.ultimo_error else None,
        "fallos": f.fallos,
        "motivoFin": f.motivo_fin,
        "nitEmisor": m.nit_emisor,
        "numero": m.numero,
        "monto": m.monto,
        "vencimiento": m.vencimiento.isoformat() if m.vencimiento else None,
    }
    if f.proximo_sondeo is not None:
        values["GSI1PK"] = f"SONDEO#{shard_de(f.cufe, shards):03d}"
        values["GSI1SK"] = _sondeo_sk(f.proximo_sondeo, f.tenant, f.cufe)
    if f.cambio_pendiente is not None:
        c = f.cambio_pendiente
        values["cambioPendiente"] = {
            "version": c.version,
            "antes": sorted(i.name for i in c.antes),
            "despues": sorted(i.name for i in c.despues),
            "fecha": _utc(c.fecha),
        }
    return to_item(values)


def _factura(item: dict[str, Any]) -> Factura:
    r = from_item(item)
    cambio = r.get("cambioPendiente")
    return Factura(
        tenant=r["tenant"],
        cufe=r["cufe"],
        registrada=_fecha(r["registrada"]) or datetime.now(UTC),
        version=int(r["version"]),
        insignias=frozenset(Insignia[name] for name in r.get("insignias", ())),
        cudes=frozenset(r.get("cudes", ())),
        proximo_sondeo=_fecha(r.get("proximoSondeo")),
        ultimo_sondeo=_fecha(r.get("ultimoSondeo")),
        ultimo_cambio=_fecha(r.get("ultimoCambio")),
        ultimo_resultado=r.get("ultimoResultado"),
        ultimo_error=r.get("ultimoError"),
        fallos=int(r.get("fallos", 0)),
        motivo_fin=r.get("motivoFin"),
        metadatos=Metadatos(
            nit_emisor=r.get("nitEmisor"),
            numero=r.get("numero"),
            monto=Decimal(r["monto"]) if r.get("monto") is not None else None,
            vencimiento=date.fromisoformat(r["vencimiento"]) if r.get("vencimiento") else None,
        ),
        cambio_pendiente=CambioEstado(
            version=int(cambio["version"]),
            antes=frozenset(Insignia[n] for n in cambio["antes"]),
            despues=frozenset(Insignia[n] for n in cambio["despues"]),
            fecha=_fecha(cambio["fecha"]) or datetime.now(UTC),
        )
        if cambio
        else None,
    )


def _evento_item(tenant: str, cufe: str, e: Evento) -> dict[str, Any]:
    return to_item(
        {
            "PK": pk(tenant, cufe),
            "SK": f"EVENTO#{e.cude}",
            "cude": e.cude,
            "codigo": e.codigo,
            "numero": e.numero,
            "fecha": e.fecha.strftime(_FECHA_EVENTO),
            "descripcion": e.descripcion or None,
            "identificacionEvento": e.identificacion_evento or None,
            "emisorNombre": e.emisor_nombre or None,
            "emisorIdentificacion": e.emisor_identificacion or None,
            "receptorNombre": e.receptor_nombre or None,
            "receptorIdentificacion": e.receptor_identificacion or None,
        }
    )


def _evento(item: dict[str, Any]) -> Evento:
    r = from_item(item)
    return Evento(
        cude=r["cude"],
        codigo=r["codigo"],
        numero=int(r["numero"]),
        fecha=datetime.strptime(r["fecha"], _FECHA_EVENTO),
        descripcion=r.get("descripcion", ""),
        identificacion_evento=r.get("identificacionEvento", ""),
        emisor_nombre=r.get("emisorNombre", ""),
        emisor_identificacion=r.get("emisorIdentificacion", ""),
        receptor_nombre=r.get("receptorNombre", ""),
        receptor_identificacion=r.get("receptorIdentificacion", ""),
    )


class FacturasRepository:
    def __init__(self, table_name: str, client: Any, shards: int = 16) -> None:
        self._table = table_name
        self._client = client
        self._shards = shards

    # ---- the tracking API ----

    def registrar(self, factura: Factura) -> bool:
        """Start tracking; False when this tenant already tracks the CUFE (nothing changes)."""
        try:
            guarded(
                self._client.put_item,
                throttled=Ocupado,
                TableName=self._table,
                Item=_item(factura, self._shards),
                ConditionExpression="attribute_not_exists(PK)",
            )
            return True
        except self._client.exceptions.ConditionalCheckFailedException:
            return False

    def get(self, tenant: str, cufe: str) -> Factura | None:
        item = guarded(
            self._client.get_item,
            throttled=Ocupado,
            TableName=self._table,
            Key=to_item({"PK": pk(tenant, cufe), "SK": "FACTURA"}),
            ConsistentRead=True,
        ).get("Item")
        return _factura(item) if item else None

    def eventos(self, tenant: str, cufe: str) -> list[Evento]:
        return [_evento(item) for item in self._query(pk(tenant, cufe), "EVENTO#")]

    def _query(self, partition: str, prefix: str) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": partition, ":prefix": prefix}),
            "ConsistentRead": True,
        }
        while True:
            page = guarded(self._client.query, throttled=Ocupado, **request)
            yield from page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def eliminar(self, tenant: str, cufe: str) -> bool:
        """Stop tracking: the invoice goes (conditionally, so a concurrent poll cannot bring it back:
        its write is conditioned on the version it read), then its events. False if not tracked."""
        try:
            guarded(
                self._client.delete_item,
                throttled=Ocupado,
                TableName=self._table,
                Key=to_item({"PK": pk(tenant, cufe), "SK": "FACTURA"}),
                ConditionExpression="attribute_exists(PK)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        claves = [{"PK": item["PK"], "SK": item["SK"]} for item in self._query(pk(tenant, cufe), "EVENTO#")]
        for start in range(0, len(claves), 25):
            pending = [{"DeleteRequest": {"Key": k}} for k in claves[start : start + 25]]
            for _ in range(8):
                response = guarded(
                    self._client.batch_write_item, throttled=Ocupado, RequestItems={self._table: pending}
                )
                pending = response.get("UnprocessedItems", {}).get(self._table, [])
                if not pending:
                    break
        return True

    def listar(
        self, tenant: str, insignia: Insignia | None, limite: int, siguiente: str | None, max_leidas: int = 2000
    ) -> tuple[list[Factura], str | None]:
        """A page of the tenant's invoices by CUFE, those with ``insignia`` when given. DynamoDB's filter
        runs after its Limit, so pages are gathered until ``limite`` invoices or ``max_leidas`` read;
        the continuation is the last invoice returned (opaque, and bound to this tenant)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :t",
            "ExpressionAttributeValues": to_item({":t": f"TENANT#{tenant}"}),
        }
        if insignia is not None:
            request["FilterExpression"] = "contains(insignias, :i)"
            request["ExpressionAttributeValues"] |= to_item({":i": insignia.name})
        if siguiente:
            request["ExclusiveStartKey"] = _decodificar(siguiente, tenant)
        out: list[Factura] = []
        leidas = 0
        while True:
            request["Limit"] = min(max(limite - len(out), 1) * (4 if insignia else 1), 500)
            page = guarded(self._client.query, throttled=Ocupado, **request)
            leidas += page.get("ScannedCount", 0)
            for item in page.get("Items", []):
                out.append(_factura(item))
                if len(out) == limite:
                    return out, _codificar(item)
            last = page.get("LastEvaluatedKey")
            if not last:
                return out, None
            if leidas >= max_leidas:
                return out, _codificar(last)
            request["ExclusiveStartKey"] = last

    # ---- polling ----

    def lotes(self, corte: datetime, tamano: int, maximo: int) -> Iterator[Lote]:
        """Slices of at most ``tamano`` due invoices (next poll at or before ``corte``), shard by shard,
        at most ``maximo`` of them: the rest stay due for the next run. Reads keys only."""
        limite = f"{_utc(corte)}#~"  # after every tenant/cufe suffix of that second
        emitidos = 0
        for shard in range(self._shards):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": "GSI1",
                "KeyConditionExpression": "GSI1PK = :s AND GSI1SK <= :corte",
                "ExpressionAttributeValues": to_item({":s": f"SONDEO#{shard:03d}", ":corte": limite}),
                "ProjectionExpression": "GSI1SK",
                "Limit": tamano,
            }
            while emitidos < maximo:
                page = guarded(self._client.query, throttled=Ocupado, **request)
                items = page.get("Items", [])
                if items:
                    yield Lote(shard, items[0]["GSI1SK"]["S"], items[-1]["GSI1SK"]["S"], len(items))
                    emitidos += 1
                if not page.get("LastEvaluatedKey"):
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            if emitidos >= maximo:
                return

    def del_lote(self, shard: int, desde: str, hasta: str) -> list[Factura]:
        """The invoices still in the slice (one already polled has moved on, out of it)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :s AND GSI1SK BETWEEN :desde AND :hasta",
            "ExpressionAttributeValues": to_item({":s": f"SONDEO#{shard:03d}", ":desde": desde, ":hasta": hasta}),
        }
        out: list[Factura] = []
        while True:
            page = guarded(self._client.query, throttled=Ocupado, **request)
            out.extend(_factura(item) for item in page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                return out
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def guardar(self, factura: Factura, version_leida: int, nuevos: Iterable[Evento] = ()) -> bool:
        """Write the invoice as ``factura`` (its version already moved on) with its new events, only if
        it is still at ``version_leida``; False if another writer got there first (or it was deleted)."""
        eventos = [_evento_item(factura.tenant, factura.cufe, e) for e in nuevos]
        # A transaction takes 100 items: the rest go first, alone (an event re-written is the same item).
        while len(eventos) >= _MAX_TRANSACCION:
            guarded(self._client.put_item, throttled=Ocupado, TableName=self._table, Item=eventos.pop())
        items: list[dict[str, Any]] = [{"Put": {"TableName": self._table, "Item": e}} for e in eventos]
        items.append(
            {
                "Put": {
                    "TableName": self._table,
                    "Item": _item(factura, self._shards),
                    # the version read, of this same registration (a deleted and re-registered
                    # invoice starts again at 1: its registration time tells them apart)
                    "ConditionExpression": "version = :v AND registrada = :r",
                    "ExpressionAttributeValues": to_item({":v": version_leida, ":r": _utc(factura.registrada)}),
                }
            }
        )
        return transact(self._client, items, throttled=Ocupado) is None

    def confirmar_publicacion(self, tenant: str, cufe: str, version: int) -> None:
        """The change of ``version`` was published: forget it (unless a newer change replaced it). The
        invoice's version moves on too, so a poller that read it with the change still pending cannot
        write it back (and publish it again): its write is refused and it re-reads."""
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            guarded(
                self._client.update_item,
                throttled=Ocupado,
                TableName=self._table,
                Key=to_item({"PK": pk(tenant, cufe), "SK": "FACTURA"}),
                UpdateExpression="SET version = version + :uno REMOVE cambioPendiente",
                ConditionExpression="cambioPendiente.version = :v",
                ExpressionAttributeValues=to_item({":v": version, ":uno": 1}),
            )


def _codificar(item: dict[str, Any]) -> str:
    clave = {k: item[k]["S"] for k in ("PK", "SK", "GSI2PK", "GSI2SK")}
    return base64.urlsafe_b64encode(json.dumps(clave, separators=(",", ":")).encode()).decode().rstrip("=")


def _decodificar(token: str, tenant: str) -> dict[str, Any]:
    """A continuation token back into DynamoDB's key; one that is not ours, or another tenant's, is refused."""
    try:
        texto = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        clave = json.loads(texto)
        valido = (
            isinstance(clave, dict)
            and set(clave) == {"PK", "SK", "GSI2PK", "GSI2SK"}
            and all(isinstance(v, str) for v in clave.values())
            and clave["GSI2PK"] == f"TENANT#{tenant}"
            and clave["PK"] == pk(tenant, clave["GSI2SK"])
            and clave["SK"] == "FACTURA"
        )
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        valido = False
    if not valido:
        raise SolicitudInvalida("siguiente: token de página inválido")
    return {k: {"S": v} for k, v in clave.items()}
