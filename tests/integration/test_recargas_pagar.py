"""The pay endpoint's handler in-process under moto (KMS, DynamoDB): a signed request through the
real handler, with the state machine replaced by a recorder and faults injected around it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from recargas import pagar as pagar_handler
from recargas import recargas
from recargas.deps import AuthDeps, RecargaDeps

from ops.recargas import crear_canal
from recaudo.data.claves import ClavesEnMemoria, ClavesKms
from recaudo.data.recargas import CanalesRepository, RecargasRepository, UnaVezRepository
from recaudo.data.tables import CREDENTIALS, IDEMPOTENCY, LEDGER
from tests.conftest import NOW
from tests.helpers import LambdaContext


@dataclass
class Flow:
    started: list[str] = field(default_factory=list)
    fail: int = 0

    def start(self, name: str, payload: dict[str, Any]) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("StartExecution throttled")
        self.started.append(name)


class BrokenOnce(RecargasRepository):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.broken = 1

    def put_new(self, r: Any) -> None:
        if self.broken:
            self.broken -= 1
            raise RuntimeError("DynamoDB unavailable")
        super().put_new(r)


@pytest.fixture
def world(aws, monkeypatch):
    import boto3

    from recaudo.aws import client, nueva_sesion

    nueva_sesion()
    ddb = client("dynamodb")
    for spec, env in ((LEDGER, "LEDGER_TABLE"), (CREDENTIALS, "CREDENTIALS_TABLE"), (IDEMPOTENCY, "IDEMPOTENCY_TABLE")):
        ddb.create_table(**spec.create_table_kwargs(os.environ[env]))
    key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    kms = ClavesKms(key, boto3.client("kms"))
    canal = crear_canal(CanalesRepository(os.environ["CREDENTIALS_TABLE"], ddb), kms, "Canal", NOW)
    flow = Flow()
    repo = BrokenOnce(os.environ["LEDGER_TABLE"], ddb)
    auth = AuthDeps(
        canales=CanalesRepository(os.environ["CREDENTIALS_TABLE"], ddb),
        claves=ClavesEnMemoria(kms),
        una_vez=UnaVezRepository(os.environ["IDEMPOTENCY_TABLE"], ddb),
        ventana_nonce_ms=300_000,
        clock=lambda: NOW,
    )
    deps = RecargaDeps(
        auth=auth,
        recargas=repo,
        una_vez=UnaVezRepository(os.environ["IDEMPOTENCY_TABLE"], ddb),
        flujo=flow,
        operador=None,  # type: ignore[arg-type]  (the pay endpoint never calls the carrier)
        espera_segundos=0,
        idempotencia_segundos=86_400,
        sleep=lambda _s: None,
        clock=lambda: NOW,
    )
    monkeypatch.setattr(recargas, "default_recarga_deps", lambda: deps)
    yield canal, flow, repo
    nueva_sesion()


NONCES = iter(range(int(NOW.timestamp() * 1000), int(NOW.timestamp() * 1000) + 10_000))


def signed_event(canal: Any, body: bytes, key: str | None = None) -> dict[str, Any]:
    nonce = str(next(NONCES))
    signature = hmac.new(
        canal.private_key.encode(), b"/v2/operation/use/pay" + nonce.encode() + body, hashlib.sha384
    ).hexdigest()
    headers = {
        "api-key": canal.api_key,
        "api-nonce": nonce,
        "api-signature": signature,
        "Content-Type": "application/json",
    }
    if key:
        headers["Idempotency-Key"] = key
    return {
        "resource": "/v2/operation/use/pay",
        "path": "/v2/operation/use/pay",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"path": "/cps/v2/operation/use/pay", "stage": "cps", "requestId": "r", "httpMethod": "POST"},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


BODY = b'{"numberService":"04140000001","idTypeService":57,"amount":10}'


def pay(canal: Any, body: bytes = BODY, key: str | None = None) -> tuple[int, dict[str, Any]]:
    response = pagar_handler.handler(signed_event(canal, body, key), LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def test_given_a_signed_top_up_when_the_outcome_is_not_known_yet_then_202_with_the_operation(world):
    canal, flow, repo = world
    repo.broken = 0
    # Given a flow that has not answered within the wait / When the channel pays
    status, body = pay(canal)
    # Then "en proceso" with the operation's id and where to ask, and the flow started once for it
    assert status == 202 and body["estado"] == "PENDIENTE" and flow.started == [body["idOperacion"]]
    assert body["consultar"] == f"/cps/v2/operation/{body['idOperacion']}" and body["amount"] == 10
    assert repo.get(body["idOperacion"]).monto == Decimal("10.00")  # type: ignore[union-attr]


def test_given_a_failure_before_registering_then_the_idempotency_key_is_given_back(world):
    canal, flow, _ = world
    # Given the operation's registration fails once
    status, body = pay(canal, key="k-1")
    assert status == 500 and body["codigo"] == "ERROR_INTERNO" and flow.started == []
    # When the channel retries with the same key and body / Then it goes through, not "in progress"
    status, body = pay(canal, key="k-1")
    assert status == 202 and flow.started == [body["idOperacion"]]


def test_given_the_flow_cannot_start_then_the_top_up_fails_cleanly_and_never_sent(world):
    canal, flow, repo = world
    repo.broken = 0
    flow.fail = 3
    status, body = pay(canal)
    assert status == 200 and body["estado"] == "FALLIDA" and "no se envió" in body["motivo"]
    assert flow.started == []
