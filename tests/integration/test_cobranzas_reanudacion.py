"""A resend of a file cut short by the time budget resumes where it stopped (issue 14), under moto: its
look-ahead reads only the rows not yet settled, so every resend makes progress however many rows the
period already holds, and the last reply counts the whole file. Any other import of the period in
between, or other bytes, reads the file from its first line again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from recaudo.formats.cobranzas import Fila
from tests.conftest import NOW
from tests.helpers import Reloj
from tests.integration.cobranzas_harness import CobranzasHarness, build

PASO = 0.002  # seconds the test clock advances per reading, and per row a look-ahead reads


@pytest.fixture
def h(aws, dynamodb_hooks, monkeypatch) -> CobranzasHarness:
    harness = build(NOW, monkeypatch, page_limit=250)
    harness.deps.escritores = 1  # moto in-process is not serialised here (the local stack serialises it)
    return harness


@pytest.fixture
def consultas(h, monkeypatch) -> list[list[int]]:
    """The look-ahead costs time in proportion to the rows it reads, as it does through an emulator
    (or on DynamoDB); each call's lines are recorded."""
    reloj = Reloj(PASO)
    h.deps.monotonic = reloj
    original = h.repo.existentes
    llamadas: list[list[int]] = []

    def existentes(acciones: Any, filas: Sequence[Fila]) -> Any:
        llamadas.append([f.linea for f in filas])
        reloj.t += PASO * len(filas)
        return original(acciones, filas)

    monkeypatch.setattr(h.repo, "existentes", existentes)
    return llamadas


def archivo(n: int, malas: Sequence[int] = ()) -> bytes:
    """n rows, four concepts per client; the rows at the positions ``malas`` carry an invalid amount."""
    return "".join(
        f"{i // 4};Socio {i // 4};;;s{i // 4}@club.co;{i % 4};Cuota;{'1,5' if i in malas else f'{10 + i % 7}.50'}\n"
        for i in range(n)
    ).encode()


def lineas_leidas(llamadas: list[list[int]]) -> list[int]:
    return [linea for llamada in llamadas for linea in llamada]


def test_given_a_budget_for_a_fraction_of_the_file_when_resent_until_done_then_every_send_progresses(h, consultas):
    # Given a 4,000-row file and a budget for well under half of it per send
    h.deps.plazo_http = 1.5
    contenido = archivo(4000)
    replies = []
    # When the same file is sent again and again
    for _ in range(12):
        replies.append(h.importar(contenido))
        if replies[-1].status == 200:
            break
    # Then each 503 says more rows than the one before, and the last send completes it exactly
    assert [r.status for r in replies[:-1]] == [503] * (len(replies) - 1) and len(replies) >= 3
    contados = [int(r.body.split(" tras ")[1].split()[0]) for r in replies[:-1]]
    assert contados == sorted(set(contados))
    assert (replies[-1].status, replies[-1].body) == (200, "OK: 202611 - 4000 registros importados")
    # and no row was looked up twice: each send read only the rows after where the last one stopped
    leidas = lineas_leidas(consultas)
    assert sorted(leidas) == list(range(1, 4001))
    rows = h.filas()
    assert len(rows) == 4000 and len({(r[0], r[5]) for r in rows}) == 4000


def test_given_failed_rows_before_the_stop_then_the_completing_reply_counts_them_and_the_report_lists_them(
    h, consultas
):
    # Given a collection already paid (line 1 of the file changes it) and a bad amount at line 3
    assert h.importar(archivo(1)).body == "OK: 202611 - 1 registros importados"
    h.pagar("0", "0")
    contenido = archivo(2000, malas=[2]).replace(b"0;Cuota;10.50\n", b"0;Cuota;99.50\n", 1)
    # When the file runs out of time, then is sent again
    h.deps.plazo_http = 1.5
    first = h.importar(contenido)
    assert first.status == 503 and "y 2 fallidos" in first.body, first.body
    h.deps.plazo_http = 1e9
    antes = len(consultas)
    second = h.importar(contenido)
    # Then the completing reply counts both failures once, and the report names each
    assert (second.status, second.body) == (200, "OK: 202611 - 1998 registros importados - 2 registros fallidos")
    report = h.call(
        "importar_reporte", h.get("/cobranzas/importar/reporte", importacion=second.headers["x-recaudo-importacion"])
    ).body.splitlines()
    assert report[0] == second.body
    assert report[1] == "línea 1: la cobranza ya fue pagada (ACP): no se modifica"
    assert report[2].startswith("línea 3: ") and len(report) == 3
    # and the second send did not look up a line the first one settled
    stop = int(first.body.split("hasta la línea ")[1].split(")")[0])
    assert min(lineas_leidas(consultas[antes:])) > stop


