"""afacturar's client: the request as afacturar expects it (multipart, Accept, Bearer) and every kind
of reply read as a poll's outcome: events, no events (12), not authenticated, retry later, failed."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from recaudo.clients.radian import AfacturarClient, ResultadoSondeo, interpretar

CUFE = "a" * 96
DOCUMENT_EXAMPLE = {
    "codigo_error": 0,
    "descripcion_error": "",
    "tiempo_ejecucion": "",
    "resultado": [
        {
            "numero": "1",
            "codigo": "030",
            "descripcion": "Acuse",
            "fecha": "2022-11-30 21:22:17",
            "cude": "E6C2" + "0" * 92,
        },
        {
            "numero": "2",
            "codigo": "032",
            "descripcion": "Recibo",
            "fecha": "2022-11-30 21:22:37",
            "cude": "d944" + "1" * 92,
        },
    ],
}


def poll(reply: httpx.Response | Exception, entorno: str | None = "DOCUMENTO_NO_VALIDO"):
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def run():
        client = AfacturarClient("https://afacturar.test", "token-x", entorno, transport=httpx.MockTransport(handle))
        try:
            return await client.historial(CUFE)
        finally:
            await client.aclose()

    return asyncio.run(run()), seen


def test_given_the_documents_example_then_its_events_typed_and_the_request_as_afacturar_expects():
    sondeo, (request,) = poll(httpx.Response(200, json=DOCUMENT_EXAMPLE))
    assert sondeo.resultado is ResultadoSondeo.OK
    assert [(e.codigo, e.numero) for e in sondeo.eventos] == [("030", 1), ("032", 2)]
    assert sondeo.eventos[0].cude == "e6c2" + "0" * 92  # normalised to lower case
    # multipart, with Accept and the Bearer token
    assert request.url.path == "/api/radian/historico_eventos" and request.method == "POST"
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert request.headers["Accept"] == "application/json" and request.headers["Authorization"] == "Bearer token-x"
    body = request.content
    assert b'name="cufe"' in body and CUFE.encode() in body and b'name="entorno"' in body


@pytest.mark.parametrize(
    ("status", "body", "resultado", "eventos"),
    [
        (200, {"codigo_error": 12, "descripcion_error": "CUFE sin eventos", "resultado": []}, ResultadoSondeo.OK, 0),
        (200, {"codigo_error": "0", "descripcion_error": "", "resultado": []}, ResultadoSondeo.OK, 0),  # string code
        (200, {"codigo_error": "12", "descripcion_error": ["sin eventos"], "resultado": []}, ResultadoSondeo.OK, 0),
        (401, {"message": "Unauthenticated."}, ResultadoSondeo.NO_AUTENTICADO, 0),
        (200, {"codigo_error": 401, "descripcion_error": "token"}, ResultadoSondeo.NO_AUTENTICADO, 0),
        (200, {"codigo_error": 11, "descripcion_error": "token no asociado"}, ResultadoSondeo.NO_AUTENTICADO, 0),
        (
            200,
            {"codigo_error": 28, "descripcion_error": "la operación duró más de 60 s"},
            ResultadoSondeo.REINTENTAR,
            0,
        ),
        (200, {"codigo_error": "15", "descripcion_error": "error DIAN"}, ResultadoSondeo.REINTENTAR, 0),
        (502, {"message": "bad gateway"}, ResultadoSondeo.REINTENTAR, 0),
        (
            200,
            {"codigo_error": 99, "descripcion_error": ["The lista cufe field is required."]},
            ResultadoSondeo.FALLIDO,
            0,
        ),
    ],
)
def test_given_each_kind_of_reply_then_its_outcome(status, body, resultado, eventos):
    sondeo, _ = poll(httpx.Response(status, json=body))
    assert sondeo.resultado is resultado and len(sondeo.eventos) == eventos


def test_given_a_list_description_then_it_is_kept_as_text():
    sondeo = interpretar(200, json.dumps({"codigo_error": 10, "descripcion_error": ["a", "b"]}).encode())
    assert sondeo.resultado is ResultadoSondeo.FALLIDO and sondeo.descripcion == "a; b"


def test_given_an_html_login_page_then_a_failed_poll_not_a_crash():
    sondeo, _ = poll(httpx.Response(200, text="<html><body>Login</body></html>"))
    assert sondeo.resultado is ResultadoSondeo.FALLIDO and "no JSON" in sondeo.descripcion


def test_given_a_timeout_then_retry_later():
    sondeo, seen = poll(httpx.ReadTimeout("slow", request=httpx.Request("POST", "https://afacturar.test")))
    assert sondeo.resultado is ResultadoSondeo.REINTENTAR and len(seen) == 1


def test_given_an_unreadable_event_then_a_failed_poll():
    bad = {"codigo_error": 0, "resultado": [{"numero": "x", "codigo": "030", "fecha": "ayer", "cude": "c"}]}
    sondeo, _ = poll(httpx.Response(200, json=bad))
    assert sondeo.resultado is ResultadoSondeo.FALLIDO


def test_given_no_entorno_configured_then_only_the_cufe_is_sent():
    _, (request,) = poll(httpx.Response(200, json=DOCUMENT_EXAMPLE), entorno=None)
    assert b'name="entorno"' not in request.content


def test_given_the_client_then_its_read_timeout_is_above_afacturars_60_s():
    client = AfacturarClient("https://afacturar.test", "t")
    assert all(c.timeout.read > 60 for c in client._clients)
    asyncio.run(client.aclose())


def test_given_a_concurrency_then_pools_of_four_kept_alive_cover_it_with_one_tls_context():
    # Given the poller's concurrency of 18 / Then five pools of four, each keeping all its connections alive
    client = AfacturarClient("https://afacturar.test", "t", conexiones=18)
    pools = [c._transport._pool for c in client._clients]  # type: ignore[attr-defined]
    assert len(pools) == 5
    assert {(p._max_connections, p._max_keepalive_connections) for p in pools} == {(4, 4)}
    assert len({id(p._ssl_context) for p in pools}) == 1
    asyncio.run(client.aclose())
