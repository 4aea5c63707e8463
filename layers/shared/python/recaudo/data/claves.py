"""Channels' private keys, encrypted with KMS (HMAC needs the key itself, so it cannot be hashed).

Encrypted under the context's key with the encryption context ``{"canal": <api-key>}``, so a
ciphertext copied to another channel's record does not decrypt. Decrypted once per container and
channel version (``ClavesEnMemoria``); the plaintext is never logged and never leaves the function.
"""

from __future__ import annotations

import threading
from typing import Any


class ClavesKms:
    def __init__(self, key_id: str, client: Any) -> None:
        self._key_id, self._client = key_id, client

    def cifrar(self, api_key: str, clave_privada: str) -> bytes:
        response = self._client.encrypt(
            KeyId=self._key_id, Plaintext=clave_privada.encode("utf-8"), EncryptionContext={"canal": api_key}
        )
        return bytes(response["CiphertextBlob"])

    def descifrar(self, api_key: str, cifrada: bytes) -> str:
        response = self._client.decrypt(
            KeyId=self._key_id, CiphertextBlob=cifrada, EncryptionContext={"canal": api_key}
        )
        return bytes(response["Plaintext"]).decode("utf-8")


class ClavesEnMemoria:
    """Decrypt once per (channel, key version) per container: KMS is not on every request's path."""

    def __init__(self, kms: ClavesKms) -> None:
        self._kms = kms
        self._cache: dict[tuple[str, int], str] = {}
        self._lock = threading.Lock()

    def clave(self, api_key: str, version: int, cifrada: bytes) -> str:
        with self._lock:
            found = self._cache.get((api_key, version))
        if found is None:
            found = self._kms.descifrar(api_key, cifrada)
            with self._lock:
                self._cache = {k: v for k, v in self._cache.items() if k[0] != api_key}  # a rotated key goes
                self._cache[(api_key, version)] = found
        return found
