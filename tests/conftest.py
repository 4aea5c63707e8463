"""Shared test setup: a fake AWS environment, the network blocked outside e2e, moto tables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

# Set before any handler module is imported: settings are validated once per process.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "LEDGER_TABLE": "recaudo-ledger",
        "CREDENTIALS_TABLE": "recaudo-credentials",
        "TIME_ZONE": "America/Costa_Rica",
        "POWERTOOLS_SERVICE_NAME": "recaudo-test",
        "POWERTOOLS_METRICS_NAMESPACE": "RecaudoTest",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # Tiny DynamoDB pages: every query in the suite must follow LastEvaluatedKey to be right.
        "QUERY_PAGE_LIMIT": "3",
        # botocore would send StartSyncExecution to sync-<endpoint>; emulators answer on one host
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        "IDEMPOTENCY_TABLE": "recaudo-idempotency",
        "EVENT_BUS_NAME": "recaudo",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

# Logger, Metrics and the handler tracer, made once with the environment above (tracing disabled).
import recaudo.observability  # noqa: F401

# The instant every unit and integration test lives in (the institution's zone is UTC-6).
NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist, every e2e test runs in one worker: they share the local stacks it starts."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.xdist_group("e2e"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Unit, integration and infra tests never reach the network; only e2e talks HTTP (on loopback)."""
    from pytest_socket import disable_socket, enable_socket

    if "e2e" in item.path.parts:
        enable_socket()
    else:
        disable_socket(allow_unix_socket=True)


@pytest.fixture
def aws() -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def dynamodb_hooks(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The local stack's DynamoDB speed-ups (``local_stack.emulator``) installed for this test only, so
    a test can import a real file under moto in-process at the local stack's speed; moto's own
    functions are back in place afterwards (returned, for comparisons)."""
    import moto.dynamodb.models as models
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.responses import DynamoResult

    from local_stack import emulator

    for cls in (models.DynamoDBBackend, Table, Item, UpdateExpressionParser):
        for name, value in list(vars(cls).items()):
            if not name.startswith("__"):
                monkeypatch.setattr(cls, name, value)
    for name in ("__init__", "validate"):  # inherited by UpdateExpressionValidator: removed afterwards
        monkeypatch.setattr(validators.UpdateExpressionValidator, name, getattr(validators.Validator, name))
    monkeypatch.setattr(models, "copy", models.copy)
    monkeypatch.setattr(ConditionExpressionParser, "parse", ConditionExpressionParser.parse)
    monkeypatch.setattr(Item, "__init__", Item.__init__)
    monkeypatch.setattr(DynamoResult, "execute_result", DynamoResult.execute_result)
    hooks = ("transact", "update_expressions", "query", "conditions", "item_sizes", "responses")
    monkeypatch.setattr(emulator, "_ORIGINALS", {k: v for k, v in emulator._ORIGINALS.items() if k not in hooks})
    moto_own = {
        "query": Table.query,
        "project": Item.project,
        "parse": ConditionExpressionParser.parse,
        "item_init": Item.__init__,
        "execute_result": DynamoResult.execute_result,
    }
    emulator.one_snapshot_per_transaction()
    emulator.memoised_update_expressions()
    emulator.faster_queries()
    emulator.memoised_conditions()
    emulator.linear_item_sizes()
    emulator.plain_dynamodb_responses()
    return moto_own


@pytest.fixture
def dynamodb(aws: None):
    """A moto DynamoDB with the project's tables, created from the same specs as the CDK app."""
    from recaudo.aws import client, nueva_sesion
    from recaudo.data.tables import CREDENTIALS, LEDGER

    nueva_sesion()
    ddb = client("dynamodb")
    ddb.create_table(**LEDGER.create_table_kwargs(os.environ["LEDGER_TABLE"]))
    ddb.create_table(**CREDENTIALS.create_table_kwargs(os.environ["CREDENTIALS_TABLE"]))
    yield ddb
    nueva_sesion()
