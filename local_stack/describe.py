"""What an AWS request asks IAM for: its action(s), resource ARN(s) and condition keys, read from
the signed HTTP request as the service would authorize it (a transaction is one check per item, a
query on an index is the index's ARN, S3 keys and versions map to their own actions, …).

A request this module cannot describe is reported as a ``problem``: the enforcer refuses it, naming
the operation, rather than letting through a call whose permission it did not check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from local_stack.iam import Context, Request

_TARGET = re.compile(r"^[A-Za-z0-9_]+\.([A-Za-z0-9]+)$")
_LAMBDA_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


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
