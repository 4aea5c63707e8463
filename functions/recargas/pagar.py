"""POST /cps/v2/operation/use/pay: a signed top-up; the outcome, or 202 "en proceso" with its id."""

from recargas.peticion import solicitud_firmada
from recargas.recargas import pagar
from recaudo.models.recargas import RecargaReply
from recaudo.observability import lambda_handler
from recaudo.rest import recargas_reply, recargas_resolver, recargas_responses

app = recargas_resolver()


@app.post(
    "/v2/operation/use/pay",
    tags=["CPS"],
    summary="Recarga de saldo de un servicio básico",
    description="Body firmado: {numberService (texto), idTypeService, amount}. Encabezados api-key, api-nonce, "
    "api-signature e Idempotency-Key (opcional). 200 con el resultado; 202 en proceso con idOperacion.",
    responses=recargas_responses(RecargaReply, "El resultado de la recarga (CONFIRMADA o FALLIDA)", accepted=True),
)
def post():
    return recargas_reply(pagar(solicitud_firmada(app)))


handler = lambda_handler(app.resolve)
