"""Issue 13, item 8: bad input on the payment endpoints is a code-5 reply, never a 500 or a lax parse."""

from __future__ import annotations

import base64
import json

import pytest

from conectividad import ejecutar_pago, reversar_pago
from recaudo.money import DuplicateKey, loads
from tests.helpers import LambdaContext, rest_event

VALID = {
    "llaveAcceso": "k",
    "codigoConvenio": "001",
    "codigoBanco": "00152",
    "codigoAgencia": "033272",
    "periodo": "202611",
    "numeroFactura": 1,
    "montoTotal": "MONTO",
}
ENDPOINTS = [(ejecutar_pago, "ejecutar-pago"), (reversar_pago, "reversar-pago")]


def codigo(body: str) -> int:
    parsed = json.loads(body)
    if isinstance(parsed, list):
        return parsed[0]["codigoRespuesta"]
    return parsed["codigoRespuesta"] if isinstance(parsed, dict) else parsed


def send(module, segment: str, body: str | bytes, base64_body: bool = False) -> dict:
    event = rest_event("POST", f"/v1/integracion-conectividad/{segment}", body="x")
    if base64_body:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True  # type: ignore[arg-type]
    else:
        event["body"] = body
    return module.handler(event, LambdaContext())


@pytest.mark.parametrize(("module", "segment"), ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [
        '{"a":' * 2000 + "1" + "}" * 2000,  # 2,000 deep
        "[" * 100_000 + "]" * 100_000,  # deeper than any recursion limit
        json.dumps(VALID | {"codigoBanco": {"a": 1}}).replace('"MONTO"', "1.00"),
        json.dumps(VALID | {"codigoBanco": [152]}).replace('"MONTO"', "1.00"),
        json.dumps(VALID).replace('"MONTO"', '"１２.００"'),
        json.dumps(VALID).replace('"MONTO"', '"1_000.00"'),
        json.dumps(VALID).replace('"MONTO"', '" 12.00"'),
        json.dumps(VALID).replace('"MONTO"', '"1e2"'),
        json.dumps(VALID).replace('"MONTO"', "12.00").replace('"periodo"', '"periodo": "202611", "periodo"'),
        "[" + json.dumps(VALID).replace('"MONTO"', "12.00") + "]",  # Powertools would take the first element
    ],
    ids=[
        "deep-object",
        "deep-array",
        "codigoBanco-object",
        "codigoBanco-array",
        "fullwidth",
        "underscore",
        "space",
        "exponent-string",
        "duplicate-key",
        "array-of-payments",
    ],
)
def test_given_hostile_json_when_posted_then_code_5_and_400(module, segment, body):
    # Given a hostile body / When posted / Then code 5 with 400, never a 500 or an auth answer
    amount_case = any(x in body for x in ("１", "1_000", '" 12', '"1e2"'))
    if segment == "reversar-pago":
        if amount_case:
            pytest.skip("an amount case: reversar-pago has no amount")
        body = body.replace(', "montoTotal": "MONTO"', "").replace(', "montoTotal": 12.00', "")
    response = send(module, segment, body)
    assert (response["statusCode"], codigo(response["body"])) == (400, 5)


@pytest.mark.parametrize(("module", "segment"), ENDPOINTS)
@pytest.mark.parametrize("encoding", ["utf-16", "latin-1", "binary"])
def test_given_a_body_not_in_utf8_then_code_5(module, segment, encoding):
    # Given the JSON in UTF-16 or Latin-1 (with an ñ), or random binary bytes
    text = json.dumps(VALID | {"llaveAcceso": "ñandú"}, ensure_ascii=False)
    raw = bytes(range(256)) * 4 if encoding == "binary" else text.encode(encoding)
    # When posted base64-encoded, as API Gateway passes binary bodies / Then code 5
    response = send(module, segment, raw, base64_body=True)
    assert (response["statusCode"], codigo(response["body"])) == (400, 5)


def test_given_a_duplicate_key_then_loads_refuses_it_naming_the_key():
    with pytest.raises(DuplicateKey, match="montoTotal"):
        loads('{"montoTotal": 1, "montoTotal": 1000}')
    assert loads('{"a": {"b": 1}, "b": [1, 2]}') == {"a": {"b": 1}, "b": [1, 2]}
