"""moto in server mode, with what the local stack needs from it:

- every AWS call a function makes is authorized against its own role (``local_stack.authz``, a WSGI
  layer in front of moto); Step Functions tasks are signed with the state machine's role;
- Step Functions really execute (``execute_state_machine``);
- DynamoDB requests are serialised: moto's conditional writes are not atomic under concurrent
  threads, and payments rely on them;
- Lambda invokes (Step Functions tasks, S3 notifications) and EventBridge rule targets that are
  Lambda functions are routed to our own workers, once the function's resource policy lets S3 or
  EventBridge invoke it. The hooks replace moto internals, which is why moto is pinned and a test
  breaks when they stop working.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from local_stack.authz import Denied, Enforcer, Principals
from local_stack.describe import Describer

# (function name, event) -> (payload text, errored, logs)
LambdaDispatcher = Callable[[str, Any], tuple[str, bool, str]]
# (function name, event): fire and forget
AsyncDispatcher = Callable[[str, Any], Any]
# (function ARN, service principal, source ARN) -> may that service invoke the function from there
InvokeGuard = Callable[[str, str, str], bool]

DYNAMODB_LOCK = threading.Lock()
_TARGETS_LOCK = threading.Lock()


class MotoEmulator:
    """moto's backends behind one werkzeug server, with the IAM enforcer in front of them.

    The server is built here (moto's own ``ThreadedMotoServer`` builds the same app) so the enforcer
    can sit between the socket and moto as a plain WSGI layer, not as a patch of moto's internals.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        principals: Principals | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        on_denied: Denied | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.principals = principals if principals is not None else Principals()
        self.region, self.account = region, account
        self._on_denied = on_denied or (lambda *_: None)
        self._server: Any = None
        self.enforcer: Enforcer | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        import logging

        from moto.core.config import default_user_config
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per emulated AWS call
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        _serialize_dynamodb()
        one_snapshot_per_transaction()
        enable_sync_executions()
        sign_state_machine_calls(self.principals.credentials)
        describer = Describer(self.region, self.account, MotoLookup(self.account, self.region))
        self.enforcer = Enforcer(
            DomainDispatcherApplication(create_backend_app), self.principals, describer, self._on_denied
        )
        self._server = make_server(self.host, self.port, self.enforcer, True, request_handler=MotoRequestHandler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="moto").start()
        self.host, self.port = self._server.server_address[:2]
        os.environ["MOTO_PORT"] = str(self.port)  # moto's own Step Functions tasks call back here

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class MotoLookup:
    """What the authorizer needs to know about resources, read from moto's backends."""

    def __init__(self, account: str, region: str) -> None:
        self.account, self.region = account, region

    def hash_key(self, table_name: str) -> str | None:
        from moto.dynamodb.models import dynamodb_backends

        try:
            table = dynamodb_backends[self.account][self.region].get_table(table_name)
        except Exception:  # noqa: BLE001 - an unknown table: moto answers ResourceNotFound itself
            return None
        return str(table.hash_key_attr)

    def secret_arn(self, secret_id: str) -> str | None:
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[self.account][self.region]
        try:
            return str(backend.describe_secret(secret_id).arn)
        except Exception:  # noqa: BLE001 - unknown secret: refused as undescribable
            return None

    def kms_key_arn(self, key_id: str) -> str | None:
        from moto.kms.models import kms_backends

        backend = kms_backends[self.account][self.region]
        try:
            return str(backend.describe_key(backend.get_key_id(key_id)).arn)
        except Exception:  # noqa: BLE001 - unknown key: refused as undescribable
            return None

    def kms_key_of_ciphertext(self, blob_b64: str) -> str | None:
        import base64

        from moto.kms.utils import _deserialize_ciphertext_blob

        try:
            return str(_deserialize_ciphertext_blob(base64.b64decode(blob_b64)).key_id)
        except Exception:  # noqa: BLE001 - not one of moto's ciphertexts
            return None


_ORIGINALS: dict[str, Any] = {}


def _serialize_dynamodb() -> None:
    from moto.dynamodb.responses import DynamoHandler

    if "dynamodb" in _ORIGINALS:
        return
    original = _ORIGINALS["dynamodb"] = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with DYNAMODB_LOCK:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def enable_sync_executions(timeout_seconds: float = 300.0) -> None:
    """StartSyncExecution for Express state machines: moto's interpreter runs the definition; this
    waits for it and answers with the sync output (moto's response layer lacks the action)."""
    import time
    import uuid

    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def start_sync_execution(self: Any) -> Any:
        arn = self._get_param("stateMachineArn")
        name = self._get_param("name") or str(uuid.uuid4())
        execution_input = self._get_param("input", if_none="{}")
        execution = self.stepfunction_backend.start_execution(arn, name, execution_input)
        deadline = time.monotonic() + timeout_seconds
        while str(getattr(execution.exec_status, "value", execution.exec_status)) == "RUNNING":
            if time.monotonic() > deadline:
                break
            time.sleep(0.002)
        status = str(getattr(execution.exec_status, "value", execution.exec_status))
        response: dict[str, Any] = {
            "executionArn": execution.exec_arn,
            "stateMachineArn": arn,
            "name": name,
            "startDate": execution.start_date,
            "stopDate": execution.stop_date or execution.start_date,
            "status": {"RUNNING": "TIMED_OUT", "ABORTED": "FAILED"}.get(status, status),
            "input": execution_input,
            "billingDetails": {"billedDurationInMilliseconds": 0, "billedMemoryUsedInMB": 64},
        }
        if execution.output is not None:
            response["output"] = execution.output if isinstance(execution.output, str) else json.dumps(execution.output)
        if execution.error is not None:
            response["error"] = execution.error
        if execution.cause is not None:
            response["cause"] = execution.cause
        return ActionResult(response)

    StepFunctionResponse.start_sync_execution = start_sync_execution  # type: ignore[attr-defined]


def route_lambda_invokes(dispatch: LambdaDispatcher) -> None:
    """moto's ``LambdaFunction._invoke_lambda`` (Docker) -> our worker of that function."""
    from moto.awslambda.models import LambdaFunction

    _ORIGINALS.setdefault("lambda", LambdaFunction._invoke_lambda)

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        payload = event if event is not None else {}
        if isinstance(payload, str | bytes):
            payload = json.loads(payload or "{}")
        return dispatch(self.function_name, payload)

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]


