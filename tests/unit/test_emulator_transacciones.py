"""The local stack's DynamoDB speed-ups (``local_stack.emulator``), against moto in-process: a
transaction's rollback restores exactly the items it names (no copy of the table), update
expressions are parsed and checked once, and paginated queries answer what moto answers."""

from __future__ import annotations

import copy
import random
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_stack import emulator
from recaudo.data.tables import CREDENTIALS, LEDGER

LEDGER_TABLE = "ledger"
OTHER_TABLE = "credenciales"


@pytest.fixture
def hooks(dynamodb_hooks: dict[str, Any]) -> dict[str, Any]:
    """The emulator's DynamoDB hooks for this test only (tests/conftest.py); moto's own functions returned."""
    return dynamodb_hooks


@pytest.fixture
def ddb(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(**LEDGER.create_table_kwargs(LEDGER_TABLE))
    client.create_table(**CREDENTIALS.create_table_kwargs(OTHER_TABLE))
    return client


def backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"]["us-east-1"]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def deuda(pk: str, sk: str, estado: str = "pendiente", **extra: Any) -> dict[str, Any]:
    item = {"PK": s(pk), "SK": s(sk), "estado": s(estado), "GSI1PK": s("COB#club"), "GSI1SK": s(f"202611#{pk}#{sk}")}
    item.update(extra)
    return item


def llenar(n: int) -> None:
    """n other items, written straight into moto's table (its own put_item, no request)."""
    table = backend().get_table(LEDGER_TABLE)
    for i in range(n):
        table.put_item(deuda(f"PER#otro{i % 50:03d}", f"SALDO#{i:05d}", saldo={"N": str(i)}))


def estado(table_name: str) -> list[Any]:
    """Everything moto keeps of a table's items, in its dicts' order (empty range buckets included)."""
    table = backend().get_table(table_name)
    if table.range_key_attr:
        return [
            (h.to_json(), [(r.to_json(), item.to_json()) for r, item in bucket.items()])
            for h, bucket in table.items.items()
        ]
    return [(h.to_json(), item.to_json()) for h, item in table.items.items()]


def gsi(ddb: Any) -> list[dict[str, Any]]:
    items, kwargs = [], {"Limit": 7}
    while True:
        page = ddb.query(
            TableName=LEDGER_TABLE,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :p)",
            ExpressionAttributeValues={":pk": s("COB#club"), ":p": s("202611#")},
            **kwargs,
        )
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def preparar(ddb: Any) -> None:
    for item in (
        deuda("PER#1", "SALDO#A"),
        deuda("PER#2", "SALDO#A"),
        deuda("PER#2", "SALDO#B"),
        deuda("PER#3", "SALDO#A"),
        deuda("PER#4", "SALDO#A", estado="pagado"),
    ):
        ddb.put_item(TableName=LEDGER_TABLE, Item=item)
    ddb.put_item(TableName=OTHER_TABLE, Item={"PK": s("TOKEN#viejo"), "SK": s("T")})


def acciones(condicion_de_pago: str) -> list[dict[str, Any]]:
    """Every kind of action, over two tables: new items, an update, a delete, an overwrite, a new
    item in an existing partition and one in a new partition; the check is the one that may fail."""
    return [
        {"Put": {"TableName": LEDGER_TABLE, "Item": {"PK": s("FACT#9"), "SK": s("FACT"), "deudaPK": s("PER#1")}}},
        {
            "Update": {
                "TableName": LEDGER_TABLE,
                "Key": {"PK": s("PER#1"), "SK": s("SALDO#A")},
                "UpdateExpression": "SET estado = :e, GSI1SK = :g, version = if_not_exists(version, :cero) + :uno",
                "ConditionExpression": "attribute_not_exists(PK) OR estado = :pend",
                "ExpressionAttributeValues": {
                    ":e": s("emitida"),
                    ":g": s("202611#PER#1#Z"),
                    ":pend": s("pendiente"),
                    ":cero": {"N": "0"},
                    ":uno": {"N": "1"},
                },
            }
        },
        {
            "ConditionCheck": {
                "TableName": LEDGER_TABLE,
                "Key": {"PK": s("PER#4"), "SK": s("SALDO#A")},
                "ConditionExpression": "estado = :e",
                "ExpressionAttributeValues": {":e": s(condicion_de_pago)},
            }
        },
        {"Delete": {"TableName": LEDGER_TABLE, "Key": {"PK": s("PER#2"), "SK": s("SALDO#A")}}},
        {"Put": {"TableName": LEDGER_TABLE, "Item": deuda("PER#3", "SALDO#A", estado="reemplazada")}},
        {
            "Update": {
                "TableName": LEDGER_TABLE,
                "Key": {"PK": s("PER#1"), "SK": s("SALDO#NUEVO")},
                "UpdateExpression": "SET estado = :e, GSI1PK = :pk, GSI1SK = :g",
                "ExpressionAttributeValues": {":e": s("pendiente"), ":pk": s("COB#club"), ":g": s("202611#PER#1#N")},
            }
        },
        {
            "Update": {
                "TableName": LEDGER_TABLE,
                "Key": {"PK": s("PER#NUEVA"), "SK": s("PERFIL")},
                "UpdateExpression": "SET nombre = if_not_exists(nombre, :n)",
                "ExpressionAttributeValues": {":n": s("Ana")},
            }
        },
        {"Put": {"TableName": OTHER_TABLE, "Item": {"PK": s("TOKEN#nuevo"), "SK": s("T")}}},
        {"Delete": {"TableName": OTHER_TABLE, "Key": {"PK": s("TOKEN#viejo"), "SK": s("T")}}},
    ]


# ---- the rollback: O(actions), exactly the state before ----


