"""moto in server mode, with the three things the local stack needs from it:

- Step Functions really execute (``execute_state_machine``);
- DynamoDB requests are serialised: moto's conditional writes are not atomic under concurrent
  threads, and payments rely on them;
- Lambda invokes (Step Functions tasks, S3 notifications) and EventBridge rule targets that are
  Lambda functions are routed to our own workers. Both hooks replace moto internals, which is why
  moto is pinned and a test breaks when they stop working.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from typing import Any

# (function name, event) -> (payload text, errored, logs)
LambdaDispatcher = Callable[[str, Any], tuple[str, bool, str]]
# (function name, event): fire and forget
AsyncDispatcher = Callable[[str, Any], None]

DYNAMODB_LOCK = threading.Lock()
_TARGETS_LOCK = threading.Lock()


class MotoEmulator:
    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.host = host
        self.port = port

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        import logging

        from moto.core.config import default_user_config

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per emulated AWS call
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        _serialize_dynamodb()
        one_snapshot_per_transaction()
        enable_sync_executions()
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        os.environ["MOTO_PORT"] = str(self.port)  # moto's own Step Functions tasks call back here

    def stop(self) -> None:
        self._server.stop()


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


def async_s3_notifications() -> None:
    """S3 invokes notification targets asynchronously; moto does it inside the PUT request, which
    would hold an uploader's connection for the whole import. Deliver from a thread instead."""
    from moto.s3 import notifications

    if "s3" in _ORIGINALS:
        return
    original = _ORIGINALS["s3"] = notifications._invoke_awslambda

    def _invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        threading.Thread(target=original, args=(account_id, event_body, fn_arn, region_name), daemon=True).start()

    notifications._invoke_awslambda = _invoke_awslambda


def route_rule_targets(dispatch: AsyncDispatcher, function_name_of: Callable[[str], str | None]) -> None:
    """EventBridge rules with Lambda targets (moto matches the pattern, we deliver the event)."""
    from moto.events.models import Rule
    from moto.utilities.arns import parse_arn

    _ORIGINALS.setdefault("events", Rule.send_to_targets)
    original = _ORIGINALS["events"]

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        lambdas = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
        if lambdas and self.event_pattern.matches_event(original_event):
            for target in lambdas:
                name = function_name_of(target["Arn"])
                if name:
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
        "s3": notifications._invoke_awslambda.__qualname__.startswith("async_s3_notifications"),
        "sync": hasattr(StepFunctionResponse, "start_sync_execution"),
        "lambda": LambdaFunction._invoke_lambda.__qualname__.startswith("route_lambda_invokes"),
        "events": Rule.send_to_targets.__qualname__.startswith("route_rule_targets"),
        "dynamodb": DynamoHandler.call_action.__qualname__.startswith("_serialize_dynamodb"),
    }