def one_snapshot_per_transaction() -> None:
    """moto's TransactWriteItems deep-copies the whole table once per *action* for its rollback
    snapshot (all taken before any write, so identical): 100 full copies per call, which makes a
    1,000-row collections import take minutes. Take it once per table per call. Only the emulator's
    speed changes; calls are serialised by the DynamoDB lock, so the per-call cache is not shared."""
    import copy

    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    if "transact" in _ORIGINALS:
        return
    original = _ORIGINALS["transact"] = models.DynamoDBBackend.transact_write_items

    class _Copy:
        snapshots: dict[int, Any] | None = None

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        def deepcopy(self, x: Any, memo: Any = None) -> Any:
            if self.snapshots is None or not isinstance(x, Table):
                return copy.deepcopy(x, memo)
            if id(x) not in self.snapshots:
                self.snapshots[id(x)] = copy.deepcopy(x)
            return self.snapshots[id(x)]

    shim = _Copy()

    def transact_write_items(self: Any, transact_items: Any) -> Any:
        shim.snapshots = {}
        try:
            return original(self, transact_items)
        finally:
            shim.snapshots = None

    models.copy = shim  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def async_s3_notifications(guard: InvokeGuard) -> None:
    """S3 invokes notification targets asynchronously; moto does it inside the PUT request, which
    would hold an uploader's connection for the whole import. Deliver from a thread instead, and only
    if the function's resource policy lets s3.amazonaws.com invoke it for this bucket."""
    from moto.s3 import notifications

    original = _ORIGINALS.setdefault("s3", notifications._invoke_awslambda)

    def _invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        records = (event_body or {}).get("Records") or [{}]
        bucket_arn = records[0].get("s3", {}).get("bucket", {}).get("arn", "")
        if guard(fn_arn, "s3.amazonaws.com", bucket_arn):
            threading.Thread(target=original, args=(account_id, event_body, fn_arn, region_name), daemon=True).start()

    notifications._invoke_awslambda = _invoke_awslambda


