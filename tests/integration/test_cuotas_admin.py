"""The admin CLI's Sistema UNO commands against a DynamoDB endpoint (moto): the cuotas table, a business and
its tokens (printed once, stored hashed), school years, schools and price configurations, each refusing a
reference that does not exist before writing anything; then the document's payload through the handler."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cuotas import configurar as configurar_handler

from authorizer.token import AuthorizerDeps, authorize
from ops import admin
from recaudo import auth
from recaudo.data.credentials import CredentialsRepository
from tests.integration.cuotas_harness import (
    CREDENCIALES,
    DOCUMENTO,
    TABLE,
    entorno,
    escanear,
    evento,
    invocar,
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert admin.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def falla(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The command fails with exit code 2 and prints nothing on stdout; its stderr."""
    assert admin.main(list(argv)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


@pytest.fixture
def ddb(aws: None) -> Any:
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1")


def claves(ddb: Any, table: str = TABLE) -> list[tuple[str, str]]:
    return [(i["PK"]["S"], i["SK"]["S"]) for i in escanear(ddb, table)]


def negocio(capsys: pytest.CaptureFixture[str], business_id: str = "10") -> dict[str, Any]:
    """The tables and a business."""
    run(capsys, "create-tables")
    return run(capsys, "create-business", "--business-id", business_id, "--nombre", "Santillana UNO")


def test_given_an_empty_endpoint_when_create_tables_then_the_cuotas_table_exists_keyed_by_pk_and_sk(ddb, capsys):
    # When the tables are created
    out = run(capsys, "create-tables")
    # Then the cuotas table is among them, on demand, keyed by PK and SK
    assert TABLE in out["tables"] and TABLE in ddb.list_tables()["TableNames"]
    tabla = ddb.describe_table(TableName=TABLE)["Table"]
    assert {(k["AttributeName"], k["KeyType"]) for k in tabla["KeySchema"]} == {("PK", "HASH"), ("SK", "RANGE")}
    assert tabla["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # and running it again changes nothing
    assert run(capsys, "create-tables")["tables"] == out["tables"]


def test_given_a_business_created_when_its_token_is_checked_then_it_opens_uno_and_only_its_hash_is_stored(ddb, capsys):
    # When a business is created
    out = negocio(capsys)
    # Then its token is printed, and it is a UNO token of business 10
    assert out["businessId"] == 10
    key_id, secret = auth.parse_authorization(f"Token {out['token']}") or ("", "")
    creds = CredentialsRepository(CREDENCIALES, ddb)
    assert creds.verify_token(key_id, secret, "uno") == "10"
    assert creds.verify_token(key_id, secret) is None and creds.verify_token(key_id, secret, "radian") is None
    # and the business is in the cuotas table
    assert ("EMPRESA#10", "EMPRESA") in claves(ddb)
    # and the plain secret is in no stored item, only its hash
    todo = json.dumps([escanear(ddb, CREDENCIALES), escanear(ddb, TABLE)])
    assert secret not in todo and auth.hash_secret(secret) in todo


def test_given_a_business_when_created_again_then_exit_2_and_no_second_token(ddb, capsys):
    # Given business 10 with its token
    primero = negocio(capsys)
    tokens = claves(ddb, CREDENCIALES)
    # When it is created again / Then the CLI fails and issues no token; the first still works
    assert "ConditionalCheckFailed" in falla(capsys, "create-business", "--business-id", "10", "--nombre", "Otra")
    assert claves(ddb, CREDENCIALES) == tokens
    creds = CredentialsRepository(CREDENCIALES, ddb)
    assert creds.verify_token(*(auth.parse_authorization(f"Token {primero['token']}") or ("", "")), "uno") == "10"


def test_given_no_such_business_when_add_business_token_then_refused_naming_it_and_nothing_stored(ddb, capsys):
    # Given the tables and business 10
    negocio(capsys)
    antes = claves(ddb, CREDENCIALES)
    # When a token is asked for business 99 / Then refused, naming it, with nothing stored
    with pytest.raises(SystemExit, match="99"):
        admin.main(["add-business-token", "--business-id", "99"])
    assert claves(ddb, CREDENCIALES) == antes


def test_given_a_business_when_add_business_token_then_a_second_token_works_beside_the_first(ddb, capsys):
    primero = negocio(capsys)
    segundo = run(capsys, "add-business-token", "--business-id", "10")
    creds = CredentialsRepository(CREDENCIALES, ddb)
    for token in (primero["token"], segundo["token"]):
        assert creds.verify_token(*(auth.parse_authorization(f"Token {token}") or ("", "")), "uno") == "10"
    assert primero["token"] != segundo["token"]


def test_given_a_business_when_school_years_are_created_with_and_without_dates_then_stored_as_given(ddb, capsys):
    negocio(capsys)
    # When year 64 is created with its dates and year 65 without
    run(
        capsys,
        "create-school-year",
        "--business-id",
        "10",
        "--school-year-id",
        "64",
        "--inicio",
        "2017-01-01",
        "--fin",
        "2017-12-31",
    )
    run(capsys, "create-school-year", "--business-id", "10", "--school-year-id", "65")
    # Then both stored; only 64 carries dates
    items = {i["SK"]["S"]: i for i in escanear(ddb) if i["PK"]["S"] == "EMPRESA#10"}
    assert items["CICLO#64"]["inicio"] == {"S": "2017-01-01"} and items["CICLO#64"]["fin"] == {"S": "2017-12-31"}
    assert "inicio" not in items["CICLO#65"] and "fin" not in items["CICLO#65"]


def test_given_inicio_after_fin_when_create_school_year_then_refused_and_nothing_written(ddb, capsys):
    negocio(capsys)
    antes = claves(ddb)
    with pytest.raises(SystemExit, match="inicio"):
        admin.main(
            [
                "create-school-year",
                "--business-id",
                "10",
                "--school-year-id",
                "64",
                "--inicio",
                "2017-12-31",
                "--fin",
                "2017-01-01",
            ]
        )
    assert claves(ddb) == antes


def test_given_no_such_business_when_create_school_year_then_exit_2_naming_it_and_nothing_written(ddb, capsys):
    negocio(capsys)
    antes = claves(ddb)
    assert "empresa 99" in falla(capsys, "create-school-year", "--business-id", "99", "--school-year-id", "64")
    assert claves(ddb) == antes


def test_given_a_school_year_that_does_not_exist_when_create_school_then_exit_2_naming_it_and_nothing_written(
    ddb, capsys
):
    # Given business 10 with school year 64 only
    negocio(capsys)
    run(capsys, "create-school-year", "--business-id", "10", "--school-year-id", "64")
    antes = claves(ddb)
    # When a school is created in years 64 and 65 / Then refused naming 65, and neither school nor membership written
    err = falla(
        capsys,
        "create-school",
        "--business-id",
        "10",
        "--school-id",
        "6498",
        "--nombre",
        "Colegio",
        "--school-year",
        "64",
        "--school-year",
        "65",
    )
    assert "ciclo 65" in err and "ciclo 64" not in err
    assert claves(ddb) == antes


def test_given_a_school_not_in_the_year_when_configure_price_then_exit_2_naming_it_and_no_price(ddb, capsys):
    # Given school 6498 in year 64, and year 65 with no school
    negocio(capsys)
    run(capsys, "create-school-year", "--business-id", "10", "--school-year-id", "64")
    run(capsys, "create-school-year", "--business-id", "10", "--school-year-id", "65")
    run(
        capsys,
        "create-school",
        "--business-id",
        "10",
        "--school-id",
        "6498",
        "--nombre",
        "Colegio",
        "--school-year",
        "64",
    )
    antes = claves(ddb)
    # When prices are configured for the school in year 65, and for school 6499 in year 64
    for colegio, ciclo in (("6498", "65"), ("6499", "64")):
        err = falla(
            capsys,
            "configure-price",
            "--business-id",
            "10",
            "--school-id",
            colegio,
            "--school-year-id",
            ciclo,
            "--article",
            "3259",
        )
        # Then refused, naming the school and year; no price configuration written
        assert f"colegio {colegio} en el ciclo {ciclo}" in err
    assert claves(ddb) == antes


def test_given_everything_set_up_by_the_cli_when_the_documents_payload_is_posted_then_two_creates(ddb, capsys):
    # Given the document's business, school year, school and priced articles, all through the CLI
    empresa = negocio(capsys)
    run(
        capsys,
        "create-school-year",
        "--business-id",
        "10",
        "--school-year-id",
        "64",
        "--inicio",
        "2017-01-01",
        "--fin",
        "2017-12-31",
    )
    run(
        capsys,
        "create-school",
        "--business-id",
        "10",
        "--school-id",
        "6498",
        "--nombre",
        "Colegio",
        "--school-year",
        "64",
    )
    precios = run(
        capsys,
        "configure-price",
        "--business-id",
        "10",
        "--school-id",
        "6498",
        "--school-year-id",
        "64",
        "--article",
        "3259",
        "--article",
        "3245",
        "--precio",
        "84000.00",
    )
    assert precios["articleRefIds"] == [3259, 3245]
    # and the business's token, through the UNO authorizer
    creds = CredentialsRepository(CREDENCIALES, ddb)
    contexto = authorize(
        f"Token {empresa['token']}",
        "arn:aws:execute-api:us-east-1:123456789012:abc123/uno/POST/wssb/admin/x",
        AuthorizerDeps(creds, scope="uno"),
    )["context"]
    # When the document's payload is posted for its context, with the business the authorizer vouched for
    with entorno():
        r = invocar(configurar_handler, evento("POST", None, DOCUMENTO, contexto["businessId"]))
    # Then two dues created, 200 each, with ids
    assert r.status == 200, r.body
    creates = r.creates()
    assert [s for _, s in creates] == ["200", "200"] and all(i for i, _ in creates)
    assert len([k for k in claves(ddb) if k[1].startswith("ABONO#")]) == 2


@pytest.mark.parametrize(
    "argumentos",
    [
        ["create-school-year", "--business-id", "10", "--school-year-id", "70", "--inicio", "2027-13-01"],
        ["create-school-year", "--business-id", "10", "--school-year-id", "70", "--fin", "mañana"],
        [
            "configure-price",
            "--business-id",
            "10",
            "--school-id",
            "1",
            "--school-year-id",
            "2",
            "--article",
            "3",
            "--precio",
            "mucho",
        ],
        [
            "configure-price",
            "--business-id",
            "10",
            "--school-id",
            "1",
            "--school-year-id",
            "2",
            "--article",
            "3",
            "--precio",
            "-5",
        ],
    ],
)
def test_given_a_malformed_date_or_price_when_the_command_runs_then_argparse_refuses_it_without_a_traceback(
    argumentos, capsys
):
    # Given a value that is not a date or a price / When parsed / Then a usage error (exit 2), no traceback
    with pytest.raises(SystemExit) as salida:
        admin.parser().parse_args(argumentos)
    assert salida.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
