"""Sistema UNO ``paymentDue`` on the wire (``recaudo.formats.cuotas``), without AWS: the SIF matrix parameter,
the XML payload parsed hardened and checked against ``paymentDue.xsd`` (every rule with its Spanish message
and position), an attack corpus that must be refused without reading a file or touching the network, the
encodings a BOM or a declaration choose, and the replies (``createResponse``, ``<error>``, the read-back)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from lxml import etree

from recaudo.formats import cuotas as formato
from recaudo.formats.cuotas import (
    MAX_BYTES,
    MAX_SEGMENTO,
    contexto,
    create_response,
    error_xml,
    parse_payment_due,
    payment_due,
    segmento,
)
from recaudo.models.cuotas import (
    MAX_ID,
    SIN_CICLO,
    SIN_COLEGIO,
    SIN_EMPRESA,
    ClaveCuota,
    Contexto,
    Cuota,
    Pago,
    Resultado,
    UnoError,
    numero_de,
    uuid_de,
)

DOCUMENTO = (Path(__file__).resolve().parents[1] / "data" / "uno_paymentDue_documento.xml").read_bytes()
CONTEXTO_JSON = '{"businessId":10,"schoolId":6498,"schoolYearId":64}'
CONTEXTO = Contexto(10, 6498, 64)
DOCTYPE = "El payload no puede declarar un DOCTYPE (ni DTD ni entidades)."
SECRETO = "SECRETO-del-disco-9f3a1c"


def ruta(valor: str, extra: str = "") -> str:
    """The route's last segment as a real client sends it: the JSON URL-encoded."""
    return f"paymentDue{extra};contextId={quote(valor, safe='')}"


def ctx_de(segmento_crudo: str) -> Contexto:
    return contexto(segmento(segmento_crudo)[1])


def rechazo_de_contexto(segmento_crudo: str) -> UnoError:
    with pytest.raises(UnoError) as info:
        ctx_de(segmento_crudo)
    return info.value


def rechazo(data: bytes) -> UnoError:
    with pytest.raises(UnoError) as info:
        parse_payment_due(data)
    return info.value


def cambiar(viejo: bytes, nuevo: bytes, data: bytes = DOCUMENTO) -> bytes:
    """The document's payload with the first ``viejo`` replaced."""
    assert viejo in data
    return data.replace(viejo, nuevo, 1)


def pago_xml(desde: str = "2017-01-01", hasta: str = "2017-01-31", price: str = "1000") -> str:
    return (
        f"<payment><price>{price}</price><discountPercent>0</discountPercent><taxPercent>0</taxPercent>"
        f"<startDate>{desde}</startDate><endDate>{hasta}</endDate></payment>"
    )


def due_xml(articulo: int, pagos: int = 1) -> str:
    return (
        f"<due><articleRefId>{articulo}</articleRefId><gradeRefId>1</gradeRefId><termRefId>1</termRefId>"
        f"<salesTypeRefId>1</salesTypeRefId><payments>{pago_xml() * pagos}</payments></due>"
    )


def payload(*dues: str) -> bytes:
    return ("<paymentDue>" + "".join(dues) + "</paymentDue>").encode()


# ---- the matrix parameter ----


def test_given_the_url_encoded_json_when_the_segment_is_read_then_the_entity_and_the_three_ids():
    # Given paymentDue;contextId=%7B%22businessId%22%3A10…  / When read
    entidad, params = segmento(ruta(CONTEXTO_JSON))
    # Then the entity, the decoded JSON and the three ids
    assert entidad == "paymentDue"
    assert params == {"contextId": CONTEXTO_JSON}
    assert contexto(params) == CONTEXTO


@pytest.mark.parametrize("espacio", [" ", "%20"], ids=["space", "percent20"])
def test_given_a_leading_space_before_the_json_when_read_then_it_is_tolerated(espacio):
    # Given the document's "contextId= {…}" with the JSON itself well formed and encoded
    crudo = f"paymentDue;contextId={espacio}{quote(CONTEXTO_JSON, safe='')}"
    # When read / Then the same context
    assert ctx_de(crudo) == CONTEXTO


@pytest.mark.parametrize(
    "crudo",
    [
        'paymentDue;contextId= {"businessId";10,"schoolId";6498,"schoolYearId";64}',  # verbatim from the document
        "paymentDue;contextId=%20%7B%22businessId%22;10,%22schoolId%22;6498,%22schoolYearId%22;64%7D",
    ],
    ids=["verbatim", "quotes-encoded"],
)
def test_given_the_documents_malformed_example_when_read_then_400_explaining_colon_and_url_encoding(crudo):
    # Given {"businessId";10,…}: ';' instead of ':' splits the segment / When read
    error = rechazo_de_contexto(crudo)
    # Then 400 "contextId mal formado", with the well-formed example to copy
    assert error.status == 400
    assert error.mensaje.startswith("contextId mal formado: use ':' entre cada nombre y su valor")
    assert ";contextId=%7B%22businessId%22%3A10%2C%22schoolId%22%3A6498%2C%22schoolYearId%22%3A64%7D" in error.mensaje


@pytest.mark.parametrize(
    ("falta", "mensaje"),
    [("businessId", SIN_EMPRESA), ("schoolId", SIN_COLEGIO), ("schoolYearId", SIN_CICLO)],
)
def test_given_an_id_missing_from_the_context_when_read_then_400_with_its_own_message(falta, mensaje):
    # Given the context without one of its ids
    ids = json.loads(CONTEXTO_JSON)
    del ids[falta]
    # When read
    error = rechazo_de_contexto(ruta(json.dumps(ids)))
    # Then 400 with the document's message for that id
    assert (error.status, error.mensaje) == (400, mensaje)


def test_given_no_school_year_when_read_then_exactly_the_documents_message():
    error = rechazo_de_contexto(ruta('{"businessId":10,"schoolId":6498}'))
    assert error.mensaje == "Debe especificar un ciclo para consultar."


