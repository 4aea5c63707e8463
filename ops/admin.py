"""Admin CLI for any DynamoDB endpoint: ``python -m ops.admin --help``.

Secrets (bank tokens, llaveAcceso) are printed once, at creation, and stored only as hashes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, date, datetime
from typing import Any

from ops.demo import load_demo
from recaudo.data.credentials import CredentialsRepository
from recaudo.data.ledger import LedgerRepository
from recaudo.data.tables import CREDENTIALS, CUOTAS, LEDGER, RADIAN
from recaudo.models.ledger import MUNICIPALIDAD, Convenio, TipoConvenio


def _client(args: argparse.Namespace) -> Any:
    import boto3

    return boto3.session.Session(region_name=args.region).client("dynamodb", endpoint_url=args.endpoint_url)


def _print(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))


def cmd_create_tables(args: argparse.Namespace) -> None:
    client = _client(args)
    existing = set(client.list_tables().get("TableNames", []))
    tables = (
        (LEDGER, args.ledger_table),
        (CREDENTIALS, args.credentials_table),
        (RADIAN, args.radian_table),
        (CUOTAS, args.cuotas_table),
    )
    for spec, name in tables:
        if name not in existing:
            client.create_table(**spec.create_table_kwargs(name))
            client.get_waiter("table_exists").wait(TableName=name)
    _print({"tables": [name for _, name in tables]})


def cmd_create_bank(args: argparse.Namespace) -> None:
    repo = CredentialsRepository(args.credentials_table, _client(args))
    creds = repo.create_bank(args.codigo, args.nombre, datetime.now(UTC))
    _print(
        {
            "codigoBanco": creds.codigo_banco,
            "token": creds.token,
            "llaveAcceso": creds.llave_acceso,
            "aviso": "Guarde el token y la llave ahora: solo se almacenan sus hashes.",
        }
    )


def _usage_plan_id(args: argparse.Namespace) -> str:
    """--usage-plan-id, else the deployed stack's output (CONECTIVIDAD_USAGE_PLAN_OUTPUT)."""
    import boto3

    from infra.constants import CONECTIVIDAD_USAGE_PLAN_OUTPUT

    if args.usage_plan_id:
        return str(args.usage_plan_id)
    cloudformation = boto3.session.Session(region_name=args.region).client(
        "cloudformation", endpoint_url=args.endpoint_url
    )
    (stack,) = cloudformation.describe_stacks(StackName=args.stack_name)["Stacks"]
    for output in stack.get("Outputs", []):
        if output["OutputKey"] == CONECTIVIDAD_USAGE_PLAN_OUTPUT:
            return str(output["OutputValue"])
    raise SystemExit(f"error: the stack {args.stack_name} has no output {CONECTIVIDAD_USAGE_PLAN_OUTPUT}")


def cmd_bank_api_key(args: argparse.Namespace) -> None:
    """A new API Gateway API key for the bank in Conectividad's usage plan, its value stored on the bank
    record (the TOKEN authorizer returns it as usageIdentifierKey; banks never see it). The key it
    replaces is left enabled: delete it once the authorizer's cache (5 minutes) has expired."""
    import secrets

    import boto3
    from botocore.exceptions import ClientError

    plan_id = _usage_plan_id(args)
    apigateway = boto3.session.Session(region_name=args.region).client("apigateway", endpoint_url=args.endpoint_url)
    value = secrets.token_urlsafe(30)  # 40 characters: API Gateway takes 20 to 128
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    created = apigateway.create_api_key(
        name=f"recaudo-banco-{args.banco}-{stamp}",
        description=f"Conectividad: banco {args.banco} (returned by the TOKEN authorizer)",
        enabled=True,
        value=value,
    )
    try:
        apigateway.create_usage_plan_key(usagePlanId=plan_id, keyId=created["id"], keyType="API_KEY")
        previous = CredentialsRepository(args.credentials_table, _client(args)).set_usage_key(
            args.banco, value, created["id"]
        )
    except ClientError as exc:  # an unknown bank or plan: leave no orphan key behind
        apigateway.delete_api_key(apiKey=created["id"])
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise SystemExit(f"error: no existe el banco {args.banco}") from exc
        raise
    _print(
        {
            "codigoBanco": args.banco,
            "apiKeyId": created["id"],
            "usagePlanId": plan_id,
            "claveAnterior": previous,
            "aviso": "La clave anterior sigue habilitada: bórrela en 5 minutos (aws apigateway delete-api-key)."
            if previous
            else "El banco ya puede llamar a Conectividad con su token.",
        }
    )


