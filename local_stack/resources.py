"""Create the template's resources in the emulator and describe its functions for the workers.

Every resource type is either provisioned here, served by the gateway or the workers, or on an
explicit list of types deliberately not emulated. Anything else stops the start-up with a clear
message: nothing is skipped silently.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from local_stack.async_invoke import async_configs, destination_queues
from local_stack.authz import Invocations
from local_stack.template import Stack, TemplateError
from local_stack.workers import FunctionSpec

PROVISIONED = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::StepFunctions::StateMachine",
        "AWS::Events::EventBus",
        "AWS::Events::Rule",
        "AWS::Scheduler::Schedule",
        "AWS::KMS::Key",
        "AWS::KMS::Alias",
        "AWS::SecretsManager::Secret",
        "Custom::S3BucketNotifications",
        # a function's retries and on-failure destination, for S3's asynchronous invocations (async_invoke.py)
        "AWS::Lambda::EventInvokeConfig",
    }
)
# IAM: every role's policies are enforced on the AWS calls its functions make; Lambda permissions are
# the resource policies checked when API Gateway, S3 or EventBridge invoke a function (local_stack/roles.py).
ENFORCED = frozenset(
    {
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::Lambda::Permission",
    }
)
SERVED_BY_GATEWAY = frozenset(
    {
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Authorizer",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::GatewayResponse",
        "AWS::ApiGateway::RequestValidator",
        # a custom domain's base path mappings: served on the gateway's own port (gateway/apis.py)
        "AWS::ApiGateway::DomainName",
        "AWS::ApiGateway::BasePathMapping",
        # a web ACL on a stage: its body-size rules are applied before the API sees a request (gateway/waf.py)
        "AWS::WAFv2::WebACL",
        "AWS::WAFv2::WebACLAssociation",
    }
)
# Queues: only dead letters are known. An EventBridge rule target's dead-letter queue is created in the
# emulator and stays empty (rule retries and dead letters are not emulated, a failed target shows in the
# terminal); a function's on-failure destination is created and filled by the async invoker. A queue used
# for anything else (an event source, a producer's queue) is an unknown type.
DEAD_LETTER_TYPES = frozenset({"AWS::SQS::Queue", "AWS::SQS::QueuePolicy"})
# Deliberately not emulated: they change nothing a request can observe on one machine.
NOT_EMULATED = {
    "AWS::CDK::Metadata": "CDK bookkeeping",
    "AWS::Logs::LogGroup": "function logs go to the terminal, prefixed with the function's name",
    "AWS::ApiGateway::Account": "the account-level CloudWatch role for API Gateway logs",
    "AWS::CloudWatch::Alarm": "no metrics are collected locally",
    "AWS::CloudWatch::Dashboard": "no metrics are collected locally",
    "AWS::SNS::Topic": "the alarm topic: no alarm fires locally (no metrics are collected)",
    "AWS::SNS::TopicPolicy": "the alarm topic's policy: no alarm fires locally",
    "AWS::Events::Archive": "events are not archived nor replayed locally; the bus delivers them live",
    "AWS::ApiGateway::UsagePlan": "per-key throttles and quotas are not enforced locally (nor is stage "
    "throttling); a method's apiKeyRequired is: no key from the authorizer is API Gateway's 403",
    # moto enforces bucket policies: the TLS-only one (aws:SecureTransport) would refuse every call to
    # the plain-HTTP emulator. Access control is checked by cdk-nag and the infra tests instead.
    "AWS::S3::BucketPolicy": "TLS-only bucket policies cannot hold on the plain-HTTP emulator",
}


def dead_letter_queues(stack: Stack) -> set[str]:
    """The logical ids of the queues some rule's target names as its dead-letter queue, or some
    function's EventInvokeConfig as its on-failure destination."""
    queues = destination_queues(stack)
    for rule in stack.of_type("AWS::Events::Rule").values():
        for target in rule.get("Properties", {}).get("Targets", []):
            arn = (target.get("DeadLetterConfig") or {}).get("Arn")
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                queues.add(arn["Fn::GetAtt"][0])
    return queues


def _known_dead_letters(stack: Stack, logical_id: str, resource: dict[str, Any]) -> bool:
    dead_letters = dead_letter_queues(stack)
    if resource["Type"] == "AWS::SQS::Queue":
        return logical_id in dead_letters
    queues = resource.get("Properties", {}).get("Queues", [])
    return bool(queues) and all(isinstance(q, dict) and q.get("Ref") in dead_letters for q in queues)


def check_types(stack: Stack) -> None:
    unknown = sorted(
        {
            r["Type"]
            for lid, r in stack.resources.items()
            if r["Type"] not in PROVISIONED | ENFORCED | SERVED_BY_GATEWAY
            and r["Type"] not in NOT_EMULATED
            and not (r["Type"] in DEAD_LETTER_TYPES and _known_dead_letters(stack, lid, r))
        }
    )
    if unknown:
        raise TemplateError(
            f"stack {stack.name} uses resource types the local stack does not know: {', '.join(unknown)}. "
            "Emulate them in local_stack/resources.py or add them, with a reason, to NOT_EMULATED."
        )