@pytest.mark.parametrize("otros", [0, 400])
def test_given_a_transaction_whose_check_fails_when_written_then_every_touched_item_is_as_before(hooks, ddb, otros):
    # Given both tables, with or without many other items
    preparar(ddb)
    llenar(otros)
    before = {name: estado(name) for name in (LEDGER_TABLE, OTHER_TABLE)}
    index_before = gsi(ddb)
    # When a transaction touching every kind of item is cancelled by its check (the 3rd of 9 actions)
    with pytest.raises(ClientError) as error:
        ddb.transact_write_items(TransactItems=acciones(condicion_de_pago="pendiente"))
    # Then it is cancelled for that action only, and both tables are exactly as before:
    # new items absent again (no empty partition left), the updated and overwritten ones restored,
    # the deleted ones back in their place; the index answers as before
    assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    codes = [r["Code"] for r in error.value.response["CancellationReasons"]]
    assert codes == ["None", "None", "ConditionalCheckFailed"] + ["None"] * 6
    assert {name: estado(name) for name in (LEDGER_TABLE, OTHER_TABLE)} == before
    assert gsi(ddb) == index_before


def test_given_a_transaction_whose_conditions_hold_when_written_then_every_action_applies(hooks, ddb):
    # Given both tables
    preparar(ddb)
    llenar(100)
    # When the transaction's conditions hold
    ddb.transact_write_items(TransactItems=acciones(condicion_de_pago="pagado"))

    # Then every action is applied
    def get(table: str, pk: str, sk: str) -> dict[str, Any] | None:
        return ddb.get_item(TableName=table, Key={"PK": s(pk), "SK": s(sk)}).get("Item")

    assert get(LEDGER_TABLE, "FACT#9", "FACT") == {"PK": s("FACT#9"), "SK": s("FACT"), "deudaPK": s("PER#1")}
    actualizada = get(LEDGER_TABLE, "PER#1", "SALDO#A")
    assert actualizada is not None
    assert (actualizada["estado"], actualizada["version"]) == (s("emitida"), {"N": "1"})
    assert get(LEDGER_TABLE, "PER#2", "SALDO#A") is None
    reemplazada = get(LEDGER_TABLE, "PER#3", "SALDO#A")
    assert reemplazada is not None
    assert reemplazada["estado"] == s("reemplazada")
    assert get(LEDGER_TABLE, "PER#1", "SALDO#NUEVO") is not None
    assert get(LEDGER_TABLE, "PER#NUEVA", "PERFIL") == {"PK": s("PER#NUEVA"), "SK": s("PERFIL"), "nombre": s("Ana")}
    assert get(OTHER_TABLE, "TOKEN#nuevo", "T") is not None
    assert get(OTHER_TABLE, "TOKEN#viejo", "T") is None
    assert "202611#PER#1#N" in {i["GSI1SK"]["S"] for i in gsi(ddb)}


@pytest.mark.parametrize(
    "culpable",
    [
        # a second action on an item the transaction already wrote (MultipleTransactionsException)
        {
            "Update": {
                "TableName": LEDGER_TABLE,
                "Key": {"PK": s("FACT#9"), "SK": s("FACT")},
                "UpdateExpression": "SET a = :a",
                "ExpressionAttributeValues": {":a": s("x")},
            }
        },
        # an update of a key attribute (UpdateHashRangeKeyException, a validation error)
        {
            "Update": {
                "TableName": LEDGER_TABLE,
                "Key": {"PK": s("PER#4"), "SK": s("SALDO#A")},
                "UpdateExpression": "SET SK = :k",
                "ExpressionAttributeValues": {":k": s("otra")},
            }
        },
    ],
    ids=["two-actions-on-one-item", "key-attribute-update"],
)
def test_given_a_transaction_refused_midway_as_invalid_when_written_then_nothing_stays_written(hooks, ddb, culpable):
    # Given both tables
    preparar(ddb)
    llenar(50)
    before = {name: estado(name) for name in (LEDGER_TABLE, OTHER_TABLE)}
    index_before = gsi(ddb)
    # When moto refuses the transaction as invalid after it applied the first actions
    actions = acciones(condicion_de_pago="pagado")
    with pytest.raises(ClientError) as error:
        ddb.transact_write_items(TransactItems=[*actions[:2], *actions[3:], culpable])
    # Then it is a validation error and every item is as before
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert {name: estado(name) for name in (LEDGER_TABLE, OTHER_TABLE)} == before
    assert gsi(ddb) == index_before


def test_given_a_stream_when_a_transaction_is_cancelled_then_its_records_are_dropped_too(hooks, ddb):
    # Given a table with a stream, and a record already in it
    ddb.update_table(TableName=LEDGER_TABLE, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    ddb.put_item(TableName=LEDGER_TABLE, Item=deuda("PER#4", "SALDO#A", estado="pagado"))
    shard = backend().get_table(LEDGER_TABLE).stream_shard
    records = [r.to_json() for r in shard.items]
    # When a transaction that writes first is cancelled
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=acciones(condicion_de_pago="pendiente")[:3])
    # Then the stream holds what it held before (moto's rollback, a copy of the table, did the same)
    assert [r.to_json() for r in shard.items] == records


@pytest.mark.parametrize("instalado", [True, False], ids=["hook", "moto-alone"])
def test_given_the_hook_when_a_transaction_is_cancelled_then_no_table_is_deep_copied(
    request, ddb, monkeypatch, instalado
):
    from moto.dynamodb.models.table import Table

    # Given a table with other items, the hook installed (or moto alone: proves the spy sees copies)
    if instalado:
        request.getfixturevalue("hooks")
    preparar(ddb)
    llenar(200)
    copied: list[str] = []
    real_deepcopy = copy.deepcopy

    def spy(x: Any, memo: Any = None) -> Any:
        if isinstance(x, Table) and memo is None:
            copied.append(x.name)
        return real_deepcopy(x, memo)

    monkeypatch.setattr(copy, "deepcopy", spy)
    # When a 9-action transaction over two tables is cancelled
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=acciones(condicion_de_pago="pendiente"))
    # Then with the hook no table was copied (moto alone copies one per action)
    assert copied == ([] if instalado else [LEDGER_TABLE] * 7 + [OTHER_TABLE] * 2)


