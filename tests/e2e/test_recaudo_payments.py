"""Payments through the local stack: gateway, authorizer, endpoint workers, the Express state machine
run by moto with its tasks in our workers. Includes the 50 x 20 concurrency test."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from recaudo.money import loads

BASE = "/v1/integracion-conectividad"


@pytest.fixture(scope="module")
def bank(recaudo):
    headers = {"Authorization": f"Token {recaudo.state['demo']['bank']['token']}", "Content-Type": "application/json"}
    with httpx.Client(base_url=recaudo.state["apiBaseUrls"]["api"], headers=headers, timeout=60) as client:
        yield client


def test_given_50_concurrent_identical_payments_for_each_of_20_receipts_then_exactly_one_payment_each(recaudo, bank):
    demo = recaudo.state["demo"]
    saldos = loads(
        bank.get(f"{BASE}/saldos-persona", params={"codigoConvenio": "001", "identificacion": "87654321"}).content
    )
    receipts = saldos[:20]
    assert len(receipts) == 20
    bodies = {
        s["idSaldo"]: json.dumps(
            {
                "llaveAcceso": demo["bank"]["llaveAcceso"],
                "codigoConvenio": "001",
                "codigoBanco": "00152",
                "codigoAgencia": "033272",
                "periodo": f"{s['year']}{s['periodo']}",
                "montoTotal": "M",
                "numeroFactura": s["idSaldo"],
            }
        ).replace('"M"', str(s["monto"]))
        for s in receipts
    }
    jobs = [factura for factura in bodies for _ in range(50)]
    results: dict[int, list[tuple[int, str]]] = defaultdict(list)
    lock = threading.Lock()

    def pay(factura: int) -> None:
        response = bank.post(f"{BASE}/ejecutar-pago", content=bodies[factura])
        with lock:
            results[factura].append((response.status_code, response.text))

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(pay, jobs))

    ddb = recaudo.aws("dynamodb")
    ledger = demo["tables"]["ledger"]
    for factura, answers in results.items():
        statuses = {status for status, _ in answers}
        # 200 (paid, or the first reply again), 409 (the same request is being applied), 202 (its
        # outcome was not known within the wait): never a second payment, never an error
        assert statuses <= {200, 202, 409}, (factura, statuses, answers[:3])
        assert 200 in statuses
        assert len({text for status, text in answers if status == 200}) == 1  # every success is the same reply
        for status, text in answers:
            if status in (202, 409):
                (item,) = json.loads(text)  # ejecutar-pago answers an array, errors too
                assert item["codigoRespuesta"] == 1 and item["descripcion"].startswith("En proceso")
        payments = ddb.query(
            TableName=ledger,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"PAGO#{factura}"}},
            ConsistentRead=True,
        )["Items"]
        assert [p["estado"]["S"] for p in payments] == ["CONFIRMADO"]
    # a retry of an in-progress caller now gets the first reply
    factura = next(iter(bodies))
    again = bank.post(f"{BASE}/ejecutar-pago", content=bodies[factura])
    assert (again.status_code, again.text) == (200, next(t for s, t in results[factura] if s == 200))
