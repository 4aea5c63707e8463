"""The import's writers and its time budget (issue 14), with fakes: transactions are sent in
parallel, a budget that runs out or a write that fails is answered honestly with what was written."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from cobranzas import importacion
from cobranzas.deps import CobranzasDeps
from recaudo.data.cobranzas import Rechazo
from recaudo.data.cobranzas_acciones import MAX_ACCIONES, Acciones, Grupo
from recaudo.errors import CobranzasError
from recaudo.models.cobranzas import Integrador
from tests.helpers import Reloj

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
INTEGRADOR = Integrador("club", "Club", "CLUB", "CLUB01", "America/Costa_Rica", "ab" * 32)


class FakeCobranzas:
    """Records every transaction; ``barrera`` holds the first ones until that many are in flight."""

    def __init__(self, barrera: threading.Barrier | None = None, falla_en: int | None = None) -> None:
        self.barrera, self.falla_en = barrera, falla_en
        self.lock = threading.Lock()
        self.llamadas = 0
        self.filas: list[Any] = []
        self.tamanos: list[int] = []
        self.terminadas: dict[str, tuple[str, int, int]] = {}

    def existentes(self, acciones: Acciones, filas: Any) -> dict[Any, Any]:
        return {}

    def empezar(self, integrador: str, periodo: str, importacion: str, archivo: str) -> Any:
        return None

    def pausar(self, integrador: str, periodo: str, importacion: str, punto: Any) -> bool:
        return False

    def acciones(self, integrador: Integrador, periodo: Any, importacion: str) -> Acciones:
        return Acciones("ledger", integrador, periodo, importacion)

    def escribir(self, grupos: list[Grupo]) -> list[Rechazo]:
        with self.lock:
            n = self.llamadas
            self.llamadas += 1
        if self.barrera is not None and n < self.barrera.parties:
            self.barrera.wait(timeout=5)  # breaks (and fails the import) unless writes overlap
        if n == self.falla_en:
            raise RuntimeError("DynamoDB no respondió")
        with self.lock:
            self.tamanos.append(sum(len(g.acciones) for g in grupos))
            self.filas.extend(g.fila for g in grupos if g.fila is not None)
        return []

    def reclamar_importacion(self, *args: Any) -> bool:
        return True

    def liberar_importacion(self, integrador: str, importacion: str) -> None:
        pass

    def terminar_importacion(
        self, integrador: str, importacion: str, resultado: str, reporte: str, importados: int, fallidos: int
    ) -> None:
        self.terminadas[importacion] = (resultado, importados, fallidos)

    def cobranzas(self, *args: Any, **kwargs: Any) -> Any:
        return iter(())


class FakeIntegradores:
    def autenticar(self, hash_presentado: str | None) -> Integrador | None:
        return INTEGRADOR if hash_presentado == "h" else None

    def get(self, integrador_id: str) -> Integrador | None:
        return INTEGRADOR


class FakeArchivos:
    def __init__(self) -> None:
        self.textos: dict[str, str] = {}

    def trozos(self, key: str, chunk_bytes: int, version: str | None = None) -> Any:
        return iter(())

    def poner_texto(self, key: str, text: str) -> None:
        self.textos[key] = text

    def leer_texto(self, key: str) -> str | None:
        return self.textos.get(key)

    def url_put(self, key: str, seconds: int) -> str:
        return "https://s3/put"


def archivo(n: int) -> bytes:
    return "".join(f"{i};Cliente {i};;;c{i}@b.co;1;Cuota;10.00\n" for i in range(n)).encode()


def deps(cobranzas: FakeCobranzas, **kwargs: Any) -> CobranzasDeps:
    return CobranzasDeps(
        cobranzas=cobranzas, integradores=FakeIntegradores(), archivos=FakeArchivos(), clock=lambda: NOW, **kwargs
    )


def test_given_a_large_file_and_four_writers_when_imported_then_transactions_overlap_and_every_row_lands_once():
    # Given writers that can only proceed once two transactions are in flight at the same moment
    fake = FakeCobranzas(barrera=threading.Barrier(2))
    # When 1,000 new rows are imported
    line, _ = importacion.importar_http("h", archivo(1000), deps(fake, escritores=4))
    # Then the import succeeded (a serial writer would have broken the barrier), each row once
    assert line == "OK: 202611 - 1000 registros importados"
    assert sorted(f.id_cliente for f in fake.filas) == sorted(str(i) for i in range(1000))
    assert max(fake.tamanos) <= MAX_ACCIONES


def test_given_the_time_budget_runs_out_then_the_reply_is_503_with_what_was_written_and_the_import_id():
    # Given a budget that runs out after a few hundred rows (the clock advances 10 ms per row read)
    fake = FakeCobranzas()
    d = deps(fake, escritores=2, plazo_http=3.0, monotonic=Reloj(0.01))
    # When a 5,000-row file is sent
    with pytest.raises(CobranzasError) as refused:
        importacion.importar_http("h", archivo(5000), d)
    # Then it is refused as incomplete, naming exactly the rows written, and never "nada se perdió"
    exc = refused.value
    escritas = len(fake.filas)
    assert exc.status == 503 and exc.importacion is not None
    assert 0 < escritas < 5000
    assert exc.descripcion.startswith(f"importación incompleta: se agotó el tiempo de la solicitud tras {escritas} ")
    assert "envíe el mismo archivo otra vez" in exc.descripcion and "nada se perdió" not in exc.descripcion
    # and the report and the import record say the same
    resultado, importados, _ = fake.terminadas[exc.importacion]
    assert resultado == f"ERROR: {exc.descripcion}" and importados == escritas
    assert d.archivos.leer_texto(f"reportes/club/{exc.importacion}.txt").startswith(resultado)


def test_given_a_write_fails_midway_then_the_reply_says_how_many_rows_were_written_not_that_nothing_was_lost():
    # Given the third transaction fails (serial writers, so the first two are known to have landed)
    fake = FakeCobranzas(falla_en=2)
    # When a file of 500 new rows (about 5 transactions) is sent
    with pytest.raises(CobranzasError) as refused:
        importacion.importar_http("h", archivo(500), deps(fake, escritores=1))
    # Then the reply is 503 and counts exactly the rows of the two transactions that landed
    exc = refused.value
    assert exc.status == 503 and exc.importacion is not None
    assert exc.descripcion == (
        f"importación interrumpida por un error interno tras {len(fake.filas)} registros importados; "
        "envíe el mismo archivo otra vez para completarla"
    )
    assert len(fake.filas) > 0


def test_given_parallel_writers_and_a_failing_transaction_then_batches_in_flight_are_counted_before_refusing():
    fake = FakeCobranzas(falla_en=3)
    with pytest.raises(CobranzasError) as refused:
        importacion.importar_http("h", archivo(3000), deps(fake, escritores=4))
    # every row that landed is in the count, whichever thread wrote it
    assert f"tras {len(fake.filas)} registros importados" in refused.value.descripcion


def test_given_the_budget_ran_out_before_any_line_then_the_reply_says_so_instead_of_line_zero():
    from recaudo.models.cobranzas import Resultado

    # Given the look-ahead alone used the budget (a period of tens of thousands of rows on the emulator)
    line = Resultado("202611", incompleta=1).linea()
    # Then the reply names no line 0, and still says how to complete the import
    assert "antes de leer la primera línea" in line and "línea 0" not in line
    assert line.endswith("envíe el mismo archivo otra vez para completarla")