def test_given_another_import_of_the_period_in_between_then_the_resend_reads_from_the_first_line(h, consultas):
    # Given a file cut short by its budget
    h.deps.plazo_http = 1.5
    contenido = archivo(2000)
    assert h.importar(contenido).status == 503
    # and another file of the period, which changes the file's first row, imported after it
    h.deps.plazo_http = 1e9
    otro = b"0;Socio 0;;;s0@club.co;0;Cuota;77.00\n"
    assert h.importar(otro).body == "OK: 202611 - 1 registros importados"
    consultas.clear()
    # When the first file is sent again
    reply = h.importar(contenido)
    # Then it is read from its first line: its own content is back, and every row is counted
    assert (reply.status, reply.body) == (200, "OK: 202611 - 2000 registros importados")
    assert min(lineas_leidas(consultas)) == 1
    assert {(r[0], r[5]): r[7] for r in h.filas(id_cliente="0")}[("0", "0")] == "10.50"


def test_given_other_bytes_after_a_cut_short_import_then_nothing_is_skipped(h, consultas):
    # Given a file cut short by its budget
    h.deps.plazo_http = 1.5
    contenido = archivo(2000)
    assert h.importar(contenido).status == 503
    consultas.clear()
    # When another file (the same rows with one amount changed at its first line) is sent
    h.deps.plazo_http = 1e9
    cambiado = contenido.replace(b"0;Cuota;10.50\n", b"0;Cuota;11.50\n", 1)
    reply = h.importar(cambiado)
    # Then it is a new import: read from its first line, the changed row written
    assert (reply.status, reply.body) == (200, "OK: 202611 - 2000 registros importados")
    assert min(lineas_leidas(consultas)) == 1
    assert {(r[0], r[5]): r[7] for r in h.filas(id_cliente="0")}[("0", "0")] == "11.50"


def test_given_a_cut_short_import_when_its_resume_point_is_read_then_it_is_the_periods_own(h):
    # Given a file cut short by its budget
    h.deps.plazo_http, h.deps.monotonic = 1.5, Reloj(PASO)
    contenido = archivo(2000)
    first = h.importar(contenido)
    assert first.status == 503
    # Then the period's mark names that import, with the first line not settled and the rows counted
    item = h.ddb.get_item(TableName="recaudo-ledger", Key={"PK": {"S": "REANUDA#club"}, "SK": {"S": "202611"}})["Item"]
    assert item["importacion"]["S"] == first.headers["x-recaudo-importacion"]
    stop = int(first.body.split("hasta la línea ")[1].split(")")[0])
    assert int(item["linea"]["N"]) == stop + 1
    assert int(item["importados"]["N"]) == int(first.body.split(" tras ")[1].split()[0])


def test_given_another_import_started_when_the_first_leaves_its_resume_point_then_it_is_not_left(h):
    from recaudo.models.cobranzas import Reanudacion

    # Given import A started, then import B of the same period
    assert h.repo.empezar("club", "202611", "http-a", "f" * 64) is None
    assert h.repo.empezar("club", "202611", "http-b", "e" * 64) is None
    # When A, cut short, leaves its resume point
    left = h.repo.pausar("club", "202611", "http-a", Reanudacion(100, 99))
    # Then it is not left, and a resend of A's bytes starts from its first line
    assert left is False
    assert h.repo.empezar("club", "202611", "http-c", "f" * 64) is None


def test_given_more_ledger_failures_than_a_resume_point_keeps_then_none_is_left(h):
    from recaudo.data.cobranzas import MAX_RECHAZADAS_REANUDACION
    from recaudo.formats.cobranzas import Fallida
    from recaudo.models.cobranzas import Reanudacion

    # Given an import whose rows the ledger refused in great number
    h.repo.empezar("club", "202611", "http-a", "f" * 64)
    muchas = tuple(Fallida(n, "pagada") for n in range(MAX_RECHAZADAS_REANUDACION + 1))
    # When it leaves its resume point, then none is left: a resend reads the file whole
    assert h.repo.pausar("club", "202611", "http-a", Reanudacion(5000, 10, muchas)) is False
    assert h.repo.empezar("club", "202611", "http-b", "f" * 64) is None
    # and with few, the point is left and read back as written
    pocas = (Fallida(3, "pagada"),)
    assert h.repo.pausar("club", "202611", "http-b", Reanudacion(5000, 10, pocas)) is True
    assert h.repo.empezar("club", "202611", "http-c", "f" * 64) == Reanudacion(5000, 10, pocas)


def test_given_a_whole_import_when_the_same_bytes_come_again_then_the_same_counts_and_nothing_looked_up(h, consultas):
    # Given a file imported whole, with a bad amount at line 3 (the client may not have got the reply)
    contenido = archivo(1000, malas=[2])
    assert h.importar(contenido).body == "OK: 202611 - 999 registros importados - 1 registros fallidos"
    consultas.clear()
    writes = h.repo.solicitudes_escritura
    # When the very same bytes are sent again
    reply = h.importar(contenido)
    # Then the same reply, answered from the import's point: no row looked up, none written
    assert (reply.status, reply.body) == (200, "OK: 202611 - 999 registros importados - 1 registros fallidos")
    assert consultas == []
    assert h.repo.solicitudes_escritura - writes == 4  # the claim, its end, the period's mark and point
    # and once another file of the period came in between, the same bytes are looked up again
    assert h.importar(b"9999;Otro;;;o@club.co;1;Cuota;5.00\n").status == 200
    assert h.importar(contenido).body == "OK: 202611 - 999 registros importados - 1 registros fallidos"
    assert min(lineas_leidas(consultas)) == 1
