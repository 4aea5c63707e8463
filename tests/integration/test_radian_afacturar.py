"""afacturar's client against the fake afacturar over loopback (real HTTP, the real ``AfacturarClient``,
no mocks): every scripted reply read as the poll outcome it stands for, and the request the fake
received as afacturar expects it (multipart, ``Accept: application/json``, the Bearer token).

Integration tests never reach the network (tests/conftest.py); these open sockets to 127.0.0.1 only.
The clients get a plain transport (``verify=False``: loopback is plain HTTP) because loading certifi's
CA bundle costs 0.2 s per client; one test keeps the client's own default transport.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from pytest_socket import enable_socket, socket_allow_hosts

from local_stack.fakes.afacturar import CUFES, HISTORIAS, PATH, FakeAfacturar
from recaudo.clients.radian import AfacturarClient, ResultadoSondeo, Sondeo, interpretar
from recaudo.models.radian import Insignia, insignias, ordenados

TOKEN = "token-de-prueba"
JSON_HEADERS = {"Accept": "application/json", "Authorization": f"Bearer {TOKEN}"}
HEX96 = re.compile(r"[0-9a-f]{96}")


@pytest.fixture
def loopback() -> None:
    """Sockets for this test, connections to 127.0.0.1 only (pytest-socket lifts it at teardown)."""
    enable_socket()
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)


@pytest.fixture
def http(loopback: None) -> Iterator[httpx.Client]:
    """Raw HTTP, for what the client never sends (a missing Accept, a JSON body) and the fake's controls."""
    with httpx.Client(transport=httpx.HTTPTransport(verify=False)) as client:
        yield client


@pytest.fixture
def fake(loopback: None) -> Iterator[FakeAfacturar]:
    afacturar = FakeAfacturar(token=TOKEN, slow=1.5)
    afacturar.serve()
    yield afacturar
    afacturar.stop()


def polls(
    url: str,
    *cufes: str,
    token: str = TOKEN,
    entorno: str | None = None,
    read_timeout: float = 75.0,
    default_transport: bool = False,
) -> list[Sondeo]:
    """The client's polls, one after another through one connection pool, as a poller does."""

    async def run() -> list[Sondeo]:
        transport = None if default_transport else httpx.AsyncHTTPTransport(verify=False)
        client = AfacturarClient(url, token, entorno, read_timeout=read_timeout, transport=transport)
        try:
            return [await client.historial(cufe) for cufe in cufes]
        finally:
            await client.aclose()

    return asyncio.run(run())


def poll(url: str, cufe: str, **kwargs) -> Sondeo:
    (sondeo,) = polls(url, cufe, **kwargs)
    return sondeo


def codes(sondeo: Sondeo) -> list[str]:
    return [e.codigo for e in sondeo.eventos]


# ---- the error matrix: each scripted case, its outcome ----


@pytest.mark.parametrize(
    ("case", "resultado", "codigo", "eventos"),
    [
        ("documento", ResultadoSondeo.OK, "0", ["030", "032", "033"]),
        ("sin_eventos", ResultadoSondeo.OK, "12", []),
        ("no_autenticado", ResultadoSondeo.NO_AUTENTICADO, "401", []),
        ("emisor", ResultadoSondeo.NO_AUTENTICADO, "11", []),
        ("timeout", ResultadoSondeo.REINTENTAR, "28", []),
        ("dian", ResultadoSondeo.REINTENTAR, "15", []),
        ("error_500", ResultadoSondeo.REINTENTAR, None, []),
        ("codigo_desconocido", ResultadoSondeo.FALLIDO, "99", []),
        ("codigo_texto", ResultadoSondeo.OK, "0", ["030", "032", "033"]),
        ("descripcion_lista", ResultadoSondeo.FALLIDO, "10", []),
        ("html", ResultadoSondeo.FALLIDO, None, []),
        ("creciente", ResultadoSondeo.OK, "0", ["030"]),
        ("pagada", ResultadoSondeo.OK, "0", ["030", "032", "033", "036", "045"]),
        ("larga", ResultadoSondeo.OK, "0", [e["codigo"] for e in HISTORIAS["larga"]]),
    ],
)
def test_given_each_scripted_case_when_the_client_polls_then_the_outcome_it_stands_for(
    fake, case, resultado, codigo, eventos
):
    sondeo = poll(fake.url, CUFES[case])
    assert sondeo.resultado is resultado
    assert sondeo.codigo == codigo
    assert codes(sondeo) == eventos
    assert fake.calls(CUFES[case]) == 1  # the poll reached the history


def test_given_the_documents_example_when_polled_then_every_event_typed_and_a_titulo_valor(fake):
    sondeo = poll(fake.url, CUFES["documento"])
    assert [(e.numero, e.codigo, e.fecha) for e in sondeo.eventos] == [
        (1, "030", datetime(2022, 11, 30, 21, 22, 17)),
        (2, "032", datetime(2022, 11, 30, 21, 22, 37)),
        (3, "033", datetime(2022, 11, 30, 21, 23, 7)),
    ]
    assert all(HEX96.fullmatch(e.cude) for e in sondeo.eventos)
    assert sondeo.eventos[0].descripcion == "Acuse de recibo de Factura Electrónica de Venta"
    assert insignias(sondeo.eventos) == {Insignia.TITULO_VALOR, Insignia.FACTURA_ELECTRONICA}


