"""Small helpers over the low-level DynamoDB client: typed (de)serialisation, full pagination, and
conditional transactions whose throttling surfaces as a retryable error. Only ``recaudo.data`` uses
them: nothing outside the repositories sees DynamoDB's wire format."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def query_all(client: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Yield every item of a Query, following ``LastEvaluatedKey`` until DynamoDB says it is done.

    ``Limit`` (if given) bounds each round trip, not the result: filtered-out items still count
    against it, which is exactly why the loop must not stop on a short page.
    """
    request = dict(kwargs)
    while True:
        page = client.query(**request)
        for item in page.get("Items", []):
            yield from_item(item)
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last


def batch_put(client: Any, table: str, items: list[dict[str, Any]], max_attempts: int = 8, sleep: Any = None) -> int:
    """Put items 25 per BatchWriteItem request, retrying what DynamoDB leaves unprocessed with
    exponential backoff and full jitter. Returns the number of requests sent. Raises if items are
    still unprocessed after ``max_attempts`` rounds (nothing is silently dropped)."""
    import random
    import time

    sleep = sleep or time.sleep
    requests = 0
    for start in range(0, len(items), 25):
        pending = [{"PutRequest": {"Item": to_item(i)}} for i in items[start : start + 25]]
        for attempt in range(max_attempts):
            response = client.batch_write_item(RequestItems={table: pending})
            requests += 1
            pending = response.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
            sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
        else:
            raise RuntimeError(f"{len(pending)} items still unprocessed after {max_attempts} attempts")
    return requests


# Error and cancellation-reason codes that mean "DynamoDB was busy": the same request may succeed later.
THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "TransactionInProgressException",
    }
)


def guarded(call: Any, *, throttled: type[Exception], **kwargs: Any) -> Any:
    """``call(**kwargs)``, with throttling raised as ``throttled`` (the caller's retryable error)."""
    from botocore.exceptions import ClientError

    try:
        return call(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in THROTTLING:
            raise throttled(str(exc)) from exc
        raise


def transact(client: Any, items: list[dict[str, Any]], *, throttled: type[Exception]) -> list[str] | None:
    """One ``TransactWriteItems``: None on success, else the cancellation reason code of every item
    (in order). A cancellation caused by throttling, or a throttled call, raises ``throttled``."""
    try:
        guarded(client.transact_write_items, throttled=throttled, TransactItems=items)
        return None
    except client.exceptions.TransactionCanceledException as exc:
        reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
        if any(r in THROTTLING for r in reasons):
            raise throttled(f"transaction throttled: {reasons}") from exc
        return reasons


def batch_get(
    client: Any,
    table: str,
    keys: list[dict[str, Any]],
    max_attempts: int = 8,
    sleep: Any = None,
    projection: str | None = None,
) -> list[dict[str, Any]]:
    """Every item of ``keys`` that exists (strongly consistent), 100 keys per BatchGetItem, retrying what
    DynamoDB leaves unprocessed with exponential backoff and full jitter. Order is not kept: callers key
    the result (a ``projection`` must then name the key attributes). Raises if keys are still
    unprocessed after ``max_attempts`` rounds."""
    import random
    import time

    sleep = sleep or time.sleep
    request: dict[str, Any] = {"ConsistentRead": True}
    if projection is not None:
        request["ProjectionExpression"] = projection
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        pending: list[dict[str, Any]] = keys[start : start + 100]
        for attempt in range(max_attempts):
            response = client.batch_get_item(RequestItems={table: {**request, "Keys": pending}})
            found += [from_item(i) for i in response.get("Responses", {}).get(table, [])]
            pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if not pending:
                break
            sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
        else:
            raise RuntimeError(f"{len(pending)} keys still unprocessed after {max_attempts} attempts")
    return found
