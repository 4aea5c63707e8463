"""Sistema UNO paymentDue (seed 004) through the local stack: real HTTP through the emulated API Gateway
(its TOKEN authorizer with the ``uno`` scope, its XML gateway replies, its 10 MB request limit and Lambda's
6 MB event limit), the functions in their workers, IAM enforced, data in the stack's moto.

Tests whose outcome depends on stored dues use a school of their own, created as the admin CLI does
(``CuotasRepository`` against the stack's moto): what another test (or the banner test) posted is not theirs.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpcore
import httpx
import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = (ROOT / "tests" / "data" / "uno_paymentDue_documento.xml").read_bytes()
SCHEMA_FILE = ROOT / "layers" / "shared" / "python" / "recaudo" / "formats" / "paymentDue.xsd"
UNO_ID = re.compile(r"00000000-0000-1000-0000-\d{12}")
SIN_DATOS = "No se encontraron datos con los parámetros especificados."
XML_CT = "application/xml"
MB = 1024 * 1024

# The document's payload as the document prints it: (article, [(price, start, end), ...]), discount 5.00, tax 0.
DOCUMENT_DUES = {
    3259: [
        ("84000", "2017-01-10", "2017-02-13"),
        ("84000", "2017-02-14", "2017-03-11"),
        ("82000", "2017-03-12", "2017-04-12"),
    ],
    3245: [
        ("30000", "2017-01-10", "2017-02-13"),
        ("70000", "2017-02-14", "2017-03-11"),
        ("75000", "2017-03-12", "2017-04-12"),
        ("25000", "2017-04-13", "2017-05-13"),
    ],
}

# Our own replies are parsed by a parser that resolves nothing either.
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def xml(content: bytes) -> Any:
    return etree.fromstring(content, _SAFE)


# ---- the client ----


def segment(ctx: dict[str, int], entidad: str = "paymentDue") -> str:
    """``paymentDue;contextId=<URL-encoded JSON>``, as real clients send it."""
    return f"{entidad};contextId={quote(json.dumps(ctx), safe='')}"


@dataclass
class Uno:
    base_url: str  # before /wssb/...
    token: str

    def url(self, seg: str) -> str:
        return f"{self.base_url}/wssb/admin/{seg}"

    def headers(self, token: str | None = "") -> dict[str, str]:
        token = self.token if token == "" else token
        out = {"Content-Type": "application/xml"}
        if token is not None:
            out["Authorization"] = f"Token {token}"
        return out

    def post(
        self, ctx: dict[str, int] | str, body: bytes, token: str | None = "", timeout: float = 60
    ) -> httpx.Response:
        seg = ctx if isinstance(ctx, str) else segment(ctx)
        return httpx.post(self.url(seg), content=body, headers=self.headers(token), timeout=timeout)

    def get(self, ctx: dict[str, int] | str, token: str | None = "") -> httpx.Response:
        seg = ctx if isinstance(ctx, str) else segment(ctx)
        return httpx.get(self.url(seg), headers=self.headers(token), timeout=60)

    def raw(self, method: str, target: bytes, body: bytes = b"", token: str | None = "") -> httpcore.Response:
        """A request whose target goes on the wire byte for byte (httpx would percent-encode a ``"``):
        httpcore, the transport under httpx, with an explicit request target."""
        base = httpx.URL(self.base_url)
        assert base.port is not None
        url = httpcore.URL(scheme=b"http", host=base.host.encode(), port=base.port, target=base.raw_path + target)
        headers = [(k.encode(), v.encode()) for k, v in self.headers(token).items()]
        with httpcore.ConnectionPool() as pool:
            response = pool.request(method, url, headers=headers, content=body)
            response.read()
            return response


@dataclass(frozen=True)
class Reply:
    """What the assertions read of an httpx or httpcore response."""

    status: int
    headers: dict[str, str]
    content: bytes

    @classmethod
    def of(cls, r: httpx.Response | httpcore.Response) -> Reply:
        if isinstance(r, httpx.Response):
            return cls(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content)
        return cls(r.status, {k.decode().lower(): v.decode() for k, v in r.headers}, r.content)


def uno_error(r: httpx.Response | httpcore.Response, status: int) -> str:
    """Asserts a UNO ``<error refId><code>status</code><message/></error>`` (as the gateway or the function
    writes it), with its refId the request id API Gateway answers with; returns the message."""
    reply = Reply.of(r)
    assert reply.status == status, (reply.status, reply.content[:600])
    assert reply.headers["content-type"].startswith(XML_CT), reply.headers
    assert b"Traceback" not in reply.content and b'File "' not in reply.content, reply.content[:600]
    root = xml(reply.content)
    assert root.tag == "error", reply.content[:600]
    assert root.get("refId") == reply.headers["x-amzn-requestid"], (root.get("refId"), reply.headers)
    assert root.findtext("code") == str(status), reply.content[:600]
    assert "id" not in root.attrib and root.find("scope") is None  # UNO's error, not SIF's
    return root.findtext("message") or ""


def creates(r: httpx.Response | httpcore.Response) -> list[Any]:
    """The ``<create>`` elements of a 200 ``createResponse``."""
    reply = Reply.of(r)
    assert reply.status == 200, reply.content[:800]
    assert reply.headers["content-type"].startswith(XML_CT), reply.headers
    root = xml(reply.content)
    assert root.tag == "createResponse", reply.content[:600]
    return root.findall("creates/create")


def assert_two_creates(r: httpx.Response | httpcore.Response) -> list[str]:
    """The document's answer: exactly two creates, each 200 with a UUID-shaped id; returns the ids."""
    items = creates(r)
    assert len(items) == 2, [etree.tostring(c) for c in items]
    ids = []
    for c in items:
        assert c.get("statusCode") == "200", etree.tostring(c)
        assert UNO_ID.fullmatch(c.get("id") or ""), etree.tostring(c)
        assert c.find("error") is None
        ids.append(c.get("id"))
    assert len(set(ids)) == 2
    return ids


def read_back(uno: Uno, ctx: dict[str, int]) -> dict[int, tuple[str, list[dict[str, str]]]]:
    """GET's dues: {article: (id, [payment fields])}; the reply is valid against the payload's schema."""
    reply = uno.get(ctx)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith(XML_CT)
    root = xml(reply.content)
    schema = etree.XMLSchema(etree.fromstring(SCHEMA_FILE.read_bytes(), _SAFE))
    assert schema.validate(root), schema.error_log
    out: dict[int, tuple[str, list[dict[str, str]]]] = {}
    for due in root.iterchildren("due"):
        article = int(due.findtext("articleRefId"))
        assert article not in out
        pagos = [{child.tag: child.text for child in p} for p in due.iterfind("payments/payment")]
        out[article] = (due.get("id"), pagos)
    return out


def assert_document_dues(dues: dict[int, tuple[str, list[dict[str, str]]]], ids: list[str]) -> None:
    """Both dues of the document, with their 7 payments' exact amounts and dates, under the ids created."""
    assert sorted(dues) == [3245, 3259]
    assert sum(len(p) for _, p in dues.values()) == 7
    assert {dues[3259][0], dues[3245][0]} == set(ids)
    for article, expected in DOCUMENT_DUES.items():
        got = [
            (Decimal(p["price"]), Decimal(p["discountPercent"]), Decimal(p["taxPercent"]), p["startDate"], p["endDate"])
            for p in dues[article][1]
        ]
        assert got == [(Decimal(price), Decimal("5.00"), Decimal(0), s, e) for price, s, e in expected], got


def assert_nothing_stored(uno: Uno, ctx: dict[str, int]) -> None:
    assert uno_error(uno.get(ctx), 404) == SIN_DATOS


# ---- payloads ----

_HEAD, BODY = DOCUMENT.decode("utf-8").split("\n", 1)  # the declaration, then <paymentDue>…
assert _HEAD.startswith("<?xml") and BODY.lstrip().startswith("<paymentDue>")


def with_doctype(doctype: str, body: str = BODY) -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}\n{body}'.encode()


