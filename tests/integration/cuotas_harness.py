"""Sistema UNO paymentDue under moto: the cuotas table, the demo business (the document's context, its
school year and priced articles), the proxy events API Gateway builds for ``/wssb/admin/paymentDue;contextId=…``
(stage ``uno``, the body base64 as the binary media type ``*/*`` makes it) and the handlers called with
``CUOTAS_TABLE`` set and their cached dependencies dropped, so they build their own from the environment."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from lxml import etree

from ops.cuotas import DEMO_ARTICULO_SIN_PRECIO, DEMO_ARTICULOS_CON_PRECIO, DEMO_CICLO, DEMO_CONTEXTO, seed_demo
from recaudo.data.credentials import CredentialsRepository
from recaudo.data.cuotas import CuotasRepository
from recaudo.data.tables import CREDENTIALS, CUOTAS
from recaudo.models.cuotas import Contexto
from tests.conftest import NOW
from tests.helpers import LambdaContext, rest_event
from tests.integration.radian_harness import Serializado as Serializado  # the client whose calls are atomic one by one

TABLE = "recaudo-cuotas"
CREDENCIALES = os.environ["CREDENTIALS_TABLE"]
CTX = DEMO_CONTEXTO  # businessId 10, schoolId 6498, schoolYearId 64: the document's example
CICLO = DEMO_CICLO  # 2017-01-01 .. 2017-12-31
CON_PRECIO = DEMO_ARTICULOS_CON_PRECIO  # 3245, 3259 (the document's) and 3260
SIN_PRECIO = DEMO_ARTICULO_SIN_PRECIO
DOCUMENTO = (Path(__file__).parents[1] / "data" / "uno_paymentDue_documento.xml").read_bytes()
XSD = etree.XMLSchema(
    etree.parse(str(Path(__file__).parents[2] / "layers/shared/python/recaudo/formats/paymentDue.xsd"))
)


@contextmanager
def una_copia_por_transaccion() -> Iterator[None]:
    """moto backs up a table before a TransactWriteItems once per item of it (a deepcopy in its loop): a
    100-item transaction copies the whole table 100 times, so writing 500 dues costs minutes. Every one of
    those copies is taken before anything is written, so one per table is the same backup; only the time
    changes, not what a transaction does or how it rolls back."""
    import copy
    from types import SimpleNamespace
    from unittest import mock

    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        copias: dict[int, Any] = {}

        def deepcopy(valor: Any, memo: Any = None) -> Any:
            if isinstance(valor, models.Table):
                if id(valor) not in copias:
                    copias[id(valor)] = copy.deepcopy(valor)
                return copias[id(valor)]
            return copy.deepcopy(valor, memo)

        with mock.patch.object(models, "copy", SimpleNamespace(deepcopy=deepcopy)):
            return original(backend, transact_items)

    with mock.patch.object(models.DynamoDBBackend, "transact_write_items", transact_write_items):
        yield


def crear_tablas(ddb: Any) -> None:
    ddb.create_table(**CUOTAS.create_table_kwargs(TABLE))
    ddb.create_table(**CREDENTIALS.create_table_kwargs(CREDENCIALES))


def escanear(ddb: Any, table: str = TABLE) -> list[dict[str, Any]]:
    """Every item of a table (tests only: never a request path), sorted by key."""
    items = [i for page in ddb.get_paginator("scan").paginate(TableName=table) for i in page["Items"]]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def vaciar(ddb: Any) -> None:
    """Both tables empty again (dropped and created: under moto, cheaper than deleting hundreds of items)."""
    for table in (TABLE, CREDENCIALES):
        ddb.delete_table(TableName=table)
    crear_tablas(ddb)


def sembrar(ddb: Any) -> dict[str, Any]:
    """The demo business (with its token), its school year 64 (2017), school 6498 and the priced articles."""
    return seed_demo(CuotasRepository(TABLE, ddb), CredentialsRepository(CREDENCIALES, ddb), NOW)


def cuotas_guardadas(ddb: Any, ctx: Contexto = CTX, atributos: str | None = None) -> list[dict[str, Any]]:
    """The due items of a school and year (only ``atributos``, if given), read with a paginated Query."""
    extra = {"ProjectionExpression": atributos} if atributos else {}
    paginas = ddb.get_paginator("query").paginate(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :abono)",
        ExpressionAttributeValues={
            ":pk": {"S": f"CUOTAS#{ctx.business_id}#{ctx.school_id}#{ctx.school_year_id}"},
            ":abono": {"S": "ABONO#"},
        },
        ConsistentRead=True,
        PaginationConfig={"PageSize": 100},
        **extra,
    )
    return [i for page in paginas for i in page["Items"]]


# ---- the handlers' environment ----


def _olvidar_dependencias() -> None:
    from cuotas.deps import default_cuotas_deps

    from recaudo.aws import nueva_sesion
    from recaudo.settings import load

    default_cuotas_deps.cache_clear()
    load.cache_clear()
    nueva_sesion()


@contextmanager
def entorno(table: str = TABLE) -> Iterator[None]:
    """``CUOTAS_TABLE`` set, and the handlers' cached settings, client and deps dropped before and after:
    inside, the handlers build their dependencies from the environment as in a cold start."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUOTAS_TABLE", table)
        _olvidar_dependencias()
        try:
            yield
        finally:
            _olvidar_dependencias()


# ---- requests and replies ----


