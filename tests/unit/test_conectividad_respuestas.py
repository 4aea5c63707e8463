"""Every Conectividad refusal keeps its endpoint's documented shape (the handlers' resolvers, called
with API Gateway events), and every reply is one that docs/openapi.json documents. API Gateway's own
replies are checked against the same file in tests/e2e/test_conectividad_openapi.py."""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from conectividad import pagos, reversas
from recaudo.errors import NoAutenticado, ParametrosIncorrectos, SinFacturasPendientes
from recaudo.idempotency import EnCurso, EnProceso
from tests.helpers import LambdaContext, rest_event

ROOT = Path(__file__).resolve().parents[2]
BASE = "/v1/integracion-conectividad"
PAYMENTS = ["ejecutar-pago", "ejecutar-pago-total", "ejecutar-pago-parcial", "ejecutar-pago-vencido"]
FACTURA = 20190313
# Decimal amounts travel as JSON numbers: the body is text, never json.dumps of a float.
PAGO = (
    '{"llaveAcceso":"llave","codigoConvenio":"001","codigoBanco":"00152","codigoAgencia":"033272",'
    f'"periodo":"201903","montoTotal":7700.00,"numeroFactura":{FACTURA}}}'
)
REVERSA = (
    '{"llaveAcceso":"llave","codigoConvenio":"001","codigoBanco":152,"codigoAgencia":"033272",'
    f'"periodo":"201903","numeroFactura":{FACTURA}}}'
)


@cache
def spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(ROOT / "docs" / "openapi.json"))


def conforms(method: str, segment: str, status: int, body: str, headers: dict[str, str] | None = None) -> None:
    """The reply is one that docs/openapi.json documents for this operation: status, headers and body."""
    request = MockRequest("https://banco.example", method, f"/api{BASE}/{segment}")
    response = MockResponse(body.encode(), status, headers=headers, content_type="application/json")
    spec().validate_response(request, response)


def resolve(segment: str, method: str = "POST", body: str | None = None, query: str | None = None):
    """(status, headers, body text) of the endpoint's own resolver for an API Gateway REST event."""
    module = importlib.import_module(f"conectividad.{segment.replace('-', '_')}")
    reply = module.app.resolve(rest_event(method, f"{BASE}/{segment}", query, body=body), LambdaContext())
    headers = {k: v[-1] for k, v in (reply.get("multiValueHeaders") or {}).items()} | (reply.get("headers") or {})
    conforms(method, segment, reply["statusCode"], reply["body"], headers)
    return reply["statusCode"], headers, reply["body"]


def logic_raising(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, error: Exception) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(module, name, refuse)


class TestEjecutarPagoRefusalsAreTheSuccessArray:
    @pytest.mark.parametrize("segment", PAYMENTS)
    def test_given_a_body_that_is_not_json_when_paying_then_400_an_array_with_code_5_and_no_invoice(self, segment):
        # Given a body nobody can read / When it is sent to any ejecutar-pago endpoint
        status, _, body = resolve(segment, body="{numeroFactura: 1")
        # Then the documented array, with code 5, and no numeroFactura (it could not be read: never guessed)
        assert status == 400
        (item,) = json.loads(body)
        assert item.keys() == {"codigoRespuesta", "descripcion"} and item["codigoRespuesta"] == 5
        assert item["descripcion"].startswith("Parámetros incorrectos")

    @pytest.mark.parametrize(
        ("text", "numero"),
        [
            (PAGO.replace('"201903"', '"2019"'), FACTURA),  # a bad periodo: the invoice is known
            (PAGO.replace(str(FACTURA), '"20190313"').replace('"201903"', '"2019"'), FACTURA),  # numeric text
            (PAGO.replace(str(FACTURA), '"abc"'), None),  # an invalid invoice is not echoed
            (PAGO.replace(str(FACTURA), "0.0"), None),  # the document's placeholder: refused, not echoed
            (PAGO.replace(f',"numeroFactura":{FACTURA}', ""), None),  # missing
            ('"texto"', None),  # JSON, but not an object
        ],
        ids=["bad-periodo", "numeric-string", "invalid-invoice", "zero", "missing", "not-an-object"],
    )
    def test_given_an_invalid_request_then_the_invoice_is_echoed_only_when_valid(self, text, numero):
        # Given a request that fails validation / When paid
        status, _, body = resolve("ejecutar-pago", body=text)
        # Then 400, one item with code 5, numeroFactura exactly when the body carried a valid one
        expected = {"codigoRespuesta": 5} | ({"numeroFactura": numero} if numero else {})
        (item,) = json.loads(body)
        assert status == 400 and {k: v for k, v in item.items() if k != "descripcion"} == expected

    @pytest.mark.parametrize(
        ("error", "status", "code"),
        [
            (ParametrosIncorrectos("montoTotal no coincide"), 400, 5),
            (NoAutenticado("llaveAcceso inválida"), 401, 4),
            (SinFacturasPendientes("la factura ya fue pagada"), 404, 3),
            (EnProceso("el pago de esta factura está en proceso"), 409, 1),
            (EnCurso("el pago se está aplicando"), 202, 1),
            (RuntimeError("boom: a trace that must not leak"), 500, 1),
        ],
        ids=["5", "4", "3", "en-proceso", "en-curso", "unexpected"],
    )
    @pytest.mark.parametrize("segment", PAYMENTS)
    def test_given_the_logic_refuses_then_its_status_and_the_array_with_the_invoice(
        self, monkeypatch, segment, error, status, code
    ):
        # Given the payment logic refuses (or fails) / When a valid-looking payment arrives
        logic_raising(monkeypatch, pagos, "ejecutar_pago", error)
        got, _, body = resolve(segment, body=PAGO)
        # Then the status of its code, and the success reply's own array with the invoice and the code
        (item,) = json.loads(body)
        assert got == status and list(item) == ["numeroFactura", "codigoRespuesta", "descripcion"]
        assert (item["numeroFactura"], item["codigoRespuesta"]) == (FACTURA, code)
        assert "boom" not in body

    def test_given_a_payment_whose_outcome_is_not_known_then_202_says_en_proceso(self, monkeypatch):
        # Given the logic cannot tell yet whether the payment went through
        logic_raising(monkeypatch, pagos, "ejecutar_pago", EnCurso("el pago se está aplicando"))
        # When paid / Then 202 with code 1 and a descripcion that starts "En proceso"
        status, _, body = resolve("ejecutar-pago", body=PAGO)
        assert status == 202 and json.loads(body)[0]["descripcion"].startswith("En proceso")


