"""The cuotas context (Sistema UNO paymentDue): its REST API's one resource, ``/wssb/admin/{recurso}``
(``paymentDue;contextId=…`` is one path segment), a function per method, each with least-privilege
access to the cuotas table."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants as c
from infra.constructs.api import TokenRestApi
from infra.constructs.data import DataConstruct
from infra.constructs.functions import ContextConstruct, allow


class CuotasConstruct(ContextConstruct):
    context = "cuotas"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: TokenRestApi,
        layer: lambda_.ILayerVersion,
        data: DataConstruct,
    ) -> None:
        super().__init__(scope, construct_id, layer=layer)
        table = data.cuotas
        env = {"CUOTAS_TABLE": table.table_name}
        access = {
            # the school's membership and year, the prices and stored dues (BatchGetItem), the id counter
            # (UpdateItem), and the transaction of checks and puts (ConditionCheckItem, PutItem)
            "configurar": [
                allow(
                    ["dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:PutItem"],
                    table.table_arn,
                )
            ],
            # the school's membership and year (BatchGetItem), its dues (Query)
            "consultar": [allow(["dynamodb:BatchGetItem", "dynamodb:Query"], table.table_arn)],
        }
        for module, method in c.CUOTAS_ROUTES.items():
            fn = self._function(
                module, module, "handler", env, access[module], f"{method} /{c.CUOTAS_STAGE}/wssb/admin/paymentDue"
            )
            api.add_route(c.CUOTAS_PATH, method, fn.function)
