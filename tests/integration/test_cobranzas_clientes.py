"""Issue 14 under moto: a client is its integrator's own (the same IDCliente at two integrators is two
people, each named by its own integrator, each found by banks under its own convenio); a rejection
reason is cleared by a correction or a payment; periodo=* carries the period."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from recaudo.data.dynamo import key
from recaudo.data.integradores import IntegradoresRepository
from recaudo.models.cobranzas import Integrador, id_saldo
from recaudo.models.ledger import Convenio, TipoConvenio
from tests.conftest import NOW
from tests.integration import cobranzas_harness
from tests.integration.cobranzas_harness import CLAVE_FACTURAS
from tests.integration.payment_harness import build as build_payments

OTRO = Integrador("gym", "Gimnasio Norte", "GYM", "GYM01", "America/Bogota", "cd" * 32)


def row(cliente: str, nombre: str, concepto: str = "1", monto: str = "10.00") -> str:
    return f"{cliente};{nombre};;;x@example.co;{concepto};Cuota;{monto}\n"


@pytest.fixture
def both(aws, monkeypatch):
    payments = build_payments(NOW, monkeypatch)
    cobranzas = cobranzas_harness.build(NOW, monkeypatch, create_tables=False)
    return payments, cobranzas


def otro_integrador(c) -> str:
    """A second integrator, with its own convenio; returns its hash."""
    c.ledger.put_convenio(Convenio("GYM01", TipoConvenio.TOTAL, "Gimnasio", institucion="GYM", integrador="gym"))
    return IntegradoresRepository(os.environ["CREDENTIALS_TABLE"], c.ddb).crear(OTRO, NOW)


def test_given_one_idcliente_at_two_integrators_then_two_clients_each_named_and_billed_by_its_own(both):
    p, c = both
    hash_gym = otro_integrador(c)
    # Given client 176 at the club and, a different person, 176 at the gym
    assert c.importar(row("176", "Fabian Barros").encode()).body == "OK: 202611 - 1 registros importados"
    assert c.importar(row("176", "Julia Gómez", monto="55.00").encode(), hash_=hash_gym).body == (
        "OK: 202611 - 1 registros importados"
    )
    # Then each integrator's profile carries its own name
    assert c.ledger.get_persona("club:176").nombre == "Fabian Barros"
    assert c.ledger.get_persona("gym:176").nombre == "Julia Gómez"
    # and a bank asking for 176 under each convenio sees only that integrator's collection
    status, club = p.get("saldos-persona", "codigoConvenio=CLUB01&identificacion=176")
    assert status == 200 and [s["monto"] for s in club] == [10]
    status, gym = p.get("saldos-persona", "codigoConvenio=GYM01&identificacion=176")
    assert status == 200 and [s["monto"] for s in gym] == [55]
    # and the club's newest file renames its client, never the gym's
    assert c.importar(row("176", "Fabián Barros", concepto="2").encode()).body == "OK: 202611 - 1 registros importados"
    assert c.ledger.get_persona("club:176").nombre == "Fabián Barros"
    assert c.ledger.get_persona("gym:176").nombre == "Julia Gómez"


def rechazar(c, cliente: str, concepto: str, motivo: str) -> None:
    """What the automatic-debit flow will do: a reason on the pending collection."""
    d = c.ledger.get_deuda_por_factura(id_saldo("club", "202611", cliente, concepto, CLAVE_FACTURAS))
    from recaudo.data.ledger import deuda_key

    pk, sk = deuda_key(d)
    c.ddb.update_item(
        TableName=os.environ["LEDGER_TABLE"],
        Key=key(pk, sk),
        UpdateExpression="SET motivoRechazo = :m",
        ExpressionAttributeValues={":m": {"S": motivo}},
    )


def test_given_a_rejected_collection_when_corrected_then_the_reason_is_cleared_and_unchanged_keeps_it(both):
    _, c = both
    contenido = (row("500", "Ana") + row("501", "Luis")).encode()
    assert c.importar(contenido).body == "OK: 202611 - 2 registros importados"
    rechazar(c, "500", "1", "fondos insuficientes")
    rechazar(c, "501", "1", "tarjeta vencida")
    assert {r[0]: (r[10], r[11]) for r in c.filas()} == {
        "500": ("RCH", "fondos insuficientes"),
        "501": ("RCH", "tarjeta vencida"),
    }
    # When the file comes again with 500 corrected (a new amount) and 501 unchanged
    corregido = (row("500", "Ana", monto="12.00") + row("501", "Luis")).encode()
    assert c.importar(corregido).body == "OK: 202611 - 2 registros importados"
    # Then 500 is to be collected again, with no reason; 501 still says why it was rejected
    estados = {r[0]: (r[7], r[10], r[11]) for r in c.filas()}
    assert estados == {"500": ("12.00", "EMI", ""), "501": ("10.00", "RCH", "tarjeta vencida")}


def test_given_a_rejected_collection_when_a_bank_pays_it_then_it_is_acp_and_the_reason_is_gone(both):
    p, c = both
    assert c.importar(row("500", "Ana").encode()).body == "OK: 202611 - 1 registros importados"
    rechazar(c, "500", "1", "fondos insuficientes")
    factura = id_saldo("club", "202611", "500", "1", CLAVE_FACTURAS)
    # When a bank pays it
    body = json.dumps(p.body(codigoConvenio="CLUB01", periodo="202611", montoTotal="M", numeroFactura=factura))
    status, reply, _ = p.post("ejecutar-pago", body.replace('"M"', "10.00"))
    assert status == 200 and reply[0]["codigoRespuesta"] == 0
    # Then the export shows ACP with no reason, and the item no longer carries one
    ((estado, motivo),) = [(r[10], r[11]) for r in c.filas()]
    assert (estado, motivo) == ("ACP", "")
    d = c.ledger.get_deuda_por_factura(factura)
    from recaudo.data.ledger import deuda_key

    item = c.ddb.get_item(TableName=os.environ["LEDGER_TABLE"], Key=key(*deuda_key(d)))["Item"]
    assert "motivoRechazo" not in item


def test_given_two_periods_when_every_period_is_exported_then_a_13th_column_names_each_rows_period(aws, monkeypatch):
    h = cobranzas_harness.build(NOW, monkeypatch)
    # Given one row imported in October and one in November
    h.deps.clock = lambda: datetime(2026, 10, 15, 15, tzinfo=UTC)
    assert h.importar(row("500", "Ana").encode()).body == "OK: 202610 - 1 registros importados"
    h.deps.clock = lambda: NOW
    assert h.importar(row("500", "Ana").encode()).body == "OK: 202611 - 1 registros importados"
    # When every period is exported
    rows = h.filas(periodo="*")
    # Then each row ends with its period, in period order; a single period keeps the document's 12 columns
    assert [(len(r), r[12]) for r in rows] == [(13, "202610"), (13, "202611")]
    assert [len(r) for r in h.filas()] == [12]
