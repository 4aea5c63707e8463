"""Payments in-process under moto: the real state machine definition executed by moto's interpreter,
its Lambda tasks routed (through the same moto hook the local stack uses) to the task functions, and
switches to inject faults at every step."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conectividad import flujo, pagos, reversas
from conectividad.deps import EVENT_SOURCE, FlowDeps, PaymentDeps
from infra.flows.pago import TASKS, payment_flow_definition, substitute
from local_stack import emulator
from recaudo.data.credentials import CredentialsRepository
from recaudo.data.ledger import LedgerRepository
from recaudo.data.payments import PaymentsRepository
from recaudo.data.tables import CREDENTIALS, IDEMPOTENCY, LEDGER
from recaudo.events import EventBridgePublisher
from recaudo.idempotency import IdempotencyGuard
from recaudo.stepfunctions import SyncStateMachine
from tests.helpers import LambdaContext, call, rest_event

BASE = "/v1/integracion-conectividad"
TASK_HANDLERS = {
    "Aplicar": flujo.aplicar,
    "Confirmar": flujo.confirmar,
    "Verificar": flujo.verificar,
    "Compensar": flujo.compensar,
}


class Faults:
    """``faults.arm("Confirmar", RuntimeError("crash"), times=1)``: the next call of that task raises."""

    def __init__(self) -> None:
        self._armed: dict[str, list[BaseException]] = {}
        self._after: dict[str, list[BaseException]] = {}
        self.calls: dict[str, int] = {}

    def arm(self, task: str, error: BaseException, times: int = 1) -> None:
        self._armed.setdefault(task, []).extend([error] * times)

    def arm_after(self, task: str, error: BaseException) -> None:
        """The task does its work, then its Lambda fails (a timeout after the commit)."""
        self._after.setdefault(task, []).append(error)

    def before(self, task: str) -> None:
        self.calls[task] = self.calls.get(task, 0) + 1
        queue = self._armed.get(task)
        if queue:
            raise queue.pop(0)

    def after(self, task: str) -> None:
        queue = self._after.get(task)
        if queue:
            raise queue.pop(0)


@dataclass
class PaymentHarness:
    clients: dict[str, Any]
    ledger: LedgerRepository
    payments: PaymentsRepository
    credentials: CredentialsRepository
    deps: PaymentDeps
    token: str
    llave: str
    faults: Faults = field(default_factory=Faults)
    queue_url: str = ""

    def body(self, **overrides: Any) -> dict[str, Any]:
        return {"llaveAcceso": self.llave, "codigoBanco": "00152", "codigoAgencia": "033272"} | overrides

    def post(
        self, segment: str, body: Any, banco: str = "00152", headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        module = __import__(f"conectividad.{segment.replace('-', '_')}", fromlist=["handler"])
        event = rest_event("POST", f"{BASE}/{segment}", body=body, authorizer={"codigoBanco": banco}, headers=headers)
        response = module.handler(event, LambdaContext())
        from recaudo.money import loads

        headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()} | (
            response.get("headers") or {}
        )
        return response["statusCode"], loads(response["body"]) if response.get("body") else None, headers

    def get(self, segment: str, query: str) -> tuple[int, Any]:
        module = __import__(f"conectividad.{segment.replace('-', '_')}", fromlist=["handler"])
        return call(module.handler, rest_event("GET", f"{BASE}/{segment}", query))

    def events(self) -> list[dict[str, Any]]:
        sqs = self.clients["sqs"]
        out = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return out
            for m in batch:
                out.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])


def load_subset(ledger: LedgerRepository, today: Any) -> Any:
    """The demo's convenios and persons with a slice of its debts (fewer writes per test)."""
    from dataclasses import replace

    from ops.demo import demo_dataset

    data = demo_dataset(today)
    keep = tuple(
        d
        for d in data.deudas
        if (d.identificacion == "12345678" and d.year in (2025, 2026) and d.id_rubro in ("13", "17"))
        or (d.identificacion == "87654321" and d.year == 2026 and d.id_rubro == "13")
    )
    for convenio, predeterminado in data.convenios:
        ledger.put_convenio(convenio, predeterminado=predeterminado)
    for persona in data.personas:
        ledger.put_persona(persona)
    for d in keep:
        ledger.put_deuda(d)
    return replace(data, deudas=keep)


