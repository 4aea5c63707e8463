"""POST /wssb/admin/paymentDue;contextId=<JSON>: configure a school's dues (seed 004)."""

from cuotas.cuotas import configurar as configurar_cuotas
from cuotas.peticion import Recurso, contexto_de, cuerpo, empresa
from recaudo.formats.cuotas import create_response, parse_payment_due
from recaudo.rest import uno_handler, uno_resolver, uno_responses, xml_response

app = uno_resolver()


@app.post(
    "/wssb/admin/<recurso>",
    tags=["Sistema UNO"],
    summary="Configurar cuotas (paymentDue)",
    responses=uno_responses("createResponse: un <create id statusCode> por <due>, en orden"),
)
def configurar(recurso: Recurso):
    ctx = contexto_de(recurso)
    cuotas = parse_payment_due(cuerpo(app))
    resultados = configurar_cuotas(empresa(app), ctx, cuotas)
    return xml_response(create_response(resultados, app.current_event.request_context.request_id or ""))


handler = uno_handler(app)