def padded(size: int) -> bytes:
    """The document's payload, valid, grown to ``size`` bytes by a comment (comments are dropped)."""
    filler = size - len(DOCUMENT) - len(b"<!---->")
    body = DOCUMENT.replace(b"<paymentDue>", b"<paymentDue><!--" + b"x" * filler + b"-->", 1)
    assert len(body) == size
    return body


def due_xml(article: int, pagos: list[tuple[str, str, str, str]], grade: int = 41) -> str:
    payments = "".join(
        f"<payment><price>{price}</price><discountPercent>{disc}</discountPercent><taxPercent>0</taxPercent>"
        f"<startDate>{s}</startDate><endDate>{e}</endDate></payment>"
        for price, disc, s, e in pagos
    )
    return (
        f"<due><articleRefId>{article}</articleRefId><gradeRefId>{grade}</gradeRefId><termRefId>905</termRefId>"
        f"<salesTypeRefId>45</salesTypeRefId><payments>{payments}</payments></due>"
    )


def payment_due(*dues: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<paymentDue>' + "".join(dues) + "</paymentDue>").encode()


# ---- fixtures ----


@pytest.fixture(scope="module")
def demo(recaudo) -> dict[str, Any]:
    return recaudo.state["demo"]["uno"]


@pytest.fixture(scope="module")
def uno(demo) -> Uno:
    return Uno(demo["baseUrl"], demo["token"])


def _table(recaudo, prefix: str) -> str:
    (name,) = [v for k, v in recaudo.state["tables"].items() if k.startswith(prefix)]
    return name


@pytest.fixture(scope="module")
def repos(recaudo) -> tuple[Any, Any]:
    from recaudo.data.credentials import CredentialsRepository
    from recaudo.data.cuotas import CuotasRepository

    ddb = recaudo.aws("dynamodb")
    return (
        CuotasRepository(_table(recaudo, "DataCuotas"), ddb),
        CredentialsRepository(_table(recaudo, "DataCredentials"), ddb),
    )


@pytest.fixture
def new_school(repos, demo) -> Callable[..., dict[str, int]]:
    """A school of the demo business of its own, member of the demo year, with the demo's priced articles."""
    from recaudo.models.cuotas import Contexto

    cuotas, _ = repos

    def make(priced: bool = True) -> dict[str, int]:
        business, year = demo["context"]["businessId"], demo["context"]["schoolYearId"]
        school = 10_000_000 + uuid.uuid4().int % 10**9
        cuotas.crear_colegio(business, school, f"Colegio e2e {school}", [year])
        if priced:
            for article in demo["pricedArticles"]:
                cuotas.configurar_precio(Contexto(business, school, year), article)
        return {"businessId": business, "schoolId": school, "schoolYearId": year}

    return make


@pytest.fixture(scope="module")
def business_11(repos) -> str:
    """Another business (11) with its own token, created as the admin CLI does: its token."""
    from ops.cuotas import crear_empresa

    cuotas, credentials = repos
    now = datetime.now(UTC)
    if cuotas.empresa(11) is not None:  # another test of the session made it: a token of our own
        return credentials.add_business_token(11, now)
    return crear_empresa(cuotas, credentials, 11, "Empresa e2e 11", now)


class Listener:
    """A loopback TCP server that records every connection (and answers nothing useful)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, address = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(address)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


class Fifo:
    """A named pipe the test holds the writing end of: opening it for reading (what a parser that loads a
    file does) unblocks the writer, and is recorded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.opened = threading.Event()
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()

    def _write(self) -> None:
        fd = os.open(self.path, os.O_WRONLY)  # blocks until someone opens it for reading
        self.opened.set()
        try:
            os.write(fd, b'<!ENTITY x "leido">\n')
        except OSError:
            pass
        finally:
            os.close(fd)

    def close(self) -> None:
        if not self.opened.is_set():  # release the writer: open the reading end ourselves
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            self._thread.join(2)
            os.close(fd)
        self._thread.join(2)


# ---- the document, as is ----


def test_given_the_demo_business_when_the_documents_payload_is_posted_as_is_then_two_creates_and_the_read_back(
    uno, demo
):
    # Given the demo business's token and the document's context (business 10, school 6498, year 64)
    ctx = demo["context"]
    assert ctx == {"businessId": 10, "schoolId": 6498, "schoolYearId": 64}
    # When the document's payload is posted byte for byte to paymentDue;contextId=<URL-encoded JSON>
    reply = uno.post(ctx, DOCUMENT)
    # Then 200 application/xml, one create per <due> (2), each statusCode 200 with a UUID-shaped id
    ids = assert_two_creates(reply)
    assert reply.content.startswith(b"<?xml")
    # and the read-back holds both dues with their 7 payments, exact amounts, under those ids
    dues = read_back(uno, ctx)
    assert_document_dues({a: dues[a] for a in (3245, 3259)}, ids)


def test_given_a_fresh_school_when_the_document_is_posted_then_exactly_its_two_dues_and_a_repost_keeps_the_ids(
    uno, new_school
):
    # Given a school of its own, with the document's articles priced and nothing stored yet
    ctx = new_school()
    assert_nothing_stored(uno, ctx)
    # When the document's payload is posted
    ids = assert_two_creates(uno.post(ctx, DOCUMENT))
    # Then GET answers exactly the document's two dues, 7 payments, exact amounts
    assert_document_dues(read_back(uno, ctx), ids)
    # When it is posted again unchanged
    again = assert_two_creates(uno.post(ctx, DOCUMENT))
    # Then the same ids, in the same order, and still exactly two dues
    assert again == ids
    assert_document_dues(read_back(uno, ctx), ids)


def test_given_a_batch_with_bad_items_when_posted_then_200_and_each_due_carries_its_own_status(uno, new_school, demo):
    # Given a fresh school and a batch: a good due, an unpriced article, overlapping ranges, a gap,
    # and a repeat of the first due's key
    ctx = new_school()
    good = due_xml(3259, [("100", "5.00", "2017-01-01", "2017-01-31"), ("100", "5.00", "2017-02-01", "2017-02-28")])
    unpriced = due_xml(demo["unpricedArticle"], [("100", "0", "2017-01-01", "2017-01-31")])
    overlap = due_xml(3245, [("1", "0", "2017-01-01", "2017-01-31"), ("1", "0", "2017-01-31", "2017-02-28")])
    gap = due_xml(3260, [("1", "0", "2017-01-01", "2017-01-30"), ("1", "0", "2017-02-01", "2017-02-28")])
    outside = due_xml(3245, [("1", "0", "2016-12-31", "2017-01-31")], grade=42)
    # When the batch is posted
    items = creates(uno.post(ctx, payment_due(good, unpriced, overlap, gap, outside, good)))
    # Then the envelope is 200 with one create per due, in order, each with its own status
    assert [c.get("statusCode") for c in items] == ["200", "404", "400", "400", "400", "409"]
    assert UNO_ID.fullmatch(items[0].get("id"))
    assert all(c.get("id") is None for c in items[1:])  # a refused due has no id
    messages = [c.findtext("error/message") or "" for c in items[1:]]
    assert [c.findtext("error/code") for c in items[1:]] == ["404", "400", "400", "400", "409"]
    assert "colegio_articulo_precio" in messages[0] and str(demo["unpricedArticle"]) in messages[0]
    assert "superponen" in messages[1]
    assert "contiguos" in messages[2]
    assert "antes del ciclo escolar" in messages[3]
    assert "repite" in messages[4] and re.search(r"\b1\b", messages[4]), messages[4]  # names the first one
    # and only the good due was stored
    dues = read_back(uno, ctx)
    assert list(dues) == [3259] and dues[3259][0] == items[0].get("id")


def test_given_money_with_cents_when_posted_then_the_read_back_is_the_same_decimal(uno, new_school):
    # Given a due priced 84000.10 with a 5.25 % discount and a 16.00 % tax (decimals, never floats)
    ctx = new_school()
    body = payment_due(
        due_xml(3259, [("84000.10", "5.25", "2017-01-10", "2017-02-13")]).replace(
            "<taxPercent>0<", "<taxPercent>16.00<"
        )
    )
    # When it is posted and read back
    assert len(creates(uno.post(ctx, body))) == 1
    (pago,) = read_back(uno, ctx)[3259][1]
    # Then the amounts are exactly the decimals sent (whatever trailing zeros the read-back writes)
    assert Decimal(pago["price"]) == Decimal("84000.10")
    assert Decimal(pago["discountPercent"]) == Decimal("5.25")
    assert Decimal(pago["taxPercent"]) == Decimal("16.00")
    for name in ("price", "discountPercent", "taxPercent"):  # plain decimals: no exponent, no float noise
        assert re.fullmatch(r"\d+(\.\d{1,2})?", pago[name]), pago


# ---- the route through the gateway ----


def test_given_the_context_url_encoded_or_raw_when_posted_then_the_matrix_parameter_reaches_the_function(
    uno, new_school
):
    # Given three fresh schools
    encoded, raw, zoned = new_school(), new_school(), new_school()
    # When the context is sent URL-encoded (spaces included), as real clients do
    assert_two_creates(uno.post(encoded, DOCUMENT))
    # and as raw JSON, its '"' and '{' unencoded on the wire (httpcore: httpx would encode them)
    target = f"/wssb/admin/paymentDue;contextId={json.dumps(raw, separators=(',', ':'))}".encode()
    assert b'"' in target and b"{" in target
    assert_two_creates(uno.raw("POST", target, DOCUMENT))
    # and with SIF's zoneId before the context
    assert_two_creates(uno.post(f"paymentDue;zoneId=DEFAULT;{segment(zoned)[len('paymentDue;') :]}", DOCUMENT))
    # Then each school got the document's dues (the path segment reached the function and was decoded)
    for ctx in (encoded, raw, zoned):
        assert sorted(read_back(uno, ctx)) == [3245, 3259]
    # and GET with the raw JSON reads them too
    got = uno.raw("GET", target)
    assert got.status == 200 and xml(got.content).tag == "paymentDue"


@pytest.mark.parametrize("how", ["raw", "url-encoded"])
def test_given_the_documents_malformed_example_when_posted_then_400_xml_naming_the_problem(uno, how):
    # Given the document's own example call: a space after '=', and ';' instead of ':' after "businessId"
    context = ' {"businessId";10,"schoolId":6498,"schoolYearId":64}'
    # When it is sent (raw: the '"' unencoded, the space as %20; or fully URL-encoded, its ';' as %3B)
    if how == "raw":
        reply = uno.raw("POST", b"/wssb/admin/paymentDue;contextId=%20" + context.strip().encode(), DOCUMENT)
    else:
        reply = uno.post(f"paymentDue;contextId={quote(context, safe='')}", DOCUMENT)
    # Then 400, UNO's XML error, its message naming the contextId and what is wrong with it
    message = uno_error(reply, 400)
    assert "contextId" in message
    assert ("mal formado" in message and "':'" in message) if how == "raw" else "JSON" in message


@pytest.mark.parametrize(
    ("context", "status", "message"),
    [
        ({"schoolId": 6498, "schoolYearId": 64}, 400, "Debe especificar una empresa (businessId)."),
        ({"businessId": 10, "schoolYearId": 64}, 400, "Debe especificar un colegio (schoolId)."),
        ({"businessId": 10, "schoolId": 6498}, 400, "Debe especificar un ciclo para consultar."),
        (
            {"businessId": 10, "schoolId": 999_999_999, "schoolYearId": 64},
            404,
            "No existe la entidad con el id especificado.",
        ),
    ],
    ids=["no-business", "no-school", "no-year", "unknown-school"],
)
def test_given_an_incomplete_or_unknown_context_when_posted_then_the_documents_error(uno, context, status, message):
    # Given a context missing one id, or naming a school the business does not have
    # When the document's payload is posted with it
    reply = uno.post(context, DOCUMENT)
    # Then the document's own status and message
    assert uno_error(reply, status) == message


def test_given_no_context_or_another_entity_when_posted_then_400_or_404_xml(uno, demo):
    # Given the route without a matrix parameter, and an entity UNO does not have
    # When posted
    missing = uno.post("paymentDue", DOCUMENT)
    other = uno.post(segment(demo["context"], "paymentDues"), DOCUMENT)
    # Then the function answers with UNO's errors
    assert uno_error(missing, 400) == "Debe especificar una empresa (businessId)."
    assert "Recurso desconocido" in uno_error(other, 404)


def test_given_an_unknown_route_when_requested_then_the_gateways_404_xml(uno):
    # Given a path the API has no resource for (two segments below /wssb/admin)
    # When it is requested, with or without a token
    for reply in (uno.post("x/y", DOCUMENT), uno.get("x/y", token=None)):
        # Then API Gateway itself answers 404 with UNO's XML error
        assert reply.headers["x-amzn-errortype"] == "MISSING_AUTHENTICATION_TOKEN"
        assert "Recurso desconocido" in uno_error(reply, 404)


def test_given_no_token_when_posted_then_401_xml_with_the_request_id_as_ref_id(uno, new_school):
    # Given a fresh school and no Authorization header
    ctx = new_school()
    # When the document is posted
    reply = uno.post(ctx, DOCUMENT, token=None)
    # Then the gateway's 401, UNO's XML, its refId the x-amzn-RequestId header (checked in uno_error)
    assert reply.headers["x-amzn-errortype"] == "UNAUTHORIZED"
    assert "No autenticado" in uno_error(reply, 401)
    assert uuid.UUID(reply.headers["x-amzn-requestid"])
    # and a token that is not one is refused alike
    assert "No autenticado" in uno_error(uno.post(ctx, DOCUMENT, token="nokey.nosecret"), 401)
    assert_nothing_stored(uno, ctx)


def test_given_a_radian_tenants_token_when_posted_then_401_its_scope_does_not_open_uno(recaudo, uno, new_school):
    # Given a valid token of another API (the demo RADIAN tenant's)
    radian_token = recaudo.state["demo"]["radian"]["token"]
    ctx = new_school()
    # When it is used on the UNO API
    reply = uno.post(ctx, DOCUMENT, token=radian_token)
    # Then 401: a token opens only its own scope
    assert reply.headers["x-amzn-errortype"] == "UNAUTHORIZED"
    uno_error(reply, 401)
    assert_nothing_stored(uno, ctx)


def test_given_another_business_token_when_it_posts_business_10s_context_then_403_xml_and_nothing_stored(
    uno, new_school, business_11
):
    # Given business 11 with its own token, and a fresh school of business 10
    ctx = new_school()
    # When business 11 posts (and reads) business 10's context
    post = uno.post(ctx, DOCUMENT, token=business_11)
    get = uno.get(ctx, token=business_11)
    # Then the function refuses both with 403 and UNO's XML
    assert uno_error(post, 403) == "El token no autoriza la empresa especificada (businessId)."
    assert uno_error(get, 403) == "El token no autoriza la empresa especificada (businessId)."
    # and nothing was stored for business 10's school
    assert_nothing_stored(uno, ctx)
    # and business 11's own token works for its own (unknown) school: 404, not 401/403
    own = {"businessId": 11, "schoolId": ctx["schoolId"], "schoolYearId": 64}
    assert uno_error(uno.post(own, DOCUMENT, token=business_11), 404) == "No existe la entidad con el id especificado."


# ---- the attack corpus ----

_BILLION_LAUGHS = (
    '<!DOCTYPE paymentDue [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">' for i in range(1, 10))
    + "]>"
)
_QUADRATIC_ENTITY = "A" * 100_000


