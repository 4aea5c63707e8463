"""GET /cps/v2/operation/get/balance: a service's balance, for services that can report one."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from recargas.peticion import solicitud_firmada
from recargas.recargas import saldo
from recaudo.models.recargas import NUMERO, SaldoReply
from recaudo.observability import lambda_handler
from recaudo.rest import json_response, recargas_resolver, recargas_responses

app = recargas_resolver()


@app.get(
    "/v2/operation/get/balance",
    tags=["CPS"],
    summary="Consulta de saldo de un servicio",
    responses=recargas_responses(SaldoReply, "El saldo"),
)
def get(
    numberService: Annotated[str, Query(pattern=NUMERO.pattern, description="conserva los ceros a la izquierda")],
    idTypeService: Annotated[int, Query(gt=0, description="id del catálogo con canGetBalance=true")],
):
    return json_response(saldo(solicitud_firmada(app), numberService, idTypeService))


handler = lambda_handler(app.resolve)
