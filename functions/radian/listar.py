"""GET /radian/v1/facturas?estado=&limite=&siguiente=: the tenant's invoices, by page."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from radian.peticion import tenant
from radian.seguimiento import listar as listar_facturas
from recaudo.models.radian import ListaReply
from recaudo.observability import lambda_handler
from recaudo.rest import radian_json, radian_resolver, radian_responses

app = radian_resolver()


@app.get(
    "/v1/facturas",
    tags=["RADIAN"],
    summary="Listar facturas seguidas",
    responses=radian_responses(ListaReply, "Una página; siguiente es null en la última"),
)
def listar(
    estado: Annotated[
        str | None, Query(max_length=40, description="Una insignia: Título Valor, TITULO_VALOR o titulo-valor")
    ] = None,
    limite: Annotated[int, Query(ge=1, le=100)] = 50,
    siguiente: Annotated[str | None, Query(max_length=1024, pattern=r"^[A-Za-z0-9_-]+$")] = None,
):
    return radian_json(listar_facturas(tenant(app), estado, limite, siguiente))


handler = lambda_handler(app.resolve)
