"""S3 object-created -> import the dropped file (``entrada/<integrador>/<name>.csv``) and write its
report next to it. A redelivered event finds the import claimed and imports nothing twice."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event

from cobranzas import entregas
from recaudo.observability import lambda_handler


def procesar(event: dict[str, Any], context: Any) -> dict[str, Any]:
    results = []
    for record in S3Event(event).records:
        obj = record.s3.get_object
        version = obj.get("sequencer") or obj.etag
        # S3 URL-encodes keys in events ("+" for spaces, %XX); S3Event leaves them encoded
        results.append(entregas.importar_objeto(unquote_plus(obj.key), version))
    return {"resultados": results}


handler = lambda_handler(procesar, correlation_id_path=None)
