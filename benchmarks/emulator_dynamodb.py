"""The local stack's DynamoDB (moto in-process) under a collections import (run on demand:
``.venv/bin/python -m benchmarks.emulator_dynamodb``). Prints figures; asserts nothing.

1. One import transaction: 100 actions shaped by ``cobranzas_acciones.Acciones`` (50 new rows: the
   debt's conditional Update with its 28-attribute SET, the invoice pointer's conditional Put),
   against ledger tables of 1,000, 10,000 and 100,000 items. Median of a few transactions, each on
   rows new to the table (written items are removed again, untimed, so the size stays put), under:
   moto alone (1,000 items only: it deep-copies the table once per action); the former hook (one
   copy of each touched table per call); the rollback of the touched items only; and every
   emulator hook (rollback, memoised update expressions, faster queries). Also a cancelled one
   (its last row's condition fails) with every hook: the rollback's cost.
2. A full paginated GSI1 query of one partition of 64,000 collections in a 100,000-item ledger, as
   the import's look-ahead asks it (begins_with on the period, projection, Limit 1,000) and as the
   export does (Limit 250, every attribute), with every hook; moto alone for its first pages only.

3. (``--medianas``) Medians before/after the condition, item-size and response hooks: a 100-action
   transaction and the pages of a GSI1 query of a 16,000-item partition, in a 50,000-item ledger.

Tables are filled straight into moto's storage (the items a real import leaves, without requests).
The machine's load moves every figure; compare the rows of one run.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

try:
    from benchmarks import _entorno  # (python -m benchmarks.emulator_dynamodb) the paths, the environment
except ImportError:  # python benchmarks/emulator_dynamodb.py
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _entorno  # noqa: F401

import boto3
from moto import mock_aws

from local_stack import emulator
from recaudo.data.cobranzas_acciones import GSI, Acciones, gsi_pk
from recaudo.data.tables import LEDGER
from recaudo.formats.cobranzas import Fila
from recaudo.models.cobranzas import Integrador, Periodo

TABLE = "recaudo-ledger"
INTEGRADOR = Integrador("club", "Club", "CLUB", "CLUB01", "America/Bogota")
PERIODO = Periodo("202611", date(2026, 11, 30))
ACCOUNT, REGION = "123456789012", "us-east-1"
HOOKS = ("transact", "update_expressions", "query", "conditions", "item_sizes", "responses")


# ---- moto with a given set of hooks, and back ----


def _patched_classes() -> list[Any]:
    import moto.dynamodb.models as models
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.responses import DynamoResult

    return [
        models.DynamoDBBackend,
        Table,
        Item,
        UpdateExpressionParser,
        validators.UpdateExpressionValidator,
        ConditionExpressionParser,
        DynamoResult,
    ]


@contextlib.contextmanager
def instalados(*install: Callable[[], None]) -> Iterator[None]:
    """Install these hooks for the block; every patched class and module is as before afterwards."""
    import moto.dynamodb.models as models

    saved = [(cls, dict(vars(cls))) for cls in _patched_classes()]
    saved_copy, saved_originals = models.copy, dict(emulator._ORIGINALS)
    for key in HOOKS:
        emulator._ORIGINALS.pop(key, None)
    try:
        for hook in install:
            hook()
        yield
    finally:
        for cls, attrs in saved:
            for name in set(vars(cls)) - set(attrs):
                delattr(cls, name)
            for name, value in attrs.items():
                if not name.startswith("__") or name == "__init__":
                    setattr(cls, name, value)
        models.copy = saved_copy
        emulator._ORIGINALS.clear()
        emulator._ORIGINALS.update(saved_originals)


def gancho_anterior() -> None:
    """The hook this one replaced: one deep copy of each touched table per call (as it was)."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items

    class _Copy:
        snapshots: dict[int, Any] | None = None

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        def deepcopy(self, x: Any, memo: Any = None) -> Any:
            if self.snapshots is None or not isinstance(x, Table):
                return copy.deepcopy(x, memo)
            if id(x) not in self.snapshots:
                self.snapshots[id(x)] = copy.deepcopy(x)
            return self.snapshots[id(x)]

    shim = _Copy()

    def transact_write_items(self: Any, transact_items: Any) -> Any:
        shim.snapshots = {}
        try:
            return original(self, transact_items)
        finally:
            shim.snapshots = None

    models.copy = shim
    models.DynamoDBBackend.transact_write_items = transact_write_items


