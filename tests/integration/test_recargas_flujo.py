"""The top-up flow's tasks under moto (real conditional writes), with faults injected between the
steps: the carrier receives a top-up at most once per operation, whatever is retried."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from recargas import flujo
from recargas.deps import FlujoDeps

from local_stack.fakes.carrier import NUMBERS, FakeCarrier
from recaudo.clients.operador import CarrierClient
from recaudo.data.recargas import RecargasRepository
from recaudo.data.tables import LEDGER
from recaudo.models.recargas import EstadoRecarga, Recarga
from tests.conftest import NOW
from tests.fakes import FakeEvents


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


class Crash(Exception):
    """The Lambda died (a timeout, an out-of-memory) at this point."""


@pytest.fixture
def world(aws):
    from recaudo.aws import client, nueva_sesion

    nueva_sesion()
    ddb = client("dynamodb")
    ddb.create_table(**LEDGER.create_table_kwargs(os.environ["LEDGER_TABLE"]))
    clock = Clock()
    carrier = FakeCarrier(hang=0, clock=clock)
    crash_before_post: list[bool] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            if crash_before_post:
                crash_before_post.pop()
                raise Crash("died before the request left")
            code, body = carrier.topup(json.loads(request.content))
        else:
            code, body = carrier.status(request.url.path.rsplit("/", 1)[-1])
        return httpx.Response(code, json=body)

    repo = RecargasRepository(os.environ["LEDGER_TABLE"], ddb)
    deps = FlujoDeps(
        recargas=repo,
        operador=CarrierClient("http://carrier.test", carrier.token, transport=httpx.MockTransport(handle)),
        eventos=FakeEvents(),
        vigencia_segundos=60,
        clock=clock,
    )
    yield repo, carrier, deps, clock, crash_before_post
    nueva_sesion()


def register(repo: RecargasRepository, number: str, clock: Clock, id_: str = "rc" + "0" * 32) -> str:
    repo.put_new(
        Recarga(
            id_,
            "canal",
            57,
            number,
            Decimal("10.00"),
            EstadoRecarga.PENDIENTE,
            clock.now,
            clock.now + timedelta(seconds=60),
        )
    )
    return id_


def test_given_enviar_retried_after_the_post_went_out_then_the_carrier_saw_one_post(world):
    repo, carrier, deps, clock, _ = world
    op = register(repo, NUMBERS["aplicada"], clock)
    # Given the first attempt sent the top-up (and its Lambda then died before answering)
    first = flujo.enviar({"id": op}, deps)
    assert first["resultado"] == "APLICADA"
    # When the state machine retries the task
    second = flujo.enviar({"id": op}, deps)
    # Then it does not send again: the outcome is asked for by reference
    assert second["resultado"] == "SIN_RESPUESTA"
    assert carrier.operations[op].posts == 1
    assert flujo.consultar({"id": op}, deps)["resultado"] == "APLICADA"


def test_given_a_crash_before_the_post_left_then_never_sent_twice_and_failed_once_expired(world):
    repo, carrier, deps, clock, crash_before_post = world
    op = register(repo, NUMBERS["aplicada"], clock)
    # Given the task claimed the send, then died before the request left
    crash_before_post.append(True)
    with pytest.raises(Crash):
        flujo.enviar({"id": op}, deps)
    # When retried / Then no second POST; the carrier does not know the reference yet
    assert flujo.enviar({"id": op}, deps)["resultado"] == "SIN_RESPUESTA"
    assert op not in carrier.operations
    assert flujo.consultar({"id": op}, deps)["resultado"] == "DESCONOCIDA"
    # and once past its expiry (plus the margin) it can never be applied: the flow fails it, cleanly
    clock.now += timedelta(seconds=60 + 31)
    outcome = flujo.consultar({"id": op}, deps)
    assert outcome["resultado"] == "EXPIRADA"
    flujo.fallar({"id": op, "consulta": outcome}, deps)
    stored = repo.get(op)
    assert stored is not None and stored.estado is EstadoRecarga.FALLIDA and "no se aplicó" in (stored.motivo or "")
    assert op not in carrier.operations


def test_given_confirmar_retried_then_one_state_change_and_the_event_again(world):
    repo, _, deps, clock, _ = world
    op = register(repo, NUMBERS["aplicada"], clock)
    sent = flujo.enviar({"id": op}, deps)
    first = flujo.confirmar({"id": op, "envio": sent}, deps)
    again = flujo.confirmar({"id": op, "envio": sent}, deps)
    assert (first, again) == ({"confirmada": True}, {"confirmada": False})
    assert [e[0] for e in deps.eventos.published] == ["TopUpConfirmed", "TopUpConfirmed"]  # at least once


def test_given_a_final_operation_then_fallar_cannot_undo_a_confirmation(world):
    repo, _, deps, clock, _ = world
    op = register(repo, NUMBERS["aplicada"], clock)
    flujo.confirmar({"id": op, "envio": flujo.enviar({"id": op}, deps)}, deps)
    assert flujo.fallar({"id": op, "envio": {"motivo": "x"}}, deps) == {"fallida": False}
    assert repo.get(op).estado is EstadoRecarga.CONFIRMADA  # type: ignore[union-attr]
    # and the late task announces the state the operation is in, never a failure that did not happen
    assert [e[0] for e in deps.eventos.published] == ["TopUpConfirmed", "TopUpConfirmed"]


def test_given_an_operation_expired_before_sending_then_never_sent(world):
    repo, carrier, deps, clock, _ = world
    op = register(repo, NUMBERS["aplicada"], clock)
    clock.now += timedelta(seconds=61)
    assert flujo.enviar({"id": op}, deps)["resultado"] == "EXPIRADA"
    assert op not in carrier.operations


def test_given_the_flow_definition_then_every_outcome_has_a_next_state():
    from infra.flows.recarga import recarga_definition

    states = recarga_definition()["States"]
    for choice in ("TrasEnviar", "TrasConsultar"):
        targets = {c["Next"] for c in states[choice]["Choices"]} | {states[choice]["Default"]}
        assert targets <= set(states), choice
    assert {"Confirmar", "Fallar"} <= {c["Next"] for c in states["TrasConsultar"]["Choices"]}
