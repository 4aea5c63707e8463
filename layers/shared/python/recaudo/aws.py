"""AWS clients, created once per container. ``AWS_ENDPOINT_URL`` (botocore's own setting) points them
at the local emulator with no special case in the code.

Every client comes from one boto3 session per container: a session loads botocore's endpoint,
partition and retry data and registers its handlers (~100 ms of a cold start each), and the clients of
one session share all of it. Sessions are not thread-safe, so clients are made under a lock; the
clients themselves are."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

# every client made here, so that a SnapStart restore can drop their pooled connections (recaudo.snapstart)
_creados: list[Any] = []
_lock = threading.Lock()
_sesion: list[Any] = []  # the container's session, made with its first client


def _client(service: str, config: Any) -> Any:
    import boto3  # imported here so modules that only need types stay light

    with _lock:
        if not _sesion:
            _sesion.append(boto3.session.Session())
        made = _sesion[0].client(service, config=config)
        _creados.append(made)
    return made


@cache
def client(service: str) -> Any:
    config = None
    if service == "s3":  # presigned URLs signed with SigV4 (SigV2 is deprecated)
        from botocore.config import Config

        config = Config(signature_version="s3v4")
    return _client(service, config)


@cache
def client_with_timeout(service: str, read_timeout: float) -> Any:
    """A client that waits at most ``read_timeout`` seconds for a reply and never retries by itself:
    for calls whose retry would not be the same call (StartSyncExecution starts another execution)."""
    from botocore.config import Config

    return _client(service, Config(read_timeout=read_timeout, connect_timeout=3, retries={"total_max_attempts": 1}))


class _AlUsarlo:
    """A client that is built on its first use (any attribute: a call, ``exceptions``, ``meta``)."""

    def __init__(self, service: str, read_timeout: float | None) -> None:
        self._service = service
        self._read_timeout = read_timeout

    def __getattr__(self, name: str) -> Any:  # only for attributes the proxy itself lacks
        real = (
            client(self._service)
            if self._read_timeout is None
            else client_with_timeout(self._service, self._read_timeout)
        )
        return getattr(real, name)


def al_usarlo(service: str, read_timeout: float | None = None) -> Any:
    """``client(service)`` (or ``client_with_timeout``), built when a call first needs it.

    For a client some functions of a shared ``deps`` never call: the payment endpoints share one
    ``PaymentDeps``, but only ejecutar-pago starts the flow (Step Functions) and only the reversal
    publishes (EventBridge); the cobranzas exports never touch the bucket. Building a client loads its
    service model and endpoint rules (tens of ms of a cold start), so a function that never calls it
    should not build it. The real client is the cached one: every proxy of a service shares it."""
    return _AlUsarlo(service, read_timeout)


def nueva_sesion() -> None:
    """Tests: the next clients come from a new session (new credentials, endpoint, moto mock)."""
    client.cache_clear()
    client_with_timeout.cache_clear()
    with _lock:
        _sesion.clear()


def cerrar_conexiones() -> None:
    """Close every client's pooled connections (the clients stay usable: they open new ones)."""
    for made in _creados:
        made.close()