ANTES = (emulator.one_snapshot_per_transaction, emulator.memoised_update_expressions, emulator.faster_queries)
TODOS = (*ANTES, emulator.memoised_conditions, emulator.linear_item_sizes, emulator.plain_dynamodb_responses)
MODOS: list[tuple[str, tuple[Callable[[], None], ...]]] = [
    ("moto alone", ()),
    ("former hook: a copy per table", (gancho_anterior,)),
    ("rollback of the touched items", (emulator.one_snapshot_per_transaction,)),
    ("every hook", TODOS),
]


# ---- the items an import leaves, straight into moto's storage ----


def fila(n: int, cliente: int | None = None, concepto: int | None = None) -> Fila:
    id_cliente = str(10_000_000 + (n // 4 if cliente is None else cliente))
    return Fila(
        linea=n + 2,
        id_cliente=id_cliente,
        nombre=f"Cliente {id_cliente}",
        celular="1155550000",
        telefono="45550000",
        mail=f"c{id_cliente}@example.com",
        id_concepto=str(1 + (n % 4 if concepto is None else concepto)),
        descripcion="Cuota social",
        monto=Decimal("1234.50"),
    )


_SET = re.compile(r"^SET (.*?)(?: REMOVE .*)?$")
_IF_NOT_EXISTS = re.compile(r"^if_not_exists\(\w+, (:\w+)\)(?: \+ (:\w+))?$")


def _top_level(clause: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(clause):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(clause[start:i].strip())
            start = i + 1
    return [*parts, clause[start:].strip()]


def item_de(update: dict[str, Any]) -> dict[str, Any]:
    """The item a conditional Update of a new row leaves (its SET evaluated on an absent item)."""
    values, names = update["ExpressionAttributeValues"], update.get("ExpressionAttributeNames", {})
    match = _SET.match(update["UpdateExpression"])
    assert match, update["UpdateExpression"]
    item = dict(update["Key"])
    for assignment in _top_level(match.group(1)):
        name, expression = (x.strip() for x in assignment.split("=", 1))
        if expression.startswith(":"):
            value = values[expression]
        else:
            found = _IF_NOT_EXISTS.match(expression)
            assert found, expression
            value = values[found.group(1)]
            if found.group(2):
                value = {"N": str(Decimal(value["N"]) + Decimal(values[found.group(2)]["N"]))}
        item[names.get(name, name)] = value
    return item


def _item(attrs: dict[str, Any]) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    item = Item(DynamoType(attrs["PK"]), DynamoType(attrs["SK"]), {})
    for key, value in attrs.items():
        dict.__setitem__(item.attrs, key, DynamoType(value))  # as moto's own copy does: no size re-check
    return item


def llenar(table: Any, acciones: Acciones, debts: int, punteros: int, particion: str | None = None) -> None:
    """debts collections (their debt items) and the invoice pointers of the first punteros."""
    for n in range(debts):
        grupo = acciones.fila(fila(n), "huella", nueva=n < punteros)
        first = grupo.acciones[0]
        debt = dict(first["Put"]["Item"]) if "Put" in first else item_de(first["Update"])
        if particion is not None:
            debt["GSI1PK"] = {"S": particion}
        items = [debt] + [a["Put"]["Item"] for a in grupo.acciones[1:]]
        for attrs in items:
            item = _item(attrs)
            table.items[item.hash_key][item.range_key] = item


def transaccion(acciones: Acciones, lote: int, falla: bool = False) -> list[dict[str, Any]]:
    """100 actions: 50 rows new to the table; if falla, the last row's condition fails."""
    actions: list[dict[str, Any]] = []
    for i in range(50):
        actions += acciones.fila(fila(i, cliente=5_000_000 + lote * 50 + i, concepto=0), "huella", nueva=True).acciones
    if falla:
        actions[-1]["Put"]["ConditionExpression"] = "attribute_exists(PK) AND deudaSK = :sk"
    return actions


def quitar(table: Any, actions: list[dict[str, Any]]) -> None:
    """Untimed: remove what a transaction wrote, so the table keeps its size."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    for action in actions:
        (op,) = action.values()
        key = op.get("Key") or op["Item"]
        table.items.pop(DynamoType(key["PK"]), None)


# ---- 1. one import transaction ----


def transacciones(sizes: tuple[int, ...] = (1_000, 10_000, 100_000), runs: int = 5) -> None:
    print("\n1. One TransactWriteItems of 100 import actions (50 new rows), median ms, by table size (items)")
    print(f"   {'':<34}" + "".join(f"{n:>14,}" for n in sizes))
    acciones = Acciones(TABLE, INTEGRADOR, PERIODO, "bench")
    rows: dict[str, list[str]] = {}
    for size in sizes:
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name=REGION)
            ddb.create_table(**LEDGER.create_table_kwargs(TABLE))
            from moto.dynamodb.models import dynamodb_backends

            table = dynamodb_backends[ACCOUNT][REGION].get_table(TABLE)
            llenar(table, acciones, size // 2, size // 2)
            assert len(table) == size, len(table)
            lote = 0
            for nombre, hooks in [*MODOS, ("every hook, cancelled (rollback)", TODOS)]:
                if nombre == "moto alone" and size > 1_000:
                    rows.setdefault(nombre, []).append(f"{'(hours)':>14}")
                    continue
                n = 1 if nombre == "moto alone" else min(runs, 3) if "former" in nombre and size > 10_000 else runs
                samples = []
                with instalados(*hooks):
                    for _ in range(n):
                        lote += 1
                        actions = transaccion(acciones, lote, falla="cancelled" in nombre)
                        t0 = time.perf_counter()
                        try:
                            ddb.transact_write_items(TransactItems=actions)
                        except ddb.exceptions.TransactionCanceledException:
                            assert "cancelled" in nombre
                        samples.append(time.perf_counter() - t0)
                        quitar(table, actions)
                assert len(table) == size
                rows.setdefault(nombre, []).append(f"{statistics.median(samples) * 1000:>11,.0f} ms")
    for nombre, cells in rows.items():
        print(f"   {nombre:<34}" + "".join(cells))


# ---- 2. a paginated index query of one 64,000-item partition ----


def consulta(ddb: Any, pk: str, limit: int, proyeccion: bool, paginas: int | None = None) -> tuple[int, int, float]:
    kwargs: dict[str, Any] = {
        "TableName": TABLE,
        "IndexName": GSI,
        "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :p)",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":p": {"S": f"{PERIODO.codigo}#"}},
        "Limit": limit,
    }
    if proyeccion:
        kwargs["ProjectionExpression"] = "idCliente, idRubro, ocurrencia, estado, huella"
    items = pages = 0
    t0 = time.perf_counter()
    while paginas is None or pages < paginas:
        page = ddb.query(**kwargs)
        items, pages = items + page["Count"], pages + 1
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items, pages, time.perf_counter() - t0


def indice(coleccion: int = 64_000, total: int = 100_000) -> None:
    print(f"\n2. GSI1 query of one partition of {coleccion:,} collections in a {total:,}-item ledger, every page")
    acciones = Acciones(TABLE, INTEGRADOR, PERIODO, "bench")
    pk = gsi_pk(INTEGRADOR.id, 0)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(**LEDGER.create_table_kwargs(TABLE))
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[ACCOUNT][REGION].get_table(TABLE)
        llenar(table, acciones, coleccion, total - coleccion, particion=pk)
        assert len(table) == total
        casos = [
            ("look-ahead: projection, Limit 1,000", 1_000, True),
            ("export: every attribute, Limit 250", 250, False),
        ]
        for titulo, limit, proyeccion in casos:
            with instalados(*TODOS):
                items, pages, seconds = consulta(ddb, pk, limit, proyeccion)
            print(
                f"   {titulo:<38} every hook: {seconds:6.1f} s for {items:,} items in {pages} pages "
                f"({seconds / pages * 1000:,.0f} ms per page)"
            )
        items, pages, seconds = consulta(ddb, pk, 1_000, True, paginas=2)
        print(
            f"   {'look-ahead, moto alone':<38} first {pages} pages: {seconds / pages:.1f} s per page "
            f"(the whole query: over {seconds / pages * coleccion / 1_000 / 60:.0f} min, later pages also walk "
            f"from the partition's start)"
        )


# ---- 3. before/after the condition, item-size and response hooks (``--medianas``) ----


def medianas(runs: int = 7, coleccion: int = 16_000, total: int = 50_000) -> None:
    """Medians, in a 50,000-item ledger, of a 100-action import transaction and of the pages of a
    GSI1 query of one 16,000-item partition (Limit 1,000 with the look-ahead's projection; Limit 250
    with every attribute, its first pages), with the first three hooks and with every hook."""
    print(f"\n3. Medians in a {total:,}-item ledger, GSI1 partition of {coleccion:,}: the first three hooks, then all")
    acciones = Acciones(TABLE, INTEGRADOR, PERIODO, "bench")
    pk = gsi_pk(INTEGRADOR.id, 0)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(**LEDGER.create_table_kwargs(TABLE))
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[ACCOUNT][REGION].get_table(TABLE)
        llenar(table, acciones, coleccion, coleccion, particion=pk)
        otras = (total - 2 * coleccion) // 2
        for n in range(coleccion, coleccion + otras):  # rows (and pointers) in other partitions
            for action in acciones.fila(fila(n), "huella", nueva=True).acciones:
                item = _item(action["Put"]["Item"])
                table.items[item.hash_key][item.range_key] = item
        assert len(table) == total, len(table)
        lote = 0
        for nombre, hooks in (("first three hooks", ANTES), ("every hook", TODOS)):
            with instalados(*hooks):
                tx = []
                for _ in range(runs):
                    lote += 1
                    actions = transaccion(acciones, lote)
                    t0 = time.perf_counter()
                    ddb.transact_write_items(TransactItems=actions)
                    tx.append(time.perf_counter() - t0)
                    quitar(table, actions)
                pages = []
                for limit, proyeccion, paginas in ((1_000, True, None), (250, False, 8)):
                    kwargs: dict[str, Any] = {
                        "TableName": TABLE,
                        "IndexName": GSI,
                        "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :p)",
                        "ExpressionAttributeValues": {":pk": {"S": pk}, ":p": {"S": f"{PERIODO.codigo}#"}},
                        "Limit": limit,
                    }
                    if proyeccion:
                        kwargs["ProjectionExpression"] = "idCliente, idRubro, ocurrencia, estado, huella"
                    samples = []
                    while paginas is None or len(samples) < paginas:
                        t0 = time.perf_counter()
                        page = ddb.query(**kwargs)
                        samples.append(time.perf_counter() - t0)
                        if "LastEvaluatedKey" not in page:
                            break
                        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
                    pages.append(statistics.median(samples) * 1000)
            print(
                f"   {nombre:<18} transaction {statistics.median(tx) * 1000:6,.0f} ms; query page: Limit 1,000 "
                f"projected {pages[0]:6,.0f} ms, Limit 250 every attribute {pages[1]:6,.0f} ms"
            )


if __name__ == "__main__":
    print(f"moto's DynamoDB in-process, Python {sys.version.split()[0]} (load average {os.getloadavg()[0]:.1f})")
    if "--medianas" in sys.argv:
        medianas(runs=int(os.environ.get("BENCH_RUNS", "7")))
        sys.exit()
    transacciones(runs=int(os.environ.get("BENCH_RUNS", "5")))
    indice()
    print(f"\n(load average {os.getloadavg()[0]:.1f} at the end)")
