"""The TOKEN authorizer's logic, with an in-memory credential store."""

from __future__ import annotations

import io
import logging

import pytest

from authorizer.token import AuthorizerDeps, Unauthorized, authorize, stage_arn
from recaudo import auth

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/v1/integracion-conectividad/obtener-persona"


class FakeCredentials:
    def __init__(self, usage_keys: dict[str, str] | None = None) -> None:
        self.token = auth.new_token()
        self.hash = auth.hash_secret(self.token.secret)
        self.usage_keys = {"00152": "clave-de-uso-del-banco-00152"} if usage_keys is None else usage_keys
        self.usage_key_reads: list[str] = []

    def verify_token(self, key_id: str, secret: str, scope: str = "conectividad") -> str | None:
        if key_id == self.token.key_id and auth.secret_matches(secret, self.hash):
            return "00152"
        return None

    def usage_key(self, codigo_banco: str) -> str | None:
        self.usage_key_reads.append(codigo_banco)
        return self.usage_keys.get(codigo_banco)


@pytest.fixture
def creds() -> FakeCredentials:
    return FakeCredentials()


def test_given_a_valid_token_when_authorized_then_the_whole_stage_is_allowed_for_that_bank(creds):
    result = authorize(f"Token {creds.token.token}", METHOD_ARN, AuthorizerDeps(creds))
    statement = result["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    # cached per token, so the policy must cover every route of the stage
    assert statement["Resource"] == "arn:aws:execute-api:us-east-1:123456789012:abc123/api/*/*"
    assert result["context"]["codigoBanco"] == "00152"
    assert result["principalId"] == "banco:00152"


@pytest.mark.parametrize(
    "header",
    [None, "", "Token RyNrhel3gtc92+4/Ml0RjbXTsJU=", "Token 0123456789abcdef." + "x" * 43],
)
def test_given_a_bad_or_foreign_token_when_authorized_then_unauthorized(creds, header):
    with pytest.raises(Unauthorized, match=r"^Unauthorized$"):
        authorize(header, METHOD_ARN, AuthorizerDeps(creds))


def test_given_the_right_key_with_a_wrong_secret_when_authorized_then_unauthorized(creds):
    forged = f"Token {creds.token.key_id}.{auth.new_secret()}"
    with pytest.raises(Unauthorized):
        authorize(forged, METHOD_ARN, AuthorizerDeps(creds))


@pytest.fixture
def log_lines(monkeypatch):
    """Everything the shared Powertools logger writes, at DEBUG, into a buffer."""
    from recaudo.observability import logger

    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    previous = logger.log_level
    logger.setLevel(logging.DEBUG)
    yield buffer
    logger.setLevel(previous)


def test_given_any_outcome_when_logging_then_the_secret_never_appears(creds, log_lines):
    authorize(f"Token {creds.token.token}", METHOD_ARN, AuthorizerDeps(creds))
    with pytest.raises(Unauthorized):
        authorize(f"Token {creds.token.key_id}.{'z' * 43}", METHOD_ARN, AuthorizerDeps(creds))
    text = log_lines.getvalue()
    # the log did record both outcomes, and the key id, but never a secret
    assert "token rejected" in text and creds.token.key_id in text
    assert creds.token.secret not in text
    assert "z" * 43 not in text


def test_given_a_method_arn_when_widened_then_only_the_stage_part_is_kept():
    assert stage_arn("arn:aws:execute-api:r:1:api/stage/POST/a/b") == "arn:aws:execute-api:r:1:api/stage/*/*"


def test_given_a_bank_with_an_api_key_when_authorized_then_the_key_is_its_usage_identifier(creds):
    # Given a bank whose record holds its API key in the usage plan
    # When its token is authorized
    result = authorize(f"Token {creds.token.token}", METHOD_ARN, AuthorizerDeps(creds))
    # Then API Gateway gets the key (the API's key source is the authorizer), read once for that bank
    assert result["usageIdentifierKey"] == "clave-de-uso-del-banco-00152"
    assert creds.usage_key_reads == ["00152"]


def test_given_a_bank_without_an_api_key_when_authorized_then_allowed_without_one_and_logged(log_lines):
    # Given a bank no operator has given an API key yet
    creds = FakeCredentials(usage_keys={})
    # When its token is authorized
    result = authorize(f"Token {creds.token.token}", METHOD_ARN, AuthorizerDeps(creds))
    # Then the policy allows, with no usageIdentifierKey: API Gateway refuses it (403, INVALID_API_KEY)
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert "usageIdentifierKey" not in result
    # and the log says why, without the secret
    text = log_lines.getvalue()
    assert "no API key in the usage plan" in text and creds.token.secret not in text


def test_given_a_radian_or_uno_token_when_authorized_then_no_usage_key_is_looked_up(creds):
    # Given the other APIs' authorizers (their keys are not metered per client)
    for scope in ("radian", "uno"):
        # When a token of theirs is authorized
        result = authorize(f"Token {creds.token.token}", METHOD_ARN, AuthorizerDeps(creds, scope=scope))
        # Then no bank record is read and no key is returned
        assert "usageIdentifierKey" not in result
    assert creds.usage_key_reads == []
