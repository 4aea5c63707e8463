"""Lambda authorizers as API Gateway runs them: identity sources, the TOKEN validation expression,
the result cache (per identity, for the authorizer's TTL) and the returned policy's evaluation."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local_stack.gateway.apis import RestApi, Route
from local_stack.gateway.events import identity_value
from local_stack.iam import Request, evaluate
from local_stack.workers import WorkerPool


@dataclass(frozen=True)
class Outcome:
    """Either the request goes on (``context``), or the gateway answers ``response_type``."""

    response_type: str | None
    context: dict[str, Any] | None = None
    usage_key: str | None = None  # the authorizer's usageIdentifierKey (an API key source of AUTHORIZER)


def policy_allows(policy: dict[str, Any], method_arn: str) -> bool:
    """The authorizer's policy, evaluated as IAM does (an explicit Deny wins)."""
    return evaluate([policy], Request("execute-api:Invoke", method_arn)).allowed


def authorize(
    api: RestApi,
    route: Route,
    event: dict[str, Any],
    method_arn: str,
    pool: WorkerPool,
    may_invoke: Callable[[str, str], bool],
) -> Outcome:
    authorizer = route.authorizer
    assert authorizer is not None
    identity = []
    for source in authorizer.identity_sources:
        value = identity_value(event, source)
        if not value:
            return Outcome("UNAUTHORIZED")
        identity.append(value)
    if authorizer.kind == "TOKEN" and authorizer.validation and not authorizer.validation.match(identity[0]):
        return Outcome("UNAUTHORIZED")

    cache_key = tuple(identity)
    cached = None
    if authorizer.ttl > 0:
        with authorizer.lock:
            entry = authorizer.cache.get(cache_key)
            if entry and entry[0] > time.monotonic():
                cached = entry[1]
    if cached is None:
        if not may_invoke(authorizer.function_arn, authorizer.authorizer_id):
            return Outcome("AUTHORIZER_CONFIGURATION_ERROR")
        if authorizer.kind == "TOKEN":
            auth_event: dict[str, Any] = {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": method_arn}
        else:
            auth_event = {**event, "type": "REQUEST", "methodArn": method_arn}
        worker = pool.by_arn(authorizer.function_arn)
        if worker is None:
            return Outcome("AUTHORIZER_CONFIGURATION_ERROR")
        result = worker.invoke(auth_event)
        if not result.ok:
            if (result.error or {}).get("errorMessage") == "Unauthorized":
                return Outcome("UNAUTHORIZED")
            return Outcome("AUTHORIZER_FAILURE")
        cached = result.result
        if not isinstance(cached, dict) or "policyDocument" not in cached:
            return Outcome("AUTHORIZER_CONFIGURATION_ERROR")
        if authorizer.ttl > 0:
            with authorizer.lock:
                authorizer.cache[cache_key] = (time.monotonic() + authorizer.ttl, cached)
    if not policy_allows(cached["policyDocument"], method_arn):
        return Outcome("ACCESS_DENIED")
    context = {k: str(v) for k, v in (cached.get("context") or {}).items()}
    usage_key = cached.get("usageIdentifierKey")
    return Outcome(None, {**context, "principalId": cached.get("principalId")}, str(usage_key) if usage_key else None)