def build(now: datetime, monkeypatch: Any) -> PaymentHarness:
    import boto3
    from moto.awslambda.models import LambdaFunction
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config["stepfunctions"], "execute_state_machine", True)
    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", LambdaFunction._invoke_lambda)  # restored after the test
    emulator.enable_sync_executions()
    clients = {n: boto3.client(n) for n in ("dynamodb", "stepfunctions", "lambda", "iam", "events", "sqs")}
    ddb = clients["dynamodb"]
    for spec, env in ((LEDGER, "LEDGER_TABLE"), (CREDENTIALS, "CREDENTIALS_TABLE"), (IDEMPOTENCY, "IDEMPOTENCY_TABLE")):
        ddb.create_table(**spec.create_table_kwargs(os.environ[env]))
    bus = os.environ["EVENT_BUS_NAME"]
    clients["events"].create_event_bus(Name=bus)
    queue_url = clients["sqs"].create_queue(QueueName="confirmed")["QueueUrl"]
    queue_arn = clients["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    clients["events"].put_rule(
        Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["recaudo.conectividad"]})
    )
    clients["events"].put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    role = clients["iam"].create_role(RoleName="flow", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    arns = {}
    for task in TASKS:
        arns[task] = clients["lambda"].create_function(
            FunctionName=f"task-{task}", Runtime="python3.13", Role=role, Handler="x.h", Code={"ZipFile": b"PK"}
        )["FunctionArn"]
    machine = clients["stepfunctions"].create_state_machine(
        name="pagos", definition=substitute(payment_flow_definition(), arns), roleArn=role, type="EXPRESS"
    )["stateMachineArn"]

    ledger = LedgerRepository(os.environ["LEDGER_TABLE"], ddb, page_limit=3)
    payments = PaymentsRepository(os.environ["LEDGER_TABLE"], ddb)
    credentials = CredentialsRepository(os.environ["CREDENTIALS_TABLE"], ddb)
    bank = credentials.create_bank("00152", "Banco Demo", now)
    credentials.create_bank("00999", "Otro Banco", now)
    faults = Faults()
    events = EventBridgePublisher(clients["events"], bus, EVENT_SOURCE)
    flow_deps = FlowDeps(payments=payments, events=events)
    monkeypatch.setattr(flujo, "default_flow_deps", lambda: flow_deps)

    def dispatch(function_name: str, event: Any) -> tuple[str, bool, str]:
        task = function_name.removeprefix("task-")
        try:
            faults.before(task)
            result = TASK_HANDLERS[task](event, LambdaContext(function_name=function_name))
            faults.after(task)
            return json.dumps(result), False, ""
        except Exception as exc:  # noqa: BLE001 - as the Lambda runtime reports any function error
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}), True, ""

    emulator.route_lambda_invokes(dispatch)
    deps = PaymentDeps(
        ledger=ledger,
        payments=payments,
        credentials=credentials,
        flow=SyncStateMachine(clients["stepfunctions"], machine),
        idempotency=IdempotencyGuard(os.environ["IDEMPOTENCY_TABLE"], 36 * 3600, ddb),
        events=events,
        time_zone="America/Costa_Rica",
        clock=lambda: now,
    )
    for logic in (pagos, reversas):
        monkeypatch.setattr(logic, "default_payment_deps", lambda: deps)
    return PaymentHarness(
        clients, ledger, payments, credentials, deps, bank.token, bank.llave_acceso, faults, queue_url
    )


def codigo(body: Any) -> int:
    """The return code whatever the endpoint's reply shape: ejecutar-pago* an array, reversar-pago the
    bare code, the others an object."""
    if isinstance(body, list):
        return int(body[0]["codigoRespuesta"])
    if isinstance(body, dict):
        return int(body["codigoRespuesta"])
    return int(body)


def descripcion(body: Any) -> str:
    if isinstance(body, list):
        return str(body[0].get("descripcion", ""))
    return str(body.get("descripcion", "")) if isinstance(body, dict) else ""
