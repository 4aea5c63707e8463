"""Sistema UNO paymentDue (seed 004) under moto, through the handlers: the document's payload stored and read
back, re-posts and price changes keeping ids, racing requests, 500 dues in one request, price configurations
missing (at read or at write time), every hostile input an XML ``<error>`` with nothing stored, an
unexpected failure a 500 without its trace, and the business-scoped token of the authorizer."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from cuotas import configurar as configurar_handler
from cuotas import consultar as consultar_handler
from cuotas import cuotas as logica
from cuotas.deps import CuotasDeps

from authorizer.token import AuthorizerDeps, Unauthorized, authorize
from recaudo.data.credentials import CredentialsRepository
from recaudo.data.cuotas import CuotasRepository
from recaudo.formats.cuotas import create_response, parse_payment_due
from recaudo.models.cuotas import Contexto, Resultado
from tests.conftest import NOW
from tests.integration.cuotas_harness import (
    CON_PRECIO,
    CREDENCIALES,
    CTX,
    DOCUMENTO,
    SIN_PRECIO,
    TABLE,
    XSD,
    Respuesta,
    Serializado,
    contexto_json,
    crear_tablas,
    cuotas_guardadas,
    entorno,
    escanear,
    evento,
    invocar,
    payload,
    precios,
    sembrar,
    una_copia_por_transaccion,
    vaciar,
)

XML = "application/xml"


def uuid(n: int) -> str:
    return f"00000000-0000-1000-0000-{n:012d}"


@dataclass
class Mundo:
    ddb: Any

    def contador(self) -> int:
        item = self.ddb.get_item(TableName=TABLE, Key={"PK": {"S": "CONTADOR"}, "SK": {"S": "ABONO"}}).get("Item")
        return int(item["valor"]["N"]) if item else 0

    def guardadas(self, ctx: Contexto = CTX) -> dict[int, dict[str, Any]]:
        """The stored dues of a context by article (the tests' dues have one grade per article)."""
        return {int(i["articleRefId"]["N"]): i for i in cuotas_guardadas(self.ddb, ctx)}


@pytest.fixture(scope="module")
def tabla() -> Iterator[Any]:
    """One moto and one pair of tables (cuotas, credentials) for the module, emptied before each test."""
    import boto3
    from moto import mock_aws

    with mock_aws(), una_copia_por_transaccion():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        crear_tablas(ddb)
        yield ddb


@pytest.fixture
def mundo(tabla: Any) -> Iterator[Mundo]:
    """The demo business seeded (school 6498 in year 64 = 2017, articles 3245, 3259 and 3260 priced); the
    handlers build their own dependencies from CUOTAS_TABLE, as in a cold start."""
    vaciar(tabla)
    sembrar(tabla)
    with entorno():
        yield Mundo(tabla)


def post(body: bytes, contexto: str | None = None, business_id: str | None = "10", **kw: Any) -> Respuesta:
    return invocar(configurar_handler, evento("POST", contexto, body, business_id, **kw))


def get(contexto: str | None = None, business_id: str | None = "10", **kw: Any) -> Respuesta:
    return invocar(consultar_handler, evento("GET", contexto, None, business_id, **kw))


def es_xml(r: Respuesta) -> bool:
    return r.content_type.split(";")[0].strip() == XML


# ---- the document's payload ----


def test_given_the_documents_payload_when_posted_then_200_xml_with_one_create_per_due(mundo):
    # When the document's example payload is posted for its context
    r = post(DOCUMENTO)
    # Then 200, XML, a createResponse with exactly one 200 create per <due>, in order, with UNO-shaped ids
    assert r.status == 200 and es_xml(r), r.body
    assert r.creates() == [(uuid(1), "200"), (uuid(2), "200")]
    assert mundo.guardadas().keys() == {3259, 3245}


def test_given_the_document_stored_when_read_back_then_7_payments_exact_and_valid_against_the_xsd(mundo):
    # Given the document's payload stored
    assert post(DOCUMENTO).status == 200
    # When it is read back
    r = get()
    # Then XML valid against paymentDue.xsd, 2 dues (key order: 3245 before 3259) with their ids
    assert r.status == 200 and es_xml(r), r.body
    raiz = r.xml
    assert XSD.validate(raiz), XSD.error_log
    assert [(d.get("id"), d.findtext("articleRefId")) for d in raiz.findall("due")] == [
        (uuid(2), "3245"),
        (uuid(1), "3259"),
    ]
    assert len(raiz.findall("due/payments/payment")) == 7
    assert all(
        (d.findtext("gradeRefId"), d.findtext("termRefId"), d.findtext("salesTypeRefId")) == ("41", "905", "45")
        for d in raiz.findall("due")
    )
    # and every value exact (Decimal-equal to what was sent)
    cinco, cero = Decimal("5.00"), Decimal(0)
    assert precios(raiz, 3259) == [
        (Decimal(84000), cinco, cero, "2017-01-10", "2017-02-13"),
        (Decimal(84000), cinco, cero, "2017-02-14", "2017-03-11"),
        (Decimal(82000), cinco, cero, "2017-03-12", "2017-04-12"),
    ]
    assert precios(raiz, 3245) == [
        (Decimal(30000), cinco, cero, "2017-01-10", "2017-02-13"),
        (Decimal(70000), cinco, cero, "2017-02-14", "2017-03-11"),
        (Decimal(75000), cinco, cero, "2017-03-12", "2017-04-12"),
        (Decimal(25000), cinco, cero, "2017-04-13", "2017-05-13"),
    ]
    # and written with exactly two decimals, whatever DynamoDB kept (it drops trailing zeros)
    pago = raiz.find("due/payments/payment")
    assert [pago.findtext(n) for n in ("price", "discountPercent", "taxPercent")] == ["30000.00", "5.00", "0.00"]
    # and the amounts are stored as DynamoDB numbers, not text
    primer_pago = mundo.guardadas()[3259]["pagos"]["L"][0]["M"]
    assert set(primer_pago["price"]) == {"N"} and Decimal(primer_pago["price"]["N"]) == 84000
    assert set(primer_pago["discountPercent"]) == {"N"} and Decimal(primer_pago["discountPercent"]["N"]) == cinco


def test_given_the_document_stored_when_posted_again_then_the_same_ids_and_nothing_rewritten(mundo):
    # Given the document stored
    assert post(DOCUMENTO).creates() == [(uuid(1), "200"), (uuid(2), "200")]
    antes = escanear(mundo.ddb)
    # When it is posted again, unchanged
    r = post(DOCUMENTO)
    # Then the same ids, and no item changed (no version bump, no id reserved)
    assert r.status == 200 and r.creates() == [(uuid(1), "200"), (uuid(2), "200")]
    assert escanear(mundo.ddb) == antes
    assert mundo.contador() == 2


def test_given_a_stored_due_when_its_price_changes_then_its_id_is_kept_and_the_read_shows_the_new_price(mundo):
    # Given the document stored
    assert post(DOCUMENTO).status == 200
    otra = mundo.guardadas()[3245]
    # When the first payment of article 3259 changes from 84000 to 90000.50
    cambiado = DOCUMENTO.replace(b"<price>84000</price>", b"<price>90000.50</price>", 1)
    assert cambiado != DOCUMENTO
    r = post(cambiado)
    # Then both dues keep their ids; the changed one is at version 2, the other untouched; no new id reserved
    assert r.creates() == [(uuid(1), "200"), (uuid(2), "200")]
    guardadas = mundo.guardadas()
    assert guardadas[3259]["version"] == {"N": "2"} and guardadas[3245] == otra
    assert mundo.contador() == 2
    # and the read-back shows the new price
    assert [p[0] for p in precios(get().xml, 3259)] == [Decimal("90000.50"), Decimal(84000), Decimal(82000)]


# ---- requests racing ----


class _SinMetricas:
    def count(self, name: str, value: int = 1) -> None:
        pass


class _LecturaEnCarrera:
    """The repository, through a client whose calls are atomic one by one, with each request's first read
    of its dues held until every request has made it: they all decide on the same state, then race to write."""

    def __init__(self, ddb: Any, solicitudes: int) -> None:
        self._repo = CuotasRepository(TABLE, Serializado(ddb))
        self._todas_leyeron = threading.Barrier(solicitudes)
        self._hilo = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)

    def cuotas(self, ctx: Contexto, claves: Any) -> Any:
        leidas = self._repo.cuotas(ctx, claves)
        if not getattr(self._hilo, "leyo", False):
            self._hilo.leyo = True
            self._todas_leyeron.wait(timeout=30)
        return leidas