def cmd_create_integrador(args: argparse.Namespace) -> None:
    """An integrator (Pay per TIC cobranzas) and its convenio (type total) at its institution."""
    import re
    from zoneinfo import ZoneInfo

    from recaudo.data.integradores import IntegradoresRepository
    from recaudo.models.cobranzas import Integrador

    if not re.fullmatch(r"[A-Za-z0-9]{1,40}", args.id):
        raise SystemExit("--id: letters and digits only (it is the S3 prefix entrada/<id>/)")
    ZoneInfo(args.zona_horaria)  # a bad zone fails here, not at the first import
    client = _client(args)
    integrador = Integrador(args.id, args.nombre, args.institucion, args.convenio, args.zona_horaria)
    LedgerRepository(args.ledger_table, client).put_convenio(
        Convenio(
            args.convenio,
            TipoConvenio.TOTAL,
            f"{args.nombre}: cobranzas",
            institucion=args.institucion,
            integrador=args.id,  # banks' saldos queries under it find the integrator's own clients
        )
    )
    hash_ = IntegradoresRepository(args.credentials_table, client).crear(integrador, datetime.now(UTC))
    _print(
        {
            "integrador": args.id,
            "hash": hash_,
            "convenio": args.convenio,
            "prefijoS3": f"entrada/{args.id}/",
            "aviso": "Guarde el hash ahora: solo se almacena su SHA-256.",
        }
    )


def _gracia_segundos(args: argparse.Namespace) -> int:
    gracia = round(float(getattr(args, "gracia_horas", 0)) * 3600)
    if gracia < 0 or gracia > 30 * 24 * 3600:
        raise SystemExit("--gracia-horas: entre 0 y 720")
    return gracia


def cmd_rotate_integrador(args: argparse.Namespace) -> None:
    """A new hash for an integrator, printed once; the current one keeps working for --gracia-horas
    (its deployed integration needs time to switch). A revoked integrator needs --reactivar."""
    from recaudo.data.integradores import (
        CambioConcurrente,
        IntegradoresRepository,
        IntegradorNoExiste,
        IntegradorRevocado,
    )

    gracia = _gracia_segundos(args)
    repo = IntegradoresRepository(args.credentials_table, _client(args))
    try:
        rotacion = repo.rotar(args.id, datetime.now(UTC), gracia, reactivar=args.reactivar)
    except IntegradorNoExiste:
        raise SystemExit(f"error: no existe el integrador {args.id}") from None
    except IntegradorRevocado:
        raise SystemExit(f"error: el integrador {args.id} está revocado; para reactivarlo use --reactivar") from None
    except CambioConcurrente as exc:
        raise SystemExit(f"error: {exc}") from None
    hasta = rotacion.anterior_hasta
    _print(
        {
            "integrador": args.id,
            "hash": rotacion.hash,
            "anteriorValidoHasta": hasta.isoformat() if hasta else None,
            "hashesTerminados": rotacion.terminados,
            "reactivado": rotacion.reactivado,
            "aviso": "Guarde el hash ahora: solo se almacena su SHA-256."
            + (f" El anterior deja de valer el {hasta.isoformat()}." if hasta else " El anterior ya no vale."),
        }
    )


def cmd_revoke_integrador(args: argparse.Namespace) -> None:
    """End every hash of an integrator now and mark it inactive (HTTP 401, S3 drops refused)."""
    from recaudo.data.integradores import CambioConcurrente, IntegradoresRepository, IntegradorNoExiste

    repo = IntegradoresRepository(args.credentials_table, _client(args))
    try:
        terminados = repo.revocar(args.id, datetime.now(UTC))
    except IntegradorNoExiste:
        raise SystemExit(f"error: no existe el integrador {args.id}") from None
    except CambioConcurrente as exc:
        raise SystemExit(f"error: {exc}") from None
    _print(
        {
            "integrador": args.id,
            "estado": "REVOCADO",
            "hashesTerminados": terminados,
            "aviso": "Para reactivarlo: rotate-integrador --id <id> --reactivar (emite un hash nuevo).",
        }
    )


