"""AWS clients, created once per container. ``AWS_ENDPOINT_URL`` (botocore's own setting) points them
at the local emulator with no special case in the code."""

from __future__ import annotations

from functools import cache
from typing import Any

# every client made here, so that a SnapStart restore can drop their pooled connections (recaudo.snapstart)
_creados: list[Any] = []


@cache
def client(service: str) -> Any:
    import boto3  # imported here so modules that only need types stay light

    if service == "s3":  # presigned URLs signed with SigV4 (SigV2 is deprecated)
        from botocore.config import Config

        made = boto3.session.Session().client(service, config=Config(signature_version="s3v4"))
    else:
        made = boto3.session.Session().client(service)
    _creados.append(made)
    return made


@cache
def client_with_timeout(service: str, read_timeout: float) -> Any:
    """A client that waits at most ``read_timeout`` seconds for a reply and never retries by itself:
    for calls whose retry would not be the same call (StartSyncExecution starts another execution)."""
    import boto3
    from botocore.config import Config

    config = Config(read_timeout=read_timeout, connect_timeout=3, retries={"total_max_attempts": 1})
    made = boto3.session.Session().client(service, config=config)
    _creados.append(made)
    return made


def cerrar_conexiones() -> None:
    """Close every client's pooled connections (the clients stay usable: they open new ones)."""
    for made in _creados:
        made.close()