def _carrera(ddb: Any, cuerpos: list[bytes]) -> list[list[Resultado] | BaseException]:
    """Each body posted by its own request (the handler's logic, one thread each), all at once."""
    deps = CuotasDeps(cuotas=_LecturaEnCarrera(ddb, len(cuerpos)), metricas=_SinMetricas())
    salida = threading.Barrier(len(cuerpos))
    resultados: list[list[Resultado] | BaseException] = [RuntimeError("no terminó")] * len(cuerpos)

    def solicitud(i: int) -> None:
        salida.wait(timeout=30)
        try:
            resultados[i] = logica.configurar(CTX.business_id, CTX, parse_payment_due(cuerpos[i]), deps)
        except Exception as exc:  # noqa: BLE001 - any escaped exception is the handler's 500: recorded, asserted on
            resultados[i] = exc

    hilos = [threading.Thread(target=solicitud, args=(i,)) for i in range(len(cuerpos))]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join(timeout=60)
    return resultados


def test_given_6_requests_racing_with_the_same_new_dues_then_each_stored_once_and_every_caller_gets_its_id(mundo):
    # When 6 requests post the document at once, each having read that its dues do not exist yet
    resultados = _carrera(mundo.ddb, [DOCUMENTO] * 6)
    # Then no request failed (the handler's 500), every caller is answered 200 for each due ...
    assert all(isinstance(r, list) for r in resultados), resultados
    respuestas = [r for r in resultados if isinstance(r, list)]
    assert [[x.status for x in r] for r in respuestas] == [[200, 200]] * 6
    # ... and every caller gets the same id per due, as its createResponse says
    assert len({tuple(x.id for x in r) for r in respuestas}) == 1
    ids = [x.id or 0 for x in respuestas[0]]
    assert 0 not in ids and ids[0] != ids[1]
    xml = {create_response(r, "ref") for r in respuestas}
    assert len(xml) == 1
    # and ONE stored due per key, carrying those ids
    guardadas = cuotas_guardadas(mundo.ddb)
    assert sorted((int(i["articleRefId"]["N"]), int(i["id"]["N"])) for i in guardadas) == sorted(
        zip((3259, 3245), ids, strict=True)
    )
    # and the read-back through the handler agrees
    assert sorted(d.get("id") for d in get().xml.findall("due")) == sorted(uuid(i) for i in ids)


