"""API Gateway (REST, v1 proxy) emulated from the template: resources and methods, path parameters,
``{proxy+}`` and ``ANY``, TOKEN and REQUEST authorizers with policy evaluation and caching, the
request validator's required parameters, binary media types and the API's gateway responses.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_stack.template import Stack, TemplateError
from local_stack.workers import Invocation, WorkerPool

_FUNCTION_IN_URI = re.compile(r"functions/(arn:aws:lambda:[^/]+)/invocations")

DEFAULT_REPLIES = {
    "UNAUTHORIZED": (401, {"message": "Unauthorized"}),
    "ACCESS_DENIED": (403, {"message": "User is not authorized to access this resource with an explicit deny"}),
    "MISSING_AUTHENTICATION_TOKEN": (403, {"message": "Missing Authentication Token"}),
    "BAD_REQUEST_PARAMETERS": (400, {"message": "Missing required request parameters"}),
    "AUTHORIZER_FAILURE": (500, {"message": None}),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, {"message": None}),
    "INTEGRATION_TIMEOUT": (504, {"message": "Endpoint request timed out"}),
    "INTEGRATION_FAILURE": (502, {"message": "Internal server error"}),
    "REQUEST_TOO_LARGE": (413, {"message": "Request Too Long"}),
}
# API Gateway's payload limit, and Lambda's for a synchronous invocation's event.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_LAMBDA_EVENT_BYTES = 6 * 1024 * 1024


@dataclass
class Authorizer:
    logical_id: str
    kind: str  # TOKEN | REQUEST
    function_arn: str
    identity_sources: list[str]
    validation: re.Pattern[str] | None
    ttl: int
    cache: dict[Any, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Route:
    http_method: str
    template_path: str
    pattern: re.Pattern[str]
    specificity: tuple[int, int]
    function_arn: str
    authorizer: Authorizer | None
    required_params: list[str]
    resource_id: str


@dataclass
class RestApi:
    logical_id: str
    api_id: str
    stage: str
    routes: list[Route]
    replies: dict[str, tuple[int | None, dict[str, str], str | None]]
    binary_media_types: list[str]


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _path_regex(path: str) -> tuple[re.Pattern[str], tuple[int, int]]:
    parts, static, greedy = [], 0, 0
    for segment in [s for s in path.split("/") if s]:
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
            greedy += 1
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
            static += 1
    return re.compile("^/" + "/".join(parts) + "$"), (static, -greedy)


def load_apis(stack: Stack) -> list[RestApi]:
    apis = []
    paths: dict[str, str] = {}  # resource logical id -> its full path (resource ids are unique in a stack)

    def path_of(resource_ref: Any) -> str:
        if isinstance(resource_ref, dict) and "Fn::GetAtt" in resource_ref:
            return ""  # the root resource
        logical = resource_ref["Ref"]
        if logical not in paths:
            res = stack.resources[logical]["Properties"]
            paths[logical] = f"{path_of(res['ParentId'])}/{res['PathPart']}"
        return paths[logical]

    for api_id in stack.of_type("AWS::ApiGateway::RestApi"):
        props = stack.properties(api_id)

        authorizers: dict[str, Authorizer] = {}
        for lid in stack.of_type("AWS::ApiGateway::Authorizer"):
            raw = stack.resources[lid]["Properties"]
            if raw["RestApiId"] != {"Ref": api_id}:
                continue
            a = stack.properties(lid)
            match = _FUNCTION_IN_URI.search(a["AuthorizerUri"])
            if not match:
                raise TemplateError(f"authorizer {lid}: only Lambda authorizers are emulated")
            authorizers[lid] = Authorizer(
                logical_id=lid,
                kind=a["Type"],
                function_arn=match.group(1),
                identity_sources=[s.strip() for s in a.get("IdentitySource", "").split(",") if s.strip()],
                validation=re.compile(a["IdentityValidationExpression"])
                if a.get("IdentityValidationExpression")
                else None,
                ttl=int(a.get("AuthorizerResultTtlInSeconds", 300)),
            )
        validators = {
            lid: stack.properties(lid)
            for lid, res in stack.of_type("AWS::ApiGateway::RequestValidator").items()
            if res["Properties"]["RestApiId"] == {"Ref": api_id}
        }
        routes = []
        for lid, res in stack.of_type("AWS::ApiGateway::Method").items():
            raw = res["Properties"]
            if raw["RestApiId"] != {"Ref": api_id}:
                continue
            m = stack.properties(lid)
            integration = m.get("Integration", {})
            if integration.get("Type") != "AWS_PROXY":
                raise TemplateError(f"method {lid}: only Lambda proxy (AWS_PROXY) integrations are emulated")
            function = _FUNCTION_IN_URI.search(integration["Uri"])
            if not function:
                raise TemplateError(f"method {lid}: integration is not a Lambda function")
            template_path = path_of(raw["ResourceId"]) or "/"
            pattern, specificity = _path_regex(template_path)
            validator = validators.get((raw.get("RequestValidatorId") or {}).get("Ref", ""), {})
            required = (
                [p for p, req in (m.get("RequestParameters") or {}).items() if req]
                if validator.get("ValidateRequestParameters")
                else []
            )
            authorizer = None
            if m.get("AuthorizationType") == "CUSTOM":
                authorizer = authorizers[raw["AuthorizerId"]["Ref"]]
            routes.append(
                Route(
                    m["HttpMethod"], template_path, pattern, specificity, function.group(1), authorizer, required, lid
                )
            )
        routes.sort(key=lambda r: r.specificity, reverse=True)
        replies = {}
        for lid, res in stack.of_type("AWS::ApiGateway::GatewayResponse").items():
            if res["Properties"]["RestApiId"] != {"Ref": api_id}:
                continue
            g = stack.properties(lid)
            headers = {
                k.removeprefix("gatewayresponse.header."): v.strip("'")
                for k, v in (g.get("ResponseParameters") or {}).items()
            }
            template = (g.get("ResponseTemplates") or {}).get("application/json")
            replies[g["ResponseType"]] = (int(g["StatusCode"]) if g.get("StatusCode") else None, headers, template)
        stages = [
            stack.properties(lid)["StageName"]
            for lid, res in stack.of_type("AWS::ApiGateway::Stage").items()
            if res["Properties"]["RestApiId"] == {"Ref": api_id}
        ]
        if len(stages) != 1:
            raise TemplateError(f"REST API {api_id}: expected exactly one stage, found {stages}")
        apis.append(
            RestApi(api_id, stack.physical[api_id], stages[0], routes, replies, props.get("BinaryMediaTypes") or [])
        )
    names = [a.stage for a in apis]
    if len(names) != len(set(names)):
        raise TemplateError(f"REST APIs must have distinct stage names to share one local port: {names}")
    return apis


def _policy_allows(policy: dict[str, Any], method_arn: str) -> bool:
    allowed = False
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if not any(a in ("*", "execute-api:*", "execute-api:Invoke") for a in actions):
            continue
        resources = statement.get("Resource", [])
        resources = resources if isinstance(resources, list) else [resources]
        if any(fnmatch.fnmatchcase(method_arn, r) for r in resources):
            if statement.get("Effect") == "Deny":
                return False
            if statement.get("Effect") == "Allow":
                allowed = True
    return allowed


class Gateway:
    def __init__(self, apis: list[RestApi], pool: WorkerPool, region: str, account: str, docs: Path | None = None):
        self.apis = {a.stage: a for a in apis}
        self.pool = pool
        self.region = region
        self.account = account
        self.docs = docs
        self._server: ThreadingHTTPServer | None = None

    # ---- HTTP server ----

    def serve(self, host: str, port: int) -> tuple[str, int]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # headers and body leave in separate writes: without this, Nagle and delayed ACKs
                # add ~40 ms to every keep-alive response
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _any(self) -> None:
                body = self._body()
                try:
                    reply = gateway.handle(
                        self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                    )
                except Exception:  # noqa: BLE001 - the runner's own fault: say so, never drop the connection
                    import traceback

                    traceback.print_exc()
                    reply = Reply(
                        500, [("Content-Type", "application/json")], b'{"message":"local stack error (see its log)"}'
                    )
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # socketserver's default listen backlog is 5: bursts of concurrent clients get resets
            request_queue_size = 256

        self._server = Server((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self._server.server_address[:2]

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # ---- request handling ----

    def handle(self, method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes, source_ip: str) -> Reply:
        url = urlsplit(raw_path)
        if url.path.startswith("/_docs"):
            return self._docs(url.path)
        if url.path == "/_stats":  # local only: every function's invocation durations
            stats = {
                pool.spec.display_name: {"instances": len(pool.instances), "durationsMs": list(pool.durations_ms)}
                for pool in self.pool.workers.values()
            }
            return Reply(200, [("Content-Type", "application/json")], json.dumps(stats).encode())
        stage, _, rest = url.path.lstrip("/").partition("/")
        api = self.apis.get(stage)
        if api is None:
            return Reply(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
        path = "/" + rest
        request_id = str(uuid.uuid4())
        route, params = self._match(api, method, path)
        if route is None:
            return self._reply(api, "MISSING_AUTHENTICATION_TOKEN", request_id)
        if len(body) > MAX_REQUEST_BYTES:
            return self._reply(api, "REQUEST_TOO_LARGE", request_id)
        event = self._event(api, route, method, path, params, headers, url.query, body, source_ip, request_id)

        missing = [p for p in route.required_params if not self._has_param(event, p)]
        if missing:
            return self._reply(
                api, "BAD_REQUEST_PARAMETERS", request_id, f"Missing required request parameters: {missing}"
            )

        if route.authorizer is not None:
            denied = self._authorize(api, route, event, request_id)
            if denied is not None:
                return denied

        worker = self.pool.by_arn(route.function_arn)
        if worker is None:
            raise TemplateError(f"no worker for {route.function_arn}")
        if len(json.dumps(event)) > MAX_LAMBDA_EVENT_BYTES:  # Lambda refuses it (RequestEntityTooLarge)
            return self._reply(api, "INTEGRATION_FAILURE", request_id, "Lambda request payload too large")
        result = worker.invoke(event)
        event["requestContext"]["integrationLatency"] = int(result.duration_ms)
        return self._integration_reply(api, result, request_id)

    def _match(self, api: RestApi, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in api.routes:
            match = route.pattern.match(path)
            if match and route.http_method in (method, "ANY"):
                return route, match.groupdict()
        return None, {}

    @staticmethod
    def _has_param(event: dict[str, Any], parameter: str) -> bool:
        _, _, where, name = parameter.split(".", 3)
        if where == "querystring":
            return bool((event.get("queryStringParameters") or {}).get(name))
        if where == "header":
            return any(k.lower() == name.lower() for k in (event.get("headers") or {}))
        if where == "path":
            return bool((event.get("pathParameters") or {}).get(name))
        return True

    def _event(
        self,
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
    ) -> dict[str, Any]:
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
        return {
            "resource": route.template_path,
            "path": path,
            "httpMethod": method,
            "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "accountId": self.account,
                "apiId": api.api_id,
                "resourceId": route.resource_id,
                "resourcePath": route.template_path,
                "httpMethod": method,
                "path": f"/{api.stage}{path}",
                "stage": api.stage,
                "protocol": "HTTP/1.1",
                "requestId": request_id,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "domainName": "localhost",
                "identity": {
                    "sourceIp": source_ip,
                    "userAgent": multi_headers.get("User-Agent", [""])[-1],
                },
            },
            "body": text_body,
            "isBase64Encoded": is_base64,
        }

    def method_arn(self, api: RestApi, method: str, path: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account}:{api.api_id}/{api.stage}/{method}{path}"

    def _authorize(self, api: RestApi, route: Route, event: dict[str, Any], request_id: str) -> Reply | None:
        authorizer = route.authorizer
        assert authorizer is not None
        method_arn = self.method_arn(api, event["httpMethod"], event["path"])
        identity = []
        for source in authorizer.identity_sources:
            value = self._identity_value(event, source)
            if not value:
                return self._reply(api, "UNAUTHORIZED", request_id)
            identity.append(value)
        if authorizer.kind == "TOKEN" and authorizer.validation and not authorizer.validation.match(identity[0]):
            return self._reply(api, "UNAUTHORIZED", request_id)

        cache_key = tuple(identity)
        cached = None
        if authorizer.ttl > 0:
            with authorizer.lock:
                entry = authorizer.cache.get(cache_key)
                if entry and entry[0] > time.monotonic():
                    cached = entry[1]
        if cached is None:
            if authorizer.kind == "TOKEN":
                auth_event: dict[str, Any] = {
                    "type": "TOKEN",
                    "authorizationToken": identity[0],
                    "methodArn": method_arn,
                }
            else:
                auth_event = {**event, "type": "REQUEST", "methodArn": method_arn}
            worker = self.pool.by_arn(authorizer.function_arn)
            if worker is None:
                raise TemplateError(f"no worker for authorizer {authorizer.function_arn}")
            result = worker.invoke(auth_event)
            if not result.ok:
                if (result.error or {}).get("errorMessage") == "Unauthorized":
                    return self._reply(api, "UNAUTHORIZED", request_id)
                return self._reply(api, "AUTHORIZER_FAILURE", request_id)
            cached = result.result
            if not isinstance(cached, dict) or "policyDocument" not in cached:
                return self._reply(api, "AUTHORIZER_CONFIGURATION_ERROR", request_id)
            if authorizer.ttl > 0:
                with authorizer.lock:
                    authorizer.cache[cache_key] = (time.monotonic() + authorizer.ttl, cached)
        if not _policy_allows(cached["policyDocument"], method_arn):
            return self._reply(api, "ACCESS_DENIED", request_id)
        context = {k: str(v) for k, v in (cached.get("context") or {}).items()}
        event["requestContext"]["authorizer"] = {**context, "principalId": cached.get("principalId")}
        return None

    @staticmethod
    def _identity_value(event: dict[str, Any], source: str) -> str | None:
        parts = source.split(".", 3)
        if len(parts) != 4 or parts[0] != "method" or parts[1] != "request":
            raise TemplateError(f"identity source {source!r} is not emulated")
        where, name = parts[2], parts[3]
        if where == "header":
            return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == name.lower()), None)
        if where == "querystring":
            return (event.get("queryStringParameters") or {}).get(name)
        raise TemplateError(f"identity source {source!r} is not emulated")

    def _integration_reply(self, api: RestApi, result: Invocation, request_id: str) -> Reply:
        if result.timed_out:
            return self._reply(api, "INTEGRATION_TIMEOUT", request_id)
        if not result.ok:
            return self._reply(api, "INTEGRATION_FAILURE", request_id)
        response = result.result
        if not isinstance(response, dict) or not isinstance(response.get("statusCode"), int):
            return self._reply(api, "INTEGRATION_FAILURE", request_id)
        headers = [(k, str(v)) for k, v in (response.get("headers") or {}).items()]
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers += [(name, str(v)) for v in values if (name, str(v)) not in headers]
        body = response.get("body") or ""
        raw = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
        return Reply(response["statusCode"], [*headers, ("x-amzn-RequestId", request_id)], raw)

    def _reply(self, api: RestApi, response_type: str, request_id: str, message: str | None = None) -> Reply:
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

    # ---- Swagger UI ----

    def _docs(self, path: str) -> Reply:
        from aws_lambda_powertools.event_handler.openapi import swagger_ui
        from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

        assets = Path(swagger_ui.__file__).parent
        if path == "/_docs/openapi.json" and self.docs:
            return Reply(200, [("Content-Type", "application/json")], self.docs.read_bytes())
        if path == "/_docs/swagger-ui-bundle.min.js":
            return Reply(
                200, [("Content-Type", "application/javascript")], (assets / path.rsplit("/", 1)[1]).read_bytes()
            )
        if path == "/_docs/swagger-ui.min.css":
            return Reply(200, [("Content-Type", "text/css")], (assets / path.rsplit("/", 1)[1]).read_bytes())
        if path in ("/_docs", "/_docs/") and self.docs:
            html = generate_swagger_html(
                self.docs.read_text(encoding="utf-8"),
                "/_docs/swagger-ui-bundle.min.js",
                "/_docs/swagger-ui.min.css",
                "/_docs",
                None,
                persist_authorization=True,
            )
            return Reply(200, [("Content-Type", "text/html; charset=utf-8")], html.encode("utf-8"))
        return Reply(HTTPStatus.NOT_FOUND, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
