"""A fake of afacturar's RADIAN service: a real HTTP server on loopback that answers
``POST /api/radian/historico_eventos`` as the afacturar document describes (a Laravel application).

The request: a **multipart form** with ``cufe`` (96 hex characters, a SHA-384) and optionally
``entorno`` (recorded, not interpreted), ``Authorization: Bearer <token>`` and
``Accept: application/json``. The fake checks, in Laravel's order:

- the token (the auth middleware, before the controller): missing or wrong → HTTP 401
  ``{"codigo_error": 401, "descripcion_error": "Unauthenticated."}``; but when the request does not
  ask for JSON (Laravel's ``wantsJson``: the first type of ``Accept`` is ``*/json`` or ``*+json``),
  a **302 to /login** with Symfony's small HTML redirect page instead, as Laravel does. ``GET /login``
  answers the HTML login page;
- the form (the controller's validation): a body that is not ``multipart/form-data`` (JSON,
  urlencoded, nothing) is read as a form without fields. This is stricter than a stock Laravel,
  which would read a JSON body, but the document specifies multipart only and the fake holds the
  client to it. A missing ``cufe`` (or one sent as a file) → HTTP 422
  ``{"codigo_error": 10, "descripcion_error": ["The cufe field is required."]}``; a ``cufe`` that is
  not 96 hex characters → HTTP 422, code 10, with Laravel's messages in a list. (HTTP 422 is
  Laravel's status for a validation error; the document gives only the code 10.) Without
  ``Accept: application/json`` a validation error is a 302 back to ``/``, as Laravel does;
- then the history, scripted by CUFE (``CUFES`` names one CUFE per case; the CUFE is
  ``sha384("recaudo-demo-<name>")``), every reply HTTP 200 unless said otherwise:

    documento · the document's example: 030, 032, 033 on 2022-11-30 (a título valor)
    sin_eventos · code 12 "Sin eventos", ``resultado`` empty (also any CUFE not scripted)
    no_autenticado · code 401 "Unauthenticated." in the body, with HTTP 200: the code alone must stop
        the run
    emisor · code 11, the token is not associated with the invoice's issuer
    timeout · code 28 "la operación duró más de 60 s" (answered at once)
    dian · code 15, DIAN's error
    error_500 · HTTP 500, Laravel's ``{"message": "Server Error"}``
    codigo_desconocido · code 99, a code the document does not list
    lenta · answers after ``slow`` seconds, then the document's example
    codigo_texto · the document's example with ``codigo_error`` "0" (a string) and
        ``tiempo_ejecucion`` ""
    descripcion_lista · code 10 with ``descripcion_error`` a list: ["The lista cufe field is required."]
    html · HTTP 200 with the HTML login page (what a proxy that followed the redirect would hand over)
    creciente · a history that grows by one event per poll: 030, then 030 032, then … up to a full
        life 030 032 033 036 037 045 (``numero`` "1" … "6"); further polls keep the full life
    pagada · 030 032 033 036 045
    larga · 11 events, ``numero`` "1" … "11", served in the order a text sort of ``numero`` gives
        ("1", "10", "11", "2", …); 9 (038), 10 (041) and 11 (042) share their ``fecha``, so only an
        integer ``numero`` puts the 042 last (and so drops the 041: no Limitada)

``fecha`` is "YYYY-MM-DD HH:MM:SS" (Colombia time), ``numero`` a string, every ``cude`` 96 hex
characters; ``transaccion`` is a PHP ``uniqid()`` of ``clock``; ``tiempo_ejecucion`` the seconds taken.

For tests and demos (not afacturar's): ``PUT /_historial/<cufe>`` with a JSON body sets the exact
reply served (HTTP 200) for that CUFE from then on, replacing its script (400 if the body is not
JSON); ``GET /_calls/<cufe>`` → ``{"polls": n}``, the polls that reached the history (authenticated
and valid); ``GET /_ultima`` → the last request to the API as the fake read it (content type, form
fields, whether it asked for JSON); ``POST /_config`` ``{"latency": seconds}`` sets the latency
added to every answer of the API. Standard library only: the local stack's runner starts it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from local_stack.fakes import serve

PATH = "/api/radian/historico_eventos"

NAMES = (
    "documento",
    "sin_eventos",
    "no_autenticado",
    "emisor",
    "timeout",
    "dian",
    "error_500",
    "codigo_desconocido",
    "lenta",
    "codigo_texto",
    "descripcion_lista",
    "html",
    "creciente",
    "pagada",
    "larga",
)


def sha384(text: str) -> str:
    return hashlib.sha384(text.encode("utf-8")).hexdigest()


# One deterministic, valid CUFE per scripted case.
CUFES: dict[str, str] = {name: sha384(f"recaudo-demo-{name}") for name in NAMES}
_CASE_OF = {cufe: name for name, cufe in CUFES.items()}

DESCRIPCIONES = {
    "030": "Acuse de recibo de Factura Electrónica de Venta",
    "031": "Reclamo de la Factura Electrónica de Venta",
    "032": "Recibo del bien o prestación del servicio",
    "033": "Aceptación expresa",
    "034": "Aceptación tácita",
    "036": "Inscripción de la factura electrónica de venta como título valor",
    "037": "Endoso en propiedad",
    "038": "Endoso en garantía",
    "039": "Endoso en procuración",
    "040": "Cancelación del endoso",
    "041": "Limitaciones a la circulación de la factura electrónica de venta como título valor",
    "042": "Terminación de las limitaciones a la circulación de la factura electrónica de venta",
    "045": "Pago de la factura electrónica de venta como título valor",
}
# The document's identifiers for its three events; the others are made up in the same shape.
IDENTIFICACIONES = {"030": "PAR29", "032": "PRE27", "033": "PAC20"}


def evento(case: str, numero: int, codigo: str, fecha: str) -> dict[str, str]:
    """One event as afacturar sends it (every value a string)."""
    return {
        "numero": str(numero),
        "codigo": codigo,
        "descripcion": DESCRIPCIONES[codigo],
        "fecha": fecha,
        "cude": sha384(f"recaudo-demo-cude-{case}-{numero}-{codigo}"),
        "identificacion_evento": IDENTIFICACIONES.get(codigo, f"EV{codigo}{numero}"),
        "emisor_nombre": "SOFTWARE SAS",
        "emisor_identificacion": "9999999",
        "receptor_nombre": "ENERGIA",
        "receptor_identificacion": "5555555",
    }


def _historia(case: str, *rows: tuple[str, str]) -> list[dict[str, str]]:
    return [evento(case, i, codigo, fecha) for i, (codigo, fecha) in enumerate(rows, start=1)]


_DOCUMENTO = (("030", "2022-11-30 21:22:17"), ("032", "2022-11-30 21:22:37"), ("033", "2022-11-30 21:23:07"))

# The scripted event histories (in the order served), by case.
HISTORIAS: dict[str, list[dict[str, str]]] = {
    "documento": _historia("documento", *_DOCUMENTO),
    "creciente": _historia(
        "creciente",
        ("030", "2026-11-02 08:10:00"),
        ("032", "2026-11-03 09:00:00"),
        ("033", "2026-11-04 10:30:00"),
        ("036", "2026-11-06 11:00:00"),
        ("037", "2026-11-09 15:45:00"),
        ("045", "2026-11-20 16:00:00"),
    ),
    "pagada": _historia(
        "pagada",
        ("030", "2026-10-01 08:00:00"),
        ("032", "2026-10-01 08:05:00"),
        ("033", "2026-10-02 12:00:00"),
        ("036", "2026-10-05 09:30:00"),
        ("045", "2026-11-15 17:20:00"),
    ),
    "larga": sorted(
        _historia(
            "larga",
            ("030", "2026-11-02 08:00:00"),
            ("032", "2026-11-02 08:00:00"),
            ("033", "2026-11-03 09:15:00"),
            ("036", "2026-11-05 10:00:00"),
            ("037", "2026-11-06 11:00:00"),
            ("038", "2026-11-07 11:30:00"),
            ("040", "2026-11-08 09:00:00"),
            ("039", "2026-11-09 10:00:00"),
            ("038", "2026-11-10 12:00:00"),
            ("041", "2026-11-10 12:00:00"),
            ("042", "2026-11-10 12:00:00"),
        ),
        key=lambda e: e["numero"],  # as text: "1", "10", "11", "2", …
    ),
}
HISTORIAS["lenta"] = HISTORIAS["codigo_texto"] = HISTORIAS["documento"]

CUFE_PATTERN = re.compile(r"[0-9a-fA-F]{96}")

LOGIN_PAGE = """<!DOCTYPE html>
<html lang="es">
<head><meta charset="utf-8"><title>afacturar - Iniciar sesión</title></head>
<body>
<form method="POST" action="/login">
<input type="hidden" name="_token" value="fake-csrf-token">
<label>Correo <input type="email" name="email"></label>
<label>Contraseña <input type="password" name="password"></label>
<button type="submit">Ingresar</button>
</form>
</body>
</html>
"""


def _redirect_page(url: str) -> str:
    """Symfony's RedirectResponse body, which Laravel sends with a 302."""
    return f"""<!DOCTYPE html>
<html>
    <head>
        <meta charset="UTF-8" />
        <meta http-equiv="refresh" content="0;url='{url}'" />

        <title>Redirecting to {url}</title>
    </head>
    <body>
        Redirecting to <a href="{url}">{url}</a>.
    </body>
</html>"""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    location: str | None = None

    @classmethod
    def json(cls, status: int, body: Any) -> Reply:
        return cls(status, json.dumps(body, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def html(cls, status: int, page: str, location: str | None = None) -> Reply:
        return cls(status, page.encode("utf-8"), "text/html; charset=UTF-8", location)


@dataclass(frozen=True)
class Peticion:
    """A request to the API as the fake read it (for tests: was it what afacturar expects?)."""

    content_type: str
    multipart: bool
    fields: dict[str, str]
    wants_json: bool
    authorization: str | None


def wants_json(accept: str | None) -> bool:
    """Laravel's ``Request::wantsJson``: the first acceptable type is ``*/json`` or ``*+json``."""
    first = (accept or "").split(",")[0].split(";")[0].strip().lower()
    return "/json" in first or "+json" in first


def parse_multipart(content_type: str, body: bytes) -> dict[str, str] | None:
    """The text fields of a ``multipart/form-data`` body (file parts left out, as Laravel puts them
    apart); ``None`` when the body is not multipart. Without ``cgi``: the ``email`` parser."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        return {}
    fields: dict[str, str] = {}
    for part in message.get_payload():
        if not isinstance(part, Message) or part.get_filename() is not None:
            continue
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        charset = part.get_content_charset() or "utf-8"
        text = payload.decode(charset, "replace") if isinstance(payload, bytes) else str(payload or "")
        fields[collapse_rfc2231_value(name)] = text
    return fields


def uniqid(moment: datetime) -> str:
    """PHP's ``uniqid()``: seconds and microseconds in hex (afacturar's ``transaccion``)."""
    seconds = moment.timestamp()
    return f"{int(seconds):08x}{moment.microsecond:05x}"


@dataclass
class FakeAfacturar:
    token: str = "fake-afacturar-token"
    latency: float = 0.0  # added to every answer of the API
    slow: float = 3.0  # how long the "lenta" case takes
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    polls: dict[str, int] = field(default_factory=dict)
    scripts: dict[str, bytes] = field(default_factory=dict)  # PUT /_historial: exact replies
    ultima: Peticion | None = None
    url: str = ""  # set by serve()
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # ---- behaviour ----

    def _ok(self, eventos: list[dict[str, str]], started: float, codigo: Any = 0, tiempo: Any = None) -> Reply:
        return Reply.json(
            200,
            {
                "codigo_error": codigo,
                "descripcion_error": "OK",
                "tiempo_ejecucion": round(time.monotonic() - started, 2) if tiempo is None else tiempo,
                "transaccion": uniqid(self.clock()),
                "resultado": eventos,
            },
        )

    def _error(self, codigo: int, descripcion: Any, started: float) -> Reply:
        return Reply.json(
            200,
            {
                "codigo_error": codigo,
                "descripcion_error": descripcion,
                "tiempo_ejecucion": round(time.monotonic() - started, 2),
                "transaccion": uniqid(self.clock()),
                "resultado": [],
            },
        )

    def historial(self, fields: dict[str, str]) -> Reply:
        """The controller: validate the form, then the CUFE's scripted history."""
        started = time.monotonic()
        cufe = fields.get("cufe", "").strip()
        if not cufe:
            return Reply.json(422, {"codigo_error": 10, "descripcion_error": ["The cufe field is required."]})
        if not CUFE_PATTERN.fullmatch(cufe):
            errores = []
            if len(cufe) != 96:
                errores.append("The cufe must be 96 characters.")
            if not re.fullmatch(r"[0-9a-fA-F]*", cufe):
                errores.append("The cufe format is invalid.")
            return Reply.json(422, {"codigo_error": 10, "descripcion_error": errores})
        cufe = cufe.lower()
        with self.lock:
            n = self.polls[cufe] = self.polls.get(cufe, 0) + 1
            script = self.scripts.get(cufe)
        if script is not None:
            return Reply(200, script)
        case = _CASE_OF.get(cufe)
        if case in ("documento", "pagada", "larga"):
            return self._ok(HISTORIAS[case], started)
        if case == "creciente":
            return self._ok(HISTORIAS[case][:n], started)
        if case == "lenta":
            time.sleep(self.slow)
            return self._ok(HISTORIAS[case], started)
        if case == "codigo_texto":
            return self._ok(HISTORIAS[case], started, codigo="0", tiempo="")
        if case == "no_autenticado":
            return Reply.json(200, {"codigo_error": 401, "descripcion_error": "Unauthenticated."})
        if case == "emisor":
            return self._error(11, "El token no está asociado al emisor de la factura", started)
        if case == "timeout":
            return self._error(28, "la operación duró más de 60 s", started)
        if case == "dian":
            return self._error(15, "Error de la DIAN: el servicio no respondió", started)
        if case == "error_500":
            return Reply.json(500, {"message": "Server Error"})
        if case == "codigo_desconocido":
            return self._error(99, "Error no documentado", started)
        if case == "descripcion_lista":
            return self._error(10, ["The lista cufe field is required."], started)
        if case == "html":
            return Reply.html(200, LOGIN_PAGE)
        return self._error(12, "Sin eventos", started)  # sin_eventos, and any CUFE not scripted

    def consulta(self, peticion: Peticion, base: str) -> Reply:
        """The whole route: the auth middleware, then the controller; Laravel's redirects when the
        request does not ask for JSON."""
        if peticion.authorization != f"Bearer {self.token}":
            if not peticion.wants_json:
                return Reply.html(302, _redirect_page(f"{base}/login"), f"{base}/login")
            return Reply.json(401, {"codigo_error": 401, "descripcion_error": "Unauthenticated."})
        reply = self.historial(peticion.fields)
        if reply.status == 422 and not peticion.wants_json:
            return Reply.html(302, _redirect_page(f"{base}/"), f"{base}/")
        return reply

    def set_historial(self, cufe: str, raw: bytes) -> None:
        json.loads(raw)  # ValueError when not JSON
        with self.lock:
            self.scripts[cufe.strip().lower()] = raw

    def calls(self, cufe: str) -> int:
        with self.lock:
            return self.polls.get(cufe.strip().lower(), 0)

    # ---- HTTP ----

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall

            def _reply(self, reply: Reply) -> None:
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    if reply.location:
                        self.send_header("Location", reply.location)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a read timeout): nothing to tell it

            def _send(self, status: int, body: Any) -> None:
                self._reply(Reply.json(status, body))

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _base(self) -> str:
                host = self.headers.get("Host")
                return f"http://{host}" if host else fake.url

            def do_POST(self) -> None:
                raw = self._body()
                path = urlsplit(self.path).path
                if path == "/_config":  # for benchmarks: {"latency": seconds}
                    try:
                        fake.latency = float(json.loads(raw or b"{}").get("latency", fake.latency))
                    except (ValueError, TypeError, AttributeError):
                        return self._send(400, {"message": "JSON inválido"})
                    return self._send(200, {"latency": fake.latency})
                if path.rstrip("/") != PATH:
                    return self._send(404, {"message": "Not Found"})
                content_type = self.headers.get("Content-Type") or ""
                fields = parse_multipart(content_type, raw)
                peticion = Peticion(
                    content_type=content_type,
                    multipart=fields is not None,
                    fields=fields or {},
                    wants_json=wants_json(self.headers.get("Accept")),
                    authorization=self.headers.get("Authorization"),
                )
                with fake.lock:
                    fake.ultima = peticion
                time.sleep(fake.latency)
                return self._reply(fake.consulta(peticion, self._base()))

            def do_PUT(self) -> None:
                raw = self._body()
                path = urlsplit(self.path).path
                if not path.startswith("/_historial/"):
                    return self._send(404, {"message": "Not Found"})
                cufe = unquote(path.removeprefix("/_historial/"))
                try:
                    fake.set_historial(cufe, raw)
                except (ValueError, UnicodeDecodeError):
                    return self._send(400, {"message": "el cuerpo no es JSON"})
                return self._send(200, {"cufe": cufe.strip().lower()})

            def do_GET(self) -> None:
                self._body()
                path = urlsplit(self.path).path
                if path.startswith("/_calls/"):  # for tests: how many polls reached the history
                    return self._send(200, {"polls": fake.calls(unquote(path.removeprefix("/_calls/")))})
                if path == "/_ultima":  # for tests: the last request to the API, as read
                    last = fake.ultima
                    return self._send(200, None if last is None else last.__dict__)
                if path == "/login":
                    return self._reply(Reply.html(200, LOGIN_PAGE))
                if path.rstrip("/") == PATH:
                    return self._send(
                        405,
                        {
                            "message": f"The GET method is not supported for route {PATH.lstrip('/')}. "
                            "Supported methods: POST."
                        },
                    )
                return self._send(404, {"message": "Not Found"})

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server, self.url = serve(Handler, host, port, "fake-afacturar")
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    shutdown = stop  # the same, by the name http.server uses
