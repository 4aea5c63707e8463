"""ejecutar-pago*, reversar-pago, historial-pagos and verificar-pago: handlers in-process, the real
state machine executed by moto, faults injected at every step."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from recaudo.models.ledger import Deuda, EstadoDeuda, TipoConvenio
from tests.conftest import NOW
from tests.integration.payment_harness import PaymentHarness, build, codigo, descripcion, load_subset


@pytest.fixture
def h(aws, monkeypatch) -> PaymentHarness:
    harness = build(NOW, monkeypatch)
    harness.demo = load_subset(harness.ledger, NOW.date())
    return harness


def pending(h: PaymentHarness, ident: str = "12345678", year: int = 2026, rubro: str = "13") -> list[Deuda]:
    return [
        d
        for d in h.demo.deudas
        if d.identificacion == ident and d.estado is EstadoDeuda.PENDIENTE and d.year == year and d.id_rubro == rubro
    ]


def pay_body(h: PaymentHarness, d: Deuda, convenio: str = "001", **overrides) -> str:
    """The JSON a bank sends, amounts as JSON numbers (not strings)."""
    monto = overrides.pop("montoTotal", d.monto)
    values = {
        "codigoConvenio": convenio,
        "periodo": f"{d.year}{d.periodo}",
        "montoTotal": "MONTO",
        "numeroFactura": d.id_saldo,
    }
    text = json.dumps(h.body(**(values | overrides)))
    return text.replace('"MONTO"', str(monto))


def estado(h: PaymentHarness, d: Deuda) -> str:
    return h.ledger.get_deuda_por_factura(d.id_saldo).estado.value


class TestPay:
    def test_given_a_pending_invoice_when_paid_then_the_documented_reply_and_everything_recorded(self, h):
        d = pending(h)[0]
        status, reply, _ = h.post("ejecutar-pago-total", pay_body(h, d))
        assert status == 200
        assert reply == [
            {
                "numeroFactura": d.id_saldo,
                "codigoRespuesta": 0,
                "idRubro": "13",
                "descripcion": d.descripcion,
                "montoPagado": d.monto,
            }
        ]
        assert isinstance(reply[0]["montoPagado"], Decimal)
        assert estado(h, d) == "pagado"
        assert h.get("verificar-pago", f"numeroFactura={d.id_saldo}")[0] == 200
        status, history = h.get("historial-pagos", "cedula=12345678&fechaInicio=21/11/2026&fechaFinal=21/11/2026")
        assert status == 200 and [(x["fechaPago"], x["montoPago"]) for x in history] == [("21/11/2026", d.monto)]
        (event,) = h.events()
        assert event["detail-type"] == "PaymentConfirmed" and event["detail"]["monto"] == str(d.monto)

    @pytest.mark.parametrize("segment", ["ejecutar-pago", "ejecutar-pago-total"])
    def test_given_the_generic_or_typed_endpoint_then_both_pay(self, h, segment):
        d = pending(h)[1]
        assert h.post(segment, pay_body(h, d))[0] == 200

    def test_given_a_vencido_convenio_when_paying_an_overdue_invoice_on_its_endpoint_then_paid(self, h):
        d = pending(h, year=2025)[0]
        assert h.post("ejecutar-pago-vencido", pay_body(h, d, convenio="003"))[0] == 200

    def test_given_the_same_request_again_then_the_first_reply_and_no_second_payment(self, h):
        d = pending(h)[0]
        first = h.post("ejecutar-pago", pay_body(h, d))
        tx = h.payments.get(d.id_saldo).numero_transaccion
        second = h.post("ejecutar-pago", pay_body(h, d))
        assert first[:2] == second[:2]
        assert h.payments.get(d.id_saldo).numero_transaccion == tx
        assert h.faults.calls.get("Aplicar") == 1  # the replay never reached the ledger
        assert len(h.events()) == 1

    def test_given_the_same_invoice_with_another_amount_then_refused_clearly(self, h):
        d = pending(h)[0]
        h.post("ejecutar-pago", pay_body(h, d))
        status, reply, _ = h.post("ejecutar-pago", pay_body(h, d, montoTotal=d.monto + 1))
        # another request (another fingerprint) for a paid invoice: code 3, the invoice is paid
        assert (status, codigo(reply)) == (404, 3)
        assert "ya fue pagada" in descripcion(reply)

    def test_given_an_expired_idempotency_record_when_replayed_then_the_ledger_still_prevents_a_double_payment(self, h):
        d = pending(h)[0]
        first = h.post("ejecutar-pago", pay_body(h, d))
        ddb, table = h.clients["dynamodb"], "recaudo-idempotency"
        for item in ddb.scan(TableName=table)["Items"]:  # test-only cleanup: the records "expired"
            ddb.delete_item(TableName=table, Key={"id": item["id"]})
        again = h.post("ejecutar-pago", pay_body(h, d))
        assert again[:2] == first[:2]
        assert h.faults.calls.get("Aplicar") == 1
        # another bank replaying it is told the invoice is paid, nothing changes
        other = h.post("ejecutar-pago", pay_body(h, d, codigoBanco="00999", llaveAcceso="x"), banco="00999")
        assert other[0] == 401

    def test_given_a_paid_invoice_when_another_payment_arrives_then_code_3(self, h):
        d = pending(h)[0]
        h.post("ejecutar-pago", pay_body(h, d))
        status, reply, _ = h.post("ejecutar-pago", pay_body(h, d, codigoAgencia="999999"))
        assert (status, codigo(reply)) == (404, 3)  # another request for the paid invoice
        # a different bank with its own valid key: the ledger refuses
        other = h.credentials.create_bank("00777", "Tercer Banco", NOW)
        status, reply, _ = h.post(
            "ejecutar-pago", pay_body(h, d, codigoBanco="00777", llaveAcceso=other.llave_acceso), banco="00777"
        )
        assert (status, codigo(reply)) == (404, 3)


class TestReviewFindings:
    """Each found by a review; each once let money or a reply go wrong."""

    def test_given_aplicar_committed_but_its_reply_was_lost_when_retried_then_the_payment_completes(self, h):
        from recaudo.models.pagos import Throttled

        d = pending(h)[0]
        h.faults.arm_after("Aplicar", Throttled("reply lost after the commit"))
        assert h.post("ejecutar-pago", pay_body(h, d))[0] == 200
        assert h.faults.calls["Aplicar"] == 2 and h.faults.calls.get("Compensar") is None
        assert estado(h, d) == "pagado" and h.payments.get(d.id_saldo).estado == "CONFIRMADO"

    def expire_idempotency(self, h):
        ddb = h.clients["dynamodb"]
        for item in ddb.scan(TableName="recaudo-idempotency")["Items"]:  # test-only: the records "expired"
            ddb.delete_item(TableName="recaudo-idempotency", Key={"id": item["id"]})

    def test_given_a_reused_cart_receipt_with_other_transactions_then_refused_not_replayed(self, h):
        a, b = pending(h, ident="87654321")[:2]
        tx = TestCarrito().txs

        def cart(d):
            return json.dumps(
                h.body(
                    codigoConvenio="004", periodo="202611", numeroFactura=777005, montoTotal="T", transacciones=tx([d])
                )
            ).replace('"T"', str(d.monto))

        assert h.post("ejecutar-pago", cart(a))[0] == 200
        self.expire_idempotency(h)
        status, reply, _ = h.post("ejecutar-pago", cart(b))  # same receipt number, same total, another debt
        assert (status, codigo(reply)) == (400, 5)
        assert estado(h, b) == "pendiente"
        assert h.post("ejecutar-pago", cart(a))[0] == 200  # the very same cart still replays

    def test_given_an_expired_record_and_other_data_for_a_paid_invoice_then_code_3(self, h):
        d = pending(h)[0]
        h.post("ejecutar-pago", pay_body(h, d))
        self.expire_idempotency(h)
        status, reply, _ = h.post("ejecutar-pago", pay_body(h, d, codigoAgencia="999999"))
        assert (status, codigo(reply)) == (404, 3)

    def test_given_the_bank_code_with_or_without_zeros_then_the_same_payment_replays(self, h):
        d = pending(h)[0]
        first = h.post("ejecutar-pago", pay_body(h, d, codigoBanco="00152"))
        again = h.post("ejecutar-pago", pay_body(h, d, codigoBanco="152"))
        assert first[:2] == again[:2] and again[0] == 200

    def test_given_a_reversal_whose_event_was_lost_when_retried_then_previa_and_the_event_goes_out(self, h):
        d = pending(h)[0]
        h.post("ejecutar-pago", pay_body(h, d))
        h.events()
        bus = h.clients["events"]  # the client behind the deps' EventBridgePublisher
        original = bus.put_events
        bus.put_events = lambda **kw: {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]}
        body = TestReversal().reversal(h, d)
        status, reply, _ = h.post("reversar-pago", body)
        assert (status, codigo(reply)) == (500, 1)
        bus.put_events = original
        status, reply, headers = h.post("reversar-pago", body)
        assert (status, reply, headers["X-Recaudo-Reversa"]) == (200, 0, "previa")
        assert [e["detail-type"] for e in h.events()] == ["PaymentReversed"]
        assert estado(h, d) == "pendiente"

    def test_given_a_reversal_with_another_period_then_code_5_and_nothing_changes(self, h):
        d = pending(h)[0]
        h.post("ejecutar-pago", pay_body(h, d))
        status, reply, _ = h.post("reversar-pago", TestReversal().reversal(h, d, periodo="199901"))
        assert (status, codigo(reply)) == (400, 5)
        assert estado(h, d) == "pagado"


class TestRulesChangeNothing:
    @pytest.mark.parametrize(
        ("overrides", "banco", "code"),
        [
            ({"llaveAcceso": "wrong"}, "00152", 4),
            ({"codigoBanco": "00999"}, "00152", 4),
            ({}, "00999", 4),
            ({"montoTotal": Decimal("1.00")}, "00152", 5),
            ({"periodo": "201903"}, "00152", 5),
            ({"codigoConvenio": "999"}, "00152", 5),
            ({"codigoConvenio": "003"}, "00152", 5),  # a future-ish debt is not in the vencido selection
            ({"numeroFactura": 99999999999}, "00152", 5),
            ({"codigoConvenio": "013", "numeroFactura": None}, "00152", 5),
        ],
    )
    def test_given_a_rule_broken_when_paying_then_its_code_and_no_change(self, h, overrides, banco, code):
        d = pending(h, year=2026)[-1]  # December 2026: not yet overdue
        if "numeroFactura" in overrides and overrides["numeroFactura"] is None:
            overrides = overrides | {"numeroFactura": pending(h, rubro="17")[0].id_saldo}  # a rubro outside 013
        status, reply, _ = h.post("ejecutar-pago", pay_body(h, d, **overrides), banco=banco)
        assert codigo(reply) == code, reply
        assert status in (400, 401)
        assert estado(h, d) == "pendiente" and h.payments.get(d.id_saldo) is None
        assert h.faults.calls == {}

    def test_given_a_typed_endpoint_with_another_convenio_type_then_code_5(self, h):
        d = pending(h)[0]
        status, reply, _ = h.post("ejecutar-pago-parcial", pay_body(h, d, convenio="001"))
        assert (status, codigo(reply)) == (400, 5)

    @pytest.mark.parametrize(
        "body",
        [
            "",
            "not json",
            "[]",
            "{}",
            '{"montoTotal": "abc"}',
            "MONTO:-5",
            "MONTO:12.345",
            "FACTURA:0.0",
            "FACTURA:1.5",
            'FACTURA:"12a"',
            "FACTURA:true",
            'FACTURA:"²"',  # a Unicode digit
            'FACTURA:{"a": 1}',
            "MONTO:1e999999999",
            'AGENCIA:"\\ud800"',  # a lone surrogate
            'AGENCIA:"a\\u0000b"',
        ],
    )
    def test_given_a_malformed_body_then_code_5_never_500(self, h, body):
        d = pending(h)[0]
        if body.startswith("MONTO:"):
            body = pay_body(h, d, montoTotal=body.removeprefix("MONTO:"))
        elif body.startswith("FACTURA:"):
            body = pay_body(h, d).replace(str(d.id_saldo), body.removeprefix("FACTURA:"))
        elif body.startswith("AGENCIA:"):
            body = pay_body(h, d).replace('"033272"', body.removeprefix("AGENCIA:"))
        status, reply, _ = h.post("ejecutar-pago", body)
        assert (status, codigo(reply)) == (400, 5), reply


class TestCarrito:
    def txs(self, deudas):
        return [
            {
                "numeroPersona": d.numero_persona,
                "auxiliarContable": d.auxiliar_contable,
                "numeroCuenta": d.numero_cuenta,
                "tipoTransaccion": d.tipo_transaccion,
                "numeroDocumento": d.numero_documento,
            }
            for d in deudas
        ]

    def test_given_transactions_from_the_carrito_query_when_paid_then_only_invoice_and_code(self, h):
        status, saldos = h.get("saldos-persona", "codigoConvenio=004&identificacion=87654321")
        assert status == 200
        chosen = [s for s in saldos[:2]]
        deudas = [h.ledger.get_deuda_por_factura(s["idSaldo"]) for s in chosen]
        total = sum((s["monto"] for s in chosen), Decimal("0.00"))
        body = json.dumps(
            h.body(
                codigoConvenio="004",
                periodo="202611",
                numeroFactura=777001,
                montoTotal="T",
                transacciones=self.txs(deudas),
            )
        ).replace('"T"', str(total))
        status, reply, _ = h.post("ejecutar-pago", body)
        assert (status, reply) == (200, [{"numeroFactura": 777001, "codigoRespuesta": 0}])
        assert all(estado(h, d) == "pagado" for d in deudas)
        assert h.get("verificar-pago", "numeroFactura=777001")[0] == 200

    def test_given_a_bad_cart_then_code_5_and_nothing_paid(self, h):
        deudas = pending(h, ident="87654321")[:2]
        base = {"codigoConvenio": "004", "periodo": "202611", "numeroFactura": 777002, "montoTotal": "T"}
        cases = [
            (self.txs(deudas) + self.txs(deudas[:1]), str(sum(d.monto for d in deudas) + deudas[0].monto)),  # repeated
            (self.txs(deudas), "1.00"),  # wrong total
            ([], "1.00"),  # empty cart
            ([{**self.txs(deudas)[0], "numeroDocumento": "nope"}], str(deudas[0].monto)),  # unknown transaction
        ]
        for transacciones, total in cases:
            body = json.dumps(h.body(**base, transacciones=transacciones)).replace('"T"', total)
            status, reply, _ = h.post("ejecutar-pago", body)
            assert (status, codigo(reply)) == (400, 5), transacciones
        assert all(estado(h, d) == "pendiente" for d in deudas)


class TestReversal:
    def reversal(self, h, d, **overrides) -> str:
        return json.dumps(
            h.body(codigoConvenio="001", periodo=f"{d.year}{d.periodo}", numeroFactura=d.id_saldo) | overrides
        )

    def test_given_a_payment_when_reversed_then_0_debts_pending_and_history_clean(self, h):
        d = pending(h)[0]
        h.post("ejecutar-pago", pay_body(h, d))
        status, reply, headers = h.post("reversar-pago", self.reversal(h, d))
        assert (status, reply, headers["X-Recaudo-Reversa"]) == (200, 0, "aplicada")
        assert estado(h, d) == "pendiente"
        assert h.get("verificar-pago", f"numeroFactura={d.id_saldo}")[0] == 404
        assert h.get("historial-pagos", "cedula=12345678&fechaInicio=01/11/2026&fechaFinal=30/11/2026")[1] == []
        assert [e["detail-type"] for e in h.events()] == ["PaymentConfirmed", "PaymentReversed"]

    def test_given_a_reversed_payment_when_reversed_again_then_0_and_says_so(self, h):
        d = pending(h)[0]
        h.post("ejecutar-pago", pay_body(h, d))
        h.post("reversar-pago", self.reversal(h, d))
        status, reply, headers = h.post("reversar-pago", self.reversal(h, d))  # a replay
        assert (status, reply, headers["X-Recaudo-Reversa"]) == (200, 0, "previa")
        h.clients["dynamodb"].delete_table(TableName="recaudo-idempotency")  # not thanks to the idempotency record
        from recaudo.data.tables import IDEMPOTENCY

        h.clients["dynamodb"].create_table(**IDEMPOTENCY.create_table_kwargs("recaudo-idempotency"))
        status, reply, headers = h.post("reversar-pago", self.reversal(h, d))
        assert (status, reply, headers["X-Recaudo-Reversa"]) == (200, 0, "previa")
        assert estado(h, d) == "pendiente"

    def test_given_a_reversed_invoice_when_paid_again_then_it_is_paid_once_more(self, h):
        d = pending(h)[0]
        h.post("ejecutar-pago", pay_body(h, d))
        first_tx = h.payments.get(d.id_saldo).numero_transaccion
        h.post("reversar-pago", self.reversal(h, d))
        # the very same request again, after the reversal, is a late retry: refused (decisions, "a retry
        # never pays twice"); a deliberate new payment carries a new Idempotency-Key
        assert codigo(h.post("ejecutar-pago", pay_body(h, d))[1]) == 5
        assert h.post("ejecutar-pago", pay_body(h, d), headers={"Idempotency-Key": "segundo-pago"})[0] == 200
        assert estado(h, d) == "pagado" and h.payments.get(d.id_saldo).numero_transaccion != first_tx
        assert [p.numero_transaccion for p in h.payments.reversed(d.id_saldo)] == [first_tx]

    def test_given_pay_reverse_pay_when_reversed_again_then_the_second_payment_is_reversed(self, h):
        # found by the property test: the second reversal must not replay the first one
        d = pending(h)[0]
        h.post("ejecutar-pago", pay_body(h, d))
        h.post("reversar-pago", self.reversal(h, d))
        assert h.post("ejecutar-pago", pay_body(h, d), headers={"Idempotency-Key": "nuevo"})[0] == 200
        status, reply, headers = h.post("reversar-pago", self.reversal(h, d))
        assert (status, reply, headers["X-Recaudo-Reversa"]) == (200, 0, "aplicada")
        assert estado(h, d) == "pendiente" and h.payments.get(d.id_saldo) is None
        assert len(h.payments.reversed(d.id_saldo)) == 2

    def test_given_no_payment_or_another_bank_then_their_codes(self, h):
        d = pending(h)[0]
        assert codigo(h.post("reversar-pago", self.reversal(h, d))[1]) == 5
        h.post("ejecutar-pago", pay_body(h, d))
        other = h.credentials.create_bank("00777", "Tercer Banco", NOW)
        status, reply, _ = h.post(
            "reversar-pago", self.reversal(h, d, codigoBanco="00777", llaveAcceso=other.llave_acceso), banco="00777"
        )
        assert (status, codigo(reply)) == (400, 5)  # another bank's payment: as if absent
        assert estado(h, d) == "pagado"


class TestFaults:
    @pytest.mark.parametrize("task", ["Aplicar", "Confirmar", "Verificar"])
    def test_given_throttling_at_a_step_then_retried_with_backoff_and_paid_once(self, h, task):
        from recaudo.models.pagos import Throttled

        d = pending(h)[0]
        h.faults.arm(task, Throttled("slow down"), times=2)
        assert h.post("ejecutar-pago", pay_body(h, d))[0] == 200
        assert h.faults.calls[task] == 3 and estado(h, d) == "pagado"
        assert h.faults.calls.get("Compensar") is None
        assert len([e for e in h.events() if e["detail-type"] == "PaymentConfirmed"]) == 1

    def test_given_the_lambda_dies_after_starting_the_flow_then_a_retry_gets_the_payment_not_a_second_one(self, h):
        d = pending(h)[0]
        original = h.deps.flow.run

        def run_then_die(name, payload):
            original(name, payload)  # the execution completes in Step Functions...
            raise TimeoutError("Task timed out")  # ...but the endpoint's Lambda never answers

        h.deps.flow.run = run_then_die  # type: ignore[method-assign]
        status, reply, _ = h.post("ejecutar-pago", pay_body(h, d))
        assert (status, codigo(reply)) == (500, 1)
        h.deps.flow.run = original  # type: ignore[method-assign]
        tx = h.payments.get(d.id_saldo).numero_transaccion
        # the bank retries: the ledger already holds the payment, so it gets the reply, once
        status, reply, _ = h.post("ejecutar-pago", pay_body(h, d))
        assert status == 200 and reply[0]["montoPagado"] == d.monto
        assert h.payments.get(d.id_saldo).numero_transaccion == tx and h.faults.calls["Aplicar"] == 1

    @pytest.mark.parametrize(
        ("task", "when"),
        [("Confirmar", "before"), ("Verificar", "before"), ("Aplicar", "after"), ("Confirmar", "after")],
        ids=["confirm-crashes", "verify-crashes", "apply-times-out-after-commit", "confirm-times-out-after-commit"],
    )
    def test_given_a_failure_after_apply_then_compensated_code_1_and_a_retry_recovers(self, h, task, when):
        d = pending(h)[0]
        if when == "before":
            h.faults.arm(task, RuntimeError("worker crashed"))
        else:  # the task did its work, then its Lambda timed out
            h.faults.arm_after(task, TimeoutError("Task timed out after 10.00 seconds"))
        status, reply, _ = h.post("ejecutar-pago", pay_body(h, d))
        assert (status, codigo(reply)) == (500, 1)
        assert h.faults.calls["Compensar"] == 1
        assert estado(h, d) == "pendiente" and h.payments.get(d.id_saldo) is None  # nothing stuck half-way
        assert h.get("historial-pagos", "cedula=12345678&fechaInicio=21/11/2026&fechaFinal=21/11/2026")[1] == []
        # a confirmation that went out is cancelled by a compensation event of the same transaction
        confirmed = task == "Verificar" or (task, when) == ("Confirmar", "after")
        kinds = [e["detail-type"] for e in h.events()]
        assert kinds == (["PaymentConfirmed", "PaymentCompensated"] if confirmed else ["PaymentCompensated"])
        assert h.post("ejecutar-pago", pay_body(h, d))[0] == 200  # the bank retries: paid, once
        assert estado(h, d) == "pagado"

    def test_given_a_concurrent_change_when_applying_then_transaction_cancelled_and_nothing_changed(self, h):
        d = pending(h)[0]
        # another writer bumps the debt's version between our read and the transaction
        original = h.deps.flow.run

        def run(name, payload):
            h.clients["dynamodb"].update_item(
                TableName="recaudo-ledger",
                Key={"PK": {"S": payload["pago"]["deudas"][0]["pk"]}, "SK": {"S": payload["pago"]["deudas"][0]["sk"]}},
                UpdateExpression="SET version = version + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
            return original(name, payload)

        h.deps.flow.run = run  # type: ignore[method-assign]
        status, reply, _ = h.post("ejecutar-pago", pay_body(h, d))
        assert (status, codigo(reply)) == (404, 3)
        assert estado(h, d) == "pendiente" and h.payments.get(d.id_saldo) is None


class TestQueries:
    @pytest.mark.parametrize(
        ("query", "status", "code"),
        [
            ("cedula=12345678&fechaInicio=31/12/2026&fechaFinal=01/01/2026", 400, 5),
            ("cedula=12345678&fechaInicio=01/01/2020&fechaFinal=01/01/2026", 400, 5),
            ("cedula=12345678&fechaInicio=31/02/2026&fechaFinal=01/03/2026", 400, 5),
            ("cedula=12345678&fechaInicio=2026-01-01&fechaFinal=01/03/2026", 400, 5),
            ("cedula=00000000&fechaInicio=01/01/2026&fechaFinal=01/03/2026", 404, 2),
        ],
    )
    def test_given_bad_history_requests_then_their_codes(self, h, query, status, code):
        got_status, reply = h.get("historial-pagos", query)
        assert (got_status, codigo(reply)) == (status, code)

    def test_given_the_documents_history_example_with_no_payments_then_an_empty_list(self, h):
        assert h.get("historial-pagos", "cedula=12345678&fechaInicio=01/01/2019&fechaFinal=01/03/2019") == (200, [])

    @pytest.mark.parametrize("query", ["numeroFactura=abc", "numeroFactura=0", "numeroFactura=-1", ""])
    def test_given_a_bad_invoice_number_when_verifying_then_code_5(self, h, query):
        status, reply = h.get("verificar-pago", query)
        assert (status, codigo(reply)) == (400, 5)

    def test_given_an_unpaid_invoice_when_verifying_then_404(self, h):
        assert h.get("verificar-pago", f"numeroFactura={pending(h)[0].id_saldo}")[0] == 404


def test_given_a_type_endpoint_table_then_every_type_has_one(h):
    assert {t.value for t in TipoConvenio} >= {"total", "parcial", "vencido"}
