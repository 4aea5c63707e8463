"""POST /v1/integracion-conectividad/reversar-pago: replies 0, also when the payment was already reversed."""

from typing import Literal

from aws_lambda_powertools.event_handler import Response, content_types

from conectividad import reversas
from recaudo.models.conectividad import ReversaRequest
from recaudo.observability import lambda_handler
from recaudo.rest import ErrorShape, authorizer_value, conectividad_resolver, ok_responses

app = conectividad_resolver(ErrorShape.CODE)  # refusals are the bare code too (5, 4, 1)


@app.post(
    "/v1/integracion-conectividad/reversar-pago",
    tags=["Conectividad"],
    responses=ok_responses(
        Literal[0],
        "0: pago reversado (o ya lo estaba)",
        ErrorShape.CODE,
        headers={
            "X-Recaudo-Reversa": {
                "description": "aplicada: esta solicitud reversó el pago; previa: ya estaba reversado, nada cambió",
                "required": True,
                "schema": {"type": "string", "enum": ["aplicada", "previa"]},
            }
        },
    ),
)
def reversar_pago(reversa: ReversaRequest):
    result = reversas.reversar_pago(
        reversa,
        authorizer_value(app, "codigoBanco"),
        lambda_context=app.lambda_context,
        key_id=authorizer_value(app, "keyId"),
    )
    # The documented reply is the bare 0; the header tells a first reversal from a repeated one.
    return Response(200, content_types.APPLICATION_JSON, "0", headers={"X-Recaudo-Reversa": result})


handler = lambda_handler(app.resolve)
