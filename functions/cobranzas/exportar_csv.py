"""GET|POST /api2/cobranzas/exportar/csv: the collections' state as plain CSV, inline."""

from cobranzas.exportacion_endpoint import register
from recaudo.observability import lambda_handler
from recaudo.rest import cobranzas_resolver

app = cobranzas_resolver()
register(app, "/cobranzas/exportar/csv", "Estado de las cobranzas en CSV plano", attachment=False)

handler = lambda_handler(app.resolve)
