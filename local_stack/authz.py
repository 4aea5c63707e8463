"""Every AWS call a function makes is authorized against that function's own role, as AWS would.

How (decided in docs/decisions.md, "IAM enforced locally"):
- the runner issues each function role (and each state-machine or scheduler role) its own access key;
  workers sign with it, so the emulator knows who calls;
- a WSGI layer in front of moto reads each signed request, turns it into the IAM action(s), resource
  ARN(s) and condition keys AWS would evaluate (``describe``), and evaluates the role's policies from
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from local_stack.iam import Context, Decision, Policy, Request, evaluate

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_TARGET = re.compile(r"^[A-Za-z0-9_]+\.([A-Za-z0-9]+)$")
_LAMBDA_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


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


# ---- what a request asks for ----


class Lookup(Protocol):
    """What describing a request needs to know about the account's resources."""

    def hash_key(self, table_name: str) -> str | None: ...
    def secret_arn(self, secret_id: str) -> str | None: ...
    def kms_key_arn(self, key_id: str) -> str | None: ...
    def kms_key_of_ciphertext(self, blob_b64: str) -> str | None: ...


@dataclass
class Call:
    """One AWS API call as IAM sees it: every check must be allowed."""

    service: str
    operation: str
    checks: list[Request] = field(default_factory=list)
    problem: str | None = None  # set when the call cannot be described: it is refused
    # S3 GetObject/HeadObject: a missing key answers 404 only if s3:ListBucket is allowed (else 403)
    list_bucket: Request | None = None


