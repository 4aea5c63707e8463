"""The four ejecutar-pago endpoints differ only in the convenio type they accept."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from conectividad import pagos
from recaudo.models.conectividad import PagoItemReply, PagoRequest
from recaudo.models.ledger import TipoConvenio
from recaudo.observability import Handler, lambda_handler
from recaudo.rest import authorizer_value, conectividad_resolver, ok_responses


def build(tipo: TipoConvenio | None) -> tuple[APIGatewayRestResolver, Handler]:
    """The resolver and handler of POST /v1/integracion-conectividad/ejecutar-pago[-<tipo>]."""
    app = conectividad_resolver()
    suffix = f"-{tipo.value}" if tipo else ""

    def ejecutar_pago(pago: PagoRequest):
        body = pagos.ejecutar_pago(pago, tipo, authorizer_value(app, "codigoBanco"), lambda_context=app.lambda_context)
        return Response(200, content_types.APPLICATION_JSON, body)

    ejecutar_pago.__name__ = f"ejecutar_pago{suffix.replace('-', '_')}"
    app.post(
        f"/v1/integracion-conectividad/ejecutar-pago{suffix}",
        tags=["Conectividad"],
        responses=ok_responses(list[PagoItemReply], "Pago aplicado; en carrito solo numeroFactura y codigoRespuesta"),
    )(ejecutar_pago)
    return app, lambda_handler(app.resolve)