def test_given_a_stored_due_when_requests_race_to_change_its_price_then_no_update_is_lost_and_its_id_stays(mundo):
    # Given the document stored
    assert post(DOCUMENTO).status == 200
    original = int(mundo.guardadas()[3259]["id"]["N"])
    # When 5 requests change the same due's first price at once, each to its own price
    nuevos = [f"9{i}000" for i in range(5)]
    cuerpos = [DOCUMENTO.replace(b"<price>84000</price>", f"<price>{p}</price>".encode(), 1) for p in nuevos]
    resultados = _carrera(mundo.ddb, cuerpos)
    # Then every request is answered 200, or 409 after losing every round; never an escaped failure
    assert all(isinstance(r, list) for r in resultados), resultados
    estados = [r[0].status for r in resultados if isinstance(r, list)]
    assert set(estados) <= {200, 409} and 200 in estados
    # and the due keeps its id for every winner
    assert {r[0].id for r in resultados if isinstance(r, list) and r[0].status == 200} == {original}
    # and each winner's write is one version (none overwrote another unseen), the last one's price stays
    guardada = mundo.guardadas()[3259]
    assert int(guardada["version"]["N"]) == 1 + estados.count(200)
    ganadores = {p for p, e in zip(nuevos, estados, strict=True) if e == 200}
    assert guardada["pagos"]["L"][0]["M"]["price"]["N"] in ganadores
    assert len(cuotas_guardadas(mundo.ddb)) == 2


# ---- many dues in one request ----

_TRAMOS = (
    (date(2017, 1, 1), date(2017, 3, 31)),
    (date(2017, 4, 1), date(2017, 6, 30)),
    (date(2017, 7, 1), date(2017, 12, 31)),
)


