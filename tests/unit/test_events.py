"""The EventPublisher port: its EventBridge adapter (a fake client, then moto) and how the payment
logic maps a refused publication (fakes, no network)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from conectividad import flujo, reversas
from conectividad.deps import EVENT_SOURCE, FlowDeps, PaymentDeps
from recaudo.errors import CodigoRespuesta, ErrorSistema
from recaudo.events import EventBridgePublisher, PublishFailed
from recaudo.models.conectividad import ReversaRequest
from recaudo.models.ledger import Convenio, TipoConvenio
from recaudo.models.pagos import CONFIRMADO, DebtRef, Payment, Throttled
from tests.conftest import NOW
from tests.fakes import FakeEvents, FakeLedger

PAYMENT = Payment(
    numero_factura=2026011300001,
    numero_transaccion=7,
    banco="00152",
    agencia="033272",
    convenio="001",
    periodo="202601",
    monto=Decimal("2424.00"),
    identificacion="12345678",
    deudas=(
        DebtRef("PER#12345678", "SALDO#MUNI#2026-01-31#13#1", 1, 2026011300001, "13", "BASURA", Decimal("2424.00")),
    ),
    carrito=False,
    fecha_pago=NOW.isoformat(),
    fecha_local=date(2026, 11, 21),
    estado=CONFIRMADO,
)


@dataclass
class FakeEventsClient:
    """boto3's EventBridge client as far as the adapter uses it."""

    failed: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)

    def put_events(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        entries = [{"ErrorCode": "InternalFailure"}] * self.failed or [{"EventId": "1"}]
        return {"FailedEntryCount": self.failed, "Entries": entries}


class TestEventBridgePublisher:
    def test_given_a_detail_with_amounts_when_published_then_one_entry_on_the_bus_with_exact_json(self):
        # Given the adapter over a client that accepts everything
        client = FakeEventsClient()
        publisher = EventBridgePublisher(client, "recaudo", EVENT_SOURCE)
        # When a detail with a Decimal and a list is published
        publisher.publish("PaymentConfirmed", {"monto": Decimal("7272.10"), "idSaldos": [1, 2], "banco": "00152"})
        # Then exactly one entry went out, on the bus, with the source and type, amounts never floats
        (call,) = client.calls
        (entry,) = call["Entries"]
        assert (entry["EventBusName"], entry["Source"], entry["DetailType"]) == (
            "recaudo",
            "recaudo.conectividad",
            "PaymentConfirmed",
        )
        assert entry["Detail"] == '{"monto":7272.10,"idSaldos":[1,2],"banco":"00152"}'

    def test_given_eventbridge_refuses_the_entry_when_published_then_publish_failed_names_it(self):
        # Given a client that reports a failed entry
        publisher = EventBridgePublisher(FakeEventsClient(failed=1), "recaudo", EVENT_SOURCE)
        # When / Then: the refusal is an error the caller retries, never a silent loss
        with pytest.raises(PublishFailed, match="InternalFailure"):
            publisher.publish("PaymentReversed", {"numeroFactura": 1})

    def test_given_a_bus_with_a_queue_target_when_published_then_the_event_arrives_as_sent(self, aws):
        import boto3

        # Given moto's EventBridge: a bus whose rule sends recaudo.conectividad events to a queue
        events, sqs = boto3.client("events"), boto3.client("sqs")
        events.create_event_bus(Name="recaudo")
        queue = sqs.create_queue(QueueName="eventos")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="todo", EventBusName="recaudo", EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
        events.put_targets(Rule="todo", EventBusName="recaudo", Targets=[{"Id": "q", "Arn": arn}])
        # When an event is published through the adapter
        EventBridgePublisher(events, "recaudo", EVENT_SOURCE).publish("PaymentReversed", {"monto": "10.00"})
        # Then it is delivered with its type and detail
        (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        delivered = json.loads(message["Body"])
        assert (delivered["detail-type"], delivered["detail"]) == ("PaymentReversed", {"monto": "10.00"})


# ---- the logic's side of the port ----


@dataclass
class FakeFlowPayments:
    def confirm(self, payment: Payment, cuenta_origen: str) -> bool:
        return True

    def compensate(self, payment: Payment, motivo: str, at: str) -> bool:
        return True


def flow_state() -> dict[str, Any]:
    return {"pago": replace(PAYMENT, estado="APLICADO").as_dict(), "cuentaOrigen": "Banco 00152 / Agencia 033272"}


class TestPaymentFlowEvents:
    def test_given_a_confirmed_payment_then_payment_confirmed_carries_the_documented_detail(self):
        # Given the confirm task with a recording publisher
        events = FakeEvents()
        # When the payment is confirmed
        flujo.confirmar_pago(flow_state(), FlowDeps(payments=FakeFlowPayments(), events=events))  # type: ignore[arg-type]
        # Then one PaymentConfirmed with the shape consumers dedupe on (amount as a string)
        assert events.published == [
            (
                "PaymentConfirmed",
                {
                    "numeroFactura": PAYMENT.numero_factura,
                    "numeroTransaccion": 7,
                    "banco": "00152",
                    "convenio": "001",
                    "identificacion": "12345678",
                    "monto": "2424.00",
                    "idSaldos": [2026011300001],
                },
            )
        ]

    @pytest.mark.parametrize("task", [flujo.confirmar_pago, flujo.compensar_pago])
    def test_given_the_bus_refuses_when_a_task_publishes_then_throttled_so_the_state_machine_retries(self, task):
        # Given a publisher that refuses every event
        deps = FlowDeps(payments=FakeFlowPayments(), events=FakeEvents(refuse=True))  # type: ignore[arg-type]
        # When / Then: the task fails with the error name the state machine retries with backoff
        with pytest.raises(Throttled, match="PutEvents failed"):
            task(flow_state(), deps)


@dataclass
class FakeReversalPayments:
    reversed_: list[Payment] = field(default_factory=list)

    def get(self, numero_factura: int, banco_carrito: str | None = None) -> Payment | None:
        return None if self.reversed_ else PAYMENT

    def reversed(self, numero_factura: int, banco_carrito: str | None = None) -> list[Payment]:
        return list(self.reversed_)

    def reverse(self, payment: Payment, reversed_at: str) -> None:
        self.reversed_.append(payment)


class FakeKeys:
    def verify_llave(self, codigo_banco: str, llave: str, now: Any = None) -> bool:
        return True

    def token_activo(self, key_id: str, codigo_banco: str) -> bool:
        return True


class NoGuard:
    def run(self, key: dict[str, Any], payload: dict[str, Any], fn: Any, lambda_context: Any = None) -> Any:
        return fn()


def reversal_deps(events: FakeEvents) -> PaymentDeps:
    return PaymentDeps(
        # a reversal reads its convenio (is it a cart?), no debts
        ledger=FakeLedger(convenios={"001": Convenio("001", TipoConvenio.TOTAL, "Total")}),  # type: ignore[arg-type]
        payments=FakeReversalPayments(),  # type: ignore[arg-type]
        credentials=FakeKeys(),
        flow=None,  # type: ignore[arg-type]  # nor runs the state machine
        idempotency=NoGuard(),
        events=events,
        time_zone="America/Costa_Rica",
        clock=lambda: NOW,
    )


REVERSA = ReversaRequest(
    llaveAcceso="k",
    codigoConvenio="001",
    codigoBanco="00152",
    codigoAgencia="033272",
    periodo="202601",
    numeroFactura=PAYMENT.numero_factura,
)


class TestReversalEvents:
    def test_given_a_confirmed_payment_when_reversed_then_payment_reversed_with_its_detail(self):
        # Given a confirmed payment and a recording publisher
        events = FakeEvents()
        # When the bank reverses it
        assert reversas.reversar_pago(REVERSA, "00152", reversal_deps(events)) == "aplicada"
        # Then one PaymentReversed, amount as a string
        assert events.published == [
            (
                "PaymentReversed",
                {"numeroFactura": PAYMENT.numero_factura, "numeroTransaccion": 7, "banco": "00152", "monto": "2424.00"},
            )
        ]

    def test_given_the_bus_refuses_after_the_reversal_then_code_1_asking_to_retry(self):
        # Given a publisher that refuses every event
        deps = reversal_deps(FakeEvents(refuse=True))
        # When the reversal is applied but its event cannot go out
        with pytest.raises(ErrorSistema, match="reintente") as raised:
            reversas.reversar_pago(REVERSA, "00152", deps)
        # Then the bank gets code 1 and the retry will answer "previa" and publish again
        assert raised.value.codigo is CodigoRespuesta.ERROR_SISTEMA
        assert len(deps.payments.reversed(PAYMENT.numero_factura)) == 1