def cmd_add_token(args: argparse.Namespace) -> None:
    repo = CredentialsRepository(args.credentials_table, _client(args))
    _print({"codigoBanco": args.codigo, "token": repo.add_token(args.codigo, datetime.now(UTC))})


def cmd_revoke_token(args: argparse.Namespace) -> None:
    CredentialsRepository(args.credentials_table, _client(args)).revoke_token(args.key_id)
    _print({"revocado": args.key_id})


def cmd_rotate_llave(args: argparse.Namespace) -> None:
    """A new llaveAcceso; the current one keeps working for --gracia-horas (revoke-llave: 0)."""
    gracia = round(float(getattr(args, "gracia_horas", 0)) * 3600)
    if gracia < 0 or gracia > 30 * 24 * 3600:
        raise SystemExit("--gracia-horas: entre 0 y 720")
    repo = CredentialsRepository(args.credentials_table, _client(args))
    try:
        llave = repo.rotate_llave(args.codigo, datetime.now(UTC), gracia)
    except _client(args).exceptions.ConditionalCheckFailedException:
        raise SystemExit(f"no existe el banco {args.codigo}") from None
    _print(
        {
            "codigoBanco": args.codigo,
            "llaveAcceso": llave,
            "anteriorValidaHoras": gracia / 3600,
            "aviso": "Guarde la llave ahora: solo se almacena su hash.",
        }
    )


def cmd_create_convenio(args: argparse.Namespace) -> None:
    rubros = tuple(r.strip() for r in args.rubros.split(",") if r.strip()) if args.rubros else ()
    convenio = Convenio(args.codigo, TipoConvenio(args.tipo), args.descripcion, args.institucion, rubros)
    LedgerRepository(args.ledger_table, _client(args)).put_convenio(convenio, predeterminado=args.predeterminado)
    _print({"convenio": args.codigo, "tipo": args.tipo, "rubros": list(rubros), "predeterminado": args.predeterminado})


def _canales(args: argparse.Namespace) -> tuple[Any, Any]:
    import boto3

    from recaudo.data.claves import ClavesKms
    from recaudo.data.recargas import CanalesRepository

    session = boto3.session.Session(region_name=args.region)
    canales = CanalesRepository(args.credentials_table, _client(args))
    return canales, ClavesKms(args.key_id, session.client("kms", endpoint_url=args.endpoint_url))


def cmd_create_channel(args: argparse.Namespace) -> None:
    from ops.recargas import crear_canal

    canales, kms = _canales(args)
    issued = crear_canal(canales, kms, args.nombre, datetime.now(UTC))
    _print({"apiKey": issued.api_key, "privateKey": issued.private_key})


def cmd_rotate_channel(args: argparse.Namespace) -> None:
    from ops.recargas import rotar_canal

    canales, kms = _canales(args)
    issued = rotar_canal(canales, kms, args.api_key, datetime.now(UTC))
    _print({"apiKey": issued.api_key, "privateKey": issued.private_key})


def cmd_revoke_channel(args: argparse.Namespace) -> None:
    from ops.recargas import revocar_canal

    canales, _ = _canales(args)
    revocar_canal(canales, args.api_key, datetime.now(UTC))
    _print({"apiKey": args.api_key, "estado": "REVOCADO"})


