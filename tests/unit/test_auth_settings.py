"""Credentials are hashed and compared in constant time; settings are validated once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recaudo import auth
from recaudo.authorizer_settings import CredentialsSettings, SettingsError
from recaudo.settings import LedgerSettings


class TestTokens:
    def test_given_a_new_token_when_its_header_is_parsed_then_key_and_secret_come_back(self):
        token = auth.new_token()
        assert auth.parse_authorization(f"Token {token.token}") == (token.key_id, token.secret)

    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "RyNrhel3gtc92+4/Ml0RjbXTsJU=",  # the document's sample, without the scheme
            "Token RyNrhel3gtc92+4/Ml0RjbXTsJU=",  # the document's sample: not a token we issue
            "Bearer 0123456789abcdef." + "a" * 43,
            "Token 0123456789abcdef",
            "Token 0123456789abcdef." + "a" * 42,
            "Token 0123456789ABCDEF." + "a" * 43,
        ],
    )
    def test_given_a_malformed_header_when_parsed_then_none(self, header):
        assert auth.parse_authorization(header) is None

    def test_given_a_secret_when_hashed_then_only_the_right_secret_matches(self):
        secret = auth.new_secret()
        stored = auth.hash_secret(secret)
        assert secret not in stored and len(stored) == 64
        assert auth.secret_matches(secret, stored)
        assert not auth.secret_matches(secret + "x", stored)

    def test_given_two_issued_secrets_then_they_differ_and_carry_256_bits(self):
        a, b = auth.new_secret(), auth.new_secret()
        assert a != b and len(a) == 43


class TestSettings:
    def test_given_no_table_in_the_environment_when_validated_then_it_fails_loudly(self):
        with pytest.raises(ValidationError):
            LedgerSettings.model_validate({})

    @pytest.mark.parametrize(
        ("env", "named"),
        [
            ({}, "CREDENTIALS_TABLE: required"),
            ({"CREDENTIALS_TABLE": ""}, "CREDENTIALS_TABLE: 3 to 255"),
            ({"CREDENTIALS_TABLE": "t" * 256}, "CREDENTIALS_TABLE: 3 to 255"),
            ({"CREDENTIALS_TABLE": "t-credentials", "TOKEN_SCOPE": "admin"}, "TOKEN_SCOPE: one of"),
            ({"CREDENTIALS_TABLE": "t-credentials", "TOKEN_SCOPE": "Radian"}, "TOKEN_SCOPE: one of"),
        ],
    )
    def test_given_a_bad_authorizer_environment_when_validated_then_it_fails_naming_the_variable(self, env, named):
        # Given the authorizer's settings, checked without pydantic (its cold start)
        # When the environment breaks one constraint, Then the cold start fails and says which
        with pytest.raises(SettingsError, match=named):
            CredentialsSettings.from_env(env)

    def test_given_both_faults_when_validated_then_both_are_named(self):
        with pytest.raises(SettingsError, match=r"CREDENTIALS_TABLE.*; TOKEN_SCOPE"):
            CredentialsSettings.from_env({"TOKEN_SCOPE": "x"})

    @pytest.mark.parametrize("scope", ["conectividad", "radian", "uno"])
    def test_given_a_good_authorizer_environment_when_validated_then_its_values_come_back(self, scope):
        s = CredentialsSettings.from_env({"CREDENTIALS_TABLE": "t-credentials", "TOKEN_SCOPE": scope})
        assert (s.credentials_table, s.token_scope) == ("t-credentials", scope)
        assert CredentialsSettings.from_env({"CREDENTIALS_TABLE": "t-c"}).token_scope == "conectividad"

    def test_given_an_environment_when_validated_then_defaults_apply(self):
        s = LedgerSettings.model_validate({"LEDGER_TABLE": "t-ledger"})
        assert (s.ledger_table, s.time_zone, s.query_page_limit) == ("t-ledger", "America/Costa_Rica", 250)
