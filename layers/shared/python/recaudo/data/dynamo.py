"""Small helpers over the low-level DynamoDB client: typed (de)serialisation and full pagination."""

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
