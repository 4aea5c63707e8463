"""AWS clients, created once per container. ``AWS_ENDPOINT_URL`` (botocore's own setting) points them
at the local emulator with no special case in the code."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3  # imported here so modules that only need types stay light

    if service == "s3":  # presigned URLs signed with SigV4 (SigV2 is deprecated)
        from botocore.config import Config

        return boto3.session.Session().client(service, config=Config(signature_version="s3v4"))
    return boto3.session.Session().client(service)
