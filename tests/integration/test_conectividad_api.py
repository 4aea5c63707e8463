"""Every Conectividad query endpoint through its Lambda handler, with the demo data under moto."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.helpers import call, rest_event
from tests.integration.conftest import PAGING_PERSON

BASE = "/v1/integracion-conectividad"


def pending_ids(demo, identificacion: str, hasta: date | None = None) -> set[int]:
    """The oracle: the demo debts a query should return, straight from the data set."""
    return {
        d.id_saldo
        for d in demo.deudas
        if d.identificacion == identificacion
        and d.estado.value == "pendiente"
        and (hasta is None or d.fecha_corte <= hasta)
    }


def get(handler_of, segment: str, query: str | dict):
    module = segment.replace("-", "_")
    return call(handler_of(module), rest_event("GET", f"{BASE}/{segment}", query))


class TestHappyPaths:
    def test_given_a_known_person_when_obtener_persona_then_the_documented_fields(self, demo, handler_of):
        status, body = get(handler_of, "obtener-persona", "identificacion=12345678")
        assert status == 200
        assert body == {"identificacion": "12345678", "nombre": "Julio Cascante", "tipoIdentificacion": "F"}

    def test_given_the_total_convenio_when_saldos_persona_then_pending_debts_oldest_first(self, demo, handler_of):
        status, body = get(handler_of, "saldos-persona", "codigoConvenio=001&identificacion=12345678")
        assert status == 200
        assert {s["idSaldo"] for s in body} == pending_ids(demo, "12345678")
        cortes = [s["fechaCorte"][6:] + s["fechaCorte"][3:5] + s["fechaCorte"][:2] for s in body]
        assert cortes == sorted(cortes)  # oldest cut-off first, monthly and quarterly interleaved
        assert all(s["estado"] == "pendiente" for s in body)
        assert all(s["monto"] == s["saldo"] + s["saldoInteres"] for s in body)
        assert all(isinstance(s["monto"], Decimal) for s in body)

    def test_given_the_carrito_convenio_when_saldos_persona_then_transaction_fields_come(self, demo, handler_of):
        status, body = get(handler_of, "saldos-persona", "codigoConvenio=004&identificacion=87654321")
        assert status == 200
        first = body[0]
        assert {
            "auxiliarContable",
            "numeroCuenta",
            "tipoTransaccion",
            "numeroDocumento",
            "numeroPersona",
        } <= first.keys()
        assert first["numeroDocumento"] == str(first["idSaldo"])

    @pytest.mark.parametrize("alias", ["identificacion", "idDeudor"])
    def test_given_each_type_when_queried_then_it_selects_by_cut_off_date(self, demo, handler_of, alias):
        # NOW is 21/11/2026 in Costa Rica: vencido < 21/11/2026 <= parcial <= 30/11/2026, total: all
        results = {}
        for tipo in ("total", "parcial", "vencido"):
            status, body = get(handler_of, f"saldos-{tipo}-persona", f"{alias}=12345678")
            assert status == 200
            results[tipo] = {s["idSaldo"] for s in body}
        assert results["total"] == pending_ids(demo, "12345678")
        assert results["parcial"] == pending_ids(demo, "12345678", date(2026, 11, 30))
        assert results["vencido"] == pending_ids(demo, "12345678", date(2026, 11, 20))
        assert results["vencido"] < results["parcial"] < results["total"]

    def test_given_fecha_limite_when_queried_then_later_cut_offs_are_left_out(self, demo, handler_of):
        _, body = get(handler_of, "saldos-total-persona", "identificacion=12345678&fechaLimite=30/06/2026")
        assert {s["idSaldo"] for s in body} == pending_ids(demo, "12345678", date(2026, 6, 30))

    def test_given_a_summary_when_paged_then_pages_partition_the_groups(self, demo, handler_of):
        groups = {
            (d.year, d.id_rubro)
            for d in demo.deudas
            if d.identificacion == "12345678" and d.estado.value == "pendiente"
        }
        pages = -(-len(groups) // 5)
        seen = []
        for n in range(1, pages + 1):
            status, body = get(
                handler_of,
                "saldos-persona-resumen",
                f"codigoConvenio=001&identificacion=12345678&numeroPagina={n}&longitudPagina=5",
            )
            assert status == 200 and body["cantidadPaginas"] == pages and body["numeroPagina"] == n
            seen += [(r["year"], r["idRubro"]) for r in body["saldosPersonaResumen"]]
        assert len(seen) == len(set(seen)) and set(seen) == groups
        assert seen == sorted(seen)

    def test_given_23_pending_debts_when_detail_is_paged_by_5_then_5_pages_and_3_on_the_last(self, demo, handler_of):
        query = f"codigoConvenio=001&identificacion={PAGING_PERSON}&longitudPagina=5"
        pages = [get(handler_of, "saldos-persona-resumen-detalle", f"{query}&numeroPagina={n}") for n in range(1, 6)]
        assert {status for status, _ in pages} == {200}
        assert {body["cantidadPaginas"] for _, body in pages} == {5}
        assert [len(body["saldosPersona"]) for _, body in pages] == [5, 5, 5, 5, 3]
        ids = [s["idSaldo"] for _, body in pages for s in body["saldosPersona"]]
        assert ids == [9000 + i for i in range(23)]
        status, body = get(handler_of, "saldos-persona-resumen-detalle", f"{query}&numeroPagina=6")
        assert (status, body["codigoRespuesta"]) == (400, 5)

    def test_given_rubro_and_year_when_detail_then_only_that_rubro_and_year(self, demo, handler_of):
        status, body = get(
            handler_of,
            "saldos-persona-resumen-detalle",
            "codigoConvenio=001&identificacion=12345678&idRubro=39&year=2027&numeroPagina=1&longitudPagina=10",
        )
        assert status == 200
        assert [(s["idRubro"], s["year"], s["periodo"], s["fechaCorte"]) for s in body["saldosPersona"]] == [
            ("39", "2027", "01", "31/03/2027"),
            ("39", "2027", "02", "30/06/2027"),
            ("39", "2027", "03", "30/09/2027"),
            ("39", "2027", "04", "31/12/2027"),
        ]


class TestOutcomeCodes:
    def test_given_an_unknown_person_when_queried_then_code_2_with_404(self, demo, handler_of):
        for segment, query in [
            ("obtener-persona", "identificacion=00000000"),
            ("saldos-total-persona", "idDeudor=00000000"),
            ("saldos-persona", "codigoConvenio=001&identificacion=00000000"),
        ]:
            status, body = get(handler_of, segment, query)
            assert (status, body["codigoRespuesta"]) == (404, 2), segment

    def test_given_a_person_with_everything_paid_when_queried_then_code_3(self, demo, handler_of):
        status, body = get(handler_of, "saldos-total-persona", "identificacion=3101123456")
        assert (status, body["codigoRespuesta"]) == (404, 3)
        assert body["descripcion"].startswith("Deudor no tiene facturas pendientes")


BAD_INPUTS = [
    ("obtener-persona", ""),
    ("obtener-persona", "identificacion="),
    ("obtener-persona", "identificacion=12345678%27%20OR%201=1"),
    ("obtener-persona", "identificacion=" + "9" * 31),
    ("saldos-persona", "identificacion=12345678"),
    ("saldos-persona", "codigoConvenio=999&identificacion=12345678"),
    ("saldos-persona", "codigoConvenio=001&identificacion=12345678&fechaLimite=31/02/2026"),
    ("saldos-persona", "codigoConvenio=001&identificacion=12345678&fechaLimite=2026-01-01"),
    ("saldos-persona", "codigoConvenio=0%2001&identificacion=12345678"),
    ("saldos-total-persona", ""),
    ("saldos-parcial-persona", "identificacion=12345678&idDeudor=87654321"),
    ("saldos-vencido-persona", "idDeudor=12345678&fechaLimite=99/99/9999"),
    ("saldos-persona-resumen", "codigoConvenio=001&identificacion=12345678&numeroPagina=1"),
    ("saldos-persona-resumen", "codigoConvenio=001&identificacion=12345678&numeroPagina=0&longitudPagina=5"),
    ("saldos-persona-resumen", "codigoConvenio=001&identificacion=12345678&numeroPagina=-1&longitudPagina=5"),
    ("saldos-persona-resumen", "codigoConvenio=001&identificacion=12345678&numeroPagina=abc&longitudPagina=5"),
    ("saldos-persona-resumen", "codigoConvenio=001&identificacion=12345678&numeroPagina=1&longitudPagina=101"),
    ("saldos-persona-resumen", "codigoConvenio=001&identificacion=12345678&numeroPagina=1.5&longitudPagina=5"),
    ("saldos-persona-resumen", "codigoConvenio=001&identificacion=12345678&numeroPagina=99&longitudPagina=5"),
    (
        "saldos-persona-resumen-detalle",
        "codigoConvenio=001&identificacion=12345678&numeroPagina=1&longitudPagina=5&year=20x6",
    ),
    (
        "saldos-persona-resumen-detalle",
        "codigoConvenio=001&identificacion=12345678&numeroPagina=1&longitudPagina=5&idRubro=%3Cx%3E",
    ),
]


@pytest.mark.parametrize(("segment", "query"), BAD_INPUTS)
def test_given_bad_or_missing_parameters_when_queried_then_code_5_with_400_never_500(demo, handler_of, segment, query):
    status, body = get(handler_of, segment, query)
    assert status == 400
    assert body["codigoRespuesta"] == 5
    assert body["descripcion"].startswith("Parámetros incorrectos")
    assert "Traceback" not in body["descripcion"]


def test_given_the_ledger_fails_when_queried_then_code_1_without_a_stack_trace(demo, handler_of, monkeypatch):
    from conectividad import queries

    def broken(_identificacion):
        raise RuntimeError("connection reset by peer (internal detail)")

    monkeypatch.setattr(queries.default_query_deps().ledger, "get_persona", broken)
    status, body = get(handler_of, "obtener-persona", "identificacion=12345678")
    assert (status, body) == (500, {"codigoRespuesta": 1, "descripcion": "Error de sistema"})
