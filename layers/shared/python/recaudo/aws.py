"""AWS clients, created once per container. ``AWS_ENDPOINT_URL`` (botocore's own setting) points them
at the local emulator with no special case in the code."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3  # imported here so modules that only need types stay light

    return boto3.session.Session().client(service)
