"""Signed requests (CPS): ``api-key``, ``api-nonce`` and ``api-signature`` headers, where the
signature is the hex of HMAC-SHA384 with the channel's private key over ``PATH + NONCE + JSON``.

What is signed (docs/decisions.md, "CPS: signed requests"):
- POST: the body **exactly as received** (raw bytes; never a re-serialisation: ``10``, ``10.0`` and
  ``10.00`` are different bytes); an empty body signs as ``""``.
- GET: the path without its query string, then the compact JSON of the query parameters, typed as
  the endpoint declares them (``canGetBalance=false`` is ``{"canGetBalance":false}``; ``numberService``
  stays a string, so its leading zero survives), in the order they arrive. A client that signed the
  values as the strings it sent is accepted too: both forms bind the same values.
- PATH: as the document's example, without the ``/cps`` stage (``/v2/list/basic_services``); the
  full path (``/cps/v2/…``) is accepted too.
- The hex is compared in constant time against every accepted form; upper-case hex is accepted (hex
  case does not change the value).

Pure: no I/O. The nonce's freshness and single use are checked by the caller (a conditional write).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

API_KEY = "api-key"
NONCE = "api-nonce"
SIGNATURE = "api-signature"

_API_KEY = re.compile(r"^[0-9A-Za-z]{32}$|^[0-9A-Za-z]{64}$")
_NONCE = re.compile(r"^[0-9]{13}$")  # Unix time in milliseconds (2001-09-09 to 2286-11-20)
_SIGNATURE = re.compile(r"^[0-9A-Fa-f]{96}$")


class Rechazo(StrEnum):
    """Why a signed request was refused: each a clear 401 that names the check, never the secret."""

    FALTA_API_KEY = "falta el encabezado api-key"
    FALTA_NONCE = "falta el encabezado api-nonce"
    FALTA_FIRMA = "falta el encabezado api-signature"
    API_KEY_INVALIDA = "api-key con formato inválido (32 o 64 caracteres alfanuméricos)"
    NONCE_INVALIDO = "api-nonce con formato inválido (tiempo Unix en milisegundos, 13 dígitos)"
    FIRMA_MAL_FORMADA = "api-signature con formato inválido (96 caracteres hexadecimales)"
    CANAL_DESCONOCIDO = "api-key desconocida o revocada"
    NONCE_VENCIDO = "api-nonce fuera de la ventana permitida"
    NONCE_REPETIDO = "api-nonce ya usado con esta api-key"
    FIRMA_INVALIDA = "la firma no corresponde a la solicitud"


class FirmaRechazada(Exception):
    def __init__(self, motivo: Rechazo) -> None:
        super().__init__(motivo.value)
        self.motivo = motivo


@dataclass(frozen=True, slots=True)
class Encabezados:
    api_key: str
    nonce: str
    firma: str

    @property
    def nonce_ms(self) -> int:
        return int(self.nonce)


def leer_encabezados(headers: Mapping[str, str] | None) -> Encabezados:
    """The three headers (case-insensitive names), checked for shape only."""
    found = {k.lower(): v.strip() for k, v in (headers or {}).items()}
    api_key, nonce, firma = found.get(API_KEY), found.get(NONCE), found.get(SIGNATURE)
    if not api_key:
        raise FirmaRechazada(Rechazo.FALTA_API_KEY)
    if not nonce:
        raise FirmaRechazada(Rechazo.FALTA_NONCE)
    if not firma:
        raise FirmaRechazada(Rechazo.FALTA_FIRMA)
    if not _API_KEY.match(api_key):
        raise FirmaRechazada(Rechazo.API_KEY_INVALIDA)
    if not _NONCE.match(nonce):
        raise FirmaRechazada(Rechazo.NONCE_INVALIDO)
    if not _SIGNATURE.match(firma):
        raise FirmaRechazada(Rechazo.FIRMA_MAL_FORMADA)
    return Encabezados(api_key, nonce, firma.lower())


def verificar_nonce(nonce_ms: int, ahora_ms: int, ventana_ms: int) -> None:
    """A nonce is fresh within ``ventana_ms`` either side of now (clocks drift both ways)."""
    if abs(ahora_ms - nonce_ms) > ventana_ms:
        raise FirmaRechazada(Rechazo.NONCE_VENCIDO)


def firmar(clave_privada: str, mensaje: bytes) -> str:
    return hmac.new(clave_privada.encode("utf-8"), mensaje, hashlib.sha384).hexdigest()


# A query parameter's declared type: how the client's object held it before it became text.
Tipo = type[bool] | type[int] | type[str]


def _typed(value: str, tipo: Tipo) -> object:
    if tipo is bool:
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return value
    if tipo is int:
        return int(value) if re.fullmatch(r"-?[0-9]+", value) else value
    return value


def _compact(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_de_consulta(params: Sequence[tuple[str, str]], tipos: Mapping[str, Tipo], como_texto: bool = False) -> bytes:
    """The JSON a client signed for a GET: its query object, compact, in the order received."""
    return _compact({k: (v if como_texto else _typed(v, tipos.get(k, str))) for k, v in params})


def rutas_firmables(path: str, stage: str) -> list[str]:
    """The path as the document signs it (without ``/<stage>``) and the full path."""
    sin_stage = path.removeprefix(f"/{stage}") if path.startswith(f"/{stage}/") else path
    return list(dict.fromkeys([sin_stage, f"/{stage}{sin_stage}"]))


def mensajes(path: str, stage: str, nonce: str, cuerpos: Iterable[bytes]) -> list[bytes]:
    return [
        ruta.encode("utf-8") + nonce.encode("ascii") + cuerpo
        for ruta in rutas_firmables(path, stage)
        for cuerpo in cuerpos
    ]


def verificar_firma(clave_privada: str, firma: str, candidatos: Iterable[bytes]) -> None:
    """Constant-time comparison against every accepted form; all are computed, whatever matches."""
    presented = firma.lower().encode("ascii")
    ok = False
    for mensaje in candidatos:
        ok |= hmac.compare_digest(firmar(clave_privada, mensaje).encode("ascii"), presented)
    if not ok:
        raise FirmaRechazada(Rechazo.FIRMA_INVALIDA)


def candidatos_post(path: str, stage: str, nonce: str, cuerpo: bytes) -> list[bytes]:
    return mensajes(path, stage, nonce, [cuerpo])


def candidatos_get(
    path: str, stage: str, nonce: str, params: Sequence[tuple[str, str]], tipos: Mapping[str, Tipo]
) -> list[bytes]:
    if not params:  # no query: the client signed its empty object, as "" (like an empty body) or "{}"
        return mensajes(path, stage, nonce, [b"", b"{}"])
    cuerpos = list(dict.fromkeys([json_de_consulta(params, tipos), json_de_consulta(params, tipos, como_texto=True)]))
    return mensajes(path, stage, nonce, cuerpos)
