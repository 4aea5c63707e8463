"""What the template must keep for a collections file at the HTTP limit to land within the gateway's
29 s (docs/decisions.md, "Cobranzas: time"): a pre-warmed ledger and index, and the HTTP import's
timeout, budget and writers."""

from __future__ import annotations

import pytest

from infra import constants as c


@pytest.fixture(scope="module")
def resources(synthesized) -> dict:
    return synthesized[1].to_json()["Resources"]


def ledger(resources: dict) -> dict:
    from recaudo.data.tables import LEDGER

    (table,) = [
        r["Properties"]
        for lid, r in resources.items()
        if r["Type"] == "AWS::DynamoDB::Table" and lid.startswith(f"Data{LEDGER.logical_id}")
    ]
    return table


def test_given_the_ledger_then_it_and_its_indexes_are_warmed_for_the_import_write_rate(resources):
    table = ledger(resources)
    warm = {"ReadUnitsPerSecond": c.WARM_READ_UNITS, "WriteUnitsPerSecond": c.LEDGER_WARM_WRITE_UNITS}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["WarmThroughput"] == warm
    assert all(g["WarmThroughput"] == warm for g in table["GlobalSecondaryIndexes"])
    # ~290,000 transactional write units for 64,000 rows within the 20 s budget
    assert c.LEDGER_WARM_WRITE_UNITS >= 290_000 / 20


def test_given_the_http_import_then_its_timeout_is_the_gateways_and_its_budget_leaves_time_to_reply(resources):
    from recaudo.settings import CobranzasSettings

    (fn,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("Handler", "").startswith("cobranzas.importar_csv")
    ]
    assert fn["Timeout"] == c.COBRANZAS_HTTP_IMPORT_TIMEOUT_SECONDS == 29
    env = fn["Environment"]["Variables"]
    budget = float(
        env.get("HTTP_IMPORT_BUDGET_SECONDS", CobranzasSettings.model_fields["http_import_budget_seconds"].default)
    )
    assert budget <= fn["Timeout"] - 6  # in-flight batches, the report and the reply
    assert int(env.get("IMPORT_WRITERS", CobranzasSettings.model_fields["import_writers"].default)) >= 8
