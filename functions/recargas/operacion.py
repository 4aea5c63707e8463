"""GET /cps/v2/operation/{idOperacion} (our extension): a top-up's state, for the channel that made it."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from recargas.peticion import solicitud_firmada
from recargas.recargas import consultar
from recaudo.models.recargas import RecargaReply
from recaudo.observability import lambda_handler
from recaudo.rest import recargas_reply, recargas_resolver, recargas_responses

app = recargas_resolver()


@app.get(
    "/v2/operation/<idOperacion>",
    tags=["CPS"],
    summary="Estado de una recarga (extensión)",
    responses=recargas_responses(
        RecargaReply, "La recarga: CONFIRMADA, FALLIDA; 202 si sigue en proceso", accepted=True
    ),
)
def get(idOperacion: Annotated[str, Path(pattern=r"^rc[0-9a-f]{32}$")]):
    return recargas_reply(consultar(solicitud_firmada(app), idOperacion))


handler = lambda_handler(app.resolve)
