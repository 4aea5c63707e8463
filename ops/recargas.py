"""Channels of the CPS API: issue, rotate and revoke their keys (the admin CLI and the demo seed).

A channel's private key is random (256 bits, 64 hex), printed once, and stored only encrypted with
the context's KMS key under the encryption context ``{"canal": <api-key>}``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from recaudo.data.claves import ClavesKms
from recaudo.data.recargas import CanalesRepository


@dataclass(frozen=True)
class CanalEmitido:
    api_key: str
    private_key: str


def crear_canal(canales: CanalesRepository, kms: ClavesKms, nombre: str, now: datetime) -> CanalEmitido:
    api_key, private_key = secrets.token_hex(32), secrets.token_hex(32)
    canales.put_new(api_key, nombre, kms.cifrar(api_key, private_key), now)
    return CanalEmitido(api_key, private_key)


def rotar_canal(canales: CanalesRepository, kms: ClavesKms, api_key: str, now: datetime) -> CanalEmitido:
    """A new private key for the same api-key; the old one stops verifying at once."""
    private_key = secrets.token_hex(32)
    canales.rotate(api_key, kms.cifrar(api_key, private_key), now)
    return CanalEmitido(api_key, private_key)


def revocar_canal(canales: CanalesRepository, api_key: str, now: datetime) -> None:
    canales.revoke(api_key, now)
