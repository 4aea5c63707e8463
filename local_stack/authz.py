"""Every AWS call a function makes is authorized against that function's own role, as AWS would.

How (decided in docs/decisions.md, "IAM enforced locally"):
- the runner issues each function role (and each state-machine or scheduler role) its own access key;
  workers sign with it, so the emulator knows who calls;
- a WSGI layer in front of moto reads each signed request, turns it into the IAM action(s), resource
  ARN(s) and condition keys AWS would evaluate (``local_stack.describe``), and evaluates the role's policies from
  the template (``local_stack.iam``). A denied call gets the service's own AccessDenied reply, so the
  function's error path runs as in AWS; the runner prints one DENIED line;
- a call the layer cannot describe is refused and named, never let through: a permission we do not
  check is one that could fail in AWS;
- credentials the runner did not issue (the developer's CLI, the tests' checks, the runner itself)
  act as the account's administrator, as an operator's would.

Service invocations of functions (API Gateway, S3 notifications, EventBridge rules and schedules) are
checked against the function's resource policy (``AWS::Lambda::Permission``), by ``Invocations``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from local_stack.describe import Call, Describer
from local_stack.iam import Decision, Policy, Request, evaluate

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


# ---- who calls ----


@dataclass(frozen=True)
class Principal:
    name: str  # what the runner calls it (a function's display name, a state machine's name)
    role_arn: str
    policies: tuple[Policy, ...]

    @property
    def session_arn(self) -> str:
        account, role = self.role_arn.split(":")[4], self.role_arn.rsplit("/", 1)[-1]
        return f"arn:aws:sts::{account}:assumed-role/{role}/{self.name.replace('/', '-')}"


class Principals:
    """The credentials the runner issued, and the role each one acts as."""

    def __init__(self) -> None:
        self._by_key: dict[str, Principal] = {}
        self._keys_by_role: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def issue(self, name: str, role_arn: str, policies: Iterable[Policy]) -> dict[str, str]:
        """Environment credentials for ``role_arn`` (one key per role, stable for the run)."""
        with self._lock:
            if role_arn not in self._keys_by_role:
                key = "ASIA" + hashlib.sha256(role_arn.encode()).hexdigest()[:16].upper()
                self._by_key[key] = Principal(name, role_arn, tuple(policies))
                self._keys_by_role[role_arn] = {
                    "AWS_ACCESS_KEY_ID": key,
                    "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
                    "AWS_SESSION_TOKEN": secrets.token_urlsafe(60),
                }
            return dict(self._keys_by_role[role_arn])

    def by_access_key(self, key: str) -> Principal | None:
        return self._by_key.get(key)

    def credentials(self, role_arn: str) -> dict[str, str] | None:
        return self._keys_by_role.get(role_arn)

    def __len__(self) -> int:
        return len(self._by_key)


# ---- enforcement in front of the emulator ----

Denied = Callable[[Principal, Call, Request, Decision], None]


def access_key(environ: Mapping[str, Any]) -> tuple[str, str] | None:
    """(access key id, service) from a SigV4 Authorization header or a presigned URL."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1), match.group(3)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    credential = (query.get("X-Amz-Credential") or [""])[0]
    parts = credential.split("/")
    if len(parts) == 5:
        return parts[0], parts[3]
    return None


def _denial(
    call: Call, principal: Principal, request: Request | None, message: str
) -> tuple[str, list[tuple[str, str]], bytes]:
    request_id = secrets.token_hex(16)
    if call.service == "s3":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
            f"<Message>Access Denied</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        return "403 Forbidden", [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body
    if call.service == "lambda":
        body = json.dumps({"Type": "User", "Message": message}).encode()
        return (
            "403 Forbidden",
            [
                ("Content-Type", "application/json"),
                ("x-amzn-ErrorType", "AccessDeniedException"),
                ("x-amzn-RequestId", request_id),
            ],
            body,
        )
    body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
    return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)], body


