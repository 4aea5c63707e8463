"""GET /v1/integracion-conectividad/verificar-pago?numeroFactura: 200 if a confirmed, unreversed payment exists, else 404."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from conectividad import pagos
from recaudo.errors import CodigoRespuesta, error_body
from recaudo.observability import lambda_handler
from recaudo.rest import conectividad_resolver, json_response, ok_responses

app = conectividad_resolver()
NumeroFactura = Annotated[int, Query(ge=1, lt=10**20, description="Número de factura")]


@app.get(
    "/v1/integracion-conectividad/verificar-pago",
    tags=["Conectividad"],
    responses=ok_responses(dict, "La factura tiene un pago"),
)
def verificar_pago(numeroFactura: NumeroFactura):
    if pagos.verificar_pago(numeroFactura):
        return json_response({"numeroFactura": numeroFactura, **error_body(CodigoRespuesta.EJECUCION_CORRECTA)})
    return json_response(error_body(CodigoRespuesta.SIN_FACTURAS_PENDIENTES, "no se encontró la factura"), 404)


handler = lambda_handler(app.resolve)