def contexto_json(ctx: Contexto | None = CTX, **cambios: Any) -> str:
    """The ``contextId`` JSON of a context; ``cambios`` replace keys (None removes one)."""
    valores: dict[str, Any] = (
        {"businessId": ctx.business_id, "schoolId": ctx.school_id, "schoolYearId": ctx.school_year_id} if ctx else {}
    )
    for nombre, valor in cambios.items():
        if valor is None:
            valores.pop(nombre, None)
        else:
            valores[nombre] = valor
    return json.dumps(valores, separators=(",", ":"))


_request_ids = count(1)


def evento(
    method: str,
    contexto: str | None = None,
    body: bytes | None = None,
    business_id: str | None = "10",
    *,
    segmento: str | None = None,
    body_b64: str | None = None,
) -> dict[str, Any]:
    """A UNO request as API Gateway passes it on: the path percent-encoded as sent (``contexto`` is the
    ``contextId`` JSON, URL-encoded here as real clients do; ``segmento`` replaces the whole last segment
    as is), the business the authorizer vouched for, a request id of its own, and the body base64-encoded
    (binary media type ``*/*``); ``body_b64`` sends a body field as is, still marked base64."""
    if segmento is None:
        segmento = f"paymentDue;contextId={quote(contexto if contexto is not None else contexto_json(), safe='')}"
    path = f"/wssb/admin/{segmento}"
    authorizer = {"principalId": "empresa:x"}
    if business_id is not None:
        authorizer = {"businessId": business_id, "keyId": "0123456789abcdef", "principalId": f"empresa:{business_id}"}
    event = rest_event(
        method,
        path,
        headers={"Content-Type": "application/xml"} if body is not None or body_b64 is not None else None,
        authorizer=authorizer,
    )
    event["resource"] = "/wssb/admin/{recurso}"
    event["pathParameters"] = {"recurso": segmento}
    event["requestContext"]["resourcePath"] = "/wssb/admin/{recurso}"
    event["requestContext"]["stage"] = "uno"
    event["requestContext"]["path"] = f"/uno{path}"
    event["requestContext"]["requestId"] = f"req-{next(_request_ids):06d}"
    if body_b64 is not None:
        event["body"], event["isBase64Encoded"] = body_b64, True
    elif body is not None:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
    return event


@dataclass(frozen=True)
class Respuesta:
    status: int
    content_type: str
    body: str
    request_id: str

    @property
    def xml(self) -> Any:
        return etree.fromstring(self.body.encode("utf-8"))

    def creates(self) -> list[tuple[str | None, str]]:
        """(id, statusCode) of every ``<create>`` of a createResponse, in order."""
        raiz = self.xml
        assert raiz.tag == "createResponse", self.body[:300]
        return [(c.get("id"), c.get("statusCode")) for c in raiz.findall("creates/create")]

    def error(self) -> tuple[str | None, str, str]:
        """(refId, code, message) of an ``<error>`` reply, checking its shape: exactly code and message."""
        raiz = self.xml
        assert raiz.tag == "error", self.body[:300]
        assert [h.tag for h in raiz] == ["code", "message"], self.body[:300]
        assert set(raiz.attrib) == {"refId"}, self.body[:300]
        return raiz.get("refId"), raiz.findtext("code") or "", raiz.findtext("message") or ""


def invocar(modulo: Any, event: dict[str, Any]) -> Respuesta:
    """The handler module's ``handler`` on ``event``; the reply's status, content type and body."""
    response = modulo.handler(event, LambdaContext())
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    content_type = headers.get("content-type") or (multi.get("content-type") or [""])[0]
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return Respuesta(response["statusCode"], content_type, body, event["requestContext"]["requestId"])


# ---- payloads ----


def payload(dues: list[dict[str, Any]], declaracion: bool = True) -> bytes:
    """A ``<paymentDue>`` of ``dues``, each {article, grade, term, salesType, payments: [(price, discount, tax,
    start, end)]}."""
    partes = ['<?xml version="1.0" encoding="utf-8"?>\n'] if declaracion else []
    partes.append("<paymentDue>")
    for d in dues:
        partes.append(
            f"<due><articleRefId>{d['article']}</articleRefId><gradeRefId>{d['grade']}</gradeRefId>"
            f"<termRefId>{d.get('term', 905)}</termRefId><salesTypeRefId>{d.get('salesType', 45)}</salesTypeRefId>"
            "<payments>"
        )
        for price, discount, tax, start, end in d["payments"]:
            partes.append(
                f"<payment><price>{price}</price><discountPercent>{discount}</discountPercent>"
                f"<taxPercent>{tax}</taxPercent><startDate>{start}</startDate><endDate>{end}</endDate></payment>"
            )
        partes.append("</payments></due>")
    partes.append("</paymentDue>")
    return "".join(partes).encode("utf-8")


def precios(raiz: Any, articulo: int) -> list[tuple[Decimal, Decimal, Decimal, str, str]]:
    """The payments a GET reply shows for an article's due."""
    (due,) = [d for d in raiz.findall("due") if d.findtext("articleRefId") == str(articulo)]
    return [
        (
            Decimal(p.findtext("price")),
            Decimal(p.findtext("discountPercent")),
            Decimal(p.findtext("taxPercent")),
            p.findtext("startDate"),
            p.findtext("endDate"),
        )
        for p in due.findall("payments/payment")
    ]
