"""The admin CLI against a DynamoDB endpoint (moto): tables, a bank, a convenio, the demo data."""

from __future__ import annotations

import json
import os

import pytest

from ops import admin
from recaudo import auth
from recaudo.data.credentials import CredentialsRepository
from recaudo.data.ledger import LedgerRepository
from recaudo.models.ledger import TipoConvenio


def run(capsys, *argv: str) -> dict:
    assert admin.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_given_an_empty_endpoint_when_the_cli_sets_everything_up_then_the_api_data_is_usable(aws, capsys):
    from recaudo.aws import client

    run(capsys, "create-tables")
    bank = run(capsys, "create-bank", "--codigo", "00152", "--nombre", "Banco Nacional")
    conv = run(
        capsys, "create-convenio", "--codigo", "020", "--tipo", "parcial", "--descripcion", "Parques", "--rubros", "24"
    )
    demo = run(capsys, "load-demo", "--today", "2026-11-21")

    ddb = client("dynamodb")
    creds = CredentialsRepository(os.environ["CREDENTIALS_TABLE"], ddb)
    assert creds.verify_token(*auth.parse_authorization(f"Token {bank['token']}")) == "00152"
    ledger = LedgerRepository(os.environ["LEDGER_TABLE"], ddb)
    assert ledger.get_convenio("020").rubros == ("24",) and conv["rubros"] == ["24"]
    assert ledger.get_convenio_predeterminado(TipoConvenio.CARRITO).codigo == "004"
    assert demo["deudas"] > 100 and demo["deudasYaExistentes"] == 0
    # the token is printed once and never stored in the clear
    assert bank["token"].split(".")[1] not in str(ddb.scan(TableName=os.environ["CREDENTIALS_TABLE"]))


def test_given_the_demo_loaded_when_loaded_again_then_nothing_is_duplicated(aws, capsys):
    run(capsys, "create-tables")
    first = run(capsys, "load-demo", "--today", "2026-11-21")
    again = run(capsys, "load-demo", "--today", "2026-11-21")
    assert again["deudasYaExistentes"] == first["deudas"]


