"""GET /wssb/admin/paymentDue;contextId=<JSON>: a school's dues for the year (our extension)."""

from cuotas.cuotas import consultar as consultar_cuotas
from cuotas.peticion import Recurso, contexto_de, empresa
from recaudo.formats.cuotas import payment_due
from recaudo.rest import uno_handler, uno_resolver, uno_responses, xml_response

app = uno_resolver()


@app.get(
    "/wssb/admin/<recurso>",
    tags=["Sistema UNO"],
    summary="Consultar cuotas configuradas (extensión)",
    responses=uno_responses("<paymentDue> con cada <due id=…>, válido según paymentDue.xsd"),
)
def consultar(recurso: Recurso):
    return xml_response(payment_due(consultar_cuotas(empresa(app), contexto_de(recurso))))


handler = uno_handler(app)