@pytest.mark.parametrize("crudo", ["paymentDue", "paymentDue;contextId=", "paymentDue;contextId=%20%20"])
def test_given_no_context_at_all_when_read_then_400_asking_for_the_business(crudo):
    error = rechazo_de_contexto(crudo)
    assert (error.status, error.mensaje) == (400, SIN_EMPRESA)


@pytest.mark.parametrize(
    "valor", [0, -1, 1.5, True, "abc", "1e3", "-3", [1], {"v": 1}, 10**18], ids=lambda v: f"{v!r}"[:20]
)
@pytest.mark.parametrize("nombre", ["businessId", "schoolId", "schoolYearId"])
def test_given_an_id_that_is_not_a_positive_integer_when_read_then_400_naming_it(nombre, valor):
    # Given one id set to something else than a positive integer
    ids = json.loads(CONTEXTO_JSON) | {nombre: valor}
    # When read
    error = rechazo_de_contexto(ruta(json.dumps(ids)))
    # Then 400 naming the id
    assert (error.status, error.mensaje) == (400, f"{nombre} debe ser un entero positivo.")


def test_given_ids_as_digit_strings_when_read_then_accepted_as_integers():
    ctx = ctx_de(ruta('{"businessId":"10","schoolId":" 6498 ","schoolYearId":"64"}'))
    assert ctx == CONTEXTO
    assert isinstance(ctx.school_id, int)


def test_given_other_keys_in_the_context_when_read_then_ignored():
    assert ctx_de(ruta('{"businessId":10,"schoolId":6498,"schoolYearId":64,"zone":"x"}')) == CONTEXTO


@pytest.mark.parametrize(
    "crudo", ["paymentDue;contextId=%5B1%5D", "paymentDue;contextId=42", "paymentDue;contextId=%22x%22"]
)
def test_given_json_that_is_not_an_object_when_read_then_400(crudo):
    error = rechazo_de_contexto(crudo)
    assert error.status == 400
    assert error.mensaje == "contextId debe ser un objeto JSON con businessId, schoolId y schoolYearId."


def test_given_zone_id_default_when_read_then_accepted_alongside_the_context():
    entidad, params = segmento("paymentDue;zoneId=DEFAULT" + ruta(CONTEXTO_JSON).removeprefix("paymentDue"))
    assert (entidad, params["zoneId"]) == ("paymentDue", "DEFAULT")
    assert contexto(params) == CONTEXTO


@pytest.mark.parametrize(
    ("crudo", "inicio"),
    [
        (ruta(CONTEXTO_JSON) + ";foo=1", "Parámetro de matriz desconocido: 'foo'"),
        (ruta(CONTEXTO_JSON) + ";" + ruta(CONTEXTO_JSON).split(";", 1)[1], "Parámetro de matriz repetido: contextId"),
        ("paymentDue;zoneId=A;zoneId=B", "Parámetro de matriz repetido: zoneId"),
        ("paymentDue;contextId", "Parámetro de matriz mal formado: 'contextId'"),
        ("paymentDue;;" + ruta(CONTEXTO_JSON).split(";", 1)[1], "Parámetro de matriz mal formado: ''"),
    ],
    ids=["unknown", "repeated-context", "repeated-zone", "no-equals", "empty"],
)
def test_given_an_unknown_repeated_or_malformed_matrix_parameter_when_read_then_400(crudo, inicio):
    with pytest.raises(UnoError) as info:
        segmento(crudo)
    assert info.value.status == 400
    assert info.value.mensaje.startswith(inicio)


