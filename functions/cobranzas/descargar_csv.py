"""GET|POST /api2/cobranzas/descargar/csv: the collections' state as a CSV file to download."""

from cobranzas.exportacion_endpoint import register
from recaudo.observability import lambda_handler
from recaudo.rest import cobranzas_resolver

app = cobranzas_resolver()
register(app, "/cobranzas/descargar/csv", "Descargar el estado de las cobranzas como archivo CSV", attachment=True)

handler = lambda_handler(app.resolve)
