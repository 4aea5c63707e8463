"""The three by-type saldos endpoints (total, parcial, vencido) differ only in the convenio type."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from conectividad import params, queries
from recaudo.models.conectividad import SaldoReply
from recaudo.models.ledger import TipoConvenio
from recaudo.observability import Handler, lambda_handler
from recaudo.rest import conectividad_resolver, json_response, ok_responses


def build(tipo: TipoConvenio) -> tuple[APIGatewayRestResolver, Handler]:
    """The resolver and Lambda handler of GET /v1/integracion-conectividad/saldos-<tipo>-persona."""
    app = conectividad_resolver()

    def saldos_por_tipo(
        identificacion: params.IdentificacionOpcional = None,
        idDeudor: params.IdDeudor = None,
        fechaLimite: params.FechaLimite = None,
    ):
        deudor = params.deudor(identificacion, idDeudor)
        return json_response(queries.saldos_por_tipo(deudor, tipo, params.fecha_limite(fechaLimite)))

    saldos_por_tipo.__name__ = f"saldos_{tipo.value}_persona"
    app.get(
        f"/v1/integracion-conectividad/saldos-{tipo.value}-persona",
        tags=["Conectividad"],
        responses=ok_responses(list[SaldoReply], f"Saldos pendientes del convenio {tipo.value}"),
    )(saldos_por_tipo)
    return app, lambda_handler(app.resolve)