def test_given_a_bank_code_in_use_when_created_again_then_the_cli_fails_and_the_first_token_still_works(aws, capsys):
    from recaudo.aws import client

    run(capsys, "create-tables")
    bank = run(capsys, "create-bank", "--codigo", "00152", "--nombre", "Banco Nacional")
    assert admin.main(["create-bank", "--codigo", "00152", "--nombre", "Impostor"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "TransactionCanceled" in captured.err
    creds = CredentialsRepository(os.environ["CREDENTIALS_TABLE"], client("dynamodb"))
    assert creds.verify_token(*auth.parse_authorization(f"Token {bank['token']}")) == "00152"


def test_given_the_cli_when_an_integrator_is_created_then_its_hash_authenticates_and_its_convenio_exists(aws, capsys):
    from recaudo.aws import client, nueva_sesion
    from recaudo.data.integradores import IntegradoresRepository
    from recaudo.data.ledger import LedgerRepository

    run(capsys, "create-tables")
    out = run(
        capsys, "create-integrador", "--id", "club", "--nombre", "Club", "--institucion", "CLUB", "--convenio", "CLUB01"
    )
    assert out["prefijoS3"] == "entrada/club/"
    nueva_sesion()
    ddb = client("dynamodb")
    integrador = IntegradoresRepository("recaudo-credentials", ddb).autenticar(out["hash"])
    assert integrador is not None and (integrador.id, integrador.convenio) == ("club", "CLUB01")
    assert IntegradoresRepository("recaudo-credentials", ddb).autenticar(out["hash"][:-1] + "x") is None
    assert LedgerRepository("recaudo-ledger", ddb).get_convenio("CLUB01").institucion == "CLUB"
    assert out["hash"] not in str(ddb.scan(TableName="recaudo-credentials")["Items"])


def test_given_a_kms_key_when_a_channel_is_created_rotated_and_revoked_then_its_keys_follow(aws, capsys):
    import boto3

    from recaudo.aws import client
    from recaudo.data.claves import ClavesKms
    from recaudo.data.recargas import CanalesRepository

    # Given the tables and the context's KMS key
    run(capsys, "create-tables")
    key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    canales = CanalesRepository(os.environ["CREDENTIALS_TABLE"], client("dynamodb"))
    kms = ClavesKms(key, boto3.client("kms"))
    # When a channel is created / Then its private key is printed once and stored only encrypted
    created = run(capsys, "create-channel", "--key-id", key, "--nombre", "Canal Uno")
    stored = canales.get(created["apiKey"])
    assert stored is not None and stored.activo and stored.version == 1
    assert created["privateKey"].encode() not in stored.clave_cifrada
    assert kms.descifrar(created["apiKey"], stored.clave_cifrada) == created["privateKey"]
    # a ciphertext moved to another channel's record does not decrypt (encryption context)
    with pytest.raises(Exception, match="InvalidCiphertext"):
        kms.descifrar("otro-canal", stored.clave_cifrada)
    # When rotated / Then a new key, a new version
    rotated = run(capsys, "rotate-channel", "--key-id", key, "--api-key", created["apiKey"])
    after = canales.get(created["apiKey"])
    assert rotated["privateKey"] != created["privateKey"] and after is not None and after.version == 2
    assert kms.descifrar(created["apiKey"], after.clave_cifrada) == rotated["privateKey"]
    # When revoked / Then inactive
    assert run(capsys, "revoke-channel", "--key-id", key, "--api-key", created["apiKey"])["estado"] == "REVOCADO"
    assert not canales.get(created["apiKey"]).activo  # type: ignore[union-attr]


def test_given_a_radian_tenant_created_by_the_cli_then_its_token_opens_radian_and_never_conectividad(aws, capsys):
    from recaudo.aws import client

    # Given a tenant created by the CLI, and a bank
    run(capsys, "create-tables")
    tenant = run(capsys, "create-tenant", "--tenant", "acme", "--nombre", "ACME SAS")
    bank = run(capsys, "create-bank", "--codigo", "00152", "--nombre", "Banco Nacional")
    creds = CredentialsRepository(os.environ["CREDENTIALS_TABLE"], client("dynamodb"))
    key_id, secret = auth.parse_authorization(f"Token {tenant['token']}")
    # Then the tenant's token is a RADIAN token only; the bank's a Conectividad token only
    assert creds.verify_token(key_id, secret, "radian") == "acme"
    assert creds.verify_token(key_id, secret) is None
    assert creds.verify_token(*auth.parse_authorization(f"Token {bank['token']}"), "radian") is None
    # and a second token for the tenant works beside the first
    second = run(capsys, "add-tenant-token", "--tenant", "acme")
    assert creds.verify_token(*auth.parse_authorization(f"Token {second['token']}"), "radian") == "acme"
    # and an id that could break a key is refused before anything is written
    with pytest.raises(SystemExit):
        admin.main(["create-tenant", "--tenant", "a#b", "--nombre", "x"])


def test_given_afacturars_token_on_stdin_when_put_then_the_secret_holds_it_and_no_argument_carried_it(
    aws, capsys, monkeypatch
):
    import io

    import boto3

    # Given the secret (as the stack creates it)
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="recaudo/radian/afacturar-token", SecretString="generado")
    # When the operator pipes the token in
    monkeypatch.setattr("sys.stdin", io.StringIO("token-de-afacturar\n"))
    out = run(capsys, "radian-token")
    # Then the secret's current value is the token, and the CLI printed only the version
    assert sm.get_secret_value(SecretId="recaudo/radian/afacturar-token")["SecretString"] == "token-de-afacturar"
    assert "token-de-afacturar" not in json.dumps(out)


def test_given_a_bank_when_its_api_key_is_created_then_the_plan_holds_it_and_the_authorizer_returns_it(aws, capsys):
    import boto3

    from authorizer.token import AuthorizerDeps, authorize
    from recaudo.aws import client, nueva_sesion

    # Given a bank and Conectividad's usage plan (as the stack creates it)
    run(capsys, "create-tables")
    bank = run(capsys, "create-bank", "--codigo", "00152", "--nombre", "Banco Nacional")
    apigateway = boto3.client("apigateway", region_name="us-east-1")
    plan = apigateway.create_usage_plan(name="recaudo-conectividad-bancos")["id"]
    nueva_sesion()
    creds = CredentialsRepository(os.environ["CREDENTIALS_TABLE"], client("dynamodb"))
    assert creds.usage_key("00152") is None
    # When the operator gives the bank its API key
    out = run(capsys, "bank-api-key", "--banco", "00152", "--usage-plan-id", plan)
    # Then the key is in the plan, enabled, and its value is on the bank's record only
    keys = apigateway.get_usage_plan_keys(usagePlanId=plan)["items"]
    assert [k["id"] for k in keys] == [out["apiKeyId"]] and out["claveAnterior"] is None
    value = apigateway.get_api_key(apiKey=out["apiKeyId"], includeValue=True)["value"]
    assert creds.usage_key("00152") == value and value not in json.dumps(out)
    # and the bank's token now brings its key to API Gateway
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/v1/integracion-conectividad/obtener-persona"
    assert authorize(f"Token {bank['token']}", arn, AuthorizerDeps(creds))["usageIdentifierKey"] == value
    # When it is rotated / Then a new key replaces the stored one, and the old one is named for deletion
    again = run(capsys, "bank-api-key", "--banco", "00152", "--usage-plan-id", plan)
    assert again["claveAnterior"] == out["apiKeyId"] and creds.usage_key("00152") != value


def test_given_an_unknown_bank_when_an_api_key_is_asked_then_refused_and_no_key_is_left_behind(aws, capsys):
    import boto3

    # Given the tables and the plan, and no bank 00999
    run(capsys, "create-tables")
    apigateway = boto3.client("apigateway", region_name="us-east-1")
    plan = apigateway.create_usage_plan(name="recaudo-conectividad-bancos")["id"]
    # When a key is asked for it / Then the CLI stops, and API Gateway holds no orphan key
    with pytest.raises(SystemExit, match="no existe el banco 00999"):
        admin.main(["bank-api-key", "--banco", "00999", "--usage-plan-id", plan])
    assert apigateway.get_api_keys()["items"] == []


def test_given_no_plan_id_when_an_api_key_is_asked_then_the_stacks_output_names_the_plan(aws, capsys, monkeypatch):
    from types import SimpleNamespace

    from infra.constants import CONECTIVIDAD_USAGE_PLAN_OUTPUT

    # Given a deployed stack whose output names the plan (CloudFormation, as boto3 answers it)
    class FakeCloudFormation:
        def describe_stacks(self, StackName: str) -> dict:
            assert StackName == "Recaudo"
            return {"Stacks": [{"Outputs": [{"OutputKey": CONECTIVIDAD_USAGE_PLAN_OUTPUT, "OutputValue": "plan123"}]}]}

    class Session:
        def __init__(self, region_name: str | None = None) -> None: ...

        def client(self, service: str, endpoint_url: str | None = None) -> FakeCloudFormation:
            assert service == "cloudformation"
            return FakeCloudFormation()

    monkeypatch.setattr("boto3.session.Session", Session)
    args = SimpleNamespace(usage_plan_id=None, region="us-east-1", endpoint_url=None, stack_name="Recaudo")
    # When the plan id is looked up / Then it is the output's value
    assert admin._usage_plan_id(args) == "plan123"  # type: ignore[arg-type]
