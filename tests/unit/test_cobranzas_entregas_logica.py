"""The S3 drop's logic (functions/cobranzas/entregas.py) with fakes: which version is read, how a
version is claimed and reported, which keys are files, what a refused or failed drop leaves behind.
The import itself is ``importacion.importar``'s (tested on its own): here a fake that counts lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from cobranzas import entregas
from cobranzas.deps import CobranzasDeps
from cobranzas.entregas import MARGEN_SEGUNDOS, Entrega, TiempoAgotado, etiqueta, importar_objeto
from recaudo.models.cobranzas import Integrador, Resultado
from tests.fakes import FakeArchivos, FakeClaims, FakeIntegradores

NOW = datetime(2026, 11, 21, 15, tzinfo=UTC)
CLUB = Integrador("club", "Club", "CLUB", "CLUB01", "America/Costa_Rica", "ab" * 32)
INACTIVO = Integrador("viejo", "Viejo", "VIEJO", "VIEJO01", "America/Costa_Rica", "cd" * 32, activo=False)
KEY = "entrada/club/cobros.csv"


@dataclass
class FakeImport:
    """Stands for ``importacion.importar``: reads every chunk, counts the lines as imported rows."""

    llamadas: list[dict[str, Any]] = field(default_factory=list)
    falla: Exception | None = None
    incompleta: int | None = None
    durante: Any = None  # called while importing (to look at the bucket meanwhile)

    def __call__(
        self, integrador: Integrador, chunks: Any, importacion: str, deps: Any, limite: float | None = None
    ) -> Resultado:
        data = b"".join(chunks)
        self.llamadas.append({"integrador": integrador.id, "data": data, "importacion": importacion, "limite": limite})
        if self.durante is not None:
            self.durante()
        if self.falla is not None:
            raise self.falla
        if not data:
            return Resultado("202611", error="el archivo está vacío")
        return Resultado("202611", importados=data.count(b"\n"), incompleta=self.incompleta)


@pytest.fixture
def fake_import(monkeypatch) -> FakeImport:
    fake = FakeImport()
    monkeypatch.setattr(entregas, "importar", fake)
    return fake


@pytest.fixture
def deps() -> CobranzasDeps:
    return CobranzasDeps(
        cobranzas=FakeClaims(),  # type: ignore[arg-type]
        integradores=FakeIntegradores({"club": CLUB, "viejo": INACTIVO}),  # type: ignore[arg-type]
        archivos=FakeArchivos(),
        clock=lambda: NOW,
    )


def drop(deps: CobranzasDeps, key: str, body: bytes) -> Entrega:
    """An integrator's PUT and the event S3 sends for it."""
    version = deps.archivos.put(key, body)  # type: ignore[attr-defined]
    return Entrega(key, version, sequencer(), "etag-" + str(len(body)))


_SEQ = iter(range(1, 10**6))


def sequencer() -> str:
    return f"{next(_SEQ):018X}"


def rows(n: int, tag: str = "a") -> bytes:
    return "".join(f"{tag}{i};Cliente;;;c@x.co;1;Cuota;1.00\n" for i in range(n)).encode()


# ---- 1. versions ----


