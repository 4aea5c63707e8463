"""The RADIAN context: its tracking API (stage ``radian``, a TOKEN authorizer per tenant), the
schedule that starts a polling run, the Standard state machine whose Map polls batches with bounded
concurrency, afacturar's token in Secrets Manager, the alarm on a refused token, and each function's
least-privilege access to RADIAN's own table."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagSuppressions
from constructs import Construct

from infra import constants as c
from infra.constructs.api import TokenRestApi
from infra.constructs.data import DataConstruct
from infra.constructs.functions import ContextConstruct, allow, task_state_machine
from infra.flows.sondeo import POLLER_TIMEOUT_SECONDS, sondeo_definition


class RadianConstruct(ContextConstruct):
    context = "radian"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: TokenRestApi,
        layer: lambda_.ILayerVersion,
        data: DataConstruct,
        afacturar_url: str,
        afacturar_entorno: str | None,
        schedule: str,
    ) -> None:
        super().__init__(scope, construct_id, layer=layer)
        table = data.radian
        self.secret = secretsmanager.Secret(
            self,
            "AfacturarToken",
            secret_name=c.AFACTURAR_SECRET_NAME,
            description="recaudo RADIAN: afacturar's Bearer token (the operator puts the real one)",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True),
            removal_policy=RemovalPolicy.RETAIN,
        )
        env = {
            "RADIAN_TABLE": table.table_name,
            "EVENT_BUS_NAME": data.bus.event_bus_name,
            "AFACTURAR_URL": afacturar_url,
            "AFACTURAR_SECRET_ID": self.secret.secret_arn,
            "AFACTURAR_READ_TIMEOUT_SECONDS": str(c.AFACTURAR_READ_TIMEOUT_SECONDS),
            "RADIAN_SHARDS": str(c.RADIAN_SHARDS),
            "RADIAN_BATCH_SIZE": str(c.RADIAN_BATCH_SIZE),
            "RADIAN_MAX_BATCHES": str(c.RADIAN_MAX_BATCHES),
            "RADIAN_CONCURRENCY": str(c.RADIAN_POLLER_CONCURRENCY),
            "RADIAN_RATE_PER_SECOND": str(c.RADIAN_POLLER_RATE),
        }
        if afacturar_entorno:
            env["AFACTURAR_ENTORNO"] = afacturar_entorno
        gsi1, gsi2 = f"{table.table_arn}/index/GSI1", f"{table.table_arn}/index/GSI2"

        # ---- the poller: the Map's task ----
        poller = self._function(
            "sondear",
            "sondear",
            "handler",
            env,
            [
                allow(["dynamodb:Query"], gsi1),  # its slice of the polling index
                # an invoice (poll now, re-read after a race), its stored events, the transaction of
                # events and invoice (checked per item: PutItem), the published change forgotten
                allow(
                    ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"], table.table_arn
                ),
                allow(["events:PutEvents"], data.bus.event_bus_arn),
                allow(["secretsmanager:GetSecretValue"], self.secret.secret_arn),
            ],
            "RADIAN: poll afacturar for one batch of invoices",
            timeout=POLLER_TIMEOUT_SECONDS,
        )
        self.state_machine = task_state_machine(
            self,
            "PollingRun",
            definition=sondeo_definition(c.RADIAN_MAP_CONCURRENCY),
            tasks={"Sondear": poller},
            kind=sfn.StateMachineType.STANDARD,
        )
        machine_arn = self.state_machine.state_machine_arn
        run_env = env | {"RADIAN_STATE_MACHINE_ARN": machine_arn}

        # ---- the schedule's target ----
        planner = self._function(
            "planificar",
            "planificar",
            "handler",
            run_env,
            [
                allow(["dynamodb:Query"], gsi1),
                allow(["states:ListExecutions"], machine_arn),
                allow(["states:StartExecution"], machine_arn),
            ],
            "RADIAN: slice the due invoices into batches and start a polling run",
            timeout=120,
        )
        self.schedule = events.Rule(
            self,
            "Schedule",
            rule_name=c.RADIAN_SCHEDULE_NAME,
            description="RADIAN: start a polling run of afacturar",
            schedule=events.Schedule.expression(schedule),
            targets=[targets.LambdaFunction(planner.function, retry_attempts=2)],
        )

        # ---- endpoints ----
        access = {
            "registrar": [allow(["dynamodb:PutItem"], table.table_arn)],
            "listar": [allow(["dynamodb:Query"], gsi2)],
            "consultar": [allow(["dynamodb:GetItem", "dynamodb:Query"], table.table_arn)],
            "eliminar": [allow(["dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem"], table.table_arn)],
            "sondear_ahora": [
                allow(["dynamodb:GetItem"], table.table_arn),
                allow(["states:StartExecution"], machine_arn),
            ],
        }
        for module, (path, method) in c.RADIAN_ROUTES.items():
            fn = self._function(
                module, module, "handler", run_env, access[module], f"{method} /{c.RADIAN_STAGE}/{path}"
            )
            api.add_route(path, method, fn.publicada())

        # ---- alarms: a refused token stops every run; a failed run leaves invoices due ----
        self.token_alarm = cloudwatch.Alarm(
            self,
            "TokenRefused",
            alarm_description="afacturar refused our Bearer token (401 or 11): polling has stopped. Put the "
            f"current token in Secrets Manager ({c.AFACTURAR_SECRET_NAME}); the next run uses it.",
            metric=cloudwatch.Metric(
                namespace=c.SERVICE_NAMESPACE,
                metric_name="AfacturarNoAutenticado",
                dimensions_map={"service": f"{c.APP_NAME}-{self.context}"},
                statistic="Sum",
                period=Duration.minutes(5),
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.run_alarm = cloudwatch.Alarm(
            self,
            "RunFailed",
            alarm_description="A RADIAN polling run failed (token refused, or a batch kept failing)",
            metric=self.state_machine.metric_failed(period=Duration.minutes(15), statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        NagSuppressions.add_resource_suppressions(
            self.secret,
            [
                {
                    "id": "AwsSolutions-SMG4",
                    "reason": "afacturar issues this token; it cannot be rotated by a Lambda of ours. The operator "
                    "puts a new one with `python -m ops.admin radian-token` and the next run reads it.",
                }
            ],
        )
        self.suppress_wildcards(
            "GSI access is granted on the index ARNs (<table>/index/GSI1, GSI2) of RADIAN's own "
            "table, which cdk-nag reads as a wildcard resource."
        )
