"""S3 event records as S3 writes them: moto 5.2's (``moto.s3.notifications._get_s3_event``) carry the
key, size and ETag of the object but neither its ``versionId`` nor a ``sequencer``. A consumer of a
versioned bucket must read the version the event names (a later PUT on the same key is another
version, with its own event), and S3's sequencer orders the events of one key. This adds both:

- ``versionId``: the object's version, only when the bucket is versioned (S3 leaves it out otherwise);
- ``sequencer``: 18 upper-case hex digits that grow with every object created (so, per key), the same
  for every destination of one event, as S3's are.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

_ORIGINAL: dict[str, Any] = {}
_LOCK = threading.Lock()
# nanoseconds since the epoch at start, then one more per event: unique and growing, never reused
_COUNTER = itertools.count(time.time_ns())
_ATTRIBUTE = "_local_stack_sequencer"


def next_sequencer() -> str:
    with _LOCK:
        return f"{next(_COUNTER):018X}"


def install() -> None:
    """Wrap moto's event builder (idempotent)."""
    from moto.s3 import notifications

    if "event" in _ORIGINAL:
        return
    original = _ORIGINAL["event"] = notifications._get_s3_event

    def _get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, list[dict[str, Any]]]:
        event: dict[str, list[dict[str, Any]]] = original(event_name, bucket, key, notification_id)
        sequencers: dict[str, str] = getattr(key, _ATTRIBUTE, None) or {}
        if event_name not in sequencers:  # one event, many destinations: one sequencer
            sequencers[event_name] = next_sequencer()
            setattr(key, _ATTRIBUTE, sequencers)
        for record in event.get("Records", []):
            obj = record["s3"]["object"]
            version = getattr(key, "version_id", None)
            if getattr(bucket, "is_versioned", False) and version and version != "null":
                obj["versionId"] = str(version)
            obj["sequencer"] = sequencers[event_name]
        return event

    notifications._get_s3_event = _get_s3_event


def installed() -> bool:
    from moto.s3 import notifications

    return getattr(notifications._get_s3_event, "__qualname__", "").startswith("install.")
