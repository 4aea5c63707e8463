"""Cobranzas (Pay per TIC): import over HTTP and from S3 drops, export/descargar, one ledger with
Conectividad. Handlers in-process under moto; DynamoDB pages of 3 items."""

from __future__ import annotations

import logging
from datetime import UTC
from decimal import Decimal
from typing import ClassVar

import pytest

from cobranzas.integradores import FALTA_HASH
from recaudo.models.cobranzas import id_saldo
from tests.conftest import NOW
from tests.integration.cobranzas_harness import BUCKET, CLAVE_FACTURAS, MODEL_FILE, CobranzasHarness, build

MODEL = MODEL_FILE.read_bytes()


@pytest.fixture
def h(aws, monkeypatch) -> CobranzasHarness:
    return build(NOW, monkeypatch)


def row(cliente="500", concepto="1", monto="10.00", nombre="Ana Pérez", extra="") -> str:
    return f"{cliente};{nombre};3001234567;6011234;ana@example.co;{concepto};Cuota;{monto}{extra}\n"


class TestModelFile:
    def test_given_the_public_model_file_when_imported_then_ok_22_with_accents_and_amounts_exact(self, h):
        reply = h.importar(MODEL)
        assert (reply.status, reply.body) == (200, "OK: 202611 - 22 registros importados")
        assert reply.headers["content-type"].startswith("text/plain")
        rows = h.filas()
        assert len(rows) == 22
        tomas = next(r for r in rows if r[0] == "324")
        assert tomas[1] == "Tomás Gonzalez" and tomas[7] == "99.00" and tomas[10:] == ["EMI", ""]
        amounts = {(r[0], r[5]): Decimal(r[7]) for r in rows}
        assert amounts[("176", "5")] == Decimal("1322.10") and amounts[("211", "6")] == Decimal("815.70")
        in_file = {(c[0], c[5]): Decimal(c[7]) for c in (line.split(";") for line in MODEL.decode().splitlines())}
        assert amounts == in_file

    def test_given_the_period_when_the_clock_is_the_first_hours_utc_then_the_institution_zone_decides(
        self, aws, monkeypatch
    ):
        from datetime import datetime

        # 2026-12-01 03:00 UTC is still November 30 in Bogotá (UTC-5)
        h = build(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), monkeypatch)
        assert h.importar(MODEL).body == "OK: 202611 - 22 registros importados"

    def test_given_the_same_file_twice_then_no_duplicates_and_nothing_rewritten(self, h):
        h.importar(MODEL)
        writes = h.repo.solicitudes_escritura
        # the same rows in other bytes (CRLF): looked up row by row, not answered from the first import
        assert h.importar(MODEL.replace(b"\n", b"\r\n")).body == "OK: 202611 - 22 registros importados"
        # only the import's own record (claim, end) and the period's mark and point
        assert h.repo.solicitudes_escritura - writes == 4
        assert len(h.filas()) == 22


