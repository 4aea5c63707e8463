"""The cobranzas API's ``multipart/form-data`` bodies, read strictly (RFC 7578) by the ``multipart``
package (defnull's parser: strict mode, limits on parts and header lines). Pure CPU, no I/O.

Why not Powertools' own reader: it split the body on the boundary and read whatever it found, so a body
cut before its closing delimiter was imported (a row cut mid-amount became a payable 250.00), a missing
boundary or a header that was not UTF-8 raised a 500, and a duplicate part was silently merged.

Rules (docs/decisions.md, "Cobranzas: HTTP"):
- the stream must be whole: its closing ``--boundary--`` present, CRLF line breaks, every part with
  ``Content-Disposition: form-data; name=…``; at most ``MAX_PARTES`` parts of at most ``MAX_ENCABEZADOS``
  header lines of ``MAX_ENCABEZADO`` bytes each;
- part headers are read as Latin-1 (every byte is a character), so a file name in Windows-1252 or
  UTF-8 is accepted: we never use it. Field names are compared exactly; unknown fields are ignored;
- a field the endpoint reads may come once (two ``file`` parts: which one would be imported?);
- ``file`` may come as a file part or as a plain field (``curl -F file=<x.csv``): its bytes are the file;
- a text field (``hash``, ``periodo``, …) may come as a file part too (``curl -F hash=@hash.txt``): its
  content is the value, surrounding whitespace removed. Text is UTF-8; the hash, which is ASCII, is read
  leniently (any other byte simply makes it a wrong hash, 401);
- when the stream is broken after its ``hash`` part was read whole, the refusal carries that hash, so
  the import endpoint can record it (its report can then be fetched).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection, Iterator

import multipart  # type: ignore[import-untyped]

from recaudo.errors import CobranzasError

MULTIPART = "multipart/form-data"
MAX_PARTES = 32
MAX_ENCABEZADO = 4096  # bytes of one header line of a part, its file name included
MAX_ENCABEZADOS = 8
CAMPO_HASH = "hash"

# RFC 2046: 1 to 70 of these, not ending in a space
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")

SIN_BOUNDARY = "Content-Type multipart/form-data sin boundary: no se puede leer el formulario"
BOUNDARY_INVALIDO = "el boundary de Content-Type no es válido (1 a 70 caracteres de RFC 2046)"
NO_MULTIPART = "el cuerpo no es multipart/form-data: no contiene el boundary declarado en Content-Type"
INCOMPLETO = (
    "el cuerpo multipart está incompleto (falta el delimitador final --boundary--): "
    "nada se importó; reenvíe el archivo completo"
)
MAL_FORMADO = "formulario multipart/form-data mal formado"
_MOTIVOS = {
    "Maximum segment count exceeded": f"demasiadas partes en el formulario (máximo {MAX_PARTES})",
    "Maximum segment header length exceeded": (
        f"encabezado de una parte del formulario demasiado largo (máximo {MAX_ENCABEZADO} bytes)"
    ),
    "Maximum segment header count exceeded": (
        f"demasiados encabezados en una parte del formulario (máximo {MAX_ENCABEZADOS})"
    ),
    "Missing Content-Disposition segment header": "una parte del formulario no tiene encabezado Content-Disposition",
    "Invalid Content-Disposition segment header: Wrong type": (
        "una parte del formulario no es form-data (Content-Disposition)"
    ),
    "Invalid Content-Disposition segment header: Missing name option": (
        "una parte del formulario no tiene nombre (Content-Disposition sin name)"
    ),
    "Invalid line break in segment header": f"{MAL_FORMADO}: los saltos de línea deben ser CRLF",
    "Invalid line break after first boundary": f"{MAL_FORMADO}: los saltos de línea deben ser CRLF",
    "Boundary not found in first chunk": NO_MULTIPART,
    "Unexpected end of multipart stream (parser closed)": INCOMPLETO,
}


class FormularioInvalido(CobranzasError):
    """The body is not the form it claims to be. ``hash`` is the integrator hash when its part was
    read whole before the problem (the import endpoint then records the refusal as an import)."""

    def __init__(self, descripcion: str, hash_: str | None = None, status: int = 400) -> None:
        super().__init__(descripcion, status)
        self.hash = hash_


def es_multipart(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == MULTIPART


def boundary(content_type: str) -> str:
    """The ``boundary`` parameter of a multipart Content-Type (quoted or not), validated."""
    encontrados = []
    for param in content_type.split(";")[1:]:
        nombre, _, valor = param.partition("=")
        if nombre.strip().lower() == "boundary":
            valor = valor.strip()
            if len(valor) >= 2 and valor[0] == valor[-1] == '"':
                valor = valor[1:-1]
            encontrados.append(valor)
    if not encontrados or not encontrados[0]:
        raise FormularioInvalido(SIN_BOUNDARY)
    if len(encontrados) > 1 or not _BOUNDARY.fullmatch(encontrados[0]):
        raise FormularioInvalido(BOUNDARY_INVALIDO)
    return encontrados[0]


def cuerpo(body: str | None, base64_encoded: bool) -> bytes:
    """The body's bytes: base64 as API Gateway sends binary media types, else the text as UTF-8."""
    if not body:
        return b""
    try:
        return base64.b64decode(body, validate=True) if base64_encoded else body.encode("utf-8")
    except (binascii.Error, ValueError) as exc:  # UnicodeEncodeError (a lone surrogate) is a ValueError
        raise FormularioInvalido("el cuerpo no se pudo decodificar (base64 inválido)") from exc


