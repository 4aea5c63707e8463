"""The cobranzas context (Pay per TIC API): the files' bucket, one Lambda per endpoint, the S3
import triggered by object-created notifications under ``entrada/`` (retried by Lambda, then kept in
an on-failure queue, both alarmed), least-privilege access each."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from cdk_nag import NagSuppressions
from constructs import Construct

from infra import constants as c
from infra.constructs.api import TokenRestApi
from infra.constructs.data import DataConstruct
from infra.constructs.functions import PythonFunction, allow_own
from infra.constructs.functions import allow as _allow
from infra.constructs.operacion import dead_letter_queue, threshold_alarm
from recaudo.data.cobranzas import GSI


class CobranzasConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: TokenRestApi,
        layer: lambda_.ILayerVersion,
        data: DataConstruct,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(c.COBRANZAS_RETENTION_DAYS))],
        )
        NagSuppressions.add_resource_suppressions(
            self.access_logs,
            [
                {
                    "id": "AwsSolutions-S1",
                    "reason": "This is the access-log bucket of the cobranzas bucket; logging it would recurse.",
                }
            ],
        )
        self.bucket = s3.Bucket(
            self,
            "Files",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="cobranzas/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(c.COBRANZAS_RETENTION_DAYS),
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
        )
        ledger, credentials = data.ledger.table_arn, data.credentials.table_arn
        index = f"{ledger}/index/{GSI}"
        bucket = self.bucket.bucket_arn
        env = {
            "LEDGER_TABLE": data.ledger.table_name,
            "CREDENTIALS_TABLE": data.credentials.table_name,
            "COBRANZAS_BUCKET": self.bucket.bucket_name,
            "TIME_ZONE": c.TIME_ZONE,
        }
        hash_check = _allow(["dynamodb:GetItem"], credentials)
        # An import: the look-ahead of its rows (BatchGetItem by key), its claim record and resume
        # point, the conditional transactions (Put/Update/ConditionCheck on the ledger) and its report.
        importing = [
            hash_check,
            _allow(
                [
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:GetItem",
                    "dynamodb:BatchGetItem",
                ],
                ledger,
            ),
        ]
        access = {
            "importar_csv": [*importing, _allow(["s3:PutObject"], f"{bucket}/reportes/*")],
            "importar_url": [hash_check, _allow(["s3:PutObject"], f"{bucket}/{c.COBRANZAS_INBOX_PREFIX}*")],
            "importar_reporte": [
                hash_check,
                # S3 answers a missing report with 404 only to a caller that may list the bucket (403 otherwise)
                _allow(["s3:ListBucket"], bucket),
                _allow(["s3:GetObject"], f"{bucket}/reportes/*", f"{bucket}/{c.COBRANZAS_INBOX_PREFIX}*"),
            ],
            "exportar_csv": [hash_check, _allow(["dynamodb:Query"], index)],
            "descargar_csv": [hash_check, _allow(["dynamodb:Query"], index)],
        }
        self.functions: dict[str, PythonFunction] = {}
        for path, (module, methods) in c.COBRANZAS_ROUTES.items():
            fn = PythonFunction(
                self,
                module,
                context="cobranzas",
                module=module,
                layer=layer,
                environment=env,
                statements=access[module],
                description=f"{'|'.join(methods)} /{c.COBRANZAS_STAGE}/{path}",
                timeout_seconds=c.COBRANZAS_HTTP_IMPORT_TIMEOUT_SECONDS
                if module == "importar_csv"
                else c.FUNCTION_TIMEOUT_SECONDS,
                memory_mb=c.COBRANZAS_IMPORT_MEMORY_MB if module == "importar_csv" else c.FUNCTION_MEMORY_MB,
            )
            self.functions[module] = fn
            for method in methods:
                api.add_route(path, method, fn.publicada())

        inbox = f"{bucket}/{c.COBRANZAS_INBOX_PREFIX}*"
        importer = PythonFunction(
            self,
            "importar_s3",
            context="cobranzas",
            module="importar_s3",
            layer=layer,
            environment=env | {"IMPORT_CLAIM_SECONDS": str(c.COBRANZAS_IMPORT_TIMEOUT_SECONDS + 300)},
            statements=[
                _allow(["dynamodb:GetItem"], credentials),  # the integrator of the prefix (and its activo)
                *importing[1:],
                # a failed run gives its claim back (IMP#<integrador>), and nothing else of the ledger
                allow_own(["dynamodb:DeleteItem"], ledger, "IMP#*"),
                # exactly the version the event names (GetObjectVersion); HEAD of the current version
                _allow(["s3:GetObject", "s3:GetObjectVersion"], inbox),
                # reports only, next to the files: an integrator's file is never overwritten
                _allow(["s3:PutObject", "s3:DeleteObject"], f"{bucket}/{c.COBRANZAS_INBOX_PREFIX}*.resultado.txt"),
            ],
            description="S3 object-created under entrada/<integrador>/: import the collections file",
            timeout_seconds=c.COBRANZAS_IMPORT_TIMEOUT_SECONDS,
            memory_mb=c.COBRANZAS_IMPORT_MEMORY_MB,
        )
        self.functions["importar_s3"] = importer
        # Every object created under entrada/ invokes the importer, whatever its suffix or depth: a file it
        # cannot import gets a report saying why. Its own reports ("<key>[.<version>].resultado.txt",
        # marked by their metadata) invoke it too, and are recognised and left alone (S3 filters cannot
        # exclude a suffix).
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(importer.function),
            s3.NotificationKeyFilter(prefix=c.COBRANZAS_INBOX_PREFIX),
        )
        # S3 invokes asynchronously: a failed import (its claim given back) is retried by Lambda, then
        # its event is kept in this queue; alarms on the queue's depth and on every failed run.
        self.failed_imports = dead_letter_queue(
            self,
            "EntregasFallidas",
            c.COBRANZAS_IMPORT_FAILED_QUEUE_NAME,
            "This queue is itself the on-failure destination of the S3 import's asynchronous invocations; an "
            "alarm fires on its depth and the operator re-invokes the function with the kept event.",
            retention_days=c.COBRANZAS_IMPORT_FAILED_RETENTION_DAYS,
        )
        importer.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.failed_imports),
            retry_attempts=c.COBRANZAS_IMPORT_RETRY_ATTEMPTS,
            max_event_age=Duration.hours(c.COBRANZAS_IMPORT_MAX_EVENT_AGE_HOURS),
        )
        period = Duration.minutes(c.ALARM_PERIOD_MINUTES)
        self.alarms = {
            c.ALARM_COBRANZAS_IMPORT_FAILED: threshold_alarm(
                self,
                "EntregasFallidasProfundidad",
                c.ALARM_COBRANZAS_IMPORT_FAILED,
                self.failed_imports.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
                f"A dropped collections file could not be imported after Lambda's retries: its S3 event waits in "
                f"{c.COBRANZAS_IMPORT_FAILED_QUEUE_NAME} (requestPayload; responsePayload says why). Fix the cause, "
                "then invoke the importer with the event again; rows already written are not duplicated.",
            ),
            c.ALARM_COBRANZAS_IMPORT_ERRORS: threshold_alarm(
                self,
                "ImportarS3Errores",
                c.ALARM_COBRANZAS_IMPORT_ERRORS,
                importer.function.metric_errors(period=period, statistic="Sum"),
                "importar_s3 failed (an unhandled error or a timeout): Lambda retries the drop; a report "
                "'ERROR: error interno' stands next to the file meanwhile.",
            ),
        }
        # CDK's singleton that applies bucket notifications at deploy time (not ours to shape).
        stack = Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                NagSuppressions.add_resource_suppressions(
                    child,
                    [
                        {
                            "id": "AwsSolutions-IAM4",
                            "reason": "CDK's BucketNotificationsHandler (deploy-time only) uses AWSLambdaBasicExecutionRole for its logs.",
                        },
                        {
                            "id": "AwsSolutions-IAM5",
                            "reason": "CDK's BucketNotificationsHandler needs s3:PutBucketNotification, granted by CDK on '*'.",
                        },
                    ],
                    apply_to_children=True,
                )
        NagSuppressions.add_resource_suppressions(
            [fn.role for fn in self.functions.values()],
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Object ARNs are scoped to the bucket's 'entrada/' (integrators' files; the importer "
                    "writes only '*.resultado.txt' there) and 'reportes/' prefixes; object names are only known "
                    "at run time. The importer deletes only its claims (dynamodb:LeadingKeys IMP#*).",
                }
            ],
            apply_to_children=True,
        )
