"""Money, dates and the return-code mapping: the primitives every endpoint leans on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from recaudo.dates import InvalidDate, end_of_month, format_ddmmyyyy, local_today, parse_ddmmyyyy
from recaudo.errors import (
    HTTP_STATUS,
    CodigoRespuesta,
    DeudorNoExiste,
    ParametrosIncorrectos,
    SinFacturasPendientes,
)
from recaudo.money import InvalidAmount, dumps, loads, to_money


class TestMoney:
    def test_given_decimal_amounts_when_dumped_then_json_numbers_are_exact(self):
        # Given amounts a float cannot hold exactly
        payload = {"a": Decimal("16188.96"), "b": Decimal("12345678901234567.89"), "c": Decimal("0.10")}
        # When / Then: the digits travel untouched, as JSON numbers (not strings)
        assert dumps(payload) == '{"a":16188.96,"b":12345678901234567.89,"c":0.10}'

    def test_given_json_with_fractions_when_loaded_then_numbers_are_decimals(self):
        assert loads('{"m": 0.1}')["m"] == Decimal("0.1")

    @pytest.mark.parametrize("value", ["12.345", "NaN", "Infinity", "abc", "", 1.5, True])
    def test_given_a_bad_amount_when_parsed_then_it_is_refused(self, value):
        with pytest.raises(InvalidAmount):
            to_money(value)

    @pytest.mark.parametrize(("value", "expected"), [("2786.35", "2786.35"), ("99", "99.00"), (Decimal("1.1"), "1.10")])
    def test_given_a_good_amount_when_parsed_then_it_has_two_places(self, value, expected):
        assert str(to_money(value)) == expected


class TestDates:
    def test_given_a_document_date_when_parsed_then_it_round_trips(self):
        assert parse_ddmmyyyy("30/06/2018") == date(2018, 6, 30)
        assert format_ddmmyyyy(date(2019, 3, 1)) == "01/03/2019"

    @pytest.mark.parametrize("text", ["31/02/2024", "1/1/2024", "2024-01-01", "01/13/2024", "", "00/01/2024"])
    def test_given_an_impossible_or_misformatted_date_when_parsed_then_it_is_refused(self, text):
        with pytest.raises(InvalidDate):
            parse_ddmmyyyy(text)

    def test_given_february_of_a_leap_year_when_end_of_month_then_29(self):
        assert end_of_month(date(2024, 2, 10)) == date(2024, 2, 29)
        assert end_of_month(date(2026, 12, 1)) == date(2026, 12, 31)

    def test_given_utc_after_midnight_when_local_today_in_costa_rica_then_it_is_still_yesterday(self):
        # 03:00 UTC on the 22nd is 21:00 on the 21st in America/Costa_Rica (UTC-6)
        clock = lambda: datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # noqa: E731
        assert local_today(clock, "America/Costa_Rica") == date(2026, 11, 21)


class TestReturnCodes:
    def test_given_every_code_when_mapped_then_status_is_fitting(self):
        assert {c: HTTP_STATUS[c] for c in CodigoRespuesta} == {
            CodigoRespuesta.EJECUCION_CORRECTA: 200,
            CodigoRespuesta.ERROR_SISTEMA: 500,
            CodigoRespuesta.DEUDOR_NO_EXISTE: 404,
            CodigoRespuesta.SIN_FACTURAS_PENDIENTES: 404,
            CodigoRespuesta.NO_AUTENTICADO: 401,
            CodigoRespuesta.PARAMETROS_INCORRECTOS: 400,
        }

    @pytest.mark.parametrize(
        ("error", "code", "status"),
        [(DeudorNoExiste("1"), 2, 404), (SinFacturasPendientes(), 3, 404), (ParametrosIncorrectos("x"), 5, 400)],
    )
    def test_given_a_business_error_when_rendered_then_body_carries_code_and_description(self, error, code, status):
        assert error.body()["codigoRespuesta"] == code
        assert error.http_status == status
        assert error.body()["descripcion"].startswith(str(error).split(":")[0])
