"""S3 object-created under ``entrada/`` -> import exactly the version the event names and write its
report next to it. A redelivered event imports nothing twice; a failed import raises, so that Lambda
retries it and, once its retries are spent, sends the event to its on-failure destination."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event

from cobranzas import entregas
from recaudo.observability import lambda_handler


def procesar(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deadline = None if context is None else time.monotonic() + context.get_remaining_time_in_millis() / 1000
    results = []
    for record in S3Event(event).records:
        obj = record.s3.get_object
        entrega = entregas.Entrega(
            # S3 URL-encodes keys in events ("+" for spaces, %XX); S3Event leaves them encoded
            clave=unquote_plus(obj.key),
            version=obj.version_id,
            secuenciador=obj.get("sequencer"),
            etag=obj.etag or None,
        )
        remaining = None if deadline is None else deadline - time.monotonic()
        results.append(entregas.importar_objeto(entrega, segundos_restantes=remaining))
    return {"resultados": results}


handler = lambda_handler(procesar, correlation_id_path=None)
