"""API Gateway TOKEN authorizer: ``Authorization: Token <keyId>.<secret>``, one token set per bank.

Allows the whole API stage for a valid token (the result is cached per token), and puts the bank
code in the request context. Anything else is ``Unauthorized`` (401), which the API's gateway
responses turn into Conectividad code 4. The token is never logged.

For banks (scope ``conectividad``) it also returns the bank's API key value as ``usageIdentifierKey``:
the Conectividad API takes its keys from the authorizer, so API Gateway meters and throttles each bank
by its own key in the usage plan. A bank with no key gets none, and API Gateway refuses it (403,
INVALID_API_KEY): the operator gives it one with ``python -m ops.admin bank-api-key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerTokenEvent,
)

from recaudo.auth import parse_authorization
from recaudo.emf import MetricUnit
from recaudo.observability import lambda_handler, logger, metrics


class Credentials(Protocol):
    def verify_token(self, key_id: str, secret: str, scope: str = "conectividad") -> str | None: ...

    def usage_key(self, codigo_banco: str) -> str | None: ...


class Unauthorized(Exception):
    """API Gateway maps an exception with exactly this message to 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@dataclass(frozen=True)
class AuthorizerDeps:
    credentials: Credentials
    scope: str = "conectividad"  # conectividad: banks; radian: RADIAN tenants; uno: UNO businesses


@cache
def default_deps() -> AuthorizerDeps:
    from recaudo.authorizer_settings import load
    from recaudo.aws import client
    from recaudo.data.credentials import CredentialsRepository

    settings = load()  # checked without pydantic: the authorizer's cold start (docs/decisions.md)
    return AuthorizerDeps(
        credentials=CredentialsRepository(settings.credentials_table, client("dynamodb")), scope=settings.token_scope
    )


def stage_arn(method_arn: str) -> str:
    """``arn:aws:execute-api:region:account:api/stage/VERB/path`` -> every method of that stage."""
    parts = method_arn.split("/")
    return "/".join(parts[:2]) + "/*/*"


def authorize(token_header: str | None, method_arn: str, deps: AuthorizerDeps | None = None) -> dict[str, Any]:
    deps = deps or default_deps()
    parsed = parse_authorization(token_header)
    if parsed is None:
        logger.info("authorization header malformed")
        metrics.add_metric(name="TokenRechazado", unit=MetricUnit.Count, value=1)
        raise Unauthorized()
    key_id, secret = parsed
    owner = deps.credentials.verify_token(key_id, secret, deps.scope)
    if owner is None:
        logger.info("token rejected", extra={"keyId": key_id})
        metrics.add_metric(name="TokenRechazado", unit=MetricUnit.Count, value=1)
        raise Unauthorized()
    metrics.add_metric(name="TokenAceptado", unit=MetricUnit.Count, value=1)
    if deps.scope == "radian":
        logger.append_keys(tenant=owner)
        principal, context = f"tenant:{owner}", {"tenant": owner, "keyId": key_id}
    elif deps.scope == "uno":
        logger.append_keys(businessId=owner)
        principal, context = f"empresa:{owner}", {"businessId": owner, "keyId": key_id}
    else:
        logger.append_keys(codigoBanco=owner)
        principal, context = f"banco:{owner}", {"codigoBanco": owner, "keyId": key_id}
    result: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": stage_arn(method_arn)}],
        },
        "context": context,
    }
    if deps.scope == "conectividad":
        usage_key = deps.credentials.usage_key(owner)
        if usage_key:
            result["usageIdentifierKey"] = usage_key
        else:  # API Gateway refuses the request (403): say why, without the token
            logger.warning("bank has no API key in the usage plan", extra={"keyId": key_id})
            metrics.add_metric(name="BancoSinClaveDeUso", unit=MetricUnit.Count, value=1)
    return result


def _resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token_event = APIGatewayAuthorizerTokenEvent(event)
    return authorize(token_event.authorization_token, token_event.method_arn)


handler = lambda_handler(_resolve, correlation_id_path=None)
