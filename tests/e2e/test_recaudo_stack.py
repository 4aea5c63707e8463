"""The real app (cdk.out of the CDK app) on the local stack: Conectividad through gateway and authorizer."""

from __future__ import annotations

import sys
from decimal import Decimal

import httpx
import pytest

from recaudo.money import loads

BASE = "/v1/integracion-conectividad"


@pytest.fixture(scope="module")
def demo(recaudo) -> dict:
    return recaudo.state["demo"]


@pytest.fixture(scope="module")
def bank(recaudo, demo):
    headers = {"Authorization": f"Token {demo['bank']['token']}"}
    with httpx.Client(base_url=recaudo.state["apiBaseUrls"]["api"], headers=headers, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def anonymous(recaudo):
    with httpx.Client(base_url=recaudo.state["apiBaseUrls"]["api"], timeout=30) as client:
        yield client


def test_given_the_started_stack_then_stack_json_tells_a_newcomer_everything(recaudo, demo):
    state = recaudo.state
    assert state["awsEndpointUrl"].startswith("http://127.0.0.1:")
    assert set(demo["tables"]) == {"ledger", "credentials"}
    assert demo["bank"]["codigoBanco"] == "00152" and demo["bank"]["llaveAcceso"]
    assert demo["persona"]["identificacion"] == "12345678" and demo["persona"]["pendientes"] > 0
    assert set(demo["persona"]["convenios"].values()) >= {"total", "parcial", "vencido", "carrito"}
    from infra import constants as c

    expected = len(c.CONECTIVIDAD_QUERIES) + len(c.CONECTIVIDAD_PAYMENTS) + len(c.PAYMENT_FLOW_TASKS) + 1
    expected += 1  # the sweeper of payments left APLICADO
    expected += len(c.COBRANZAS_ROUTES) + 1  # the cobranzas endpoints and the S3 import
    expected += len(c.RECARGAS_ROUTES) + len(c.RECARGAS_FLOW_TASKS)
    expected += len(c.RADIAN_ROUTES) + 3  # RADIAN's endpoints, the planner, the poller and its authorizer
    expected += len(c.CUOTAS_ROUTES) + 1  # UNO's two methods and its authorizer
    assert len(state["functions"]) == expected
    # the CPS demo: a channel, the fake carrier's URL and one number per carrier behaviour
    cps = demo["cps"]
    assert (
        len(cps["apiKey"]) == 64 and len(cps["privateKey"]) == 64 and cps["carrierUrl"].startswith("http://127.0.0.1:")
    )
    assert cps["baseUrl"] == state["gatewayUrl"] and set(cps["numbers"]) >= {"aplicada", "rechazada", "saldo"}
    assert state["iam"]["enforced"] and state["python"].startswith(sys.version.split()[0])  # the tests' own Python
    assert demo["cobranzas"]["prefijo"] == "entrada/clubdemo/" and demo["cobranzas"]["hash"]
    assert all(state["motoHooks"].values()), state["motoHooks"]
    # the RADIAN demo: a tenant's token, the fake afacturar, its scripted CUFEs, the schedule's name
    radian = demo["radian"]
    assert radian["baseUrl"] == state["gatewayUrl"] and radian["fakeUrl"].startswith("http://127.0.0.1:")
    assert radian["token"] and all(len(cufe) == 96 for cufe in radian["cufes"].values())
    assert radian["schedule"] in {s["name"] for s in state["schedules"]}
    # the UNO demo: the document's context, its articles priced (and one not), the URL before /wssb/...
    uno = demo["uno"]
    assert uno["baseUrl"] == f"{state['gatewayUrl']}/{c.CUOTAS_STAGE}" and uno["token"]
    assert uno["context"] == {"businessId": 10, "schoolId": 6498, "schoolYearId": 64}
    assert {3259, 3245} <= set(uno["pricedArticles"]) and uno["unpricedArticle"] not in uno["pricedArticles"]


def test_given_the_demo_token_when_obtener_persona_then_200_and_the_documented_body(bank):
    response = bank.get(f"{BASE}/obtener-persona", params={"identificacion": "12345678"})
    assert response.status_code == 200
    assert response.json() == {"identificacion": "12345678", "nombre": "Julio Cascante", "tipoIdentificacion": "F"}


@pytest.mark.parametrize("tipo", ["total", "parcial", "vencido"])
def test_given_each_convenio_type_when_queried_through_the_gateway_then_pending_debts(bank, tipo):
    response = bank.get(f"{BASE}/saldos-{tipo}-persona", params={"idDeudor": "12345678"})
    assert response.status_code == 200
    saldos = loads(response.content)
    assert saldos and all(s["monto"] == s["saldo"] + s["saldoInteres"] for s in saldos)
    assert all(isinstance(s["monto"], Decimal) for s in saldos)


def test_given_pages_when_walked_then_every_group_once(bank):
    first = bank.get(
        f"{BASE}/saldos-persona-resumen",
        params={"codigoConvenio": "001", "identificacion": "12345678", "numeroPagina": 1, "longitudPagina": 5},
    ).json()
    groups = []
    for n in range(1, first["cantidadPaginas"] + 1):
        page = bank.get(
            f"{BASE}/saldos-persona-resumen",
            params={"codigoConvenio": "001", "identificacion": "12345678", "numeroPagina": n, "longitudPagina": 5},
        ).json()
        groups += [(g["year"], g["idRubro"]) for g in page["saldosPersonaResumen"]]
    assert len(groups) == len(set(groups)) > 5


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Token RyNrhel3gtc92+4/Ml0RjbXTsJU="},
        {"Authorization": "Token 0123456789abcdef." + "A" * 43},
    ],
    ids=["missing", "document-sample", "forged"],
)
def test_given_a_denied_token_then_401_with_code_4(anonymous, headers):
    response = anonymous.get(f"{BASE}/obtener-persona", params={"identificacion": "12345678"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["codigoRespuesta"] == 4


def test_given_bad_parameters_through_the_gateway_then_400_with_code_5(bank):
    missing = bank.get(f"{BASE}/saldos-persona", params={"identificacion": "12345678"})  # stopped by API Gateway
    invalid = bank.get(
        f"{BASE}/saldos-persona-resumen",
        params={"codigoConvenio": "001", "identificacion": "12345678", "numeroPagina": "x", "longitudPagina": 5},
    )
    for response in (missing, invalid):
        assert response.status_code == 400
        assert response.json()["codigoRespuesta"] == 5


def test_given_an_unknown_route_then_the_conectividad_dialect(bank):
    response = bank.get(f"{BASE}/no-existe")
    assert response.status_code == 404 and response.json()["codigoRespuesta"] == 5


def test_given_the_swagger_ui_then_it_is_served_offline_with_the_spec(recaudo):
    base = recaudo.state["gatewayUrl"]
    page = httpx.get(f"{base}/_docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert httpx.get(f"{base}/_docs/swagger-ui-bundle.min.js").status_code == 200
    spec = httpx.get(f"{base}/_docs/openapi.json").json()
    assert f"{BASE}/obtener-persona" in spec["paths"]