def _texto(nombre: str, datos: bytes, archivo: bool) -> str:
    if nombre == CAMPO_HASH:  # ASCII when right; any other byte just makes it a wrong hash
        texto = datos.decode("utf-8", "replace")
    else:
        try:
            texto = datos.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormularioInvalido(f"el campo '{nombre}' no es UTF-8") from exc
    return texto.strip() if archivo else texto


def leer(datos: bytes, content_type: str, textos: Collection[str], archivos: Collection[str]) -> dict[str, str | bytes]:
    """The fields the endpoint reads: ``archivos`` as bytes, ``textos`` as str. Raises
    ``FormularioInvalido`` (400) for anything but one whole, well-formed multipart stream."""
    parser = multipart.PushMultipartParser(
        boundary(content_type),
        max_header_size=MAX_ENCABEZADO,
        max_header_count=MAX_ENCABEZADOS,
        max_segment_count=MAX_PARTES,
        header_charset="latin-1",
        strict=True,
    )
    leidas: list[tuple[str, bool, bytes]] = []  # (name, sent as a file part, content), whole parts only
    vistas = 0
    nombre, archivo, trozos = "", False, bytearray()

    def eventos() -> Iterator[object]:
        yield from parser.parse(datos)
        yield from parser.parse(b"")  # the end of the input: the stream must be complete

    try:
        for evento in eventos():  # one by one: the parts read whole before a problem are known
            if isinstance(evento, multipart.MultipartSegment):
                vistas += 1
                nombre, archivo, trozos = evento.name, evento.filename is not None, bytearray()
            elif isinstance(evento, bytes | bytearray):
                trozos += evento
            else:  # None: the part ended (its closing delimiter was read)
                leidas.append((nombre, archivo, bytes(trozos)))
    except multipart.MultipartError as exc:
        motivo = _MOTIVOS.get(str(exc.args[0]) if exc.args else "", MAL_FORMADO)
        if motivo == INCOMPLETO and not vistas:
            motivo = NO_MULTIPART
        raise FormularioInvalido(motivo, _hash_leido(leidas)) from exc

    valores: dict[str, str | bytes] = {}
    for nombre, archivo, contenido in leidas:
        if nombre not in textos and nombre not in archivos:
            continue  # a field this endpoint does not read
        if nombre in valores:
            hash_ = None if nombre == CAMPO_HASH else _hash_leido(leidas)
            raise FormularioInvalido(f"el campo '{nombre}' viene más de una vez: envíe uno solo", hash_)
        valores[nombre] = contenido if nombre in archivos else _texto(nombre, contenido, archivo)
    return valores


def _hash_leido(leidas: list[tuple[str, bool, bytes]]) -> str | None:
    """The hash of a broken form, when exactly one whole ``hash`` part was read before the problem."""
    hashes = [(archivo, contenido) for nombre, archivo, contenido in leidas if nombre == CAMPO_HASH]
    if len(hashes) != 1:
        return None
    return _texto(CAMPO_HASH, hashes[0][1], hashes[0][0]) or None
