"""The Conectividad query logic, against an in-memory ledger and a fixed clock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from conectividad import params, queries
from conectividad.deps import QueryDeps
from conectividad.queries import corte_hasta, id_referencia, pagina
from recaudo.errors import DeudorNoExiste, ErrorSistema, ParametrosIncorrectos, SinFacturasPendientes
from recaudo.models.ledger import Convenio, EstadoDeuda, Persona, TipoConvenio
from tests.conftest import NOW
from tests.fakes import FakeLedger, deuda

TODAY = date(2026, 11, 21)  # NOW in America/Costa_Rica


@pytest.fixture
def ledger() -> FakeLedger:
    fake = FakeLedger()
    fake.put_persona(Persona("12345678", "Julio Cascante", "F", 1))
    fake.put_persona(Persona("99999999", "Sin Deudas", "F", 2))
    for conv in (
        Convenio("001", TipoConvenio.TOTAL, "total"),
        Convenio("002", TipoConvenio.PARCIAL, "parcial"),
        Convenio("003", TipoConvenio.VENCIDO, "vencido"),
        Convenio("004", TipoConvenio.CARRITO, "carrito"),
    ):
        fake.put_convenio(conv, predeterminado=True)
    fake.put_convenio(Convenio("013", TipoConvenio.TOTAL, "basura", rubros=("13",)))
    fake.deudas += [
        deuda(1, date(2026, 9, 30), rubro="13", saldo="7200.00", interes="72.00"),  # overdue
        deuda(2, date(2026, 9, 30), rubro="17", saldo="1030.34", interes="2.50"),  # overdue
        deuda(3, date(2026, 11, 21), rubro="13", saldo="7200.00"),  # due today: not yet vencido
        deuda(4, date(2026, 11, 30), rubro="13", saldo="7200.00"),  # this month: parcial
        deuda(5, date(2026, 12, 31), rubro="13", saldo="7200.00"),  # next month: total only
        deuda(6, date(2026, 6, 30), rubro="13", estado=EstadoDeuda.PAGADO),  # paid: never shown
        deuda(7, date(2026, 6, 30), rubro="13", identificacion="55555555"),  # someone else's
    ]
    return fake


@pytest.fixture
def deps(ledger: FakeLedger) -> QueryDeps:
    return QueryDeps(ledger=ledger, time_zone="America/Costa_Rica", clock=lambda: NOW)


def ids(saldos) -> list[int]:
    return [s.idSaldo for s in saldos]


class TestConvenioRules:
    @pytest.mark.parametrize(
        ("tipo", "expected"),
        [
            (TipoConvenio.TOTAL, None),
            (TipoConvenio.CARRITO, None),
            (TipoConvenio.PARCIAL, date(2026, 11, 30)),
            (TipoConvenio.VENCIDO, date(2026, 11, 20)),
        ],
    )
    def test_given_a_type_when_bounding_then_cut_off_follows_the_rule(self, tipo, expected):
        assert corte_hasta(tipo, TODAY, None) == expected

    def test_given_a_fecha_limite_when_bounding_then_the_earlier_date_wins(self):
        assert corte_hasta(TipoConvenio.TOTAL, TODAY, date(2026, 1, 1)) == date(2026, 1, 1)
        assert corte_hasta(TipoConvenio.VENCIDO, TODAY, date(2030, 1, 1)) == date(2026, 11, 20)

    def test_given_each_default_convenio_when_queried_then_it_selects_its_debts(self, deps):
        by_tipo = {t: ids(queries.saldos_por_tipo("12345678", t, None, deps)) for t in TipoConvenio}
        assert by_tipo[TipoConvenio.TOTAL] == [1, 2, 3, 4, 5]
        assert by_tipo[TipoConvenio.PARCIAL] == [1, 2, 3, 4]
        assert by_tipo[TipoConvenio.VENCIDO] == [1, 2]

    def test_given_a_convenio_restricted_to_a_rubro_when_queried_then_other_rubros_are_left_out(self, deps):
        assert ids(queries.saldos_persona("12345678", "013", None, deps)) == [1, 3, 4, 5]

    def test_given_fecha_limite_when_queried_then_later_debts_are_left_out(self, deps):
        assert ids(queries.saldos_persona("12345678", "001", date(2026, 11, 21), deps)) == [1, 2, 3]


class TestReplies:
    def test_given_a_debt_when_replied_then_monto_is_saldo_plus_interest_exactly(self, deps):
        first = queries.saldos_persona("12345678", "001", None, deps)[1]
        assert (first.saldo, first.saldoInteres, first.monto) == (
            Decimal("1030.34"),
            Decimal("2.50"),
            Decimal("1032.84"),
        )
        assert (first.fechaCorte, first.periodo, first.year) == ("30/09/2026", "03", "2026")

    def test_given_the_carrito_convenio_when_queried_then_transaction_fields_are_present(self, deps):
        carrito = queries.saldos_persona("12345678", "004", None, deps)[0].model_dump(exclude_none=True)
        plain = queries.saldos_persona("12345678", "001", None, deps)[0].model_dump(exclude_none=True)
        extra = {"auxiliarContable", "numeroCuenta", "tipoTransaccion", "numeroDocumento"}
        assert extra <= carrito.keys()
        assert not extra & plain.keys()

    def test_given_debts_of_two_rubros_when_summarised_then_grouped_by_year_and_rubro(self, deps):
        page = queries.saldos_resumen("12345678", "001", 1, 10, None, deps)
        assert [(r.idReferencia, r.montoTotal) for r in page.saldosPersonaResumen] == [
            (202613, Decimal("28872.00")),
            (202617, Decimal("1032.84")),
        ]
        assert page.cantidadPaginas == 1

    @pytest.mark.parametrize(
        ("year", "rubro", "expected"), [(2018, "17", 201817), (2019, "1", 201901), (2019, "113", 2019113)]
    )
    def test_given_year_and_rubro_when_referenced_then_the_document_form(self, year, rubro, expected):
        assert id_referencia(year, rubro) == expected


class TestPaging:
    def test_given_23_items_at_5_per_page_then_5_pages_and_the_last_holds_3(self):
        cantidad, last = pagina(23, 5, 5)
        assert cantidad == 5
        assert len(list(range(23))[last]) == 3

    def test_given_a_page_past_the_end_when_asked_then_code_5(self):
        with pytest.raises(ParametrosIncorrectos):
            pagina(23, 6, 5)

    def test_given_23_pending_debts_when_detail_is_paged_then_every_debt_appears_once(self, ledger, deps):
        ledger.deudas = [deuda(100 + i, date(2020 + i // 4, 3 * (i % 4) + 3, 1)) for i in range(23)]
        seen = []
        for n in range(1, 6):
            page = queries.saldos_resumen_detalle("12345678", "001", None, None, n, 5, None, deps)
            assert page.cantidadPaginas == 5
            seen += ids(page.saldosPersona)
        assert len(page.saldosPersona) == 3
        assert seen == [100 + i for i in range(23)]

    def test_given_rubro_and_year_filters_when_detail_is_asked_then_only_matching_debts(self, deps):
        page = queries.saldos_resumen_detalle("12345678", "001", "17", 2026, 1, 5, None, deps)
        assert ids(page.saldosPersona) == [2]
        with pytest.raises(SinFacturasPendientes):
            queries.saldos_resumen_detalle("12345678", "001", "99", None, 1, 5, None, deps)


class TestOutcomes:
    def test_given_an_unknown_person_when_queried_then_code_2(self, deps):
        with pytest.raises(DeudorNoExiste):
            queries.obtener_persona("00000000", deps)
        with pytest.raises(DeudorNoExiste):
            queries.saldos_persona("00000000", "001", None, deps)

    def test_given_a_person_without_pending_debts_when_queried_then_code_3(self, deps):
        with pytest.raises(SinFacturasPendientes):
            queries.saldos_persona("99999999", "001", None, deps)

    def test_given_an_unknown_convenio_when_queried_then_code_5_and_no_debt_is_read(self, ledger, deps):
        with pytest.raises(ParametrosIncorrectos):
            queries.saldos_persona("12345678", "999", None, deps)
        assert ledger.calls == 1  # only the convenio lookup

    def test_given_no_default_convenio_of_a_type_when_queried_then_code_1(self, ledger, deps):
        ledger.predeterminados.clear()
        with pytest.raises(ErrorSistema):
            queries.saldos_por_tipo("12345678", TipoConvenio.TOTAL, None, deps)


class TestParams:
    def test_given_identificacion_or_its_alias_then_either_names_the_debtor(self):
        assert params.deudor("1", None) == params.deudor(None, "1") == params.deudor("1", "1") == "1"

    @pytest.mark.parametrize(("ident", "alias"), [(None, None), ("1", "2"), ("", None)])
    def test_given_no_debtor_or_a_conflict_then_code_5(self, ident, alias):
        with pytest.raises(ParametrosIncorrectos):
            params.deudor(ident, alias)

    def test_given_an_impossible_fecha_limite_then_code_5(self):
        with pytest.raises(ParametrosIncorrectos):
            params.fecha_limite("31/02/2026")
        assert params.fecha_limite(None) is None
