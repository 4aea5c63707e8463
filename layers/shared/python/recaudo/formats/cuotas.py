"""Sistema UNO ``paymentDue`` on the wire: the SIF matrix parameter, the XML payload (parsed hardened and
validated against ``paymentDue.xsd``), and the XML replies (``createResponse``, ``<error>``, our read-back).

Hardening (docs/decisions.md, "UNO: XML"): the size is checked before parsing; the parser loads no DTD,
resolves no entity, touches no network and keeps libxml2's limits on depth and text size; any DOCTYPE
is refused, so neither XXE nor entity expansion can happen. The bytes are parsed as sent: a BOM or the
encoding declaration decides how they are read. Pure: no I/O beyond reading the schema once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lxml import etree

from recaudo.models.cuotas import (
    SIN_CICLO,
    SIN_COLEGIO,
    SIN_EMPRESA,
    ClaveCuota,
    Contexto,
    Cuota,
    Pago,
    Resultado,
    UnoError,
    uuid_de,
)

MAX_BYTES = 2 * 1024 * 1024  # ~4,000 dues of 3 payments; 1,000 dues is the schema's limit
MAX_SEGMENTO = 1024  # the matrix segment, before anything parses it
ENTIDAD = "paymentDue"

# ---- the matrix parameter: paymentDue;zoneId=…;contextId=<URL-encoded JSON> ----

_CONTEXTO = (("businessId", SIN_EMPRESA), ("schoolId", SIN_COLEGIO), ("schoolYearId", SIN_CICLO))


def segmento(raw: str) -> tuple[str, dict[str, str]]:
    """``paymentDue;contextId=%7B…%7D`` → (``paymentDue``, {``contextId``: the decoded value}).

    The segment is split on ``;`` as sent (a ``;`` inside the JSON must be URL-encoded, as real clients
    do); each parameter is ``name=value`` and its value is URL-decoded once. Raises ``UnoError`` 400 for a
    parameter that is not ``name=value``, a repeated one, or an unknown one."""
    if len(raw) > MAX_SEGMENTO:
        raise UnoError(400, f"La ruta es demasiado larga (más de {MAX_SEGMENTO} caracteres).")
    entidad, *partes = raw.split(";")
    params: dict[str, str] = {}
    for parte in partes:
        nombre, igual, valor = parte.partition("=")
        nombre = unquote(nombre).strip()
        if not igual or not nombre:
            if "contextId" in params:  # the document's own trap: {"businessId";10,…}
                raise UnoError(
                    400,
                    "contextId mal formado: use ':' entre cada nombre y su valor, y envíe el JSON codificado "
                    "(URL-encoded), p. ej. ;contextId=%7B%22businessId%22%3A10%2C%22schoolId%22%3A6498%2C"
                    "%22schoolYearId%22%3A64%7D",
                )
            raise UnoError(400, f"Parámetro de matriz mal formado: {parte[:60]!r} (se espera nombre=valor).")
        if nombre not in ("contextId", "zoneId"):
            raise UnoError(400, f"Parámetro de matriz desconocido: {nombre[:40]!r} (se aceptan contextId y zoneId).")
        if nombre in params:
            raise UnoError(400, f"Parámetro de matriz repetido: {nombre}.")
        try:
            params[nombre] = unquote(valor, errors="strict")
        except UnicodeDecodeError as exc:
            raise UnoError(400, f"{nombre}: la codificación URL no es UTF-8 válido.") from exc
    return unquote(entidad), params


def contexto(params: dict[str, str]) -> Contexto:
    """The ``contextId`` JSON: an object with the three ids, each a positive integer (a JSON number, or a
    string of digits). Whitespace around it is tolerated; other keys are ignored."""
    texto = params.get("contextId")
    if texto is None or not texto.strip():
        raise UnoError(400, SIN_EMPRESA)
    try:
        valor = json.loads(texto, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise UnoError(400, f"contextId no es JSON válido: {str(exc)[:120]}") from exc
    if not isinstance(valor, dict):
        raise UnoError(400, "contextId debe ser un objeto JSON con businessId, schoolId y schoolYearId.")
    ids: list[int] = []
    for nombre, falta in _CONTEXTO:
        v = valor.get(nombre)
        if v is None or v == "":
            raise UnoError(400, falta)
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v.strip())
        if isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 10**18:
            raise UnoError(400, f"{nombre} debe ser un entero positivo.")
        ids.append(v)
    return Contexto(*ids)


# ---- the payload ----

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,  # libxml2's own limits: depth 256, 10 MB text nodes
    remove_comments=True,
    remove_pis=True,
    # never collect_ids=False: with it, libxml2 loads an external DTD or parameter entity despite
    # load_dtd=False (a file's existence leaks through the error; tests/unit/test_cuotas_formato.py)
)
# read beside this module (importlib.resources would add ~60 ms to the cold start for one file)
_SCHEMA = etree.XMLSchema(etree.fromstring(Path(__file__).with_name("paymentDue.xsd").read_bytes(), _PARSER))

_ENTEROS = ("articleRefId", "gradeRefId", "termRefId", "salesTypeRefId")
_REGLAS = {
    **{n: f"{n} debe ser un entero positivo" for n in _ENTEROS},
    "price": "price debe ser un decimal mayor o igual a 0, con a lo sumo 2 decimales",
    "discountPercent": "discountPercent debe estar entre 0 y 100, con a lo sumo 2 decimales",
    "taxPercent": "taxPercent debe estar entre 0 y 100, con a lo sumo 2 decimales",
    "startDate": "startDate debe ser una fecha AAAA-MM-DD",
    "endDate": "endDate debe ser una fecha AAAA-MM-DD",
}
_TRADUCCION = (
    ("Element ", "elemento "),
    ("Missing child element(s). Expected is", "faltan elementos; se espera"),
    ("This element is not expected. Expected is", "elemento inesperado; se espera"),
    ("This element is not expected", "elemento inesperado"),
    ("one of", "uno de"),
    (", attribute ", ", atributo "),
    (
        "Character content other than whitespace is not allowed because the content type is 'element-only'",
        "no admite texto, solo elementos",
    ),
    ("The attribute", "el atributo"),
    ("is not allowed", "no está permitido"),
)
_POSICION_DE = {tipo: re.compile(rf"/{tipo}(?:\[(\d+)\])?(?:/|$)") for tipo in ("due", "payment")}
_ELEMENTO = re.compile(r"Element '([A-Za-z]+)'")


def _donde(path: str) -> str:
    """``/paymentDue/due[2]/payments/payment[1]/price`` → ``due 2, payment 1`` (a step without an index,
    ``/payments/payment/``, is the only one of its kind: number 1)."""
    partes = []
    for tipo in ("due", "payment"):
        numero = _POSICION_DE[tipo].search(path)
        if numero:
            partes.append(f"{tipo} {numero.group(1) or 1}")
    return ", ".join(partes)


def _mensaje_de_esquema(error: Any, raiz: Any) -> str:
    mensaje = str(error.message or "")
    nombre = _ELEMENTO.search(mensaje)
    regla = _REGLAS.get(nombre.group(1)) if nombre else None
    donde = _donde(error.path or "")
    if nombre and regla and f"Element '{nombre.group(1)}': " in mensaje and "value" in mensaje:
        nodos = raiz.xpath(error.path) if error.path else []
        recibido = (nodos[0].text or "").strip()[:40] if nodos else ""
        texto = f"{regla} (recibido: {recibido!r})"
    else:
        texto = (error.message or "no cumple el esquema").strip().rstrip(".")[:200]
        for ingles, espanol in _TRADUCCION:
            texto = texto.replace(ingles, espanol)
    return f"El payload no cumple paymentDue.xsd: {donde + ': ' if donde else ''}{texto}."


def _primero(errores: Any) -> Any:
    return errores[0]


def parse_payment_due(data: bytes) -> list[Cuota]:
    """The dues of a ``<paymentDue>`` payload, in order. Raises ``UnoError`` (400, or 413 when too big)
    with the first problem found; nothing of the payload is trusted before it passes."""
    if len(data) > MAX_BYTES:
        raise UnoError(413, f"El payload supera {MAX_BYTES // (1024 * 1024)} MB.")
    if not data.strip():
        raise UnoError(400, "Falta el payload XML <paymentDue>.")
    try:
        raiz = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnoError(400, f"XML mal formado: {str(exc)[:200]}") from exc
    except (ValueError, LookupError) as exc:  # an encoding lxml does not know
        raise UnoError(400, f"Codificación no soportada: {str(exc)[:120]}") from exc
    info: Any = raiz.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise UnoError(400, "El payload no puede declarar un DOCTYPE (ni DTD ni entidades).")
    if raiz.tag != "paymentDue":
        raise UnoError(400, f"Se espera el elemento raíz <paymentDue> sin espacio de nombres, no <{raiz.tag}>.")
    if not _SCHEMA.validate(raiz):
        raise UnoError(400, _mensaje_de_esquema(_primero(_SCHEMA.error_log), raiz))
    return [_cuota(due) for due in raiz.iterchildren("due")]


def _cuota(due: Any) -> Cuota:
    """One pass over a valid ``<due>``'s children (the schema has vouched for every value; comments and
    processing instructions were dropped by the parser, so every child is an element)."""
    ids: dict[str, int] = {}
    pagos: list[Pago] = []
    for hijo in due:
        if hijo.tag != "payments":
            ids[hijo.tag] = int(hijo.text.strip())
            continue
        for pago in hijo:
            v = {campo.tag: campo.text.strip() for campo in pago}
            pagos.append(
                Pago(
                    price=Decimal(v["price"]),
                    discount_percent=Decimal(v["discountPercent"]),
                    tax_percent=Decimal(v["taxPercent"]),
                    start_date=date.fromisoformat(v["startDate"]),
                    end_date=date.fromisoformat(v["endDate"]),
                )
            )
    return Cuota(ClaveCuota(*(ids[n] for n in _ENTEROS)), tuple(pagos))


# ---- replies ----

XML = "application/xml; charset=utf-8"


def _bytes(raiz: etree._Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(raiz, encoding="unicode")


def create_response(resultados: Iterable[Resultado], ref_id: str) -> str:
    """``<createResponse><creates><create id=… statusCode=…/>…`` in the order of the dues; a refused due
    has no id and carries its ``<error>``."""
    raiz = etree.Element("createResponse")
    creates = etree.SubElement(raiz, "creates")
    for r in resultados:
        create = etree.SubElement(creates, "create")
        if r.id is not None:
            create.set("id", uuid_de(r.id))
        create.set("statusCode", str(r.status))
        if r.mensaje is not None:
            create.append(_error(r.status, r.mensaje, ref_id))
    return _bytes(raiz)


def _error(status: int, mensaje: str, ref_id: str) -> etree._Element:
    error = etree.Element("error", refId=ref_id)
    etree.SubElement(error, "code").text = str(status)
    etree.SubElement(error, "message").text = mensaje
    return error


def error_xml(status: int, mensaje: str, ref_id: str) -> str:
    return _bytes(_error(status, mensaje, ref_id))


_CENTESIMOS = Decimal("0.01")


def _texto(valor: Decimal) -> str:
    """Exactly two decimals: the schema allows no more, so this never rounds, and the read-back is the
    same whether the store kept ``5.00`` or (as DynamoDB does) ``5``."""
    return format(valor.quantize(_CENTESIMOS), "f")


def payment_due(cuotas: Iterable[Cuota]) -> str:
    """Our read-back: the payload's own shape, each ``<due>`` with its ``id``; valid against the schema."""
    raiz = etree.Element("paymentDue")
    for c in cuotas:
        due = etree.SubElement(raiz, "due")
        if c.id is not None:
            due.set("id", uuid_de(c.id))
        for nombre, valor in zip(
            _ENTEROS,
            (c.clave.article_ref_id, c.clave.grade_ref_id, c.clave.term_ref_id, c.clave.sales_type_ref_id),
            strict=True,
        ):
            etree.SubElement(due, nombre).text = str(valor)
        pagos = etree.SubElement(due, "payments")
        for p in c.pagos:
            pago = etree.SubElement(pagos, "payment")
            etree.SubElement(pago, "price").text = _texto(p.price)
            etree.SubElement(pago, "discountPercent").text = _texto(p.discount_percent)
            etree.SubElement(pago, "taxPercent").text = _texto(p.tax_percent)
            etree.SubElement(pago, "startDate").text = p.start_date.isoformat()
            etree.SubElement(pago, "endDate").text = p.end_date.isoformat()
    return _bytes(raiz)
