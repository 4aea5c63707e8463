"""GET /v1/integracion-conectividad/obtener-persona"""

from conectividad import params, queries
from recaudo.models.conectividad import PersonaReply
from recaudo.observability import lambda_handler
from recaudo.rest import conectividad_resolver, json_response, ok_responses

app = conectividad_resolver()


@app.get(
    "/v1/integracion-conectividad/obtener-persona",
    tags=["Conectividad"],
    responses=ok_responses(PersonaReply, "La persona"),
)
def obtener_persona(identificacion: params.Identificacion):
    return json_response(queries.obtener_persona(identificacion))


handler = lambda_handler(app.resolve)