def _attacks() -> list[Any]:
    in_price = BODY.replace("<price>84000</price>", "<price>&x;84000</price>", 1)
    cases = [
        (
            "xxe-file",
            with_doctype('<!DOCTYPE paymentDue [<!ENTITY x SYSTEM "file:///etc/passwd">]>', in_price),
            400,
            "DOCTYPE",
        ),
        ("billion-laughs", with_doctype(_BILLION_LAUGHS, in_price.replace("&x;", "&lol9;")), 400, ""),
        (
            "quadratic-blowup",
            with_doctype(
                f'<!DOCTYPE paymentDue [<!ENTITY a "{_QUADRATIC_ENTITY}">]>',
                in_price.replace("&x;", "&a;" * 15_000),
            ),
            400,
            "",
        ),
        ("empty-doctype", with_doctype("<!DOCTYPE paymentDue>"), 400, "DOCTYPE"),
        (
            "deep-nesting-50000",
            ("<paymentDue>" + "<due>" * 50_000 + "</due>" * 50_000 + "</paymentDue>").encode(),
            400,
            "mal formado",
        ),
        ("3-MB-payload", padded(3 * MB), 413, "2 MB"),
        (
            "declared-utf8-latin1-bytes",
            ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- cuotas del año -->\n' + BODY).encode("latin-1"),
            400,
            "mal formado",
        ),
        ("unknown-encoding", ('<?xml version="1.0" encoding="x-bogus"?>\n' + BODY).encode(), 400, ""),
        (
            "namespace",
            BODY.replace("<paymentDue>", '<paymentDue xmlns="urn:uno">', 1).encode(),
            400,
            "espacio de nombres",
        ),
        ("float-price", BODY.replace("<price>84000</price>", "<price>8.4E4</price>", 1).encode(), 400, "price"),
        (
            "xinclude",
            BODY.replace(
                "<payments>",
                '<payments><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>',
                1,
            ).encode(),
            400,
            "paymentDue.xsd",
        ),
        ("empty-body", b"", 400, "Falta el payload"),
        ("not-xml", b"businessId=10&schoolId=6498", 400, "mal formado"),
    ]
    return [pytest.param(body, status, text, id=name) for name, body, status, text in cases]