def test_given_a_segment_over_the_limit_when_read_then_400_before_decoding():
    # Given a segment one character over MAX_SEGMENTO (the limit itself is accepted)
    base = ruta(CONTEXTO_JSON)
    exacto = base + "%20" * ((MAX_SEGMENTO - len(base)) // 3)
    assert ctx_de(exacto + " " * (MAX_SEGMENTO - len(exacto))) == CONTEXTO
    # When one more / Then 400 naming the limit
    with pytest.raises(UnoError) as info:
        segmento(exacto + " " * (MAX_SEGMENTO - len(exacto) + 1))
    assert (info.value.status, info.value.mensaje) == (400, "La ruta es demasiado larga (más de 1024 caracteres).")


@pytest.mark.parametrize(
    "crudo",
    [
        "paymentDue;contextId=" + "[" * 500 + "]" * 500,
        "paymentDue;contextId=" + "[" * (MAX_SEGMENTO - 21),
        "paymentDue;contextId=" + '{"a":' * 200,
    ],
    ids=["balanced", "open", "objects"],
)
def test_given_deeply_nested_json_in_the_segment_when_read_then_400_and_no_recursion_error(crudo):
    error = rechazo_de_contexto(crudo)  # a RecursionError would fail pytest.raises(UnoError)
    assert error.status == 400
    assert error.mensaje.startswith("contextId")


@pytest.mark.parametrize("texto", ["[" * 100_000, '{"a":' * 100_000, "[" * 50_000 + "]" * 50_000])
def test_given_json_deeper_than_the_interpreter_allows_when_the_context_is_read_then_400_and_no_recursion_error(texto):
    # Given a contextId nesting far past the recursion limit (bypassing the segment's length limit)
    with pytest.raises(UnoError) as info:
        contexto({"contextId": texto})
    # Then a clean 400, never a RecursionError
    assert info.value.status == 400
    assert info.value.mensaje.startswith("contextId no es JSON válido")


def test_given_a_context_whose_percent_encoding_is_not_utf8_when_read_then_400():
    # Given ;contextId=%FF (API Gateway passes %25FF through as %FF) / When read / Then 400, not a crash
    error = rechazo_de_contexto("paymentDue;contextId=%FF%7B%7D")
    assert error.status == 400


# ---- the payload ----


def test_given_the_documents_payload_when_parsed_then_two_dues_of_three_and_four_payments_as_decimals_and_dates():
    # When the document's own payload (2 dues, 7 payments) is parsed
    cuotas = parse_payment_due(DOCUMENTO)
    # Then the two dues, in order, with their keys
    assert [c.clave for c in cuotas] == [ClaveCuota(3259, 41, 905, 45), ClaveCuota(3245, 41, 905, 45)]
    assert [len(c.pagos) for c in cuotas] == [3, 4]
    assert all(c.id is None and c.version == 0 for c in cuotas)
    # And money as Decimal, never float, keeping the sent scale
    primero = cuotas[0].pagos[0]
    assert primero == Pago(Decimal("84000"), Decimal("5.00"), Decimal("0"), date(2017, 1, 10), date(2017, 2, 13))
    assert type(primero.price) is Decimal and type(primero.discount_percent) is Decimal
    assert str(primero.discount_percent) == "5.00"
    assert [p.price for p in cuotas[1].pagos] == [Decimal(v) for v in ("30000", "70000", "75000", "25000")]
    assert cuotas[1].pagos[-1].end_date == date(2017, 5, 13)


def test_given_elements_in_any_order_inside_due_and_payment_when_parsed_then_the_same_dues():
    # Given the first due's key elements and first payment's children reordered
    desordenado = cambiar(
        b"<articleRefId>3259</articleRefId>\n<gradeRefId>41</gradeRefId>\n<termRefId>905</termRefId>\n"
        b"<salesTypeRefId>45</salesTypeRefId>\n<payments>",
        b"<salesTypeRefId>45</salesTypeRefId><termRefId>905</termRefId><gradeRefId>41</gradeRefId>"
        b"<articleRefId>3259</articleRefId><payments>",
    )
    desordenado = cambiar(
        b"<price>84000</price>\n<discountPercent>5.00</discountPercent>\n<taxPercent>0</taxPercent>\n"
        b"<startDate>2017-01-10</startDate>\n<endDate>2017-02-13</endDate>",
        b"<endDate>2017-02-13</endDate><taxPercent>0</taxPercent><startDate>2017-01-10</startDate>"
        b"<discountPercent>5.00</discountPercent><price>84000</price>",
        desordenado,
    )
    # And payments after the key, the key after payments in the second due
    desordenado = cambiar(
        b"<articleRefId>3245</articleRefId>\n<gradeRefId>41</gradeRefId>\n<termRefId>905</termRefId>\n"
        b"<salesTypeRefId>45</salesTypeRefId>\n",
        b"",
        desordenado,
    ).replace(
        b"</payments>\n</due>\n</paymentDue>",
        b"</payments><articleRefId>3245</articleRefId><gradeRefId>41</gradeRefId><termRefId>905</termRefId>"
        b"<salesTypeRefId>45</salesTypeRefId></due></paymentDue>",
    )
    # When parsed / Then exactly the document's dues
    assert parse_payment_due(desordenado) == parse_payment_due(DOCUMENTO)


@pytest.mark.parametrize(
    ("viejo", "nuevo"),
    [
        (b"<paymentDue>", b'<paymentDue xmlns="http://www.sistemauno.com/paymentDue">'),
        (b"<paymentDue>", b'<p:paymentDue xmlns:p="urn:uno">'),
    ],
    ids=["default-namespace", "prefixed"],
)
def test_given_a_namespace_on_the_root_when_parsed_then_400_saying_no_namespace(viejo, nuevo):
    data = cambiar(viejo, nuevo)
    if b"p:paymentDue" in nuevo:
        data = data.replace(b"</paymentDue>", b"</p:paymentDue>")
    error = rechazo(data)
    assert error.status == 400
    assert error.mensaje.startswith("Se espera el elemento raíz <paymentDue> sin espacio de nombres, no <{")


def test_given_another_root_element_when_parsed_then_400_naming_it():
    error = rechazo(b"<paymentDues/>")
    assert (error.status, error.mensaje) == (
        400,
        "Se espera el elemento raíz <paymentDue> sin espacio de nombres, no <paymentDues>.",
    )


PRICE = "price debe ser un decimal mayor o igual a 0, con a lo sumo 2 decimales"
PERCENT = "{} debe estar entre 0 y 100, con a lo sumo 2 decimales"
FECHA = "{} debe ser una fecha AAAA-MM-DD"
ENTERO = "{} debe ser un entero positivo"


@pytest.mark.parametrize(
    ("viejo", "nuevo", "donde", "regla", "recibido"),
    [
        (b"<price>84000</price>", b"<price>-1</price>", "due 1, payment 1", PRICE, "-1"),
        (b"<price>84000</price>", b"<price>1.234</price>", "due 1, payment 1", PRICE, "1.234"),
        (b"<price>84000</price>", b"<price>3e5</price>", "due 1, payment 1", PRICE, "3e5"),
        (b"<price>84000</price>", b"<price>NaN</price>", "due 1, payment 1", PRICE, "NaN"),
        (b"<price>84000</price>", b"<price>1234567890123456</price>", "due 1, payment 1", PRICE, "1234567890123456"),
        (b"<price>84000</price>", b"<price></price>", "due 1, payment 1", PRICE, ""),
        (
            b"<discountPercent>5.00<",
            b"<discountPercent>101<",
            "due 1, payment 1",
            PERCENT.format("discountPercent"),
            "101",
        ),
        (
            b"<discountPercent>5.00<",
            b"<discountPercent>5.001<",
            "due 1, payment 1",
            PERCENT.format("discountPercent"),
            "5.001",
        ),
        (
            b"<discountPercent>5.00<",
            b"<discountPercent>-1<",
            "due 1, payment 1",
            PERCENT.format("discountPercent"),
            "-1",
        ),
        (b"<taxPercent>0<", b"<taxPercent>101<", "due 1, payment 1", PERCENT.format("taxPercent"), "101"),
        (b"<taxPercent>0<", b"<taxPercent>5.001<", "due 1, payment 1", PERCENT.format("taxPercent"), "5.001"),
        (b"<taxPercent>0<", b"<taxPercent>-1<", "due 1, payment 1", PERCENT.format("taxPercent"), "-1"),
        (b"<articleRefId>3259<", b"<articleRefId>0<", "due 1", ENTERO.format("articleRefId"), "0"),
        (b"<gradeRefId>41<", b"<gradeRefId>-3<", "due 1", ENTERO.format("gradeRefId"), "-3"),
        (b"<termRefId>905<", b"<termRefId>abc<", "due 1", ENTERO.format("termRefId"), "abc"),
        (b"<salesTypeRefId>45<", b"<salesTypeRefId>4.5<", "due 1", ENTERO.format("salesTypeRefId"), "4.5"),
        (
            b"<articleRefId>3259<",
            b"<articleRefId>1234567890123456789<",
            "due 1",
            ENTERO.format("articleRefId"),
            "1234567890123456789",
        ),
        (
            b"<startDate>2017-01-10<",
            b"<startDate>2017-1-10<",
            "due 1, payment 1",
            FECHA.format("startDate"),
            "2017-1-10",
        ),
        (
            b"<startDate>2017-01-10<",
            b"<startDate>2017-01-10Z<",
            "due 1, payment 1",
            FECHA.format("startDate"),
            "2017-01-10Z",
        ),
        (b"<endDate>2017-02-13<", b"<endDate>2017-02-30<", "due 1, payment 1", FECHA.format("endDate"), "2017-02-30"),
        (
            b"<endDate>2017-02-13<",
            b"<endDate>2017-02-13T00:00:00<",
            "due 1, payment 1",
            FECHA.format("endDate"),
            "2017-02-13T00:00:00",
        ),
        (b"<endDate>2017-02-13<", b"<endDate>13/02/2017<", "due 1, payment 1", FECHA.format("endDate"), "13/02/2017"),
        (
            b"<startDate>2017-01-10<",
            b"<startDate>0000-01-10<",
            "due 1, payment 1",
            FECHA.format("startDate"),
            "0000-01-10",
        ),
    ],
)
def test_given_a_value_breaking_the_schema_when_parsed_then_400_with_its_spanish_rule_position_and_value(
    viejo, nuevo, donde, regla, recibido
):
    # Given the document's payload with one value broken / When parsed
    error = rechazo(cambiar(viejo, nuevo))
    # Then 400: the rule in Spanish, where (due, payment) and what was received
    assert error.status == 400
    assert error.mensaje == f"El payload no cumple paymentDue.xsd: {donde}: {regla} (recibido: {recibido!r})."


@pytest.mark.parametrize(
    ("viejo", "nuevo", "regla", "recibido"),
    [
        (b"<price>25000<", b"<price>-5<", PRICE, "-5"),
        (b"<taxPercent>0<", b"<taxPercent>100.5<", PERCENT.format("taxPercent"), "100.5"),
        (b"<startDate>2017-04-13<", b"<startDate>2017-4-13<", FECHA.format("startDate"), "2017-4-13"),
    ],
)
def test_given_a_broken_value_in_a_later_due_and_payment_when_parsed_then_the_message_names_that_position(
    viejo, nuevo, regla, recibido
):
    # Given the second due's fourth (last) payment broken
    antes, _, despues = DOCUMENTO.rpartition(viejo)
    # When parsed / Then "due 2, payment 4"
    error = rechazo(antes + nuevo + despues)
    assert error.mensaje == f"El payload no cumple paymentDue.xsd: due 2, payment 4: {regla} (recibido: {recibido!r})."


def test_given_values_the_schema_allows_in_other_spellings_when_parsed_then_their_decimal_values():
    # Given "+5", " .5 ", a trailing zero within 2 significant decimals, "007"
    data = cambiar(b"<price>84000</price>", b"<price> +5 </price>")
    data = cambiar(b"<discountPercent>5.00<", b"<discountPercent> .5 <", data)
    data = cambiar(b"<taxPercent>0<", b"<taxPercent>19.000<", data)
    data = cambiar(b"<articleRefId>3259<", b"<articleRefId>007<", data)
    # When parsed / Then the values, exact
    cuota = parse_payment_due(data)[0]
    assert cuota.clave.article_ref_id == 7
    assert (cuota.pagos[0].price, cuota.pagos[0].discount_percent, cuota.pagos[0].tax_percent) == (
        Decimal(5),
        Decimal("0.5"),
        Decimal(19),
    )


@pytest.mark.parametrize(
    ("viejo", "nuevo", "esperado"),
    [
        (
            b"<taxPercent>0</taxPercent>",
            b"",
            "El payload no cumple paymentDue.xsd: due 1, payment 1: elemento 'payment': faltan elementos; "
            "se espera ( taxPercent ).",
        ),
        (
            b"<salesTypeRefId>45</salesTypeRefId>",
            b"",
            "El payload no cumple paymentDue.xsd: due 1: elemento 'due': faltan elementos; se espera ( salesTypeRefId ).",
        ),
        (
            b"<payments>",
            b"<payments>hola",
            "El payload no cumple paymentDue.xsd: due 1: elemento 'payments': no admite texto, solo elementos.",
        ),
    ],
    ids=["missing-in-payment", "missing-in-due", "text"],
)
def test_given_a_missing_element_or_stray_text_when_parsed_then_400_in_spanish_with_its_position(
    viejo, nuevo, esperado
):
    error = rechazo(cambiar(viejo, nuevo))
    assert (error.status, error.mensaje) == (400, esperado)


@pytest.mark.parametrize(
    ("viejo", "nuevo", "inicio"),
    [
        (
            b"<taxPercent>0</taxPercent>",
            b"<taxPercent>0</taxPercent><currency>COP</currency>",
            "El payload no cumple paymentDue.xsd: due 1, payment 1: elemento 'currency': elemento inesperado",
        ),
        (
            b"<taxPercent>0</taxPercent>",
            b"<taxPercent>0</taxPercent><taxPercent>0</taxPercent>",
            "El payload no cumple paymentDue.xsd: due 1, payment 1: elemento 'taxPercent': elemento inesperado",
        ),
        (
            b"<gradeRefId>41</gradeRefId>",
            b"<gradeRefId>41</gradeRefId><schoolId>6498</schoolId>",
            "El payload no cumple paymentDue.xsd: due 1: elemento 'schoolId': elemento inesperado",
        ),
        (
            b"<due>",
            b'<due foo="1">',
            "El payload no cumple paymentDue.xsd: due 1: elemento 'due', ",
        ),
    ],
    ids=["unknown-in-payment", "repeated-in-payment", "unknown-in-due", "attribute"],
)
def test_given_an_unexpected_element_or_attribute_when_parsed_then_400_naming_it_and_its_position(viejo, nuevo, inicio):
    error = rechazo(cambiar(viejo, nuevo))
    assert error.status == 400
    assert error.mensaje.startswith(inicio)


def test_given_an_unexpected_element_when_parsed_then_the_message_has_no_untranslated_english():
    error = rechazo(cambiar(b"<taxPercent>0</taxPercent>", b"<taxPercent>0</taxPercent><currency>COP</currency>"))
    assert "one of" not in error.mensaje


def test_given_a_due_with_a_single_payment_when_its_price_breaks_the_schema_then_the_message_still_names_payment_1():
    # Given two dues, the second with only one payment whose price is negative
    data = payload(due_xml(1, 2), due_xml(2, 1).replace("<price>1000</price>", "<price>-1</price>"))
    # When parsed / Then the position names the payment too
    assert rechazo(data).mensaje.startswith("El payload no cumple paymentDue.xsd: due 2, payment 1: price")


def test_given_no_due_when_parsed_then_400_asking_for_one():
    error = rechazo(b'<?xml version="1.0"?>\n<paymentDue>\n</paymentDue>')
    assert (error.status, error.mensaje) == (
        400,
        "El payload no cumple paymentDue.xsd: elemento 'paymentDue': faltan elementos; se espera ( due ).",
    )


def test_given_a_due_without_payments_when_parsed_then_400_asking_for_one():
    error = rechazo(payload(due_xml(1, 0)))
    assert error.mensaje == (
        "El payload no cumple paymentDue.xsd: due 1: elemento 'payments': faltan elementos; se espera ( payment )."
    )


def test_given_60_payments_when_parsed_then_accepted_and_61_then_400_at_payment_61():
    assert [len(c.pagos) for c in parse_payment_due(payload(due_xml(1), due_xml(2, 60)))] == [1, 60]
    error = rechazo(payload(due_xml(1), due_xml(2, 61)))
    assert (error.status, error.mensaje) == (
        400,
        "El payload no cumple paymentDue.xsd: due 2, payment 61: elemento 'payment': elemento inesperado.",
    )


def test_given_1000_dues_when_parsed_then_accepted_and_1001_then_400_at_due_1001():
    assert len(parse_payment_due(payload(*(due_xml(i) for i in range(1, 1001))))) == 1000
    error = rechazo(payload(*(due_xml(i) for i in range(1, 1002))))
    assert (error.status, error.mensaje) == (
        400,
        "El payload no cumple paymentDue.xsd: due 1001: elemento 'due': elemento inesperado.",
    )


def test_given_comments_cdata_and_character_references_when_parsed_then_the_values_are_read_through_them():
    data = cambiar(b"<price>84000</price>", b"<price>84<!-- miles -->000</price>")
    data = cambiar(b"<price>84000</price>", b"<price><![CDATA[84000]]></price>", data)
    data = cambiar(b"<price>82000</price>", b"<price>&#56;2000</price>", data)
    assert parse_payment_due(data) == parse_payment_due(DOCUMENTO)


# ---- the attack corpus: refused, never reading a file nor touching the network ----


class EspiaDeCargas(etree.Resolver):
    """Sees every external resource (DTD, entity) libxml2 asks the parser to load, and lets the parser's
    own policy decide (returns None): what it records is what would be read from disk or the network."""

    def __init__(self) -> None:
        super().__init__()
        self.pedidas: list[str] = []

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        self.pedidas.append(system_url)
        return None


@pytest.fixture
def cargas() -> Iterator[list[str]]:
    espia = EspiaDeCargas()
    formato._PARSER.resolvers.add(espia)
    try:
        yield espia.pedidas
    finally:
        formato._PARSER.resolvers.remove(espia)


@pytest.fixture
def secreto(tmp_path: Path) -> Path:
    """A local file an attacker would like to read; its content must never come back."""
    archivo = tmp_path / "secreto.txt"
    archivo.write_text(SECRETO, encoding="utf-8")
    return archivo


def _dtd(tmp_path: Path) -> Path:
    archivo = tmp_path / "ataque.dtd"
    archivo.write_text(f'<!ENTITY secreto "{SECRETO}"><!ELEMENT paymentDue ANY>', encoding="utf-8")
    return archivo


Ataque = Callable[[Path, Path], bytes]


def _xxe_file(secreto: Path, _tmp: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE paymentDue [<!ENTITY x SYSTEM "{secreto.as_uri()}">]>'
        "<paymentDue><due><articleRefId>&x;</articleRefId></due></paymentDue>"
    ).encode()


def _xxe_http(_s: Path, _tmp: Path) -> bytes:
    return (
        b'<?xml version="1.0"?><!DOCTYPE paymentDue [<!ENTITY x SYSTEM "http://127.0.0.1:9/robar">]>'
        b"<paymentDue>&x;</paymentDue>"
    )


def _billion_laughs(_s: Path, _tmp: Path) -> bytes:
    entidades = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?><!DOCTYPE paymentDue [{entidades}]><paymentDue>&lol9;</paymentDue>'.encode()


def _cuadratico(_s: Path, _tmp: Path) -> bytes:
    return (
        b'<?xml version="1.0"?><!DOCTYPE paymentDue [<!ENTITY a "'
        + b"A" * 50_000
        + b'">]><paymentDue>'
        + b"&a;" * 30_000
        + b"</paymentDue>"
    )


def _dtd_externo_http(_s: Path, _tmp: Path) -> bytes:
    return b'<?xml version="1.0"?><!DOCTYPE paymentDue SYSTEM "http://127.0.0.1:9/paymentDue.dtd"><paymentDue/>'


def _dtd_externo_file(_s: Path, tmp: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE paymentDue SYSTEM "{_dtd(tmp).as_uri()}"><paymentDue>&secreto;</paymentDue>'
    ).encode()


def _dtd_externo_secreto(secreto: Path, _tmp: Path) -> bytes:
    return f'<?xml version="1.0"?><!DOCTYPE paymentDue SYSTEM "{secreto.as_uri()}"><paymentDue/>'.encode()


def _entidad_de_parametro_file(_s: Path, tmp: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE paymentDue [<!ENTITY % p SYSTEM "{_dtd(tmp).as_uri()}"> %p;]>'
        "<paymentDue>&secreto;</paymentDue>"
    ).encode()


def _entidad_de_parametro_http(_s: Path, _tmp: Path) -> bytes:
    return (
        b'<?xml version="1.0"?><!DOCTYPE paymentDue [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><paymentDue/>'
    )


def _exfiltracion_por_error(secreto: Path, _tmp: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE paymentDue [<!ENTITY % f SYSTEM "{secreto.as_uri()}">'
        "<!ENTITY % e \"<!ENTITY &#x25; x SYSTEM 'file:///nonexistent/%f;'>\"> %e; %x;]><paymentDue/>"
    ).encode()


def _doctype_vacio(_s: Path, _tmp: Path) -> bytes:
    return b'<?xml version="1.0"?><!DOCTYPE paymentDue []>' + DOCUMENTO.split(b"?>", 1)[1]


def _doctype_sin_subconjunto(_s: Path, _tmp: Path) -> bytes:
    return b"<!DOCTYPE paymentDue>" + DOCUMENTO.split(b"?>", 1)[1]


def _anidado(_s: Path, _tmp: Path) -> bytes:
    return b"<paymentDue>" + b"<due>" * 100_000 + b"</due>" * 100_000 + b"</paymentDue>"


def _anidado_en_pago(_s: Path, _tmp: Path) -> bytes:
    return cambiar(b"<price>84000</price>", b"<price>" + b"<a>" * 300 + b"</a>" * 300 + b"</price>")


def _sobre_2mb(_s: Path, _tmp: Path) -> bytes:
    return DOCUMENTO + b" " * (MAX_BYTES + 1 - len(DOCUMENTO))


def _diez_mb(_s: Path, _tmp: Path) -> bytes:
    return b"<" * (10 * 1024 * 1024)


def _latin1_declarado_utf8(_s: Path, _tmp: Path) -> bytes:
    return cambiar(b"<paymentDue>", "<paymentDue><!-- año lectivo -->".encode("latin-1"))


def _codificacion_desconocida(_s: Path, _tmp: Path) -> bytes:
    return cambiar(b'encoding="utf-8"', b'encoding="klingon-9"')


def _vacio(_s: Path, _tmp: Path) -> bytes:
    return b""


def _espacios(_s: Path, _tmp: Path) -> bytes:
    return b" \r\n\t "


def _basura(_s: Path, _tmp: Path) -> bytes:
    return bytes(range(256)) * 4


def _truncado(_s: Path, _tmp: Path) -> bytes:
    return DOCUMENTO[: len(DOCUMENTO) // 2]


def _entidad_no_declarada(_s: Path, _tmp: Path) -> bytes:
    return cambiar(b"<price>84000</price>", b"<price>&x;</price>")


def _xinclude(secreto: Path, _tmp: Path) -> bytes:
    return cambiar(
        b"<articleRefId>3259</articleRefId>",
        f'<articleRefId><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{secreto.as_uri()}" '
        'parse="text"/></articleRefId>'.encode(),
    )


ATAQUES: list[Any] = [
    pytest.param(_xxe_file, 400, DOCTYPE, id="xxe-file"),
    pytest.param(_xxe_http, 400, DOCTYPE, id="xxe-http"),
    pytest.param(_billion_laughs, 400, None, id="billion-laughs"),
    pytest.param(_cuadratico, 400, None, id="quadratic-blowup"),
    pytest.param(_dtd_externo_http, 400, None, id="external-dtd-http"),
    pytest.param(_dtd_externo_file, 400, None, id="external-dtd-file"),
    pytest.param(_dtd_externo_secreto, 400, None, id="external-dtd-is-the-secret"),
    pytest.param(_entidad_de_parametro_file, 400, None, id="parameter-entity-file"),
    pytest.param(_entidad_de_parametro_http, 400, None, id="parameter-entity-http"),
    pytest.param(_exfiltracion_por_error, 400, None, id="error-based-exfiltration"),
    pytest.param(_doctype_vacio, 400, DOCTYPE, id="empty-internal-doctype"),
    pytest.param(_doctype_sin_subconjunto, 400, DOCTYPE, id="bare-doctype"),
    pytest.param(_anidado, 400, None, id="deep-nesting-100000"),
    pytest.param(_anidado_en_pago, 400, None, id="nesting-inside-a-value"),
    pytest.param(_sobre_2mb, 413, "El payload supera 2 MB.", id="over-2mb"),
    pytest.param(_diez_mb, 413, "El payload supera 2 MB.", id="10mb"),
    pytest.param(_latin1_declarado_utf8, 400, None, id="latin1-declared-utf8"),
    pytest.param(_codificacion_desconocida, 400, None, id="unknown-encoding"),
    pytest.param(_vacio, 400, "Falta el payload XML <paymentDue>.", id="empty"),
    pytest.param(_espacios, 400, "Falta el payload XML <paymentDue>.", id="whitespace"),
    pytest.param(_basura, 400, None, id="garbage"),
    pytest.param(_truncado, 400, None, id="truncated"),
    pytest.param(_entidad_no_declarada, 400, None, id="undeclared-entity"),
    pytest.param(_xinclude, 400, None, id="xinclude"),
]


@pytest.mark.parametrize(("ataque", "status", "mensaje"), ATAQUES)
def test_given_a_hostile_payload_when_parsed_then_refused_with_400_or_413_and_nothing_of_the_disk_comes_back(
    ataque: Ataque, status: int, mensaje: str | None, secreto: Path, tmp_path: Path
):
    # Given an attack (pytest-socket blocks Python sockets; libxml2's own would need no_network)
    data = ataque(secreto, tmp_path)
    # When parsed
    error = rechazo(data)
    # Then refused as a client error, with a message of ours that carries nothing read from the disk
    assert error.status == status
    if mensaje is not None:
        assert error.mensaje == mensaje
    else:
        assert error.mensaje.startswith(("XML mal formado: ", DOCTYPE, "El payload no cumple paymentDue.xsd"))
    assert SECRETO not in error.mensaje
    assert len(error.mensaje) < 400


@pytest.mark.parametrize(
    "ataque",
    [
        pytest.param(_xxe_file, id="xxe-file"),
        pytest.param(_xxe_http, id="xxe-http"),
        pytest.param(_billion_laughs, id="billion-laughs"),
        pytest.param(_dtd_externo_http, id="external-dtd-http"),
        pytest.param(_dtd_externo_file, id="external-dtd-file"),
        pytest.param(_dtd_externo_secreto, id="external-dtd-is-the-secret"),
        pytest.param(_entidad_de_parametro_file, id="parameter-entity-file"),
        pytest.param(_entidad_de_parametro_http, id="parameter-entity-http"),
        pytest.param(_exfiltracion_por_error, id="error-based-exfiltration"),
        pytest.param(_doctype_vacio, id="empty-internal-doctype"),
        pytest.param(_xinclude, id="xinclude"),
    ],
)
def test_given_a_payload_naming_an_external_resource_when_parsed_then_the_parser_never_asks_to_load_it(
    ataque: Ataque, secreto: Path, tmp_path: Path, cargas: list[str]
):
    # Given an attack naming a file:// or http:// resource / When parsed
    with pytest.raises(UnoError):
        parse_payment_due(ataque(secreto, tmp_path))
    # Then libxml2 never asked for any external resource: nothing read, nothing fetched
    assert cargas == []


def test_given_the_spy_resolver_when_a_parser_loads_a_dtd_then_it_records_the_request(tmp_path: Path):
    # Given a parser that does load DTDs, with the same spy: the spy is able to see a load (the test above can fail)
    espia = EspiaDeCargas()
    cargador = etree.XMLParser(load_dtd=True, no_network=True)
    cargador.resolvers.add(espia)
    dtd = _dtd(tmp_path)
    etree.fromstring(f'<!DOCTYPE paymentDue SYSTEM "{dtd.as_uri()}"><paymentDue/>'.encode(), cargador)
    assert espia.pedidas == [dtd.as_uri()]


def test_given_exactly_the_size_limit_when_parsed_then_it_is_parsed_and_one_byte_more_is_413():
    # Given the document padded with trailing whitespace to exactly MAX_BYTES
    justo = DOCUMENTO + b"\n" * (MAX_BYTES - len(DOCUMENTO))
    # When parsed / Then accepted; one byte more is 413 even though it is well formed
    assert len(parse_payment_due(justo)) == 2
    error = rechazo(justo + b"\n")
    assert (error.status, error.mensaje) == (413, "El payload supera 2 MB.")


def test_given_10mb_that_would_not_even_parse_when_received_then_413_not_400_the_size_is_checked_first():
    error = rechazo(b"\xff" * (10 * 1024 * 1024))
    assert error.status == 413


def test_given_an_unknown_encoding_name_when_parsed_then_400_naming_it():
    error = rechazo(cambiar(b'encoding="utf-8"', b'encoding="klingon-9"'))
    assert error.status == 400
    assert "klingon-9" in error.mensaje


def test_given_utf8_declared_but_latin1_bytes_when_parsed_then_400_about_the_encoding():
    error = rechazo(
        cambiar(b"<articleRefId>3259</articleRefId>", "<articleRefId>3259</articleRefId><!-- ñ -->".encode("latin-1"))
    )
    assert error.status == 400
    assert error.mensaje.startswith("XML mal formado: ")
    assert "encoding" in error.mensaje


# ---- encodings honoured ----


def _sin_declaracion() -> str:
    return DOCUMENTO.decode("utf-8").split("?>", 1)[1]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            DOCUMENTO.decode("utf-8").replace('encoding="utf-8"', 'encoding="UTF-16"').encode("utf-16"), id="utf16-bom"
        ),
        pytest.param(b"\xff\xfe" + _sin_declaracion().encode("utf-16-le"), id="utf16le-bom-no-declaration"),
        pytest.param(b"\xef\xbb\xbf" + DOCUMENTO, id="utf8-bom"),
        pytest.param(
            (
                '<?xml version="1.0" encoding="ISO-8859-1"?>'
                + _sin_declaracion().replace("<due>", "<!-- año -->\n<due>", 1)
            ).encode("iso-8859-1"),
            id="iso-8859-1-declared",
        ),
    ],
)
def test_given_the_documents_payload_in_another_encoding_when_parsed_then_the_same_dues(data):
    # Given the payload re-encoded, the BOM or the declaration saying how / When parsed / Then the same dues
    assert parse_payment_due(data) == parse_payment_due(DOCUMENTO)


