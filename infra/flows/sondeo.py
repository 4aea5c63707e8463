"""The RADIAN polling run (Standard): a Map over batches of invoices, at most ``MaxConcurrency``
pollers at once, each polling its batch with async httpx under a semaphore. One definition for CDK
and for the tests.

Input ``{"lotes": [{"shard", "desde", "hasta"} | {"facturas": [{"tenant", "cufe"}]}]}``: the planner's
slices of the polling index, or one named invoice ("poll now"). A batch that finds afacturar refusing
our token raises ``AfacturarNoAutenticado``: not retried, it fails the Map and so the whole run, and
its alarm fires. AWS faults are retried; a batch that still fails leaves its invoices due for the
next run (nothing was written for an invoice whose poll did not finish).
"""

from __future__ import annotations

from typing import Any

TASKS = ("Sondear",)
AWS_FAULTS = ["Lambda.ServiceException", "Lambda.TooManyRequestsException", "Lambda.SdkClientException", "Ocupado"]
TIMEOUT_SECONDS = 3600
POLLER_TIMEOUT_SECONDS = 900


def sondeo_definition(max_concurrency: int) -> dict[str, Any]:
    return {
        "Comment": "RADIAN: sondear afacturar por lotes, con concurrencia acotada",
        "StartAt": "Lotes",
        "TimeoutSeconds": TIMEOUT_SECONDS,
        "States": {
            "Lotes": {
                "Type": "Map",
                "ItemsPath": "$.lotes",
                "MaxConcurrency": max_concurrency,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Sondear",
                    "States": {
                        "Sondear": {
                            "Type": "Task",
                            "Resource": "${SondearArn}",
                            "TimeoutSeconds": POLLER_TIMEOUT_SECONDS,
                            "Retry": [
                                {"ErrorEquals": AWS_FAULTS, "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}
                            ],
                            "End": True,
                        }
                    },
                },
                "ResultPath": "$.resumen",
                "End": True,
            }
        },
    }
