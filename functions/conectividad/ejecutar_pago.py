"""POST /v1/integracion-conectividad/ejecutar-pago (the convenio decides; carrito takes transacciones)"""

from conectividad.pago_endpoint import build
from recaudo.models.ledger import TipoConvenio  # noqa: F401

app, handler = build(None)
