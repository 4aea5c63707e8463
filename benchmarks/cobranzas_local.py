"""Cobranzas through the local stack, as an integrator sends files (run on demand:
`.venv/bin/python benchmarks/cobranzas_local.py`). Prints figures; asserts nothing.

Starts `make run` (synth included), then, against the demo integrator:

1. HTTP import (`POST /api2/cobranzas/importar/csv`, multipart) of a 5,000-row file (~65 bytes a row,
   the size of the review's 324 KB file), then of a file at the endpoint's limit (4 MiB, ~64,000
   rows), each sent twice (the second time every row is already there). Wall time, status, reply,
   and the rows of the period in the ledger (counted on the emulator's GSI1, every partition).
2. S3 drop of a 100,000-row file through an upload URL (`importar/url`, presigned PUT), the report
   polled until it exists. Wall time from the PUT to the report, the report's line, and the rows in
   the ledger (nothing lost: every row of the file is there).

Every file is new clients (one per four rows, four concepts each, as a club's monthly file), so the
three imports add up; the period is the demo integrator's current one.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def _startup():
    """benchmarks/local_stack.py's `make run` and wait for the first 200 (loaded by path: the
    repository's own `local_stack` package has the same name)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_local_stack", Path(__file__).with_name("local_stack.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.startup()


NOMBRES = ("Ana Pérez", "Tomás Gil", "Sofía Ruiz", "José Díaz", "Lucía Paz", "Martín Sosa", "Inés Vera")
CONCEPTOS = (
    ("1", "Cuota social", "99.00"),
    ("3", "Cuota futbol", "199.90"),
    ("4", "Cuota spa", "350"),
    ("9", "Gimnasio", "250"),
)
MAX_HTTP_BYTES = 4 * 1024 * 1024


def lineas(desde: int, filas: int) -> bytes:
    out = []
    for i in range(desde, desde + filas):
        cliente = 1_000_000 + i // 4
        concepto, descripcion, monto = CONCEPTOS[i % 4]
        nombre = NOMBRES[cliente % len(NOMBRES)]
        out.append(f"{cliente};{nombre};11{cliente:08d};;s{cliente}@club.com.ar;{concepto};{descripcion};{monto}\n")
    return "".join(out).encode()


def hasta_el_limite(desde: int) -> tuple[bytes, int]:
    """As many rows as fit in the endpoint's limit (multipart framing left aside)."""
    size = len(lineas(desde, 1000)) / 1000
    filas = int((MAX_HTTP_BYTES - 4096) / size) // 4 * 4
    while len(data := lineas(desde, filas)) > MAX_HTTP_BYTES - 1024:
        filas -= 4
    return data, filas


def contar(state: dict, integrador: str, periodo: str) -> int:
    import boto3

    from recaudo.data.cobranzas_acciones import GSI, GSI_PARTICIONES, gsi_pk

    ddb = boto3.client(
        "dynamodb",
        endpoint_url=state["awsEndpointUrl"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    table = next(t for t in ddb.list_tables()["TableNames"] if "Ledger" in t)
    total = 0
    for parte in range(GSI_PARTICIONES):
        request = {
            "TableName": table,
            "IndexName": GSI,
            "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :p)",
            "ExpressionAttributeValues": {":pk": {"S": gsi_pk(integrador, parte)}, ":p": {"S": f"{periodo}#"}},
            "Select": "COUNT",
        }
        while True:
            page = ddb.query(**request)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return total


def importar_http(api2: str, hash_: str, data: bytes) -> tuple[float, int, str]:
    import httpx

    t0 = time.perf_counter()
    response = httpx.post(
        f"{api2}/cobranzas/importar/csv",
        data={"hash": hash_},
        files={"file": ("cobros.csv", data, "text/csv")},
        timeout=120,
    )
    return time.perf_counter() - t0, response.status_code, response.text.strip()


def drop_s3(api2: str, hash_: str, data: bytes) -> tuple[float, str]:
    import httpx

    response = httpx.post(f"{api2}/cobranzas/importar/url", data={"hash": hash_}, timeout=60)
    url = response.text.removeprefix("OK: ").strip()
    nombre = response.headers["X-Recaudo-Importacion"]
    t0 = time.perf_counter()
    put = httpx.put(url, content=data, timeout=300)
    put.raise_for_status()
    while True:
        report = httpx.get(
            f"{api2}/cobranzas/importar/reporte",
            params={"importacion": nombre},
            headers={"Authorization": f"Bearer {hash_}"},
            timeout=60,
        )
        if report.status_code == 200:
            return time.perf_counter() - t0, report.text.splitlines()[0]
        if time.perf_counter() - t0 > 1800:
            return time.perf_counter() - t0, f"(no report after 30 min: {report.status_code} {report.text.strip()})"
        time.sleep(1)


def main() -> None:
    import os
    import signal
    import subprocess

    sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "layers" / "shared" / "python")]
    process, state, started, _ = _startup()
    try:
        cob = state["demo"]["cobranzas"]
        api2 = state["apiBaseUrls"]["api2"]
        from datetime import datetime
        from zoneinfo import ZoneInfo

        periodo = datetime.now(ZoneInfo("America/Bogota")).strftime("%Y%m")
        print(f"local stack up in {started:.1f} s; integrator {cob['integrador']}, period {periodo}")
        antes = contar(state, cob["integrador"], periodo)

        print("\n1. HTTP import (the gateway answers at 29 s)")
        for nombre, (data, filas) in (("5,000 rows", (lineas(0, 5000), 5000)), ("at the limit", hasta_el_limite(5000))):
            # sent until it is whole (an import the budget cut short says so; its resend continues it),
            # then once more: every row is already there
            t0, intentos, status = time.perf_counter(), 0, 0
            while status != 200 and intentos < 30:
                intentos += 1
                wall, status, body = importar_http(api2, cob["hash"], data)
                en_ledger = contar(state, cob["integrador"], periodo) - antes
                print(
                    f"   {nombre:>12} ({filas:,} rows, {len(data) / 1024:,.0f} KiB), send {intentos}: {wall:6.2f} s  "
                    f"HTTP {status}  {body[:170]}  | rows of the period in the ledger: {en_ledger:,}"
                )
            print(f"   {nombre:>12}: whole after {intentos} send(s), {time.perf_counter() - t0:.1f} s in all")
            wall, status, body = importar_http(api2, cob["hash"], data)
            print(f"   {nombre:>12} sent again: {wall:6.2f} s  HTTP {status}  {body[:120]}")

        print("\n2. S3 drop through an upload URL")
        filas = 100_000
        data = lineas(1_000_000, filas)
        antes = contar(state, cob["integrador"], periodo)
        wall, linea = drop_s3(api2, cob["hash"], data)
        nuevas = contar(state, cob["integrador"], periodo) - antes
        print(
            f"   {filas:,} rows ({len(data) / 1024 / 1024:.1f} MiB): {wall:.1f} s from the PUT to the report; "
            f"report: {linea}; new rows in the ledger: {nuevas:,} ({'nothing lost' if nuevas == filas else 'ROWS MISSING'})"
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # workers still busy: stop them
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