@pytest.mark.parametrize(("body", "status", "text"), _attacks())
def test_given_a_hostile_payload_when_posted_then_an_xml_error_quickly_and_nothing_stored(
    uno, new_school, body, status, text
):
    # Given a fresh school (priced, nothing stored) and a hostile payload
    ctx = new_school()
    # When it is posted through the gateway
    started = time.monotonic()
    reply = uno.post(ctx, body)
    elapsed = time.monotonic() - started
    # Then UNO's XML error with the expected status (never a 500/502, never a trace), answered quickly
    message = uno_error(reply, status)
    assert text in message, message
    assert elapsed < 5, elapsed
    assert "root:" not in message and "lollol" not in message  # nothing read or expanded is echoed
    # and nothing was stored
    assert_nothing_stored(uno, ctx)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE paymentDue [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/x">]>',
        '<!DOCTYPE paymentDue SYSTEM "http://127.0.0.1:{port}/ext.dtd">',
        '<!DOCTYPE paymentDue [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/pe.dtd"> %p;]>',
    ],
    ids=["general-entity", "external-dtd", "parameter-entity"],
)
def test_given_an_xxe_to_the_network_when_posted_then_400_and_nothing_connects(uno, new_school, listener, doctype):
    # Given a fresh school, and a loopback port nothing else uses, listening and recording connections
    ctx = new_school()
    body = with_doctype(doctype.format(port=listener.port), BODY.replace("<price>84000<", "<price>&x;84000<", 1))
    # When a payload whose DOCTYPE points there is posted
    reply = uno.post(ctx, body)
    # Then 400 XML, and no connection was ever made to that port
    uno_error(reply, 400)
    time.sleep(0.3)
    assert listener.connections == []
    assert_nothing_stored(uno, ctx)


