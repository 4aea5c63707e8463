"""Lambda SnapStart's runtime hooks (docs/decisions.md, "SnapStart"): with SnapStart, one snapshot of
an initialised execution environment is resumed by many environments, so nothing captured in it may
be unique or connected.

- Python's ``random`` (backoff jitter, log sampling) is reseeded from the OS after a restore: resumed
  from one snapshot, every environment would otherwise draw the same jitter and retry in lockstep.
- The AWS clients created during the init close their pooled connections after a restore: a TCP
  connection captured in a snapshot is dead once resumed. The clients themselves stay (they reconnect).

What needs no hook: ``uuid.uuid4`` and ``secrets`` read the OS's generator at each call; credentials
come from Lambda's container credentials endpoint, which botocore refreshes; no function opens a
connection or reads the clock into a value it keeps during its init.

Registered when ``recaudo.observability`` (which every function imports) is imported; the Lambda
runtime runs the hooks only for functions with SnapStart on. ``snapshot_restore_py`` ships with Lambda's
Python runtimes (a dev dependency here).
"""

from __future__ import annotations

import random

from recaudo import aws


def despues_de_restaurar() -> None:
    random.seed()  # from os.urandom
    aws.cerrar_conexiones()


def registrar() -> bool:
    """Register the hooks once; False where the runtime's library is absent (nothing to do there)."""
    try:
        from snapshot_restore_py import get_after_restore, register_after_restore
    except ImportError:
        return False
    if not any(entry[0] is despues_de_restaurar for entry in get_after_restore()):
        register_after_restore(despues_de_restaurar)
    return True


registrado = registrar()
