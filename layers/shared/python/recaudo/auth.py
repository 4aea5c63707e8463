"""Credentials: issued once, stored only as hashes, compared in constant time.

Every secret we issue carries at least 256 bits of randomness, so a single SHA-256 is enough
(no password-stretching KDF is needed; see docs/decisions.md). Bank API tokens look like
``<keyId>.<secret>``: the key id finds the record, the secret is compared against its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_TOKEN = re.compile(r"^Token ([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret against a stored hash."""
    return hmac.compare_digest(hash_secret(secret).encode("ascii"), stored_hash.encode("ascii"))


def new_secret() -> str:
    return secrets.token_urlsafe(32)  # 43 characters, 256 bits


@dataclass(frozen=True, slots=True)
class IssuedToken:
    key_id: str
    secret: str

    @property
    def token(self) -> str:
        return f"{self.key_id}.{self.secret}"


def new_token() -> IssuedToken:
    return IssuedToken(key_id=secrets.token_hex(8), secret=new_secret())


def parse_authorization(header: str | None) -> tuple[str, str] | None:
    """``Authorization: Token <keyId>.<secret>`` -> (key_id, secret), or None when malformed."""
    if not header:
        return None
    match = _TOKEN.match(header.strip())
    return (match.group(1), match.group(2)) if match else None