def test_given_a_cufe_never_scripted_when_polled_then_no_events_code_12(fake):
    sondeo = poll(fake.url, hashlib.sha384(b"otra factura").hexdigest())
    assert (sondeo.resultado, sondeo.codigo, sondeo.eventos) == (ResultadoSondeo.OK, "12", [])


def test_given_codigo_error_as_text_and_an_empty_tiempo_when_polled_then_read_as_code_0(fake):
    sondeo = poll(fake.url, CUFES["codigo_texto"])
    assert sondeo.codigo == "0" and [e.numero for e in sondeo.eventos] == [1, 2, 3]


def test_given_a_list_description_when_polled_then_joined_as_text(fake, http):
    sondeo = poll(fake.url, CUFES["descripcion_lista"])
    assert sondeo.descripcion == "The lista cufe field is required."
    # and two messages, scripted: joined with "; "
    cufe = hashlib.sha384(b"dos mensajes").hexdigest()
    reply = {"codigo_error": 10, "descripcion_error": ["The cufe field is required.", "The entorno is invalid."]}
    assert http.put(f"{fake.url}/_historial/{cufe}", json=reply).status_code == 200
    sondeo = poll(fake.url, cufe)
    assert sondeo.resultado is ResultadoSondeo.FALLIDO
    assert sondeo.descripcion == "The cufe field is required.; The entorno is invalid."


def test_given_an_html_login_page_with_http_200_when_polled_then_a_failed_poll_not_a_crash(fake):
    sondeo = poll(fake.url, CUFES["html"])
    assert sondeo.resultado is ResultadoSondeo.FALLIDO and "no JSON" in sondeo.descripcion


def test_given_the_long_history_served_in_text_order_when_polled_then_numero_is_an_integer_and_orders_ties(fake):
    sondeo = poll(fake.url, CUFES["larga"])
    # afacturar's order as served: "1", "10", "11", "2", …
    assert [e.numero for e in sondeo.eventos] == [1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9]
    # 9 (038), 10 (041), 11 (042) share their fecha: only the integer puts 042 last
    tail = ordenados(sondeo.eventos)[-3:]
    assert [(e.numero, e.codigo) for e in tail] == [(9, "038"), (10, "041"), (11, "042")]
    assert len({e.fecha for e in tail}) == 1
    assert Insignia.LIMITADA not in insignias(sondeo.eventos)  # the 042 ended the 041
    assert {Insignia.TITULO_VALOR, Insignia.DISPONIBILIZADA, Insignia.ENDOSADA} <= insignias(sondeo.eventos)


def test_given_the_paid_invoice_when_polled_then_pagada(fake):
    sondeo = poll(fake.url, CUFES["pagada"])
    assert Insignia.PAGADA in insignias(sondeo.eventos)


# ---- the request: what afacturar expects, and what happens otherwise ----


def test_given_the_client_when_it_polls_then_the_fake_received_a_multipart_form_with_the_cufe(fake, http):
    poll(fake.url, CUFES["documento"], entorno="PRODUCCION", default_transport=True)
    received = fake.ultima
    assert received is not None
    assert received.multipart and received.content_type.startswith("multipart/form-data; boundary=")
    assert received.fields == {"cufe": CUFES["documento"], "entorno": "PRODUCCION"}
    assert received.wants_json and received.authorization == f"Bearer {TOKEN}"
    # the same, over HTTP, for tests of a running stack
    assert http.get(f"{fake.url}/_ultima").json()["fields"]["cufe"] == CUFES["documento"]


def test_given_a_wrong_token_when_the_client_polls_then_not_authenticated_and_no_poll_counted(fake, http):
    sondeo = poll(fake.url, CUFES["documento"], token="revocado")
    assert (sondeo.resultado, sondeo.codigo) == (ResultadoSondeo.NO_AUTENTICADO, "401")
    assert http.get(f"{fake.url}/_calls/{CUFES['documento']}").json() == {"polls": 0}


def test_given_no_accept_json_when_the_token_is_wrong_then_a_redirect_to_login_that_the_client_could_not_read(
    fake, http
):
    form = {"cufe": (None, CUFES["documento"])}
    url = f"{fake.url}{PATH}"
    without = http.post(url, files=form, headers={"Authorization": "Bearer revocado"})  # httpx sends */*
    assert without.status_code == 302 and without.headers["Location"] == f"{fake.url}/login"
    assert without.headers["Content-Type"].startswith("text/html")
    assert interpretar(without.status_code, without.content).resultado is ResultadoSondeo.FALLIDO
    login = http.post(url, files=form, headers={"Authorization": "Bearer revocado"}, follow_redirects=True)
    assert login.status_code == 200 and "<form" in login.text
    # with the client's header: a readable 401, the run's alarm
    with_accept = http.post(url, files=form, headers={"Accept": "application/json", "Authorization": "Bearer x"})
    assert with_accept.status_code == 401
    assert with_accept.json() == {"codigo_error": 401, "descripcion_error": "Unauthenticated."}
    assert interpretar(with_accept.status_code, with_accept.content).resultado is ResultadoSondeo.NO_AUTENTICADO