class TestReversarPagoRefusalsAreTheBareCode:
    @pytest.mark.parametrize(
        ("error", "status", "code"),
        [
            (ParametrosIncorrectos("no existe un pago para la factura"), 400, 5),
            (NoAutenticado("el pago fue registrado por otro banco"), 401, 4),
            (EnProceso("el pago de esta factura está en proceso"), 409, 1),
            (RuntimeError("boom"), 500, 1),
        ],
        ids=["5", "4", "en-proceso", "unexpected"],
    )
    def test_given_the_logic_refuses_then_its_status_and_the_bare_code(self, monkeypatch, error, status, code):
        # Given the reversal logic refuses / When a reversal arrives
        logic_raising(monkeypatch, reversas, "reversar_pago", error)
        got, headers, body = resolve("reversar-pago", body=REVERSA)
        # Then the documented reply's shape: the bare code, with the status of the code, and no reversal header
        assert (got, body) == (status, str(code))
        assert "X-Recaudo-Reversa" not in headers

    @pytest.mark.parametrize("text", ["no es json", "{}", REVERSA.replace('"201903"', '"2019"')])
    def test_given_an_invalid_reversal_then_400_and_the_bare_5(self, text):
        # Given an unreadable or invalid body / When reversing / Then 400 and the body is exactly 5
        assert resolve("reversar-pago", body=text)[::2] == (400, "5")

    @pytest.mark.parametrize("result", ["aplicada", "previa"])
    def test_given_a_reversal_when_it_succeeds_then_0_and_the_documented_header(self, monkeypatch, result):
        # Given the logic reverses (or finds it reversed) / When called
        monkeypatch.setattr(reversas, "reversar_pago", lambda *a, **k: result)
        # Then the documented 0 and X-Recaudo-Reversa, both as docs/openapi.json says (checked by resolve)
        status, headers, body = resolve("reversar-pago", body=REVERSA)
        assert (status, body, headers["X-Recaudo-Reversa"]) == (200, "0", result)


class TestOtherEndpointsKeepTheObject:
    @pytest.mark.parametrize(
        ("segment", "query"),
        [
            ("obtener-persona", None),
            ("saldos-persona-resumen", "codigoConvenio=001&identificacion=1&numeroPagina=x&longitudPagina=5"),
            ("historial-pagos", "cedula=1&fechaInicio=2019-01-01&fechaFinal=01/03/2019"),
            ("verificar-pago", "numeroFactura=abc"),
        ],
    )
    def test_given_bad_parameters_then_400_and_the_object_with_code_5(self, segment, query):
        # Given a query the resolver refuses / When called / Then the object, unchanged
        status, _, body = resolve(segment, "GET", query=query)
        assert status == 400 and json.loads(body).keys() == {"codigoRespuesta", "descripcion"}
        assert json.loads(body)["codigoRespuesta"] == 5
