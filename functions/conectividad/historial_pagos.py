"""GET /v1/integracion-conectividad/historial-pagos?cedula&fechaInicio&fechaFinal (inclusive, dd/mm/yyyy)"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from conectividad import pagos, params
from recaudo.models.conectividad import HistorialReply
from recaudo.observability import lambda_handler
from recaudo.rest import authorizer_value, conectividad_resolver, json_response, ok_responses

app = conectividad_resolver()
Fecha = Annotated[str, Query(pattern=r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$", description="dd/mm/yyyy (inclusive)")]


@app.get(
    "/v1/integracion-conectividad/historial-pagos",
    tags=["Conectividad"],
    responses=ok_responses(list[HistorialReply], "Pagos confirmados"),
)
def historial_pagos(cedula: params.Identificacion, fechaInicio: Fecha, fechaFinal: Fecha):
    inicio = params.fecha("fechaInicio", fechaInicio)
    fin = params.fecha("fechaFinal", fechaFinal)
    return json_response(pagos.historial_pagos(cedula, inicio, fin, authorizer_value(app, "codigoBanco")))


handler = lambda_handler(app.resolve)