# ---- replies ----


def _xml(texto: str) -> Any:
    assert texto.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return etree.fromstring(texto.encode("utf-8"))


def test_given_two_stored_dues_when_answered_then_one_create_per_due_with_uno_ids_and_status_200():
    # Given the document's answer: 2 dues stored / When written
    raiz = _xml(create_response([Resultado(200, id=5786419), Resultado(200, id=5786420)], "req-1"))
    # Then <createResponse><creates> with one <create id statusCode="200"/> each, in order, no error
    assert raiz.tag == "createResponse"
    creates = raiz.findall("creates/create")
    assert [dict(c.attrib) for c in creates] == [
        {"id": "00000000-0000-1000-0000-000005786419", "statusCode": "200"},
        {"id": "00000000-0000-1000-0000-000005786420", "statusCode": "200"},
    ]
    assert all(len(c) == 0 for c in creates)


def test_given_a_refused_due_among_stored_ones_when_answered_then_it_has_no_id_and_a_nested_uno_error():
    mensaje = "No existe configuración de precios (colegio_articulo_precio) para el artículo 3245"
    raiz = _xml(create_response([Resultado(200, id=1), Resultado(404, mensaje=mensaje)], "ref-abc"))
    primero, segundo = raiz.findall("creates/create")
    assert dict(primero.attrib) == {"id": "00000000-0000-1000-0000-000000000001", "statusCode": "200"}
    assert dict(segundo.attrib) == {"statusCode": "404"}
    error = segundo.find("error")
    assert error is not None
    assert dict(error.attrib) == {"refId": "ref-abc"}  # UNO's refId, not SIF's id
    assert [(e.tag, e.text) for e in error] == [("code", "404"), ("message", mensaje)]


