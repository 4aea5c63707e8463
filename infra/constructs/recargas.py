"""The recargas context (CPS): its REST API (stage ``cps``), one Lambda per endpoint and per task of
the Standard state machine that sends each top-up once and resolves it, the KMS key that keeps the
channels' private keys, and each function's least-privilege access.

Its DynamoDB access is narrowed to its own items with ``dynamodb:LeadingKeys``: operations
(``RECARGA#…``) in the ledger, channels (``CANAL#…``) in the credentials table, nonces and
Idempotency-Keys (``cps-…``) in the idempotency table.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants as c
from infra.constructs.api import TokenRestApi
from infra.constructs.data import DataConstruct
from infra.constructs.functions import ContextConstruct, allow_own, task_state_machine
from infra.flows.recarga import recarga_definition


def _own(actions: list[str], table_arn: str, prefix: str) -> iam.PolicyStatement:
    """These actions on the table, only on items whose partition key starts with ``prefix``."""
    return allow_own(actions, table_arn, f"{prefix}*")


class RecargasConstruct(ContextConstruct):
    context = "recargas"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: TokenRestApi,
        layer: lambda_.ILayerVersion,
        data: DataConstruct,
        carrier_url: str,
        carrier_token: str,
    ) -> None:
        super().__init__(scope, construct_id, layer=layer)
        self.key = kms.Key(
            self,
            "ChannelKeys",
            description="recaudo recargas: encrypts the channels' HMAC private keys",
            enable_key_rotation=True,
            alias=c.RECARGAS_KEY_ALIAS,
            removal_policy=RemovalPolicy.RETAIN,
        )
        ledger, credentials, idempotency = data.ledger.table_arn, data.credentials.table_arn, data.idempotency.table_arn
        env = {
            "LEDGER_TABLE": data.ledger.table_name,
            "CREDENTIALS_TABLE": data.credentials.table_name,
            "IDEMPOTENCY_TABLE": data.idempotency.table_name,
            "EVENT_BUS_NAME": data.bus.event_bus_name,
            "RECARGAS_KEY_ID": self.key.key_arn,
            "CARRIER_URL": carrier_url,
            "CARRIER_TOKEN": carrier_token,
            "CARRIER_READ_TIMEOUT_SECONDS": str(c.RECARGAS_CARRIER_READ_TIMEOUT_SECONDS),
            "NONCE_WINDOW_SECONDS": str(c.RECARGAS_NONCE_WINDOW_SECONDS),
            "RECARGAS_WAIT_SECONDS": str(c.RECARGAS_WAIT_SECONDS),
            "TIME_ZONE": "America/Caracas",
        }
        decrypt = iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[self.key.key_arn],
            conditions={"ForAllValues:StringLike": {"kms:EncryptionContextKeys": ["canal"]}},
        )
        # every endpoint: the channel (its encrypted key) and the single-use nonce
        signed = [
            _own(["dynamodb:GetItem"], credentials, "CANAL#"),
            _own(["dynamodb:PutItem"], idempotency, "cps-nonce#"),
            decrypt,
        ]
        operations = _own(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], ledger, "RECARGA#")

        # ---- the flow's tasks ----
        task_access = {
            "Enviar": [operations],
            "Consultar": [_own(["dynamodb:GetItem"], ledger, "RECARGA#")],
            "Confirmar": [
                operations,
                iam.PolicyStatement(actions=["events:PutEvents"], resources=[data.bus.event_bus_arn]),
            ],
            "Fallar": [
                operations,
                iam.PolicyStatement(actions=["events:PutEvents"], resources=[data.bus.event_bus_arn]),
            ],
            "Verificar": [operations],
        }
        tasks = {
            state: self._function(
                f"flujo-{state.lower()}", "flujo", handler, env, task_access[state], f"top-up flow: {state}"
            )
            for state, handler in c.RECARGAS_FLOW_TASKS.items()
        }
        self.state_machine = task_state_machine(
            self, "TopUpFlow", definition=recarga_definition(), tasks=tasks, kind=sfn.StateMachineType.STANDARD
        )

        # ---- endpoints ----
        endpoint_env = env | {
            "RECARGAS_STATE_MACHINE_ARN": self.state_machine.state_machine_arn,
            "IDEMPOTENCY_SECONDS": str(c.RECARGAS_IDEMPOTENCY_SECONDS),
        }
        access = {
            "pagar": [
                *signed,
                operations,
                _own(
                    ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                    idempotency,
                    "cps-idem#",
                ),
                iam.PolicyStatement(
                    actions=["states:StartExecution"], resources=[self.state_machine.state_machine_arn]
                ),
            ],
            "saldo": signed,
            "servicios": signed,
            "operacion": [*signed, _own(["dynamodb:GetItem"], ledger, "RECARGA#")],
        }
        for path, (module, method) in c.RECARGAS_ROUTES.items():
            fn = self._function(
                module,
                module,
                "handler",
                endpoint_env,
                access[module],
                f"{method} /{c.RECARGAS_STAGE}/{path}",
                timeout=c.RECARGAS_PAY_TIMEOUT_SECONDS if module == "pagar" else c.FUNCTION_TIMEOUT_SECONDS,
            )
            api.add_route(path, method, fn.publicada())
        self.suppress_wildcards(
            "DynamoDB access is narrowed by dynamodb:LeadingKeys to this context's own key "
            "prefixes (RECARGA#, CANAL#, cps-…); the condition values are the wildcards cdk-nag sees."
        )
