"""Issue 13's acceptance, as a bank would run it: through the local stack (gateway, authorizer with
its cache, each function's IAM role, the Express flow), at the documented root URL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from recaudo.money import loads

BASE = "/v1/integracion-conectividad"


def codigo(reply: httpx.Response) -> int:
    body = reply.json()
    if isinstance(body, list):
        return int(body[0]["codigoRespuesta"])
    return int(body["codigoRespuesta"]) if isinstance(body, dict) else int(body)


@pytest.fixture(scope="module")
def banco(recaudo):
    """A bank of its own (code 00444) with its usage key, token and llaveAcceso."""
    from recaudo.data.credentials import CredentialsRepository

    credentials = CredentialsRepository(recaudo.state["demo"]["tables"]["credentials"], recaudo.aws("dynamodb"))
    created = credentials.create_bank("00444", "Banco Revisión", datetime.now(UTC))
    credentials.set_usage_key("00444", "clave-de-uso-del-banco-00444-0123456789")
    return credentials, created


def client(recaudo, token: str) -> httpx.Client:
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    return httpx.Client(base_url=recaudo.state["gatewayUrl"], headers=headers, timeout=60)


def pago(saldo: dict, llave: str, banco: str) -> str:
    body = {
        "llaveAcceso": llave,
        "codigoConvenio": "001",
        "codigoBanco": banco,
        "codigoAgencia": "033272",
        "periodo": f"{saldo['year']}{saldo['periodo']}",
        "montoTotal": "M",
        "numeroFactura": saldo["idSaldo"],
    }
    return json.dumps(body).replace('"M"', str(saldo["monto"]))


def reversa(saldo: dict, llave: str, banco: str) -> str:
    body = json.loads(pago(saldo, llave, banco))
    del body["montoTotal"]
    return json.dumps(body)


def test_given_pay_reverse_and_a_late_retry_then_refused_and_a_new_key_pays_once(recaudo, banco):
    _, bank = banco
    with client(recaudo, bank.token) as http:
        # Given a pending invoice, paid at the root URL and reversed the same day
        saldos = loads(
            http.get(f"{BASE}/saldos-persona", params={"codigoConvenio": "001", "identificacion": "87654321"}).content
        )
        saldo = saldos[-1]
        body = pago(saldo, bank.llave_acceso, "00444")
        assert http.post(f"{BASE}/ejecutar-pago", content=body).status_code == 200
        reversed_ = http.post(f"{BASE}/reversar-pago", content=reversa(saldo, bank.llave_acceso, "00444"))
        assert (reversed_.status_code, reversed_.text, reversed_.headers["X-Recaudo-Reversa"]) == (200, "0", "aplicada")
        # When the byte-identical payment arrives late / Then code 5 and no second payment
        late = http.post(f"{BASE}/ejecutar-pago", content=body)
        assert (late.status_code, codigo(late)) == (400, 5) and "Idempotency-Key nuevo" in late.text
        check = http.get(f"{BASE}/verificar-pago", params={"numeroFactura": saldo["idSaldo"]})
        assert check.status_code == 404 and "no tiene un pago vigente" in check.json()["descripcion"]
        # When the bank pays again on purpose, under a new Idempotency-Key / Then paid once, replayable
        again = http.post(f"{BASE}/ejecutar-pago", content=body, headers={"Idempotency-Key": "recibo-2"})
        assert again.status_code == 200 and codigo(again) == 0
        replay = http.post(f"{BASE}/ejecutar-pago", content=body, headers={"Idempotency-Key": "recibo-2"})
        assert replay.text == again.text
    ledger = recaudo.state["demo"]["tables"]["ledger"]
    items = recaudo.aws("dynamodb").query(
        TableName=ledger,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"PAGO#{saldo['idSaldo']}"}},
        ConsistentRead=True,
    )["Items"]
    assert sorted(i["estado"]["S"] for i in items) == ["CONFIRMADO", "REVERSADO"]


def test_given_another_banks_payment_then_it_sees_nothing(recaudo, banco):
    _, bank = banco
    demo = recaudo.state["demo"]
    with client(recaudo, bank.token) as mine, client(recaudo, demo["bank"]["token"]) as theirs:
        saldos = loads(
            mine.get(f"{BASE}/saldos-persona", params={"codigoConvenio": "001", "identificacion": "87654321"}).content
        )
        saldo = saldos[-2]
        assert mine.post(f"{BASE}/ejecutar-pago", content=pago(saldo, bank.llave_acceso, "00444")).status_code == 200
        # Then the demo bank gets 404 from verificar-pago and none of it in historial-pagos
        assert theirs.get(f"{BASE}/verificar-pago", params={"numeroFactura": saldo["idSaldo"]}).status_code == 404
        today = datetime.now(ZoneInfo("America/Costa_Rica")).strftime("%d/%m/%Y")  # the institution's day
        params = {"cedula": "87654321", "fechaInicio": today, "fechaFinal": today}
        mine_history = mine.get(f"{BASE}/historial-pagos", params=params)
        theirs_history = theirs.get(f"{BASE}/historial-pagos", params=params)
        assert mine_history.status_code == theirs_history.status_code == 200, (mine_history.text, theirs_history.text)
        assert mine_history.json() and all("Banco 00444" in e["cuentaOrigen"] for e in mine_history.json())
        assert not any("Banco 00444" in e["cuentaOrigen"] for e in theirs_history.json())


def test_given_a_revoked_token_still_cached_by_the_authorizer_then_it_cannot_pay(recaudo, banco):
    credentials, bank = banco
    with client(recaudo, bank.token) as http:
        saldos = loads(
            http.get(f"{BASE}/saldos-persona", params={"codigoConvenio": "001", "identificacion": "87654321"}).content
        )
        # Given the token's "allow" is in the authorizer's cache (the query above), then it is revoked
        credentials.revoke_token(bank.token.split(".")[0])
        # When it pays / Then code 4, and nothing paid
        reply = http.post(f"{BASE}/ejecutar-pago", content=pago(saldos[-3], bank.llave_acceso, "00444"))
        assert (reply.status_code, codigo(reply)) == (401, 4)
        assert http.get(f"{BASE}/verificar-pago", params={"numeroFactura": saldos[-3]["idSaldo"]}).status_code in (
            401,
            404,
        )


def test_given_the_sweeper_schedule_when_run_then_it_answers_with_nothing_stuck(recaudo):
    # Given the template's sweeper rule / When the local stack runs it now / Then it ran, nothing stuck
    from infra import constants as c

    reply = httpx.post(f"{recaudo.state['gatewayUrl']}/_schedules/{c.PAYMENT_SWEEP_RULE_NAME}/run", timeout=60)
    assert reply.status_code == 200, reply.text
    assert '"atascados": 0' in reply.text.replace('"atascados":0', '"atascados": 0')