def test_given_no_results_when_answered_then_an_empty_creates():
    raiz = _xml(create_response([], "r"))
    assert raiz.find("creates") is not None
    assert raiz.findall("creates/create") == []


def test_given_a_message_with_markup_characters_when_written_as_error_then_escaped_and_it_reparses():
    # Given a message carrying < & > and quotes
    mensaje = 'Valor <price> & "taxPercent" > 100'
    # When written
    texto = error_xml(400, mensaje, 'ref"<1>')
    # Then escaped on the wire and the same text read back
    assert "<price> &" not in texto
    assert "&lt;price&gt; &amp;" in texto
    raiz = _xml(texto)
    assert raiz.tag == "error"
    assert raiz.get("refId") == 'ref"<1>'
    assert (raiz.findtext("code"), raiz.findtext("message")) == ("400", mensaje)


def test_given_the_documents_404_when_written_then_exactly_unos_shape():
    texto = error_xml(404, "No se encontraron datos con los parámetros especificados.", "r-9")
    assert texto == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<error refId="r-9"><code>404</code>'
        "<message>No se encontraron datos con los parámetros especificados.</message></error>"
    )


GUARDADAS = [
    Cuota(
        ClaveCuota(3259, 41, 905, 45),
        (
            Pago(Decimal("84000"), Decimal("5"), Decimal("0"), date(2017, 1, 10), date(2017, 2, 13)),
            Pago(Decimal("1E+5"), Decimal("12.5"), Decimal("19.00"), date(2017, 2, 14), date(2017, 3, 11)),
        ),
        id=5786419,
        version=3,
    ),
    Cuota(
        ClaveCuota(3245, 41, 905, 45),
        (Pago(Decimal("0.01"), Decimal("100"), Decimal("0.00"), date(2017, 1, 10), date(2017, 12, 31)),),
        id=MAX_ID,
        version=1,
    ),
]


