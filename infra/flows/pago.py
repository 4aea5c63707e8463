"""The payment state machine (Amazon States Language), one definition for CDK and for the tests.

Task ``Resource`` values are ``${…Arn}`` placeholders: CDK fills them with DefinitionSubstitutions,
tests with the functions they create. Tasks raise named exceptions (the class name is the error):
throttling is retried with backoff; a failure after *apply* is caught and compensated.
"""

from __future__ import annotations

from typing import Any

RETRYABLE = ["Throttled", "Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.SdkClientException"]
TASKS = ("Aplicar", "Confirmar", "Verificar", "Compensar")


def _retry(attempts: int) -> list[dict[str, Any]]:
    return [{"ErrorEquals": RETRYABLE, "IntervalSeconds": 1, "MaxAttempts": attempts, "BackoffRate": 2.0}]


# Refusals by Aplicar: nothing changed; the execution fails with that name for the endpoint to map.
REFUSALS = ("DeudaNoPendiente", "PagoExistente", "SolicitudRepetida", "NumeroNoDisponible")


def payment_flow_definition() -> dict[str, Any]:
    compensate = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Compensar"}]
    refusals: dict[str, Any] = {
        name: {"Type": "Fail", "Error": name, "Cause": "rechazado por el libro; nada cambió"} for name in REFUSALS
    }
    return {
        "Comment": "Pago Conectividad: aplicar -> confirmar -> verificar; compensar si falla tras aplicar",
        "StartAt": "Aplicar",
        "States": {
            # A refusal here changed nothing. Any other failure (a Lambda that timed out after its
            # transaction committed, say) is compensated: compensation only undoes a payment with
            # this execution's transaction number, so it is safe when nothing applied.
            "Aplicar": {
                "Type": "Task",
                "Resource": "${AplicarArn}",
                "ResultPath": "$.aplicar",
                "Retry": _retry(3),
                "Catch": [{"ErrorEquals": [name], "ResultPath": "$.error", "Next": name} for name in REFUSALS]
                + compensate,
                "Next": "Confirmar",
            },
            **refusals,
            "Confirmar": {
                "Type": "Task",
                "Resource": "${ConfirmarArn}",
                "ResultPath": "$.confirmar",
                "Retry": _retry(3),
                "Catch": compensate,
                "Next": "Verificar",
            },
            "Verificar": {
                "Type": "Task",
                "Resource": "${VerificarArn}",
                "ResultPath": "$.verificar",
                "Retry": _retry(3),
                "Catch": compensate,
                "Next": "Pagado",
            },
            "Pagado": {"Type": "Succeed"},
            # Only transient errors are retried: a permanent one (a refused transaction) would fail
            # the same way every time. If compensation does not succeed, the outcome is unknown to
            # the bank ("en proceso"), never "not charged"; the sweeper and an alarm take it from there.
            "Compensar": {
                "Type": "Task",
                "Resource": "${CompensarArn}",
                "ResultPath": "$.compensar",
                "Retry": _retry(5),
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.errorCompensacion", "Next": "CompensacionFallida"}
                ],
                "Next": "Compensado",
            },
            "Compensado": {"Type": "Fail", "Error": "PagoCompensado", "Cause": "falló tras aplicar; se deshizo"},
            "CompensacionFallida": {
                "Type": "Fail",
                "Error": "CompensacionFallida",
                "Cause": "falló tras aplicar y no se pudo deshacer; el barrido lo resuelve",
            },
        },
    }


def substitute(definition: dict[str, Any], arns: dict[str, str]) -> str:
    """The definition as JSON with ``${<Task>Arn}`` replaced (what Step Functions receives)."""
    import json

    text = json.dumps(definition)
    for task in TASKS:
        text = text.replace("${" + task + "Arn}", arns[task])
    return text
