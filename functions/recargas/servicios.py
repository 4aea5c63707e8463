"""GET /cps/v2/list/basic_services?canGetBalance=true|false: the catalogue (default false: all 20)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from recargas.peticion import solicitud_firmada
from recargas.recargas import servicios
from recaudo.models.recargas import ServicioReply
from recaudo.observability import lambda_handler
from recaudo.rest import json_response, recargas_resolver, recargas_responses

app = recargas_resolver()


@app.get(
    "/v2/list/basic_services",
    tags=["CPS"],
    summary="Servicios básicos",
    responses=recargas_responses(
        list[ServicioReply], "Los servicios; con canGetBalance=true, solo los que informan saldo"
    ),
)
def get(canGetBalance: Annotated[bool, Query(description="true: solo los que informan saldo")] = False):
    return json_response(servicios(solicitud_firmada(app), canGetBalance))


handler = lambda_handler(app.resolve)
