"""Property test: random sequences of pay, replay, reverse and re-reverse over a small ledger keep the
money invariants, checked against the stored data after every step."""

from __future__ import annotations

import itertools
import json
import os
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recaudo.data.dynamo import from_item
from recaudo.models.ledger import Convenio, Persona, TipoConvenio
from tests.conftest import NOW
from tests.fakes import deuda
from tests.integration.payment_harness import build, codigo

_ids = itertools.count(1)
DEBTS = 4
OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["pay", "replay", "reverse", "rereverse"]), st.integers(0, DEBTS - 1)),
    min_size=1,
    max_size=8,
)
AMOUNTS = st.lists(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2), min_size=DEBTS, max_size=DEBTS
)


@pytest.fixture
def harness(aws, monkeypatch):
    h = build(NOW, monkeypatch)
    h.ledger.put_convenio(Convenio("001", TipoConvenio.TOTAL, "total"), predeterminado=True)
    return h


def stored(h, ident: str, ids: list[int]) -> tuple[list[dict], list[dict], list[dict]]:
    """(debts, current payments, reversed payments) of one example, straight from DynamoDB."""
    ddb = h.clients["dynamodb"]
    debts = [
        from_item(i)
        for i in ddb.query(
            TableName="recaudo-ledger",
            KeyConditionExpression="PK = :pk AND begins_with(SK, :s)",
            ExpressionAttributeValues={":pk": {"S": f"PER#{ident}"}, ":s": {"S": "SALDO#"}},
            ConsistentRead=True,
        )["Items"]
    ]
    current, reversed_ = [], []
    for nf in ids:
        for item in ddb.query(
            TableName="recaudo-ledger",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"PAGO#{nf}"}},
            ConsistentRead=True,
        )["Items"]:
            (current if item["SK"]["S"] == "PAGO" else reversed_).append(from_item(item))
    return debts, current, reversed_


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS, amounts=AMOUNTS)
def test_given_random_pay_replay_reverse_sequences_then_money_is_never_created_or_lost(harness, operations, amounts):
    h = harness
    ident = f"P{next(_ids):07d}"
    h.ledger.put_persona(Persona(ident, "Propiedad", "F", 7))
    debts = []
    for i, amount in enumerate(amounts):
        d = deuda(next(_ids) * 10 + i, date(2026, i + 1, 28), identificacion=ident, saldo=str(amount))
        h.ledger.put_deuda(d)
        debts.append(d)
    ids = [d.id_saldo for d in debts]
    model_paid = [False] * DEBTS
    # the bank's last request per debt: None (none yet), "" (sent without a key) or its Idempotency-Key
    last_key: list[str | None] = [None] * DEBTS
    keys = itertools.count()

    for op, i in operations:
        d = debts[i]
        common = {
            "llaveAcceso": h.llave,
            "codigoConvenio": "001",
            "codigoBanco": "00152",
            "codigoAgencia": "1",
            "periodo": f"{d.year}{d.periodo}",
            "numeroFactura": d.id_saldo,
        }
        body = json.dumps(common | {"montoTotal": "M"}).replace('"M"', str(d.monto))
        if op == "pay":  # a deliberate payment: a new Idempotency-Key
            key = f"{ident}-k{next(keys)}"  # unique across examples: the harness outlives one example
            status, reply, _ = h.post("ejecutar-pago", body, headers={"Idempotency-Key": key})
            if model_paid[i]:  # the invoice is paid by an earlier request
                assert (status, codigo(reply)) == (404, 3), reply
            else:
                assert status == 200, reply
                assert isinstance(reply[0]["montoPagado"], Decimal) and reply[0]["montoPagado"] == d.monto
                model_paid[i], last_key[i] = True, key
        elif op == "replay":  # the last request again (or a first one without a key)
            key = last_key[i]
            status, reply, _ = h.post("ejecutar-pago", body, headers={"Idempotency-Key": key} if key else None)
            if key is None or model_paid[i]:  # a first payment, or the first reply again
                assert status == 200, reply
                assert isinstance(reply[0]["montoPagado"], Decimal) and reply[0]["montoPagado"] == d.monto
                model_paid[i], last_key[i] = True, "" if key is None else key
            else:  # its payment was reversed: a retry never pays twice
                assert (status, codigo(reply)) == (400, 5), reply
        else:
            status, reply, _ = h.post("reversar-pago", json.dumps(common))
            if model_paid[i] or status == 200:
                assert (status, reply) == (200, 0)
            else:
                assert (status, codigo(reply)) == (400, 5)  # never paid: nothing to reverse
            model_paid[i] = False

        rows, current, reversed_ = stored(h, ident, ids)
        paid = [r for r in rows if r["estado"] == "pagado"]
        # the ledger agrees with the model
        assert sorted(int(r["idSaldo"]) for r in paid) == sorted(
            d.id_saldo for d, p in zip(debts, model_paid, strict=True) if p
        )
        # sum of paid debts == confirmed payments minus the reversed ones
        confirmed_ever = sum((Decimal(p["monto"]) for p in current + reversed_), Decimal("0"))
        reversed_total = sum((Decimal(p["monto"]) for p in reversed_), Decimal("0"))
        paid_total = sum((r["saldo"] + r["saldoInteres"] for r in paid), Decimal("0"))
        assert paid_total == confirmed_ever - reversed_total
        assert all(p["estado"] == "CONFIRMADO" for p in current) and all(p["estado"] == "REVERSADO" for p in reversed_)
        # no debt is paid twice, and every paid debt points at its one current payment
        covered = [int(x["idSaldo"]) for p in current for x in p["deudas"]]
        assert len(covered) == len(set(covered)) == len(paid)
        assert all(int(r["pagoFactura"]) == int(r["idSaldo"]) for r in paid)
        # amounts stay Decimal end to end
        assert all(isinstance(r["saldo"], Decimal) for r in rows)
        assert all(
            isinstance(p["monto"], Decimal) and p["monto"] == p["monto"].quantize(Decimal("0.01")) for p in current
        )
