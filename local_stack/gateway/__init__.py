"""API Gateway (REST, v1 proxy) emulated from the template.

- ``apis``: what the template declares (resources, methods, authorizers, validators, replies, base
  path mappings);
- ``waf``: the web ACL on a stage (its body-size rules);
- ``events``: the proxy event a request becomes;
- ``authorizers``: Lambda authorizers, their cache and their policies;
- ``replies``: the gateway's own replies and the integration's;
- ``docs``: Swagger UI;
- here: the HTTP server and the order API Gateway applies them in, with the function's resource
  policy checked before every invocation (a function API Gateway may not invoke answers 500).

One port serves every stage at ``/<stage>/…`` and every custom domain's base path mapping at
``/<base path>/…`` (an empty base path: the root, as ``https://<domain>/…``); stages come first, and
the start-up refuses a mapping a stage would shadow.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local_stack.authz import Invocations
from local_stack.gateway.apis import BasePathMapping, RestApi, Route, check_mappings, load_apis, load_mappings
from local_stack.gateway.authorizers import authorize
from local_stack.gateway.docs import docs_reply
from local_stack.gateway.events import has_param, proxy_event
from local_stack.gateway.replies import Reply, gateway_reply, integration_reply
from local_stack.workers import WorkerPool

__all__ = ["Gateway", "Reply", "load_apis", "load_mappings"]

# API Gateway's payload limit, and Lambda's for a synchronous invocation's event.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_LAMBDA_EVENT_BYTES = 6 * 1024 * 1024

RequestLog = Callable[[str, str, int, float, str | None], None]


class Gateway:
    def __init__(
        self,
        apis: list[RestApi],
        pool: WorkerPool,
        region: str,
        account: str,
        docs: Path | None = None,
        invocations: Invocations | None = None,
        on_request: RequestLog | None = None,
        on_denied: Callable[[str], None] | None = None,
        on_schedule: Callable[[str], dict[str, Any] | None] | None = None,
        mappings: list[BasePathMapping] | None = None,
    ):
        check_mappings(apis, mappings or [])
        self.apis = {a.stage: a for a in apis}
        self.mappings = {m.base_path: m for m in mappings or []}
        self.pool = pool
        self.region = region
        self.account = account
        self.docs = docs
        self.invocations = invocations
        self.on_request = on_request
        self.on_denied = on_denied or (lambda _text: None)
        self.on_schedule = on_schedule
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
                started = time.monotonic()
                body = self._body()
                function: str | None = None
                try:
                    reply, function = gateway.handle(
                        self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                    )
                except Exception:  # noqa: BLE001 - the runner's own fault: say so, never drop the connection
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
                if gateway.on_request is not None:  # the path only: query strings may carry secrets
                    millis = (time.monotonic() - started) * 1000
                    gateway.on_request(self.command, urlsplit(self.path).path, reply.status, millis, function)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # socketserver's default listen backlog is 5: bursts of concurrent clients get resets
            request_queue_size = 256

        self._server = Server((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="gateway").start()
        address = self._server.server_address
        return str(address[0]), int(address[1])

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def _run_schedule(self, method: str, path: str) -> Reply:
        """``POST /_schedules/<name>/run``: the schedule's target is invoked now, as the schedule would
        (same event shape, same permission check); the reply is the target's own result."""
        match = re.fullmatch(r"/_schedules/([A-Za-z0-9_.-]{1,64})/run", path)
        headers = [("Content-Type", "application/json")]
        if match is None or method != "POST":
            return Reply(404, headers, b'{"message":"POST /_schedules/<name>/run"}')
        result = self.on_schedule(match.group(1)) if self.on_schedule else None
        if result is None:
            return Reply(404, headers, json.dumps({"message": f"no schedule named {match.group(1)}"}).encode())
        return Reply(200 if result.get("ok") else 502, headers, json.dumps(result, ensure_ascii=False).encode())

    # ---- request handling, in API Gateway's order ----

    def handle(
        self, method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> tuple[Reply, str | None]:
        """The reply, and the display name of the function that served it (None: the gateway did)."""
        url = urlsplit(raw_path)
        if url.path.startswith("/_docs"):
            return docs_reply(url.path, self.docs), None
        if url.path == "/_stats":  # local only: every function's invocation durations
            return self._stats(), None
        if url.path.startswith("/_schedules/"):  # local only: fire a schedule now
            return self._run_schedule(method, url.path), None
        found = self._api_of(url.path)
        if found is None:
            return Reply(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}'), None
        api, path, mapping = found
        request_id = str(uuid.uuid4())
        if api.web_acl is not None and (blocked := api.web_acl.inspect(body)) is not None:  # WAF, before all
            if blocked.status is None:
                return gateway_reply(api, "WAF_FILTERED", request_id), None
            waf_headers = [("Content-Type", blocked.content_type), ("x-amzn-RequestId", request_id)]
            return Reply(blocked.status, [*waf_headers, *blocked.headers], blocked.body), None
        route, params = self._match(api, method, path)
        if route is None:
            return gateway_reply(api, "MISSING_AUTHENTICATION_TOKEN", request_id), None
        if len(body) > MAX_REQUEST_BYTES:
            return gateway_reply(api, "REQUEST_TOO_LARGE", request_id), None
        event = proxy_event(
            api,
            route,
            method,
            path,
            params,
            headers,
            url.query,
            body,
            source_ip,
            request_id,
            self.account,
            domain=mapping.domain if mapping else None,
            base_path=mapping.base_path if mapping else "",
        )

        missing = [p for p in route.required_params if not has_param(event, p)]
        if missing:
            message = f"Missing required request parameters: {missing}"
            return gateway_reply(api, "BAD_REQUEST_PARAMETERS", request_id, message), None

        method_arn = self.method_arn(api, method, path)
        usage_key: str | None = None
        if route.authorizer is not None:

            def may_invoke(function_arn: str, authorizer_id: str) -> bool:
                source = f"arn:aws:execute-api:{self.region}:{self.account}:{api.api_id}/authorizers/{authorizer_id}"
                return self._may_invoke(function_arn, source)

            outcome = authorize(api, route, event, method_arn, self.pool, may_invoke)
            if outcome.response_type is not None:
                return gateway_reply(api, outcome.response_type, request_id), None
            event["requestContext"]["authorizer"] = outcome.context
            usage_key = outcome.usage_key
        if route.api_key_required:  # after the authorizer, which may be the key's source
            if api.api_key_source == "AUTHORIZER":
                api_key = usage_key
            else:
                api_key = next((v for k, v in headers if k.lower() == "x-api-key"), None)
            # keys and usage plans live in API Gateway, not in the template: any key passes here
            if not api_key:
                return gateway_reply(api, "INVALID_API_KEY", request_id), None
            event["requestContext"]["identity"]["apiKey"] = api_key

        worker = self.pool.by_arn(route.function_arn)
        if worker is None:
            return gateway_reply(api, "API_CONFIGURATION_ERROR", request_id), None
        if not self._may_invoke(route.function_arn, method_arn):
            return gateway_reply(api, "API_CONFIGURATION_ERROR", request_id), worker.spec.display_name
        if len(json.dumps(event)) > MAX_LAMBDA_EVENT_BYTES:  # Lambda refuses it (RequestEntityTooLarge)
            reply = gateway_reply(api, "INTEGRATION_FAILURE", request_id, "Lambda request payload too large")
            return reply, worker.spec.display_name
        result = worker.invoke(event)
        return integration_reply(api, result, request_id), worker.spec.display_name

    def _api_of(self, raw_path: str) -> tuple[RestApi, str, BasePathMapping | None] | None:
        """The API a path reaches, the path within it, and the mapping it came through (None: the
        stage's own URL, ``/<stage>/…``)."""
        first, _, rest = raw_path.lstrip("/").partition("/")
        if first in self.apis:
            return self.apis[first], "/" + rest, None
        if first and first in self.mappings:
            return self.mappings[first].api, "/" + rest, self.mappings[first]
        if "" in self.mappings:
            return self.mappings[""].api, raw_path, self.mappings[""]
        return None

    def _may_invoke(self, function_arn: str, source_arn: str) -> bool:
        if self.invocations is None:
            return True
        decision = self.invocations.check(function_arn, "apigateway.amazonaws.com", source_arn)
        if not decision.allowed:
            self.on_denied(f"apigateway.amazonaws.com -> {function_arn.rsplit(':', 1)[-1]}: {decision.reason}")
        return decision.allowed

    def _match(self, api: RestApi, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in api.routes:
            match = route.pattern.match(path)
            if match and route.http_method in (method, "ANY"):
                return route, match.groupdict()
        return None, {}

    def method_arn(self, api: RestApi, method: str, path: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account}:{api.api_id}/{api.stage}/{method}{path}"

    def _stats(self) -> Reply:
        stats = {
            pool.spec.display_name: {"instances": len(pool.instances), "durationsMs": list(pool.durations_ms)}
            for pool in self.pool.workers.values()
        }
        return Reply(200, [("Content-Type", "application/json")], json.dumps(stats).encode())