@pytest.mark.parametrize(
    "doctype",
    ['<!DOCTYPE paymentDue SYSTEM "{path}">', '<!DOCTYPE paymentDue [<!ENTITY % p SYSTEM "file://{path}"> %p;]>'],
    ids=["external-dtd", "parameter-entity"],
)
def test_given_a_doctype_naming_a_local_file_when_posted_then_the_file_is_never_opened(
    uno, new_school, tmp_path, doctype
):
    # (Regression: with collect_ids=False in its parser, lxml opened the file despite load_dtd=False.)
    # Given a fresh school, and a local file (a named pipe whose writing end the test holds: opening it
    # is recorded)
    ctx = new_school()
    fifo = Fifo(tmp_path / "evil.dtd")
    try:
        # When a payload whose DOCTYPE names it is posted
        reply = uno.post(ctx, with_doctype(doctype.format(path=fifo.path)))
        # Then 400 XML, and the function never opened the file
        uno_error(reply, 400)
        time.sleep(0.3)
        assert not fifo.opened.is_set(), "the parser opened the local file the DOCTYPE names"
    finally:
        fifo.close()
    assert_nothing_stored(uno, ctx)


def test_given_a_parameter_entity_naming_dev_zero_when_posted_then_400_quickly(uno, new_school):
    # (Regression: with collect_ids=False in its parser, lxml read it until the function timed out.)
    # Given a fresh school, and a 120-byte DOCTYPE whose parameter entity names an endless local file
    ctx = new_school()
    body = with_doctype('<!DOCTYPE paymentDue [<!ENTITY % p SYSTEM "file:///dev/zero"> %p;]>')
    # When it is posted
    started = time.monotonic()
    reply = uno.post(ctx, body, timeout=60)
    elapsed = time.monotonic() - started
    # Then a 400 XML at once (not the function's time-out, answered as a 5xx after 10 s)
    assert reply.status_code == 400 and elapsed < 5, (reply.status_code, round(elapsed, 1), reply.text[:300])
    uno_error(reply, 400)
    assert_nothing_stored(uno, ctx)