class TestVariants:
    def test_given_windows_1252_with_crlf_then_decoded(self, h):
        content = row(nombre="José Núñez").replace("\n", "\r\n").encode("cp1252")
        assert h.importar(content).body == "OK: 202611 - 1 registros importados"
        assert h.filas()[0][1] == "José Núñez"

    def test_given_utf8_with_bom_then_the_bom_is_not_part_of_the_client(self, h):
        assert h.importar(b"\xef\xbb\xbf" + row().encode()).body == "OK: 202611 - 1 registros importados"
        assert h.filas()[0][0] == "500"

    def test_given_10_field_rows_then_the_optionals_are_kept(self, h):
        content = (row(extra=";socio-12;sede norte") + row(cliente="501")).encode()
        assert h.importar(content).body == "OK: 202611 - 2 registros importados"
        rows = {r[0]: r for r in h.filas()}
        assert rows["500"][8:10] == ["socio-12", "sede norte"] and rows["501"][8:10] == ["", ""]

    BAD_ROWS: ClassVar[dict[str, str]] = {
        "few fields": "500;Ana;1;2;a@b.co;1;Cuota\n",
        "eleven fields": "500;Ana;1;2;a@b.co;1;Cuota;10;x;y;z\n",
        "client with #": row(cliente="50#0"),
        "client too long": row(cliente="9" * 31),
        "no name": row(nombre=""),
        "no mail": "500;Ana;1;2;;1;Cuota;10\n",
        "bad mail": "500;Ana;1;2;ana-at-x;1;Cuota;10\n",
        "no concept": row(concepto=""),
        "comma decimal": row(monto="2786,35"),
        "three decimals": row(monto="1.005"),
        "negative": row(monto="-5"),
        "zero": row(monto="0.00"),
        "no amount": row(monto=""),
        "tab inside": row(nombre="Ana\tPérez"),
        "header": "IDCliente;NombreCliente;CelularCliente;TelefonoCliente;MailCliente;IDConcepto;DescripcionConcepto;Monto\n",
        "long line": row(nombre="x" * 5000),
    }

    @pytest.mark.parametrize("kind", BAD_ROWS)
    def test_given_a_bad_row_among_good_ones_then_it_counts_as_fallido_and_is_reported_by_line(self, h, kind):
        content = (row(cliente="1") + self.BAD_ROWS[kind] + row(cliente="3")).encode()
        reply = h.importar(content)
        assert reply.body == "OK: 202611 - 2 registros importados - 1 registros fallidos"
        report = h.call(
            "importar_reporte",
            h.get("/cobranzas/importar/reporte", importacion=reply.headers["x-recaudo-importacion"]),
        )
        lines = report.body.splitlines()
        assert lines[0] == reply.body and len(lines) == 2 and lines[1].startswith("línea 2: ")

    def test_given_two_charges_of_one_concept_for_one_client_then_both_are_collections(self, h):
        # Given two rows of client 500, concept 1 (two legitimate charges) in one file
        content = (row(monto="10") + row(monto="99")).encode()
        # When it is imported twice
        assert h.importar(content).body == "OK: 202611 - 2 registros importados"
        writes = h.repo.solicitudes_escritura
        # (the same rows in other bytes, CRLF: looked up row by row, not answered from the first import)
        assert h.importar(content.replace(b"\n", b"\r\n")).body == "OK: 202611 - 2 registros importados"
        # Then both stand, each once, and the re-import wrote nothing but its record
        assert sorted(r[7] for r in h.filas()) == ["10.00", "99.00"]
        assert h.repo.solicitudes_escritura - writes == 4  # the claim, its end, the period's mark and point
        # and a correction of the second charge changes only it
        assert h.importar((row(monto="10") + row(monto="98")).encode()).body == "OK: 202611 - 2 registros importados"
        assert sorted(r[7] for r in h.filas()) == ["10.00", "98.00"]

    WHOLE_FILE: ClassVar[dict[str, tuple[bytes, str]]] = {
        "empty": (b"", "ERROR: el archivo está vacío"),
        "blank lines": (b"\n\r\n  \n", "ERROR: el archivo está vacío"),
        "comma csv": (b"a,b,c\n1,2,3\n", "ERROR: el archivo no tiene el formato de cobranzas"),
        "binary": (b"PK\x03\x04\x00\x00binary", "ERROR: el archivo no es un CSV de texto"),
        "utf-16": ("500;Ana".encode("utf-16"), "ERROR: codificación UTF-16 no soportada"),
    }

    @pytest.mark.parametrize("kind", WHOLE_FILE)
    def test_given_a_whole_file_problem_then_error_and_nothing_stored(self, h, kind):
        h.importar(row(cliente="7").encode())
        content, expected = self.WHOLE_FILE[kind]
        reply = h.importar(content)
        assert reply.status == 400 and reply.body.startswith(expected)
        assert [r[0] for r in h.filas()] == ["7"]  # what was stored before is untouched

    @pytest.mark.parametrize(
        ("hash_", "file", "status", "body"),
        [
            (None, row().encode(), 401, f"ERROR: {FALTA_HASH}"),
            ("wrong-hash", row().encode(), 401, "ERROR: hash inválido"),
            ("default", None, 400, "ERROR: falta el archivo (campo 'file' del formulario multipart)"),
        ],
    )
    def test_given_missing_credentials_or_file_then_error(self, h, hash_, file, status, body):
        reply = h.importar(file, hash_=hash_)
        assert (reply.status, reply.body) == (status, body)

    def test_given_a_file_over_the_http_limit_then_error_pointing_to_the_upload_url(self, h):
        h.deps.max_http_bytes = 1024
        reply = h.importar(row().encode() * 40)
        assert (
            reply.status == 413
            and reply.body.startswith("ERROR: archivo demasiado grande")
            and "importar/url" in reply.body
        )

    def test_given_a_body_that_is_not_multipart_then_error_not_500(self, h):
        from tests.helpers import rest_event

        event = rest_event("POST", "/cobranzas/importar/csv", headers={"Content-Type": "application/xml"}, body="<x/>")
        reply = h.call("importar_csv", event)
        assert reply.status == 400 and reply.body.startswith("ERROR: ")

    def test_given_the_hash_in_a_form_a_header_or_a_url_then_it_never_reaches_the_logs(self, h, caplog):
        from tests.helpers import rest_event

        # Given DEBUG logging, When the hash travels every way a client may send it
        caplog.set_level(logging.DEBUG)
        h.importar(row().encode())  # the form's hash field
        h.importar(row().encode(), query=f"hash={h.hash}")  # in the URL: refused
        h.exportar()  # GET: Authorization: Bearer
        h.exportar(method="POST", form="multipart")
        h.call("importar_reporte", h.get("/cobranzas/importar/reporte", importacion="nada"))
        h.importar(row().encode(), hash_=h.hash + "x")  # a wrong one
        h.call("exportar_csv", h.get("/cobranzas/exportar/csv", hash_=h.hash + " extra"))  # a malformed header
        malformed = rest_event("GET", "/cobranzas/exportar/csv", headers={"Authorization": f"Token {h.hash}"})
        h.call("exportar_csv", malformed)
        # Then no log record carries it
        assert caplog.records and all(
            h.hash not in r.getMessage() and h.hash not in str(r.__dict__) for r in caplog.records
        )

    def test_given_an_integrator_then_only_a_digest_of_its_hash_is_stored(self, h):
        items = h.ddb.scan(TableName="recaudo-credentials")["Items"]
        assert items and h.hash not in str(items)