class TestVersions:
    def test_given_two_files_put_back_to_back_on_one_key_when_both_events_arrive_then_each_version_is_imported(
        self, deps, fake_import
    ):
        # Given two different files PUT on the same key before either event is handled
        first, second = drop(deps, KEY, rows(3, "a")), drop(deps, KEY, rows(5, "b"))
        # When S3's two events are handled
        assert importar_objeto(first, deps) == "OK: 202611 - 3 registros importados"
        assert importar_objeto(second, deps) == "OK: 202611 - 5 registros importados"
        # Then each read exactly its own version (the first file's rows are not lost), under its own claim
        assert [c["data"] for c in fake_import.llamadas] == [rows(3, "a"), rows(5, "b")]
        assert first.importacion != second.importacion
        assert {k for k, c in deps.cobranzas.claims.items() if c["estado"] == "TERMINADO"} == {
            ("club", first.importacion),
            ("club", second.importacion),
        }
        # and each version has its own report; the key's report is the current (second) version's
        assert (
            deps.archivos.leer_texto(f"{KEY}.{first.version}.resultado.txt") == "OK: 202611 - 3 registros importados\n"
        )
        assert deps.archivos.leer_texto(f"{KEY}.{second.version}.resultado.txt") == (
            "OK: 202611 - 5 registros importados\n"
        )
        assert deps.archivos.leer_texto(f"{KEY}.resultado.txt") == "OK: 202611 - 5 registros importados\n"

    def test_given_the_events_arrive_out_of_order_then_the_older_version_never_takes_the_keys_report(
        self, deps, fake_import
    ):
        # Given two versions, and the second's event handled first
        first, second = drop(deps, KEY, rows(3, "a")), drop(deps, KEY, rows(5, "b"))
        importar_objeto(second, deps)
        # When the first's event comes late
        importar_objeto(first, deps)
        # Then it is imported and reported under its version, and the key's report stays the current one's
        assert deps.archivos.leer_texto(f"{KEY}.{first.version}.resultado.txt").startswith("OK: 202611 - 3 ")
        assert deps.archivos.leer_texto(f"{KEY}.resultado.txt") == "OK: 202611 - 5 registros importados\n"

    def test_given_the_current_version_when_its_import_starts_then_the_keys_report_is_gone_until_it_ends(
        self, deps, fake_import
    ):
        # Given a first version imported and reported
        importar_objeto(drop(deps, KEY, rows(3)), deps)
        assert deps.archivos.leer_texto(f"{KEY}.resultado.txt") is not None
        # When a second version is being imported, Then importar/reporte would find no report ("en curso")
        seen = []
        fake_import.durante = lambda: seen.append(deps.archivos.leer_texto(f"{KEY}.resultado.txt"))
        importar_objeto(drop(deps, KEY, rows(4)), deps)
        assert seen == [None]
        assert deps.archivos.leer_texto(f"{KEY}.resultado.txt") == "OK: 202611 - 4 registros importados\n"

    def test_given_the_same_event_delivered_twice_then_imported_once_and_the_report_not_rewritten(
        self, deps, fake_import
    ):
        event = drop(deps, KEY, rows(2))
        assert importar_objeto(event, deps) is not None
        written = list(deps.archivos.puestos)
        # When S3 delivers the same event again / Then nothing is imported, nothing written
        assert importar_objeto(event, deps) is None
        assert len(fake_import.llamadas) == 1 and deps.archivos.puestos == written

    def test_given_an_unversioned_bucket_then_the_claim_falls_back_to_the_sequencer_then_the_etag(self):
        # Given the same key: versions differ / sequencers differ / only ETags differ
        by_version = {Entrega(KEY, "v1", "01").importacion, Entrega(KEY, "v2", "01").importacion}
        assert len(by_version) == 2
        # Then with a version the sequencer and ETag do not matter (a redelivery may carry another ETag casing)
        assert Entrega(KEY, "v1", "01", "e1").importacion == Entrega(KEY, "v1", "02", "e2").importacion
        # and without one (S3 sends none, or "null") the sequencer decides, then the ETag
        assert Entrega(KEY, None, "01", "e").importacion != Entrega(KEY, "null", "02", "e").importacion
        assert Entrega(KEY, None, None, "e1").importacion != Entrega(KEY, None, None, "e2").importacion
        assert Entrega(KEY, None, "01").importacion.startswith("s3-")

    def test_given_an_unversioned_bucket_then_one_report_next_to_the_file_as_before(self, fake_import):
        deps = CobranzasDeps(
            cobranzas=FakeClaims(),  # type: ignore[arg-type]
            integradores=FakeIntegradores({"club": CLUB}),  # type: ignore[arg-type]
            archivos=FakeArchivos(versioned=False),
            clock=lambda: NOW,
        )
        event = drop(deps, KEY, rows(2))
        assert event.version is None
        importar_objeto(event, deps)
        assert deps.archivos.puestos == [f"{KEY}.resultado.txt"]

    @pytest.mark.parametrize(
        ("version", "expected"),
        [
            ("3HL4kqtJlcpXroDTDmJ.rmSp_d3dIbrHY", "3HL4kqtJlcpXroDTDmJ.rmSp_d3dIbrHY"),
            ("0b8e7e3c-7c71-4a8e-9d0e-5c6f1f7d2a10", "0b8e7e3c-7c71-4a8e-9d0e-5c6f1f7d2a10"),
            ("3/L4kqtJl+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo", None),
        ],
    )
    def test_given_a_version_id_then_its_report_key_stays_one_path_segment(self, version, expected):
        tag = etiqueta(version)
        if expected is not None:
            assert tag == expected
        else:  # a version id with "/" or "+": a digest names it
            assert len(tag) == 32 and "/" not in tag and tag == etiqueta(version)
        assert Entrega(KEY, version).clave_reporte == f"{KEY}.{tag}.resultado.txt"


