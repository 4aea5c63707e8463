"""RADIAN through the local stack: a tenant's token through the real authorizer, the schedule fired
by the gateway, the Standard state machine's Map run by moto with the pollers in our workers, the
fake afacturar on loopback (its token in Secrets Manager), IAM enforced, events read off the bus."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest


@pytest.fixture(scope="module")
def radian(recaudo):
    return recaudo.state["demo"]["radian"]


class Tenant:
    def __init__(self, base_url: str, token: str, name: str = "") -> None:
        self.name = name
        self.url = f"{base_url}/radian/v1/facturas"
        self.headers = {"Authorization": f"Token {token}"}

    def register(self, *cufes: str) -> httpx.Response:
        return httpx.post(self.url, json={"facturas": [{"cufe": c} for c in cufes]}, headers=self.headers)

    def get(self, cufe: str) -> httpx.Response:
        return httpx.get(f"{self.url}/{cufe}", headers=self.headers)

    def invoice(self, cufe: str) -> dict:
        reply = self.get(cufe)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def delete(self, cufe: str) -> httpx.Response:
        return httpx.delete(f"{self.url}/{cufe}", headers=self.headers)

    def poll_now(self, cufe: str) -> httpx.Response:
        return httpx.post(f"{self.url}/{cufe}/sondeo", headers=self.headers)


def new_tenant(recaudo, radian) -> Tenant:
    """A tenant of its own, created as the admin CLI does: what other tests tracked is not its."""
    from recaudo.data.credentials import CredentialsRepository

    credentials = next(v for k, v in recaudo.state["tables"].items() if k.startswith("DataCredentials"))
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    token = CredentialsRepository(credentials, recaudo.aws("dynamodb")).create_tenant(
        name, "Cliente e2e", datetime.now(UTC)
    )
    return Tenant(radian["baseUrl"], token, name)


@pytest.fixture(scope="module")
def tenant(recaudo, radian):
    return new_tenant(recaudo, radian)


def machine_arn(recaudo) -> str:
    (arn,) = [a for lid, a in recaudo.state["stateMachines"].items() if lid.startswith("RadianPollingRun")]
    return arn


def wait_execution(recaudo, name: str, timeout: float = 60) -> dict:
    sfn = recaudo.aws("stepfunctions")
    arn = machine_arn(recaudo).replace(":stateMachine:", ":execution:") + f":{name}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING":
            return execution
        time.sleep(0.3)
    raise AssertionError(f"execution {name} still running")


def run_schedule(recaudo, radian) -> dict | None:
    """Fire the schedule now and wait for its run (None: nothing was due). A scheduled run still
    going makes a tick start nothing, so wait it out."""
    deadline = time.monotonic() + 60
    while True:
        reply = httpx.post(f"{radian['baseUrl']}/_schedules/{radian['schedule']}/run", timeout=30)
        assert reply.status_code == 200, reply.text
        result = reply.json()["result"]
        if result["iniciado"]:
            name = result["ejecucion"].rsplit(":", 1)[-1]
            return wait_execution(recaudo, name)
        if result["motivo"] == "ninguna factura vence":
            return None
        assert "en curso" in result["motivo"] and time.monotonic() < deadline, result
        time.sleep(0.5)


@pytest.fixture(scope="module")
def status_events(recaudo):
    """RADIAN's events, archived by a rule to a queue the tests read."""
    sqs, queue = recaudo.aws("sqs"), recaudo.bus_queue("recaudo.radian")

    def read(seconds: float = 3.0) -> list[dict]:
        out: list[dict] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            ):
                out.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return out

    return read


