"""GET /radian/v1/facturas/{cufe}: the invoice's badges and its event history."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from radian.peticion import tenant
from radian.seguimiento import consultar as consultar_factura
from recaudo.models.radian import FacturaReply
from recaudo.observability import lambda_handler
from recaudo.rest import radian_json, radian_resolver, radian_responses

app = radian_resolver()
Cufe = Annotated[str, Path(max_length=200, description="96 caracteres hexadecimales (mayúsculas o minúsculas)")]


@app.get(
    "/v1/facturas/<cufe>",
    tags=["RADIAN"],
    summary="Estado e historial de una factura",
    responses=radian_responses(FacturaReply, "Insignias (un conjunto) y eventos por fecha y numero"),
)
def consultar(cufe: Cufe):
    return radian_json(consultar_factura(tenant(app), cufe))


handler = lambda_handler(app.resolve)