def test_given_stored_dues_when_read_back_then_the_xml_validates_against_the_schema_and_carries_their_ids():
    # When written as our GET's reply
    raiz = _xml(payment_due(GUARDADAS))
    # Then valid against paymentDue.xsd, each due with its UNO id, amounts with exactly two decimals (never an
    # exponent, whatever scale the store kept: DynamoDB gives back 5 for 5.00)
    assert formato._SCHEMA.validate(raiz), formato._SCHEMA.error_log
    assert [d.get("id") for d in raiz.findall("due")] == [
        "00000000-0000-1000-0000-000005786419",
        "00000000-0000-1000-0000-999999999999",
    ]
    assert [p.text for p in raiz.iterfind("due/payments/payment/price")] == ["84000.00", "100000.00", "0.01"]
    assert [p.text for p in raiz.iterfind("due/payments/payment/discountPercent")] == ["5.00", "12.50", "100.00"]


def test_given_stored_dues_when_read_back_and_parsed_again_then_the_same_keys_and_decimal_values():
    # When read back, then posted again as is
    otra_vez = parse_payment_due(payment_due(GUARDADAS).encode("utf-8"))
    # Then equal dues (ids and versions are ours, not the payload's)
    assert otra_vez == [replace(c, id=None, version=0) for c in GUARDADAS]
    assert otra_vez[0].pagos[1].price == Decimal(100000)