def test_given_500_dues_over_3_priced_articles_when_posted_then_500_creates_all_stored_ids_consecutive(mundo):
    # Given 500 dues (distinct grades, 3 priced articles), each with contiguous ranges covering the school year
    dues = [
        {
            "article": CON_PRECIO[i % 3],
            "grade": i + 1,
            "payments": [(f"{1000 + i}.50", "2.50", "19", a, b) for a, b in _TRAMOS],
        }
        for i in range(500)
    ]
    # When posted in one request
    r = post(payload(dues))
    # Then 500 creates, every one 200, in order, with distinct and consecutive ids
    assert r.status == 200, r.body[:500]
    creates = r.creates()
    assert len(creates) == 500 and {s for _, s in creates} == {"200"}
    ids = [int(str(i)[-12:]) for i, _ in creates]
    assert len(set(ids)) == 500 and sorted(ids) == list(range(min(ids), min(ids) + 500))
    # and all 500 stored (a Query over the school and year), each with its own id
    guardadas = cuotas_guardadas(mundo.ddb, atributos="id, gradeRefId")
    assert len(guardadas) == 500
    assert {int(i["id"]["N"]) for i in guardadas} == set(ids)
    assert {int(i["gradeRefId"]["N"]) for i in guardadas} == set(range(1, 501))
    # and the read-back pages through all of them, valid against the schema
    leida = get()
    assert len(leida.xml.findall("due")) == 500 and XSD.validate(leida.xml)


# ---- price configurations ----


def _due(article: int, grade: int = 41) -> dict[str, Any]:
    return {"article": article, "grade": grade, "payments": [("1000", "0", "0", "2017-02-01", "2017-02-28")]}


def test_given_a_due_with_an_unpriced_article_when_posted_then_it_gets_404_naming_it_and_the_rest_are_stored(mundo):
    # When a request carries a due of an article with no price configuration between two priced ones
    r = post(payload([_due(3259), _due(SIN_PRECIO), _due(3245)]))
    # Then 200 with that due's create 404 (no id) carrying its error, which names the article
    assert r.status == 200
    assert r.creates() == [(uuid(1), "200"), (None, "404"), (uuid(2), "200")]
    error = r.xml.find("creates/create[2]/error")
    assert error is not None and error.findtext("code") == "404" and error.get("refId") == r.request_id
    assert str(SIN_PRECIO) in (error.findtext("message") or "")
    # and the others are stored, not it
    assert mundo.guardadas().keys() == {3259, 3245}


def test_given_a_price_configuration_deleted_between_the_read_and_the_write_then_that_due_404_nothing_stored(
    mundo, monkeypatch
):
    # Given article 3260's price configuration, deleted right after the request read it as present
    leer = CuotasRepository.articulos_con_precio

    def leer_y_borrar(self: CuotasRepository, ctx: Contexto, articulos: Any) -> set[int]:
        con_precio = leer(self, ctx, articulos)
        mundo.ddb.delete_item(
            TableName=TABLE,
            Key={
                "PK": {"S": f"CUOTAS#{ctx.business_id}#{ctx.school_id}#{ctx.school_year_id}"},
                "SK": {"S": "PRECIO#3260"},
            },
        )
        return con_precio

    monkeypatch.setattr(CuotasRepository, "articulos_con_precio", leer_y_borrar)
    # When a request carries dues of 3259, 3260 and 3245 (one transaction)
    r = post(payload([_due(3259), _due(3260), _due(3245)]))
    # Then the 3260 due is refused at write time, 404 naming it; the others stored
    assert r.status == 200
    estados = r.creates()
    assert [s for _, s in estados] == ["200", "404", "200"] and estados[1][0] is None
    assert "3260" in (r.xml.findtext("creates/create[2]/error/message") or "")
    assert mundo.guardadas().keys() == {3259, 3245}


def test_given_repeated_and_gapped_dues_when_posted_then_each_its_own_refusal_and_the_valid_one_stored(mundo):
    # Given a valid due, the same key again, and a due whose ranges leave a gap
    hueco = {
        "article": 3260,
        "grade": 7,
        "payments": [("1", "0", "0", "2017-02-01", "2017-02-10"), ("1", "0", "0", "2017-02-12", "2017-02-20")],
    }
    r = post(payload([_due(3259), _due(3259), hueco]))
    # Then 200 for the first, 409 for the repeated one, 400 for the gap; only the first stored
    assert r.status == 200
    assert r.creates() == [(uuid(1), "200"), (None, "409"), (None, "400")]
    assert "contiguos" in (r.xml.findtext("creates/create[3]/error/message") or "")
    assert mundo.guardadas().keys() == {3259}


