"""CPS recargas through the local stack: signed requests as a channel sends them, the Standard state
machine run by moto with its tasks in our workers, the fake carrier on loopback, IAM enforced."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest

from tests.e2e.cps import Channel


@pytest.fixture(scope="module")
def cps(recaudo):
    return recaudo.state["demo"]["cps"]


@pytest.fixture(scope="module")
def channel(cps):
    return Channel(cps["baseUrl"], cps["apiKey"], cps["privateKey"])


def carrier_calls(cps, operation: str) -> dict:
    return httpx.get(f"{cps['carrierUrl']}/_calls/{operation}").json()


# carrier behaviour -> the operation's final state
OUTCOMES = {
    "aplicada": "CONFIRMADA",
    "rechazada": "FALLIDA",
    "timeout_luego_aplicada": "CONFIRMADA",  # the POST timed out, the top-up was in fact applied: once
    "error_5xx_aplicada": "CONFIRMADA",
    "lenta": "CONFIRMADA",
    "saldo": "CONFIRMADA",
}


@pytest.mark.parametrize("behaviour", list(OUTCOMES))
def test_given_each_carrier_behaviour_when_topped_up_then_a_definite_outcome_and_one_top_up(cps, channel, behaviour):
    # Given a number whose carrier behaviour is known
    number = cps["numbers"][behaviour]
    # When the channel tops it up
    reply = channel.pay({"numberService": number, "idTypeService": 57, "amount": 10})
    # Then a definite answer: the outcome (200), or "en proceso" (202) with a way to check
    assert reply.status_code in (200, 202), reply.text
    body = reply.json()
    assert body["numberService"] == number and body["consultar"].endswith(body["idOperacion"])
    final = body if reply.status_code == 200 else channel.wait_final(body["idOperacion"])
    assert final["estado"] == OUTCOMES[behaviour]
    if final["estado"] == "FALLIDA":
        assert final["motivo"]
    # and the carrier received exactly one top-up request for it, applied at most once
    calls = carrier_calls(cps, body["idOperacion"])
    assert calls["posts"] == 1
    assert calls["estado"] == ("APLICADA" if final["estado"] == "CONFIRMADA" else "RECHAZADA")


def test_given_the_operation_when_queried_later_then_the_same_final_state(channel, cps):
    reply = channel.pay({"numberService": cps["numbers"]["aplicada"], "idTypeService": 57, "amount": "12.50"})
    assert reply.status_code == 400  # amount must be a JSON number, not a string
    reply = channel.pay(b'{"numberService":"04140000001","idTypeService":57,"amount":12.50}')
    body = reply.json()
    again = channel.operation(body["idOperacion"])
    assert again.status_code == 200 and again.json()["estado"] == body["estado"] == "CONFIRMADA"
    assert again.json()["amount"] == 12.5  # an exact JSON number: 12.50


def test_given_50_concurrent_requests_with_one_idempotency_key_then_one_top_up(channel, cps):
    # Given one body and one Idempotency-Key, sent 50 times at once
    key = f"e2e-{uuid.uuid4()}"
    body = {"numberService": cps["numbers"]["lenta"], "idTypeService": 57, "amount": 15}
    with ThreadPoolExecutor(max_workers=25) as pool:
        replies = list(pool.map(lambda _: channel.pay(body, idempotency_key=key), range(50)))
    # Then every reply names the same operation: the first's outcome, or "in progress" (409)
    statuses = Counter(r.status_code for r in replies)
    assert set(statuses) <= {200, 202, 409}, statuses
    operations = {r.json()["idOperacion"] for r in replies}
    assert len(operations) == 1
    (operation,) = operations
    assert carrier_calls(cps, operation)["posts"] == 1
    # and a later retry with the same key and body replays the first reply, byte for byte
    final = channel.wait_final(operation)
    assert final["estado"] == "CONFIRMADA"
    retry = channel.pay(body, idempotency_key=key)
    first_final = [r for r in replies if r.status_code == 200]
    assert retry.status_code == 200
    assert first_final, statuses  # the owner's reply (the top-up is slow, 2 s, well inside the 12 s wait)
    assert retry.content == first_final[0].content


def test_given_an_idempotency_key_reused_with_another_body_then_refused(channel, cps):
    key = f"e2e-{uuid.uuid4()}"
    first = channel.pay(
        {"numberService": cps["numbers"]["aplicada"], "idTypeService": 57, "amount": 5}, idempotency_key=key
    )
    assert first.status_code == 200
    other = channel.pay(
        {"numberService": cps["numbers"]["aplicada"], "idTypeService": 57, "amount": 6}, idempotency_key=key
    )
    assert other.status_code == 422 and other.json()["codigo"] == "IDEMPOTENCY_KEY_REUTILIZADA"


class TestRefusals:
    def test_given_a_replayed_nonce_then_401_and_nothing_applied(self, channel, cps):
        raw = json.dumps({"numberService": cps["numbers"]["aplicada"], "idTypeService": 57, "amount": 7}).encode()
        headers = {**channel.headers("/v2/operation/use/pay", raw), "Content-Type": "application/json"}
        first = channel.http.post("/cps/v2/operation/use/pay", content=raw, headers=headers)
        replay = channel.http.post("/cps/v2/operation/use/pay", content=raw, headers=headers)
        assert first.status_code == 200
        assert replay.status_code == 401 and replay.json() == {
            "codigo": "NO_AUTENTICADO",
            "mensaje": "api-nonce ya usado con esta api-key",
        }

    def test_given_a_stale_nonce_then_401_naming_the_check(self, channel):
        stale = str(int((datetime.now(UTC).timestamp() - 3600) * 1000))
        raw = b'{"numberService":"04140000001","idTypeService":57,"amount":7}'
        headers = {**channel.headers("/v2/operation/use/pay", raw, nonce=stale), "Content-Type": "application/json"}
        reply = channel.http.post("/cps/v2/operation/use/pay", content=raw, headers=headers)
        assert reply.status_code == 401 and "ventana" in reply.json()["mensaje"]

    def test_given_a_body_changed_after_signing_then_401(self, channel):
        raw = b'{"numberService":"04140000001","idTypeService":57,"amount":7}'
        headers = {**channel.headers("/v2/operation/use/pay", raw), "Content-Type": "application/json"}
        tampered = raw.replace(b"7}", b"70}")
        reply = channel.http.post("/cps/v2/operation/use/pay", content=tampered, headers=headers)
        assert reply.status_code == 401 and reply.json()["mensaje"] == "la firma no corresponde a la solicitud"

    def test_given_an_unknown_key_then_401_and_the_secret_never_echoed(self, cps):
        stranger = Channel(cps["baseUrl"], "f" * 64, cps["privateKey"])
        reply = stranger.pay({"numberService": "04140000001", "idTypeService": 57, "amount": 7})
        assert reply.status_code == 401 and cps["privateKey"] not in reply.text

    @pytest.mark.parametrize(
        ("body", "codigo"),
        [
            (
                {"numberService": 4140000001, "idTypeService": 57, "amount": 7},
                "SOLICITUD_INVALIDA",
            ),  # a number: zero lost
            ({"numberService": "04140000001", "idTypeService": 999, "amount": 7}, "SERVICIO_DESCONOCIDO"),
            ({"numberService": "04140000001", "idTypeService": 57, "amount": 7.001}, "SOLICITUD_INVALIDA"),
            ({"numberService": "04140000001", "idTypeService": 57, "amount": 0}, "SOLICITUD_INVALIDA"),
            ({"numberService": "04140000001", "idTypeService": 57, "amount": 999999}, "MONTO_FUERA_DE_LIMITES"),
        ],
    )
    def test_given_a_bad_top_up_then_400_in_the_cps_dialect(self, channel, body, codigo):
        reply = channel.pay(body)
        assert reply.status_code == 400 and reply.json()["codigo"] == codigo

    @pytest.mark.parametrize(
        "raw",
        [
            b"[" * 5000 + b"]" * 5000,  # deep JSON
            '{"numberService":"0414"}'.encode("utf-16"),  # wrong encoding
            b"\xff\xfe\x00garbage",
            b'{"numberService":"04140000001","numberService":"04140000002","idTypeService":57,"amount":1}',
        ],
    )
    def test_given_a_hostile_body_then_a_clear_4xx_never_a_500(self, channel, raw):
        reply = channel.pay(raw)
        assert 400 <= reply.status_code < 500 and reply.json()["codigo"]

    def test_given_another_channels_operation_then_404(self, channel, cps, recaudo):
        import boto3

        from ops.recargas import crear_canal
        from recaudo.data.claves import ClavesKms
        from recaudo.data.recargas import CanalesRepository

        # Given a second channel, issued as the admin CLI does
        session = boto3.session.Session(aws_access_key_id="op", aws_secret_access_key="op", region_name="us-east-1")
        url = recaudo.state["awsEndpointUrl"]
        tables = recaudo.state["demo"]["tables"]
        issued = crear_canal(
            CanalesRepository(tables["credentials"], session.client("dynamodb", endpoint_url=url)),
            ClavesKms(cps["keyId"], session.client("kms", endpoint_url=url)),
            "Otro canal",
            datetime.now(UTC),
        )
        other = Channel(cps["baseUrl"], issued.api_key, issued.private_key)
        mine = channel.pay({"numberService": cps["numbers"]["aplicada"], "idTypeService": 57, "amount": 3}).json()
        # When it asks for the first channel's operation / Then it does not exist for it
        assert other.operation(mine["idOperacion"]).status_code == 404
        assert channel.operation(mine["idOperacion"]).status_code == 200


def test_given_the_catalogue_then_20_services_and_the_balance_ones_on_request(channel):
    everything = channel.get("/v2/list/basic_services", {"canGetBalance": False})
    default = channel.get("/v2/list/basic_services")
    balance = channel.get("/v2/list/basic_services", {"canGetBalance": True})
    assert everything.status_code == default.status_code == balance.status_code == 200
    assert len(everything.json()) == len(default.json()) == 20
    assert all(s["canGetBalance"] for s in balance.json()) and 0 < len(balance.json()) < 20


def test_given_a_balance_query_then_exact_and_refused_for_services_without_one(channel, cps):
    reply = channel.get("/v2/operation/get/balance", {"numberService": cps["numbers"]["saldo"], "idTypeService": 57})
    assert reply.status_code == 200 and reply.json()["balance"] == 6.5 and b'"balance":6.50' in reply.content
    refused = channel.get("/v2/operation/get/balance", {"numberService": cps["numbers"]["saldo"], "idTypeService": 63})
    assert refused.status_code == 400 and refused.json()["codigo"] == "SERVICIO_SIN_CONSULTA_DE_SALDO"


def test_given_the_flow_then_confirmations_reach_the_bus_once_per_operation(recaudo, channel, cps):
    # Given the recargas events, archived by a rule to a queue the test reads
    sqs, queue = recaudo.aws("sqs"), recaudo.bus_queue("recaudo.recargas")
    # When a top-up is confirmed and another declined
    ok = channel.pay({"numberService": cps["numbers"]["aplicada"], "idTypeService": 57, "amount": 2}).json()
    ko = channel.pay({"numberService": cps["numbers"]["rechazada"], "idTypeService": 57, "amount": 2}).json()
    seen: dict[str, str] = {}
    deadline = time.monotonic() + 20
    while len(seen) < 2 and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            event = json.loads(message["Body"])
            seen[event["detail"]["idOperacion"]] = event["detail-type"]
    # Then one TopUpConfirmed and one TopUpFailed, each naming its operation
    assert seen == {ok["idOperacion"]: "TopUpConfirmed", ko["idOperacion"]: "TopUpFailed"}
