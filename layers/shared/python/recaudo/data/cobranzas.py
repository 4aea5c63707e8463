"""Collections (cobranzas) in the one ledger: the import's look-ahead and writes, its claims, the export.

A collection row *is* a debt: the item lives in the partition of the integrator's client
(``PER#<integrador>:<IDCliente>``) with the debt's sort key, so Conectividad queries and payments see
it with no copy and no sync. Its identity is deterministic (integrator, period, client, concept and
the row's occurrence of that pair in the file), which makes re-imports idempotent; ``GSI1``
(``COB#<integrador>#<partición>`` / ``<periodo>#<cliente>#<concepto>[#<n>]``, 16 partitions by
client) lists an integrator's collections for the export and for the import's look-ahead.
Keys: docs/data-model.md.

Every import write is a ``TransactWriteItems`` (up to 100 actions) whose debt updates carry
``attribute_not_exists(PK) OR estado = pendiente``: a paid collection (ACP) is never touched, even
when a bank pays it between the look-ahead read and the write. The actions themselves are built by
``recaudo.data.cobranzas_acciones``; the integrators are ``recaudo.data.integradores``.
"""

from __future__ import annotations

import contextlib
import heapq
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from recaudo.data.cobranzas_acciones import GSI, GSI_PARTICIONES, Acciones, Grupo, gsi_pk, particion
from recaudo.data.dynamo import key, query_all, to_item
from recaudo.formats.cobranzas import Fila
from recaudo.models.cobranzas import Cobranza, Existente, Integrador, Periodo, TransaccionNoAplicada


@dataclass(slots=True)
class Rechazo:
    fila: Fila
    codigo: str
    # the positions, within the row's group, of the actions whose condition failed
    acciones: frozenset[int] = frozenset()


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

    def acciones(self, integrador: Integrador, periodo: Periodo, importacion: str) -> Acciones:
        """The builder of this import's write groups (integrator, period and import fixed)."""
        return Acciones(self._table, integrador, periodo, importacion)

    # ---- reads ----

    def existentes(self, integrador: str, periodo: str) -> dict[tuple[str, str, int], Existente]:
        """The period's collections of one integrator: (client, concept, occurrence) -> state and
        content digest. The 16 GSI partitions are read in parallel."""

        def parte(n: int) -> list[dict[str, Any]]:
            return list(
                query_all(
                    self._client,
                    TableName=self._table,
                    IndexName=GSI,
                    KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :p)",
                    ExpressionAttributeValues=to_item({":pk": gsi_pk(integrador, n), ":p": f"{periodo}#"}),
                    ProjectionExpression="idCliente, idRubro, ocurrencia, estado, huella",
                    Limit=self._page_limit * 4,
                )
            )

        with ThreadPoolExecutor(max_workers=8) as pool:
            partes = list(pool.map(parte, range(GSI_PARTICIONES)))
        return {
            (i["idCliente"], i["idRubro"], int(i.get("ocurrencia", 1))): Existente(i["estado"], i.get("huella", ""))
            for items in partes
            for i in items
        }

    def cobranzas(
        self,
        integrador: str,
        periodo: str | None,
        id_cliente: str | None = None,
        id_concepto: str | None = None,
        opcional1: str | None = None,
        opcional2: str | None = None,
    ) -> Iterator[Cobranza]:
        """An integrator's collections, by period (None: every period), every filter ANDed, in
        (period, client, concept) order. The narrowest key condition the filters allow (a client is
        one GSI partition), the rest as a DynamoDB filter; every page of every partition read."""
        values: dict[str, Any] = {}
        key_condition = "GSI1PK = :pk"
        if periodo is not None:
            values[":p"] = f"{periodo}#" + (f"{id_cliente}#" if id_cliente is not None else "")
            key_condition += " AND begins_with(GSI1SK, :p)"
        filters = []
        for attribute, value in (
            ("idCliente", id_cliente),
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
        partes = range(GSI_PARTICIONES) if id_cliente is None else (particion(id_cliente),)

        def parte(n: int) -> Iterator[dict[str, Any]]:
            return query_all(
                self._client,
                TableName=self._table,
                IndexName=GSI,
                KeyConditionExpression=key_condition,
                ExpressionAttributeValues=to_item(values | {":pk": gsi_pk(integrador, n)}),
                Limit=self._page_limit,
                **kwargs,
            )

        for item in heapq.merge(*(parte(n) for n in partes), key=lambda i: str(i["GSI1SK"])):
            yield _cobranza(item)

    # ---- writes ----

    def escribir(self, grupos: list[Grupo]) -> list[Rechazo]:
        """One transaction for up to 100 actions (the caller sizes the batch). Rows whose condition
        fails (paid meanwhile, or an invoice number taken) are dropped and returned; conflicts with
        concurrent transactions are retried with backoff. Nothing is written twice."""
        rechazos: list[Rechazo] = []
        for intento in range(self._max_intentos):
            if not grupos:
                return rechazos
            acciones = [a for g in grupos for a in g.acciones]
            owners = [(g, i) for g in grupos for i in range(len(g.acciones))]
            try:
                self.solicitudes_escritura += 1
                self._client.transact_write_items(TransactItems=acciones)
                return rechazos
            except self._client.exceptions.TransactionCanceledException as exc:
                reasons = exc.response.get("CancellationReasons") or []
                failed: dict[int, set[int]] = {}
                for i, r in enumerate(reasons):
                    if r.get("Code") == "ConditionalCheckFailed":
                        grupo, posicion = owners[i]
                        failed.setdefault(id(grupo), set()).add(posicion)
                if failed:
                    for g in grupos:
                        if id(g) in failed and g.fila is not None:
                            rechazos.append(Rechazo(g.fila, "ConditionalCheckFailed", frozenset(failed[id(g)])))
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

    def liberar_importacion(self, integrador: str, importacion: str) -> None:
        """Give a claim back after a failed run, so that a retry (Lambda's own, or a resend) takes it."""
        self.solicitudes_escritura += 1
        # already finished, or already released: nothing to give back
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.delete_item(
                TableName=self._table,
                Key=key(f"IMP#{integrador}", importacion),
                ConditionExpression="estado = :curso",
                ExpressionAttributeValues=to_item({":curso": "EN_CURSO"}),
            )

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


def _cobranza(item: dict[str, Any]) -> Cobranza:
    return Cobranza(
        id_cliente=item["idCliente"],
        nombre=item.get("nombreCliente", ""),
        celular=item.get("celular", ""),
        telefono=item.get("telefono", ""),
        mail=item.get("mail", ""),
        id_concepto=item["idRubro"],
        descripcion=item.get("descripcion", ""),
        opcional1=item.get("opcional1", ""),
        opcional2=item.get("opcional2", ""),
        monto=Decimal(item["saldo"]) + Decimal(item.get("saldoInteres", 0)),
        estado_deuda=str(item.get("estado", "")),
        motivo_rechazo=item.get("motivoRechazo", ""),
        periodo=item.get("periodoCobranza", ""),
    )
