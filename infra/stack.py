"""The stack only composes constructs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from infra import constants as c
from infra.constructs.api import GatewayReply, TokenRestApi, UsagePlanLimits
from infra.constructs.cobranzas import CobranzasConstruct
from infra.constructs.conectividad import ConectividadConstruct
from infra.constructs.cuotas import CuotasConstruct
from infra.constructs.data import DataConstruct
from infra.constructs.functions import layer_version
from infra.constructs.operacion import OperacionConstruct
from infra.constructs.radian import RadianConstruct
from infra.constructs.recargas import RecargasConstruct
from recaudo.errors import CodigoRespuesta, error_body

# API Gateway's own refusals, in the Conectividad dialect (codes 0-5). Always the object: a gateway
# response template is plain variable substitution, not VTL, so it cannot take ejecutar-pago's array or
# reversar-pago's bare code by route (docs/decisions.md, "Conectividad: error shapes").
CONECTIVIDAD_GATEWAY_REPLIES = {
    apigw.ResponseType.UNAUTHORIZED: GatewayReply("401", error_body(CodigoRespuesta.NO_AUTENTICADO)),
    apigw.ResponseType.ACCESS_DENIED: GatewayReply("401", error_body(CodigoRespuesta.NO_AUTENTICADO)),
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: GatewayReply(
        "404", error_body(CodigoRespuesta.PARAMETROS_INCORRECTOS, "ruta desconocida")
    ),
    apigw.ResponseType.BAD_REQUEST_PARAMETERS: GatewayReply(
        "400", error_body(CodigoRespuesta.PARAMETROS_INCORRECTOS, "faltan parámetros requeridos")
    ),
    apigw.ResponseType.THROTTLED: GatewayReply(
        "429", error_body(CodigoRespuesta.ERROR_SISTEMA, "demasiadas solicitudes")
    ),
    # without it DEFAULT_4XX's status would turn a body over 10 MB into a 400
    apigw.ResponseType.REQUEST_TOO_LARGE: GatewayReply(
        "413", error_body(CodigoRespuesta.PARAMETROS_INCORRECTOS, "cuerpo demasiado grande")
    ),
    # the bank's usage plan: no API key on its record (the operator runs `ops.admin bank-api-key`), or
    # its daily quota spent
    apigw.ResponseType.INVALID_API_KEY: GatewayReply(
        "403", error_body(CodigoRespuesta.NO_AUTENTICADO, "banco sin plan de uso asignado")
    ),
    apigw.ResponseType.QUOTA_EXCEEDED: GatewayReply(
        "429", error_body(CodigoRespuesta.ERROR_SISTEMA, "cuota diaria de solicitudes agotada")
    ),
    # a managed rule of the web ACL blocked the request (its size rule answers its own 413)
    apigw.ResponseType.WAF_FILTERED: GatewayReply(
        "403", error_body(CodigoRespuesta.PARAMETROS_INCORRECTOS, "solicitud rechazada por el firewall")
    ),
    apigw.ResponseType.DEFAULT_4_XX: GatewayReply("400", error_body(CodigoRespuesta.PARAMETROS_INCORRECTOS)),
    apigw.ResponseType.DEFAULT_5_XX: GatewayReply("500", error_body(CodigoRespuesta.ERROR_SISTEMA)),
}


# The Pay per TIC dialect: text, and every refusal starts with "ERROR:".
COBRANZAS_GATEWAY_REPLIES = {
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: GatewayReply("404", "ERROR: ruta desconocida"),
    apigw.ResponseType.REQUEST_TOO_LARGE: GatewayReply(
        "413",
        "ERROR: archivo demasiado grande para este endpoint: pida una URL de carga en /api2/cobranzas/importar/url",
    ),
    apigw.ResponseType.THROTTLED: GatewayReply("429", "ERROR: demasiadas solicitudes"),
    # Lambda refuses events over 6 MB (a ~4.4 MB file, base64 in the event) before our code runs.
    apigw.ResponseType.INTEGRATION_FAILURE: GatewayReply(
        "502",
        "ERROR: la solicitud no pudo procesarse; los archivos de más de 4 MB van por una URL de carga "
        "(/api2/cobranzas/importar/url)",
    ),
    apigw.ResponseType.DEFAULT_4_XX: GatewayReply("400", "ERROR: solicitud inválida"),
    apigw.ResponseType.DEFAULT_5_XX: GatewayReply("500", "ERROR: error interno; reintente más tarde"),
}


def _cps(codigo: str, mensaje: str) -> dict[str, str]:
    return {"codigo": codigo, "mensaje": mensaje}


# The CPS dialect: JSON, every refusal {"codigo", "mensaje"} (docs/decisions.md, "CPS").
RECARGAS_GATEWAY_REPLIES = {
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: GatewayReply("404", _cps("RUTA_DESCONOCIDA", "ruta desconocida")),
    apigw.ResponseType.REQUEST_TOO_LARGE: GatewayReply("413", _cps("SOLICITUD_INVALIDA", "solicitud demasiado grande")),
    apigw.ResponseType.THROTTLED: GatewayReply(
        "429", _cps("DEMASIADAS_SOLICITUDES", "demasiadas solicitudes; reintente")
    ),
    apigw.ResponseType.DEFAULT_4_XX: GatewayReply("400", _cps("SOLICITUD_INVALIDA", "solicitud inválida")),
    apigw.ResponseType.DEFAULT_5_XX: GatewayReply(
        "500", _cps("ERROR_INTERNO", "error interno; si envió una recarga, consulte su estado antes de reintentar")
    ),
}
CPS_SIGNATURE_REASON = (
    "The CPS document authenticates channels with an HMAC-SHA384 signature over the path, a nonce and the "
    "exact body (api-key, api-nonce, api-signature headers). API Gateway authorizers cannot read the body, so "
    "each function verifies the signature first, in constant time, and refuses a replayed nonce."
)


def _radian(codigo: str, mensaje: str) -> dict[str, str]:
    return {"codigo": codigo, "mensaje": mensaje}


# The RADIAN tracking dialect: JSON, every refusal {"codigo", "mensaje"} (docs/decisions.md, "RADIAN: API").
RADIAN_GATEWAY_REPLIES = {
    apigw.ResponseType.UNAUTHORIZED: GatewayReply(
        "401", _radian("NO_AUTENTICADO", "Authorization: Token <keyId>.<secreto> faltante o inválido")
    ),
    apigw.ResponseType.ACCESS_DENIED: GatewayReply("401", _radian("NO_AUTENTICADO", "token no autorizado")),
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: GatewayReply(
        "404", _radian("RUTA_DESCONOCIDA", "ruta desconocida")
    ),
    apigw.ResponseType.REQUEST_TOO_LARGE: GatewayReply("413", _radian("SOLICITUD_INVALIDA", "cuerpo demasiado grande")),
    apigw.ResponseType.THROTTLED: GatewayReply("429", _radian("DEMASIADAS_SOLICITUDES", "demasiadas solicitudes")),
    apigw.ResponseType.DEFAULT_4_XX: GatewayReply("400", _radian("SOLICITUD_INVALIDA", "solicitud inválida")),
    apigw.ResponseType.DEFAULT_5_XX: GatewayReply(
        "500", _radian("ERROR_INTERNO", "error interno; nada se perdió, reintente")
    ),
}


def _uno(status: str, mensaje: str) -> GatewayReply:
    """UNO's <error>, with API Gateway's request id as its refId (the id our logs carry)."""
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<error refId="$context.requestId"><code>{status}</code><message>{mensaje}</message></error>'
    return GatewayReply(status, body, content_type="application/xml; charset=utf-8")


# The Sistema UNO dialect: XML, every refusal <error refId><code/><message/></error> (docs/decisions.md, "UNO").
CUOTAS_GATEWAY_REPLIES = {
    apigw.ResponseType.UNAUTHORIZED: _uno(
        "401", "No autenticado: Authorization: Token keyId.secreto faltante o inválido."
    ),
    apigw.ResponseType.ACCESS_DENIED: _uno("403", "Token no autorizado."),
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: _uno(
        "404", "Recurso desconocido: se espera /wssb/admin/paymentDue;contextId=…"
    ),
    apigw.ResponseType.REQUEST_TOO_LARGE: _uno("413", "El payload es demasiado grande."),
    apigw.ResponseType.THROTTLED: _uno("429", "Demasiadas solicitudes; reintente."),
    # Lambda refuses events over 6 MB before our code runs (our own limit is 2 MB: decisions, "UNO: XML").
    apigw.ResponseType.INTEGRATION_FAILURE: _uno(
        "502", "La solicitud no pudo procesarse; el payload admite hasta 2 MB."
    ),
    apigw.ResponseType.DEFAULT_4_XX: _uno("400", "Solicitud inválida."),
    apigw.ResponseType.DEFAULT_5_XX: _uno("500", "Error interno; nada se perdió. Reintente."),
}


class RecaudoStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, layer_dir: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        data = DataConstruct(self, "Data")
        layer = layer_version(self, "SharedLayer", layer_dir)
        api = TokenRestApi(
            self,
            "ConectividadApi",
            description="Integración Conectividad: consultas y pagos de bancos",
            stage_name=c.CONECTIVIDAD_STAGE,
            layer=layer,
            credentials=data.credentials,
            gateway_replies=CONECTIVIDAD_GATEWAY_REPLIES,
            usage_plan=UsagePlanLimits(
                name=c.CONECTIVIDAD_USAGE_PLAN_NAME,
                rate_limit=float(self.node.try_get_context("conectividadRateLimit") or c.CONECTIVIDAD_BANK_RATE_LIMIT),
                burst_limit=int(self.node.try_get_context("conectividadBurstLimit") or c.CONECTIVIDAD_BANK_BURST_LIMIT),
                daily_quota=int(
                    self.node.try_get_context("conectividadCuotaDiaria") or c.CONECTIVIDAD_BANK_DAILY_QUOTA
                ),
            ),
            web_acl=True,  # OperacionConstruct's, below
        )
        self.conectividad = ConectividadConstruct(self, "Conectividad", api=api, layer=layer, data=data)
        cobranzas_api = TokenRestApi(
            self,
            "CobranzasApi",
            description="Pay per TIC: importar, exportar y descargar cobranzas (integradores)",
            stage_name=c.COBRANZAS_STAGE,
            layer=layer,
            credentials=data.credentials,
            gateway_replies=COBRANZAS_GATEWAY_REPLIES,
            token_auth=False,
            binary_media_types=c.COBRANZAS_BINARY_MEDIA_TYPES,
        )
        self.cobranzas = CobranzasConstruct(self, "Cobranzas", api=cobranzas_api, layer=layer, data=data)
        self.cobranzas_api = cobranzas_api
        recargas_api = TokenRestApi(
            self,
            "RecargasApi",
            description="CPS: recargas de servicios básicos para canales (firmadas)",
            stage_name=c.RECARGAS_STAGE,
            layer=layer,
            credentials=data.credentials,
            gateway_replies=RECARGAS_GATEWAY_REPLIES,
            token_auth=False,
            body_auth_reason=CPS_SIGNATURE_REASON,
            binary_media_types=c.RECARGAS_BINARY_MEDIA_TYPES,
        )
        self.recargas = RecargasConstruct(
            self,
            "Recargas",
            api=recargas_api,
            layer=layer,
            data=data,
            carrier_url=self.node.try_get_context("carrierUrl") or c.RECARGAS_CARRIER_URL,
            carrier_token=self.node.try_get_context("carrierToken") or c.RECARGAS_CARRIER_TOKEN_PLACEHOLDER,
        )
        self.recargas_api = recargas_api
        radian_api = TokenRestApi(
            self,
            "RadianApi",
            description="RADIAN: seguimiento de facturas electrónicas y sus eventos (clientes)",
            stage_name=c.RADIAN_STAGE,
            layer=layer,
            credentials=data.credentials,
            gateway_replies=RADIAN_GATEWAY_REPLIES,
            token_scope="radian",
        )
        entorno = self.node.try_get_context("afacturarEntorno") or c.AFACTURAR_DEFAULT_ENTORNO
        self.radian = RadianConstruct(
            self,
            "Radian",
            api=radian_api,
            layer=layer,
            data=data,
            afacturar_url=self.node.try_get_context("afacturarUrl") or c.AFACTURAR_URLS[entorno],
            afacturar_entorno=self.node.try_get_context("afacturarEntornoCampo"),
            schedule=self.node.try_get_context("radianSchedule") or c.RADIAN_SCHEDULE,
        )
        self.radian_api = radian_api
        cuotas_api = TokenRestApi(
            self,
            "CuotasApi",
            description="Sistema UNO: configuración de cuotas (paymentDue) por colegio y ciclo (empresas)",
            stage_name=c.CUOTAS_STAGE,
            layer=layer,
            credentials=data.credentials,
            gateway_replies=CUOTAS_GATEWAY_REPLIES,
            token_scope="uno",
            binary_media_types=c.CUOTAS_BINARY_MEDIA_TYPES,
        )
        self.cuotas = CuotasConstruct(self, "Cuotas", api=cuotas_api, layer=layer, data=data)
        self.cuotas_api = cuotas_api
        self.data = data
        self.api = api

        # ---- production guards: last, so they see every function, flow and rule composed above ----
        self.operacion = OperacionConstruct(
            self,
            "Operacion",
            api=api,
            functions=self.conectividad.functions,
            context=self.conectividad.context,
            payment_flow=self.conectividad.state_machine,
            dominio=self.node.try_get_context("conectividadDominio"),
            certificado_arn=self.node.try_get_context("conectividadCertificadoArn"),
        )
        assert api.usage_plan is not None
        CfnOutput(
            self,
            c.CONECTIVIDAD_USAGE_PLAN_OUTPUT,
            value=api.usage_plan.usage_plan_id,
            description="Conectividad's usage plan: python -m ops.admin bank-api-key --usage-plan-id <this>",
        )
        if self.operacion.domain is not None:
            CfnOutput(
                self,
                "ConectividadDominioDestino",
                value=self.operacion.domain.domain_name_alias_domain_name,
                description="Point the custom domain's DNS (CNAME or alias) at this regional name",
            )
