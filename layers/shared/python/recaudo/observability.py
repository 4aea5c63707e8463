"""One Logger, Tracer and Metrics for every function, and the one decorator stack for handlers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from recaudo import snapstart  # noqa: F401 (registers SnapStart's runtime hooks)
from recaudo.emf import Metrics, MetricUnit
from recaudo.tracing import HandlerTracer

logger = Logger()
# The handler's own X-Ray subsegment, without the X-Ray SDK (recaudo/tracing.py): what
# Tracer(auto_patch=False).capture_lambda_handler wrote, at a fraction of its cold and warm cost.
tracer = HandlerTracer()
# EMF lines written directly (recaudo/emf.py): the lines Powertools' Metrics wrote, at a fraction of their cost.
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], Any]


class MetricasEmf:
    """The ``Metricas`` port of the contexts whose logic counts events (RADIAN, UNO): each count is a
    ``Count`` value in the invocation's EMF line."""

    def count(self, name: str, value: int = 1) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


_PLAIN_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def _correlation_id(keys: tuple[str, ...], event: Any) -> Any:
    """The value at a dotted path of plain keys, or None: what JMESPath answers for such a path."""
    value = event
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def lambda_handler(resolve: Handler, correlation_id_path: str | None = correlation_paths.API_GATEWAY_REST) -> Handler:
    """The decorator stack every handler uses: correlation-id logging, tracing and metrics.

    The event is never logged: it carries the ``Authorization`` header and form secrets.
    A correlation path of plain keys (every one we use) is read directly, not through JMESPath:
    same value, without evaluating an expression on every request.
    """
    keys = (
        tuple(correlation_id_path.split(".")) if correlation_id_path and _PLAIN_PATH.match(correlation_id_path) else ()
    )
    jmespath_path = None if keys else correlation_id_path

    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> Any:
        result = resolve(event, context)
        if isinstance(result, dict) and "statusCode" in result:
            metrics.add_metric(name=f"Http{result['statusCode']}", unit=MetricUnit.Count, value=1)
        return result

    traced = tracer.trace(handler)

    @logger.inject_lambda_context(correlation_id_path=jmespath_path, log_event=False, clear_state=True)
    def logged(event: dict[str, Any], context: Any) -> Any:
        if keys:
            logger.set_correlation_id(_correlation_id(keys, event))
        return traced(event, context)

    logged.__name__ = "handler"
    return logged
