"""The cuotas context (Sistema UNO paymentDue): its REST API's one resource, ``/wssb/admin/{recurso}``
(``paymentDue;contextId=…`` is one path segment), a function per method, each with least-privilege
access to the cuotas table."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants as c
from infra.constructs.api import TokenRestApi
from infra.constructs.data import DataConstruct
from infra.constructs.functions import ContextConstruct, allow, allow_own


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
            # reads: the school's membership and year, the prices and stored dues (BatchGetItem), and the
            # write transaction's checks (ConditionCheckItem); writes narrowed by dynamodb:LeadingKeys to
            # the dues' partitions (PutItem on CUOTAS#…) and the id counter (UpdateItem on CONTADOR only)
            "configurar": [
                allow(["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"], table.table_arn),
                allow_own(["dynamodb:PutItem"], table.table_arn, "CUOTAS#*"),
                allow_own(["dynamodb:UpdateItem"], table.table_arn, "CONTADOR"),
            ],
            # the school's membership and year (BatchGetItem), its dues (Query)
            "consultar": [allow(["dynamodb:BatchGetItem", "dynamodb:Query"], table.table_arn)],
        }
        for module, method in c.CUOTAS_ROUTES.items():
            fn = self._function(
                module, module, "handler", env, access[module], f"{method} /{c.CUOTAS_STAGE}/wssb/admin/paymentDue"
            )
            api.add_route(c.CUOTAS_PATH, method, fn.publicada())
        self.suppress_wildcards(
            "The dues' writes are narrowed by dynamodb:LeadingKeys to their own partitions (CUOTAS#…); the "
            "condition value is the wildcard cdk-nag sees."
        )
