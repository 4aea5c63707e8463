"""Demo data and credentials for the local stack, written through the same repositories the
functions use; returns what a newcomer needs to call the APIs."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from local_stack.template import Stack


def find_table(stack: Stack, construct_path_suffix: str) -> str | None:
    for lid, res in stack.of_type("AWS::DynamoDB::Table").items():
        path = res.get("Metadata", {}).get("aws:cdk:path", "")
        if path.removesuffix("/Resource").endswith(construct_path_suffix):
            return stack.physical[lid]
    return None


def seed_demo(stack: Stack, dynamodb: Any) -> dict[str, Any] | None:
    from ops.demo import load_demo
    from recaudo.data.credentials import CredentialsRepository
    from recaudo.data.ledger import LedgerRepository
    from recaudo.models.ledger import EstadoDeuda

    ledger_table = find_table(stack, "Data/Ledger")
    credentials_table = find_table(stack, "Data/Credentials")
    if not ledger_table or not credentials_table:
        return None
    now = datetime.now(UTC)
    data, _ = load_demo(LedgerRepository(ledger_table, dynamodb), now.date(), empty_table=True)
    credentials = CredentialsRepository(credentials_table, dynamodb)
    bank = credentials.create_bank("00152", "Banco Demo", now)
    # its API key in Conectividad's usage plan, as `ops.admin bank-api-key` gives it (the local gateway
    # needs the authorizer to return one; it keeps no usage plans, so any value is the bank's key)
    credentials.set_usage_key(bank.codigo_banco, secrets.token_urlsafe(30))
    julio = next(p for p in data.personas if p.identificacion == "12345678")
    pending = [d for d in data.deudas if d.identificacion == julio.identificacion and d.estado is EstadoDeuda.PENDIENTE]
    oldest = min(pending, key=lambda d: (d.fecha_corte, d.id_rubro))
    pago = {
        "llaveAcceso": bank.llave_acceso,
        "codigoConvenio": "003",
        "codigoBanco": bank.codigo_banco,
        "codigoAgencia": "033272",
        "periodo": f"{oldest.year}{oldest.periodo}",
        "montoTotal": float(oldest.monto),  # replaced by the exact text when written to a file
        "numeroFactura": oldest.id_saldo,
    }
    reversa = {k: v for k, v in pago.items() if k != "montoTotal"}
    cobranzas = seed_cobranzas(stack, dynamodb, ledger_table, credentials_table, now)
    return {
        "cobranzas": cobranzas,
        "pago": {"factura": oldest.id_saldo, "monto": str(oldest.monto), "body": pago, "reversa": reversa},
        "bank": {"codigoBanco": bank.codigo_banco, "token": bank.token, "llaveAcceso": bank.llave_acceso},
        "persona": {
            "identificacion": julio.identificacion,
            "nombre": julio.nombre,
            "pendientes": len(pending),
            "convenios": {c.codigo: c.tipo.value for c, _ in data.convenios},
        },
        "personasDemo": [p.identificacion for p in data.personas],
        "tables": {"ledger": ledger_table, "credentials": credentials_table},
    }


def find_bucket(stack: Stack, construct_path_suffix: str) -> str | None:
    for lid, res in stack.of_type("AWS::S3::Bucket").items():
        if res.get("Metadata", {}).get("aws:cdk:path", "").removesuffix("/Resource").endswith(construct_path_suffix):
            return stack.physical[lid]
    return None


def seed_cobranzas(
    stack: Stack, dynamodb: Any, ledger_table: str, credentials_table: str, now: datetime
) -> dict[str, Any] | None:
    """A demo integrator (its hash printed once, stored as a digest) with its convenio."""
    from recaudo.data.integradores import IntegradoresRepository
    from recaudo.data.ledger import LedgerRepository
    from recaudo.models.cobranzas import Integrador
    from recaudo.models.ledger import Convenio, TipoConvenio

    bucket = find_bucket(stack, "Cobranzas/Files")
    if bucket is None:
        return None
    integrador = Integrador("clubdemo", "Club Demo", "CLUBDEMO", "CLUB01", "America/Bogota")
    LedgerRepository(ledger_table, dynamodb).put_convenio(
        Convenio(
            integrador.convenio,
            TipoConvenio.TOTAL,
            "Club Demo: cobranzas (Pay per TIC)",
            institucion=integrador.institucion,
            integrador=integrador.id,
        )
    )
    hash_ = IntegradoresRepository(credentials_table, dynamodb).crear(integrador, now)
    return {
        "integrador": integrador.id,
        "hash": hash_,
        "convenio": integrador.convenio,
        "bucket": bucket,
        "prefijo": f"entrada/{integrador.id}/",
        "zonaHoraria": integrador.zona_horaria,
    }


def find_key(stack: Stack, construct_path_suffix: str) -> str | None:
    for lid, res in stack.of_type("AWS::KMS::Key").items():
        if res.get("Metadata", {}).get("aws:cdk:path", "").removesuffix("/Resource").endswith(construct_path_suffix):
            return stack.naming.arn("AWS::KMS::Key", stack.physical[lid])
    return None


def seed_recargas(stack: Stack, dynamodb: Any, kms: Any) -> dict[str, Any] | None:
    """A demo CPS channel: its api-key and private key (printed once; stored encrypted with KMS)."""
    from local_stack.fakes.carrier import NUMBERS
    from ops.recargas import crear_canal
    from recaudo.data.claves import ClavesKms
    from recaudo.data.recargas import CanalesRepository

    key = find_key(stack, "Recargas/ChannelKeys")
    credentials_table = find_table(stack, "Data/Credentials")
    if key is None or credentials_table is None:
        return None
    issued = crear_canal(
        CanalesRepository(credentials_table, dynamodb), ClavesKms(key, kms), "Canal Demo", datetime.now(UTC)
    )
    return {"apiKey": issued.api_key, "privateKey": issued.private_key, "keyId": key, "numbers": dict(NUMBERS)}


def seed_radian(stack: Stack, dynamodb: Any) -> dict[str, Any] | None:
    """A RADIAN tenant with its API token (the token is printed once, in the banner and stack.json)."""
    from recaudo.data.credentials import CredentialsRepository

    credentials_table = find_table(stack, "Data/Credentials")
    if credentials_table is None or find_table(stack, "Data/Radian") is None:
        return None
    token = CredentialsRepository(credentials_table, dynamodb).create_tenant(
        "demo", "Cliente RADIAN Demo", datetime.now(UTC)
    )
    return {"tenant": "demo", "token": token}


def seed_cuotas(stack: Stack, dynamodb: Any) -> dict[str, Any] | None:
    """The Sistema UNO demo business (the document's context), its school, year and priced articles."""
    from ops.cuotas import seed_demo as seed_uno
    from recaudo.data.credentials import CredentialsRepository
    from recaudo.data.cuotas import CuotasRepository

    credentials_table, cuotas_table = find_table(stack, "Data/Credentials"), find_table(stack, "Data/Cuotas")
    if credentials_table is None or cuotas_table is None:
        return None
    return seed_uno(
        CuotasRepository(cuotas_table, dynamodb), CredentialsRepository(credentials_table, dynamodb), datetime.now(UTC)
    )