@pytest.mark.parametrize(
    "body",
    [
        {"json": {"cufe": CUFES["documento"]}},
        {"data": {"cufe": CUFES["documento"]}},  # application/x-www-form-urlencoded
        {"files": {"cufe": ("cufe.txt", CUFES["documento"].encode())}},  # a file, not a field
    ],
    ids=["json", "urlencoded", "file"],
)
def test_given_a_body_that_is_not_a_multipart_field_when_posted_then_code_10_cufe_required(fake, http, body):
    reply = http.post(f"{fake.url}{PATH}", headers=JSON_HEADERS, **body)
    assert reply.status_code == 422
    assert reply.json() == {"codigo_error": 10, "descripcion_error": ["The cufe field is required."]}
    assert fake.calls(CUFES["documento"]) == 0


def test_given_a_cufe_that_is_not_96_hex_when_the_client_polls_then_a_failed_poll_with_laravels_messages(fake):
    sondeo = poll(fake.url, "xyz")
    assert (sondeo.resultado, sondeo.codigo) == (ResultadoSondeo.FALLIDO, "10")
    assert sondeo.descripcion == "The cufe must be 96 characters.; The cufe format is invalid."


# ---- over time: a growing history, a scripted reply, a slow afacturar ----


def test_given_a_growing_history_when_polled_repeatedly_then_one_more_event_each_poll_up_to_a_full_life(fake, http):
    sondeos = polls(fake.url, *[CUFES["creciente"]] * 7)
    full = ["030", "032", "033", "036", "037", "045"]
    assert [codes(s) for s in sondeos] == [full[:n] for n in range(1, 7)] + [full]
    assert [e.numero for e in sondeos[-1].eventos] == [1, 2, 3, 4, 5, 6]
    assert insignias(sondeos[2].eventos) == {Insignia.TITULO_VALOR, Insignia.FACTURA_ELECTRONICA}
    assert Insignia.PAGADA in insignias(sondeos[-1].eventos)
    assert http.get(f"{fake.url}/_calls/{CUFES['creciente']}").json() == {"polls": 7}


def test_given_a_reply_put_for_a_cufe_when_the_client_polls_then_it_sees_exactly_that_reply(fake, http):
    cufe = CUFES["dian"]  # replaces the script too
    event = {"numero": "10", "codigo": "036", "fecha": "2026-11-20 10:00:00", "cude": "AB" * 48, "descripcion": "x"}
    reply = {"codigo_error": "0", "descripcion_error": "OK", "tiempo_ejecucion": "", "resultado": [event]}
    put = http.put(f"{fake.url}/_historial/{cufe.upper()}", content=json.dumps(reply))
    assert put.status_code == 200
    sondeo = poll(fake.url, cufe)
    assert sondeo.resultado is ResultadoSondeo.OK
    assert [(e.numero, e.codigo, e.cude) for e in sondeo.eventos] == [(10, "036", "ab" * 48)]


def test_given_a_put_body_that_is_not_json_then_400_and_the_script_stands(fake, http):
    assert http.put(f"{fake.url}/_historial/{CUFES['dian']}", content=b"<html>").status_code == 400
    assert poll(fake.url, CUFES["dian"]).resultado is ResultadoSondeo.REINTENTAR


def test_given_a_slow_afacturar_when_the_read_timeout_is_shorter_then_retry_later_and_a_patient_poll_gets_it(fake):
    started = time.monotonic()
    impatient = poll(fake.url, CUFES["lenta"], read_timeout=0.5)
    assert impatient.resultado is ResultadoSondeo.REINTENTAR and "ReadTimeout" in impatient.descripcion
    assert time.monotonic() - started < fake.slow
    patient = poll(fake.url, CUFES["lenta"])  # the default read timeout, above afacturar's 60 s
    assert patient.resultado is ResultadoSondeo.OK and codes(patient) == ["030", "032", "033"]
    assert fake.calls(CUFES["lenta"]) == 2


def test_given_a_latency_configured_when_polled_then_every_answer_waits_for_it(fake, http):
    assert http.post(f"{fake.url}/_config", json={"latency": 0.3}).json() == {"latency": 0.3}
    started = time.monotonic()
    sondeo = poll(fake.url, CUFES["sin_eventos"])
    assert sondeo.resultado is ResultadoSondeo.OK and time.monotonic() - started >= 0.3


def test_given_the_scripted_cufes_then_valid_distinct_and_deterministic():
    assert all(HEX96.fullmatch(cufe) for cufe in CUFES.values()) and len(set(CUFES.values())) == len(CUFES)
    assert CUFES["documento"] == hashlib.sha384(b"recaudo-demo-documento").hexdigest()
    assert all(HEX96.fullmatch(e["cude"]) for history in HISTORIAS.values() for e in history)
