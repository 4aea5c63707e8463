"""recaudo.emf writes the EMF lines Powertools' Metrics wrote: the same calls, through both, print the
same documents (but for the timestamp), so the alarms and dashboards read what they read before."""

from __future__ import annotations

import importlib
import json
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.metrics import Metrics as PowertoolsMetrics
from aws_lambda_powertools.metrics import MetricUnit as PowertoolsUnit
from aws_lambda_powertools.metrics.exceptions import MetricValueError
from aws_lambda_powertools.metrics.provider import cold_start
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.exceptions import MetricNameError, MetricUnitError

from recaudo.emf import MetricError, Metrics, MetricUnit
from tests.helpers import LambdaContext

NAMESPACE, SERVICE = "Recaudo", "recaudo-conectividad"

Invocation = Callable[[Any], Any]  # gets the metrics object, returns or raises


class Boom(Exception):
    pass


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV", "POWERTOOLS_METRICS_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)


def _powertools() -> Any:
    metrics = PowertoolsMetrics(namespace=NAMESPACE, service=SERVICE)
    metrics.clear_metrics()  # its metric set is shared by every instance
    cold_start.is_cold_start = True
    return metrics


def _lines(out: str) -> list[dict[str, Any]]:
    docs = [json.loads(line) for line in out.splitlines() if line.strip()]
    for doc in docs:
        assert isinstance(doc["_aws"].pop("Timestamp"), int)
    return docs


def _run(metrics: Any, wrap: Callable[[Any], Any], invocations: list[Invocation], capsys: Any) -> list[Any]:
    capsys.readouterr()
    for invocation in invocations:

        def handler(event: Any, context: Any, invocation: Invocation = invocation) -> Any:
            return invocation(metrics)

        with warnings.catch_warnings(), pytest.raises(Boom) if invocation.__name__ == "raises" else nullcontext():
            warnings.simplefilter("ignore")
            wrap(handler)({}, LambdaContext())
    return _lines(capsys.readouterr().out)


def _both(invocations: list[Invocation], capsys: Any) -> tuple[list[Any], list[Any]]:
    ours = Metrics(namespace=NAMESPACE, service=SERVICE)
    theirs = _powertools()
    mine = _run(ours, ours.log_metrics, invocations, capsys)
    powertools = _run(
        theirs,
        theirs.log_metrics(capture_cold_start_metric=True, raise_on_empty_metrics=False),
        invocations,
        capsys,
    )
    return mine, powertools


def _units(metrics: Any) -> Any:
    return PowertoolsUnit if isinstance(metrics, PowertoolsMetrics) else MetricUnit


def pago(metrics: Any) -> dict[str, int]:
    metrics.add_metric(name="PagoAplicado", unit=_units(metrics).Count, value=1)
    metrics.add_metric(name="PagoAplicado", unit="Count", value=2)
    metrics.add_metric(name="Latencia", unit="Milliseconds", value=Decimal("12.5"))
    metrics.add_metric(name=" Http200 ", unit="Count/Second", value=True)
    metrics.add_metric(name="Bytes", unit="BytesPerSecond", value=3)  # a unit by its member's name
    metrics.add_metric(name="Nada", unit="NoUnit", value=0)
    return {"statusCode": 200}


def nada(metrics: Any) -> None:
    return None


def raises(metrics: Any) -> None:
    metrics.add_metric(name="Intento", unit="Count", value=1)
    raise Boom


def cien_metricas(metrics: Any) -> None:
    for i in range(130):
        metrics.add_metric(name=f"M{i}", unit="Count", value=i)


def cien_valores(metrics: Any) -> None:
    for i in range(150):
        metrics.add_metric(name="Lote", unit="Count", value=i)
    metrics.add_metric(name="Otra", unit="Count", value=1)


def test_given_invocations_with_metrics_none_and_units_by_name_then_the_lines_are_powertools_lines(capsys):
    # Given a first invocation with repeated, Decimal and boolean values, one with none, one more
    mine, powertools = _both([pago, nada, pago], capsys)
    # Then the same documents: ColdStart on its own line first, then each invocation's metrics
    assert mine == powertools
    assert [list(doc)[1:] for doc in mine] == [
        ["function_name", "service", "ColdStart"],
        ["service", "PagoAplicado", "Latencia", "Http200", "Bytes", "Nada"],
        ["service", "PagoAplicado", "Latencia", "Http200", "Bytes", "Nada"],
    ]
    assert mine[1]["PagoAplicado"] == [1.0, 2.0]
    assert mine[0]["function_name"] == "test-function"
    assert mine[1]["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": NAMESPACE,
            "Dimensions": [["service"]],
            "Metrics": [
                {"Name": "PagoAplicado", "Unit": "Count"},
                {"Name": "Latencia", "Unit": "Milliseconds"},
                {"Name": "Http200", "Unit": "Count/Second"},
                {"Name": "Bytes", "Unit": "Bytes/Second"},
                {"Name": "Nada", "Unit": "None"},
            ],
        }
    ]


def test_given_a_first_invocation_that_raises_then_its_metrics_go_out_and_coldstart_waits_for_one_that_returns(
    capsys,
):
    mine, powertools = _both([raises, pago, pago], capsys)
    assert mine == powertools
    assert [("ColdStart" in doc, "Intento" in doc) for doc in mine] == [
        (False, True),
        (True, False),
        (False, False),
        (False, False),
    ]


