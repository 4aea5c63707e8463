"""Domain events: the ``EventPublisher`` port the logic publishes through, and its EventBridge adapter.

Events are at least once (docs/decisions.md, "Events are at least once"): a publication that
EventBridge does not accept raises ``PublishFailed``, and the caller turns it into its own retryable
error. The detail is written as exact JSON (``recaudo.money.dumps``): a Decimal is never a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from recaudo.money import dumps


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None: ...


class PublishFailed(Exception):
    """EventBridge did not accept the event (``FailedEntryCount`` > 0): nothing was published."""


class EventBridgePublisher:
    """Puts one event per call on ``bus_name`` with ``source`` (e.g. ``recaudo.conectividad``)."""

    def __init__(self, client: Any, bus_name: str, source: str) -> None:
        self._client = client
        self._bus_name = bus_name
        self._source = source

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        response = self._client.put_events(
            Entries=[
                {
                    "EventBusName": self._bus_name,
                    "Source": self._source,
                    "DetailType": detail_type,
                    "Detail": dumps(dict(detail)),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise PublishFailed(f"PutEvents failed: {response.get('Entries')}")
