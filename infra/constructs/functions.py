"""One Python Lambda function with its own least-privilege role and log group."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagSuppressions
from constructs import Construct

from infra import constants as c

_ASSET_EXCLUDE = [".fingerprint", "**/.pytest_cache"]


def allow(actions: list[str], *resources: str) -> iam.PolicyStatement:
    """One least-privilege statement: these actions on exactly these resources."""
    return iam.PolicyStatement(actions=actions, resources=list(resources))


def allow_own(actions: list[str], table_arn: str, leading_key: str) -> iam.PolicyStatement:
    """These actions on the table, only on items whose partition key matches ``leading_key``
    (``dynamodb:LeadingKeys``: a prefix ending in ``*``, or an exact key)."""
    return iam.PolicyStatement(
        actions=actions,
        resources=[table_arn],
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [leading_key]}},
    )


def function_code(context: str) -> lambda_.Code:
    """The code asset of one context: functions/<context>/ packaged as the ``<context>`` package, with
    its checked-hash bytecode for the Lambda's Python (``infra.layer.function_asset``)."""
    from infra.layer import function_asset

    return lambda_.Code.from_asset(str(function_asset(context)), exclude=_ASSET_EXCLUDE)


class PythonFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: str,
        module: str,
        layer: lambda_.ILayerVersion,
        handler_name: str = "handler",
        environment: dict[str, str],
        statements: Sequence[iam.PolicyStatement],
        description: str,
        timeout_seconds: int = c.FUNCTION_TIMEOUT_SECONDS,
        memory_mb: int = c.FUNCTION_MEMORY_MB,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{c.APP_NAME} {context}.{module}: logs, traces and its own data access only",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
        )
        for statement in statements:
            self.role.add_to_policy(statement)

        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"{context}.{module}.{handler_name}",
            code=function_code(context),
            layers=[layer],
            role=self.role,
            log_group=self.log_group,
            timeout=Duration.seconds(timeout_seconds),
            memory_size=memory_mb,
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": f"{c.APP_NAME}-{context}",
                "POWERTOOLS_METRICS_NAMESPACE": c.SERVICE_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
        )
        self._publicada: lambda_.IFunction | None = None
        NagSuppressions.add_resource_suppressions(
            self.role,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level "
                    "permissions; log-stream ARNs are only known at run time, under this function's own group.",
                }
            ],
            apply_to_children=True,
        )
        NagSuppressions.add_resource_suppressions(
            self.function,
            [
                {
                    "id": "AwsSolutions-L1",
                    "reason": f"Pinned to Python {c.LAMBDA_PYTHON_VERSION}: the layer's wheels and bytecode are "
                    "built for exactly this runtime; upgrading is a deliberate change.",
                }
            ],
        )

    def publicada(self) -> lambda_.IFunction:
        """What an API route or authorizer invokes: the function itself, or, with SnapStart asked for
        (``-c snapStart=true``), its current published version, whose execution environments Lambda
        resumes from a snapshot taken after the init (docs/decisions.md, "SnapStart")."""
        if self._publicada is None:
            self._publicada = _publicar(self) if snapstart(self) else self.function
        return self._publicada


def snapstart(scope: Construct) -> bool:
    """Whether the deploy asked for SnapStart (CDK context ``snapStart``: true, 1 or yes)."""
    value = scope.node.try_get_context(c.SNAPSTART_CONTEXT)
    return str(value).strip().lower() in ("true", "1", "yes")


def _publicar(fn: PythonFunction) -> lambda_.IFunction:
    """SnapStart on the function's published versions, and its current version (a new one whenever
    its code or configuration changes). Routes invoke the version itself: an alias per function would
    be 33 more resources, and the stack is capped at 500 (docs/decisions.md, "SnapStart")."""
    cfn = fn.function.node.default_child
    assert isinstance(cfn, lambda_.CfnFunction)
    cfn.snap_start = lambda_.CfnFunction.SnapStartProperty(apply_on="PublishedVersions")
    return fn.function.current_version


def layer_version(scope: Construct, construct_id: str, layer_dir: str) -> lambda_.LayerVersion:
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=lambda_.Code.from_asset(layer_dir),
        compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
        compatible_architectures=[lambda_.Architecture.ARM_64],
        description=f"{c.APP_NAME} shared layer: models, data access, clients, observability",
    )


def task_state_machine(
    scope: Construct,
    construct_id: str,
    *,
    definition: dict[str, object],
    tasks: dict[str, PythonFunction],
    kind: sfn.StateMachineType,
) -> sfn.StateMachine:
    """A state machine whose Lambda tasks are ``${<State>Arn}`` placeholders in ``definition``, which
    carries its own ``TimeoutSeconds`` (CDK drops a construct-level timeout beside
    ``DefinitionBody.from_string``): traced, every event logged without execution data (bodies may
    hold secrets), allowed to invoke exactly its tasks."""
    flow_logs = logs.LogGroup(
        scope, f"{construct_id}Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.RETAIN
    )
    machine = sfn.StateMachine(
        scope,
        construct_id,
        state_machine_type=kind,
        definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
        definition_substitutions={f"{state}Arn": fn.function.function_arn for state, fn in tasks.items()},
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=flow_logs, level=sfn.LogLevel.ALL, include_execution_data=False),
    )
    for fn in tasks.values():
        fn.function.grant_invoke(machine)
    NagSuppressions.add_resource_suppressions(
        machine,
        [
            {
                "id": "AwsSolutions-IAM5",
                "reason": "CDK grants lambda:InvokeFunction on '<function arn>:*' (its versions) and the "
                "log-delivery/X-Ray actions Step Functions needs, which have no resource-level scope.",
            }
        ],
        apply_to_children=True,
    )
    return machine


class ContextConstruct(Construct):
    """A context's construct: its functions, each with its own role, kept by construct id."""

    context: str  # the package under functions/ (conectividad, recargas…)

    def __init__(self, scope: Construct, construct_id: str, *, layer: lambda_.ILayerVersion) -> None:
        super().__init__(scope, construct_id)
        self._layer = layer
        self.functions: dict[str, PythonFunction] = {}

    def _function(
        self,
        construct_id: str,
        module: str,
        handler: str,
        env: dict[str, str],
        statements: Sequence[iam.PolicyStatement],
        description: str,
        timeout: int = c.FUNCTION_TIMEOUT_SECONDS,
        reserved_concurrency: int | None = None,
    ) -> PythonFunction:
        fn = PythonFunction(
            self,
            construct_id,
            context=self.context,
            module=module,
            handler_name=handler,
            layer=self._layer,
            environment=env,
            statements=statements,
            description=description,
            timeout_seconds=timeout,
            reserved_concurrency=reserved_concurrency,
        )
        self.functions[construct_id] = fn
        return fn

    def suppress_wildcards(self, reason: str) -> None:
        """cdk-nag's AwsSolutions-IAM5 on every role of this context, with its written reason."""
        NagSuppressions.add_resource_suppressions(
            [fn.role for fn in self.functions.values()],
            [{"id": "AwsSolutions-IAM5", "reason": reason}],
            apply_to_children=True,
        )
