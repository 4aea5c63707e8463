"""The carrier client against the fake carrier's own logic (httpx.MockTransport, no sockets): the
POST is sent once and an unknown outcome is reported as such, never retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from local_stack.fakes.carrier import NUMBERS, FakeCarrier
from recaudo.clients.operador import CarrierClient
from recaudo.models.recargas import ResultadoOperador


def client_for(carrier: FakeCarrier, fail_with: type[Exception] | None = None, status: int | None = None):
    """A client whose transport is the fake's logic; optionally a transport failure or a bare status."""
    calls: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if fail_with is not None:
            raise fail_with("simulated", request=request)
        if status is not None:
            return httpx.Response(status, text="<html>gateway</html>")
        assert request.headers["Authorization"] == f"Bearer {carrier.token}"
        if request.method == "POST":
            code, body = carrier.topup(json.loads(request.content))
        elif request.url.path == "/v1/saldos":
            code, body = carrier.balance(request.url.params["producto"], request.url.params["numero"])
        else:
            code, body = carrier.status(request.url.path.rsplit("/", 1)[-1])
        return httpx.Response(code, json=body)

    return CarrierClient("http://carrier.test", carrier.token, transport=httpx.MockTransport(handle)), calls


def later() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=1)


def test_given_an_applying_number_when_topped_up_then_applied_with_an_authorization():
    carrier = FakeCarrier()
    client, calls = client_for(carrier)
    result = client.recargar("rc-00000001", "MOVISTAR_PREPAGO", NUMBERS["aplicada"], Decimal("10"), later())
    assert result.resultado is ResultadoOperador.APLICADA and result.autorizacion
    # the amount is sent exactly, as a JSON number with two decimals
    assert b'"monto":10.00' in calls[0].content and b'"numero":"04140000001"' in calls[0].content


def test_given_a_declining_number_then_declined_with_the_carriers_reason():
    client, _ = client_for(FakeCarrier())
    result = client.recargar("rc-00000002", "MOVISTAR_PREPAGO", NUMBERS["rechazada"], Decimal("10"), later())
    assert result.resultado is ResultadoOperador.RECHAZADA and result.motivo


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ConnectError, httpx.RemoteProtocolError])
def test_given_no_answer_when_topped_up_then_unknown_and_sent_once(failure):
    # Given a transport that times out or resets / When the top-up is sent
    client, calls = client_for(FakeCarrier(), fail_with=failure)
    result = client.recargar("rc-00000003", "MOVISTAR_PREPAGO", NUMBERS["aplicada"], Decimal("10"), later())
    # Then the outcome is unknown, and the POST went out exactly once (no transport retry)
    assert result.resultado is ResultadoOperador.SIN_RESPUESTA
    assert len(calls) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_given_a_5xx_then_unknown_not_failed(status):
    client, calls = client_for(FakeCarrier(), status=status)
    result = client.recargar("rc-00000004", "MOVISTAR_PREPAGO", NUMBERS["aplicada"], Decimal("10"), later())
    assert result.resultado is ResultadoOperador.SIN_RESPUESTA and len(calls) == 1


def test_given_a_reply_we_cannot_read_then_unknown_not_a_crash():
    client, _ = client_for(FakeCarrier(), status=200)  # an HTML page with 200
    result = client.recargar("rc-00000005", "MOVISTAR_PREPAGO", NUMBERS["aplicada"], Decimal("10"), later())
    assert result.resultado is ResultadoOperador.SIN_RESPUESTA


def test_given_a_5xx_that_was_applied_then_the_status_query_says_applied():
    carrier = FakeCarrier()
    client, _ = client_for(carrier)
    first = client.recargar("rc-00000006", "MOVISTAR_PREPAGO", NUMBERS["error_5xx_aplicada"], Decimal("10"), later())
    assert first.resultado is ResultadoOperador.SIN_RESPUESTA
    assert client.estado("rc-00000006").resultado is ResultadoOperador.APLICADA


def test_given_a_reference_never_sent_then_the_status_is_unknown_to_the_carrier():
    client, _ = client_for(FakeCarrier())
    assert client.estado("rc-never-sent").resultado is ResultadoOperador.DESCONOCIDA


def test_given_an_expired_request_then_refused_and_never_applied():
    carrier = FakeCarrier()
    client, _ = client_for(carrier)
    past = datetime.now(UTC) - timedelta(seconds=1)
    result = client.recargar("rc-00000007", "MOVISTAR_PREPAGO", NUMBERS["aplicada"], Decimal("10"), past)
    assert result.resultado is ResultadoOperador.EXPIRADA
    assert "rc-00000007" not in carrier.operations


def test_given_the_same_reference_twice_then_the_carrier_applies_it_once():
    carrier = FakeCarrier()
    client, _ = client_for(carrier)
    for _ in range(2):
        client.recargar("rc-00000008", "MOVISTAR_PREPAGO", NUMBERS["aplicada"], Decimal("10"), later())
    op = carrier.operations["rc-00000008"]
    assert (op.posts, op.estado) == (2, "APLICADA")


def test_given_a_balance_query_then_an_exact_decimal():
    client, _ = client_for(FakeCarrier())
    balance = client.saldo("MOVISTAR_PREPAGO", NUMBERS["saldo"])
    assert isinstance(balance, Decimal) and balance == Decimal("6.5")
