"""GET /v1/integracion-conectividad/verificar-pago?numeroFactura: 200 if this bank has a confirmed,
unreversed payment of the invoice (or its cart with that number), 202 while one is being applied, else 404."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from conectividad import pagos
from recaudo.errors import CodigoRespuesta, error_body
from recaudo.idempotency import EnCurso
from recaudo.models.pagos import APLICADO, CONFIRMADO
from recaudo.observability import lambda_handler
from recaudo.rest import authorizer_value, conectividad_resolver, json_response, ok_responses

app = conectividad_resolver()
NumeroFactura = Annotated[int, Query(ge=1, lt=10**20, description="Número de factura")]


@app.get(
    "/v1/integracion-conectividad/verificar-pago",
    tags=["Conectividad"],
    responses=ok_responses(dict, "La factura tiene un pago", in_progress=True),
)
def verificar_pago(numeroFactura: NumeroFactura):
    estado = pagos.verificar_pago(numeroFactura, authorizer_value(app, "codigoBanco"))
    if estado == CONFIRMADO:
        return json_response({"numeroFactura": numeroFactura, **error_body(CodigoRespuesta.EJECUCION_CORRECTA)})
    if estado == APLICADO:
        raise EnCurso(f"el pago de la factura {numeroFactura} se está aplicando; consulte de nuevo en unos segundos")
    return json_response(
        {
            "codigoRespuesta": int(CodigoRespuesta.SIN_FACTURAS_PENDIENTES),
            "descripcion": f"Pago no encontrado: este banco no tiene un pago vigente de la factura {numeroFactura}",
        },
        404,
    )


handler = lambda_handler(app.resolve)