def test_given_tracked_invoices_when_the_schedule_fires_then_badges_derived_and_one_event_per_change(
    recaudo, radian, tenant, status_events
):
    cufes = radian["cufes"]
    status_events(0.5)  # drain what earlier tests published
    # Given four invoices tracked, the first one written in upper case
    names = ("documento", "pagada", "sin_eventos", "larga")
    reply = tenant.register(cufes["documento"].upper(), *(cufes[n] for n in names[1:]))
    assert reply.status_code in (200, 201), reply.text
    # When the schedule fires (the gateway's POST /_schedules/<name>/run) and its run ends
    execution = run_schedule(recaudo, radian)
    # Then the run succeeded, and each invoice shows DIAN's badge set
    assert execution is not None and execution["status"] == "SUCCEEDED", execution
    documento = tenant.invoice(cufes["documento"])
    assert documento["insignias"] == ["Factura Electrónica", "Título Valor"]
    assert [e["codigo"] for e in documento["eventos"]] == ["030", "032", "033"]
    assert documento["seguimiento"]["activo"] is True
    pagada = tenant.invoice(cufes["pagada"])
    assert pagada["insignias"] == ["Título Valor", "Disponibilizada", "Pagada"]  # no FE once disponibilizada
    assert pagada["seguimiento"]["activo"] is False and pagada["seguimiento"]["motivoFin"] == "PAGADA"
    sin_eventos = tenant.invoice(cufes["sin_eventos"])
    assert sin_eventos["insignias"] == ["Factura Electrónica"]
    assert sin_eventos["seguimiento"]["ultimoResultado"] == "SIN_EVENTOS" and sin_eventos["eventos"] == []
    larga = tenant.invoice(cufes["larga"])
    assert [int(e["numero"]) for e in larga["eventos"]] == sorted(int(e["numero"]) for e in larga["eventos"])
    assert "Limitada" not in larga["insignias"]  # the 042 sorted last (numero 11 after 10) cancels the 041
    # and exactly one InvoiceStatusChanged per invoice whose badges changed, none for the others
    changed = [
        e
        for e in status_events()
        if e["detail-type"] == "InvoiceStatusChanged" and e["detail"]["tenant"] == tenant.name
    ]
    by_cufe = {e["detail"]["cufe"]: e["detail"] for e in changed}
    assert len(changed) == len(by_cufe) == 3, changed
    assert set(by_cufe) == {cufes["documento"], cufes["pagada"], cufes["larga"]}
    assert by_cufe[cufes["documento"]]["antes"] == ["Factura Electrónica"]
    assert by_cufe[cufes["documento"]]["despues"] == ["Factura Electrónica", "Título Valor"]
    assert by_cufe[cufes["documento"]]["tenant"] == tenant.name

    # When the schedule fires again at once: nothing is due (each next poll is an hour away, or stopped)
    assert run_schedule(recaudo, radian) is None
    # and a poll of the document's invoice now finds nothing new at afacturar
    body = tenant.poll_now(cufes["documento"]).json()
    assert wait_execution(recaudo, body["ejecucion"])["status"] == "SUCCEEDED"
    # Then no event: the badges did not change, and the events are still stored once each
    assert [e for e in status_events(1.5) if e["detail"]["tenant"] == tenant.name] == []
    again = tenant.invoice(cufes["documento"])
    assert len(again["eventos"]) == 3 and again["version"] == documento["version"] + 1


def test_given_a_growing_history_when_polled_now_repeatedly_then_each_change_is_seen_once(
    recaudo, radian, tenant, status_events
):
    # Given an invoice whose history at afacturar grows between polls (scripted on the fake, step by step,
    # so a poll by the stack's own timer in between changes nothing)
    cufe = uuid.uuid4().hex * 3
    life = [("030", "2026-11-02 08:00:00"), ("032", "2026-11-02 08:05:00"), ("033", "2026-11-03 09:00:00")]
    life += [("036", "2026-11-05 10:00:00"), ("037", "2026-11-06 11:00:00"), ("045", "2026-11-20 16:00:00")]
    tenant.register(cufe)
    status_events(0.5)
    seen: list[list[str]] = []
    for step in range(1, len(life) + 1):
        events = [
            {"numero": str(n), "codigo": codigo, "fecha": fecha, "cude": f"{n:02d}{cufe[2:]}"}
            for n, (codigo, fecha) in enumerate(life[:step], start=1)
        ]
        reply = {"codigo_error": 0, "descripcion_error": "OK", "resultado": events}
        assert httpx.put(f"{radian['fakeUrl']}/_historial/{cufe}", json=reply).status_code == 200
        # When the tenant asks for a poll now
        answer = tenant.poll_now(cufe)
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["resultado"] == "SONDEO_SOLICITADO" and body["consultar"].endswith(cufe)
        assert wait_execution(recaudo, body["ejecucion"])["status"] == "SUCCEEDED"
        seen.append(tenant.invoice(cufe)["insignias"])
    # Then the badges moved as the history grew: título valor at the third event, then the rest
    assert seen[0] == seen[1] == ["Factura Electrónica"]
    assert seen[2] == ["Factura Electrónica", "Título Valor"]
    assert seen[3] == ["Título Valor", "Disponibilizada"]
    assert seen[4] == ["Título Valor", "Disponibilizada", "Endosada"]
    assert seen[5] == ["Título Valor", "Disponibilizada", "Endosada", "Pagada"]
    # and one event per change (four), in order of version
    changes = [e["detail"] for e in status_events() if e["detail"]["cufe"] == cufe]
    assert [c["despues"] for c in sorted(changes, key=lambda c: c["version"])] == [sorted(s) for s in seen[2:]]
    # and polling stopped once paid
    assert tenant.invoice(cufe)["seguimiento"]["motivoFin"] == "PAGADA"