def test_given_an_11_mb_payload_when_posted_then_the_gateways_413_xml(uno, new_school):
    # Given a fresh school, and a payload over API Gateway's 10 MB limit (the document, valid, padded)
    ctx = new_school()
    body = padded(11 * MB)
    # When it is posted
    reply = uno.post(ctx, body)
    # Then API Gateway itself refuses it: 413 with UNO's XML
    assert reply.headers["x-amzn-errortype"] == "REQUEST_TOO_LARGE"
    assert "demasiado grande" in uno_error(reply, 413)
    assert_nothing_stored(uno, ctx)


def test_given_a_5_mb_payload_when_posted_then_the_gateways_xml_error_naming_the_2_mb_limit(uno, new_school):
    # Given a fresh school, and a payload under API Gateway's 10 MB whose event (base64) is over Lambda's 6 MB
    ctx = new_school()
    body = padded(5 * MB)
    # When it is posted
    reply = uno.post(ctx, body)
    # Then the gateway's INTEGRATION_FAILURE reply, customised (infra/stack.py): UNO's XML naming the 2 MB
    # limit, no trace
    assert reply.headers["x-amzn-errortype"] == "INTEGRATION_FAILURE"
    assert "2 MB" in uno_error(reply, 502)
    assert_nothing_stored(uno, ctx)


