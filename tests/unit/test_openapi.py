"""The committed OpenAPI document is what the handlers generate: no drift."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("openapi_gen", ROOT / "scripts" / "openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_given_the_handlers_when_the_spec_is_generated_then_it_equals_the_committed_file():
    generator = _generator()
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert generator.render() == committed, "docs/openapi.json drifted: run `make openapi` and commit it"


def test_given_the_spec_then_every_endpoint_has_its_reply_and_error_models():
    from infra import constants as c

    spec = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    expected = {f"/{c.CONECTIVIDAD_BASE_PATH}/{s}": "get" for s in c.CONECTIVIDAD_QUERIES} | {
        f"/{c.CONECTIVIDAD_BASE_PATH}/{s}": method.lower() for s, (_, method) in c.CONECTIVIDAD_PAYMENTS.items()
    }
    assert {path: next(iter(ops)) for path, ops in spec["paths"].items()} == expected
    for path, operations in spec["paths"].items():
        responses = next(iter(operations.values()))["responses"]
        assert {"200", "400", "401", "403", "429", "500"} <= responses.keys(), path
        assert "404" in responses or path.endswith("/reversar-pago"), path  # a reversal never answers 2 or 3
        assert "422" not in responses, path
    body = spec["paths"][f"/{c.CONECTIVIDAD_BASE_PATH}/ejecutar-pago"]["post"]["requestBody"]
    assert "PagoRequest" in json.dumps(body)


def _conectividad_spec() -> dict:
    return json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))


def _resolve(spec: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def test_given_the_committed_documents_when_validated_then_each_is_a_valid_openapi_3_1_document():
    from openapi_spec_validator import validate

    # Given every committed OpenAPI file / When validated / Then no error (a $ref to nowhere would raise)
    for path in sorted((ROOT / "docs").glob("openapi*.json")):
        validate(json.loads(path.read_text(encoding="utf-8")))


def test_given_the_spec_then_every_amount_is_a_json_number_as_sent_in_requests_and_replies():
    spec = _conectividad_spec()
    schemas = spec["components"]["schemas"]
    amounts = {
        ("SaldoReply", "monto"),
        ("SaldoReply", "saldo"),
        ("SaldoReply", "saldoInteres"),
        ("SaldoResumenReply", "montoTotal"),
        ("HistorialReply", "montoPago"),
        ("PagoItemReply", "montoPagado"),
        ("PagoRequest", "montoTotal"),
    }
    for model, field in amounts:
        prop = schemas[model]["properties"][field]
        (number,) = [s for s in prop.get("anyOf", [prop]) if s.get("type") != "null"]
        # Then a number, read as a decimal; no multipleOf (float validators refuse 0.07 against 0.01)
        assert (number["type"], number["format"]) == ("number", "decimal"), (model, field)
        assert "multipleOf" not in number, (model, field)
    assert schemas["PagoRequest"]["properties"]["montoTotal"]["exclusiveMinimum"] == 0
    assert '"type": "string", "format": "decimal"' not in json.dumps(spec)


def test_given_the_spec_then_every_code_accepts_a_string_or_an_integer():
    schemas = _conectividad_spec()["components"]["schemas"]
    codes = [("PagoRequest", f) for f in ("codigoConvenio", "codigoBanco", "codigoAgencia")]
    codes += [("ReversaRequest", "codigoBanco"), ("Transaccion", "numeroCuenta"), ("Transaccion", "numeroDocumento")]
    for model, field in codes:
        types = {s["type"] for s in schemas[model]["properties"][field]["anyOf"]}
        assert types == {"string", "integer"}, (model, field)


def test_given_the_payment_endpoints_then_their_errors_have_their_success_shape_and_every_status_is_documented():
    from infra import constants as c

    spec = _conectividad_spec()
    base = f"/{c.CONECTIVIDAD_BASE_PATH}"
    assert spec["servers"] == [{"url": f"/{c.CONECTIVIDAD_STAGE}"}]  # the stage prefix: paths resolve under /api

    def shapes(responses: dict, status: str) -> list[str]:
        schema = responses[status]["content"]["application/json"]["schema"]
        return sorted(_resolve(spec, s).get("type", "?") for s in schema.get("anyOf", [schema]))

    for segment in ("ejecutar-pago", "ejecutar-pago-total", "ejecutar-pago-parcial", "ejecutar-pago-vencido"):
        responses = spec["paths"][f"{base}/{segment}"]["post"]["responses"]
        assert set(responses) == {"200", "202", "400", "401", "403", "404", "409", "413", "429", "500"}, segment
        # Then the function's refusals are the array; API Gateway's own (token, 5xx) the object
        assert shapes(responses, "400") == shapes(responses, "401") == shapes(responses, "500") == ["array", "object"]
        assert shapes(responses, "202") == shapes(responses, "404") == shapes(responses, "409") == ["array"]
        assert shapes(responses, "403") == shapes(responses, "413") == shapes(responses, "429") == ["object"]
        item = _resolve(spec, responses["202"]["content"]["application/json"]["schema"]["items"])
        assert item["required"] == ["codigoRespuesta", "descripcion"] and "numeroFactura" in item["properties"]
    reversal = spec["paths"][f"{base}/reversar-pago"]["post"]["responses"]
    assert set(reversal) == {"200", "400", "401", "403", "409", "413", "429", "500"}
    assert shapes(reversal, "400") == shapes(reversal, "401") == shapes(reversal, "500") == ["integer", "object"]
    assert shapes(reversal, "409") == ["integer"] and shapes(reversal, "413") == ["object"]
    header = reversal["200"]["headers"]["X-Recaudo-Reversa"]
    assert header["schema"]["enum"] == ["aplicada", "previa"] and header["required"] is True


def test_given_the_cobranzas_handlers_then_their_spec_equals_the_committed_file_and_lists_every_route():
    from infra import constants as c

    generator = _generator()
    committed = (ROOT / "docs" / "openapi-cobranzas.json").read_text(encoding="utf-8")
    assert generator.render_cobranzas() == committed, "docs/openapi-cobranzas.json drifted: run `make openapi`"
    spec = json.loads(committed)
    assert spec["servers"] == [{"url": "/api2"}]
    assert {path: sorted(ops) for path, ops in spec["paths"].items()} == {
        f"/{path}": sorted(m.lower() for m in methods) for path, (_, methods) in c.COBRANZAS_ROUTES.items()
    }
    upload = spec["paths"]["/cobranzas/importar/csv"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload


def test_given_the_recargas_handlers_then_their_spec_equals_the_committed_file_with_signatures_and_codes():
    from infra import constants as c

    generator = _generator()
    committed = (ROOT / "docs" / "openapi-recargas.json").read_text(encoding="utf-8")
    assert generator.render_recargas() == committed, "docs/openapi-recargas.json drifted: run `make openapi`"
    spec = json.loads(committed)
    assert spec["servers"] == [{"url": "/cps"}]
    assert {path: sorted(ops) for path, ops in spec["paths"].items()} == {
        "/" + path.replace("{idOperacion}", "{idOperacion}"): [method.lower()]
        for path, (_, method) in c.RECARGAS_ROUTES.items()
    }
    pay = spec["paths"]["/v2/operation/use/pay"]["post"]
    assert {"200", "202", "400", "401", "409", "422", "503"} <= pay["responses"].keys()
    assert "PagoRecargaRequest" in json.dumps(pay["requestBody"])
    assert set(spec["components"]["securitySchemes"]) == {"api-key", "api-nonce", "api-signature"}


def test_given_the_radian_handlers_then_their_spec_equals_the_committed_file_with_every_route_and_its_errors():
    from infra import constants as c

    generator = _generator()
    committed = (ROOT / "docs" / "openapi-radian.json").read_text(encoding="utf-8")
    assert generator.render_radian() == committed, "docs/openapi-radian.json drifted: run `make openapi`"
    spec = json.loads(committed)
    assert spec["servers"] == [{"url": "/radian"}]
    expected: dict[str, list[str]] = {}
    for path, method in c.RADIAN_ROUTES.values():
        expected.setdefault(f"/{path}", []).append(method.lower())
    assert {path: sorted(ops) for path, ops in spec["paths"].items()} == {p: sorted(m) for p, m in expected.items()}
    register = spec["paths"]["/v1/facturas"]["post"]
    assert {"201", "400", "401", "413", "500"} <= register["responses"].keys()
    assert "RegistroRequest" in json.dumps(register["requestBody"])
    assert "ErrorReply" in json.dumps(spec["paths"]["/v1/facturas/{cufe}"]["get"]["responses"]["404"])


def test_given_the_uno_handlers_then_their_spec_equals_the_committed_file_with_the_matrix_parameter():
    from infra import constants as c

    generator = _generator()
    committed = (ROOT / "docs" / "openapi-cuotas.json").read_text(encoding="utf-8")
    assert generator.render_cuotas() == committed, "docs/openapi-cuotas.json drifted: run `make openapi`"
    spec = json.loads(committed)
    # Then one path, the SIF matrix parameter as OpenAPI's style: matrix, both methods, XML everywhere
    assert spec["servers"] == [{"url": f"/{c.CUOTAS_STAGE}"}]
    assert list(spec["paths"]) == ["/wssb/admin/paymentDue{contextId}"]
    operations = spec["paths"]["/wssb/admin/paymentDue{contextId}"]
    assert sorted(operations) == sorted(m.lower() for m in c.CUOTAS_ROUTES.values())
    for operation in operations.values():
        (param,) = operation["parameters"]
        assert (param["name"], param["in"], param["style"], param["required"]) == ("contextId", "path", "matrix", True)
        assert {"200", "400", "401", "403", "404", "500"} <= operation["responses"].keys()
        assert all(list(r["content"]) == ["application/xml"] for r in operation["responses"].values())
    assert list(operations["post"]["requestBody"]["content"]) == ["application/xml"]
