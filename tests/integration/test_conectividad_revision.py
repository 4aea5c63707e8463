"""Issue 13, the payments review: each finding reproduced against the real state machine (moto) and
the ledger's conditional writes, then the rule that replaces it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from conectividad import barrido, pagos
from conectividad.deps import FlowDeps
from recaudo.data.ledger import DuplicateRecord
from recaudo.models.ledger import Convenio, Deuda, EstadoDeuda, TipoConvenio
from recaudo.models.pagos import APLICADO, COMPENSADO, CONFIRMADO, REVERSADO
from tests.conftest import NOW
from tests.helpers import LambdaContext, rest_event
from tests.integration.payment_harness import BASE, PaymentHarness, build, codigo, descripcion, load_subset


@pytest.fixture
def h(aws, monkeypatch) -> PaymentHarness:
    harness = build(NOW, monkeypatch)
    harness.demo = load_subset(harness.ledger, NOW.date())
    return harness


def pending(h: PaymentHarness, rubro: str = "13") -> list[Deuda]:
    return [
        d
        for d in h.demo.deudas
        if d.identificacion == "12345678"
        and d.estado is EstadoDeuda.PENDIENTE
        and d.year == 2026
        and d.id_rubro == rubro
    ]


def pay_body(h: PaymentHarness, d: Deuda, **overrides: Any) -> str:
    values = {
        "codigoConvenio": "001",
        "periodo": f"{d.year}{d.periodo}",
        "montoTotal": "MONTO",
        "numeroFactura": d.id_saldo,
    }
    return json.dumps(h.body(**(values | overrides))).replace('"MONTO"', str(d.monto))


def post(
    h: PaymentHarness,
    segment: str,
    body: str,
    banco: str = "00152",
    headers: dict[str, str] | None = None,
    key_id: str | None = None,
) -> tuple[int, Any]:
    from recaudo.money import loads

    module = __import__(f"conectividad.{segment.replace('-', '_')}", fromlist=["handler"])
    authorizer = {"codigoBanco": banco} | ({"keyId": key_id} if key_id else {})
    event = rest_event("POST", f"{BASE}/{segment}", body=body, authorizer=authorizer, headers=headers)
    response = module.handler(event, LambdaContext())
    return response["statusCode"], loads(response["body"]) if response.get("body") else None


def get(h: PaymentHarness, segment: str, query: str, banco: str = "00152") -> tuple[int, Any]:
    from recaudo.money import loads

    module = __import__(f"conectividad.{segment.replace('-', '_')}", fromlist=["handler"])
    event = rest_event("GET", f"{BASE}/{segment}", query, authorizer={"codigoBanco": banco})
    response = module.handler(event, LambdaContext())
    return response["statusCode"], loads(response["body"]) if response.get("body") else None


def reversa_body(h: PaymentHarness, d: Deuda, **overrides: Any) -> str:
    values = {"codigoConvenio": "001", "periodo": f"{d.year}{d.periodo}", "numeroFactura": d.id_saldo}
    return json.dumps(h.body(**(values | overrides)))


def payments_of(h: PaymentHarness, d: Deuda) -> list[tuple[int, str]]:
    return sorted((p.numero_transaccion, p.estado) for p in h.payments.all_of(f"PAGO#{d.id_saldo}"))


class TestNoSecondCharge:
    def test_given_a_reversed_payment_when_the_identical_body_is_resent_then_refused_and_no_second_payment(self, h):
        # Given bank A paid an invoice, then reversed it
        d = pending(h)[0]
        assert post(h, "ejecutar-pago", pay_body(h, d))[0] == 200
        assert post(h, "reversar-pago", reversa_body(h, d))[0] == 200
        # When it re-sends the byte-identical original payment (a late retry, no Idempotency-Key)
        status, body = post(h, "ejecutar-pago", pay_body(h, d))
        # Then it is refused (code 5, naming the reversal and the way to pay again), nothing is paid twice
        assert (status, codigo(body)) == (400, 5) and "Idempotency-Key nuevo" in descripcion(body)
        assert [e for _, e in payments_of(h, d)] == [REVERSADO]
        assert h.ledger.get_deuda_por_factura(d.id_saldo).estado is EstadoDeuda.PENDIENTE

    def test_given_the_idempotency_record_expired_when_the_identical_body_is_resent_then_still_refused(self, h):
        # Given a paid-then-reversed invoice and the idempotency cache emptied (the record expired)
        d = pending(h)[0]
        post(h, "ejecutar-pago", pay_body(h, d))
        post(h, "reversar-pago", reversa_body(h, d))
        h.clients["dynamodb"].delete_table(TableName="recaudo-idempotency")
        from recaudo.data.tables import IDEMPOTENCY

        h.clients["dynamodb"].create_table(**IDEMPOTENCY.create_table_kwargs("recaudo-idempotency"))
        # When the identical body comes again / Then the ledger alone refuses it
        assert codigo(post(h, "ejecutar-pago", pay_body(h, d))[1]) == 5
        assert [e for _, e in payments_of(h, d)] == [REVERSADO]

    def test_given_a_new_idempotency_key_after_a_reversal_then_a_deliberate_new_payment(self, h):
        # Given a paid-then-reversed invoice
        d = pending(h)[0]
        post(h, "ejecutar-pago", pay_body(h, d), headers={"Idempotency-Key": "pago-1"})
        post(h, "reversar-pago", reversa_body(h, d))
        # When the bank pays again under a new key
        status, _ = post(h, "ejecutar-pago", pay_body(h, d), headers={"Idempotency-Key": "pago-2"})
        # Then it is a new payment; the old key and the keyless body are retries and change nothing
        assert status == 200
        assert [e for _, e in payments_of(h, d)] == [REVERSADO, CONFIRMADO]
        assert codigo(post(h, "ejecutar-pago", pay_body(h, d), headers={"Idempotency-Key": "pago-1"})[1]) == 5
        # the keyless body is still the late retry of the reversed payment: refused, never a third one
        assert codigo(post(h, "ejecutar-pago", pay_body(h, d))[1]) == 5
        assert post(h, "ejecutar-pago", pay_body(h, d), headers={"Idempotency-Key": "pago-2"})[0] == 200  # replay
        assert len(payments_of(h, d)) == 2

    def test_given_a_reversed_payment_and_a_keyed_one_compensated_then_the_keyless_retry_stays_refused(self, h):
        # Given a keyless payment, reversed; then a keyed payment of the same body that fails and is undone
        d = pending(h)[0]
        post(h, "ejecutar-pago", pay_body(h, d))
        post(h, "reversar-pago", reversa_body(h, d))
        h.faults.arm("Confirmar", ValueError("permanent"), times=1)
        status, _ = post(h, "ejecutar-pago", pay_body(h, d), headers={"Idempotency-Key": "fallido"})
        assert status == 500
        # When the first, keyless request comes again late / Then still refused: nothing paid twice
        assert codigo(post(h, "ejecutar-pago", pay_body(h, d))[1]) == 5
        assert [e for _, e in payments_of(h, d)] == [REVERSADO, COMPENSADO]

    def test_given_a_key_used_when_sent_with_another_body_then_code_5(self, h):
        # Given a payment under key K
        a, b = pending(h)[:2]
        post(h, "ejecutar-pago", pay_body(h, a), headers={"Idempotency-Key": "K"})
        # When K comes with another invoice / Then refused, and that invoice stays pending
        status, body = post(h, "ejecutar-pago", pay_body(h, b), headers={"Idempotency-Key": "K"})
        assert (status, codigo(body)) == (400, 5)
        assert h.ledger.get_deuda_por_factura(b.id_saldo).estado is EstadoDeuda.PENDIENTE

    @pytest.mark.parametrize("clave", ["", " ", "x" * 256, "ñandú"])
    def test_given_a_malformed_idempotency_key_then_code_5(self, h, clave):
        d = pending(h)[0]
        status, body = post(h, "ejecutar-pago", pay_body(h, d), headers={"Idempotency-Key": clave})
        assert (status, codigo(body)) == (400, 5)
        assert payments_of(h, d) == []


class TestCarts:
    @pytest.fixture
    def carrito(self, h):
        h.ledger.put_convenio(Convenio("009", TipoConvenio.CARRITO, "Carrito"))
        return h

    def cart(self, h, d: Deuda, numero: int, banco: str = "00152", **tx: Any) -> str:
        transaccion = {
            "auxiliarContable": d.auxiliar_contable,
            "numeroCuenta": d.numero_cuenta,
            "tipoTransaccion": d.tipo_transaccion,
            "numeroDocumento": d.numero_documento,
        } | tx
        body = h.body(
            codigoBanco=banco,
            codigoConvenio="009",
            periodo=f"{d.year}{d.periodo}",
            numeroFactura=numero,
            montoTotal="MONTO",
            transacciones=[transaccion],
        )
        return json.dumps(body).replace('"MONTO"', str(d.monto))

    def test_given_a_cart_number_paid_when_a_debt_is_created_with_it_then_refused(self, carrito):
        # Given a cart paid under receipt number 777
        h = carrito
        d = pending(h)[0]
        assert post(h, "ejecutar-pago", self.cart(h, d, 777))[0] == 200
        # When a debt (an import, the admin) would take invoice number 777
        taken = replace(d, id_saldo=777, fecha_corte=d.fecha_corte + timedelta(days=1), version=0)
        # Then the number is reserved: refused, and no bank is ever told 777 "ya fue pagada"
        with pytest.raises(DuplicateRecord):
            h.ledger.put_deuda(taken)
        assert h.ledger.get_deuda_por_factura(777) is None

    def test_given_two_banks_when_both_use_the_same_cart_number_then_both_pay_their_own(self, carrito):
        h = carrito
        a, b = pending(h)[:2]
        llave_b = h.credentials.rotate_llave("00999", NOW, 0)
        ok_a = post(h, "ejecutar-pago", self.cart(h, a, 555))
        body_b = json.loads(self.cart(h, b, 555, banco="00999")) | {"llaveAcceso": llave_b}
        ok_b = post(
            h, "ejecutar-pago", json.dumps(body_b).replace('"' + str(b.monto) + '"', str(b.monto)), banco="00999"
        )
        assert ok_a[0] == 200 and ok_b[0] == 200, (ok_a, ok_b)
        # verificar-pago answers each bank for its own cart only
        assert get(h, "verificar-pago", "numeroFactura=555")[0] == 200
        assert get(h, "verificar-pago", "numeroFactura=555", banco="00999")[0] == 200
        assert get(h, "verificar-pago", "numeroFactura=555", banco="00001")[0] == 404

    def test_given_the_same_debt_with_and_without_numero_persona_then_code_5_at_once(self, carrito):
        # Given a cart naming one debt twice, once with numeroPersona
        h = carrito
        d = pending(h)[0]
        body = json.loads(self.cart(h, d, 901))
        twin = dict(body["transacciones"][0]) | {"numeroPersona": d.numero_persona}
        body["transacciones"].append(twin)
        text = json.dumps(body).replace(f'"{d.monto}"', str(d.monto * 2))
        # When paid / Then refused as a repeated debt, fast, nothing paid, no flow started
        status, reply = post(h, "ejecutar-pago", text)
        assert (status, codigo(reply)) == (400, 5) and "repite" in descripcion(reply)
        assert h.faults.calls == {} and h.ledger.get_deuda_por_factura(d.id_saldo).estado is EstadoDeuda.PENDIENTE


class TestDefiniteAnswers:
    def test_given_the_wait_runs_out_then_en_proceso_202_and_a_way_to_check(self, h, monkeypatch):
        # Given a flow whose outcome our wait does not see (the read timed out; it went on to pay)
        from recaudo.stepfunctions import FlowOutcome

        d = pending(h)[0]
        real = h.deps.flow

        class SlowFlow:
            def run(self, name, payload):
                real.run(name, payload)
                return FlowOutcome(status="DESCONOCIDO", output=None, error="ReadTimeoutError", cause="")

        monkeypatch.setattr(pagos, "default_payment_deps", lambda: replace(h.deps, flow=SlowFlow()))
        # When paid
        status, body = post(h, "ejecutar-pago", pay_body(h, d))
        # Then "en proceso" (202, never a 500 for a payment that went through) ...
        assert status == 202 and codigo(body) == 1 and descripcion(body).startswith("En proceso")
        # ... and both ways to check tell the truth: verificar-pago, and the same request again
        monkeypatch.setattr(pagos, "default_payment_deps", lambda: h.deps)
        assert get(h, "verificar-pago", f"numeroFactura={d.id_saldo}")[0] == 200
        assert post(h, "ejecutar-pago", pay_body(h, d))[0] == 200
        assert [e for _, e in payments_of(h, d)] == [CONFIRMADO]

    def test_given_compensation_fails_then_en_proceso_never_not_charged(self, h):
        # Given Verificar fails and then compensation fails for good (a permanent error)
        d = pending(h)[0]
        h.faults.arm("Verificar", RuntimeError("verification broke"), times=1)
        h.faults.arm("Compensar", ValueError("ValidationException"), times=1)
        # When paid
        status, body = post(h, "ejecutar-pago", pay_body(h, d))
        # Then the bank is told "en proceso", not "no se cobró nada"; Compensar ran once (no retry)
        assert status == 202 and "no se cobró" not in descripcion(body)
        assert h.faults.calls["Compensar"] == 1

    def test_given_compensation_succeeds_then_not_charged_and_an_audit_copy_is_kept(self, h):
        d = pending(h)[0]
        h.faults.arm("Confirmar", ValueError("permanent"), times=1)
        status, body = post(h, "ejecutar-pago", pay_body(h, d))
        assert status == 500 and "no se cobró nada" in descripcion(body)
        assert [e for _, e in payments_of(h, d)] == [COMPENSADO]
        assert h.ledger.get_deuda_por_factura(d.id_saldo).estado is EstadoDeuda.PENDIENTE
        # and the same request may now pay: nothing was charged
        assert post(h, "ejecutar-pago", pay_body(h, d))[0] == 200

    def test_given_a_payment_left_aplicado_when_the_sweeper_runs_then_confirmed(self, h):
        # Given a payment whose execution died after Aplicar (the flow never confirmed it)
        d = pending(h)[0]
        h.faults.arm("Confirmar", RuntimeError("crash"), times=4)
        h.faults.arm("Compensar", RuntimeError("crash"), times=6)
        status, _ = post(h, "ejecutar-pago", pay_body(h, d))
        assert status == 202
        (payment,) = [p for p in h.payments.all_of(f"PAGO#{d.id_saldo}")]
        assert payment.estado == APLICADO
        # When the sweeper runs after the state machine's limit
        later = FlowDeps(payments=h.payments, events=h.deps.events, clock=lambda: NOW + timedelta(minutes=5))
        summary = barrido.barrer(120, deps=later)
        # Then the payment is confirmed and verified, its debt paid, the bank's retry replays it
        assert summary == {"atascados": 1, "confirmados": 1, "compensados": 0, "fallidos": 0}
        assert [e for _, e in payments_of(h, d)] == [CONFIRMADO]
        assert post(h, "ejecutar-pago", pay_body(h, d))[0] == 200
        assert barrido.barrer(120, deps=later)["atascados"] == 0

    def test_given_a_fresh_aplicado_payment_then_the_sweeper_leaves_it_to_its_flow(self, h):
        d = pending(h)[0]
        h.faults.arm("Confirmar", RuntimeError("crash"), times=4)
        h.faults.arm("Compensar", RuntimeError("crash"), times=6)
        post(h, "ejecutar-pago", pay_body(h, d))
        now = FlowDeps(payments=h.payments, events=h.deps.events, clock=lambda: NOW + timedelta(seconds=30))
        assert barrido.barrer(120, deps=now)["atascados"] == 0


class TestReversalWindow:
    def test_given_a_payment_of_an_earlier_day_when_reversed_then_code_5_and_nothing_changes(self, h, monkeypatch):
        # Given a payment made yesterday (local time)
        d = pending(h)[0]
        yesterday = replace(h.deps, clock=lambda: NOW - timedelta(days=1))
        monkeypatch.setattr(pagos, "default_payment_deps", lambda: yesterday)
        assert post(h, "ejecutar-pago", pay_body(h, d))[0] == 200
        # When reversed today / Then refused with code 5 naming the window; it stays paid
        status, body = post(h, "reversar-pago", reversa_body(h, d))
        assert (status, codigo(body)) == (400, 5)
        assert [e for _, e in payments_of(h, d)] == [CONFIRMADO]


class TestTenantIsolation:
    def test_given_bank_a_paid_then_bank_b_sees_neither_verification_nor_history(self, h):
        d = pending(h)[0]
        post(h, "ejecutar-pago", pay_body(h, d))
        assert get(h, "verificar-pago", f"numeroFactura={d.id_saldo}")[0] == 200
        status, body = get(h, "verificar-pago", f"numeroFactura={d.id_saldo}", banco="00999")
        assert status == 404 and "no tiene un pago" in body["descripcion"]
        query = "cedula=12345678&fechaInicio=21/11/2026&fechaFinal=21/11/2026"
        assert len(get(h, "historial-pagos", query)[1]) == 1
        assert get(h, "historial-pagos", query, banco="00999") == (200, [])

    def test_given_bank_b_when_it_reverses_bank_as_payment_then_as_if_absent(self, h):
        d = pending(h)[0]
        post(h, "ejecutar-pago", pay_body(h, d))
        llave_b = h.credentials.rotate_llave("00999", NOW, 0)
        body = json.loads(reversa_body(h, d)) | {"codigoBanco": "00999", "llaveAcceso": llave_b}
        status, reply = post(h, "reversar-pago", json.dumps(body), banco="00999")
        assert (status, codigo(reply)) == (400, 5)
        assert [e for _, e in payments_of(h, d)] == [CONFIRMADO]


class TestCredentials:
    def test_given_a_revoked_token_still_cached_by_the_authorizer_then_no_payment(self, h):
        # Given the authorizer's cached "allow" for a token that was revoked since
        d = pending(h)[0]
        key_id = h.token.removeprefix("Token ").split(".")[0] if h.token.startswith("Token ") else h.token.split(".")[0]
        h.credentials.revoke_token(key_id)
        # When it pays / Then code 4, nothing paid
        status, body = post(h, "ejecutar-pago", pay_body(h, d), key_id=key_id)
        assert (status, codigo(body)) == (401, 4)
        assert payments_of(h, d) == []

    def test_given_a_rotated_llave_then_the_old_works_in_grace_and_not_after_revocation(self, h):
        d1, d2 = pending(h)[:2]
        nueva = h.credentials.rotate_llave("00152", NOW, 3600)
        assert post(h, "ejecutar-pago", pay_body(h, d1))[0] == 200  # old llave, within grace
        h.credentials.rotate_llave("00152", NOW, 0)  # revoke: the previous one (nueva) stops at once
        assert codigo(post(h, "ejecutar-pago", pay_body(h, d2, llaveAcceso=nueva))[1]) == 4
