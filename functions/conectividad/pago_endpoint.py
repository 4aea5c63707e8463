"""The four ejecutar-pago endpoints differ only in the convenio type they accept."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header

from conectividad import pagos
from recaudo.models.conectividad import PagoItemReply, PagoRequest
from recaudo.models.ledger import TipoConvenio
from recaudo.observability import Handler, lambda_handler
from recaudo.rest import ErrorShape, authorizer_value, conectividad_resolver, ok_responses

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Identifica el pago del banco: un reintento con la misma clave nunca paga dos veces "
        "(también tras una reversa); una clave nueva es un pago nuevo. Sin ella, el cuerpo idéntico es un reintento.",
    ),
]


def build(tipo: TipoConvenio | None) -> tuple[APIGatewayRestResolver, Handler]:
    """The resolver and handler of POST /v1/integracion-conectividad/ejecutar-pago[-<tipo>]."""
    app = conectividad_resolver(ErrorShape.ARRAY)  # refusals are the success's array too
    suffix = f"-{tipo.value}" if tipo else ""

    def ejecutar_pago(pago: PagoRequest, idempotency_key: IdempotencyKey = None):
        body = pagos.ejecutar_pago(
            pago,
            tipo,
            authorizer_value(app, "codigoBanco"),
            clave=idempotency_key,
            key_id=authorizer_value(app, "keyId"),
            lambda_context=app.lambda_context,
        )
        return Response(200, content_types.APPLICATION_JSON, body)

    ejecutar_pago.__name__ = f"ejecutar_pago{suffix.replace('-', '_')}"
    app.post(
        f"/v1/integracion-conectividad/ejecutar-pago{suffix}",
        tags=["Conectividad"],
        responses=ok_responses(
            list[PagoItemReply], "Pago aplicado; en carrito solo numeroFactura y codigoRespuesta", ErrorShape.ARRAY
        ),
    )(ejecutar_pago)
    return app, lambda_handler(app.resolve)