class TestReimport:
    def test_given_an_emi_collection_when_reimported_with_another_amount_then_updated(self, h):
        h.importar(row(monto="10").encode())
        assert h.importar(row(monto="12.50").encode()).body == "OK: 202611 - 1 registros importados"
        assert h.filas()[0][7] == "12.50"

    def test_given_an_acp_collection_then_a_changed_row_fails_and_an_unchanged_one_counts(self, h):
        h.importar((row(monto="10") + row(cliente="501", monto="20")).encode())
        h.pagar("500", "1")
        h.pagar("501", "1")
        reply = h.importar((row(monto="11") + row(cliente="501", monto="20")).encode())
        assert reply.body == "OK: 202611 - 1 registros importados - 1 registros fallidos"
        assert {r[0]: (r[7], r[10]) for r in h.filas()} == {"500": ("10.00", "ACP"), "501": ("20.00", "ACP")}

    def test_given_a_payment_between_the_lookahead_and_the_write_then_the_condition_protects_it(self, h, monkeypatch):
        h.importar(row(monto="10").encode())
        existentes = h.repo.existentes

        def stale(*args):  # the look-ahead read, then a bank pays before the import writes
            snapshot = existentes(*args)
            h.pagar("500", "1")
            return snapshot

        monkeypatch.setattr(h.repo, "existentes", stale)
        reply = h.importar((row(monto="99") + row(cliente="502")).encode())
        assert reply.body == "OK: 202611 - 1 registros importados - 1 registros fallidos"
        assert {r[0]: (r[7], r[10]) for r in h.filas()} == {"500": ("10.00", "ACP"), "502": ("10.00", "EMI")}


