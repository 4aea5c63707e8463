"""Cobranzas handlers in-process under moto: the ledger (with GSI1), the credentials table, the
bucket, one integrator with its convenio, the clock fixed."""

from __future__ import annotations

import base64
import importlib
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cobranzas import entregas, exportacion, importacion
from cobranzas.deps import CobranzasDeps
from recaudo.aws import client, nueva_sesion
from recaudo.data.archivos import Archivos
from recaudo.data.cobranzas import CobranzasRepository
from recaudo.data.integradores import IntegradoresRepository
from recaudo.data.ledger import LedgerRepository
from recaudo.data.tables import CREDENTIALS, LEDGER
from recaudo.models.cobranzas import Integrador
from recaudo.models.ledger import Convenio, TipoConvenio
from tests.helpers import LambdaContext, rest_event

BUCKET = "recaudo-cobranzas-test"
# a fixed key so tests can compute the keyed invoice numbers (a real integrator's is random)
CLAVE_FACTURAS = "5e" * 32
INTEGRADOR = Integrador("club", "Club Atlético", "CLUB", "CLUB01", "America/Bogota", CLAVE_FACTURAS)
# Pay per TIC's public model file (22 rows, no header, ";"), reproduced in the repository as data.
MODEL_FILE = Path(__file__).resolve().parents[1] / "data" / "paypertic-modelo.csv"


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[str, bytes]:
    """(content-type, body) of a multipart/form-data request, as curl -F builds it."""
    boundary = "----recaudo" + uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, (filename, content) in files.items():
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: text/csv\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", out


def bearer(hash_: str) -> dict[str, str]:
    """The header a GET carries the integrator hash in."""
    return {"Authorization": f"Bearer {hash_}"}


@dataclass
class Reply:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""


@dataclass
class CobranzasHarness:
    deps: CobranzasDeps
    hash: str
    ddb: Any
    s3: Any
    ledger: LedgerRepository
    repo: CobranzasRepository

    def call(self, module: str, event: dict[str, Any]) -> Reply:
        handler = importlib.import_module(f"cobranzas.{module}").handler
        response = handler(event, LambdaContext())
        body = response.get("body") or ""
        raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        for k, v in (response.get("multiValueHeaders") or {}).items():
            headers.setdefault(k.lower(), v[0])
        return Reply(response["statusCode"], raw.decode("utf-8"), headers, raw)

    def importar(
        self,
        content: bytes | None,
        hash_: str | None = "default",
        filename: str = "cobranzas.csv",
        query: str | None = None,
    ) -> Reply:
        fields = {} if hash_ is None else {"hash": self.hash if hash_ == "default" else hash_}
        files = {} if content is None else {"file": (filename, content)}
        content_type, body = multipart(fields, files)
        event = rest_event("POST", "/cobranzas/importar/csv", query=query, headers={"Content-Type": content_type})
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        return self.call("importar_csv", event)

    def exportar(
        self,
        params: dict[str, str] | None = None,
        method: str = "GET",
        module: str = "exportar_csv",
        form: str = "urlencoded",
    ) -> Reply:
        """GET sends the hash in ``Authorization: Bearer`` (never in the URL); POST in the form."""
        params = dict(params or {})
        hash_ = params.pop("hash", self.hash)
        path = "/cobranzas/" + ("exportar" if module == "exportar_csv" else "descargar") + "/csv"
        if method == "GET":
            return self.call(module, rest_event("GET", path, query=params, headers=bearer(hash_)))
        params = {"hash": hash_} | params
        if form == "multipart":
            content_type, body = multipart(params, {})
            event = rest_event("POST", path, headers={"Content-Type": content_type})
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event = rest_event(
                "POST", path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=urlencode(params)
            )
        return self.call(module, event)

    def get(self, path: str, hash_: str | None = "default", **params: str) -> dict[str, Any]:
        """A GET event with the hash in ``Authorization: Bearer`` (``hash_=None``: without it)."""
        headers = {} if hash_ is None else bearer(self.hash if hash_ == "default" else hash_)
        return rest_event("GET", path, query=params, headers=headers)

    def pagar(self, cliente: str, concepto: str) -> None:
        """A bank's payment of the client's collection of this period, as the payment flow's Aplicar
        step writes it (estado pagado)."""
        from recaudo.data.ledger import deuda_key
        from recaudo.models.cobranzas import id_saldo

        d = self.ledger.get_deuda_por_factura(id_saldo("club", "202611", cliente, concepto, CLAVE_FACTURAS))
        assert d is not None
        pk, sk = deuda_key(d)
        self.ddb.update_item(
            TableName="recaudo-ledger",
            Key={"PK": {"S": pk}, "SK": {"S": sk}},
            UpdateExpression="SET estado = :p, pagoFactura = :f",
            ExpressionAttributeValues={":p": {"S": "pagado"}, ":f": {"N": str(d.id_saldo)}},
        )

    def filas(self, **params: str) -> list[list[str]]:
        reply = self.exportar(params)
        assert reply.status == 200, reply.body
        return [line.split(";") for line in reply.body.split("\r\n") if line]

    def s3_event(
        self, key: str, sequencer: str = "0055AED6DCD90281E5", objeto: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The event S3 sends for ``key`` (one record); ``objeto``: the record's object, as S3 fills it."""
        from urllib.parse import quote_plus

        return {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventTime": "2026-11-21T15:00:00.000Z",
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                        "object": objeto or {"key": quote_plus(key), "size": 1, "eTag": "x", "sequencer": sequencer},
                    },
                }
            ]
        }


def build(now: datetime, monkeypatch: Any, page_limit: int = 3, create_tables: bool = True) -> CobranzasHarness:
    nueva_sesion()
    ddb = client("dynamodb")
    if create_tables:
        ddb.create_table(**LEDGER.create_table_kwargs(os.environ["LEDGER_TABLE"]))
        ddb.create_table(**CREDENTIALS.create_table_kwargs(os.environ["CREDENTIALS_TABLE"]))
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    integradores = IntegradoresRepository(os.environ["CREDENTIALS_TABLE"], ddb)
    hash_ = integradores.crear(INTEGRADOR, now)
    ledger = LedgerRepository(os.environ["LEDGER_TABLE"], ddb, page_limit=page_limit)
    ledger.put_convenio(
        Convenio("CLUB01", TipoConvenio.TOTAL, "Club Atlético: cobranzas", institucion="CLUB", integrador=INTEGRADOR.id)
    )
    repo = CobranzasRepository(os.environ["LEDGER_TABLE"], ddb, page_limit=page_limit, sleep=lambda s: None)
    deps = CobranzasDeps(cobranzas=repo, integradores=integradores, archivos=Archivos(s3, BUCKET), clock=lambda: now)
    for logic in (importacion, exportacion, entregas):
        monkeypatch.setattr(logic, "default_cobranzas_deps", lambda: deps)
    return CobranzasHarness(deps, hash_, ddb, s3, ledger, repo)
