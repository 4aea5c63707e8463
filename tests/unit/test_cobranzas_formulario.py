"""The cobranzas form reader (``recaudo.formats.formulario``) and where the integrator hash is read
from (``recaudo.rest.bearer``, ``hash_integrador``): pure functions, no AWS."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recaudo.errors import CobranzasError
from recaudo.formats import formulario as f
from recaudo.rest import bearer, hash_integrador

B = "xYz-123"
CT = f"multipart/form-data; boundary={B}"
TEXTOS, ARCHIVOS = {"hash", "periodo"}, {"file"}


def part(disposition: bytes, value: bytes, *headers: bytes) -> bytes:
    head = b"Content-Disposition: form-data; " + disposition + b"\r\n" + b"".join(x + b"\r\n" for x in headers)
    return b"--" + B.encode() + b"\r\n" + head + b"\r\n" + value + b"\r\n"


def closed(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + B.encode() + b"--\r\n"


def leer(body: bytes, content_type: str = CT) -> dict[str, str | bytes]:
    return f.leer(body, content_type, TEXTOS, ARCHIVOS)


GOOD = closed(part(b'name="hash"', b"abc"), part(b'name="file"; filename="a.csv"', b"1;2\r\n3;4\n"))


class TestBoundary:
    @pytest.mark.parametrize(
        ("content_type", "expected"),
        [
            (CT, B),
            (f'multipart/form-data; boundary="{B}"', B),
            (f"multipart/form-data;charset=utf-8;BOUNDARY={B}", B),
            (
                "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
                "----WebKitFormBoundary7MA4YWxkTrZu0gW",
            ),
        ],
    )
    def test_given_a_content_type_then_its_boundary(self, content_type, expected):
        assert f.boundary(content_type) == expected

    @pytest.mark.parametrize(
        ("content_type", "motivo"),
        [
            ("multipart/form-data", f.SIN_BOUNDARY),
            ("multipart/form-data; boundary=", f.SIN_BOUNDARY),
            ('multipart/form-data; boundary=""', f.SIN_BOUNDARY),
            ("multipart/form-data; boundary=a\\b", f.BOUNDARY_INVALIDO),
            ("multipart/form-data; boundary=" + "a" * 71, f.BOUNDARY_INVALIDO),
            ('multipart/form-data; boundary="ends in space "', f.BOUNDARY_INVALIDO),
            ("multipart/form-data; boundary=a; boundary=b", f.BOUNDARY_INVALIDO),
        ],
    )
    def test_given_no_or_a_bad_boundary_then_refused_with_400(self, content_type, motivo):
        with pytest.raises(f.FormularioInvalido) as refused:
            f.boundary(content_type)
        assert (refused.value.descripcion, refused.value.status, refused.value.hash) == (motivo, 400, None)

    @pytest.mark.parametrize("content_type", ["multipart/form-data", "Multipart/Form-Data; boundary=x", CT])
    def test_given_the_media_type_in_any_case_then_multipart(self, content_type):
        assert f.es_multipart(content_type)

    @pytest.mark.parametrize("content_type", [None, "", "application/x-www-form-urlencoded", "multipart/mixed"])
    def test_given_another_media_type_then_not_multipart(self, content_type):
        assert not f.es_multipart(content_type)


class TestBody:
    def test_given_base64_then_decoded(self):
        assert f.cuerpo(base64.b64encode(b"\xff\x00").decode(), True) == b"\xff\x00"

    def test_given_text_then_utf8(self):
        assert f.cuerpo("año", False) == "año".encode()

    @pytest.mark.parametrize(("body", "b64"), [("**", True), ("abc", True), ("\ud800", False)])
    def test_given_a_body_that_does_not_decode_then_400(self, body, b64):
        with pytest.raises(f.FormularioInvalido):
            f.cuerpo(body, b64)


class TestRead:
    def test_given_a_whole_form_then_the_file_as_bytes_and_the_hash_as_text(self):
        assert leer(GOOD) == {"hash": "abc", "file": b"1;2\r\n3;4\n"}

    def test_given_the_file_as_a_plain_field_then_its_bytes(self):
        assert leer(closed(part(b'name="file"', b"\xf1;x")))["file"] == b"\xf1;x"

    def test_given_the_hash_as_a_file_part_then_its_content_stripped(self):
        assert leer(closed(part(b'name="hash"; filename="h.txt"', b"abc\r\n")))["hash"] == "abc"

    def test_given_a_plain_text_field_then_kept_as_sent(self):
        assert leer(closed(part(b'name="periodo"', b" 202611 ")))["periodo"] == " 202611 "

    def test_given_unknown_and_non_utf8_names_then_ignored(self):
        body = closed(part(b'name="otro"', b"1"), part(b'name="n\xfam"', b"2"), part(b'name="hash"', b"abc"))
        assert leer(body) == {"hash": "abc"}

    def test_given_a_windows_1252_file_name_then_accepted(self):
        assert leer(closed(part(b'name="file"; filename="a\xf1o.csv"', b"x")))["file"] == b"x"

    def test_given_a_non_utf8_hash_then_read_leniently_so_it_is_simply_wrong(self):
        assert leer(closed(part(b'name="hash"', b"\xff")))["hash"] == "\ufffd"

    def test_given_a_non_utf8_text_field_then_400_naming_it(self):
        with pytest.raises(f.FormularioInvalido, match="'periodo' no es UTF-8"):
            leer(closed(part(b'name="periodo"', b"\xff")))

    def test_given_a_file_that_contains_the_boundary_not_after_a_line_break_then_kept_whole(self):
        content = b"--" + B.encode() + b"x;--" + B.encode() + b"--\n"
        assert leer(closed(part(b'name="file"; filename="a"', content)))["file"] == content

    @pytest.mark.parametrize("cut", [3, 5, 10, 30])
    def test_given_a_body_missing_its_end_then_incompleto_with_the_hash_read_before(self, cut):
        with pytest.raises(f.FormularioInvalido) as refused:
            leer(GOOD[:-cut])
        assert refused.value.descripcion == f.INCOMPLETO and refused.value.hash == "abc"

    def test_given_a_body_cut_inside_the_hash_part_then_no_hash(self):
        with pytest.raises(f.FormularioInvalido) as refused:
            leer(GOOD[: GOOD.index(b"abc") + 2])
        assert refused.value.descripcion == f.INCOMPLETO and refused.value.hash is None

    @pytest.mark.parametrize("body", [b"", b"hash=abc&file=x", b"x" * 500])
    def test_given_a_body_without_the_boundary_then_not_multipart(self, body):
        with pytest.raises(f.FormularioInvalido, match="no es multipart/form-data"):
            leer(body)

    def test_given_duplicate_files_then_refused_with_the_hash(self):
        body = closed(part(b'name="hash"', b"abc"), part(b'name="file"', b"1"), part(b'name="file"', b"2"))
        with pytest.raises(f.FormularioInvalido) as refused:
            leer(body)
        assert "'file' viene más de una vez" in refused.value.descripcion and refused.value.hash == "abc"

    def test_given_duplicate_hashes_then_refused_without_a_hash(self):
        with pytest.raises(f.FormularioInvalido) as refused:
            leer(closed(part(b'name="hash"', b"a"), part(b'name="hash"', b"a")))
        assert refused.value.hash is None

    @pytest.mark.parametrize(
        ("body", "motivo"),
        [
            (closed(*[part(b'name="x"', b"1")] * (f.MAX_PARTES + 1)), "demasiadas partes"),
            (closed(part(b'name="file"', b"1", b"X: " + b"a" * f.MAX_ENCABEZADO)), "encabezado de una parte"),
            (closed(part(b'name="file"', b"1", *[b"X: 1"] * f.MAX_ENCABEZADOS)), "demasiados encabezados"),
            (closed(b"--" + B.encode() + b"\r\nContent-Type: text/csv\r\n\r\nx\r\n"), "Content-Disposition"),
            (closed(part(b'filename="a"', b"x")), "no tiene nombre"),
            (GOOD.replace(b"\r\n", b"\n"), "mal formado"),
            (GOOD.replace(b'a.csv"\r\n', b'a.csv"\n'), "mal formado"),
            (GOOD.replace(b"Content-Disposition: form-data", b"Content-Disposition: attachment"), "no es form-data"),
            (GOOD.replace(b"Content-Disposition:", b"Content Disposition:"), "mal formado"),
        ],
        ids=["parts", "header size", "header count", "no disposition", "no name", "lf", "lf header", "type", "name"],
    )
    def test_given_a_hostile_form_then_a_spanish_reason(self, body, motivo):
        with pytest.raises(f.FormularioInvalido, match=motivo) as refused:
            leer(body)
        assert refused.value.status == 400

    @given(st.sampled_from([b"", b"--" + B.encode() + b"\r\n", GOOD[:60]]), st.binary(max_size=400))
    def test_given_any_bytes_then_a_form_or_a_refusal_never_another_error(self, start, rest):
        # Given arbitrary bytes (after nothing, a boundary line or the start of a real form)
        try:
            result: object = leer(start + rest)
        except f.FormularioInvalido as refused:
            result = refused
        # Then a form, or a 400 with a reason: never another exception
        assert isinstance(result, dict) or (
            isinstance(result, f.FormularioInvalido) and result.status == 400 and result.descripcion
        )

    @given(st.integers(0, len(GOOD) - 3))
    def test_given_any_prefix_short_of_the_closing_delimiter_then_refused(self, cut):
        # (the CRLF after the closing --boundary-- is not part of the stream)
        with pytest.raises(f.FormularioInvalido):
            leer(GOOD[:cut])


class TestWhereTheHashComesFrom:
    @pytest.mark.parametrize("value", ["Bearer abc", "bearer abc", "BEARER   abc", "Bearer abc "])
    def test_given_a_bearer_header_then_its_hash(self, value):
        assert bearer(value) == "abc"

    @pytest.mark.parametrize("value", [None, ""])
    def test_given_no_header_then_none(self, value):
        assert bearer(value) is None

    @pytest.mark.parametrize("value", ["Token abc", "abc", "Bearer", "Bearer a b", "Bearerabc", "Bearer\tabc"])
    def test_given_another_scheme_or_shape_then_401(self, value):
        with pytest.raises(CobranzasError) as refused:
            bearer(value)
        assert refused.value.status == 401 and "Bearer <hash>" in refused.value.descripcion

    @pytest.mark.parametrize(
        ("form", "header", "expected"),
        [("abc", None, "abc"), (None, "Bearer abc", "abc"), ("abc", "Bearer abc", "abc"), (None, None, None)],
    )
    def test_given_the_form_or_the_header_then_the_hash(self, form, header, expected):
        assert hash_integrador(form, header) == expected

    def test_given_both_disagreeing_then_400(self):
        with pytest.raises(CobranzasError, match="no coinciden") as refused:
            hash_integrador("abc", "Bearer abd")
        assert refused.value.status == 400