def test_given_the_hooks_when_installed_then_reported_as_installed(hooks):
    installed = emulator.hooks_installed()
    assert all(installed[name] for name in ("transact", "update_expressions", "query")), installed


# ---- update expressions: parsed once, checks that depend only on the expression run once ----


def test_given_one_update_expression_when_applied_twice_then_parsed_and_checked_once_with_moto_result(
    hooks, ddb, monkeypatch
):
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.tokens import ExpressionTokenizer

    tokenized: list[str] = []
    counted: list[str] = []
    make_list = ExpressionTokenizer.make_list
    traverse = validators.ActionCountValidator.traverse
    monkeypatch.setattr(ExpressionTokenizer, "make_list", lambda e: tokenized.append(e) or make_list(e))
    monkeypatch.setattr(validators.ActionCountValidator, "traverse", lambda v, n: counted.append("x") or traverse(v, n))
    update = {
        "TableName": LEDGER_TABLE,
        "UpdateExpression": "SET estado = :e, version = if_not_exists(version, :cero) + :uno REMOVE motivo",
        "ExpressionAttributeValues": {":e": s("pendiente"), ":cero": {"N": "0"}, ":uno": {"N": "1"}},
    }
    # When the same expression updates a new item and then an existing one
    for _ in range(2):
        ddb.update_item(Key={"PK": s("PER#1"), "SK": s("S")}, **update)
    # Then it was tokenized once and its structural checks ran once; the result is moto's
    assert len([e for e in tokenized if e.startswith("SET estado")]) == 1
    assert len(counted) == 1
    item = ddb.get_item(TableName=LEDGER_TABLE, Key={"PK": s("PER#1"), "SK": s("S")})["Item"]
    assert item == {"PK": s("PER#1"), "SK": s("S"), "estado": s("pendiente"), "version": {"N": "2"}}


def test_given_an_invalid_update_expression_when_sent_again_then_refused_again(hooks, ddb):
    # Given an update of a key attribute, and one with a clause twice
    ddb.put_item(TableName=LEDGER_TABLE, Item=deuda("PER#1", "S"))
    invalid = [
        {"UpdateExpression": "SET SK = :v", "ExpressionAttributeValues": {":v": s("x")}},
        {"UpdateExpression": "SET a = :v SET b = :v", "ExpressionAttributeValues": {":v": s("x")}},
    ]
    for kwargs in invalid:
        # When sent twice
        for _ in range(2):
            # Then refused both times (errors are never memoised)
            with pytest.raises(ClientError) as error:
                ddb.update_item(TableName=LEDGER_TABLE, Key={"PK": s("PER#1"), "SK": s("S")}, **kwargs)
            assert error.value.response["Error"]["Code"] == "ValidationException"
    # And an expression whose names change is checked with its own names
    ddb.update_item(
        TableName=LEDGER_TABLE,
        Key={"PK": s("PER#1"), "SK": s("S")},
        UpdateExpression="SET #a = :v",
        ExpressionAttributeNames={"#a": "nota"},
        ExpressionAttributeValues={":v": s("x")},
    )
    with pytest.raises(ClientError, match="part of the key"):
        ddb.update_item(
            TableName=LEDGER_TABLE,
            Key={"PK": s("PER#1"), "SK": s("S")},
            UpdateExpression="SET #a = :v",
            ExpressionAttributeNames={"#a": "SK"},
            ExpressionAttributeValues={":v": s("x")},
        )


# ---- queries: what moto answers, page by page, without a sort of the whole table per page ----


def tabla_numerica(ddb: Any) -> None:
    """A table whose sort keys are numbers, with an index on a number too."""
    ddb.create_table(
        TableName="numeros",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": t} for n, t in (("PK", "S"), ("SK", "N"), ("G", "S"), ("GN", "N"))
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GNUM",
                "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}, {"AttributeName": "GN", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def poblar(ddb: Any, rnd: random.Random) -> None:
    for i in range(140):
        pk = f"PER#{rnd.randrange(12):02d}"
        item = deuda(pk, f"SALDO#{rnd.randrange(10_000):05d}", estado=rnd.choice(["pendiente", "pagado"]))
        item["GSI1PK"] = s(f"COB#{rnd.randrange(3)}")
        item["GSI1SK"] = s(f"2026{rnd.choice(['10', '11', '12'])}#{rnd.randrange(50):02d}#{i}")
        item["m"] = {"M": {"a": {"N": str(i)}, "b": {"L": [s("x"), {"N": "1"}]}}}
        item["l"] = {"L": [s(f"v{i}"), {"N": str(i)}]}
        if rnd.random() < 0.2:
            del item["GSI1PK"]  # sparse index
        ddb.put_item(TableName=LEDGER_TABLE, Item=item)
        ddb.put_item(
            TableName="numeros",
            Item={
                "PK": s(f"P{rnd.randrange(4)}"),
                "SK": {"N": str(rnd.randrange(-500, 500) / 4)},
                "G": s(f"G{rnd.randrange(2)}"),
                "GN": {"N": str(rnd.randrange(40))},
                "v": s(str(i)),
            },
        )


QUERIES: list[dict[str, Any]] = [
    {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk", ":pk": "COB#1"},
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :p)",
        ":pk": "COB#0",
        ":p": "202611#",
    },
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK BETWEEN :a AND :b",
        ":pk": "COB#2",
        ":a": "202610#20",
        ":b": "202612#10",
    },
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK > :a",
        ":pk": "COB#1",
        ":a": "202611#30",
        "FilterExpression": "estado = :e",
        ":e": "pagado",
    },
    {"KeyConditionExpression": "PK = :pk", ":pk": "PER#03"},
    {"KeyConditionExpression": "PK = :pk AND SK <= :a", ":pk": "PER#07", ":a": "SALDO#05000"},
    {"KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)", ":pk": "PER#00", ":p": "SALDO#0"},
    {"KeyConditionExpression": "PK = :pk", ":pk": "PER#99"},
    {"TableName": "numeros", "KeyConditionExpression": "PK = :pk AND SK >= :a", ":pk": "P1", ":a": -20},
    {"TableName": "numeros", "IndexName": "GNUM", "KeyConditionExpression": "G = :g", ":g": "G0"},
    {"TableName": "numeros", "IndexName": "GNUM", "KeyConditionExpression": "G = :g AND GN < :n", ":g": "G1", ":n": 25},
]
PROJECTIONS: list[dict[str, Any]] = [
    {},
    {"ProjectionExpression": "estado, GSI1SK, PK, nada"},
    {"ProjectionExpression": "#m.a, l[1], estado", "ExpressionAttributeNames": {"#m": "m"}},
    {"Select": "COUNT"},
]