class Describer:
    def __init__(self, region: str, account: str, lookup: Lookup) -> None:
        self.region, self.account, self.lookup = region, account, lookup

    def describe(self, service: str, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> Call:
        url = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        target = headers.get("x-amz-target", "")
        describe = getattr(self, f"_{service}", None)
        if describe is None:
            return Call(service, target or method, problem=f"the local stack does not authorize {service} calls yet")
        try:
            call: Call = describe(method, unquote(url.path), query, headers, body, target)
        except (ValueError, KeyError, TypeError) as exc:
            return Call(service, target or method, problem=f"could not read the request: {exc}")
        return call

    # ---- helpers ----

    def _json(self, body: bytes) -> dict[str, Any]:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("the body is not a JSON object")
        return data

    def _operation(self, target: str) -> str:
        match = _TARGET.match(target)
        if not match:
            raise ValueError(f"no operation in X-Amz-Target {target!r}")
        return match.group(1)

    def _context(self, extra: Context | None = None) -> dict[str, list[str]]:
        context = {
            # Functions reach AWS over TLS; the emulator's plain HTTP is a local detail.
            "aws:SecureTransport": ["true"],
            "aws:RequestedRegion": [self.region],
            "aws:CurrentTime": [datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        }
        context.update({k: list(v) for k, v in (extra or {}).items()})
        return context

    # ---- DynamoDB ----

    def _table_arn(self, name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    def _leading(self, table: str, item: Mapping[str, Any] | None) -> dict[str, list[str]]:
        hash_key = self.lookup.hash_key(table.rsplit("/", 1)[-1])
        if not hash_key or not item or hash_key not in item:
            return {}
        value = next(iter(item[hash_key].values()))
        return {"dynamodb:LeadingKeys": [str(value)]}

    def _query_leading(self, request: Mapping[str, Any]) -> dict[str, list[str]]:
        hash_key = self.lookup.hash_key(str(request.get("TableName", "")).rsplit("/", 1)[-1])
        expression = request.get("KeyConditionExpression") or ""
        names = request.get("ExpressionAttributeNames") or {}
        values = request.get("ExpressionAttributeValues") or {}
        for left, right in re.findall(r"([#\w.]+)\s*=\s*(:[\w]+)", expression):
            if names.get(left, left) == hash_key and right in values:
                return {"dynamodb:LeadingKeys": [str(next(iter(values[right].values())))]}
        return {}

    def _dynamodb(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes, target: str
    ) -> Call:
        op = self._operation(target)
        request = self._json(body)
        call = Call("dynamodb", op)

        def check(action: str, table: str, index: str | None = None, context: Context | None = None) -> None:
            call.checks.append(Request(f"dynamodb:{action}", self._table_arn(table, index), self._context(context)))

        if op == "TransactWriteItems":
            kinds = {
                "Put": "PutItem",
                "Update": "UpdateItem",
                "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem",
            }
            for entry in request["TransactItems"]:
                ((kind, item),) = entry.items()
                key = item.get("Item") if kind == "Put" else item.get("Key")
                check(kinds[kind], item["TableName"], context=self._leading(item["TableName"], key))
        elif op == "TransactGetItems":
            for entry in request["TransactItems"]:
                item = entry["Get"]
                check("GetItem", item["TableName"], context=self._leading(item["TableName"], item.get("Key")))
        elif op == "BatchWriteItem":
            for table, writes in request["RequestItems"].items():
                keys = [next(iter(w.values())).get("Item") or next(iter(w.values())).get("Key") for w in writes]
                leading = sorted({v for k in keys for v in self._leading(table, k).get("dynamodb:LeadingKeys", [])})
                check("BatchWriteItem", table, context={"dynamodb:LeadingKeys": leading} if leading else None)
        elif op == "BatchGetItem":
            for table, spec in request["RequestItems"].items():
                leading = sorted(
                    {v for k in spec["Keys"] for v in self._leading(table, k).get("dynamodb:LeadingKeys", [])}
                )
                check("BatchGetItem", table, context={"dynamodb:LeadingKeys": leading} if leading else None)
        elif op in ("GetItem", "DeleteItem", "UpdateItem"):
            check(op, request["TableName"], context=self._leading(request["TableName"], request.get("Key")))
        elif op == "PutItem":
            check(op, request["TableName"], context=self._leading(request["TableName"], request.get("Item")))
        elif op == "Query":
            check(op, request["TableName"], request.get("IndexName"), self._query_leading(request))
        elif op == "Scan":
            check(op, request["TableName"], request.get("IndexName"))
        elif op in (
            "DescribeTable",
            "DescribeTimeToLive",
            "UpdateTimeToLive",
            "CreateTable",
            "DeleteTable",
            "UpdateTable",
        ):
            check(op, request["TableName"])
        elif op in ("ListTables", "DescribeLimits", "DescribeEndpoints"):
            call.checks.append(Request(f"dynamodb:{op}", "*", self._context()))
        else:
            call.problem = f"dynamodb:{op} is not described by the local stack's authorizer"
        return call

    # ---- S3 (REST) ----

    def _s3(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes, target: str
    ) -> Call:
        bucket, _, key = path.lstrip("/").partition("/")
        host = headers.get("host", "").split(":")[0]
        if host and not re.match(r"^[\d.]+$|^localhost$", host) and host.endswith(".localhost"):
            bucket, key = host.removesuffix(".localhost"), path.lstrip("/")  # virtual-hosted style
        if not bucket:
            return Call("s3", "ListBuckets", [Request("s3:ListAllMyBuckets", "*", self._context())])
        bucket_arn = f"arn:aws:s3:::{bucket}"
        object_arn = f"{bucket_arn}/{key}"
        version = "versionId" in query
        call = Call("s3", f"{method} {'object' if key else 'bucket'}")

        def check(action: str, resource: str, context: Context | None = None) -> None:
            call.checks.append(Request(f"s3:{action}", resource, self._context(context)))

        if key:
            if method in ("GET", "HEAD"):
                if "tagging" in query:
                    check("GetObjectVersionTagging" if version else "GetObjectTagging", object_arn)
                elif "acl" in query:
                    check("GetObjectVersionAcl" if version else "GetObjectAcl", object_arn)
                elif "uploadId" in query:
                    check("ListMultipartUploadParts", object_arn)
                else:
                    check("GetObjectVersion" if version else "GetObject", object_arn)
                    call.list_bucket = Request("s3:ListBucket", bucket_arn, self._context())
            elif method == "PUT":
                if "tagging" in query:
                    check("PutObjectVersionTagging" if version else "PutObjectTagging", object_arn)
                elif "acl" in query:
                    check("PutObjectVersionAcl" if version else "PutObjectAcl", object_arn)
                else:
                    check("PutObject", object_arn)
                    source = headers.get("x-amz-copy-source")
                    if source:
                        source_path, _, source_query = unquote(source).partition("?")
                        action = "GetObjectVersion" if "versionId=" in source_query else "GetObject"
                        check(action, f"arn:aws:s3:::{source_path.lstrip('/')}")
            elif method == "POST":
                check("PutObject", object_arn)  # multipart create/complete
            elif method == "DELETE":
                if "uploadId" in query:
                    check("AbortMultipartUpload", object_arn)
                elif "tagging" in query:
                    check("DeleteObjectVersionTagging" if version else "DeleteObjectTagging", object_arn)
                else:
                    check("DeleteObjectVersion" if version else "DeleteObject", object_arn)
            else:
                call.problem = f"S3 {method} on an object is not described by the local stack's authorizer"
            return call
        if method == "GET" and "versions" in query:
            check("ListBucketVersions", bucket_arn, self._list_context(query))
        elif method == "GET" and "uploads" in query:
            check("ListBucketMultipartUploads", bucket_arn)
        elif method in ("GET", "HEAD") and not (
            set(query)
            - {
                "list-type",
                "prefix",
                "delimiter",
                "max-keys",
                "continuation-token",
                "start-after",
                "encoding-type",
                "fetch-owner",
                "marker",
            }
        ):
            check("ListBucket", bucket_arn, self._list_context(query))
        elif method == "POST" and "delete" in query:
            # DeleteObjects: S3 checks s3:DeleteObject per key; the keys are in the XML body
            for object_key in re.findall(rb"<Key>(.*?)</Key>", body):
                check("DeleteObject", f"{bucket_arn}/{object_key.decode()}")
        else:
            call.problem = (
                f"S3 bucket operation {method} ?{'&'.join(query)} is not described by the local stack's authorizer"
            )
        return call

    @staticmethod
    def _list_context(query: dict[str, str]) -> dict[str, list[str]]:
        context = {"s3:prefix": [query.get("prefix", "")]}
        if "delimiter" in query:
            context["s3:delimiter"] = [query["delimiter"]]
        if "max-keys" in query:
            context["s3:max-keys"] = [query["max-keys"]]
        return context

    # ---- Step Functions, EventBridge, Lambda, STS ----

    def _states(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes, target: str
    ) -> Call:
        op = self._operation(target)
        request = self._json(body)
        resource = request.get("stateMachineArn") or request.get("executionArn")
        if (
            op
            in (
                "StartExecution",
                "StartSyncExecution",
                "DescribeStateMachine",
                "ListExecutions",
                "DescribeExecution",
                "StopExecution",
                "GetExecutionHistory",
                "DescribeStateMachineForExecution",
            )
            and resource
        ):
            return Call("states", op, [Request(f"states:{op}", resource, self._context())])
        if op in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "ListStateMachines"):
            return Call("states", op, [Request(f"states:{op}", "*", self._context())])
        return Call("states", op, problem=f"states:{op} is not described by the local stack's authorizer")

    def _events(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes, target: str
    ) -> Call:
        op = self._operation(target)
        request = self._json(body)
        if op != "PutEvents":
            return Call("events", op, problem=f"events:{op} is not described by the local stack's authorizer")
        call = Call("events", op)
        for entry in request.get("Entries") or []:
            bus = entry.get("EventBusName") or "default"
            arn = bus if bus.startswith("arn:") else f"arn:aws:events:{self.region}:{self.account}:event-bus/{bus}"
            context = {
                "events:source": [str(entry.get("Source", ""))],
                "events:detail-type": [str(entry.get("DetailType", ""))],
            }
            call.checks.append(Request("events:PutEvents", arn, self._context(context)))
        return call

    def _lambda(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes, target: str
    ) -> Call:
        match = _LAMBDA_INVOKE.match(path)
        if method != "POST" or not match:
            return Call(
                "lambda",
                f"{method} {path}",
                problem="only lambda:InvokeFunction is described by the local stack's authorizer",
            )
        name = match.group(1)
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
        if query.get("Qualifier"):
            arn = f"{arn}:{query['Qualifier']}"
        return Call("lambda", "Invoke", [Request("lambda:InvokeFunction", arn, self._context())])

    def _sts(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes, target: str
    ) -> Call:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        action = form.get("Action") or query.get("Action")
        if action == "GetCallerIdentity":
            return Call("sts", action)  # needs no permission
        return Call("sts", str(action), problem=f"sts:{action} is not described by the local stack's authorizer")

    # ---- KMS and Secrets Manager ----

    def _kms(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes, target: str
    ) -> Call:
        op = self._operation(target)
        request = self._json(body)
        key_id = request.get("KeyId") or request.get("DestinationKeyId")
        if op in ("Decrypt", "ReEncrypt") and not key_id and request.get("CiphertextBlob"):
            key_id = self.lookup.kms_key_of_ciphertext(
                request.get("CiphertextBlob") or request.get("SourceCiphertextBlob") or ""
            )
        arn = self.lookup.kms_key_arn(key_id) if key_id else None
        if not arn:
            return Call("kms", op, problem=f"kms:{op}: unknown key {key_id!r}")
        context = {f"kms:EncryptionContext:{k}": [str(v)] for k, v in (request.get("EncryptionContext") or {}).items()}
        if request.get("EncryptionContext"):
            context["kms:EncryptionContextKeys"] = sorted(request["EncryptionContext"])
        return Call("kms", op, [Request(f"kms:{op}", arn, self._context(context))])

    def _secretsmanager(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes, target: str
    ) -> Call:
        op = self._operation(target)
        request = self._json(body)
        secret_id = request.get("SecretId")
        arn = self.lookup.secret_arn(secret_id) if secret_id else None
        if not arn:
            return Call("secretsmanager", op, problem=f"secretsmanager:{op}: unknown secret {secret_id!r}")
        context = {"secretsmanager:SecretId": [arn]}
        return Call("secretsmanager", op, [Request(f"secretsmanager:{op}", arn, self._context(context))])


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
