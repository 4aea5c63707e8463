"""An HTTP import that runs out of time, or loses a write midway, under moto (issue 14): the reply
says how far it got and gives the import id; sending the same file again completes it, each row once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import NOW
from tests.helpers import Reloj
from tests.integration.cobranzas_harness import CobranzasHarness, build


@pytest.fixture
def h(aws, dynamodb_hooks, monkeypatch) -> CobranzasHarness:
    harness = build(NOW, monkeypatch, page_limit=250)
    harness.deps.escritores = 1  # moto in-process is not serialised here (the local stack serialises it)
    return harness


def archivo(n: int) -> bytes:
    # four concepts per client, as a club's monthly file
    return "".join(
        f"{i // 4};Socio {i // 4};;;s{i // 4}@club.co;{i % 4};Cuota;{10 + i % 7}.50\n" for i in range(n)
    ).encode()


def en_el_ledger(h: CobranzasHarness) -> list[list[str]]:
    return h.filas()


def test_given_the_budget_runs_out_when_the_same_file_is_sent_again_then_it_completes_with_the_right_counts(h):
    # Given a budget that runs out after about a thousand rows of a 2,000-row file
    h.deps.plazo_http, h.deps.monotonic = 2.0, Reloj(0.002)
    contenido = archivo(2000)
    first = h.importar(contenido)
    # Then the reply is an honest 503 naming the rows written, with the import id
    assert first.status == 503, first.body
    escritas = len(en_el_ledger(h))
    assert 0 < escritas < 2000
    assert first.body.startswith(f"ERROR: importación incompleta: se agotó el tiempo de la solicitud tras {escritas} ")
    report = h.call(
        "importar_reporte", h.get("/cobranzas/importar/reporte", importacion=first.headers["x-recaudo-importacion"])
    )
    assert report.body.splitlines()[0] == first.body
    # When the same file is sent again with time enough
    h.deps.plazo_http = 1e9
    second = h.importar(contenido)
    # Then it completes: every row counted, each stored once
    assert (second.status, second.body) == (200, "OK: 202611 - 2000 registros importados")
    rows = en_el_ledger(h)
    assert len(rows) == 2000 and len({(r[0], r[5]) for r in rows}) == 2000


def test_given_a_transaction_fails_midway_then_the_reply_counts_what_landed_and_a_resend_completes_it(h, monkeypatch):
    # Given DynamoDB refuses the fourth transaction of the import
    original = h.repo.escribir
    calls = {"n": 0}

    def escribir(grupos: list[Any]) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:
            raise h.ddb.exceptions.InternalServerError(
                {"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems"
            )
        return original(grupos)

    monkeypatch.setattr(h.repo, "escribir", escribir)
    h.deps.plazo_http = 1e9  # time enough: only the failed write stops it (whatever the machine's load)
    contenido = archivo(1200)
    # When the file is sent
    first = h.importar(contenido)
    # Then the reply says how many rows were imported before the failure (never "nada se perdió")
    escritas = len(en_el_ledger(h))
    assert first.status == 503 and "x-recaudo-importacion" in first.headers
    assert first.body == (
        f"ERROR: importación interrumpida por un error interno tras {escritas} registros importados; "
        "envíe el mismo archivo otra vez para completarla"
    )
    assert "nada se perdió" not in first.body and 0 < escritas < 1200
    # When it is sent again, it completes
    assert h.importar(contenido).body == "OK: 202611 - 1200 registros importados"
    assert len(en_el_ledger(h)) == 1200


def test_given_the_look_ahead_fails_midway_then_the_reply_counts_what_landed_and_a_resend_completes_it(h, monkeypatch):
    # Given DynamoDB refuses the third look-ahead read of the import (its rows 801 to 1,200)
    original = h.repo.existentes
    calls = {"n": 0}

    def existentes(acciones: Any, filas: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise h.ddb.exceptions.InternalServerError(
                {"Error": {"Code": "InternalServerError", "Message": "boom"}}, "BatchGetItem"
            )
        return original(acciones, filas)

    monkeypatch.setattr(h.repo, "existentes", existentes)
    h.deps.plazo_http = 1e9  # time enough: only the failed read stops it (whatever the machine's load)
    contenido = archivo(1200)
    # When the file is sent
    first = h.importar(contenido)
    # Then the reply says the import was interrupted, counting exactly what landed (rows read before,
    # less those still waiting for a batch, which are not sent once the import has failed)
    escritas = len(en_el_ledger(h))
    assert first.status == 503 and 700 < escritas <= 800
    assert first.body == (
        f"ERROR: importación interrumpida por un error interno tras {escritas} registros importados; "
        "envíe el mismo archivo otra vez para completarla"
    )
    # When it is sent again, it completes
    assert h.importar(contenido).body == "OK: 202611 - 1200 registros importados"
    assert len(en_el_ledger(h)) == 1200


def test_given_a_row_written_by_another_import_after_the_look_ahead_then_it_is_updated_not_refused(h, monkeypatch):
    # Given the file was imported, and a second import's look-ahead saw nothing (another import raced it)
    assert h.importar(archivo(8)).body == "OK: 202611 - 8 registros importados"
    monkeypatch.setattr(h.repo, "existentes", lambda acciones, filas: {})
    # When the second import writes the same rows, one of them changed
    changed = archivo(8).replace(b"10.50\n", b"11.50\n", 1)
    reply = h.importar(changed)
    # Then each existing row is written as an update of its collection: none refused, none duplicated
    assert reply.body == "OK: 202611 - 8 registros importados"
    rows = en_el_ledger(h)
    assert sorted(r[7] for r in rows) == sorted(
        ["11.50", "11.50", "12.50", "13.50", "14.50", "15.50", "16.50", "10.50"]
    )