def cmd_create_tenant(args: argparse.Namespace) -> None:
    """A RADIAN tenant: its token is printed once (only its hash is stored)."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", args.tenant):
        raise SystemExit("error: --tenant takes 1 to 64 letters, digits, '-' or '_'")
    repo = CredentialsRepository(args.credentials_table, _client(args))
    token = repo.create_tenant(args.tenant, args.nombre, datetime.now(UTC))
    _print({"tenant": args.tenant, "token": token, "aviso": "Guarde el token ahora: solo se almacena su hash."})


def cmd_add_tenant_token(args: argparse.Namespace) -> None:
    repo = CredentialsRepository(args.credentials_table, _client(args))
    _print({"tenant": args.tenant, "token": repo.add_tenant_token(args.tenant, datetime.now(UTC))})


def cmd_radian_token(args: argparse.Namespace) -> None:
    """Put afacturar's Bearer token in its secret, read from standard input (never an argument: it
    would stay in the shell's history and the process list). The next polling run uses it."""
    import boto3

    token = sys.stdin.readline().strip()
    if not token:
        raise SystemExit("error: write the token on standard input")
    client = boto3.session.Session(region_name=args.region).client("secretsmanager", endpoint_url=args.endpoint_url)
    version = client.put_secret_value(SecretId=args.secret_id, SecretString=token)["VersionId"]
    _print({"secreto": args.secret_id, "version": version})


def _cuotas(args: argparse.Namespace) -> Any:
    from recaudo.data.cuotas import CuotasRepository

    return CuotasRepository(args.cuotas_table, _client(args))


def cmd_create_business(args: argparse.Namespace) -> None:
    """A Sistema UNO business and its API token (printed once; it opens only businessId's dues)."""
    from ops.cuotas import crear_empresa

    credenciales = CredentialsRepository(args.credentials_table, _client(args))
    token = crear_empresa(_cuotas(args), credenciales, args.business_id, args.nombre, datetime.now(UTC))
    _print(
        {"businessId": args.business_id, "token": token, "aviso": "Guarde el token ahora: solo se almacena su hash."}
    )


def cmd_add_business_token(args: argparse.Namespace) -> None:
    if _cuotas(args).empresa(args.business_id) is None:
        raise SystemExit(f"error: no existe la empresa {args.business_id}")
    repo = CredentialsRepository(args.credentials_table, _client(args))
    _print({"businessId": args.business_id, "token": repo.add_business_token(args.business_id, datetime.now(UTC))})


def cmd_create_school_year(args: argparse.Namespace) -> None:
    from recaudo.models.cuotas import Ciclo

    inicio = date.fromisoformat(args.inicio) if args.inicio else None
    fin = date.fromisoformat(args.fin) if args.fin else None
    if inicio and fin and inicio > fin:
        raise SystemExit("error: --inicio es posterior a --fin")
    _cuotas(args).crear_ciclo(args.business_id, Ciclo(args.school_year_id, inicio, fin))
    _print(
        {"businessId": args.business_id, "schoolYearId": args.school_year_id, "inicio": args.inicio, "fin": args.fin}
    )


def cmd_create_school(args: argparse.Namespace) -> None:
    _cuotas(args).crear_colegio(args.business_id, args.school_id, args.nombre, args.school_year)
    _print({"businessId": args.business_id, "schoolId": args.school_id, "schoolYearIds": sorted(set(args.school_year))})


def cmd_configure_price(args: argparse.Namespace) -> None:
    from decimal import Decimal

    from recaudo.models.cuotas import Contexto

    ctx = Contexto(args.business_id, args.school_id, args.school_year_id)
    repo = _cuotas(args)
    for articulo in args.article:
        repo.configurar_precio(ctx, articulo, Decimal(args.precio) if args.precio else None)
    _print(
        {
            "businessId": ctx.business_id,
            "schoolId": ctx.school_id,
            "schoolYearId": ctx.school_year_id,
            "articleRefIds": args.article,
        }
    )


def cmd_load_demo(args: argparse.Namespace) -> None:
    today = date.fromisoformat(args.today) if args.today else date.today()
    data, skipped = load_demo(LedgerRepository(args.ledger_table, _client(args)), today)
    _print(
        {
            "personas": [p.identificacion for p in data.personas],
            "convenios": [c.codigo for c, _ in data.convenios],
            "deudas": len(data.deudas),
            "deudasYaExistentes": skipped,
        }
    )


