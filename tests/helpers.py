"""Builders shared by tests: API Gateway REST proxy events and a Lambda context."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def rest_event(
    method: str,
    path: str,
    query: str | dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
    authorizer: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST (v1) proxy event as API Gateway builds it, multi-value fields included."""
    pairs = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else list((query or {}).items())
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        if name:  # API Gateway drops the empty names that `&&` produces; empty values stay
            multi.setdefault(name, []).append(value)
    headers = headers or {}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/api{path}",
            "stage": "api",
            "requestId": "test-request-id",
            "authorizer": authorizer
            if authorizer is not None
            else {"codigoBanco": "00152", "principalId": "banco:00152"},
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def call(handler: Any, event: dict[str, Any]) -> tuple[int, Any]:
    """Invoke a Lambda handler and return (status, parsed JSON body with exact Decimals)."""
    from recaudo.money import loads

    response = handler(event, LambdaContext())
    body = response.get("body")
    return response["statusCode"], (loads(body) if body else None)


class Reloj:
    """A monotonic clock that advances ``paso`` seconds each time it is read (a time budget in tests)."""

    def __init__(self, paso: float) -> None:
        self.t, self.paso = 0.0, paso

    def __call__(self) -> float:
        self.t += self.paso
        return self.t
