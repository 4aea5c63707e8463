"""Cobranzas: hostile multipart bodies on POST /api2/cobranzas/importar/csv (and the other POSTs).

Bodies are built by hand, byte by byte, and sent base64-encoded as API Gateway sends binary media
types. Every refusal is ``text/plain`` ``ERROR: …`` with a 4xx status: never a 500, never a trace,
and a body that is not a whole multipart stream is never imported."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW
from tests.helpers import rest_event
from tests.integration.cobranzas_harness import CobranzasHarness, Reply, build

B = "----recaudoBoundary7MA4YWxkTrZu0gW"
CT = f"multipart/form-data; boundary={B}"
ROW = b"500;Ana P\xc3\xa9rez;3001234567;6011234;ana@example.co;1;Cuota;250.00\n"
IMPORT = "/cobranzas/importar/csv"


@pytest.fixture
def h(aws, monkeypatch) -> CobranzasHarness:
    return build(NOW, monkeypatch)


def part(disposition: bytes, value: bytes, *headers: bytes) -> bytes:
    """One part: its Content-Disposition parameters as raw bytes (any encoding), extra header lines."""
    head = b"Content-Disposition: form-data; " + disposition + b"\r\n" + b"".join(x + b"\r\n" for x in headers)
    return b"--" + B.encode() + b"\r\n" + head + b"\r\n" + value + b"\r\n"


def field(name: str, value: str | bytes) -> bytes:
    return part(f'name="{name}"'.encode(), value.encode() if isinstance(value, str) else value)


def upload(content: bytes, filename: bytes = b"cobranzas.csv", name: bytes = b"file") -> bytes:
    return part(b'name="' + name + b'"; filename="' + filename + b'"', content, b"Content-Type: text/csv")


def closed(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + B.encode() + b"--\r\n"


def post(
    h: CobranzasHarness,
    body: bytes,
    content_type: str | None = CT,
    path: str = IMPORT,
    module: str = "importar_csv",
    base64_encoded: bool = True,
) -> Reply:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    event = rest_event("POST", path, headers=headers)
    if base64_encoded:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"] = body.decode("utf-8")
    return h.call(module, event)


def refused(reply: Reply, status: int = 400, *words: str) -> bool:
    text = reply.body.lower()
    return (
        reply.status == status
        and reply.body.startswith("ERROR: ")
        and "\n" not in reply.body
        and "traceback" not in text
        and reply.headers["content-type"].startswith("text/plain")
        and all(w.lower() in text for w in words)
    )


def report(h: CobranzasHarness, reply: Reply) -> str:
    """The stored report of a refused import: its id came back in X-Recaudo-Importacion."""
    key = f"reportes/club/{reply.headers['x-recaudo-importacion']}.txt"
    return h.s3.get_object(Bucket="recaudo-cobranzas-test", Key=key)["Body"].read().decode()


def stored(h: CobranzasHarness) -> list[list[str]]:
    return h.filas(periodo="*")


class TestAcceptedVariants:
    def test_given_a_windows_1252_file_name_when_imported_then_the_file_is_imported(self, h):
        # Given a part whose filename is cp1252 bytes (a Windows client), When it is posted
        reply = post(h, closed(field("hash", h.hash), upload(ROW, filename="cobranzas-año.csv".encode("cp1252"))))
        # Then the file name is irrelevant: the file is imported
        assert (reply.status, reply.body) == (200, "OK: 202611 - 1 registros importados")

    def test_given_a_utf8_file_name_when_imported_then_the_file_is_imported(self, h):
        reply = post(h, closed(field("hash", h.hash), upload(ROW, filename="cobranzas-año.csv".encode())))
        assert reply.status == 200

    def test_given_file_as_a_plain_field_when_imported_then_its_value_is_the_file(self, h):
        # Given `curl -F file=<cobros.csv` (a field without filename), Then its bytes are the file
        reply = post(h, closed(field("hash", h.hash), field("file", ROW)))
        assert (reply.status, reply.body) == (200, "OK: 202611 - 1 registros importados")
        assert stored(h)[0][7] == "250.00"

    @pytest.mark.parametrize("content", [b"abc\n", b"abc", b"  abc\r\n"])
    def test_given_the_hash_as_a_file_part_when_imported_then_its_content_is_the_hash(self, h, content):
        # Given `curl -F hash=@hash.txt` (the file may end with a newline), Then it is read as the hash
        hash_file = content.replace(b"abc", h.hash.encode())
        reply = post(h, closed(upload(hash_file, filename=b"h.txt", name=b"hash"), upload(ROW)))
        assert reply.status == 200, reply.body

    def test_given_a_field_with_a_non_utf8_name_when_imported_then_it_is_ignored(self, h):
        # Given an extra part named in Latin-1 bytes beside hash and file, Then unknown fields are ignored
        extra = part(b'name="n\xfamero"', b"7")
        reply = post(h, closed(field("hash", h.hash), extra, upload(ROW)))
        assert reply.status == 200

    def test_given_a_preamble_an_epilogue_and_a_quoted_boundary_then_accepted(self, h):
        body = b"preamble\r\n" + closed(field("hash", h.hash), upload(ROW)) + b"epilogue"
        reply = post(h, body, content_type=f'multipart/form-data; charset=utf-8; boundary="{B}"')
        assert reply.status == 200, reply.body

    def test_given_the_media_type_in_capitals_then_accepted(self, h):
        reply = post(h, closed(field("hash", h.hash), upload(ROW)), content_type=f"Multipart/Form-Data; BOUNDARY={B}")
        assert reply.status == 200, reply.body

    def test_given_a_multipart_body_not_base64_encoded_then_read_as_utf8(self, h):
        # A stage without the binary media type passes the body as text (UTF-8)
        reply = post(h, closed(field("hash", h.hash), upload(ROW)), base64_encoded=False)
        assert reply.status == 200, reply.body
        assert stored(h)[0][1] == "Ana Pérez"


class TestUnreadableBodies:
    """The hash cannot be read: 400 and no import is recorded (no X-Recaudo-Importacion)."""

    @pytest.mark.parametrize(
        "content_type",
        ["multipart/form-data", "multipart/form-data; boundary=", 'multipart/form-data; boundary=""'],
    )
    def test_given_no_boundary_then_400_without_an_import(self, h, content_type):
        reply = post(h, closed(field("hash", h.hash), upload(ROW)), content_type=content_type)
        assert refused(reply, 400, "boundary")
        assert "x-recaudo-importacion" not in reply.headers and stored(h) == []

    def test_given_a_boundary_of_forbidden_characters_then_400(self, h):
        reply = post(h, closed(field("hash", h.hash), upload(ROW)), content_type="multipart/form-data; boundary=a\\b")
        assert refused(reply, 400, "boundary")

    @pytest.mark.parametrize(
        "body",
        [b"hash=abc&file=x", b"", b'--otro\r\nContent-Disposition: form-data; name="hash"\r\n\r\nx\r\n--otro--\r\n'],
    )
    def test_given_a_body_that_is_not_the_multipart_it_claims_then_400(self, h, body):
        reply = post(h, body)
        assert refused(reply, 400, "multipart")
        assert "x-recaudo-importacion" not in reply.headers

    def test_given_a_body_cut_inside_the_hash_part_then_400_without_an_import(self, h):
        body = closed(field("hash", h.hash), upload(ROW))
        reply = post(h, body[: body.index(h.hash.encode()) + 5])
        assert refused(reply, 400, "incompleto") and "x-recaudo-importacion" not in reply.headers

    def test_given_two_hash_parts_then_400_without_an_import(self, h):
        reply = post(h, closed(field("hash", h.hash), field("hash", h.hash), upload(ROW)))
        assert refused(reply, 400, "hash") and "x-recaudo-importacion" not in reply.headers

    def test_given_lf_line_endings_then_400(self, h):
        body = closed(field("hash", h.hash), upload(ROW)).replace(b"\r\n", b"\n")
        assert refused(post(h, body), 400, "multipart")

    def test_given_invalid_base64_then_400(self, h):
        event = rest_event("POST", IMPORT, headers={"Content-Type": CT})
        event["body"], event["isBase64Encoded"] = "***no es base64***", True
        assert refused(h.call("importar_csv", event), 400)

    def test_given_a_wrong_hash_and_a_broken_body_then_401_without_an_import(self, h):
        body = closed(field("hash", "no-es-el-hash"), upload(ROW))[:-10]
        reply = post(h, body)
        assert refused(reply, 401, "hash") and "x-recaudo-importacion" not in reply.headers

    def test_given_a_non_utf8_hash_then_401(self, h):
        reply = post(h, closed(field("hash", b"\xff\xfe"), upload(ROW)))
        assert refused(reply, 401, "hash")


class TestBrokenFileWithAKnownHash:
    """The hash was read whole and is valid: the refusal is recorded as an import (its report can be
    fetched by X-Recaudo-Importacion) and nothing is imported."""

    def test_given_a_body_missing_its_closing_boundary_then_refused_and_nothing_imported(self, h):
        # Given a truncated upload: the row is cut in the middle of its amount (250.00 -> 250.0)
        body = closed(field("hash", h.hash), upload(ROW))
        cut = body[: body.index(b"250.00") + 5]
        # When it is posted
        reply = post(h, cut)
        # Then it is refused with an import id, its report says why, and nothing was stored
        assert refused(reply, 400, "incompleto")
        assert report(h, reply).startswith(reply.body)
        assert stored(h) == []

    @pytest.mark.parametrize("tail", [0, 2, 4, 8])
    def test_given_a_body_cut_anywhere_in_its_final_boundary_then_refused(self, h, tail):
        body = closed(field("hash", h.hash), upload(ROW))
        reply = post(h, body[: len(body) - len(B) - 4 - tail])
        assert refused(reply, 400) and "x-recaudo-importacion" in reply.headers
        assert stored(h) == []

    def test_given_two_file_parts_then_refused_with_an_import_id(self, h):
        reply = post(h, closed(field("hash", h.hash), upload(ROW), upload(ROW.replace(b"500", b"501"))))
        assert refused(reply, 400, "file") and "x-recaudo-importacion" in reply.headers
        assert stored(h) == []

    def test_given_a_huge_number_of_parts_then_refused_with_an_import_id(self, h):
        parts = [field("hash", h.hash)] + [field(f"x{i}", "1") for i in range(5000)] + [upload(ROW)]
        reply = post(h, closed(*parts))
        assert refused(reply, 400, "partes") and "x-recaudo-importacion" in reply.headers
        assert stored(h) == []

    @pytest.mark.parametrize(
        "headers",
        [
            (b"X-Relleno: " + b"a" * 20_000,),  # one huge header line
            tuple(b"X-H%d: v" % i for i in range(50)),  # many header lines
        ],
    )
    def test_given_parts_with_huge_headers_then_refused_with_an_import_id(self, h, headers):
        bad = part(b'name="file"; filename="a.csv"', ROW, *headers)
        reply = post(h, closed(field("hash", h.hash), bad))
        assert refused(reply, 400, "encabezado") and "x-recaudo-importacion" in reply.headers

    def test_given_a_huge_file_name_then_refused_with_an_import_id(self, h):
        reply = post(h, closed(field("hash", h.hash), upload(ROW, filename=b"a" * 50_000 + b".csv")))
        assert refused(reply, 400, "encabezado") and "x-recaudo-importacion" in reply.headers

    def test_given_a_part_without_content_disposition_then_refused(self, h):
        bad = b"--" + B.encode() + b"\r\nContent-Type: text/csv\r\n\r\n" + ROW + b"\r\n"
        reply = post(h, closed(field("hash", h.hash), bad))
        assert refused(reply, 400, "content-disposition") and "x-recaudo-importacion" in reply.headers

    def test_given_no_file_part_then_refused_with_an_import_id(self, h):
        reply = post(h, closed(field("hash", h.hash), part(b'name="fil\xe9"; filename="a.csv"', ROW)))
        assert refused(reply, 400, "falta el archivo") and "x-recaudo-importacion" in reply.headers

    def test_given_an_empty_file_part_then_the_empty_file_error_with_an_import_id(self, h):
        reply = post(h, closed(field("hash", h.hash), upload(b"", filename=b"")))
        assert refused(reply, 400, "vacío") and "x-recaudo-importacion" in reply.headers


class TestOtherEndpoints:
    def test_given_a_truncated_multipart_export_then_400(self, h):
        body = closed(field("hash", h.hash), field("periodo", "*"))[:-12]
        reply = post(h, body, path="/cobranzas/exportar/csv", module="exportar_csv")
        assert refused(reply, 400, "incompleto")

    def test_given_a_multipart_export_with_a_non_utf8_value_then_400(self, h):
        body = closed(field("hash", h.hash), field("id_cliente", b"\xf1"))
        reply = post(h, body, path="/cobranzas/exportar/csv", module="exportar_csv")
        assert refused(reply, 400, "utf-8")

    def test_given_a_multipart_export_then_read_as_before(self, h):
        post(h, closed(field("hash", h.hash), upload(ROW)))
        body = closed(field("hash", h.hash), field("periodo", "*"), field("id_cliente", "500"))
        reply = post(h, body, path="/cobranzas/exportar/csv", module="exportar_csv")
        assert reply.status == 200 and reply.body.startswith("500;Ana Pérez;")


class TestNeverA500:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def test_given_any_prefix_or_mutation_of_a_valid_body_then_4xx_or_a_whole_import(self, h, data):
        # Given a valid body, When it is cut anywhere or has a byte changed
        body = closed(field("hash", h.hash), upload(ROW))
        cut = data.draw(st.integers(0, len(body)))
        mutated = bytearray(body[:cut])
        if mutated and data.draw(st.booleans()):
            mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(st.integers(0, 255))
        reply = post(h, bytes(mutated))
        # Then never a 500, and only a body that still holds a whole multipart stream imports anything
        assert reply.status < 500 and reply.body.startswith(("OK: ", "ERROR: ")), reply.body
        if reply.status == 200:
            assert bytes(mutated).rstrip(b"\r\n").endswith(b"--")