class TestExport:
    @pytest.fixture
    def loaded(self, h):
        content = (
            row(cliente="1", concepto="A", extra=";x;y")
            + row(cliente="1", concepto="B", extra=";x;z")
            + row(cliente="2", concepto="A", extra=";w;y")
            + row(cliente="12", concepto="A")
        )
        h.importar(content.encode())
        return h

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({}, {("1", "A"), ("1", "B"), ("12", "A"), ("2", "A")}),
            ({"id_cliente": "1"}, {("1", "A"), ("1", "B")}),
            ({"id_concepto": "A"}, {("1", "A"), ("12", "A"), ("2", "A")}),
            ({"id_cliente": "1", "id_concepto": "B"}, {("1", "B")}),
            ({"opcional1": "x"}, {("1", "A"), ("1", "B")}),
            ({"opcional2": "y"}, {("1", "A"), ("2", "A")}),
            ({"opcional1": "x", "opcional2": "y"}, {("1", "A")}),
            ({"periodo": "*", "id_cliente": "1", "id_concepto": "A"}, {("1", "A")}),
            ({"periodo": "202611", "id_cliente": "12"}, {("12", "A")}),
            ({"periodo": "202610"}, set()),
        ],
    )
    def test_given_filters_then_combined_with_and(self, loaded, params, expected):
        assert {(r[0], r[5]) for r in loaded.filas(**params)} == expected

    def test_given_imports_in_two_periods_then_star_lists_both_and_the_default_only_the_current(self, aws, monkeypatch):
        from datetime import datetime

        h = build(datetime(2026, 10, 15, 15, tzinfo=UTC), monkeypatch)
        h.importar(row(cliente="1").encode())
        october = h.deps
        october.clock = lambda: NOW
        h.importar(row(cliente="2").encode())
        assert [r[0] for r in h.filas()] == ["2"]
        assert [r[0] for r in h.filas(periodo="*")] == ["1", "2"]
        assert [r[0] for r in h.filas(periodo="202610")] == ["1"]

    @pytest.mark.parametrize(("method", "form"), [("GET", None), ("POST", "urlencoded"), ("POST", "multipart")])
    def test_given_get_or_post_then_the_same_csv(self, loaded, method, form):
        reply = loaded.exportar({"id_cliente": "2"}, method=method, form=form or "urlencoded")
        assert reply.status == 200 and reply.headers["content-type"].startswith("text/csv")
        assert reply.body == "2;Ana Pérez;3001234567;6011234;ana@example.co;A;Cuota;10.00;w;y;EMI;\r\n"

    def test_given_descargar_then_an_attachment_with_a_file_name_and_a_bom(self, loaded):
        reply = loaded.exportar({"periodo": "*"}, module="descargar_csv", method="POST")
        assert reply.headers["content-disposition"] == 'attachment; filename="cobranzas-club-todos.csv"'
        assert reply.raw.startswith(b"\xef\xbb\xbf") and reply.body.count("\r\n") == 4

    @pytest.mark.parametrize("periodo", ["2026-11", "202613", "abc", "20261"])
    def test_given_a_bad_period_then_error(self, loaded, periodo):
        reply = loaded.exportar({"periodo": periodo})
        assert reply.status == 400 and reply.body.startswith("ERROR: ")

    def test_given_a_bad_hash_then_error_and_no_data(self, loaded):
        reply = loaded.exportar({"hash": "nope"})
        assert (reply.status, reply.body) == (401, "ERROR: hash inválido")

    FORMULAS = '500;=HYPERLINK("x");+573001234567;-1;ana@example.co;1;@SUM(A1);10;=1+1;+x\n'

    def test_given_formula_triggers_in_text_cells_when_downloaded_then_neutralised(self, h):
        bad_mail = '500;=HYPERLINK("x");+573001234567;-1;@ana@example.co;1;@SUM(A1);10;=1+1;+x\n'
        assert h.importar(bad_mail.encode()).body.startswith("OK: 202611 - 0 registros importados - 1")
        assert h.importar(self.FORMULAS.encode()).body == "OK: 202611 - 1 registros importados"
        # When the file meant for spreadsheets is downloaded
        reply = h.exportar(module="descargar_csv")
        (cells,) = [line.split(";") for line in reply.body.lstrip("\ufeff").split("\r\n") if line]
        # Then no cell starts with a formula trigger
        assert cells[1] == '\'=HYPERLINK("x")' and cells[2] == "'+573001234567" and cells[3] == "'-1"
        assert cells[6] == "'@SUM(A1)" and cells[8:10] == ["'=1+1", "'+x"]
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)

    def test_given_formula_triggers_when_exported_for_programs_then_values_are_exact_and_filters_match(self, h):
        assert h.importar(self.FORMULAS.encode()).body == "OK: 202611 - 1 registros importados"
        # When exportar/csv (read by programs) is asked, filtering by a value starting with '+'
        (cells,) = h.filas(opcional2="+x")
        # Then every value is exactly as imported
        assert cells[1:4] == ['=HYPERLINK("x")', "+573001234567", "-1"] and cells[8:10] == ["=1+1", "+x"]


