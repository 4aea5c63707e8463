"""POST /radian/v1/facturas: start tracking one or many invoices (CUFEs)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from radian.peticion import tenant
from radian.seguimiento import registrar as registrar_facturas
from recaudo.models.radian import RegistroReply, RegistroRequest
from recaudo.observability import lambda_handler
from recaudo.rest import radian_json, radian_resolver, radian_responses

app = radian_resolver()


@app.post(
    "/v1/facturas",
    tags=["RADIAN"],
    summary="Seguir facturas",
    responses=radian_responses(RegistroReply, "Al menos una nueva (REGISTRADA); 200 si todas ya se seguían", 201),
)
def registrar(solicitud: Annotated[RegistroRequest, Body()]):
    status, reply = registrar_facturas(tenant(app), solicitud)
    return radian_json(reply, status)


handler = lambda_handler(app.resolve)
