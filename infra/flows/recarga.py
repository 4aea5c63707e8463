"""The top-up state machine (Standard): send once, resolve an unknown outcome by asking the carrier
with backoff, then confirm and verify, or fail. One definition for CDK and for the tests.

Task ``Resource`` values are ``${<Task>Arn}`` placeholders (DefinitionSubstitutions in CDK). Tasks
report the carrier's outcome as data; only AWS faults raise, and only those are retried.
"""

from __future__ import annotations

from typing import Any

TASKS = ("Enviar", "Consultar", "Confirmar", "Fallar", "Verificar")
AWS_FAULTS = ["Lambda.ServiceException", "Lambda.TooManyRequestsException", "Lambda.SdkClientException", "Throttled"]
TIMEOUT_SECONDS = 900  # 12 status queries with their waits fit well inside


def _task(resource: str, result_path: str, next_state: str, attempts: int = 3) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "${" + resource + "Arn}",
        "ResultPath": result_path,
        "Retry": [{"ErrorEquals": AWS_FAULTS, "IntervalSeconds": 1, "MaxAttempts": attempts, "BackoffRate": 2.0}],
        "Next": next_state,
    }


def _outcome(variable: str, otherwise: str, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "Type": "Choice",
        "Choices": [
            {"Variable": variable, "StringEquals": "APLICADA", "Next": "Confirmar"},
            {"Variable": variable, "StringEquals": "RECHAZADA", "Next": "Fallar"},
            {"Variable": variable, "StringEquals": "EXPIRADA", "Next": "Fallar"},
            *(extra or []),
        ],
        "Default": otherwise,
    }


def recarga_definition() -> dict[str, Any]:
    return {
        "Comment": "Recarga CPS: enviar una vez; si el resultado es desconocido, consultar con espera creciente",
        "StartAt": "Enviar",
        "TimeoutSeconds": TIMEOUT_SECONDS,
        "States": {
            "Enviar": _task("Enviar", "$.envio", "TrasEnviar"),
            "TrasEnviar": _outcome(
                "$.envio.resultado",
                "PrimeraEspera",
                [{"Variable": "$.envio.resultado", "StringEquals": "FINAL", "Next": "Resuelta"}],
            ),
            "PrimeraEspera": {
                "Type": "Pass",
                "Result": {"intento": 0, "espera": 1},
                "ResultPath": "$.consulta",
                "Next": "Esperar",
            },
            "Esperar": {"Type": "Wait", "SecondsPath": "$.consulta.espera", "Next": "Consultar"},
            "Consultar": _task("Consultar", "$.consulta", "TrasConsultar"),
            "TrasConsultar": _outcome(
                "$.consulta.resultado",
                "Esperar",
                [{"Variable": "$.consulta.agotado", "BooleanEquals": True, "Next": "SinResolver"}],
            ),
            "Confirmar": _task("Confirmar", "$.confirmacion", "Verificar", attempts=6),
            "Verificar": _task("Verificar", "$.verificacion", "Resuelta"),
            "Fallar": _task("Fallar", "$.falla", "Resuelta", attempts=6),
            "Resuelta": {"Type": "Succeed"},
            # Still unknown after every query: the operation stays PENDIENTE ("en proceso") for an
            # operator, and the failed execution raises the alarm.
            "SinResolver": {
                "Type": "Fail",
                "Error": "RecargaSinResolver",
                "Cause": "el operador no confirmó ni rechazó",
            },
        },
    }