def test_given_a_payload_just_under_2_mb_when_posted_then_it_is_accepted(uno, new_school):
    # Given the document, valid, padded to just under the function's 2 MB limit
    ctx = new_school()
    # When it is posted
    reply = uno.post(ctx, padded(2 * MB - 1))
    # Then it is parsed and stored like the document itself (the limit is not off by much)
    assert_two_creates(reply)


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda: DOCUMENT.decode().encode("utf-16"), id="utf16-bom-as-is"),
        pytest.param(
            lambda: DOCUMENT.decode().replace('"utf-8"', '"UTF-16"').encode("utf-16"), id="utf16-bom-declared"
        ),
        pytest.param(lambda: b"\xef\xbb\xbf" + DOCUMENT, id="utf8-bom"),
        pytest.param(
            lambda: (
                DOCUMENT.decode()
                .replace('"utf-8"', '"ISO-8859-1"')
                .replace("<paymentDue>", "<paymentDue><!-- año -->")
                .encode("latin-1")
            ),
            id="latin1-declared",
        ),
    ],
)
def test_given_the_documents_payload_in_another_encoding_when_posted_then_accepted(uno, new_school, encode):
    # Given a fresh school and the document's payload re-encoded (a BOM or the declaration says how)
    ctx = new_school()
    body = encode()
    assert body != DOCUMENT
    # When it is posted
    reply = uno.post(ctx, body)
    # Then it is read as sent: 200, two creates, the same dues
    ids = assert_two_creates(reply)
    assert_document_dues(read_back(uno, ctx), ids)