def test_given_afacturar_refusing_our_token_when_polled_then_the_run_stops_and_the_alarm_metric_is_counted(
    recaudo, radian, tenant
):
    # Given an invoice whose every poll afacturar answers 401 (scripted on the fake)
    cufe = radian["cufes"]["no_autenticado"]
    tenant.register(cufe)
    try:
        # When it is polled
        body = tenant.poll_now(cufe).json()
        execution = wait_execution(recaudo, body["ejecucion"])
        # Then the run failed on the refused token (not retried), the invoice kept its state
        assert execution["status"] == "FAILED"
        history = recaudo.aws("stepfunctions").get_execution_history(executionArn=execution["executionArn"])
        assert "AfacturarNoAutenticado" in json.dumps(history["events"], default=str)
        invoice = tenant.invoice(cufe)
        assert invoice["version"] == 1 and "ultimoSondeo" not in invoice["seguimiento"]
        # and the poller counted the alarm's metric (an EMF record in its log, what CloudWatch reads)
        assert re.search(r'"Name":\s*"AfacturarNoAutenticado"', recaudo.logs())
    finally:
        assert tenant.delete(cufe).status_code == 200  # later runs must not stop on it


def test_given_a_reply_scripted_on_the_fake_then_the_poll_reads_it_as_afacturar_sends_it(recaudo, radian, tenant):
    # Given a CUFE whose reply a test scripts: a string code, a list description, numero "10" after "2"
    cufe = uuid.uuid4().hex * 3
    eventos = [
        {"numero": str(n), "codigo": c, "fecha": "2026-01-05 10:00:00", "cude": f"{n:096x}"}
        for n, c in ((10, "034"), (2, "032"), (1, "030"))
    ]
    scripted = {"codigo_error": "0", "descripcion_error": ["OK"], "tiempo_ejecucion": "", "resultado": eventos}
    assert httpx.put(f"{radian['fakeUrl']}/_historial/{cufe}", json=scripted).status_code == 200
    tenant.register(cufe)
    # When polled now
    body = tenant.poll_now(cufe).json()
    assert wait_execution(recaudo, body["ejecucion"])["status"] == "SUCCEEDED"
    # Then título valor by tacit acceptance (034), events in numero order as integers
    invoice = tenant.invoice(cufe)
    assert invoice["insignias"] == ["Factura Electrónica", "Título Valor"]
    assert [e["numero"] for e in invoice["eventos"]] == ["1", "2", "10"]


def test_given_two_tenants_and_a_bank_then_each_token_opens_only_its_own(recaudo, radian, tenant):
    # Given a second tenant, and the demo bank's token
    other = new_tenant(recaudo, radian)
    cufe = radian["cufes"]["documento"]
    tenant.register(cufe)
    # Then the other tenant cannot read, poll or delete the first one's invoice, nor list it
    assert other.get(cufe).status_code == 404 and other.get(cufe).json()["codigo"] == "FACTURA_NO_ENCONTRADA"
    assert other.poll_now(cufe).status_code == 404
    assert other.delete(cufe).status_code == 404
    assert httpx.get(other.url, headers=other.headers).json()["facturas"] == []
    assert tenant.get(cufe).status_code == 200
    # and the bank's token, or none, is refused in RADIAN's dialect
    bank = Tenant(radian["baseUrl"], recaudo.state["demo"]["bank"]["token"])
    for reply in (bank.get(cufe), httpx.get(f"{tenant.url}/{cufe}")):
        assert reply.status_code == 401 and reply.json()["codigo"] == "NO_AUTENTICADO"


def test_given_hostile_requests_then_each_is_refused_in_the_dialect_and_nothing_is_stored(radian, tenant):
    json_headers = tenant.headers | {"Content-Type": "application/json"}
    cases = {
        "deep": b"[" * 100_000 + b"]" * 100_000,
        "latin1": '{"facturas":[{"cufe":"ñ"}]}'.encode("latin-1"),
        "truncated": b'{"facturas":[{"cufe":"',
        "list": b"[]",
        "short cufe": json.dumps({"facturas": [{"cufe": "ab" * 47}]}).encode(),
    }
    for name, body in cases.items():
        reply = httpx.post(tenant.url, content=body, headers=json_headers)
        assert reply.status_code == 400, (name, reply.text)
        assert reply.json()["codigo"] == "SOLICITUD_INVALIDA", name
        assert "Traceback" not in reply.text
    huge = httpx.post(tenant.url, content=b"{" + b" " * (11 * 1024 * 1024) + b"}", headers=json_headers)
    assert huge.status_code == 413 and huge.json()["codigo"] == "SOLICITUD_INVALIDA"
    assert httpx.get(f"{tenant.url}/{'z' * 96}", headers=tenant.headers).status_code == 400