def test_given_the_documents_payload_when_parsed_and_read_back_then_it_round_trips():
    cuotas = [replace(c, id=i) for i, c in enumerate(parse_payment_due(DOCUMENTO), start=5786419)]
    texto = payment_due(cuotas)
    assert formato._SCHEMA.validate(_xml(texto))
    assert parse_payment_due(texto.encode()) == parse_payment_due(DOCUMENTO)


def test_given_a_due_not_yet_stored_when_read_back_then_no_id_attribute():
    raiz = _xml(payment_due([replace(GUARDADAS[0], id=None)]))
    assert raiz.find("due").get("id") is None
    assert formato._SCHEMA.validate(raiz)


@pytest.mark.parametrize("numero", [1, 5786419, MAX_ID])
def test_given_an_id_in_range_when_wrapped_then_uuid_shaped_and_unwrapped_back(numero):
    uuid = uuid_de(numero)
    assert uuid == f"00000000-0000-1000-0000-{numero:012d}"
    assert numero_de(uuid) == numero


@pytest.mark.parametrize("numero", [0, -1, MAX_ID + 1])
def test_given_an_id_out_of_range_when_wrapped_then_value_error(numero):
    with pytest.raises(ValueError, match="fuera de rango"):
        uuid_de(numero)


@pytest.mark.parametrize(
    "texto",
    [
        "",
        "00000000-0000-1000-0000-000000000000",
        "00000000-0000-1000-0000-00000578641",
        "00000000-0000-1000-0000-0000057864190",
        "00000000-0000-1000-0000-00000578641x",
        "00000000-0000-1000-0000-+00000578641",
        "10000000-0000-1000-0000-000005786419",
        "5786419",
    ],
)
def test_given_a_string_that_is_not_a_uno_id_when_unwrapped_then_none(texto):
    assert numero_de(texto) is None