# ---- 2. other keys ----


class TestOtherKeys:
    @pytest.mark.parametrize(
        "key",
        ["entrada/club/COBROS.CSV", "entrada/club/cobros.txt", "entrada/club/cobros", "entrada/club/sub/x.csv"],
    )
    def test_given_another_suffix_or_a_subfolder_then_imported_and_reported_next_to_it(self, deps, fake_import, key):
        event = drop(deps, key, rows(2))
        assert importar_objeto(event, deps) == "OK: 202611 - 2 registros importados"
        assert deps.archivos.leer_texto(f"{key}.resultado.txt") == "OK: 202611 - 2 registros importados\n"
        assert deps.archivos.leer_texto(f"{key}.{event.version}.resultado.txt") is not None

    def test_given_our_own_reports_when_their_events_arrive_then_nothing_happens(self, deps, fake_import):
        # Given a drop imported and reported (two report objects written next to it)
        importar_objeto(drop(deps, KEY, rows(1)), deps)
        reports = list(deps.archivos.puestos)
        assert len(reports) == 2
        # When S3 notifies their creation (they are under entrada/ too)
        for key in reports:
            version = deps.archivos.version_actual(key)
            # Then they are recognised as ours: no import, no report of a report (no loop)
            assert importar_objeto(Entrega(key, version, sequencer()), deps) is None
        assert len(fake_import.llamadas) == 1 and deps.archivos.puestos == reports

    def test_given_an_integrators_file_named_like_a_report_then_it_is_a_file(self, deps, fake_import):
        key = "entrada/club/enero.resultado.txt"
        assert importar_objeto(drop(deps, key, rows(1)), deps) == "OK: 202611 - 1 registros importados"
        assert deps.archivos.leer_texto(f"{key}.resultado.txt") is not None

    @pytest.mark.parametrize("key", ["entrada/club/sub/", "otro/club/x.csv"])
    def test_given_a_folder_marker_or_a_key_outside_the_inbox_then_ignored(self, deps, fake_import, key):
        assert importar_objeto(drop(deps, key, b""), deps) is None
        assert fake_import.llamadas == [] and deps.archivos.puestos == []


# ---- 4. refused drops ----


