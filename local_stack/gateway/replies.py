"""API Gateway's own replies (gateway responses, with the API's customisations) and the reply built
from a Lambda proxy integration's result."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from local_stack.gateway.apis import RestApi
from local_stack.workers import Invocation

DEFAULT_REPLIES: dict[str, tuple[int, dict[str, str | None]]] = {
    "UNAUTHORIZED": (401, {"message": "Unauthorized"}),
    "ACCESS_DENIED": (403, {"message": "User is not authorized to access this resource with an explicit deny"}),
    "MISSING_AUTHENTICATION_TOKEN": (403, {"message": "Missing Authentication Token"}),
    "BAD_REQUEST_PARAMETERS": (400, {"message": "Missing required request parameters"}),
    "AUTHORIZER_FAILURE": (500, {"message": None}),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, {"message": None}),
    # e.g. the function's resource policy does not let API Gateway invoke it
    "API_CONFIGURATION_ERROR": (500, {"message": "Internal server error"}),
    "INTEGRATION_TIMEOUT": (504, {"message": "Endpoint request timed out"}),
    "INTEGRATION_FAILURE": (502, {"message": "Internal server error"}),
    "REQUEST_TOO_LARGE": (413, {"message": "Request Too Long"}),
    # a method that requires an API key, and none (or one of no usage plan) came with the request
    "INVALID_API_KEY": (403, {"message": "Forbidden"}),
    "WAF_FILTERED": (403, {"message": "Forbidden"}),
}


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def gateway_reply(api: RestApi, response_type: str, request_id: str, message: str | None = None) -> Reply:
    default_status, default_body = DEFAULT_REPLIES[response_type]
    if response_type in api.replies:
        status, headers, template = api.replies[response_type]
    else:  # as API Gateway: the family's customisation, status code included, applies
        family = "DEFAULT_4XX" if default_status < 500 else "DEFAULT_5XX"
        status, headers, template = api.replies.get(family, (None, {}, None))
    status = status or default_status
    if template is None:
        body_dict = dict(default_body)
        if message:
            body_dict["message"] = message
        text = json.dumps(body_dict)
    else:
        text = (
            template.replace("$context.error.messageString", json.dumps(message or default_body["message"]))
            .replace("$context.error.message", message or str(default_body["message"]))
            .replace("$context.requestId", request_id)
        )
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/json")
    out = [("Content-Type", content_type), ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", response_type)]
    extra = [(k, v) for k, v in headers.items() if k.lower() != "content-type"]
    return Reply(status, out + extra, text.encode("utf-8"))


def integration_reply(api: RestApi, result: Invocation, request_id: str) -> Reply:
    if result.timed_out:
        return gateway_reply(api, "INTEGRATION_TIMEOUT", request_id)
    if not result.ok:
        return gateway_reply(api, "INTEGRATION_FAILURE", request_id)
    response = result.result
    if not isinstance(response, dict) or not isinstance(response.get("statusCode"), int):
        return gateway_reply(api, "INTEGRATION_FAILURE", request_id)
    headers = [(str(k), str(v)) for k, v in (response.get("headers") or {}).items()]
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers += [(str(name), str(v)) for v in values if (str(name), str(v)) not in headers]
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
    return Reply(response["statusCode"], [*headers, ("x-amzn-RequestId", request_id)], raw)
