"""The Lambda proxy (v1) event API Gateway builds for a REST API request."""

from __future__ import annotations

import base64
import fnmatch
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from local_stack.gateway.apis import RestApi, Route
from local_stack.template import TemplateError


def proxy_event(
    api: RestApi,
    route: Route,
    method: str,
    path: str,
    params: dict[str, str],
    headers: list[tuple[str, str]],
    query: str,
    body: bytes,
    source_ip: str,
    request_id: str,
    account: str,
    *,
    domain: str | None = None,
    base_path: str = "",
) -> dict[str, Any]:
    """``domain``/``base_path``: the request came through a custom domain's base path mapping (its
    paths are the domain's, not the stage's)."""
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name:
            multi_query.setdefault(name, []).append(value)
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    binary = any(fnmatch.fnmatch(content_type.split(";")[0].strip(), t) for t in api.binary_media_types)
    text_body: str | None
    is_base64 = False
    if not body:
        text_body = None
    elif binary:
        text_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    else:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(UTC)
    prefix = f"/{base_path}" if base_path else ""
    return {
        "resource": route.template_path,
        "path": f"{prefix}{path}" if domain else path,
        "httpMethod": method,
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": account,
            "apiId": api.api_id,
            "resourceId": route.resource_id,
            "resourcePath": route.template_path,
            "httpMethod": method,
            "path": f"{prefix}{path}" if domain else f"/{api.stage}{path}",
            "stage": api.stage,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "domainName": domain or "localhost",
            "identity": {
                "sourceIp": source_ip,
                "userAgent": multi_headers.get("User-Agent", [""])[-1],
            },
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def has_param(event: dict[str, Any], parameter: str) -> bool:
    """Whether the request carries a required ``method.request.<where>.<name>`` parameter."""
    _, _, where, name = parameter.split(".", 3)
    if where == "querystring":
        return bool((event.get("queryStringParameters") or {}).get(name))
    if where == "header":
        return any(k.lower() == name.lower() for k in (event.get("headers") or {}))
    if where == "path":
        return bool((event.get("pathParameters") or {}).get(name))
    return True


def identity_value(event: dict[str, Any], source: str) -> str | None:
    """An authorizer's identity source (``method.request.header.X`` / ``…querystring.X``)."""
    parts = source.split(".", 3)
    if len(parts) != 4 or parts[0] != "method" or parts[1] != "request":
        raise TemplateError(f"identity source {source!r} is not emulated")
    where, name = parts[2], parts[3]
    if where == "header":
        return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == name.lower()), None)
    if where == "querystring":
        return (event.get("queryStringParameters") or {}).get(name)
    raise TemplateError(f"identity source {source!r} is not emulated")
