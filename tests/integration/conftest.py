"""Handlers in-process under moto: demo data loaded once per module, the clock fixed."""

from __future__ import annotations

import importlib
import os
from datetime import date

import pytest

from conectividad import queries
from conectividad.deps import QueryDeps
from ops.demo import DemoDataset, load_demo
from recaudo.aws import client, nueva_sesion
from recaudo.data.ledger import LedgerRepository
from recaudo.data.tables import CREDENTIALS, LEDGER
from recaudo.models.ledger import EstadoDeuda, Persona
from recaudo.settings import LedgerSettings, load
from tests.conftest import NOW
from tests.fakes import deuda

# A person with exactly 23 pending debts (and a paid one between each), for the paging rule.
PAGING_PERSON = "23232323"


@pytest.fixture(scope="module")
def demo() -> DemoDataset:
    """The demo data set in moto, shared by the read-only tests of a module; handlers see NOW."""
    from moto import mock_aws

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        nueva_sesion()
        ddb = client("dynamodb")
        ddb.create_table(**LEDGER.create_table_kwargs(os.environ["LEDGER_TABLE"]))
        ddb.create_table(**CREDENTIALS.create_table_kwargs(os.environ["CREDENTIALS_TABLE"]))
        settings = load(LedgerSettings)
        assert settings.query_page_limit == 3  # every handler query crosses DynamoDB pages
        ledger = LedgerRepository(settings.ledger_table, ddb, page_limit=settings.query_page_limit)
        data, _ = load_demo(ledger, NOW.date())
        ledger.put_persona(Persona(PAGING_PERSON, "Paginada", "F", 9))
        for i in range(23):
            ledger.put_deuda(deuda(9000 + i, date(2020 + i // 12, i % 12 + 1, 28), identificacion=PAGING_PERSON))
            ledger.put_deuda(
                deuda(
                    9500 + i,
                    date(2020 + i // 12, i % 12 + 1, 28),
                    identificacion=PAGING_PERSON,
                    rubro="17",
                    estado=EstadoDeuda.PAGADO,
                )
            )
        deps = QueryDeps(ledger=ledger, time_zone=settings.time_zone, clock=lambda: NOW)
        patch.setattr(queries, "default_query_deps", lambda: deps)
        yield data
        nueva_sesion()


@pytest.fixture
def handler_of():
    def _get(module: str):
        return importlib.import_module(f"conectividad.{module}").handler

    return _get
