"""DELETE /radian/v1/facturas/{cufe}: stop tracking an invoice (its stored events go with it)."""

from radian.consultar import Cufe
from radian.peticion import tenant
from radian.seguimiento import eliminar as eliminar_factura
from recaudo.models.radian import EliminadaReply
from recaudo.observability import lambda_handler
from recaudo.rest import radian_json, radian_resolver, radian_responses

app = radian_resolver()


@app.delete(
    "/v1/facturas/<cufe>",
    tags=["RADIAN"],
    summary="Dejar de seguir una factura",
    responses=radian_responses(EliminadaReply, "Ya no se sigue"),
)
def eliminar(cufe: Cufe):
    return radian_json(eliminar_factura(tenant(app), cufe))


handler = lambda_handler(app.resolve)
