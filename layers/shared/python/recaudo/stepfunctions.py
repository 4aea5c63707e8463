"""Run an Express state machine synchronously (StartSyncExecution) and read its outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FlowOutcome:
    status: str  # SUCCEEDED | FAILED | TIMED_OUT, or DESCONOCIDO: our wait ran out first
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    billed_ms: int | None = None


class SyncStateMachine:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def run(self, name: str, payload: dict[str, Any]) -> FlowOutcome:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import ReadTimeoutError

        try:
            response = self._client.start_sync_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps(payload)
            )
        except (ReadTimeoutError, BotoConnectionError) as exc:  # it may be running: the caller checks the ledger
            return FlowOutcome(status="DESCONOCIDO", output=None, error=type(exc).__name__, cause=str(exc)[:200])
        output = response.get("output")
        billing = response.get("billingDetails") or {}
        return FlowOutcome(
            status=response["status"],
            output=json.loads(output) if output else None,
            error=response.get("error"),
            cause=response.get("cause"),
            billed_ms=billing.get("billedDurationInMilliseconds"),
        )