class TestRefused:
    @pytest.mark.parametrize(
        ("key", "motivo"),
        [
            ("entrada/x.csv", "ERROR: el archivo debe ir en entrada/<integrador>/; no se importó"),
            ("entrada//x.csv", "ERROR: el archivo debe ir en entrada/<integrador>/; no se importó"),
            ("entrada/nadie/x.csv", "ERROR: integrador desconocido: nadie; el archivo no se importó"),
            ("entrada/viejo/x.csv", "ERROR: el integrador viejo está inactivo; el archivo no se importó"),
        ],
    )
    def test_given_no_known_active_integrator_then_a_report_says_why_and_nothing_is_imported(
        self, deps, fake_import, key, motivo
    ):
        event = drop(deps, key, rows(3))
        assert importar_objeto(event, deps) == motivo
        assert fake_import.llamadas == [] and deps.cobranzas.claims == {}
        assert deps.archivos.leer_texto(f"{key}.resultado.txt") == motivo + "\n"
        assert deps.archivos.leer_texto(f"{key}.{event.version}.resultado.txt") == motivo + "\n"


# ---- 3. failures ----


class TestFailures:
    def test_given_an_import_that_fails_midway_then_its_claim_is_given_back_and_the_error_raised(
        self, deps, fake_import
    ):
        # Given an import that raises mid-file
        event = drop(deps, KEY, rows(4))
        fake_import.falla = RuntimeError("DynamoDB no respondió")
        # When the event is handled / Then the error reaches Lambda (which retries)
        with pytest.raises(RuntimeError):
            importar_objeto(event, deps)
        # and the claim is free again, and the report says it is being retried
        assert deps.cobranzas.claims == {} and deps.cobranzas.liberadas == [("club", event.importacion)]
        assert deps.archivos.leer_texto(f"{KEY}.resultado.txt").startswith("ERROR: error interno al importar")
        # When Lambda retries the same event / Then it is imported, not taken for a duplicate
        fake_import.falla = None
        assert importar_objeto(event, deps) == "OK: 202611 - 4 registros importados"
        assert deps.archivos.leer_texto(f"{KEY}.resultado.txt") == "OK: 202611 - 4 registros importados\n"

    def test_given_the_report_write_fails_then_the_claim_is_still_given_back(self, deps, fake_import, monkeypatch):
        event = drop(deps, KEY, rows(1))

        def broken(key: str, text: str) -> None:
            raise OSError("S3 no respondió")

        monkeypatch.setattr(deps.archivos, "poner_texto", broken)
        with pytest.raises(OSError, match="S3"):
            importar_objeto(event, deps)
        assert deps.cobranzas.liberadas == [("club", event.importacion)]

    def test_given_a_deadline_then_the_import_stops_in_time_and_is_given_back_for_the_retry(self, deps, fake_import):
        # Given 900 s left, and an import that runs out of its time budget at line 1201
        deps.monotonic = lambda: 1000.0
        fake_import.incompleta = 1201
        event = drop(deps, KEY, rows(2))
        # When handled / Then rows stop being read MARGEN_SEGUNDOS before the function's timeout
        with pytest.raises(TiempoAgotado):
            importar_objeto(event, deps, segundos_restantes=900)
        assert fake_import.llamadas[0]["limite"] == 1000.0 + 900 - MARGEN_SEGUNDOS
        # and the claim is given back for Lambda's retry, which the report announces
        assert deps.cobranzas.claims == {}
        report = deps.archivos.leer_texto(f"{KEY}.resultado.txt")
        assert report.startswith("ERROR: importación incompleta") and "línea 1201" in report

    def test_given_no_deadline_then_the_import_has_no_time_limit(self, deps, fake_import):
        importar_objeto(drop(deps, KEY, rows(1)), deps)
        assert fake_import.llamadas[0]["limite"] is None

    def test_given_the_whole_file_is_refused_then_the_report_says_why_and_the_import_is_finished(
        self, deps, fake_import
    ):
        event = drop(deps, KEY, b"")
        assert importar_objeto(event, deps) == "ERROR: el archivo está vacío"
        assert deps.archivos.leer_texto(f"{KEY}.resultado.txt") == "ERROR: el archivo está vacío\n"
        assert deps.cobranzas.claims[("club", event.importacion)]["estado"] == "TERMINADO"
