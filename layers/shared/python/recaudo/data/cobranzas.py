"""Collections (cobranzas) in the one ledger: the import's look-ahead and writes, its claims, the export.

A collection row *is* a debt: the item lives in the partition of the integrator's client
(``PER#<integrador>:<IDCliente>``) with the debt's sort key, so Conectividad queries and payments see
it with no copy and no sync. Its identity is deterministic (integrator, period, client, concept and
the row's occurrence of that pair in the file), which makes re-imports idempotent and lets the
import's look-ahead read its rows by key; ``GSI1`` (``COB#<integrador>#<partición>`` /
``<periodo>#<cliente>#<concepto>[#<n>]``, 16 partitions by client) lists an integrator's collections
for the export. ``REANUDA#<integrador>`` / ``<periodo>`` names the period's last import and keeps the
resume point of one cut short by its time budget.
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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from recaudo.data.cobranzas_acciones import GSI, GSI_PARTICIONES, Acciones, Grupo, gsi_pk, particion
from recaudo.data.dynamo import batch_get, from_item, key, query_all, to_item
from recaudo.formats.cobranzas import Fallida, Fila
from recaudo.models.cobranzas import Cobranza, Existente, Integrador, Periodo, Reanudacion, TransaccionNoAplicada

_PROYECCION_EXISTENTE = "PK, SK, estado, huella"
# an HTTP import's resume point keeps at most this many failures decided by the ledger; beyond, none is kept
MAX_RECHAZADAS_REANUDACION = 1_000


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
        self._pool: ThreadPoolExecutor | None = None

    def acciones(self, integrador: Integrador, periodo: Periodo, importacion: str) -> Acciones:
        """The builder of this import's write groups (integrator, period and import fixed)."""
        return Acciones(self._table, integrador, periodo, importacion)

    # ---- reads ----

    def existentes(self, acciones: Acciones, filas: Sequence[Fila]) -> dict[tuple[str, str, int], Existente]:
        """What the ledger holds of these rows of the file: (client, concept, occurrence) -> state and
        content digest of the debt, read by key (strongly consistent BatchGetItem, 100 keys per
        request, the requests side by side). Its cost follows the rows asked, not the period."""
        por_clave = {acciones.clave(f): f.clave for f in filas}
        keys = [key(pk, sk) for pk, sk in por_clave]

        def lote(parte: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return batch_get(self._client, self._table, parte, sleep=self._sleep, projection=_PROYECCION_EXISTENTE)

        lotes = [keys[i : i + 100] for i in range(0, len(keys), 100)]
        if len(lotes) > 1:
            encontrados = [i for items in self._lectores().map(lote, lotes) for i in items]
        else:
            encontrados = [i for parte in lotes for i in lote(parte)]
        return {
            por_clave[(i["PK"], i["SK"])]: Existente(i["estado"], i.get("huella", ""))
            for i in encontrados
            if (i["PK"], i["SK"]) in por_clave
        }

    def _lectores(self) -> ThreadPoolExecutor:
        """The look-ahead's readers: one pool per container (created on first use)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cobranzas-lectura")
        return self._pool

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

    # ---- resume points (an HTTP import cut short by its budget; a resend of the same file resumes) ----

    def empezar(self, integrador: str, periodo: str, importacion: str, archivo: str) -> Reanudacion | None:
        """Every import of the integrator's period says so here first (one UpdateItem): the point an
        earlier attempt left is returned only when that attempt was the period's last import and
        read these very bytes (``archivo``: the file's SHA-256; empty for a drop, which never
        resumes). Any other import in between removes it, so a resend never skips rows that
        another file may have changed since."""
        self.solicitudes_escritura += 1
        old = self._client.update_item(
            TableName=self._table,
            Key=key(f"REANUDA#{integrador}", periodo),
            UpdateExpression="SET importacion = :i, archivo = :a REMOVE linea, importados, rechazadas",
            ExpressionAttributeValues=to_item({":i": importacion, ":a": archivo}),
            ReturnValues="ALL_OLD",
        ).get("Attributes")
        if not old or not archivo or "linea" not in old or old.get("archivo", {}).get("S") != archivo:
            return None
        antes = from_item(old)
        return Reanudacion(
            int(antes["linea"]),
            int(antes["importados"]),
            tuple(Fallida(int(r["l"]), str(r["m"])) for r in antes.get("rechazadas", [])),
        )

    def pausar(self, integrador: str, periodo: str, importacion: str, punto: Reanudacion) -> bool:
        """Leave the resume point of this import, unless another import of the period started since
        (then a resend reads the file from its first line). False when not left."""
        if len(punto.rechazadas) > MAX_RECHAZADAS_REANUDACION:
            return False
        self.solicitudes_escritura += 1
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(f"REANUDA#{integrador}", periodo),
                UpdateExpression="SET linea = :l, importados = :n, rechazadas = :r",
                ConditionExpression="importacion = :i",
                ExpressionAttributeValues=to_item(
                    {
                        ":l": punto.linea,
                        ":n": punto.importados,
                        ":r": [{"l": f.linea, "m": f.motivo} for f in punto.rechazadas],
                        ":i": importacion,
                    }
                ),
            )
            return True
        except self._client.exceptions.ConditionalCheckFailedException:
            return False


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