@pytest.mark.parametrize("invocation", [cien_metricas, cien_valores])
def test_given_100_metrics_or_100_values_then_a_line_goes_out_at_once_as_powertools_sends_it(capsys, invocation):
    mine, powertools = _both([invocation], capsys)
    assert mine == powertools
    assert len(mine) == 3  # the full set, ColdStart, the rest


@pytest.mark.parametrize(
    ("env", "lines"),
    [
        # Off means off: Powertools still wrote ColdStart (its single_metric does not ask), we write nothing
        ({"POWERTOOLS_METRICS_DISABLED": "true"}, 0),
        ({"POWERTOOLS_DEV": "true"}, 0),
        ({"POWERTOOLS_DEV": "true", "POWERTOOLS_METRICS_DISABLED": "false"}, 4),
        ({"POWERTOOLS_METRICS_FUNCTION_NAME": "pagos-prod"}, 4),
    ],
)
def test_given_the_powertools_switches_then_the_lines_follow_them_as_in_powertools(capsys, monkeypatch, env, lines):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    mine, powertools = _both([pago, nada, pago, pago], capsys)
    if lines:
        assert mine == powertools
    else:
        assert [list(doc)[-1] for doc in powertools] == ["ColdStart"]
    assert len(mine) == lines
    if "POWERTOOLS_METRICS_FUNCTION_NAME" in env:
        assert mine[0]["function_name"] == "pagos-prod"


def test_given_the_environment_then_namespace_and_service_come_from_powertools_variables(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Otro")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "recaudo-cps")
    metrics = Metrics()
    metrics.add_metric(name="X", unit="Count", value=1)
    before = time.time_ns() // 1_000_000
    metrics.flush()
    after = time.time_ns() // 1_000_000
    (doc,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Otro"
    assert doc["service"] == "recaudo-cps"
    assert before <= doc["_aws"]["Timestamp"] <= after  # milliseconds since the epoch, at the flush


def test_given_no_namespace_when_metrics_go_out_then_refused_as_powertools_refuses(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    metrics = Metrics(service=SERVICE)
    metrics.add_metric(name="X", unit="Count", value=1)
    with pytest.raises(MetricError, match="namespace"):
        metrics.flush()


@pytest.mark.parametrize(
    ("name", "unit", "value"),
    [
        ("", "Count", 1),
        (" ", "Count", 1),
        ("x" * 256, "Count", 1),
        ("X", "Cuenta", 1),
        ("X", "Count", "1"),
    ],
)
def test_given_a_metric_cloudwatch_would_not_take_then_refused_by_both_and_nothing_is_kept(name, unit, value):
    ours = Metrics(namespace=NAMESPACE, service=SERVICE)
    with pytest.raises(MetricError):
        ours.add_metric(name=name, unit=unit, value=value)
    with pytest.raises((MetricNameError, MetricUnitError, MetricValueError)):
        _powertools().add_metric(name=name, unit=unit, value=value)
    assert ours._set == {}


def test_given_provisioned_concurrency_then_no_coldstart_line_as_in_powertools(capsys, monkeypatch):
    # Given an environment whose init ran ahead of any request (Powertools reads this at its import)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    importlib.reload(cold_start)
    try:
        ours = Metrics(namespace=NAMESPACE, service=SERVICE)
        theirs = PowertoolsMetrics(namespace=NAMESPACE, service=SERVICE)
        theirs.clear_metrics()
        mine = _run(ours, ours.log_metrics, [pago, pago], capsys)
        powertools = _run(
            theirs,
            theirs.log_metrics(capture_cold_start_metric=True, raise_on_empty_metrics=False),
            [pago, pago],
            capsys,
        )
    finally:
        monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE")
        importlib.reload(cold_start)
    # Then the invocations' lines only, in both
    assert mine == powertools
    assert [("ColdStart" in doc) for doc in mine] == [False, False]


def test_given_powertools_own_unit_enum_then_it_is_taken_as_its_value(capsys):
    metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
    metrics.add_metric(name="X", unit=PowertoolsUnit.Milliseconds, value=5)
    metrics.flush()
    (doc,) = _lines(capsys.readouterr().out)
    assert doc["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "X", "Unit": "Milliseconds"}]


def test_given_the_decorator_stack_then_every_reply_counts_its_status_in_the_context_namespace(capsys, monkeypatch):
    from recaudo.observability import lambda_handler, metrics

    monkeypatch.setattr(metrics, "_cold", True)
    capsys.readouterr()
    handler = lambda_handler(lambda event, context: {"statusCode": 404})
    handler({}, LambdaContext())
    handler({}, LambdaContext())
    docs = _lines(capsys.readouterr().out)
    assert [doc.get("Http404") for doc in docs] == [None, [1.0], [1.0]]
    assert {doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] for doc in docs} == {"RecaudoTest"}
    assert docs[1]["service"] == "recaudo-test"


def test_given_the_counting_port_of_radian_and_uno_when_it_counts_then_the_invocation_line_carries_a_count(
    capsys, monkeypatch
):
    from recaudo import observability

    # Given the port the RADIAN poller and the UNO endpoints count through, over a container's metric set
    metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
    monkeypatch.setattr(observability, "metrics", metrics)
    # When it counts twice in one invocation
    observability.MetricasEmf().count("Sondeos", 3)
    observability.MetricasEmf().count("Sondeos")
    metrics.flush()
    # Then one line carries both values as a Count
    (doc,) = _lines(capsys.readouterr().out)
    assert doc["Sondeos"] == [3.0, 1.0]
    assert doc["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "Sondeos", "Unit": "Count"}]
