"""The stack only composes constructs."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from infra import constants as c
from infra.constructs.api import GatewayReply, TokenRestApi
from infra.constructs.conectividad import ConectividadConstruct
from infra.constructs.data import DataConstruct
from infra.constructs.functions import layer_version
from recaudo.errors import CodigoRespuesta, error_body

# API Gateway's own refusals, in the Conectividad dialect (codes 0-5).
CONECTIVIDAD_GATEWAY_REPLIES = {
    apigw.ResponseType.UNAUTHORIZED: GatewayReply("401", error_body(CodigoRespuesta.NO_AUTENTICADO)),
    apigw.ResponseType.ACCESS_DENIED: GatewayReply("401", error_body(CodigoRespuesta.NO_AUTENTICADO)),
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: GatewayReply(
        "404", error_body(CodigoRespuesta.PARAMETROS_INCORRECTOS, "ruta desconocida")
    ),
    apigw.ResponseType.BAD_REQUEST_PARAMETERS: GatewayReply(
        "400", error_body(CodigoRespuesta.PARAMETROS_INCORRECTOS, "faltan parámetros requeridos")
    ),
    apigw.ResponseType.THROTTLED: GatewayReply("429", error_body(CodigoRespuesta.ERROR_SISTEMA, "demasiadas solicitudes")),
    apigw.ResponseType.DEFAULT_4_XX: GatewayReply("400", error_body(CodigoRespuesta.PARAMETROS_INCORRECTOS)),
    apigw.ResponseType.DEFAULT_5_XX: GatewayReply("500", error_body(CodigoRespuesta.ERROR_SISTEMA)),
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
        )
        self.conectividad = ConectividadConstruct(self, "Conectividad", api=api, layer=layer, data=data)
        self.data = data
        self.api = api
