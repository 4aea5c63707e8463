"""docs/openapi.json is the wire: every Conectividad endpoint is called through the local stack (gateway,
authorizer, the functions, the payment flow), successes and refusals, and each reply (status, headers,
body) is validated against the committed OpenAPI file with openapi-core."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from recaudo.money import dumps, loads

ROOT = Path(__file__).resolve().parents[2]
BASE = "/v1/integracion-conectividad"
PAYMENTS = ("ejecutar-pago", "ejecutar-pago-total", "ejecutar-pago-parcial", "ejecutar-pago-vencido")


@cache
def spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(ROOT / "docs" / "openapi.json"))


def documented(response: httpx.Response) -> Any:
    """Validate the reply against docs/openapi.json (the operation found from the request's URL under the
    ``/api`` server) and return its body, amounts as Decimal."""
    url = response.request.url
    request = MockRequest(
        f"{url.scheme}://{url.netloc.decode()}",
        response.request.method,
        url.path,
        args=dict(url.params),
        data=response.request.content,
    )
    reply = MockResponse(
        response.content,
        response.status_code,
        headers=dict(response.headers),
        content_type=response.headers.get("content-type", ""),
    )
    spec().validate_response(request, reply)
    return loads(response.content)


@pytest.fixture(scope="module")
def demo(recaudo) -> dict[str, Any]:
    return recaudo.state["demo"]


@pytest.fixture(scope="module")
def bank(recaudo, demo):
    headers = {"Authorization": f"Token {demo['bank']['token']}", "Content-Type": "application/json"}
    with httpx.Client(base_url=recaudo.state["apiBaseUrls"]["api"], headers=headers, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def anonymous(recaudo):
    with httpx.Client(base_url=recaudo.state["apiBaseUrls"]["api"], timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def factura(bank, demo) -> dict[str, Any]:
    """A future debt of the demo person that no other test pays (the last one of a quarterly rubro)."""
    saldos = documented(bank.get(f"{BASE}/saldos-total-persona", params={"identificacion": "12345678"}))
    saldo = max((s for s in saldos if s["idRubro"] == "24"), key=lambda s: s["idSaldo"])
    return {
        "llaveAcceso": demo["bank"]["llaveAcceso"],
        "codigoConvenio": "001",
        "codigoBanco": "00152",
        "codigoAgencia": "033272",
        "periodo": f"{saldo['year']}{saldo['periodo']}",
        "montoTotal": saldo["monto"],
        "numeroFactura": saldo["idSaldo"],
    }


def reversa(pago: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pago.items() if k != "montoTotal"}


QUERIES: list[tuple[str, dict[str, Any], int]] = [
    ("obtener-persona", {"identificacion": "12345678"}, 200),
    ("obtener-persona", {"identificacion": "99999999"}, 404),
    ("obtener-persona", {}, 400),  # stopped by API Gateway's request validator
    ("saldos-persona", {"codigoConvenio": "001", "identificacion": "12345678"}, 200),
    ("saldos-persona", {"codigoConvenio": "004", "identificacion": "87654321"}, 200),  # carrito: more fields
    ("saldos-persona", {"codigoConvenio": "001", "identificacion": "3101123456"}, 404),  # all paid: code 3
    ("saldos-persona", {"codigoConvenio": "999", "identificacion": "12345678"}, 400),
    ("saldos-total-persona", {"identificacion": "12345678"}, 200),
    ("saldos-parcial-persona", {"idDeudor": "12345678"}, 200),
    ("saldos-vencido-persona", {"identificacion": "12345678", "fechaLimite": "31/12/2099"}, 200),
    ("saldos-vencido-persona", {"identificacion": "12345678", "fechaLimite": "31/02/2020"}, 400),
    (
        "saldos-persona-resumen",
        {"codigoConvenio": "001", "identificacion": "12345678", "numeroPagina": 1, "longitudPagina": 5},
        200,
    ),
    (
        "saldos-persona-resumen",
        {"codigoConvenio": "001", "identificacion": "12345678", "numeroPagina": "x", "longitudPagina": 5},
        400,
    ),
    (
        "saldos-persona-resumen-detalle",
        {"codigoConvenio": "001", "identificacion": "12345678", "numeroPagina": 1, "longitudPagina": 5},
        200,
    ),
    (
        "historial-pagos",
        {
            "cedula": "12345678",
            "fechaInicio": (date.today() - timedelta(days=300)).strftime("%d/%m/%Y"),
            "fechaFinal": (date.today() + timedelta(days=1)).strftime("%d/%m/%Y"),
        },
        200,
    ),
    ("historial-pagos", {"cedula": "12345678", "fechaInicio": "01/03/2019", "fechaFinal": "01/01/2019"}, 400),
    ("verificar-pago", {"numeroFactura": 1}, 404),
    ("verificar-pago", {"numeroFactura": "abc"}, 400),
]


@pytest.mark.parametrize(("segment", "params", "status"), QUERIES, ids=[f"{q[0]}-{q[2]}" for q in QUERIES])
def test_given_a_query_when_called_through_the_gateway_then_the_reply_is_the_documented_one(
    bank, segment, params, status
):
    # Given the demo data / When a bank queries / Then the status expected, and a reply docs/openapi.json documents
    response = bank.get(f"{BASE}/{segment}", params=params)
    body = documented(response)
    assert response.status_code == status, response.text
    if status != 200:
        assert body.keys() == {"codigoRespuesta", "descripcion"}  # the queries keep the object


@pytest.mark.parametrize("segment", ["obtener-persona", "verificar-pago", *PAYMENTS, "reversar-pago"])
def test_given_no_token_then_api_gateway_refuses_with_401_and_the_documented_object(anonymous, segment):
    # Given no Authorization header / When any endpoint is called
    if segment in {"obtener-persona", "verificar-pago"}:
        response = anonymous.get(f"{BASE}/{segment}", params={"identificacion": "1", "numeroFactura": 1})
    else:
        response = anonymous.post(f"{BASE}/{segment}", json={})
    # Then API Gateway's own 401, the object with code 4 (a gateway response cannot vary by route)
    body = documented(response)
    assert response.status_code == 401 and body.keys() == {"codigoRespuesta", "descripcion"}
    assert body["codigoRespuesta"] == 4


class TestPaymentsAndReversal:
    """One invoice through every payment endpoint's refusals, its payment, and its reversal (twice)."""

    @pytest.mark.parametrize("segment", PAYMENTS)
    def test_given_a_body_that_is_not_json_then_400_and_the_array_without_an_invoice(self, bank, segment):
        response = bank.post(f"{BASE}/{segment}", content=b'{"numeroFactura": ')
        assert response.status_code == 400
        assert [item.keys() for item in documented(response)] == [{"codigoRespuesta", "descripcion"}]

    @pytest.mark.parametrize("segment", ["ejecutar-pago-parcial", "ejecutar-pago-vencido"])
    def test_given_the_total_convenio_on_another_types_endpoint_then_400_and_the_array_with_the_invoice(
        self, bank, factura, segment
    ):
        # Given a total convenio's invoice / When paid on the parcial or vencido endpoint
        response = bank.post(f"{BASE}/{segment}", content=dumps(factura))
        # Then code 5 in the documented array, naming the invoice
        assert response.status_code == 400
        assert [(i["numeroFactura"], i["codigoRespuesta"]) for i in documented(response)] == [
            (factura["numeroFactura"], 5)
        ]

    def test_given_a_wrong_llave_then_the_function_answers_401_in_the_array(self, bank, factura):
        response = bank.post(f"{BASE}/ejecutar-pago", content=dumps(factura | {"llaveAcceso": "otra"}))
        assert response.status_code == 401
        assert [(i["numeroFactura"], i["codigoRespuesta"]) for i in documented(response)] == [
            (factura["numeroFactura"], 4)
        ]

    def test_given_an_unknown_invoice_then_400_and_the_array_with_it(self, bank, factura):
        response = bank.post(f"{BASE}/ejecutar-pago", content=dumps(factura | {"numeroFactura": 987654321}))
        assert response.status_code == 400
        assert [(i["numeroFactura"], i["codigoRespuesta"]) for i in documented(response)] == [(987654321, 5)]

    def test_given_an_unpaid_invoice_when_reversed_then_400_and_the_bare_5(self, bank, factura):
        response = bank.post(f"{BASE}/reversar-pago", content=dumps(reversa(factura)))
        assert (response.status_code, documented(response)) == (400, 5)

    def test_given_an_unreadable_reversal_then_400_and_the_bare_5(self, bank):
        response = bank.post(f"{BASE}/reversar-pago", content=b"[")
        assert (response.status_code, documented(response)) == (400, 5)

    def test_given_the_invoice_when_paid_verified_reversed_twice_then_every_reply_is_documented(self, bank, factura):
        # When paid on its type's endpoint / Then the documented array with code 0 and the amount
        paid = bank.post(f"{BASE}/ejecutar-pago-total", content=dumps(factura))
        assert paid.status_code == 200, paid.text
        (item,) = documented(paid)
        assert (item["numeroFactura"], item["codigoRespuesta"]) == (factura["numeroFactura"], 0)
        assert item["montoPagado"] == factura["montoTotal"] and isinstance(item["montoPagado"], Decimal)
        # the same invoice with other data: refused in the array, naming it
        other = bank.post(f"{BASE}/ejecutar-pago-total", content=dumps(factura | {"codigoAgencia": "000001"}))
        assert other.status_code in (400, 404), other.text
        assert documented(other)[0]["numeroFactura"] == factura["numeroFactura"]
        verified = bank.get(f"{BASE}/verificar-pago", params={"numeroFactura": factura["numeroFactura"]})
        assert verified.status_code == 200 and documented(verified)["codigoRespuesta"] == 0
        # When reversed, then reversed again: 0 both times, and the header tells which
        first = bank.post(f"{BASE}/reversar-pago", content=dumps(reversa(factura)))
        again = bank.post(f"{BASE}/reversar-pago", content=dumps(reversa(factura)))
        assert (first.status_code, documented(first), first.headers["X-Recaudo-Reversa"]) == (200, 0, "aplicada")
        assert (again.status_code, documented(again), again.headers["X-Recaudo-Reversa"]) == (200, 0, "previa")
        gone = bank.get(f"{BASE}/verificar-pago", params={"numeroFactura": factura["numeroFactura"]})
        assert gone.status_code == 404 and documented(gone)["codigoRespuesta"] == 3