# ---- hostile input: always an XML <error>, never a 500, nothing stored ----

_VALIDO = DOCUMENTO.split(b"?>", 1)[1]  # the document without its declaration
_LOL = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b"]>\n<paymentDue><due><articleRefId>&lol9;</articleRefId></due></paymentDue>"
)
_CASOS_POST: dict[str, tuple[dict[str, Any], int, str]] = {
    "xxe": (
        {
            "body": b'<?xml version="1.0"?>\n<!DOCTYPE paymentDue [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            + _VALIDO.replace(b"<articleRefId>3259", b"<articleRefId>&xxe;3259")
        },
        400,
        "DOCTYPE",
    ),
    # libxml2's amplification limit stops these before the DOCTYPE check: a 400 either way, nothing expanded
    "billion laughs": ({"body": _LOL}, 400, ""),
    "quadratic blow-up": (
        {
            "body": b'<?xml version="1.0"?>\n<!DOCTYPE paymentDue [<!ENTITY a "'
            + b"a" * 200_000
            + b'">]>\n<paymentDue><due><articleRefId>'
            + b"&a;" * 300_000
            + b"</articleRefId></due></paymentDue>"
        },
        400,
        "",
    ),
    "external DTD": (
        {"body": b'<?xml version="1.0"?>\n<!DOCTYPE paymentDue SYSTEM "http://169.254.169.254/x.dtd">\n' + _VALIDO},
        400,
        "DOCTYPE",
    ),
    "deep nesting": (
        {"body": b"<paymentDue><due>" + b"<a>" * 5000 + b"x" + b"</a>" * 5000 + b"</due></paymentDue>"},
        400,
        "mal formado",  # libxml2's depth limit (256)
    ),
    "10 MB body": (
        {"body": DOCUMENTO.replace(b"<paymentDue>", b"<paymentDue>" + b" " * (10 * 1024 * 1024), 1)},
        413,
        "MB",
    ),
    "latin-1 bytes declared utf-8": (
        {"body": DOCUMENTO.replace(b"<paymentDue>", "<paymentDue><!-- año -->".encode("latin-1"), 1)},
        400,
        "mal formado",
    ),
    "unknown encoding": (
        {"body": DOCUMENTO.replace(b'encoding="utf-8"', b'encoding="x-klingon-9"', 1)},
        400,
        "x-klingon-9",
    ),
    "not base64": ({"body_b64": "<paymentDue>¡esto no es base64!</paymentDue>"}, 400, "ilegible"),
    "truncated": ({"body": DOCUMENTO[: len(DOCUMENTO) // 2]}, 400, "mal formado"),
    "empty": ({"body": b""}, 400, "Falta el payload"),
    "json body": ({"body": b'{"paymentDue": []}'}, 400, "mal formado"),
    "a namespace": (
        {"body": DOCUMENTO.replace(b"<paymentDue>", b'<paymentDue xmlns="http://www.sifassociation.org/3.x">', 1)},
        400,
        "espacio de nombres",
    ),
    "price as a float": (
        {"body": DOCUMENTO.replace(b"<price>84000</price>", b"<price>8.4E4</price>", 1)},
        400,
        "price",
    ),
    "another business's contextId": (
        {"body": DOCUMENTO, "contexto": contexto_json(businessId=11)},
        403,
        "no autoriza",
    ),
    "a school not in the year": ({"body": DOCUMENTO, "contexto": contexto_json(schoolId=6499)}, 404, "No existe"),
    "a school year of no school": ({"body": DOCUMENTO, "contexto": contexto_json(schoolYearId=65)}, 404, "No existe"),
    "missing schoolYearId": (
        {"body": DOCUMENTO, "contexto": contexto_json(schoolYearId=None)},
        400,
        "Debe especificar un ciclo para consultar.",
    ),
    "the document's malformed contextId, as a client encodes it": (
        {
            "body": DOCUMENTO,
            "segmento": "paymentDue;contextId=%20%7B%22businessId%22;10,%22schoolId%22:6498,%22schoolYearId%22:64%7D",
        },
        400,
        "contextId mal formado",
    ),
    "the document's malformed contextId, as printed": (
        {"body": DOCUMENTO, "segmento": 'paymentDue;contextId= {"businessId";10,"schoolId":6498,"schoolYearId":64}'},
        400,
        "contextId mal formado",
    ),
    "contextId not JSON": ({"body": DOCUMENTO, "contexto": "{businessId:10}"}, 400, "JSON"),
    "another entity": ({"body": DOCUMENTO, "segmento": f"invoice;contextId={contexto_json()}"}, 404, "Recurso"),
}


@pytest.mark.parametrize("caso", list(_CASOS_POST))
def test_given_hostile_input_when_posted_then_an_xml_error_of_its_status_and_nothing_stored(mundo, caso):
    # Given the document already stored (so "nothing changed" has something to keep)
    assert post(DOCUMENTO).status == 200
    antes = escanear(mundo.ddb)
    kwargs, status, mensaje = _CASOS_POST[caso]
    kwargs = dict(kwargs)
    body = kwargs.pop("body", None)
    # When the hostile request is posted
    r = post(body, **kwargs) if body is not None else post(b"", **kwargs)
    # Then an XML <error refId><code/><message/></error> of the expected status, never a 500
    assert r.status == status, r.body[:500]
    assert es_xml(r)
    ref_id, code, texto = r.error()
    assert ref_id == r.request_id and code == str(status)
    assert mensaje in texto
    # and no secret file, expansion or trace leaks into it
    assert "root:" not in r.body and "lollol" not in r.body and "aaaa" not in r.body and "Traceback" not in r.body
    # and nothing stored or reserved
    assert escanear(mundo.ddb) == antes


def _doctype_externo(tmp_path: Any) -> dict[str, bytes]:
    """Payloads whose DOCTYPE names something outside the request: a local file (that exists, and is no
    DTD), the same file as an external parameter entity, and a URL."""
    archivo = tmp_path / "no-es-un-dtd.txt"
    archivo.write_text("linea de un archivo del servidor\n", encoding="utf-8")
    return {
        "local file as the external subset": (
            f'<?xml version="1.0"?>\n<!DOCTYPE paymentDue SYSTEM "{archivo.as_uri()}">\n'.encode() + _VALIDO
        ),
        "local file as a parameter entity": (
            f'<?xml version="1.0"?>\n<!DOCTYPE paymentDue [<!ENTITY % x SYSTEM "{archivo.as_uri()}"> %x;]>\n'.encode()
            + _VALIDO
        ),
        "URL as the external subset": (
            b'<?xml version="1.0"?>\n<!DOCTYPE paymentDue SYSTEM "http://169.254.169.254/latest/x.dtd">\n' + _VALIDO
        ),
    }


def test_given_a_doctype_naming_an_external_dtd_when_posted_then_only_the_doctype_refusal_nothing_loaded(
    mundo, tmp_path
):
    # Given payloads whose DOCTYPE points outside the request
    for nombre, cuerpo in _doctype_externo(tmp_path).items():
        # When posted
        r = post(cuerpo)
        # Then the same DOCTYPE refusal for all: nothing outside the request was read (with collect_ids=False,
        # libxml2 read the file and the reply told whether it existed), nothing of it answered
        assert r.status == 400, nombre
        assert r.error()[2] == "El payload no puede declarar un DOCTYPE (ni DTD ni entidades).", (nombre, r.body)
    assert cuotas_guardadas(mundo.ddb) == []


def test_given_a_non_base64_body_field_when_posted_then_400_and_not_decoded_leniently(mundo):
    # Given a body field with characters base64 never has (a lenient decoder would drop them)
    limpio = base64.b64encode(DOCUMENTO).decode()
    r = post(b"", body_b64=limpio[:40] + "*" + limpio[40:])
    # Then 400, nothing stored
    assert r.status == 400 and r.error()[2] == "Cuerpo ilegible."
    assert cuotas_guardadas(mundo.ddb) == []


@pytest.mark.parametrize(
    ("contexto", "business_id", "status", "mensaje"),
    [
        (contexto_json(schoolYearId=None), "10", 400, "Debe especificar un ciclo para consultar."),
        (contexto_json(businessId=11), "10", 403, "no autoriza"),
        (contexto_json(schoolId=6499), "10", 404, "No existe la entidad con el id especificado."),
        (contexto_json(), "11", 403, "no autoriza"),
        (contexto_json(), "10", 404, "No se encontraron datos con los parámetros especificados."),
    ],
    ids=["missing schoolYearId", "another business", "school not in the year", "another token", "no dues yet"],
)
def test_given_a_bad_or_empty_context_when_read_then_an_xml_error_of_its_status(
    mundo, contexto, business_id, status, mensaje
):
    # When the dues are read with that context and token
    r = get(contexto, business_id)
    # Then the XML error, with the document's message
    assert r.status == status and es_xml(r), r.body
    ref_id, code, texto = r.error()
    assert ref_id == r.request_id and code == str(status) and mensaje in texto


def test_given_the_document_in_utf16_with_its_bom_when_posted_then_read_as_sent_and_stored(mundo):
    # Given the document's payload in UTF-16 with a BOM (the bytes, not API Gateway, decide the encoding)
    utf16 = DOCUMENTO.decode("utf-8").replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")
    # When posted / Then both dues stored
    assert post(utf16).creates() == [(uuid(1), "200"), (uuid(2), "200")]


# ---- an unexpected failure ----


def test_given_an_unexpected_exception_in_the_logic_when_posted_then_500_xml_without_its_trace(mundo, monkeypatch):
    # Given the id counter failing with something no handler expects
    def falla(self: CuotasRepository, cantidad: int) -> list[int]:
        raise KeyError("detalle-interno-secreto")

    monkeypatch.setattr(CuotasRepository, "reservar_ids", falla)
    # When the document is posted
    r = post(DOCUMENTO)
    # Then 500 in the UNO dialect, with neither the trace nor the exception's text in the body
    assert r.status == 500 and es_xml(r)
    ref_id, code, mensaje = r.error()
    assert ref_id == r.request_id and code == "500" and mensaje
    for fuga in ("Traceback", "KeyError", "detalle-interno-secreto", ".py"):
        assert fuga not in r.body
    # and nothing stored
    assert cuotas_guardadas(mundo.ddb) == []


# ---- the authorizer ----

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/uno/POST/wssb/admin/paymentDue;contextId=x"


@pytest.fixture
def credenciales(mundo: Mundo) -> CredentialsRepository:
    return CredentialsRepository(CREDENCIALES, mundo.ddb)


def test_given_a_business_token_when_authorized_for_uno_then_its_businessId_opens_that_business(credenciales):
    # Given a token issued for business 10
    token = credenciales.add_business_token(10, NOW)
    # When the UNO API's authorizer checks it
    result = authorize(f"Token {token}", METHOD_ARN, AuthorizerDeps(credenciales, scope="uno"))
    # Then the whole stage is allowed, with businessId "10" in the context
    statement = result["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:us-east-1:123456789012:abc123/uno/*/*"
    assert result["context"]["businessId"] == "10" and result["principalId"] == "empresa:10"
    # and that context, as API Gateway passes it on, lets the handler store the document
    assert post(DOCUMENTO, business_id=result["context"]["businessId"]).creates() == [
        (uuid(1), "200"),
        (uuid(2), "200"),
    ]


@pytest.mark.parametrize("scope", ["radian", "conectividad"])
def test_given_a_business_token_when_presented_to_another_api_then_unauthorized(credenciales, scope):
    token = credenciales.add_business_token(10, NOW)
    with pytest.raises(Unauthorized):
        authorize(f"Token {token}", METHOD_ARN, AuthorizerDeps(credenciales, scope=scope))


@pytest.mark.parametrize("otro", ["radian tenant", "bank"])
def test_given_another_apis_token_when_presented_to_uno_then_unauthorized(credenciales, otro):
    # Given a RADIAN tenant's token or a bank's token (each valid in its own API)
    if otro == "bank":
        token, scope = credenciales.create_bank("00152", "Banco Nacional", NOW).token, "conectividad"
    else:
        token, scope = credenciales.create_tenant("acme", "ACME SAS", NOW), "radian"
    assert authorize(f"Token {token}", METHOD_ARN, AuthorizerDeps(credenciales, scope=scope))["context"]
    # When presented to the UNO API / Then refused
    with pytest.raises(Unauthorized):
        authorize(f"Token {token}", METHOD_ARN, AuthorizerDeps(credenciales, scope="uno"))


def test_given_a_revoked_business_token_when_authorized_for_uno_then_unauthorized(credenciales):
    token = credenciales.add_business_token(10, NOW)
    credenciales.revoke_token(token.split(".")[0])
    with pytest.raises(Unauthorized):
        authorize(f"Token {token}", METHOD_ARN, AuthorizerDeps(credenciales, scope="uno"))
