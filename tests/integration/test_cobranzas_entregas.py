"""The S3 drop's handler (importar_s3) in-process under moto, on a versioned bucket as the template's:
two files PUT on one key both imported and reported, other keys imported or refused with a report,
our own reports left alone, an inactive integrator refused, a failed import given back for Lambda's
retry. Events are built as S3 sends them (versionId and sequencer; keys URL-encoded)."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import pytest

from cobranzas import importar_s3
from cobranzas.entregas import SUFIJO_REPORTE, Entrega, TiempoAgotado
from tests.conftest import NOW
from tests.helpers import LambdaContext
from tests.integration.cobranzas_harness import BUCKET, CobranzasHarness, build

LEDGER = "recaudo-ledger"
_SEQUENCER = itertools.count(0x0055AED6DCD90281E5)


@pytest.fixture
def h(aws, monkeypatch) -> CobranzasHarness:
    harness = build(NOW, monkeypatch, page_limit=250)
    harness.deps.escritores = 1  # in-process moto is not thread-safe (the local stack serialises it)
    # Given the files bucket versioned, as the template makes it
    harness.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return harness


def rows(n: int, tag: str) -> bytes:
    return "".join(f"{tag}{i};Cliente {tag}{i};;;c{i}@example.co;CUOTA;Cuota;{i + 1}.50\n" for i in range(n)).encode()


def put(h: CobranzasHarness, key: str, body: bytes) -> dict[str, Any]:
    """An integrator's PUT, and the event S3 sends for it (one record)."""
    response = h.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    obj = {
        "key": quote_plus(key),
        "size": len(body),
        "eTag": response["ETag"].strip('"'),
        "versionId": response["VersionId"],
        "sequencer": f"{next(_SEQUENCER):018X}",
    }
    return h.s3_event(key, objeto=obj)


def version_of(event: dict[str, Any]) -> str:
    return str(event["Records"][0]["s3"]["object"]["versionId"])


def text(h: CobranzasHarness, key: str) -> str | None:
    try:
        return h.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    except h.s3.exceptions.NoSuchKey:
        return None


def report_api(h: CobranzasHarness, importacion: str) -> tuple[int, str]:
    reply = h.call("importar_reporte", h.get("/cobranzas/importar/reporte", importacion=importacion))
    return reply.status, reply.body


def claim(h: CobranzasHarness, importacion: str) -> dict[str, Any] | None:
    item = h.ddb.get_item(TableName=LEDGER, Key={"PK": {"S": "IMP#club"}, "SK": {"S": importacion}}).get("Item")
    return item


def importacion_of(event: dict[str, Any]) -> str:
    obj = event["Records"][0]["s3"]["object"]
    return Entrega(unquote_plus(obj["key"]), obj["versionId"]).importacion


def clients(h: CobranzasHarness) -> set[str]:
    return {r[0] for r in h.filas()}


