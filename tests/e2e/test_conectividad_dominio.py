"""Conectividad's documented URLs and production guards, over real HTTP against the local stack: the
custom domain's root is the "api" stage (a bank's base URL is the host), the web ACL refuses large
bodies in the API's dialect, and a bank with no API key in the usage plan is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

BASE = "/v1/integracion-conectividad"
TOO_LARGE = {"codigoRespuesta": 5, "descripcion": "Parámetros incorrectos: cuerpo demasiado grande"}


@pytest.fixture(scope="module")
def token(recaudo) -> str:
    return recaudo.state["demo"]["bank"]["token"]


def test_given_the_custom_domain_then_its_root_answers_as_the_stage_url(recaudo, token):
    # Given the template's base path mapping (the empty base path -> stage "api"), served at the root
    (mapping,) = recaudo.state["customDomains"].values()
    assert mapping == {"url": recaudo.state["gatewayUrl"], "stage": "api"}
    headers = {"Authorization": f"Token {token}"}
    ident = recaudo.state["demo"]["persona"]["identificacion"]
    # When the same query is sent to the root and to the stage URL, with the same token
    root = httpx.get(f"{recaudo.state['gatewayUrl']}{BASE}/obtener-persona?identificacion={ident}", headers=headers)
    stage = httpx.get(
        f"{recaudo.state['apiBaseUrls']['api']}{BASE}/obtener-persona?identificacion={ident}", headers=headers
    )
    # Then both answer the same person
    assert root.status_code == stage.status_code == 200
    assert root.json() == stage.json() and root.json()["identificacion"] == ident
    # and an unknown path at the root is Conectividad's own 404 (code 5), not a bare Not Found
    unknown = httpx.get(f"{recaudo.state['gatewayUrl']}{BASE}/no-existe", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["codigoRespuesta"] == 5


def test_given_the_root_mapping_then_the_other_apis_keep_their_stage_urls(recaudo):
    # Given the stages of the other APIs (they start with the stage's name; Conectividad's root with v1)
    urls = recaudo.state["apiBaseUrls"]
    # When each is called without its credentials / Then each answers in its own dialect, not Conectividad's
    cobranzas = httpx.get(
        f"{urls['api2']}/cobranzas/exportar/csv",
        params={"periodo": "*"},
        headers={"Authorization": "Bearer " + "x" * 43},
    )
    assert cobranzas.status_code == 401 and cobranzas.text.startswith("ERROR:")
    radian = httpx.get(f"{urls['radian']}/v1/facturas")
    assert radian.status_code == 401 and radian.json()["codigo"] == "NO_AUTENTICADO"


@pytest.mark.parametrize("where", ["stage", "root"])
def test_given_a_7_mb_payment_then_the_web_acl_answers_413_in_the_conectividad_dialect(recaudo, token, where):
    # Given a payment body of 7 MB (over the web ACL's 64 KB; over Lambda's 6 MB event too)
    url = recaudo.state["apiBaseUrls"]["api"] if where == "stage" else recaudo.state["gatewayUrl"]
    body = json.dumps({"llaveAcceso": "x", "relleno": "x" * (7 * 1024 * 1024)})
    # When it is posted to ejecutar-pago
    reply = httpx.post(
        f"{url}{BASE}/ejecutar-pago",
        content=body,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        timeout=60,
    )
    # Then the web ACL's own reply: 413 and Conectividad's error object (not a 502 from Lambda's limit)
    assert reply.status_code == 413
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == TOO_LARGE


def test_given_a_body_under_64_kb_then_the_web_acl_lets_it_reach_the_function(recaudo, token):
    # Given a 60 KB body that is no valid payment
    body = json.dumps({"relleno": "x" * (60 * 1024)})
    # When it is posted / Then the function itself refuses it (code 5, 400), past the web ACL
    reply = httpx.post(
        f"{recaudo.state['apiBaseUrls']['api']}{BASE}/ejecutar-pago",
        content=body,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert reply.status_code == 400
    refusal = reply.json()  # ejecutar-pago's own shape: the error object inside an array
    assert (refusal[0] if isinstance(refusal, list) else refusal)["codigoRespuesta"] == 5


def test_given_a_bank_with_no_api_key_then_refused_until_the_operator_gives_it_one(recaudo):
    from recaudo.data.credentials import CredentialsRepository

    # Given a bank created without an API key in the usage plan (create-bank alone)
    credentials = CredentialsRepository(recaudo.state["demo"]["tables"]["credentials"], recaudo.aws("dynamodb"))
    bank = credentials.create_bank("00999", "Banco Sin Plan", datetime.now(UTC))
    ident = recaudo.state["demo"]["persona"]["identificacion"]
    url = f"{recaudo.state['gatewayUrl']}{BASE}/obtener-persona?identificacion={ident}"
    # When its valid token calls / Then API Gateway refuses it: 403, code 4, in the API's dialect
    refused = httpx.get(url, headers={"Authorization": f"Token {bank.token}"})
    assert refused.status_code == 403
    assert refused.json() == {"codigoRespuesta": 4, "descripcion": "No autenticado: banco sin plan de uso asignado"}
    # When the operator stores its key (bank-api-key) / Then a token the authorizer has not cached passes
    credentials.set_usage_key("00999", "clave-de-uso-del-banco-00999-0123456789")
    fresh = credentials.add_token("00999", datetime.now(UTC))
    assert httpx.get(url, headers={"Authorization": f"Token {fresh}"}).status_code == 200
