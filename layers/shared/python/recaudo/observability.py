"""One Logger, Tracer and Metrics for every function, and the one decorator stack for handlers."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from recaudo import snapstart  # noqa: F401 (registers SnapStart's runtime hooks)

# An invocation that ends in an error may publish no business metric; that is expected, not a fault.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

logger = Logger()
# auto_patch=False: patching every boto/httpx call costs cold-start time; we trace explicitly.
tracer = Tracer(auto_patch=False)
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], Any]


def lambda_handler(resolve: Handler, correlation_id_path: str | None = correlation_paths.API_GATEWAY_REST) -> Handler:
    """The decorator stack every handler uses: correlation-id logging, tracing and metrics.

    The event is never logged: it carries the ``Authorization`` header and form secrets.
    """

    @logger.inject_lambda_context(correlation_id_path=correlation_id_path, log_event=False, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True, raise_on_empty_metrics=False)
    def handler(event: dict[str, Any], context: Any) -> Any:
        result = resolve(event, context)
        if isinstance(result, dict) and "statusCode" in result:
            metrics.add_metric(name=f"Http{result['statusCode']}", unit=MetricUnit.Count, value=1)
        return result

    return handler
