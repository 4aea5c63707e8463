"""What the template must keep for the S3 drop (docs/decisions.md, "S3 drops"), read from the template
as synthesized: a versioned bucket, every key under entrada/ notifying the importer, Lambda's retries
then an encrypted TLS-only on-failure queue, alarms on that queue and on the importer's errors, and a
role that may read versions, write and remove reports only, give back its claims only and send to
that queue. cdk-nag and cfn-lint run over the whole template in test_stack.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import constants as c
from local_stack.iam import Request, evaluate
from local_stack.roles import role_policies
from local_stack.template import Naming, Stack

REGION, ACCOUNT = "us-east-1", "123456789012"
IMPORTER = "cobranzas.importar_s3.handler"


@pytest.fixture(scope="module")
def resources(synthesized) -> dict:
    return synthesized[1].to_json()["Resources"]


@pytest.fixture(scope="module")
def app(synthesized) -> Stack:
    construct, template, artifact = synthesized
    name = construct.stack_name
    return Stack(name, template.to_json(), Path(artifact.assembly.directory), Naming(name, REGION, ACCOUNT))


def of_type(resources: dict, kind: str) -> dict:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def at(resources: dict, kind: str, path: str) -> str:
    """The logical id of the one ``kind`` whose construct path is ``Recaudo/<path>/…``."""
    (found,) = [
        k
        for k, v in of_type(resources, kind).items()
        if v.get("Metadata", {}).get("aws:cdk:path", "").startswith(f"Recaudo/{path}/")
    ]
    return found


def importer(resources: dict) -> str:
    (lid,) = [
        k for k, f in of_type(resources, "AWS::Lambda::Function").items() if f["Properties"]["Handler"] == IMPORTER
    ]
    return lid


def queue(resources: dict) -> str:
    return at(resources, "AWS::SQS::Queue", "Cobranzas/EntregasFallidas")


def alarms(resources: dict) -> dict[str, dict]:
    return {
        a["Properties"].get("AlarmName", k): a["Properties"]
        for k, a in of_type(resources, "AWS::CloudWatch::Alarm").items()
    }


def test_given_the_files_bucket_then_versioned_so_every_put_of_a_key_is_kept(resources):
    bucket = resources[at(resources, "AWS::S3::Bucket", "Cobranzas/Files")]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    # noncurrent versions (an earlier file of the same name, a replaced report) are kept a while
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 1


def test_given_the_notification_then_every_object_created_under_entrada_invokes_the_importer(resources):
    # Given the bucket's notification configuration
    (notifications,) = of_type(resources, "Custom::S3BucketNotifications").values()
    (config,) = notifications["Properties"]["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    # Then any key under entrada/ (no suffix filter: .CSV, .txt, none, subfolders) reaches the importer
    assert config["Events"] == ["s3:ObjectCreated:*"]
    assert config["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": c.COBRANZAS_INBOX_PREFIX}]
    assert config["LambdaFunctionArn"] == {"Fn::GetAtt": [importer(resources), "Arn"]}


def test_given_the_importers_async_invocations_then_retried_then_kept_in_the_on_failure_queue(resources):
    # Given the importer's EventInvokeConfig
    (config,) = [
        r["Properties"]
        for r in of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
        if r["Properties"]["FunctionName"] == {"Ref": importer(resources)}
    ]
    # Then Lambda retries a failed import, then sends its event to the queue
    assert config["Qualifier"] == "$LATEST"
    assert config["MaximumRetryAttempts"] == c.COBRANZAS_IMPORT_RETRY_ATTEMPTS >= 1
    assert config["MaximumEventAgeInSeconds"] == c.COBRANZAS_IMPORT_MAX_EVENT_AGE_HOURS * 3600
    assert config["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue(resources), "Arn"]}}}


def test_given_the_on_failure_queue_then_named_encrypted_tls_only_and_retained(resources):
    lid = queue(resources)
    props = resources[lid]["Properties"]
    assert props["QueueName"] == c.COBRANZAS_IMPORT_FAILED_QUEUE_NAME
    assert props["SqsManagedSseEnabled"] is True  # Lambda writes SSE-SQS with its role alone
    assert props["MessageRetentionPeriod"] == c.COBRANZAS_IMPORT_FAILED_RETENTION_DAYS * 86400
    assert resources[lid]["DeletionPolicy"] == "Retain"
    (policy,) = [
        p["Properties"]
        for p in of_type(resources, "AWS::SQS::QueuePolicy").values()
        if {"Ref": lid} in p["Properties"]["Queues"]
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["PolicyDocument"]["Statement"]
    )


def test_given_the_alarms_then_the_queues_depth_and_the_importers_errors_notify_the_topic(resources):
    topic = at(resources, "AWS::SNS::Topic", "Operacion/Alarmas")
    found = alarms(resources)
    depth = found[c.ALARM_COBRANZAS_IMPORT_FAILED]
    assert depth["Namespace"] == "AWS/SQS" and depth["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert depth["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue(resources), "QueueName"]}}]
    errors = found[c.ALARM_COBRANZAS_IMPORT_ERRORS]
    assert errors["Namespace"] == "AWS/Lambda" and errors["MetricName"] == "Errors"
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": importer(resources)}}]
    for alarm in (depth, errors):
        # >= 1 in one period of five minutes; no data is no alarm; firing and clearing both notify
        assert alarm["Threshold"] == 1 and alarm["EvaluationPeriods"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["Period"] == c.ALARM_PERIOD_MINUTES * 60
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic}]


def _arn(app: Stack, path: str) -> str:
    (lid,) = [
        k
        for k, r in app.resources.items()
        if r.get("Metadata", {}).get("aws:cdk:path", "").removesuffix("/Resource") == f"Recaudo/{path}"
    ]
    return app.naming.arn(app.resources[lid]["Type"], app.physical[lid])


@pytest.fixture(scope="module")
def may(app):
    """(action, resource, partition key or None) -> whether the importer's role allows it."""
    (role,) = [
        app.properties(lid)["Role"]
        for lid, r in app.of_type("AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == IMPORTER
    ]
    policies = role_policies(app)[role]

    def check(action: str, resource: str, leading: str | None = None) -> bool:
        context = {"dynamodb:LeadingKeys": [leading]} if leading else {}
        return evaluate(policies, Request(action, resource, context)).allowed

    return check


@pytest.mark.parametrize(
    ("action", "where", "leading", "allowed"),
    [
        # exactly the version the event names, and a HEAD of the key's current version
        ("s3:GetObjectVersion", "Cobranzas/Files/entrada/club/cobros.csv", None, True),
        ("s3:GetObject", "Cobranzas/Files/entrada/club/cobros.csv", None, True),
        # reports next to the file (the version's and the name's), and the name's removed while importing
        ("s3:PutObject", "Cobranzas/Files/entrada/club/cobros.csv.resultado.txt", None, True),
        ("s3:PutObject", "Cobranzas/Files/entrada/club/cobros.csv.3HL4kqtJ.resultado.txt", None, True),
        ("s3:DeleteObject", "Cobranzas/Files/entrada/club/cobros.csv.resultado.txt", None, True),
        # never an integrator's file, nor anything outside the inbox
        ("s3:PutObject", "Cobranzas/Files/entrada/club/cobros.csv", None, False),
        ("s3:DeleteObject", "Cobranzas/Files/entrada/club/cobros.csv", None, False),
        ("s3:GetObject", "Cobranzas/Files/reportes/club/http-1.txt", None, False),
        # a failed run gives its claim back; it deletes nothing else of the ledger
        ("dynamodb:DeleteItem", "Data/Ledger", "IMP#club", True),
        ("dynamodb:DeleteItem", "Data/Ledger", "PER#club:500", False),
        ("dynamodb:DeleteItem", "Data/Ledger", "FACT#1000000000000000001", False),
        # the integrator's record (is it active?)
        ("dynamodb:GetItem", "Data/Credentials", None, True),
        # Lambda sends a failed event to the on-failure destination with the function's own role
        ("sqs:SendMessage", "Cobranzas/EntregasFallidas", None, True),
        ("sqs:SendMessage", "Operacion/EventosDlq", None, False),
    ],
)
def test_given_the_importers_role_then_it_may_do_exactly_what_the_drop_needs(app, may, action, where, leading, allowed):
    construct, _, key = where.partition("/")
    resource_path, _, suffix = key.partition("/")
    arn = _arn(app, f"{construct}/{resource_path}")
    resource = f"{arn}/{suffix}" if suffix else arn
    assert may(action, resource, leading) is allowed
