"""GET /wssb/admin/paymentDue;contextId=<JSON>: a school's dues for the year (our extension)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from cuotas.cuotas import consultar as consultar_cuotas
from cuotas.peticion import contexto_de, empresa
from recaudo.formats.cuotas import payment_due
from recaudo.rest import uno_handler, uno_resolver, uno_responses, xml_response

app = uno_resolver()

RECURSO = Annotated[
    str,
    Path(description='paymentDue;contextId=<JSON URL-encoded: {"businessId":10,"schoolId":6498,"schoolYearId":64}>'),
]


@app.get(
    "/wssb/admin/<recurso>",
    tags=["Sistema UNO"],
    summary="Consultar cuotas configuradas (extensión)",
    responses=uno_responses("<paymentDue> con cada <due id=…>, válido según paymentDue.xsd"),
)
def consultar(recurso: RECURSO):
    return xml_response(payment_due(consultar_cuotas(empresa(app), contexto_de(recurso))))


handler = uno_handler(app)
