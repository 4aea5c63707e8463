"""One ledger: collections imported from a CSV are paid by a bank through Conectividad (the real
payment state machine under moto), the export shows ACP, a reversal returns them to EMI; and a
hypothesis round trip: what is imported is what is exported."""

from __future__ import annotations

import json
import os
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recaudo.models.cobranzas import id_saldo
from tests.conftest import NOW
from tests.integration import cobranzas_harness
from tests.integration.cobranzas_harness import CLAVE_FACTURAS, MODEL_FILE
from tests.integration.payment_harness import build as build_payments


@pytest.fixture
def both(aws, monkeypatch):
    payments = build_payments(NOW, monkeypatch)
    cobranzas = cobranzas_harness.build(NOW, monkeypatch, create_tables=False)
    return payments, cobranzas


def test_given_imported_collections_when_a_bank_queries_pays_and_reverses_then_the_export_follows(both):
    p, c = both
    assert c.importar(MODEL_FILE.read_bytes()).body == "OK: 202611 - 22 registros importados"

    # Given the bank sees the collections in saldos-persona under the integrator's convenio
    status, saldos = p.get("saldos-persona", "codigoConvenio=CLUB01&identificacion=211")
    assert status == 200
    assert sorted((s["idRubro"], s["monto"]) for s in saldos) == sorted(
        [("1", 99), ("9", 250), ("4", 350), ("6", p_dec("815.70")), ("7", p_dec("627.40"))]
    )
    factura = id_saldo("club", "202611", "211", "6", CLAVE_FACTURAS)
    assert factura in {s["idSaldo"] for s in saldos}

    # When it pays one with ejecutar-pago
    body = json.dumps(p.body(codigoConvenio="CLUB01", periodo="202611", montoTotal="M", numeroFactura=factura)).replace(
        '"M"', "815.70"
    )
    status, reply, _ = p.post("ejecutar-pago", body)
    assert status == 200 and reply[0]["codigoRespuesta"] == 0 and reply[0]["montoPagado"] == p_dec("815.70")

    # Then the export shows it ACP, the others EMI
    states = {(r[0], r[5]): r[10] for r in c.filas()}
    assert states[("211", "6")] == "ACP" and list(states.values()).count("EMI") == 21
    # and a re-import of the same file leaves the paid one alone
    assert c.importar(MODEL_FILE.read_bytes()).body == "OK: 202611 - 22 registros importados"
    assert {(r[0], r[5]): r[10] for r in c.filas()}[("211", "6")] == "ACP"

    # When the bank reverses it, Then it is EMI again (and payable)
    reversa = json.dumps(p.body(codigoConvenio="CLUB01", periodo="202611", numeroFactura=factura))
    assert p.post("reversar-pago", reversa)[0] == 200
    assert {(r[0], r[5]): r[10] for r in c.filas()}[("211", "6")] == "EMI"


def p_dec(text: str):
    from decimal import Decimal

    return Decimal(text)


# ---- round trip ----

_text = st.text(alphabet=string.ascii_letters + string.digits + " áéíóúñÑÜ.,()'/#&=+-@", min_size=0, max_size=30).map(
    str.strip
)
_required = _text.filter(bool)
_amount = st.decimals(min_value="0.01", max_value="9999999999999.99", places=2)
_row = st.fixed_dictionaries(
    {
        "nombre": _required,
        "celular": _text,
        "telefono": _text,
        "mail": st.from_regex(r"[a-z0-9._+-]{1,10}@[a-z0-9-]{1,10}\.[a-z]{2,4}", fullmatch=True),
        "descripcion": _text,
        "monto": _amount,
        "opcionales": st.one_of(st.none(), st.tuples(_text, _text)),
        "concepto": st.sampled_from(["1", "2", "cuota.social"]),
        # national ids, CUITs, member numbers; a few values, so repeated charges of one concept occur
        "cliente": st.sampled_from(["12.345.678", "20-12345678-9", "A-901", "176"]),
    }
)


@settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "25")), deadline=None)
@given(
    rows=st.lists(_row, min_size=1, max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    crlf=st.booleans(),
)
def test_given_any_valid_file_when_imported_then_exported_back_the_same(rows, encoding, crlf):
    from moto import mock_aws

    with mock_aws(), pytest.MonkeyPatch.context() as monkeypatch:  # a fresh emulator per example
        _round_trip(cobranzas_harness.build(NOW, monkeypatch), rows, encoding, crlf)


def _round_trip(c, rows, encoding, crlf) -> None:
    lines, expected = [], []
    for r in rows:
        cliente = r["cliente"]
        fields = [
            cliente,
            r["nombre"],
            r["celular"],
            r["telefono"],
            r["mail"],
            r["concepto"],
            r["descripcion"],
            str(r["monto"]),
        ]
        if r["opcionales"] is not None:
            fields += list(r["opcionales"])
        lines.append(";".join(fields))
        o1, o2 = r["opcionales"] or ("", "")
        texts = [cliente, r["nombre"], r["celular"], r["telefono"], r["mail"], r["concepto"], r["descripcion"]]
        expected.append((*texts, f"{r['monto']:.2f}", o1, o2, "EMI", ""))
    content = ("\r\n" if crlf else "\n").join(lines).encode(encoding)
    # every row is a collection, repeated charges included, and exportar/csv gives each value back exactly
    assert c.importar(content).body == f"OK: 202611 - {len(rows)} registros importados"
    assert sorted(tuple(r) for r in c.filas()) == sorted(expected)
    # a re-import of the same file is the same collections
    assert c.importar(content).body == f"OK: 202611 - {len(rows)} registros importados"
    assert len(c.filas()) == len(rows)