class TestVersions:
    def test_given_two_files_put_back_to_back_on_one_key_then_both_are_imported_and_both_reported(self, h):
        key = "entrada/club/mes actual.csv"
        # Given two different files PUT on the same key before either event is handled
        first, second = put(h, key, rows(3, "A")), put(h, key, rows(4, "B"))
        # When S3's events are handled, in order
        assert importar_s3.procesar(first, None) == {"resultados": ["OK: 202611 - 3 registros importados"]}
        assert importar_s3.procesar(second, None) == {"resultados": ["OK: 202611 - 4 registros importados"]}
        # Then the first file's rows are in the ledger too (it was read by its version)
        assert clients(h) == {"A0", "A1", "A2", "B0", "B1", "B2", "B3"}
        # and each version has its own report; the name's report is the current version's
        v1, v2 = version_of(first), version_of(second)
        assert text(h, f"{key}.{v1}{SUFIJO_REPORTE}") == "OK: 202611 - 3 registros importados\n"
        assert text(h, f"{key}.{v2}{SUFIJO_REPORTE}") == "OK: 202611 - 4 registros importados\n"
        # When the integrator asks importar/reporte by name, or by name and version
        assert report_api(h, "mes actual.csv") == (200, "OK: 202611 - 4 registros importados\n")
        assert report_api(h, f"mes actual.csv.{v1}") == (200, "OK: 202611 - 3 registros importados\n")
        # and both claims are finished, one per version
        assert claim(h, importacion_of(first))["estado"] == {"S": "TERMINADO"}
        assert claim(h, importacion_of(second))["estado"] == {"S": "TERMINADO"}

    def test_given_the_events_handled_in_reverse_order_then_the_names_report_is_still_the_current_versions(self, h):
        key = "entrada/club/x.csv"
        first, second = put(h, key, rows(2, "A")), put(h, key, rows(5, "B"))
        importar_s3.procesar(second, None)
        importar_s3.procesar(first, None)
        assert clients(h) == {"A0", "A1", "B0", "B1", "B2", "B3", "B4"}
        assert report_api(h, "x.csv") == (200, "OK: 202611 - 5 registros importados\n")

    def test_given_a_new_version_being_imported_then_the_names_report_answers_en_curso(self, h, monkeypatch):
        from cobranzas import entregas

        key = "entrada/club/x.csv"
        importar_s3.procesar(put(h, key, rows(1, "A")), None)
        assert report_api(h, "x.csv")[0] == 200
        # When the next version's import is running (seen from inside it)
        seen: list[tuple[int, str]] = []
        importar = entregas.importar

        def watching(*args: Any, **kwargs: Any) -> Any:
            seen.append(report_api(h, "x.csv"))
            return importar(*args, **kwargs)

        monkeypatch.setattr(entregas, "importar", watching)
        importar_s3.procesar(put(h, key, rows(2, "B")), None)
        # Then meanwhile importar/reporte says it is in progress, not the previous version's report
        assert seen[0][0] == 404 and "en curso" in seen[0][1]
        assert report_api(h, "x.csv") == (200, "OK: 202611 - 2 registros importados\n")

    def test_given_the_same_event_delivered_twice_then_imported_once_and_nothing_rewritten(self, h):
        key = "entrada/club/doble.csv"
        event = put(h, key, rows(2, "A"))
        importar_s3.procesar(event, None)
        versions = h.s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
        writes = h.repo.solicitudes_escritura
        assert importar_s3.procesar(event, None) == {"resultados": [None]}
        assert h.repo.solicitudes_escritura == writes + 1  # only the refused claim
        assert h.s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"] == versions


class TestOtherKeys:
    @pytest.mark.parametrize(
        "key", ["entrada/club/COBROS.CSV", "entrada/club/cobros.txt", "entrada/club/cobros", "entrada/club/sub/x.csv"]
    )
    def test_given_another_suffix_or_a_subfolder_then_imported_and_reported_next_to_it(self, h, key):
        event = put(h, key, rows(2, "A"))
        assert importar_s3.procesar(event, None) == {"resultados": ["OK: 202611 - 2 registros importados"]}
        assert text(h, key + SUFIJO_REPORTE) == "OK: 202611 - 2 registros importados\n"
        assert clients(h) == {"A0", "A1"}

    def test_given_the_events_of_our_own_reports_then_they_import_nothing_and_write_nothing(self, h):
        # Given a drop imported: two reports written next to it (the version's and the name's)
        key = "entrada/club/x.csv"
        dropped = put(h, key, rows(1, "A"))
        importar_s3.procesar(dropped, None)
        reports = [v for v in h.s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"] if v["Key"] != key]
        assert sorted(r["Key"] for r in reports) == [
            f"{key}.{version_of(dropped)}{SUFIJO_REPORTE}",
            key + SUFIJO_REPORTE,
        ]
        before = h.s3.list_object_versions(Bucket=BUCKET)["Versions"]
        writes = h.repo.solicitudes_escritura
        for report in reports:  # S3 notifies each report's creation: it is under entrada/ too
            event = {
                "Records": [
                    {
                        "eventName": "ObjectCreated:Put",
                        "s3": {
                            "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                            "object": {
                                "key": quote_plus(report["Key"]),
                                "size": report["Size"],
                                "eTag": report["ETag"].strip('"'),
                                "versionId": report["VersionId"],
                                "sequencer": f"{next(_SEQUENCER):018X}",
                            },
                        },
                    }
                ]
            }
            assert importar_s3.procesar(event, None) == {"resultados": [None]}
        assert h.s3.list_object_versions(Bucket=BUCKET)["Versions"] == before
        assert h.repo.solicitudes_escritura == writes

    def test_given_a_file_whose_whole_content_is_refused_then_its_report_says_why(self, h):
        key = "entrada/club/vacio.csv"
        assert importar_s3.procesar(put(h, key, b""), None) == {"resultados": ["ERROR: el archivo está vacío"]}
        assert text(h, key + SUFIJO_REPORTE) == "ERROR: el archivo está vacío\n"
        assert report_api(h, "vacio.csv") == (200, "ERROR: el archivo está vacío\n")


