"""The schedule's target: slice the due invoices into batches and start one polling run."""

from typing import Any

from radian.sondeo import planificar
from recaudo.observability import lambda_handler


def _planificar(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return planificar()


handler = lambda_handler(_planificar, correlation_id_path=None)
