"""Powertools idempotency over DynamoDB, wrapped so the logic sees the API's own errors.

The record is keyed on an explicit ``key`` (for payments: the bank and the invoice) and validated on
``payload``: a replay returns the first reply, the same key with other data is refused, and a
concurrent duplicate is told the first one is still in progress. Errors are not remembered, so a
refused request can be corrected and sent again. This is a convenience for the banks: what makes a
double payment impossible is the conditional transaction in the ledger, not this record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recaudo.errors import CodigoRespuesta, ConectividadError, ParametrosIncorrectos


class EnProceso(ConectividadError):
    """The same request is still being processed: retry shortly (HTTP 409)."""

    codigo = CodigoRespuesta.ERROR_SISTEMA

    @property
    def http_status(self) -> int:
        return 409

    @property
    def descripcion(self) -> str:
        return f"En proceso: {self.detalle}" if self.detalle else "En proceso"

    def body(self) -> dict[str, object]:
        return {"codigoRespuesta": int(self.codigo), "descripcion": self.descripcion}


class EnCurso(EnProceso):
    """This payment's outcome is not known yet (HTTP 202): nothing to redo; the bank checks with
    verificar-pago, or sends the very same request again, which answers the outcome once it is known."""

    @property
    def http_status(self) -> int:
        return 202


class IdempotencyGuard:
    def __init__(self, table_name: str, expires_after_seconds: int, client: Any = None) -> None:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

        self._store = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)
        self._config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="payload",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
            hash_function="sha256",
        )

    def run(
        self, key: dict[str, Any], payload: dict[str, Any], fn: Callable[[], Any], lambda_context: Any = None
    ) -> Any:
        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        if lambda_context is not None:
            self._config.register_lambda_context(lambda_context)

        @idempotent_function(data_keyword_argument="request", config=self._config, persistence_store=self._store)
        def guarded(request: dict[str, Any]) -> Any:
            return fn()

        try:
            return guarded(request={"key": key, "payload": payload})
        except IdempotencyAlreadyInProgressError as exc:
            raise EnProceso("la misma solicitud está en proceso; reintente en unos segundos") from exc
        except IdempotencyValidationError as exc:
            raise ParametrosIncorrectos("la misma factura ya se envió con otros datos") from exc
