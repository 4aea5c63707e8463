"""RADIAN under moto: the table, a DynamoDB client whose calls are atomic one by one (as DynamoDB's
requests are), the polling run's recorder, and the tracking API's proxy events."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recaudo.data.tables import RADIAN
from recaudo.models.radian import Evento
from tests.helpers import rest_event

TABLE = "recaudo-radian"
SHARDS = 4


def hexa(texto: str) -> str:
    """A valid CUFE or CUDE: the hex of a SHA-384."""
    return hashlib.sha384(texto.encode()).hexdigest()


def crear_tabla(ddb: Any) -> None:
    ddb.create_table(**RADIAN.create_table_kwargs(TABLE))


class Serializado:
    """The boto3 client with every call under one lock. moto's conditional writes and transactions are
    not atomic across threads; DynamoDB's requests are, one by one. With this, what races is what
    races in AWS: a poller's read and its conditional write, with other requests in between."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name == "exceptions" or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


@dataclass
class Flujo:
    """The polling state machine, recorded."""

    iniciadas: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    corriendo: bool = False

    def start(self, name: str, payload: dict[str, Any]) -> str:
        self.iniciadas.append((name, payload))
        return f"arn:aws:states:us-east-1:123456789012:execution:recaudo-radian-sondeo:{name}"

    def running(self, prefix: str) -> bool:
        return self.corriendo


def evento(caso: str, numero: int, codigo: str, fecha: datetime) -> Evento:
    return Evento(
        cude=hexa(f"cude-{caso}-{numero}-{codigo}"),
        codigo=codigo,
        numero=numero,
        fecha=fecha,
        descripcion=f"evento {codigo}",
        identificacion_evento=f"EV{codigo}",
        emisor_nombre="SOFTWARE SAS",
        emisor_identificacion="9999999",
        receptor_nombre="ENERGIA",
        receptor_identificacion="5555555",
    )


# The document's example (seed 003): 030, 032 and 033 on 2022-11-30, Colombia time.
DOCUMENTO = [
    evento("documento", 1, "030", datetime(2022, 11, 30, 21, 22, 17)),
    evento("documento", 2, "032", datetime(2022, 11, 30, 21, 22, 37)),
    evento("documento", 3, "033", datetime(2022, 11, 30, 21, 23, 7)),
]
INSCRIPCION = evento("documento", 4, "036", datetime(2022, 12, 1, 8, 0, 0))


def api(
    method: str,
    path: str,
    tenant: str | None = "tenant-a",
    body: Any = None,
    query: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> dict[str, Any]:
    """A tracking API request as API Gateway passes it on (stage ``radian``), vouched for by the
    authorizer; ``raw`` sends exact bytes, base64-encoded as API Gateway does for binary bodies."""
    import base64

    event = rest_event(
        method,
        path,
        query=query,
        headers={"Content-Type": "application/json"} if body is not None or raw is not None else None,
        body=body,
        authorizer={"tenant": tenant, "principalId": f"tenant:{tenant}"} if tenant else {"principalId": "x"},
    )
    event["requestContext"]["stage"] = "radian"
    event["requestContext"]["path"] = f"/radian{path}"
    if raw is not None:
        event["body"] = base64.b64encode(raw).decode()
        event["isBase64Encoded"] = True
    return event