def consulta(spec: dict[str, Any], limit: int | None, forward: bool, projection: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"TableName": LEDGER_TABLE, "ScanIndexForward": forward}
    values = {}
    for key, value in spec.items():
        if key.startswith(":"):
            values[key] = {"N": str(value)} if isinstance(value, int | float) else s(value)
        else:
            kwargs[key] = value
    kwargs["ExpressionAttributeValues"] = values
    if kwargs["TableName"] == "numeros" and projection.get("ProjectionExpression"):
        projection = {"ProjectionExpression": "v, SK"}
    kwargs.update(projection)
    if limit is not None:
        kwargs["Limit"] = limit
    return kwargs


def answer(ddb: Any, kwargs: dict[str, Any]) -> Any:
    try:
        response = ddb.query(**kwargs)
    except ClientError as e:
        return ("error", e.response["Error"]["Code"], e.response["Error"]["Message"])
    except Exception as e:  # noqa: BLE001 - moto failing on odd input: it must fail the same way
        return ("failure", type(e).__name__, str(e))
    response.pop("ResponseMetadata", None)
    return response


def test_given_random_tables_when_queries_are_paged_then_every_page_is_moto_own(hooks, ddb, monkeypatch):
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    # Given two tables of random items (string and number keys, a sparse index, maps and lists)
    rnd = random.Random(20261121)
    tabla_numerica(ddb)
    poblar(ddb, rnd)

    def moto_alone(kwargs: dict[str, Any]) -> Any:
        with monkeypatch.context() as m:
            m.setattr(Table, "query", hooks["query"])
            m.setattr(Item, "project", hooks["project"])
            return answer(ddb, kwargs)

    taken: list[int] = []
    sorts: list[int] = []
    unsorted_items, plain_sorted = emulator._unsorted_items, emulator._plain_sorted
    monkeypatch.setattr(emulator, "_unsorted_items", lambda t: taken.append(1) or unsorted_items(t))
    monkeypatch.setattr(emulator, "_plain_sorted", lambda items, values: sorts.append(1) or plain_sorted(items, values))
    pages = 0
    for n, spec in enumerate(QUERIES):
        for limit in (3, 11, None):
            for forward in (True, False):
                projection = PROJECTIONS[(n + (limit or 0)) % len(PROJECTIONS)]
                kwargs = consulta(spec, limit, forward, projection)
                # When every page is read, with writes into the partition between some pages
                for page_number in range(200):
                    mine, theirs = answer(ddb, kwargs), moto_alone(kwargs)
                    # Then each page (items, counts, LastEvaluatedKey, or error) is moto's
                    assert mine == theirs, (spec, limit, forward, projection, page_number)
                    pages += 1
                    if not isinstance(mine, dict) or "LastEvaluatedKey" not in mine:
                        break
                    kwargs["ExclusiveStartKey"] = mine["LastEvaluatedKey"]
                    if page_number == 1 and kwargs["TableName"] == LEDGER_TABLE:
                        pk = rnd.choice(["PER#03", "PER#07", "PER#00"])
                        ddb.put_item(
                            TableName=LEDGER_TABLE,
                            Item=deuda(pk, f"SALDO#{rnd.randrange(10_000):05d}", GSI1PK=s(f"COB#{rnd.randrange(3)}")),
                        )
    assert pages > 200
    # (and the hook, not moto alone, answered: index partitions and table partitions were sorted by it)
    assert 0 < len(taken) < len(sorts)


def test_given_an_exclusive_start_key_not_in_the_partition_then_the_page_is_moto_own(hooks, ddb, monkeypatch):
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    # Given an index partition
    for i in range(30):
        ddb.put_item(TableName=LEDGER_TABLE, Item=deuda(f"PER#{i:02d}", "S"))
    base = consulta({"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk", ":pk": "COB#club"}, 5, True, {})
    starts = [
        {"PK": s("PER#07x"), "SK": s("S"), "GSI1PK": s("COB#club"), "GSI1SK": s("202611#PER#07x#S")},  # between items
        {"PK": s("ZZZ"), "SK": s("S"), "GSI1PK": s("COB#club"), "GSI1SK": s("9")},  # after every item
        {"PK": s("A"), "SK": s("S"), "GSI1PK": s("COB#other"), "GSI1SK": s("0")},  # another partition
        {"PK": s("PER#01"), "SK": s("S")},  # not the index's key: moto's own answer (or error)
    ]
    for start in starts:
        for forward in (True, False):
            kwargs = {**base, "ExclusiveStartKey": start, "ScanIndexForward": forward}
            # When a page starts there
            mine = answer(ddb, kwargs)
            with monkeypatch.context() as m:
                m.setattr(Table, "query", hooks["query"])
                m.setattr(Item, "project", hooks["project"])
                theirs = answer(ddb, kwargs)
            # Then it is moto's page
            assert mine == theirs, (start, forward)


