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


def payment_flow_definition() -> dict[str, Any]:
    compensate = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Compensar"}]
    return {
        "Comment": "Pago Conectividad: aplicar -> confirmar -> verificar; compensar si falla tras aplicar",
        "StartAt": "Aplicar",
        "States": {
            # A refusal here (DeudaNoPendiente, PagoExistente) changed nothing: the execution fails
            # with that error name for the endpoint to map. Any other failure (a Lambda that timed
            # out after its transaction committed, say) is compensated: compensation only undoes a
            # payment with this execution's transaction number, so it is safe when nothing applied.
            "Aplicar": {
                "Type": "Task",
                "Resource": "${AplicarArn}",
                "ResultPath": "$.aplicar",
                "Retry": _retry(3),
                "Catch": [
                    {"ErrorEquals": ["DeudaNoPendiente"], "ResultPath": "$.error", "Next": "DeudaNoPendiente"},
                    {"ErrorEquals": ["PagoExistente"], "ResultPath": "$.error", "Next": "PagoExistente"},
                    *compensate,
                ],
                "Next": "Confirmar",
            },
            "DeudaNoPendiente": {
                "Type": "Fail",
                "Error": "DeudaNoPendiente",
                "Cause": "una deuda ya no está pendiente",
            },
            "PagoExistente": {"Type": "Fail", "Error": "PagoExistente", "Cause": "la factura ya tiene un pago"},
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
            "Compensar": {
                "Type": "Task",
                "Resource": "${CompensarArn}",
                "ResultPath": "$.compensar",
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2.0}],
                "Next": "Compensado",
            },
            "Compensado": {"Type": "Fail", "Error": "PagoCompensado", "Cause": "falló tras aplicar; se deshizo"},
        },
    }


def substitute(definition: dict[str, Any], arns: dict[str, str]) -> str:
    """The definition as JSON with ``${<Task>Arn}`` replaced (what Step Functions receives)."""
    import json

    text = json.dumps(definition)
    for task in TASKS:
        text = text.replace("${" + task + "Arn}", arns[task])
    return text