def route_rule_targets(
    dispatch: AsyncDispatcher, function_name_of: Callable[[str], str | None], guard: InvokeGuard
) -> None:
    """EventBridge rules with Lambda targets (moto matches the pattern, we deliver the event if the
    function's resource policy lets events.amazonaws.com invoke it for this rule)."""
    from moto.events.models import Rule
    from moto.utilities.arns import parse_arn

    _ORIGINALS.setdefault("events", Rule.send_to_targets)
    original = _ORIGINALS["events"]

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        lambdas = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
        if lambdas and self.event_pattern.matches_event(original_event):
            for target in lambdas:
                name = function_name_of(target["Arn"])
                if name and guard(target["Arn"], "events.amazonaws.com", self.arn):
                    event = json.loads(target["Input"]) if target.get("Input") else original_event
                    threading.Thread(target=dispatch, args=(name, event), daemon=True).start()
        others = [t for t in self.targets if t not in lambdas]
        if others:  # moto delivers the rest itself (it raises NotImplementedError on Lambda targets)
            with _TARGETS_LOCK:
                saved, self.targets = self.targets, others
                try:
                    original(self, original_event, transform_input)
                finally:
                    self.targets = saved

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


def sign_state_machine_calls(credentials_for: Callable[[str], dict[str, str] | None]) -> None:
    """moto's Step Functions interpreter calls Lambda (and SDK integrations) through the emulator with
    fixed dummy keys. Sign them with the state machine's own role instead, so its task invocations are
    authorized against that role, as in AWS. Clients are kept per (service, region, role)."""
    import boto3
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import boto_client

    if "sfn" in _ORIGINALS:
        return
    original = _ORIGINALS["sfn"] = boto_client.boto_client_for
    clients: dict[tuple[str, str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        role_arn = getattr(state_credentials, "role_arn", None)
        credentials = credentials_for(role_arn) if role_arn else None
        if credentials is None:
            return original(region, service, state_credentials)
        with lock:
            key = (service, region, role_arn or "")
            if key not in clients:
                template = original(region, service, state_credentials)
                clients[key] = boto3.session.Session().client(
                    service,
                    region_name=region,
                    endpoint_url=template.meta.endpoint_url,
                    aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                    aws_session_token=credentials["AWS_SESSION_TOKEN"],
                    config=template.meta.config,
                )
            return clients[key]

    boto_client.boto_client_for = boto_client_for
    for module in list(sys.modules.values()):  # every module that imported it by name
        name = getattr(module, "__name__", "")
        if name.startswith("moto.stepfunctions") and getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]
    assert lambda_eval_utils.boto_client_for is boto_client_for


def hooks_installed() -> dict[str, bool]:
    """Whether moto's internals still carry our hooks (checked by a test on every moto upgrade)."""
    import moto.dynamodb.models as models
    from moto.awslambda.models import LambdaFunction
    from moto.dynamodb.responses import DynamoHandler
    from moto.events.models import Rule
    from moto.s3 import notifications
    from moto.stepfunctions.responses import StepFunctionResponse

    return {
        "transact": models.DynamoDBBackend.transact_write_items.__qualname__.startswith("one_snapshot_per_transaction"),
        "s3": getattr(notifications._invoke_awslambda, "__qualname__", "").startswith("async_s3_notifications"),
        "sync": hasattr(StepFunctionResponse, "start_sync_execution"),
        "lambda": LambdaFunction._invoke_lambda.__qualname__.startswith("route_lambda_invokes"),
        "events": Rule.send_to_targets.__qualname__.startswith("route_rule_targets"),
        "dynamodb": getattr(DynamoHandler.call_action, "__qualname__", "").startswith("_serialize_dynamodb"),
        "sfn": _sfn_signed(),
    }


def _sfn_signed() -> bool:
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_eval_utils

    return getattr(lambda_eval_utils.boto_client_for, "__qualname__", "").startswith("sign_state_machine_calls")
