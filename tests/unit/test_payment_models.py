"""Payment requests and rules as pure logic: parsing the bank's body, matching codes, convenio rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from conectividad.pagos import _in_convenio, _same_code
from recaudo.models.conectividad import PagoRequest, ReversaRequest
from recaudo.models.ledger import Convenio, TipoConvenio
from recaudo.money import loads
from tests.fakes import deuda

BASE = {
    "llaveAcceso": "k",
    "codigoConvenio": "001",
    "codigoBanco": "00152",
    "codigoAgencia": "033272",
    "periodo": "202611",
}


def parse(text: str) -> PagoRequest:
    return PagoRequest.model_validate(loads(text))


class TestPagoRequest:
    def test_given_the_documents_number_types_then_codes_become_text_and_amounts_exact(self):
        req = parse(
            '{"llaveAcceso": "k", "codigoConvenio": "001", "codigoBanco": 152, "codigoAgencia": 33272,'
            ' "periodo": "202611", "montoTotal": 16188.96, "numeroFactura": 20190906191853}'
        )
        assert (req.codigoBanco, req.codigoAgencia) == ("152", "33272")
        assert req.montoTotal == Decimal("16188.96") and isinstance(req.montoTotal, Decimal)
        assert req.numeroFactura == 20190906191853

    @pytest.mark.parametrize("factura", ['"20190906191853"', "20190906191853.0", "2.0190906191853E13"])
    def test_given_an_integral_invoice_number_in_any_json_form_then_accepted(self, factura):
        req = parse(
            f'{{"llaveAcceso": "k", "codigoConvenio": "001", "codigoBanco": "1", "codigoAgencia": "1",'
            f' "periodo": "202611", "montoTotal": 1, "numeroFactura": {factura}}}'
        )
        assert req.numeroFactura == 20190906191853

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("numeroFactura", 0),
            ("numeroFactura", Decimal("0.0")),  # the document's own example value
            ("numeroFactura", Decimal("1.5")),
            ("numeroFactura", "12a"),
            ("numeroFactura", True),
            ("numeroFactura", 10**20),
            ("montoTotal", Decimal("0")),
            ("montoTotal", Decimal("-1.00")),
            ("montoTotal", Decimal("1.005")),
            ("montoTotal", Decimal("1E+13")),
            ("periodo", "2026-11"),
            ("periodo", "２０２６１１"),  # full-width digits are not digits here
            ("codigoBanco", ""),
            ("codigoBanco", Decimal("1E+400")),
            ("llaveAcceso", ""),
        ],
    )
    def test_given_a_bad_field_then_the_request_is_refused(self, field, value):
        with pytest.raises(ValidationError):
            PagoRequest.model_validate(BASE | {"montoTotal": Decimal("1.00"), "numeroFactura": 1} | {field: value})

    def test_given_a_cart_with_a_repeated_transaction_then_refused(self):
        tx = {"auxiliarContable": "CUF", "numeroCuenta": 1, "tipoTransaccion": "IBI", "numeroDocumento": "123"}
        with pytest.raises(ValidationError, match="repetidas"):
            PagoRequest.model_validate(
                BASE | {"montoTotal": Decimal("2.00"), "numeroFactura": 9, "transacciones": [tx, tx]}
            )

    def test_given_a_reversal_then_no_amount_is_needed(self):
        assert ReversaRequest.model_validate(BASE | {"numeroFactura": 5}).numeroFactura == 5


class TestRules:
    @pytest.mark.parametrize(
        ("a", "b", "same"),
        [
            ("00152", "152", True),
            ("152", "00152", True),
            ("00152", "00153", False),
            ("BN-1", "BN-1", True),
            ("BN-1", "bn-1", False),
        ],
    )
    def test_given_bank_codes_then_numeric_ones_compare_by_value(self, a, b, same):
        assert _same_code(a, b) is same

    def test_given_convenio_rules_then_a_debt_is_payable_only_inside_its_selection(self):
        today = date(2026, 11, 21)
        overdue, future = deuda(1, date(2026, 9, 30), rubro="13"), deuda(2, date(2026, 12, 31), rubro="13")
        vencido = Convenio("003", TipoConvenio.VENCIDO, "v")
        basura = Convenio("013", TipoConvenio.TOTAL, "b", rubros=("13",))
        parques = Convenio("024", TipoConvenio.TOTAL, "p", rubros=("24",))
        other_institution = Convenio("PPT", TipoConvenio.TOTAL, "ppt", institucion="PPT")
        assert _in_convenio(overdue, vencido, today) and not _in_convenio(future, vencido, today)
        assert _in_convenio(future, basura, today) and not _in_convenio(future, parques, today)
        assert not _in_convenio(overdue, other_institution, today)
