"""CPS signed requests: vectors computed independently (openssl, tests/data/cps_firmas.json), the
GET typing trap, raw body against re-serialised body, the path with and without /cps, wrong keys,
stale, future and malformed nonces, missing headers and upper-case hex."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from recaudo.firmas import (
    FirmaRechazada,
    Rechazo,
    candidatos_get,
    candidatos_post,
    leer_encabezados,
    verificar_firma,
    verificar_nonce,
)

DATA = json.loads((Path(__file__).resolve().parents[1] / "data" / "cps_firmas.json").read_text(encoding="utf-8"))
KEY, NONCE = DATA["privateKey"], DATA["nonce"]
TYPES = {"canGetBalance": bool, "idTypeService": int, "numberService": str}
STAGE = "cps"


def candidates(vector: dict, path: str | None = None) -> list[bytes]:
    # the server sees the request path with its stage, as API Gateway's requestContext.path has it
    path = path or "/cps" + vector["signedPath"].removeprefix("/cps")
    if vector["method"] == "GET":
        return candidatos_get(path, STAGE, NONCE, [tuple(p) for p in vector["query"]], TYPES)
    return candidatos_post(path, STAGE, NONCE, vector["body"].encode("utf-8"))


@pytest.mark.parametrize("vector", DATA["vectors"], ids=[v["title"] for v in DATA["vectors"]])
def test_given_an_independent_vector_when_verified_then_accepted(vector):
    # Given a request signed by openssl over the documented message / When verified / Then accepted
    verificar_firma(KEY, vector["signature"], candidates(vector))


@pytest.mark.parametrize("vector", DATA["vectors"], ids=[v["title"] for v in DATA["vectors"]])
def test_given_an_independent_vector_when_verified_with_another_key_then_refused(vector):
    with pytest.raises(FirmaRechazada) as refused:
        verificar_firma("otra-clave-" + KEY[11:], vector["signature"], candidates(vector))
    assert refused.value.motivo is Rechazo.FIRMA_INVALIDA


def test_given_upper_case_hex_then_accepted():
    vector = DATA["vectors"][0]
    verificar_firma(KEY, vector["signature"].upper(), candidates(vector))


def test_given_the_get_typing_trap_then_the_documented_boolean_verifies_and_a_wrong_value_does_not():
    # Given the document's example: ?canGetBalance=false signed as {"canGetBalance":false}
    vector = DATA["vectors"][0]
    verificar_firma(KEY, vector["signature"], candidates(vector))
    # When the query says true instead / Then the signature no longer binds
    tampered = dict(vector, query=[["canGetBalance", "true"]])
    with pytest.raises(FirmaRechazada):
        verificar_firma(KEY, vector["signature"], candidates(tampered))


def test_given_a_leading_zero_dropped_then_refused():
    vector = DATA["vectors"][1]
    tampered = dict(vector, query=[["numberService", "4243675525"], ["idTypeService", "57"]])
    with pytest.raises(FirmaRechazada):
        verificar_firma(KEY, vector["signature"], candidates(tampered))


def test_given_a_body_signed_raw_when_re_serialised_then_it_would_not_verify():
    # Given the body a Python client sent, with spaces and 10.00
    vector = next(v for v in DATA["vectors"] if v["body"] and "10.00" in v["body"])
    # When a server re-serialised it before verifying / Then the signature would not match
    reserialised = json.dumps(json.loads(vector["body"]), separators=(",", ":")).encode()
    with pytest.raises(FirmaRechazada):
        verificar_firma(
            KEY, vector["signature"], candidatos_post("/cps/v2/operation/use/pay", STAGE, NONCE, reserialised)
        )
    # while the raw bytes as received verify
    verificar_firma(KEY, vector["signature"], candidates(vector))


def test_given_amount_10_signed_then_10_00_in_the_body_is_refused():
    vector = DATA["vectors"][3]  # signed with "amount":10
    body = vector["body"].replace('"amount":10', '"amount":10.00').encode()
    with pytest.raises(FirmaRechazada):
        verificar_firma(KEY, vector["signature"], candidatos_post("/cps/v2/operation/use/pay", STAGE, NONCE, body))


def test_given_an_empty_body_then_it_signs_as_the_empty_string_not_braces():
    vector = next(v for v in DATA["vectors"] if v["method"] == "POST" and v["body"] == "")
    verificar_firma(KEY, vector["signature"], candidates(vector))
    with pytest.raises(FirmaRechazada):
        verificar_firma(KEY, vector["signature"], candidatos_post("/cps/v2/operation/use/pay", STAGE, NONCE, b"{}"))


def test_given_another_path_then_refused():
    vector = DATA["vectors"][3]
    with pytest.raises(FirmaRechazada):
        verificar_firma(KEY, vector["signature"], candidates(vector, path="/cps/v2/operation/get/balance"))


class TestHeadersAndNonce:
    HEADERS: ClassVar[dict[str, str]] = {
        "api-key": DATA["apiKey"],
        "api-nonce": NONCE,
        "api-signature": DATA["vectors"][0]["signature"],
    }

    @pytest.mark.parametrize(
        ("missing", "reason"),
        [
            ("api-key", Rechazo.FALTA_API_KEY),
            ("api-nonce", Rechazo.FALTA_NONCE),
            ("api-signature", Rechazo.FALTA_FIRMA),
        ],
    )
    def test_given_a_missing_header_then_the_refusal_names_it(self, missing, reason):
        headers = {k: v for k, v in self.HEADERS.items() if k != missing}
        with pytest.raises(FirmaRechazada) as refused:
            leer_encabezados(headers)
        assert refused.value.motivo is reason

    def test_given_header_names_in_any_case_then_read(self):
        read = leer_encabezados({k.upper(): v for k, v in self.HEADERS.items()})
        assert (read.api_key, read.nonce_ms) == (DATA["apiKey"], int(NONCE))

    @pytest.mark.parametrize(
        ("header", "value", "reason"),
        [
            ("api-nonce", "1670525711", Rechazo.NONCE_INVALIDO),  # seconds, not milliseconds
            ("api-nonce", "16705257111x4", Rechazo.NONCE_INVALIDO),
            ("api-signature", "abc", Rechazo.FIRMA_MAL_FORMADA),
            ("api-signature", "z" * 96, Rechazo.FIRMA_MAL_FORMADA),
            ("api-key", "short", Rechazo.API_KEY_INVALIDA),
            ("api-key", "a" * 63 + "/", Rechazo.API_KEY_INVALIDA),
        ],
    )
    def test_given_a_malformed_header_then_refused_by_shape(self, header, value, reason):
        with pytest.raises(FirmaRechazada) as refused:
            leer_encabezados({**self.HEADERS, header: value})
        assert refused.value.motivo is reason

    @pytest.mark.parametrize(
        ("skew_ms", "fresh"), [(0, True), (299_000, True), (-299_000, True), (301_000, False), (-301_000, False)]
    )
    def test_given_a_nonce_then_fresh_only_within_the_window_either_side(self, skew_ms, fresh):
        now = int(NONCE)
        if fresh:
            verificar_nonce(now + skew_ms, now, 300_000)
        else:
            with pytest.raises(FirmaRechazada) as refused:
                verificar_nonce(now + skew_ms, now, 300_000)
            assert refused.value.motivo is Rechazo.NONCE_VENCIDO

    def test_given_a_refusal_then_its_message_never_carries_the_key(self):
        with pytest.raises(FirmaRechazada) as refused:
            verificar_firma(KEY, "0" * 96, [b"x"])
        assert KEY not in str(refused.value)