@dataclass
class Schedule:
    name: str
    expression: str
    function_name: str
    payload: dict[str, Any] | None = None
    timezone: str = "UTC"
    rule_arn: str | None = None  # an EventBridge rule: invoked as events.amazonaws.com from this ARN
    role_arn: str | None = None  # an EventBridge Scheduler schedule: invoked with this role
    function_arn: str = ""


@dataclass
class Provisioned:
    functions: list[FunctionSpec] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)
    event_buses: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> ARN (moto picks its suffix)
    schedules: list[Schedule] = field(default_factory=list)


def _display_name(stack: Stack, logical_id: str) -> str:
    path = stack.resources[logical_id].get("Metadata", {}).get("aws:cdk:path", logical_id)
    parts = [p for p in path.split("/")[1:] if p not in ("Resource", "Function")]
    return "/".join(parts) or logical_id


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "# served by the local stack's workers\n")
    return buffer.getvalue()


def provision(
    stack: Stack, clients: dict[str, Any], base_function_env: dict[str, str], invocations: Invocations | None = None
) -> Provisioned:
    check_types(stack)
    async_configs(stack)  # what the async invoker cannot honour stops the start-up here
    out = Provisioned()
    naming = stack.naming
    custom_providers = {
        stack.resources[lid]["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
        for lid in stack.of_type("Custom::S3BucketNotifications")
    }

    # KMS first: moto chooses key ids, and everything that names a key (environments, policies) must
    # resolve to the id it chose.
    for lid in stack.of_type("AWS::KMS::Key"):
        props = stack.properties(lid)
        key = clients["kms"].create_key(
            Description=str(props.get("Description", "")),
            KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
        )["KeyMetadata"]
        stack.physical[lid] = key["KeyId"]
        if props.get("EnableKeyRotation"):
            clients["kms"].enable_key_rotation(KeyId=key["KeyId"])
        out.keys[lid] = key["Arn"]
    for lid in stack.of_type("AWS::KMS::Alias"):
        props = stack.properties(lid)
        clients["kms"].create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])

    # Secrets next, for the same reason: Ref of a secret is its ARN, whose suffix moto chooses. A
    # generated value is generated here; a template never carries a real secret (the runner puts the
    # fakes' tokens in afterwards).
    for lid in stack.of_type("AWS::SecretsManager::Secret"):
        props = stack.properties(lid)
        value = props.get("SecretString")
        if value is None:
            import secrets as _secrets

            value = _secrets.token_urlsafe(32)
        created = clients["secretsmanager"].create_secret(
            Name=props.get("Name") or stack.physical[lid],
            Description=str(props.get("Description", "")),
            SecretString=value,
        )
        stack.physical[lid] = created["ARN"]
        out.secrets[lid] = created["ARN"]

    for lid in stack.of_type("AWS::IAM::Role"):
        props = stack.properties(lid)
        clients["iam"].create_role(
            RoleName=stack.physical[lid],
            AssumeRolePolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument", {})),
        )

    for lid in stack.of_type("AWS::DynamoDB::Table"):
        props = stack.properties(lid)
        name = stack.physical[lid]
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
            if props.get(key):
                kwargs[key] = props[key]
        clients["dynamodb"].create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            clients["dynamodb"].update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        out.tables[lid] = name

    for lid in stack.of_type("AWS::S3::Bucket"):
        clients["s3"].create_bucket(Bucket=stack.physical[lid])
        versioning = (stack.properties(lid).get("VersioningConfiguration") or {}).get("Status")
        if versioning:  # a versioned bucket keeps every PUT of a key, and its events name the version
            clients["s3"].put_bucket_versioning(
                Bucket=stack.physical[lid], VersioningConfiguration={"Status": versioning}
            )
        out.buckets[lid] = stack.physical[lid]

    layers = {
        lid: stack.asset_dir(stack.properties(lid)["Content"]) for lid in stack.of_type("AWS::Lambda::LayerVersion")
    }
    layer_by_arn = {naming.arn("AWS::Lambda::LayerVersion", stack.physical[lid]): path for lid, path in layers.items()}

    for lid in stack.of_type("AWS::Lambda::Function"):
        if lid in custom_providers:
            continue  # CDK's own custom-resource handler: its resource is applied natively below
        props = stack.properties(lid)
        name = stack.physical[lid]
        if "ZipFile" in props["Code"]:
            raise TemplateError(f"function {lid}: inline code is not emulated")
        layer_dirs = []
        for arn in props.get("Layers", []):
            if arn not in layer_by_arn:
                raise TemplateError(f"function {lid}: layer {arn} is not in this stack")
            layer_dirs.append(layer_by_arn[arn] / "python")
        environment = {k: str(v) for k, v in (props.get("Environment", {}).get("Variables") or {}).items()}
        spec = FunctionSpec(
            logical_id=lid,
            display_name=_display_name(stack, lid),
            name=name,
            arn=naming.arn("AWS::Lambda::Function", name),
            role_arn=props["Role"],
            handler=props["Handler"],
            code_dir=stack.asset_dir(props["Code"]),
            layer_dirs=tuple(layer_dirs),
            environment={**base_function_env, **environment},
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
        )
        # moto must know the function, so Step Functions tasks and S3 notifications can invoke it
        clients["lambda"].create_function(
            FunctionName=name,
            Runtime=props.get("Runtime", "python3.13"),
            Role=props["Role"],
            Handler=props["Handler"],
            Code={"ZipFile": _dummy_zip()},
            Timeout=spec.timeout,
            MemorySize=spec.memory,
            Environment={"Variables": environment},
        )
        out.functions.append(spec)

    for lid in dead_letter_queues(stack):  # created, so a redrive or a look with the AWS CLI finds them
        clients["sqs"].create_queue(QueueName=stack.physical[lid])

    for lid in stack.of_type("AWS::Events::EventBus"):
        name = stack.physical[lid]
        clients["events"].create_event_bus(Name=name)
        out.event_buses[lid] = name

    for lid in stack.of_type("AWS::StepFunctions::StateMachine"):
        props = stack.properties(lid)
        definition = props.get("DefinitionString") or json.dumps(props.get("Definition"))
        if props.get("DefinitionSubstitutions"):
            for key, value in props["DefinitionSubstitutions"].items():
                definition = definition.replace("${" + key + "}", str(value))
        response = clients["stepfunctions"].create_state_machine(
            name=stack.physical[lid],
            definition=definition,
            roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"),
        )
        out.state_machines[lid] = response["stateMachineArn"]

    functions_by_arn = {f.arn: f.name for f in out.functions}
    for lid in stack.of_type("AWS::Events::Rule"):
        props = stack.properties(lid)
        if props.get("State", "ENABLED") != "ENABLED":
            continue
        targets = props.get("Targets", [])
        if props.get("ScheduleExpression"):
            for target in targets:
                if target["Arn"] not in functions_by_arn:
                    raise TemplateError(f"schedule {lid}: only Lambda targets in this stack are emulated")
                payload = json.loads(target["Input"]) if target.get("Input") else None
                out.schedules.append(
                    Schedule(
                        stack.physical[lid],
                        props["ScheduleExpression"],
                        functions_by_arn[target["Arn"]],
                        payload,
                        rule_arn=stack.get_att(lid, "Arn"),
                        function_arn=target["Arn"],
                    )
                )
            continue
        bus = props.get("EventBusName", "default")
        clients["events"].put_rule(
            Name=stack.physical[lid], EventPattern=json.dumps(props["EventPattern"]), EventBusName=bus, State="ENABLED"
        )
        clients["events"].put_targets(
            Rule=stack.physical[lid],
            EventBusName=bus,
            Targets=[{k: v for k, v in t.items() if k in ("Id", "Arn", "Input", "InputPath")} for t in targets],
        )

    for lid in stack.of_type("AWS::Scheduler::Schedule"):
        props = stack.properties(lid)
        if props.get("State", "ENABLED") != "ENABLED":
            continue
        target = props["Target"]
        if target["Arn"] not in functions_by_arn:
            raise TemplateError(f"schedule {lid}: only Lambda targets in this stack are emulated")
        payload = json.loads(target["Input"]) if target.get("Input") else None
        out.schedules.append(
            Schedule(
                stack.physical[lid],
                props["ScheduleExpression"],
                functions_by_arn[target["Arn"]],
                payload,
                props.get("ScheduleExpressionTimezone", "UTC"),
                role_arn=target.get("RoleArn"),
                function_arn=target["Arn"],
            )
        )

    for lid in stack.of_type("Custom::S3BucketNotifications"):
        props = stack.properties(lid)
        for config in (props.get("NotificationConfiguration") or {}).get("LambdaFunctionConfigurations") or []:
            # S3 validates the destination when the configuration is put: without a permission for
            # s3.amazonaws.com from this bucket, the deployment fails. So does the start-up here.
            source = naming.arn("AWS::S3::Bucket", props["BucketName"])
            decision = (
                invocations.check(config["LambdaFunctionArn"], "s3.amazonaws.com", source) if invocations else None
            )
            if decision is not None and not decision.allowed:
                raise TemplateError(
                    f"bucket {props['BucketName']}: S3 may not invoke {config['LambdaFunctionArn']} ({decision.reason}); "
                    "AWS refuses this notification configuration at deploy time"
                )
        clients["s3"].put_bucket_notification_configuration(
            Bucket=props["BucketName"],
            NotificationConfiguration={
                k: v
                for k, v in (props.get("NotificationConfiguration") or {}).items()
                if k in ("LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations")
            },
        )
    return out
