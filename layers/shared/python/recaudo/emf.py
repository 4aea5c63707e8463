"""CloudWatch metrics as Embedded Metric Format lines on stdout, written directly.

The lines are those Powertools' ``Metrics.log_metrics(capture_cold_start_metric=True)`` wrote, key for
key (``tests/unit/test_emf.py`` compares both on the same calls), because the alarms read them
(``infra/constructs/operacion.py``: namespace ``POWERTOOLS_METRICS_NAMESPACE``, dimension ``service`` =
``POWERTOOLS_SERVICE_NAME``):

- one line per invocation with every metric it added, in the order added, each with its values as a list
  of floats, and the ``service`` dimension;
- the ``ColdStart`` metric on its own line, dimensions ``function_name`` and ``service``, after the first
  invocation that returns (one that raises leaves it for the next, as Powertools does); never in a
  provisioned-concurrency environment (``AWS_LAMBDA_INITIALIZATION_TYPE``), whose init ran ahead of any
  request;
- a metric set that reaches 100 metrics, or a metric that reaches 100 values, goes out at once (the EMF
  limits), and the invocation goes on with an empty set;
- nothing when ``POWERTOOLS_METRICS_DISABLED`` is true (or ``POWERTOOLS_DEV`` is true and it is unset),
  and the set is still emptied after each invocation (Powertools, disabled, still wrote ColdStart and the
  lines at 100, and kept adding to a set it never emptied); nothing for an invocation that added no
  metric.

Powertools' Metrics cost ~55 µs of every request (docs/benchmarks.md) for what a dict and one JSON
encoder do in a few; this module needs nothing beyond the standard library.
"""

from __future__ import annotations

import functools
import json
import numbers
import os
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

MAX_METRICS = 100  # distinct metrics per line, and values per metric (EMF)
MAX_NAME = 255
_TRUE = {"1", "true", "yes", "on", "y", "t"}
# Compact JSON for telemetry lines (these and recaudo.tracing's datagrams), built once: json.dumps with
# any non-default option builds a new encoder per call.
COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), check_circular=False)


class MetricUnit(StrEnum):
    """CloudWatch's units (the values Powertools' ``MetricUnit`` carries)."""

    Seconds = "Seconds"
    Microseconds = "Microseconds"
    Milliseconds = "Milliseconds"
    Bytes = "Bytes"
    Kilobytes = "Kilobytes"
    Megabytes = "Megabytes"
    Gigabytes = "Gigabytes"
    Terabytes = "Terabytes"
    Bits = "Bits"
    Kilobits = "Kilobits"
    Megabits = "Megabits"
    Gigabits = "Gigabits"
    Terabits = "Terabits"
    Percent = "Percent"
    Count = "Count"
    BytesPerSecond = "Bytes/Second"
    KilobytesPerSecond = "Kilobytes/Second"
    MegabytesPerSecond = "Megabytes/Second"
    GigabytesPerSecond = "Gigabytes/Second"
    TerabytesPerSecond = "Terabytes/Second"
    BitsPerSecond = "Bits/Second"
    KilobitsPerSecond = "Kilobits/Second"
    MegabitsPerSecond = "Megabits/Second"
    GigabitsPerSecond = "Gigabits/Second"
    TerabitsPerSecond = "Terabits/Second"
    CountPerSecond = "Count/Second"
    NoUnit = "None"


_UNITS = {unit.value: unit.value for unit in MetricUnit} | {unit.name: unit.value for unit in MetricUnit}


class MetricError(ValueError):
    """A metric CloudWatch would not take: a bad name, unit or value, or no namespace."""


def env_true(name: str) -> bool:
    """A Powertools switch (``POWERTOOLS_*_DISABLED``, ``POWERTOOLS_DEV``) read as Powertools reads it."""
    return os.getenv(name, "false").strip().lower() in _TRUE


def disabled() -> bool:
    """Powertools' rule: ``POWERTOOLS_METRICS_DISABLED`` true, or ``POWERTOOLS_DEV`` true with it unset."""
    return env_true("POWERTOOLS_METRICS_DISABLED") or (
        env_true("POWERTOOLS_DEV") and os.getenv("POWERTOOLS_METRICS_DISABLED") is None
    )


class Metrics:
    """The container's metric set: ``add_metric`` during an invocation, ``log_metrics`` around the handler."""

    def __init__(self, namespace: str | None = None, service: str | None = None) -> None:
        self.namespace = namespace or os.getenv("POWERTOOLS_METRICS_NAMESPACE") or None
        self.service = service or os.getenv("POWERTOOLS_SERVICE_NAME") or None
        self._dimensions = {"service": self.service} if self.service else {}
        self.disabled = disabled()  # read once, like the namespace: a container's environment does not change
        self._set: dict[str, tuple[str, list[float]]] = {}
        self._cold = os.getenv("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"

    def add_metric(self, name: str, unit: MetricUnit | str, value: float) -> None:
        """One value of a metric (standard resolution); refused as Powertools refuses it."""
        name = name.strip()
        if not 1 <= len(name) <= MAX_NAME:
            raise MetricError(f"The metric name should be between 1 and {MAX_NAME} characters")
        if not isinstance(value, numbers.Number):
            raise MetricError(f"{value} is not a valid number")
        value_of_unit = getattr(unit, "value", unit)  # ours, Powertools' MetricUnit, or a string
        cloudwatch_unit = _UNITS.get(value_of_unit) if isinstance(value_of_unit, str) else None
        if cloudwatch_unit is None:
            raise MetricError(f"Invalid metric unit '{unit}', expected either option: {list(MetricUnit.__members__)}")
        entry = self._set.get(name)
        values: list[float] = entry[1] if entry else []
        self._set[name] = (cloudwatch_unit, values)  # the last unit given wins, as in Powertools
        values.append(float(value))
        if len(self._set) == MAX_METRICS or len(values) == MAX_METRICS:
            self._write(self._set, self._dimensions)
            self._set = {}

    def flush(self) -> None:
        """Write the invocation's metrics (if any) and start an empty set."""
        metric_set, self._set = self._set, {}
        if metric_set:
            self._write(metric_set, self._dimensions)

    def cold_start(self, context: Any) -> None:
        """The ``ColdStart`` metric, once per container."""
        if not self._cold:
            return
        function_name = os.getenv("POWERTOOLS_METRICS_FUNCTION_NAME") or context.function_name
        self._write({"ColdStart": ("Count", [1.0])}, {"function_name": function_name, **self._dimensions})
        self._cold = False

    def log_metrics(self, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """Around a handler: its metrics written when it ends (raised or not), ColdStart after the first
        invocation that returns."""

        @functools.wraps(handler)
        def decorate(event: Any, context: Any) -> Any:
            try:
                response = handler(event, context)
                self.cold_start(context)
            finally:
                self.flush()
            return response

        return decorate

    def _write(self, metric_set: dict[str, tuple[str, list[float]]], dimensions: dict[str, str]) -> None:
        if self.disabled:
            return
        if self.namespace is None:
            raise MetricError("Must contain a metric namespace.")
        line: dict[str, Any] = {
            "_aws": {
                "Timestamp": time.time_ns() // 1_000_000,
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [{"Name": name, "Unit": unit} for name, (unit, _) in metric_set.items()],
                    }
                ],
            },
            **dimensions,
        }
        for name, (_, values) in metric_set.items():
            line[name] = values
        print(COMPACT_JSON.encode(line))