def denial_message(principal: Principal, request: Request, decision: Decision) -> str:
    why = (
        "with an explicit deny in an identity-based policy"
        if decision.reason == "explicit deny"
        else (f"because no identity-based policy allows the {request.action} action")
    )
    return f"User: {principal.session_arn} is not authorized to perform: {request.action} on resource: {request.resource} {why}"


class Enforcer:
    """WSGI middleware: authorize, then hand the request to moto unchanged."""

    def __init__(
        self, app: Callable[..., Any], principals: Principals, describer: Describer, on_denied: Denied
    ) -> None:
        self.app, self.principals, self.describer, self.on_denied = app, principals, describer, on_denied
        self.checked = 0
        self.denied = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        found = access_key(environ)
        principal = self.principals.by_access_key(found[0]) if found else None
        if principal is None or found is None:
            return self.app(environ, start_response)  # the operator's credentials
        service = found[1]
        body = b""
        if service != "s3":  # S3 is described by its method, path, query and headers; bodies may stream
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        path = environ.get("PATH_INFO", "/") + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        call = self.describer.describe(service, environ["REQUEST_METHOD"], path, headers, body)
        self.checked += 1
        if call.problem:
            self.denied += 1
            refused = Request(f"{service}:{call.operation}", "?")
            self.on_denied(principal, call, refused, Decision(False, call.problem))
            status, reply_headers, reply = _denial(call, principal, refused, f"not authorized: {call.problem}")
            start_response(status, reply_headers)
            return [reply]
        context_extra = {
            "aws:PrincipalArn": [principal.role_arn],
            "aws:PrincipalAccount": [principal.role_arn.split(":")[4]],
        }
        for check in call.checks:
            check = Request(check.action, check.resource, {**check.context, **context_extra})
            decision = evaluate(principal.policies, check)
            if not decision.allowed:
                self.denied += 1
                self.on_denied(principal, call, check, decision)
                status, reply_headers, reply = _denial(
                    call, principal, check, denial_message(principal, check, decision)
                )
                start_response(status, reply_headers)
                return [reply]
        if call.list_bucket is not None:
            may_list = evaluate(principal.policies, call.list_bucket).allowed
            if not may_list:
                return self._hide_missing_keys(call, principal, environ, start_response)
        return self.app(environ, start_response)

    def _hide_missing_keys(
        self, call: Call, principal: Principal, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """S3 answers 403 AccessDenied, not 404 NoSuchKey, to a caller that may not list the bucket."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        chunks: Iterator[bytes] = iter(self.app(environ, capture))
        first = b"".join(chunks)
        if captured.get("status", "").startswith("404"):
            assert call.list_bucket is not None
            self.on_denied(
                principal, call, call.list_bucket, Decision(False, "missing key hidden: s3:ListBucket is not allowed")
            )
            status, reply_headers, reply = _denial(call, principal, call.list_bucket, "Access Denied")
            start_response(status, reply_headers)
            return [b"" if environ["REQUEST_METHOD"] == "HEAD" else reply]
        start_response(captured["status"], captured["headers"])
        return [first]


# ---- service principals invoking functions (resource policies) ----


@dataclass(frozen=True)
class Invocations:
    """Lambda resource policies (AWS::Lambda::Permission), by function ARN."""

    policies: Mapping[str, Policy]
    account: str

    def check(self, function_arn: str, service: str, source_arn: str) -> Decision:
        policy = self.policies.get(function_arn)
        if policy is None:
            return Decision(False, f"{function_arn} has no resource policy: no service may invoke it")
        request = Request(
            "lambda:InvokeFunction",
            function_arn,
            {"aws:SourceArn": [source_arn], "aws:SourceAccount": [self.account]},
            principal=service,
        )
        decision = evaluate([policy], request, resource_policy=True)
        if not decision.allowed:
            return Decision(False, f"no permission lets {service} invoke it from {source_arn}")
        return decision