class TestRefused:
    def test_given_an_inactive_integrator_then_a_report_says_so_and_nothing_is_imported(self, h):
        # Given the integrator revoked (its INTEG# record's activo false)
        h.ddb.update_item(
            TableName="recaudo-credentials",
            Key={"PK": {"S": "INTEG#club"}, "SK": {"S": "INTEG"}},
            UpdateExpression="SET activo = :no",
            ExpressionAttributeValues={":no": {"BOOL": False}},
        )
        key = "entrada/club/x.csv"
        event = put(h, key, rows(2, "A"))
        # When its drop's event is handled
        line = "ERROR: el integrador club está inactivo; el archivo no se importó"
        assert importar_s3.procesar(event, None) == {"resultados": [line]}
        # Then the report next to the file says why, no claim was taken and nothing imported
        assert text(h, key + SUFIJO_REPORTE) == line + "\n"
        assert text(h, f"{key}.{version_of(event)}{SUFIJO_REPORTE}") == line + "\n"
        assert claim(h, importacion_of(event)) is None
        items = h.ddb.scan(TableName=LEDGER)["Items"]
        assert not [i for i in items if i["PK"]["S"].startswith(("PER#", "IMP#"))]

    @pytest.mark.parametrize(
        ("key", "line"),
        [
            ("entrada/nadie/x.csv", "ERROR: integrador desconocido: nadie; el archivo no se importó"),
            ("entrada/x.csv", "ERROR: el archivo debe ir en entrada/<integrador>/; no se importó"),
        ],
    )
    def test_given_no_known_integrator_then_a_report_next_to_the_file_says_why(self, h, key, line):
        assert importar_s3.procesar(put(h, key, rows(2, "A")), None) == {"resultados": [line]}
        assert text(h, key + SUFIJO_REPORTE) == line + "\n"


class TestFailures:
    def test_given_a_write_fails_mid_file_then_the_claim_is_given_back_and_lambdas_retry_completes_it(
        self, h, monkeypatch
    ):
        # Given DynamoDB refuses the import's second transaction
        original, calls = h.repo.escribir, {"n": 0}

        def escribir(grupos: list[Any]) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:
                raise h.ddb.exceptions.InternalServerError(
                    {"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems"
                )
            return original(grupos)

        monkeypatch.setattr(h.repo, "escribir", escribir)
        key = "entrada/club/grande.csv"
        event = put(h, key, rows(40, "G"))  # three actions per row of a new client: two transactions
        # When S3's event is handled / Then the function fails (Lambda will retry the event)
        with pytest.raises(Exception):  # whatever importar raises reaches Lambda
            importar_s3.procesar(event, None)
        # and the claim is free, the report says it is retried, some rows landed
        assert claim(h, importacion_of(event)) is None
        assert text(h, key + SUFIJO_REPORTE).startswith("ERROR: error interno al importar")
        assert 0 < len(clients(h)) < 40
        # When Lambda retries the same event / Then it is imported (not a duplicate), every row once
        assert importar_s3.procesar(event, None) == {"resultados": ["OK: 202611 - 40 registros importados"]}
        assert len(h.filas()) == 40
        assert text(h, key + SUFIJO_REPORTE) == "OK: 202611 - 40 registros importados\n"

    def test_given_the_function_runs_out_of_time_then_it_stops_gives_the_claim_back_and_the_retry_completes(self, h):
        # Given 60 s left in the function, and a clock that makes each row take two seconds
        class Reloj:
            t = 0.0

            def __call__(self) -> float:
                self.t += 2.0
                return self.t

        class Context(LambdaContext):
            def get_remaining_time_in_millis(self) -> int:
                return 60_000

        h.deps.monotonic = Reloj()
        key = "entrada/club/lento.csv"
        event = put(h, key, rows(40, "L"))
        # When the event is handled / Then it stops before the function's deadline and raises for a retry
        with pytest.raises(TiempoAgotado):
            importar_s3.procesar(event, Context())
        assert 0 < len(clients(h)) < 40
        assert claim(h, importacion_of(event)) is None
        assert text(h, key + SUFIJO_REPORTE).startswith("ERROR: importación incompleta")
        # When Lambda retries with time enough / Then the rest lands, each row once
        h.deps.monotonic = lambda: 0.0
        assert importar_s3.procesar(event, Context()) == {"resultados": ["OK: 202611 - 40 registros importados"]}
        assert len(h.filas()) == 40
