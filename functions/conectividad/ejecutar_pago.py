"""POST /v1/integracion-conectividad/ejecutar-pago (the convenio decides; carrito takes transacciones)"""

from conectividad.pago_endpoint import build

app, handler = build(None)
