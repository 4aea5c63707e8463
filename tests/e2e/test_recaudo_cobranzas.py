"""Cobranzas through the local stack, over real HTTP and S3: multipart uploads through the gateway,
files dropped in the bucket imported by the S3 notification, a bank paying a collection."""

from __future__ import annotations

import json
import time
from urllib.parse import quote_plus

import httpx
import pytest

from recaudo.money import loads
from tests.integration.cobranzas_harness import MODEL_FILE

BASE = "/v1/integracion-conectividad"


@pytest.fixture(scope="module")
def cob(recaudo):
    return recaudo.state["demo"]["cobranzas"]


@pytest.fixture(scope="module")
def api2(recaudo):
    with httpx.Client(base_url=recaudo.state["apiBaseUrls"]["api2"], timeout=60) as client:
        yield client


def _period(recaudo) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(recaudo.state["demo"]["cobranzas"]["zonaHoraria"])).strftime("%Y%m")


def _wait_for(s3, bucket: str, key: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except s3.exceptions.NoSuchKey:
            time.sleep(0.2)
    raise AssertionError(f"no {key} after {seconds} s")


def _bearer(cob) -> dict[str, str]:
    """GET carries the hash in this header, never in the URL."""
    return {"Authorization": f"Bearer {cob['hash']}"}


def _export(api2, cob, **params) -> list[list[str]]:
    reply = api2.get("/cobranzas/exportar/csv", params={"periodo": "*"} | params, headers=_bearer(cob))
    assert reply.status_code == 200, reply.text
    return [line.split(";") for line in reply.text.split("\r\n") if line]


def test_given_the_model_file_when_uploaded_as_curl_does_then_ok_22(recaudo, api2, cob):
    with open(MODEL_FILE, "rb") as f:
        reply = api2.post(
            "/cobranzas/importar/csv", data={"hash": cob["hash"]}, files={"file": ("ejemplo.csv", f, "text/csv")}
        )
    assert (reply.status_code, reply.text) == (200, f"OK: {_period(recaudo)} - 22 registros importados")
    assert reply.headers["content-type"].startswith("text/plain")


def test_given_a_wrong_hash_or_route_then_text_errors_from_the_function_and_the_gateway(api2):
    assert (
        api2.post("/cobranzas/importar/csv", data={"hash": "x"}, files={"file": ("a.csv", b"1;a;;;a@b.co;1;c;1")}).text
        == "ERROR: hash inválido"
    )
    missing = api2.get("/cobranzas/no-existe")
    assert missing.status_code == 404 and missing.text == "ERROR: ruta desconocida"


def test_given_the_hash_in_the_url_then_refused_through_the_gateway_with_where_to_send_it(api2, cob):
    # Given the right hash in the query string, When exportar is asked through the gateway
    reply = api2.get("/cobranzas/exportar/csv", params={"hash": cob["hash"], "periodo": "*"})
    # Then refused, and told where the hash goes instead
    assert reply.status_code == 400 and reply.text.startswith("ERROR: el hash no se acepta en la URL")
    assert "Authorization: Bearer" in reply.text


def test_given_a_truncated_upload_through_the_gateway_then_refused_with_its_report_and_nothing_imported(
    recaudo, api2, cob
):
    # Given a multipart body cut inside its file part (no closing boundary), as a dropped connection leaves it
    boundary = "e2eTruncado"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="hash"\r\n\r\n{cob["hash"]}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n\r\n'
        "TRUNC1;Truncado;;;t@example.co;AGUA;Agua;250.0"
    ).encode()
    # When it is posted
    reply = api2.post(
        "/cobranzas/importar/csv", content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    # Then a 400 ERROR with its import id, whose report says the same, and no collection was stored
    assert reply.status_code == 400 and reply.text.startswith("ERROR: el cuerpo multipart está incompleto")
    report = api2.get(
        "/cobranzas/importar/reporte",
        params={"importacion": reply.headers["X-Recaudo-Importacion"]},
        headers=_bearer(cob),
    )
    assert report.text.startswith(reply.text)
    assert _export(api2, cob, id_cliente="TRUNC1") == []


def test_given_an_s3_drop_when_its_event_is_delivered_a_second_time_then_imported_once(recaudo, api2, cob):
    s3, bucket = recaudo.aws("s3"), cob["bucket"]
    key = f"{cob['prefijo']}doble entrega.csv"
    body = "".join(f"E2E{i};Cliente {i};;;c{i}@example.co;CUOTA;Cuota;{i}.50\n" for i in range(1, 31)).encode("cp1252")
    s3.put_object(Bucket=bucket, Key=key, Body=body)  # S3 (moto) delivers the notification: the first delivery
    period = _period(recaudo)
    assert _wait_for(s3, bucket, key + ".resultado.txt") == f"OK: {period} - 30 registros importados\n"
    first = s3.head_object(Bucket=bucket, Key=key + ".resultado.txt")["LastModified"]

    # The same event again (same key, version and ETag), as S3's at-least-once delivery may do
    head = s3.head_object(Bucket=bucket, Key=key)
    etag, version = head["ETag"].strip('"'), head["VersionId"]
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "eventVersion": "2.1",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-21T15:00:00.000Z",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key), "size": len(body), "eTag": etag, "versionId": version},
                },
            }
        ]
    }
    lam = recaudo.aws("lambda")
    name = next(f["FunctionName"] for f in lam.list_functions()["Functions"] if "importars3" in f["FunctionName"])
    out = json.loads(lam.invoke(FunctionName=name, Payload=json.dumps(event))["Payload"].read())
    assert out == {"resultados": [None]}  # claimed already: nothing imported, no report rewritten
    assert s3.head_object(Bucket=bucket, Key=key + ".resultado.txt")["LastModified"] == first
    assert len([r for r in _export(api2, cob) if r[0].startswith("E2E")]) == 30
    assert "duplicate delivery" in recaudo.logs()


