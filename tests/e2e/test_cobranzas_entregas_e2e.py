"""S3 drops through the local stack, as S3 and Lambda run them: the files bucket versioned as the
template declares it, S3's events naming each object's version, the importer invoked asynchronously.
Two different files PUT back to back on one key are both imported and both reported."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest


@pytest.fixture(scope="module")
def cob(recaudo):
    return recaudo.state["demo"]["cobranzas"]


@pytest.fixture(scope="module")
def api2(recaudo):
    with httpx.Client(base_url=recaudo.state["apiBaseUrls"]["api2"], timeout=60) as client:
        yield client


def period(cob) -> str:
    return datetime.now(ZoneInfo(cob["zonaHoraria"])).strftime("%Y%m")


def rows(tag: str, n: int) -> bytes:
    return "".join(
        f"{tag}{i};Cliente {tag} {i};;;c{i}@example.co;CUOTA;Cuota;{i}.50\n" for i in range(1, n + 1)
    ).encode("cp1252")


def wait_for(s3, bucket: str, key: str, expected: str | None = None, seconds: float = 90) -> str:
    """The object's text once it exists (and, with ``expected``, once it reads so)."""
    deadline, last = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        try:
            last = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
            if expected is None or last == expected:
                return last
        except s3.exceptions.NoSuchKey:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{key}: {last!r} after {seconds} s")


def report(api2, cob, importacion: str) -> httpx.Response:
    return api2.post("/cobranzas/importar/reporte", data={"hash": cob["hash"], "importacion": importacion})


def exported_clients(api2, cob) -> set[str]:
    reply = api2.post("/cobranzas/exportar/csv", data={"hash": cob["hash"], "periodo": "*"})
    assert reply.status_code == 200, reply.text
    return {line.split(";")[0] for line in reply.text.split("\r\n") if line}


def test_given_two_files_put_back_to_back_on_one_key_then_both_are_imported_and_both_reported(recaudo, api2, cob):
    s3, bucket = recaudo.aws("s3"), cob["bucket"]
    tag = uuid.uuid4().hex[:6].upper()
    name = f"versiones {tag}.csv"
    key = cob["prefijo"] + name
    # Given two different files PUT on the same key, back to back (S3 notifies each, asynchronously)
    first = s3.put_object(Bucket=bucket, Key=key, Body=rows(f"P{tag}", 5))["VersionId"]
    second = s3.put_object(Bucket=bucket, Key=key, Body=rows(f"S{tag}", 7))["VersionId"]
    assert first != second
    # Then each version is imported and reported under its own name
    ok = f"OK: {period(cob)} - {{}} registros importados\n"
    assert wait_for(s3, bucket, f"{key}.{first}.resultado.txt") == ok.format(5)
    assert wait_for(s3, bucket, f"{key}.{second}.resultado.txt") == ok.format(7)
    # and the name's report is the current (second) version's
    wait_for(s3, bucket, f"{key}.resultado.txt", expected=ok.format(7))
    # and both files' rows are in the ledger: the first file was read by its version, not lost
    clients = exported_clients(api2, cob)
    assert {f"P{tag}{i}" for i in range(1, 6)} <= clients
    assert {f"S{tag}{i}" for i in range(1, 8)} <= clients
    # When the integrator asks importar/reporte by name, and by name and version
    latest, earlier = report(api2, cob, name), report(api2, cob, f"{name}.{first}")
    # Then the current version's report, and the first version's
    assert (latest.status_code, latest.text) == (200, ok.format(7))
    assert (earlier.status_code, earlier.text) == (200, ok.format(5))
    # and our own reports (created under entrada/ too) triggered no import: no report of a report
    keys = {v["Key"] for v in s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])}
    assert keys == {key, f"{key}.{first}.resultado.txt", f"{key}.{second}.resultado.txt", f"{key}.resultado.txt"}


def test_given_a_drop_without_the_csv_suffix_then_imported_and_reported_next_to_it(recaudo, cob):
    s3, bucket = recaudo.aws("s3"), cob["bucket"]
    tag = uuid.uuid4().hex[:6].upper()
    key = f"{cob['prefijo']}cobros-{tag}.TXT"
    s3.put_object(Bucket=bucket, Key=key, Body=rows(f"T{tag}", 2))
    assert wait_for(s3, bucket, key + ".resultado.txt") == f"OK: {period(cob)} - 2 registros importados\n"
