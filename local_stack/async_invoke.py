"""Lambda's asynchronous invocation, as the local stack runs it for S3 notifications.

S3 invokes its notification targets asynchronously. Lambda queues the event, runs the function, and
when it fails (an error, a crash, a timeout) tries again per the function's ``EventInvokeConfig``
(``MaximumRetryAttempts``, 2 by default; ``MaximumEventAgeInSeconds``, 6 hours by default). When the
retries are spent, or the event is too old, the event goes to the on-failure destination with Lambda's
invocation record, sent with the function's own role (so the role must allow ``sqs:SendMessage``); with
no destination it is dropped. Here:

- the retries run, one per failed attempt, after 1 s then 2 s (Lambda waits 1 minute then 2: a minute
  is a second locally); the event age is checked against ``MaximumEventAgeInSeconds`` in real time;
- the on-failure destination may be an SQS queue of the stack; it gets Lambda's record
  (``requestContext``, ``requestPayload``, ``responseContext``, ``responsePayload``) if the function's
  role allows ``sqs:SendMessage`` on it, as Lambda requires; otherwise the terminal says DENIED;
- each failed attempt, the retries' end and the destination are one terminal line each.

Not emulated: on-success destinations and other destination types (a start-up error, nothing is skipped
silently), throttling retries (local concurrency waits instead), and EventBridge rule targets and
schedules, which the runner still delivers once.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local_stack.template import Stack, TemplateError

# Lambda waits 1 minute before the first retry and 2 before the second: seconds here.
RETRY_DELAYS_SECONDS = (1.0, 2.0)


@dataclass(frozen=True)
class AsyncConfig:
    """A function's EventInvokeConfig (Lambda's defaults when it has none)."""

    retry_attempts: int = 2
    max_event_age_seconds: int = 21600
    on_failure: str | None = None  # the ARN of an SQS queue


DEFAULT = AsyncConfig()


def async_configs(stack: Stack) -> dict[str, AsyncConfig]:
    """Function ARN -> its EventInvokeConfig, read from the template. What is not emulated stops the
    start-up: an on-success destination, a destination that is not a queue, a qualified version."""
    configs: dict[str, AsyncConfig] = {}
    for lid in stack.of_type("AWS::Lambda::EventInvokeConfig"):
        props = stack.properties(lid)
        function = str(props["FunctionName"])
        arn = function if function.startswith("arn:") else stack.naming.arn("AWS::Lambda::Function", function)
        if props.get("Qualifier", "$LATEST") != "$LATEST":
            raise TemplateError(f"{lid}: only the $LATEST qualifier's invoke configuration is emulated")
        destinations = props.get("DestinationConfig") or {}
        if (destinations.get("OnSuccess") or {}).get("Destination"):
            raise TemplateError(f"{lid}: on-success destinations are not emulated")
        on_failure = (destinations.get("OnFailure") or {}).get("Destination")
        if on_failure is not None and not str(on_failure).startswith("arn:aws:sqs:"):
            raise TemplateError(f"{lid}: only SQS on-failure destinations are emulated, not {on_failure}")
        configs[arn] = AsyncConfig(
            retry_attempts=int(props.get("MaximumRetryAttempts", DEFAULT.retry_attempts)),
            max_event_age_seconds=int(props.get("MaximumEventAgeInSeconds", DEFAULT.max_event_age_seconds)),
            on_failure=str(on_failure) if on_failure else None,
        )
    return configs


def destination_queues(stack: Stack) -> set[str]:
    """The logical ids of the queues some EventInvokeConfig names as its on-failure destination."""
    queues = set()
    for resource in stack.of_type("AWS::Lambda::EventInvokeConfig").values():
        destination = ((resource.get("Properties", {}).get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        if isinstance(destination, dict) and "Fn::GetAtt" in destination:
            queues.add(destination["Fn::GetAtt"][0])
    return queues


@dataclass(frozen=True)
class Attempt:
    ok: bool
    error: dict[str, Any] | None = None


# (function ARN, event) -> the attempt's outcome
Invoke = Callable[[str, Any], Attempt]
# (function ARN, action, resource) -> (allowed, reason): the function's own role decides
RoleAllows = Callable[[str, str, str], tuple[bool, str]]
# (queue ARN, message body)
Send = Callable[[str, str], None]


class AsyncInvoker:
    def __init__(
        self,
        invoke: Invoke,
        configs: dict[str, AsyncConfig],
        role_allows: RoleAllows,
        send: Send,
        terminal: Callable[[str], None],
        name_of: Callable[[str], str] = lambda arn: arn.rsplit(":", 1)[-1],
        retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._invoke, self._configs, self._role_allows, self._send = invoke, configs, role_allows, send
        self._terminal, self._name_of = terminal, name_of
        self._delays, self._sleep, self._clock = retry_delays, sleep, clock
        self._stopped = threading.Event()

    def stop(self) -> None:
        """The runner is stopping: events in flight are abandoned quietly (no retry, no destination)."""
        self._stopped.set()

    def submit(self, function_arn: str, event: Any) -> threading.Thread:
        """Accept the event (Lambda answers 202) and run it in the background."""
        thread = threading.Thread(target=self._run, args=(function_arn, event), daemon=True, name="async-invoke")
        thread.start()
        return thread

    def _run(self, function_arn: str, event: Any) -> None:
        try:
            self.run(function_arn, event)
        except Exception as exc:  # noqa: BLE001 - a background thread: said on the terminal, never raised
            if not self._stopped.is_set():
                self._terminal(f"ASYNC {self._name_of(function_arn)}: event lost ({type(exc).__name__}: {exc})")

    def run(self, function_arn: str, event: Any) -> str:
        """One asynchronous invocation to its end: ``ok``, ``sent`` (to the on-failure destination),
        ``denied`` (the role may not send there), ``dropped`` (no destination) or ``stopped`` (the
        runner stopped meanwhile)."""
        config = self._configs.get(function_arn, DEFAULT)
        name = self._name_of(function_arn)
        received = self._clock()
        attempts = 1 + config.retry_attempts
        condition, count, attempt = "RetriesExhausted", 0, Attempt(False)
        for index in range(attempts):
            if index:
                delay = self._delays[min(index - 1, len(self._delays) - 1)]
                if self._clock() - received + delay > config.max_event_age_seconds:
                    condition = "EventAgeExceeded"
                    break
                self._sleep(delay)
            if self._stopped.is_set():
                return "stopped"
            try:
                attempt = self._invoke(function_arn, event)
            except Exception as exc:  # noqa: BLE001 - Lambda's own failure to run it: retried like an error
                if self._stopped.is_set():
                    return "stopped"
                attempt = Attempt(False, {"errorType": "ServiceException", "errorMessage": str(exc)})
            count += 1
            if attempt.ok:
                return "ok"
            error = attempt.error or {}
            then = (
                f"retry in {self._delays[min(index, len(self._delays) - 1)]:g} s"
                if index + 1 < attempts
                else "no retry left"
            )
            self._terminal(
                f"ASYNC {name}: attempt {count} of {attempts} failed "
                f"({error.get('errorType', 'Error')}: {error.get('errorMessage', '')}); {then}"
            )
        return self._give_up(function_arn, name, event, config, condition, count, attempt)

    def _give_up(
        self, function_arn: str, name: str, event: Any, config: AsyncConfig, condition: str, count: int, last: Attempt
    ) -> str:
        if self._stopped.is_set():
            return "stopped"
        if config.on_failure is None:
            self._terminal(f"ASYNC {name}: event dropped ({condition}; no on-failure destination)")
            return "dropped"
        allowed, reason = self._role_allows(function_arn, "sqs:SendMessage", config.on_failure)
        if not allowed:
            self._terminal(f"DENIED {name}: sqs:SendMessage on {config.on_failure} (on-failure destination): {reason}")
            return "denied"
        self._send(config.on_failure, json.dumps(failure_record(function_arn, event, condition, count, last)))
        self._terminal(f"ASYNC {name}: event sent to {config.on_failure.rsplit(':', 1)[-1]} ({condition})")
        return "sent"


def failure_record(function_arn: str, event: Any, condition: str, count: int, last: Attempt) -> dict[str, Any]:
    """What Lambda sends an on-failure destination (the invocation record)."""
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": count,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": last.error or {},
    }


def for_runner(
    stacks: list[Stack], pool: Any, principals: Any, sqs: Any, terminal: Callable[[str], None]
) -> AsyncInvoker:
    """The runner's invoker: its workers, each function's role (as issued to it), its queues."""
    from local_stack.iam import Request, evaluate

    configs = {arn: config for stack in stacks for arn, config in async_configs(stack).items()}

    def invoke(function_arn: str, event: Any) -> Attempt:
        workers = pool.by_arn(function_arn)
        if workers is None:
            return Attempt(False, {"errorType": "ResourceNotFoundException", "errorMessage": function_arn})
        result = workers.invoke(event)
        return Attempt(bool(result.ok), result.error)

    def role_allows(function_arn: str, action: str, resource: str) -> tuple[bool, str]:
        workers = pool.by_arn(function_arn)
        credentials = principals.credentials(workers.spec.role_arn) if workers else None
        principal = principals.by_access_key(credentials["AWS_ACCESS_KEY_ID"]) if credentials else None
        if principal is None:
            return False, "the function has no role"
        decision = evaluate(principal.policies, Request(action, resource))
        return decision.allowed, decision.reason

    def send(queue_arn: str, body: str) -> None:
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=body)

    def name_of(function_arn: str) -> str:
        workers = pool.by_arn(function_arn)
        return str(workers.spec.display_name) if workers else function_arn.rsplit(":", 1)[-1]

    return AsyncInvoker(invoke, configs, role_allows, send, terminal, name_of)