@pytest.mark.parametrize("segment", ["ejecutar-pago", "reversar-pago"])
def test_given_a_body_too_large_then_the_edge_refuses_with_413_and_the_documented_object(bank, segment):
    # Given a body over API Gateway's 10 MB (the firewall's own size rule, if any, is lower) / When posted
    response = bank.post(f"{BASE}/{segment}", content=b" " * (10 * 1024 * 1024 + 1))
    # Then 413 with code 5, the object, as documented (not DEFAULT_4XX's 400)
    assert response.status_code == 413
    assert documented(response)["codigoRespuesta"] == 5


def test_given_every_gateway_reply_in_the_template_then_each_is_documented_where_it_can_happen(recaudo):
    """429 cannot be provoked locally, so the template's own gateway responses are checked statically."""
    manifest = json.loads((Path(recaudo.cdk_out) / "manifest.json").read_text())
    (template_file,) = [
        a["properties"]["templateFile"]
        for a in manifest["artifacts"].values()
        if a.get("type") == "aws:cloudformation:stack"
    ]
    resources = json.loads((Path(recaudo.cdk_out) / template_file).read_text())["Resources"]
    replies = {
        r["Properties"]["ResponseType"]: (int(r["Properties"]["StatusCode"]), r["Properties"]["ResponseTemplates"])
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::GatewayResponse"
        and r["Properties"]["RestApiId"]["Ref"].startswith("ConectividadApi")
    }
    assert replies["REQUEST_TOO_LARGE"][0] == 413 and replies["THROTTLED"][0] == 429
    paths = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))["paths"]
    for path, operations in paths.items():
        for method in operations:
            for response_type, (status, templates) in replies.items():
                if response_type == "MISSING_AUTHENTICATION_TOKEN":  # an unknown route: no operation of ours
                    continue
                if response_type == "REQUEST_TOO_LARGE" and method == "get":
                    continue
                # Given API Gateway refuses a call to this operation / Then the file documents that reply
                request = MockRequest("https://banco.example", method, f"/api{path}")
                reply = MockResponse(templates["application/json"].encode(), status)
                spec().validate_response(request, reply)
