"""The Conectividad context: one Lambda per query endpoint, each reading only the ledger table."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants as c
from infra.constructs.api import TokenRestApi
from infra.constructs.functions import PythonFunction


class ConectividadConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: TokenRestApi,
        layer: lambda_.ILayerVersion,
        ledger: ddb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, PythonFunction] = {}
        environment = {"LEDGER_TABLE": ledger.table_name, "TIME_ZONE": c.TIME_ZONE}
        # Reads only: GetItem and Query. No Scan, no writes.
        read_ledger = iam.PolicyStatement(actions=["dynamodb:GetItem", "dynamodb:Query"], resources=[ledger.table_arn])
        for segment, module in c.CONECTIVIDAD_QUERIES.items():
            fn = PythonFunction(
                self,
                module.replace("_", "-"),
                context="conectividad",
                module=module,
                layer=layer,
                environment=environment,
                statements=[read_ledger],
                description=f"GET /{c.CONECTIVIDAD_BASE_PATH}/{segment}",
            )
            api.add_route(
                f"{c.CONECTIVIDAD_BASE_PATH}/{segment}",
                "GET",
                fn.function,
                required_query=c.CONECTIVIDAD_REQUIRED_PARAMS.get(segment, ()),
            )
            self.functions[segment] = fn
