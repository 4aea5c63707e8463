"""The polling run's Map task: poll one batch of invoices (``{"shard", "desde", "hasta"}`` or
``{"facturas": [{"tenant", "cufe"}]}``). afacturar refusing our token raises
``AfacturarNoAutenticado``, which ends the whole run."""

from typing import Any

from radian.sondeo import sondear_lote
from recaudo.observability import lambda_handler


def _sondear(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return sondear_lote(event)


handler = lambda_handler(_sondear, correlation_id_path=None)