def test_given_a_drop_then_a_bank_sees_and_pays_the_debt_and_the_export_shows_acp(recaudo, api2, cob):
    s3, bucket, demo = recaudo.aws("s3"), cob["bucket"], recaudo.state["demo"]
    key = f"{cob['prefijo']}pagable.csv"
    s3.put_object(
        Bucket=bucket, Key=key, Body="PAGA1;Pagadora Núñez;;;p@example.co;AGUA;Agua noviembre;1234.56\n".encode()
    )
    assert _wait_for(s3, bucket, key + ".resultado.txt").startswith("OK: ")
    period = _period(recaudo)

    headers = {"Authorization": f"Token {demo['bank']['token']}", "Content-Type": "application/json"}
    with httpx.Client(base_url=recaudo.state["apiBaseUrls"]["api"], headers=headers, timeout=60) as bank:
        saldos = bank.get(
            f"{BASE}/saldos-persona", params={"codigoConvenio": cob["convenio"], "identificacion": "PAGA1"}
        )
        assert saldos.status_code == 200, saldos.text
        (saldo,) = loads(saldos.content)
        # the invoice number is keyed by the integrator's secret: the bank learns it from the query
        factura = saldo["idSaldo"]
        assert str(saldo["monto"]) == "1234.56" and 10**18 <= factura < 2 * 10**18
        body = json.dumps(
            {
                "llaveAcceso": demo["bank"]["llaveAcceso"],
                "codigoConvenio": cob["convenio"],
                "codigoBanco": "00152",
                "codigoAgencia": "033272",
                "periodo": period,
                "montoTotal": "M",
                "numeroFactura": factura,
            }
        ).replace('"M"', "1234.56")
        pay = bank.post(f"{BASE}/ejecutar-pago", content=body)
        assert pay.status_code == 200, pay.text

    (row,) = _export(api2, cob, id_cliente="PAGA1")
    assert row == [
        "PAGA1",
        "Pagadora Núñez",
        "",
        "",
        "p@example.co",
        "AGUA",
        "Agua noviembre",
        "1234.56",
        "",
        "",
        "ACP",
        "",
        period,  # periodo=*: each row names its period
    ]
    report = api2.get("/cobranzas/importar/reporte", params={"importacion": "pagable.csv"}, headers=_bearer(cob))
    assert report.text == f"OK: {period} - 1 registros importados\n"


def test_given_a_large_file_then_the_upload_url_takes_it_and_the_notification_imports_it(recaudo, api2, cob):
    grant = api2.post("/cobranzas/importar/url", data={"hash": cob["hash"]})
    assert grant.status_code == 200 and grant.text.startswith("OK: http")
    name = grant.headers["X-Recaudo-Importacion"]
    body = "".join(f"G{i};Grande {i};;;g{i}@example.co;C{i % 4};Cuota;{i % 1000 + 1}.25\n" for i in range(500)).encode()
    put = httpx.put(grant.text.removeprefix("OK: "), content=body, timeout=120)
    assert put.status_code == 200, put.text
    s3 = recaudo.aws("s3")
    report = _wait_for(s3, cob["bucket"], f"{cob['prefijo']}{name}.resultado.txt", seconds=120)
    assert report == f"OK: {_period(recaudo)} - 500 registros importados\n"