def test_given_a_large_partition_when_paged_then_sorted_once_until_a_write(hooks, ddb, monkeypatch):
    from moto.dynamodb.models.table import Table

    # Given an index partition of 300 items in a table of 600
    llenar(300)
    for i in range(300):
        ddb.put_item(TableName=LEDGER_TABLE, Item={"PK": s(f"X#{i}"), "SK": s("S")})
    taken: list[int] = []
    given: list[int] = []
    unsorted_items = emulator._unsorted_items
    sorted_items = Table.sorted_items
    monkeypatch.setattr(emulator, "_unsorted_items", lambda t: taken.append(len(t.items)) or unsorted_items(t))
    monkeypatch.setattr(
        Table, "sorted_items", lambda t, h, r, items: given.append(len(items)) or sorted_items(t, h, r, items)
    )
    # When it is read in pages of 10, then written to, then read again
    assert len(gsi_pages(ddb, 10)) == 300
    first = len(taken)
    ddb.put_item(TableName=LEDGER_TABLE, Item=deuda("PER#nuevo", "S"))
    assert len(gsi_pages(ddb, 10)) == 301
    # Then the table's items were taken (and the partition sorted) once per reading; moto paged
    # each page from at most Limit + 1 of them
    assert (first, len(taken)) == (1, 2)
    assert sorted(given)[-2:] == [300, 301]
    assert all(n <= 11 for n in sorted(given)[:-2]) and len(given) == 2 + 30 + 31


def gsi_pages(ddb: Any, limit: int) -> list[dict[str, Any]]:
    items, kwargs = [], {"Limit": limit}
    while True:
        page = ddb.query(
            TableName=LEDGER_TABLE,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": s("COB#club")},
            **kwargs,
        )
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# ---- condition expressions: parsed once per (text, names, value types), evaluated as moto does ----