def _fecha(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError("se espera una fecha yyyy-mm-dd") from exc


def _precio(text: str) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        valor = Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError("se espera un decimal, p. ej. 84000.00") from exc
    if not valor.is_finite() or valor < 0:
        raise argparse.ArgumentTypeError("se espera un decimal mayor o igual a 0")
    return text


def _positivo(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError("se espera un entero positivo")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ops.admin", description=__doc__)
    p.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    p.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    p.add_argument("--ledger-table", default=os.environ.get("LEDGER_TABLE", "recaudo-ledger"))
    p.add_argument("--credentials-table", default=os.environ.get("CREDENTIALS_TABLE", "recaudo-credentials"))
    p.add_argument("--radian-table", default=os.environ.get("RADIAN_TABLE", "recaudo-radian"))
    p.add_argument("--cuotas-table", default=os.environ.get("CUOTAS_TABLE", "recaudo-cuotas"))
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("create-tables", help="create the tables (emulators, DynamoDB Local)").set_defaults(
        func=cmd_create_tables
    )

    bank = sub.add_parser("create-bank", help="create a bank; prints its token and llaveAcceso once")
    bank.add_argument("--codigo", required=True, help="codigoBanco, e.g. 00152")
    bank.add_argument("--nombre", required=True)
    bank.set_defaults(func=cmd_create_bank)

    api_key = sub.add_parser(
        "bank-api-key",
        help="give a bank its API key in Conectividad's usage plan (needed before it can call; rotates it too)",
    )
    api_key.add_argument("--banco", required=True, help="codigoBanco, e.g. 00152")
    api_key.add_argument(
        "--usage-plan-id",
        default=os.environ.get("CONECTIVIDAD_USAGE_PLAN_ID"),
        help="default: the stack's ConectividadUsagePlanId output",
    )
    api_key.add_argument("--stack-name", default="Recaudo", help="where to read the usage plan id from")
    api_key.set_defaults(func=cmd_bank_api_key)

    integ = sub.add_parser(
        "create-integrador", help="create a cobranzas integrator and its convenio; prints its hash once"
    )
    integ.add_argument("--id", required=True, help="letters and digits: the S3 prefix entrada/<id>/")
    integ.add_argument("--nombre", required=True)
    integ.add_argument("--institucion", required=True, help="institution code of its debts")
    integ.add_argument("--convenio", required=True, help="codigoConvenio banks pay its collections under")
    integ.add_argument("--zona-horaria", default="America/Bogota", help="IANA zone of its period (YYYYMM)")
    integ.set_defaults(func=cmd_create_integrador)

    rot_integ = sub.add_parser(
        "rotate-integrador", help="issue a new hash for an integrator; the old one works for --gracia-horas"
    )
    rot_integ.add_argument("--id", required=True)
    rot_integ.add_argument("--gracia-horas", type=float, default=24.0, help="0-720 (default 24)")
    rot_integ.add_argument(
        "--reactivar", action="store_true", help="required to rotate a revoked integrator: makes it active again"
    )
    rot_integ.set_defaults(func=cmd_rotate_integrador)

    rev_integ = sub.add_parser(
        "revoke-integrador", help="end every hash of an integrator now and mark it inactive (S3 drops refused too)"
    )
    rev_integ.add_argument("--id", required=True)
    rev_integ.set_defaults(func=cmd_revoke_integrador)

    tok = sub.add_parser("add-token", help="issue another API token for a bank (rotation)")
    tok.add_argument("--codigo", required=True)
    tok.set_defaults(func=cmd_add_token)

    rev = sub.add_parser("revoke-token", help="revoke a token by its key id (the part before the dot)")
    rev.add_argument("--key-id", required=True)
    rev.set_defaults(func=cmd_revoke_token)

    rot = sub.add_parser("rotate-llave", help="issue a new llaveAcceso; the old one works for --gracia-horas")
    rot.add_argument("--codigo", required=True)
    rot.add_argument("--gracia-horas", type=float, default=24.0, help="0-720 (default 24)")
    rot.set_defaults(func=cmd_rotate_llave)

    rvl = sub.add_parser("revoke-llave", help="issue a new llaveAcceso and stop the current one at once")
    rvl.add_argument("--codigo", required=True)
    rvl.set_defaults(func=cmd_rotate_llave, gracia_horas=0.0)

    conv = sub.add_parser("create-convenio", help="create or replace a convenio")
    conv.add_argument("--codigo", required=True)
    conv.add_argument("--tipo", required=True, choices=[t.value for t in TipoConvenio])
    conv.add_argument("--descripcion", required=True)
    conv.add_argument("--institucion", default=MUNICIPALIDAD)
    conv.add_argument("--rubros", help="comma-separated idRubro list; empty means every rubro")
    conv.add_argument("--predeterminado", action="store_true", help="the convenio of saldos-<tipo>-persona")
    conv.set_defaults(func=cmd_create_convenio)

    for name, help_, func in (
        ("create-channel", "create a CPS channel; prints its api-key and private key once", cmd_create_channel),
        ("rotate-channel", "issue a new private key for a channel (printed once)", cmd_rotate_channel),
        ("revoke-channel", "revoke a channel: its requests are refused at once", cmd_revoke_channel),
    ):
        channel = sub.add_parser(name, help=help_)
        channel.add_argument("--key-id", required=True, help="the recargas KMS key (id, ARN or alias)")
        if name == "create-channel":
            channel.add_argument("--nombre", required=True)
        else:
            channel.add_argument("--api-key", required=True)
        channel.set_defaults(func=func)
    tenant = sub.add_parser("create-tenant", help="create a RADIAN tenant; prints its API token once")
    tenant.add_argument("--tenant", required=True, help="the tenant id (letters, digits, - and _)")
    tenant.add_argument("--nombre", required=True)
    tenant.set_defaults(func=cmd_create_tenant)
    tenant_token = sub.add_parser("add-tenant-token", help="issue another API token for a RADIAN tenant")
    tenant_token.add_argument("--tenant", required=True)
    tenant_token.set_defaults(func=cmd_add_tenant_token)
    radian_token = sub.add_parser(
        "radian-token", help="put afacturar's Bearer token (read from standard input) in its secret"
    )
    radian_token.add_argument("--secret-id", default="recaudo/radian/afacturar-token")
    radian_token.set_defaults(func=cmd_radian_token)
    positivo = _positivo
    business = sub.add_parser("create-business", help="create a Sistema UNO business; prints its API token once")
    business.add_argument("--business-id", required=True, type=positivo)
    business.add_argument("--nombre", required=True)
    business.set_defaults(func=cmd_create_business)
    business_token = sub.add_parser("add-business-token", help="issue another API token for a UNO business")
    business_token.add_argument("--business-id", required=True, type=positivo)
    business_token.set_defaults(func=cmd_add_business_token)
    year = sub.add_parser("create-school-year", help="create or replace a UNO school year (its dates bound the dues)")
    year.add_argument("--business-id", required=True, type=positivo)
    year.add_argument("--school-year-id", required=True, type=positivo)
    year.add_argument("--inicio", type=_fecha, help="yyyy-mm-dd, first day (optional)")
    year.add_argument("--fin", type=_fecha, help="yyyy-mm-dd, last day (optional)")
    year.set_defaults(func=cmd_create_school_year)
    school = sub.add_parser("create-school", help="create or replace a UNO school, member of existing school years")
    school.add_argument("--business-id", required=True, type=positivo)
    school.add_argument("--school-id", required=True, type=positivo)
    school.add_argument("--nombre", required=True)
    school.add_argument("--school-year", required=True, type=positivo, action="append", help="repeatable")
    school.set_defaults(func=cmd_create_school)
    price = sub.add_parser(
        "configure-price", help="a price configuration (colegio_articulo_precio) for articles of a school and year"
    )
    price.add_argument("--business-id", required=True, type=positivo)
    price.add_argument("--school-id", required=True, type=positivo)
    price.add_argument("--school-year-id", required=True, type=positivo)
    price.add_argument("--article", required=True, type=positivo, action="append", help="articleRefId; repeatable")
    price.add_argument("--precio", type=_precio, help="the article's list price (optional, a decimal)")
    price.set_defaults(func=cmd_configure_price)
    demo = sub.add_parser("load-demo", help="load the demo persons, debts and convenios")
    demo.add_argument("--today", help="yyyy-mm-dd the data set is built around (default: today)")
    demo.set_defaults(func=cmd_load_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from recaudo.models.cuotas import NoExiste

    args = parser().parse_args(argv)
    try:
        args.func(args)
    except NoExiste as exc:
        print(f"error: no existe: {exc}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
