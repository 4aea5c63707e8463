"""GET /v1/integracion-conectividad/saldos-persona (by codigoConvenio; carrito adds the transaction fields)"""

from conectividad import params, queries
from recaudo.models.conectividad import SaldoReply
from recaudo.observability import lambda_handler
from recaudo.rest import conectividad_resolver, json_response, ok_responses

app = conectividad_resolver()


@app.get(
    "/v1/integracion-conectividad/saldos-persona",
    tags=["Conectividad"],
    responses=ok_responses(list[SaldoReply], "Saldos pendientes"),
)
def saldos_persona(
    codigoConvenio: params.CodigoConvenio,
    identificacion: params.Identificacion,
    fechaLimite: params.FechaLimite = None,
):
    return json_response(queries.saldos_persona(identificacion, codigoConvenio, params.fecha_limite(fechaLimite)))


handler = lambda_handler(app.resolve)
