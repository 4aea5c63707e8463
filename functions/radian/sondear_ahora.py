"""POST /radian/v1/facturas/{cufe}/sondeo: poll one invoice now ("poll now")."""

from radian.consultar import Cufe
from radian.peticion import tenant
from radian.seguimiento import sondear_ahora as sondear_factura
from recaudo.models.radian import SondeoReply
from recaudo.observability import lambda_handler
from recaudo.rest import radian_json, radian_resolver, radian_responses

app = radian_resolver()


@app.post(
    "/v1/facturas/<cufe>/sondeo",
    tags=["RADIAN"],
    summary="Sondear una factura ya",
    responses=radian_responses(SondeoReply, "Sondeo en curso: consulte la factura en unos segundos", 202),
)
def sondear_ahora(cufe: Cufe):
    return radian_json(sondear_factura(tenant(app), cufe), 202)


handler = lambda_handler(app.resolve)