@pytest.fixture
def moto_alone(hooks: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """A context in which moto's own functions answer (every DynamoDB hook of this module removed)."""
    import contextlib

    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult

    @contextlib.contextmanager
    def alone() -> Any:
        with monkeypatch.context() as m:
            m.setattr(Table, "query", hooks["query"])
            m.setattr(Item, "project", hooks["project"])
            m.setattr(ConditionExpressionParser, "parse", hooks["parse"])
            m.setattr(Item, "__init__", hooks["item_init"])
            m.setattr(DynamoResult, "execute_result", hooks["execute_result"])
            yield

    return alone


def item_de_moto(attrs: dict[str, Any] | None) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    if attrs is None:
        return None
    return Item(DynamoType(attrs["PK"]), DynamoType(attrs["SK"]), attrs)


CONDITION_ITEMS: list[dict[str, Any] | None] = [
    None,
    deuda("PER#1", "S", deudaSK=s("SALDO#1"), saldo={"N": "5"}, l={"L": [s("a"), {"N": "2"}]}, m={"M": {"k": s("v")}}),
    deuda("PER#2", "S", estado="pagado", deudaSK=s("SALDO#2"), saldo={"N": "-3.5"}, ss={"SS": ["a", "b"]}),
    {"PK": s("FACT#1"), "SK": s("FACT"), "deudaSK": s("SALDO#1"), "nada": {"NULL": True}, "b": {"BOOL": False}},
]
# (expression, names, values): the same text again and again with other values, names and types
CONDITIONS: list[tuple[str, dict[str, str] | None, dict[str, Any] | None]] = [
    ("attribute_not_exists(PK)", None, None),
    ("attribute_not_exists(PK) OR deudaSK = :sk", None, {":sk": s("SALDO#1")}),
    ("attribute_not_exists(PK) OR deudaSK = :sk", None, {":sk": s("SALDO#2")}),
    ("attribute_not_exists(PK) OR deudaSK = :sk", None, {":sk": {"N": "1"}}),
    ("attribute_not_exists(PK) OR deudaSK = :sk", None, {":sk": s("SALDO#1"), ":otro": s("x")}),
    ("#e = :e AND saldo > :n", {"#e": "estado"}, {":e": s("pendiente"), ":n": {"N": "1"}}),
    ("#e = :e AND saldo > :n", {"#e": "estado"}, {":e": s("pagado"), ":n": {"N": "-4"}}),
    ("#e = :e AND saldo > :n", {"#e": "deudaSK"}, {":e": s("SALDO#2"), ":n": {"N": "-4"}}),
    ("saldo BETWEEN :a AND :b", None, {":a": {"N": "0"}, ":b": {"N": "10"}}),
    ("saldo BETWEEN :a AND :b", None, {":a": {"N": "-10"}, ":b": {"N": "-1"}}),
    ("saldo BETWEEN :a AND :b", None, {":a": {"NULL": True}, ":b": {"N": "-1"}}),  # refused: a NULL bound
    ("begins_with(deudaSK, :p) AND NOT (estado = :e)", None, {":p": s("SALDO#"), ":e": s("pagado")}),
    ("begins_with(deudaSK, :p) AND NOT (estado = :e)", None, {":p": s("SALDO#2"), ":e": s("x")}),
    ("contains(l, :v) OR contains(ss, :v)", None, {":v": s("a")}),
    ("contains(l, :v) OR contains(ss, :v)", None, {":v": {"N": "2"}}),
    ("size(l) >= :n AND attribute_type(m, :t)", None, {":n": {"N": "2"}, ":t": s("M")}),
    ("size(l) >= :n AND attribute_type(m, :t)", None, {":n": {"N": "3"}, ":t": s("L")}),
    ("estado IN (:a, :b) AND m.k = :v", None, {":a": s("pagado"), ":b": s("x"), ":v": s("v")}),
    ("estado IN (:a, :b) AND m.k = :v", None, {":a": s("pendiente"), ":b": s("y"), ":v": s("v")}),
    ("nada = :n OR b = :b", None, {":n": {"NULL": True}, ":b": {"BOOL": False}}),
    ("l[1] = :v", None, {":v": {"N": "2"}}),
    ("estado = :missing", None, {":e": s("x")}),  # refused: an undefined value
    ("#nope = :e", {"#e": "estado"}, {":e": s("x")}),  # refused: an undefined name
    ("estado = = :e", None, {":e": s("x")}),  # refused: syntax
    ("((estado = :e))", None, {":e": s("x")}),  # refused: redundant parentheses
    ("name = :e", None, {":e": s("x")}),  # refused: a reserved word
    ("estado = :e", None, {":e": {}}),  # malformed value: moto's own parse, as is
    ("estado = :e", None, {":e": {"S": "x", "N": "1"}}),
]


def parsed(parse: Any, expression: str, names: Any, values: Any) -> Any:
    """A parse and its evaluation on every item: the tree's text, what it found, each result (or error)."""
    from moto.dynamodb.comparisons import ConditionExpressionParser

    parser = ConditionExpressionParser(expression, copy.deepcopy(names), copy.deepcopy(values))
    try:
        tree = parse(parser)
    except Exception as e:  # noqa: BLE001 - refused: it must be refused the same way
        return ("refused", type(e).__name__, str(e))
    results = []
    for attrs in CONDITION_ITEMS:
        try:
            results.append(tree.expr(item_de_moto(attrs)))
        except Exception as e:  # noqa: BLE001
            results.append((type(e).__name__, str(e)))
    return forma(tree), parser.expr_attr_names_found, parser.expr_attr_values_found, results


def forma(tree: Any) -> Any:
    """A tree's classes and attributes, all the way down (moto's repr fails on list indexes)."""
    if hasattr(tree, "__dict__"):
        return type(tree).__name__, {k: forma(v) for k, v in sorted(vars(tree).items())}
    if isinstance(tree, list | tuple):
        return [forma(v) for v in tree]
    return tree


def test_given_condition_expressions_when_parsed_again_with_other_values_then_each_is_moto_own(hooks, monkeypatch):
    from moto.dynamodb.comparisons import ConditionExpressionParser

    lexed: list[str] = []
    lex = ConditionExpressionParser._lex_condition_expression
    monkeypatch.setattr(
        ConditionExpressionParser, "_lex_condition_expression", lambda self: lexed.append(1) or lex(self)
    )
    outcomes = set()
    # Given expressions that pass and fail, the same text with other values, names and types, and invalid ones
    for _ in range(3):
        for expression, names, values in CONDITIONS:
            # When parsed and evaluated with the hook, and by moto alone
            mine = parsed(ConditionExpressionParser.parse, expression, names, values)
            theirs = parsed(hooks["parse"], expression, names, values)
            # Then the tree, what it found and every evaluation (or the refusal) are moto's, every time
            assert mine == theirs, (expression, names, values)
            outcomes.add(mine[0] if mine[0] == "refused" else tuple(map(str, mine[3])))
    assert "refused" in outcomes and len(outcomes) > 10
    # And an expression parsed before with the same names and value types is not parsed again
    lexed.clear()
    parsed(ConditionExpressionParser.parse, "attribute_not_exists(PK) OR deudaSK = :sk", None, {":sk": s("otra")})
    assert lexed == []


def test_given_a_memoised_condition_when_evaluated_then_each_call_has_its_own_tree_and_values(hooks):
    from moto.dynamodb.comparisons import ConditionExpressionParser

    # Given the same expression parsed twice with other values
    first = ConditionExpressionParser("deudaSK = :sk", None, {":sk": s("SALDO#1")}).parse()
    values = {":sk": s("SALDO#2")}
    second = ConditionExpressionParser("deudaSK = :sk", None, values).parse()
    # Then each tree holds its own call's value (by reference, as moto's), and no tree is shared
    assert first is not second and first.rhs is not second.rhs
    assert (first.rhs.value, second.rhs.value) == ("SALDO#1", "SALDO#2")
    item = item_de_moto(CONDITION_ITEMS[1])
    assert (first.expr(item), second.expr(item)) == (True, False)


def put_sequence() -> list[dict[str, Any]]:
    """Puts of the import's shapes (Acciones.fila and Acciones.persona), conditions that pass and fail."""
    requests: list[dict[str, Any]] = []
    for i in range(6):
        debt = deuda(f"PER#{i % 3}", f"SALDO#{i}", **{f"a{n}": s(f"valor {n} {i}") for n in range(26)})
        requests.append({"Item": debt, "ConditionExpression": "attribute_not_exists(PK)"})
        sk = f"SALDO#{i % 4}"  # the third and later claim a pointer another debt may hold
        pointer = {"PK": s(f"FACT#{i % 4}"), "SK": s("FACT"), "deudaPK": s(f"PER#{i % 3}"), "deudaSK": s(sk)}
        requests.append(
            {
                "Item": pointer,
                "ConditionExpression": "attribute_not_exists(PK) OR deudaSK = :sk",
                "ExpressionAttributeValues": {":sk": s(f"SALDO#{i}")},
            }
        )
        requests.append({"Item": {"PK": s(f"PER#{i % 3}"), "SK": s("PERFIL"), "nombre": s(f"Cliente {i}")}})
    return requests


def test_given_import_puts_when_written_with_the_hooks_then_answers_and_tables_are_moto_own(hooks, ddb, moto_alone):
    ddb.create_table(**LEDGER.create_table_kwargs("gemelo"))

    def write(table: str, request: dict[str, Any]) -> Any:
        try:
            response = ddb.put_item(TableName=table, ReturnValues="ALL_OLD", **copy.deepcopy(request))
        except ClientError as e:
            return ("error", e.response["Error"]["Code"], e.response["Error"]["Message"])
        response.pop("ResponseMetadata", None)
        return response

    # Given the same puts, of debts, pointers and profiles, some of whose conditions fail
    answers = []
    for request in put_sequence():
        # When each is written with the hooks to one table and by moto alone to its twin
        mine = write(LEDGER_TABLE, request)
        with moto_alone():
            theirs = write("gemelo", request)
        # Then the answers are the same
        assert mine == theirs, request
        answers.append(mine)
    assert any(isinstance(a, tuple) for a in answers) and any(not isinstance(a, tuple) for a in answers)
    # And so are the tables
    scans = [ddb.scan(TableName=t)["Items"] for t in (LEDGER_TABLE, "gemelo")]
    assert scans[0] == scans[1] and len(scans[0]) > 10


def test_given_import_transactions_when_written_with_the_hooks_then_answers_and_tables_are_moto_own(
    hooks, ddb, moto_alone
):
    ddb.create_table(**LEDGER.create_table_kwargs("gemelo"))

    def transact(table: str, requests: list[dict[str, Any]]) -> Any:
        actions = [{"Put": {"TableName": table, **copy.deepcopy(r)}} for r in requests]
        try:
            response = ddb.transact_write_items(TransactItems=actions)
        except ClientError as e:
            return ("error", e.response["Error"]["Code"], e.response["Error"]["Message"])
        response.pop("ResponseMetadata", None)
        return response

    # Given transactions of the import's puts: one whose conditions hold, one where one fails, then the rest
    requests = put_sequence()
    batches = [requests[:6], requests[3:9], requests[9:]]
    for batch in batches:
        # When each is written with the hooks and by moto alone, to twin tables
        mine = transact(LEDGER_TABLE, batch)
        with moto_alone():
            theirs = transact("gemelo", batch)
        # Then the answers and the tables are the same
        assert mine == theirs
        assert ddb.scan(TableName=LEDGER_TABLE)["Items"] == ddb.scan(TableName="gemelo")["Items"]


# ---- items built in one pass: moto's size check, at the same attribute ----


def sized(attrs: dict[str, Any]) -> dict[str, Any]:
    """A new item's attributes (its key first) whose moto size is what the attributes add."""
    return {"PK": s("P"), "SK": s("S"), **attrs}


LIMIT = 405_000
NEAR_THE_LIMIT: list[dict[str, Any]] = [
    sized({"big": s("a" * (LIMIT - 9))}),  # 405,000 bytes: accepted
    sized({"big": s("a" * (LIMIT - 8))}),  # 405,001: refused
    sized({"ñ": s("é" * ((LIMIT - 8) // 2))}),  # multi-byte names and values, at the limit
    sized({"ñ": s("é" * ((LIMIT - 8) // 2 + 1))}),  # over it
    sized({"big": s("a" * (LIMIT - 20)), "n": {"N": "12345678901"}, "after": s("x")}),  # refused midway
    sized({f"a{i:03d}": s("x" * 4_000) for i in range(102)}),  # the 102nd attribute goes over
    sized({"m": {"M": {"k": {"L": [s("a" * 200_000), {"SS": ["b" * 100_000, "c" * 104_990]}]}}}}),
    sized({"n": {"NS": ["1", "2.5"]}, "b": {"BOOL": True}, "z": {"NULL": True}, "bs": {"BS": [b"ab"]}}),
]


def built(init: Any, attrs: Any) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    item = Item.__new__(Item)
    try:
        init(item, DynamoType(attrs["PK"]), DynamoType(attrs["SK"]), attrs)
    except Exception as e:  # noqa: BLE001 - refused: the same way
        return ("refused", type(e).__name__, str(e))
    return type(item.attrs).__name__, list(item.attrs.items()), item.size(), item.to_json()


def test_given_items_near_the_size_limit_when_built_then_accepted_or_refused_as_moto_does(hooks):
    from moto.dynamodb.models.dynamo_type import Item

    # Given items at, just over and far over moto's size limit, with the excess at the end or midway
    outcomes = []
    for attrs in NEAR_THE_LIMIT:
        # When built with the hook and by moto alone
        mine, theirs = built(Item.__init__, attrs), built(hooks["item_init"], attrs)
        # Then the same attributes (of moto's types, in order) or the same refusal
        assert mine == theirs, list(attrs)
        outcomes.append(mine[0])
    assert outcomes.count("refused") == 4 and outcomes.count("LimitedSizeDict") == 4


def test_given_items_near_the_size_limit_when_put_then_the_answers_are_moto_own(hooks, ddb, moto_alone):
    ddb.create_table(**LEDGER.create_table_kwargs("gemelo"))

    def put(table: str, attrs: dict[str, Any]) -> Any:
        try:
            ddb.put_item(TableName=table, Item=attrs)
        except ClientError as e:
            return ("error", e.response["Error"]["Code"], e.response["Error"]["Message"])
        return ddb.get_item(TableName=table, Key={"PK": attrs["PK"], "SK": attrs["SK"]}).get("Item")

    for attrs in NEAR_THE_LIMIT:
        # When put (and read back) with the hooks and by moto alone
        mine = put(LEDGER_TABLE, attrs)
        with moto_alone():
            theirs = put("gemelo", attrs)
        # Then the same item, or the same refusal
        assert mine == theirs, list(attrs)


def test_given_the_new_hooks_when_installed_then_reported_and_in_the_local_stack(hooks):
    import inspect

    installed = emulator.hooks_installed()
    assert installed["conditions"] and installed["item_sizes"] and installed["responses"], installed
    start = inspect.getsource(emulator.MotoEmulator.start)
    assert all(
        f"{hook}()" in start for hook in ("memoised_conditions", "linear_item_sizes", "plain_dynamodb_responses")
    )


# ---- responses: Query, GetItem and TransactWriteItems bodies built directly, byte for byte moto's ----


def raw_bodies(ddb: Any) -> list[Any]:
    """Every raw response (status, body, headers but the request's id and date) the client receives from now on."""
    seen: list[Any] = []

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        headers = {k.lower(): v for k, v in response_dict["headers"].items()}
        headers = {k: v for k, v in headers.items() if "requestid" not in k and k != "date"}
        seen.append((response_dict["status_code"], response_dict["body"], headers))

    ddb.meta.events.register("before-parse.dynamodb.*", keep)
    return seen


VARIED = [
    deuda("PER#1", "S#1", saldo={"N": "-12.50"}, vacio=s(""), ss={"SS": ["b", "a"]}, ns={"NS": ["1", "2.5"]}),
    deuda("PER#1", "S#2", m={"M": {"k": s("v"), "l": {"L": [{"N": "1"}, {"NULL": True}, {"M": {}}]}}}, l={"L": []}),
    deuda("PER#1", "S#3", b={"BOOL": False}, t={"BOOL": True}, n={"NULL": True}, u=s('ñandú \u2028 "x" \\')),
    deuda("PER#1", "S#4", bin={"B": b"\x00\xffbin"}, bs={"BS": [b"a", b"b"]}),  # binary: moto's serializer
    deuda("PER#1", "S#5", m={"M": {"b": {"B": b"x"}}}),
]


def test_given_varied_items_when_read_and_written_then_response_bodies_are_moto_own_byte_for_byte(
    hooks, ddb, moto_alone, monkeypatch
):
    # Given items of every attribute type (binary ones included) in a partition and an index
    for item in VARIED:
        ddb.put_item(TableName=LEDGER_TABLE, Item=item)
    plain: list[bool] = []
    plain_output = emulator._plain_output
    monkeypatch.setattr(
        emulator, "_plain_output", lambda r, sh: plain.append((b := plain_output(r, sh)) is not None) or b
    )
    seen = raw_bodies(ddb)
    query = {
        "TableName": LEDGER_TABLE,
        "KeyConditionExpression": "PK = :p",
        "ExpressionAttributeValues": {":p": s("PER#1")},
    }
    index = {
        **query,
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :p",
        "ExpressionAttributeValues": {":p": s("COB#club")},
    }
    calls: list[tuple[str, dict[str, Any]]] = [
        ("query", query),
        ("query", {**query, "Limit": 2}),
        ("query", {**query, "Limit": 2, "ExclusiveStartKey": {"PK": s("PER#1"), "SK": s("S#2")}}),
        ("query", {**query, "ProjectionExpression": "SK, m.l[1], ss, nada"}),
        ("query", {**query, "Select": "COUNT"}),
        ("query", {**query, "ReturnConsumedCapacity": "TOTAL"}),
        ("query", {**index, "Limit": 3, "ScanIndexForward": False}),
        ("query", {**query, "KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": s("NADIE")}}),
        ("query", {**query, "KeyConditionExpression": "PK = :x"}),  # refused
        ("get_item", {"TableName": LEDGER_TABLE, "Key": {"PK": s("PER#1"), "SK": s("S#2")}}),
        ("get_item", {"TableName": LEDGER_TABLE, "Key": {"PK": s("PER#1"), "SK": s("S#4")}}),
        ("get_item", {"TableName": LEDGER_TABLE, "Key": {"PK": s("PER#1"), "SK": s("NO")}}),
        (
            "get_item",
            {"TableName": LEDGER_TABLE, "Key": {"PK": s("PER#1"), "SK": s("S#3")}, "ProjectionExpression": "u, t"},
        ),
        (
            "get_item",
            {"TableName": LEDGER_TABLE, "Key": {"PK": s("PER#1"), "SK": s("S#1")}, "ReturnConsumedCapacity": "TOTAL"},
        ),
        (
            "transact_write_items",
            {
                "TransactItems": [
                    {
                        "ConditionCheck": {
                            "TableName": LEDGER_TABLE,
                            "Key": {"PK": s("PER#1"), "SK": s("S#1")},
                            "ConditionExpression": "attribute_exists(PK)",
                        }
                    }
                ]
            },
        ),
        (
            "transact_write_items",
            {
                "TransactItems": [
                    {
                        "ConditionCheck": {
                            "TableName": LEDGER_TABLE,
                            "Key": {"PK": s("PER#1"), "SK": s("S#1")},
                            "ConditionExpression": "attribute_not_exists(PK)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    }
                ]
            },
        ),
        (
            "transact_write_items",
            {
                "TransactItems": [
                    {
                        "ConditionCheck": {
                            "TableName": LEDGER_TABLE,
                            "Key": {"PK": s("PER#1"), "SK": s("S#1")},
                            "ConditionExpression": "attribute_exists(PK)",
                        }
                    }
                ],
                "ReturnConsumedCapacity": "TOTAL",
            },
        ),
    ]
    for method, kwargs in calls:
        # When each is answered with the hooks, and by moto alone
        for alone in (False, True):
            try:
                if alone:
                    with moto_alone():
                        getattr(ddb, method)(**kwargs)
                else:
                    getattr(ddb, method)(**kwargs)
            except ClientError:
                pass
        # Then the raw responses are the same, byte for byte
        mine, theirs = seen[-2:]
        assert mine == theirs, (method, kwargs)
    # (and the direct path answered the plain reads; binary values, capacity, errors and transactions went
    # through moto's serializer)
    assert plain.count(True) >= 7 and plain.count(False) >= 5