class TestOneLedger:
    def test_given_an_import_then_conectividad_sees_the_debts_under_the_integrators_convenio(self, h):
        h.importar(MODEL)
        debts = h.ledger.deudas_pendientes("club:176", "CLUB")
        assert sorted((d.id_rubro, d.monto) for d in debts) == sorted(
            [
                ("1", Decimal("99")),
                ("5", Decimal("1322.10")),
                ("3", Decimal("199.90")),
                ("4", Decimal("350")),
                ("9", Decimal("250")),
            ]
        )
        assert h.ledger.get_persona("club:176").nombre == "Fabian Barros"
        assert h.ledger.get_persona("176") is None  # the integrator's client, not a person of the registry
        d = h.ledger.get_deuda_por_factura(id_saldo("club", "202611", "176", "5", CLAVE_FACTURAS))
        assert d.monto == Decimal("1322.10") and f"{d.year}{d.periodo}" == "202611"


class TestS3Drop:
    def test_given_a_drop_when_the_event_is_delivered_twice_then_imported_once_and_reported_next_to_it(self, h):
        from cobranzas import importar_s3

        key = "entrada/club/mis cobros.csv"
        h.s3.put_object(Bucket=BUCKET, Key=key, Body=MODEL)
        event = h.s3_event(key)
        assert importar_s3.procesar(event, None) == {"resultados": ["OK: 202611 - 22 registros importados"]}
        writes = h.repo.solicitudes_escritura
        assert importar_s3.procesar(event, None) == {"resultados": [None]}
        assert h.repo.solicitudes_escritura == writes + 1  # only the refused claim
        report = h.s3.get_object(Bucket=BUCKET, Key=key + ".resultado.txt")["Body"].read().decode()
        assert report == "OK: 202611 - 22 registros importados\n"
        assert len(h.filas()) == 22

    def test_given_a_drop_with_bad_rows_then_the_report_lists_them(self, h):
        from cobranzas import importar_s3

        h.s3.put_object(Bucket=BUCKET, Key="entrada/club/x.csv", Body=(row() + row(monto="1,5")).encode("cp1252"))
        importar_s3.procesar(h.s3_event("entrada/club/x.csv"), None)
        reply = h.call("importar_reporte", h.get("/cobranzas/importar/reporte", importacion="x.csv"))
        assert reply.body == (
            "OK: 202611 - 1 registros importados - 1 registros fallidos\n"
            "línea 2: Monto debe usar punto decimal (ej. 2786.35)\n"
        )

    def test_given_a_key_outside_the_inbox_then_ignored(self, h):
        # (the notification only sends keys under entrada/; an unknown integrator, a subfolder or another
        # suffix under it: tests/integration/test_cobranzas_entregas.py)
        from cobranzas import importar_s3

        h.s3.put_object(Bucket=BUCKET, Key="otro/club/x.csv", Body=MODEL)
        assert importar_s3.procesar(h.s3_event("otro/club/x.csv"), None) == {"resultados": [None]}
        assert h.filas() == []

    def test_given_the_upload_url_endpoint_then_a_presigned_put_under_the_integrators_prefix(self, h):
        reply = h.call("importar_url", _post_form("/cobranzas/importar/url", hash=h.hash))
        assert reply.status == 200 and reply.body.startswith("OK: https://")
        assert f"/entrada/club/{reply.headers['x-recaudo-importacion']}" in reply.body
        assert "X-Amz-Signature=" in reply.body and h.hash not in reply.body

    @pytest.mark.parametrize("importacion", ["../otro", "a/b", ".x", ""])
    def test_given_a_report_name_that_leaves_the_prefix_then_refused(self, h, importacion):
        reply = h.call("importar_reporte", h.get("/cobranzas/importar/reporte", importacion=importacion))
        assert reply.status == 400 and reply.body.startswith("ERROR: ")


def _post_form(path: str, **params: str):
    from urllib.parse import urlencode

    from tests.helpers import rest_event

    return rest_event(
        "POST", path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=urlencode(params)
    )
