"""The Conectividad context: one Lambda per endpoint and per payment-flow task, the Express state
machine that runs pay -> confirm -> verify, and each function's least-privilege access."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants as c
from infra.constructs.api import TokenRestApi
from infra.constructs.data import DataConstruct
from infra.constructs.functions import ContextConstruct, task_state_machine
from infra.constructs.functions import allow as _allow
from infra.flows.pago import payment_flow_definition


class ConectividadConstruct(ContextConstruct):
    context = "conectividad"

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
        self._api = api
        ledger, credentials, idempotency, bus = (
            data.ledger.table_arn,
            data.credentials.table_arn,
            data.idempotency.table_arn,
            data.bus.event_bus_arn,
        )
        base_env = {"LEDGER_TABLE": data.ledger.table_name, "TIME_ZONE": c.TIME_ZONE}

        # ---- queries: reads only (GetItem and Query; no Scan, no writes) ----
        for segment, module in c.CONECTIVIDAD_QUERIES.items():
            self._endpoint(segment, module, "GET", base_env, [_allow(["dynamodb:GetItem", "dynamodb:Query"], ledger)])

        # ---- the payment flow: one function per task, each writing only what its step writes ----
        flow_env = base_env | {"EVENT_BUS_NAME": data.bus.event_bus_name}
        task_access = {
            # the transaction (payment Put, debt Updates, pointer ConditionChecks); GetItem: after a failed
            # condition a retried Aplicar reads the invoice's payment to recognise its own
            # (the cart's number reservation is an Update of its FACT# item)
            "Aplicar": [_allow(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"], ledger)],
            "Confirmar": [
                _allow(["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"], ledger),
                _allow(["events:PutEvents"], bus),
            ],
            "Verificar": [_allow(["dynamodb:GetItem"], ledger)],
            # the payment Deleted and kept as its COMP# audit copy (Put), the debts Updated
            "Compensar": [
                _allow(["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], ledger),
                _allow(["events:PutEvents"], bus),
            ],
        }
        tasks = {
            state: self._function(
                f"flujo-{handler}",
                "flujo",
                handler,
                flow_env,
                task_access[state],
                f"payment flow: {state}",
                # a flood elsewhere cannot starve the payment path (decisions, "Conectividad: reserved concurrency")
                reserved_concurrency=c.PAYMENT_RESERVED_CONCURRENCY[f"flujo-{handler}"],
            )
            for state, handler in c.PAYMENT_FLOW_TASKS.items()
        }
        # the 60 s limit lives in the definition (TimeoutSeconds), where Step Functions reads it
        definition = payment_flow_definition() | {"TimeoutSeconds": c.PAYMENT_STATE_MACHINE_TIMEOUT_SECONDS}
        self.state_machine = task_state_machine(
            self, "PaymentFlow", definition=definition, tasks=tasks, kind=sfn.StateMachineType.EXPRESS
        )

        # ---- payment endpoints ----
        payments_env = flow_env | {
            "CREDENTIALS_TABLE": data.credentials.table_name,
            "IDEMPOTENCY_TABLE": data.idempotency.table_name,
            "PAYMENT_STATE_MACHINE_ARN": self.state_machine.state_machine_arn,
            "PAYMENT_WAIT_SECONDS": str(c.PAYMENT_WAIT_SECONDS),
        }
        idem = _allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], idempotency
        )
        bank_key = _allow(["dynamodb:GetItem"], credentials)
        access = {
            "ejecutar_pago": [
                # reads (GetItem; Query: the invoice's earlier reversals); UpdateItem: the transaction-number sequence
                _allow(["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"], ledger),
                _allow(["states:StartSyncExecution"], self.state_machine.state_machine_arn),
                bank_key,  # llaveAcceso, and whether the token is still active
            ],
            "reversar_pago": [
                # reads and the earlier reversals (Query); the reversal is one transaction: the payment
                # Deleted, its archive Put under REV#, the history entry and the debts Updated
                _allow(
                    [
                        "dynamodb:GetItem",
                        "dynamodb:Query",
                        "dynamodb:DeleteItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                    ],
                    ledger,
                ),
                _allow(["events:PutEvents"], bus),
                bank_key,
                idem,
            ],
            "historial_pagos": [_allow(["dynamodb:GetItem", "dynamodb:Query"], ledger)],
            "verificar_pago": [_allow(["dynamodb:GetItem"], ledger)],
        }
        for segment, (module, method) in c.CONECTIVIDAD_PAYMENTS.items():
            paying = module.startswith("ejecutar_pago")
            statements = access["ejecutar_pago" if paying else module]
            # a payment waits for its flow (PAYMENT_WAIT_SECONDS), within API Gateway's 29 s
            timeout = c.PAYMENT_FUNCTION_TIMEOUT_SECONDS if paying else c.FUNCTION_TIMEOUT_SECONDS
            self._endpoint(segment, module, method, payments_env, statements, timeout)

        # ---- the sweeper: payments left APLICADO by a flow that never finished ----
        sweeper = self._function(
            "barrido",
            "barrido",
            "handler",
            flow_env | {"PAYMENT_SWEEP_AFTER_SECONDS": str(c.PAYMENT_SWEEP_AFTER_SECONDS)},
            [
                _allow(["dynamodb:Query"], f"{ledger}/index/GSI2"),
                # confirm (Update + history Put), verify (reads), compensate (Delete, COMP# Put, Updates)
                _allow(["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], ledger),
                _allow(["events:PutEvents"], bus),
            ],
            "Conectividad: settle payments left APLICADO",
            timeout=c.PAYMENT_SWEEP_TIMEOUT_SECONDS,
        )
        self.sweeper = sweeper
        self.sweep_schedule = events.Rule(
            self,
            "Barrido",
            rule_name=c.PAYMENT_SWEEP_RULE_NAME,
            description="Conectividad: settle payments left APLICADO",
            schedule=events.Schedule.expression(c.PAYMENT_SWEEP_SCHEDULE),
            targets=[targets.LambdaFunction(sweeper.function, retry_attempts=2)],
        )

    def _endpoint(
        self,
        segment: str,
        module: str,
        method: str,
        env: dict[str, str],
        statements: list[iam.PolicyStatement],
        timeout: int = c.FUNCTION_TIMEOUT_SECONDS,
    ) -> None:
        fn = self._function(
            segment,
            module,
            "handler",
            env,
            statements,
            f"{method} /{c.CONECTIVIDAD_BASE_PATH}/{segment}",
            timeout=timeout,
            reserved_concurrency=c.PAYMENT_RESERVED_CONCURRENCY.get(segment),
        )
        self._api.add_route(
            f"{c.CONECTIVIDAD_BASE_PATH}/{segment}",
            method,
            fn.publicada(),
            required_query=c.CONECTIVIDAD_REQUIRED_PARAMS.get(segment, ()),
        )
