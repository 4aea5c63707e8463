"""The Pay per TIC file as integrators really write it (issue 14): trailing ';', only Opcional1,
IDCliente as text, an empty IDCliente, repeated charges; and the two export dialects."""

from __future__ import annotations

from decimal import Decimal

import pytest

from recaudo.formats.cobranzas import Fallida, Fila, Lector, linea_exportacion, validar

BASE = "500;Ana Pérez;3001234567;6011234;ana@example.co;1;Cuota social;99.50"


def filas(texto: str) -> list[Fila | Fallida]:
    return list(Lector().filas([texto.encode()]))


class TestFieldCounts:
    @pytest.mark.parametrize(
        ("line", "o1", "o2"),
        [
            (BASE + ";", "", ""),  # 8 fields and a trailing ';'
            (BASE + ";socio-12", "socio-12", ""),  # only Opcional1 (9 fields)
            (BASE + ";socio-12;", "socio-12", ""),  # Opcional1 and a trailing ';'
            (BASE + ";socio-12;sede", "socio-12", "sede"),
            (BASE + ";socio-12;sede;", "socio-12", "sede"),  # 10 fields and a trailing ';'
            (BASE + ";;;", "", ""),  # empty optionals and a trailing ';'
        ],
    )
    def test_given_ordinary_row_shapes_when_validated_then_accepted_with_their_optionals(self, line, o1, o2):
        fila = validar(1, line)
        assert isinstance(fila, Fila), fila
        assert (fila.opcional1, fila.opcional2, fila.monto) == (o1, o2, Decimal("99.50"))

    @pytest.mark.parametrize("line", [BASE + ";a;b;c", "500;Ana;1;2;a@b.co;1;Cuota"])
    def test_given_too_many_or_too_few_fields_then_the_row_fails_saying_so(self, line):
        result = validar(3, line)
        assert isinstance(result, Fallida) and "de 8 a 10 campos" in result.motivo

    def test_given_a_file_of_nine_field_rows_then_it_is_this_csv_and_every_row_imports(self):
        rows = filas("".join(f"{i};Ana;;;a{i}@b.co;1;Cuota;10;x\n" for i in range(60)))
        assert all(isinstance(f, Fila) for f in rows) and len(rows) == 60


class TestIdCliente:
    @pytest.mark.parametrize("cliente", ["12.345.678", "20-12345678-9", "A-901", "socio/77", "Ñandú 4"])
    def test_given_ids_with_dots_dashes_or_text_then_accepted_as_written(self, cliente):
        fila = validar(1, BASE.replace("500", cliente, 1))
        assert isinstance(fila, Fila) and fila.id_cliente == cliente

    @pytest.mark.parametrize(("cliente", "motivo"), [("50#0", "'#'"), ("9" * 31, "30 caracteres")])
    def test_given_a_key_separator_or_a_long_id_then_the_row_fails(self, cliente, motivo):
        result = validar(1, BASE.replace("500", cliente, 1))
        assert isinstance(result, Fallida) and motivo in result.motivo

    def test_given_an_empty_id_for_a_new_member_then_the_client_is_its_mail_in_lower_case(self):
        fila = validar(1, ";Ana;;;Ana.Perez@Example.co;1;Cuota;10")
        assert isinstance(fila, Fila) and fila.id_cliente == "ana.perez@example.co"

    def test_given_an_empty_id_and_a_mail_with_hash_then_the_row_fails(self):
        result = validar(1, ";Ana;;;an#a@example.co;1;Cuota;10")
        assert isinstance(result, Fallida) and "'#'" in result.motivo


class TestRepeatedCharges:
    def test_given_one_client_and_concept_three_times_then_three_occurrences_in_file_order(self):
        rows = filas(
            "500;Ana;;;a@b.co;1;Cuota;10\n501;Luis;;;l@b.co;1;Cuota;5\n500;Ana;;;a@b.co;1;Cuota;10\n"
            "500;Ana;;;a@b.co;1;Cuota;7\n"
        )
        claves = [f.clave for f in rows if isinstance(f, Fila)]
        assert claves == [("500", "1", 1), ("501", "1", 1), ("500", "1", 2), ("500", "1", 3)]

    def test_given_identical_lines_then_each_is_its_own_charge_with_the_same_content_digest(self):
        a, b = filas("500;Ana;;;a@b.co;1;Cuota;10\n" * 2)
        assert isinstance(a, Fila) and isinstance(b, Fila)
        assert a.clave != b.clave and a.huella() == b.huella()


class TestExportLine:
    TEXTOS = ("500", '=HYPERLINK("x")', "+5491112345678", "-1", "a@b.co", "1", "@SUM(A1)", "=1", "+x")

    def test_given_a_program_reading_exportar_then_values_are_exact(self):
        line = linea_exportacion(self.TEXTOS, Decimal("10"), "EMI", "-rechazo")
        assert line == '500;=HYPERLINK("x");+5491112345678;-1;a@b.co;1;@SUM(A1);10.00;=1;+x;EMI;-rechazo\r\n'

    def test_given_a_spreadsheet_download_then_formula_triggers_are_neutralised(self):
        line = linea_exportacion(self.TEXTOS, Decimal("10"), "EMI", "-rechazo", planilla=True)
        cells = line.rstrip("\r\n").split(";")
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
        assert cells[2] == "'+5491112345678" and cells[11] == "'-rechazo"

    def test_given_every_period_then_the_period_is_a_13th_column_and_single_period_keeps_12(self):
        todos = linea_exportacion(self.TEXTOS[:1] + ("Ana",) * 8, Decimal("1"), "ACP", "", periodo="202611")
        uno = linea_exportacion(self.TEXTOS[:1] + ("Ana",) * 8, Decimal("1"), "ACP", "")
        assert todos.rstrip("\r\n").split(";")[10:] == ["ACP", "", "202611"]
        assert len(uno.split(";")) == 12
