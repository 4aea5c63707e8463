"""RADIAN under moto (real DynamoDB semantics): the repository (registration, events by CUDE, deletion,
pages bound to the tenant, the polling index's slices), pollers racing on one invoice, and the tracking
API's handlers in-process with the authorizer's tenant, every hostile input a 400 in the API's dialect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from radian import consultar as consultar_handler
from radian import eliminar as eliminar_handler
from radian import listar as listar_handler
from radian import registrar as registrar_handler
from radian import seguimiento
from radian import sondear_ahora as sondear_ahora_handler
from radian.deps import SeguimientoDeps, SondeoDeps
from radian.sondeo import Resumen, aplicar

from recaudo.clients.radian import ResultadoSondeo, Sondeo
from recaudo.data.radian import FacturasRepository, shard_de
from recaudo.models.radian import (
    CambioEstado,
    Evento,
    Factura,
    Insignia,
    Metadatos,
    PoliticaSondeo,
    SolicitudInvalida,
    insignias,
)
from tests.conftest import NOW
from tests.fakes import FakeEvents
from tests.helpers import call
from tests.integration.radian_harness import (
    DOCUMENTO,
    INSCRIPCION,
    SHARDS,
    TABLE,
    Flujo,
    Serializado,
    api,
    crear_tabla,
    evento,
    hexa,
)

FE, TV, DISP = Insignia.FACTURA_ELECTRONICA, Insignia.TITULO_VALOR, Insignia.DISPONIBILIZADA
A, B = "tenant-a", "tenant-b"
CUFE = hexa("factura-documento")


@dataclass
class Mundo:
    ddb: Any
    repo: FacturasRepository
    flujo: Flujo

    def items(self, tenant: str, cufe: str) -> list[dict[str, Any]]:
        return self.ddb.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"FACTURA#{tenant}#{cufe}"}},
            ConsistentRead=True,
        )["Items"]


@pytest.fixture(scope="module")
def tabla() -> Iterator[Any]:
    """One moto and one RADIAN table for the module (emptied before each test): starting moto and a
    client per test costs more than the tests."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        crear_tabla(ddb)
        yield ddb


def _vaciar(ddb: Any) -> None:
    claves = [
        {"PK": i["PK"], "SK": i["SK"]}
        for page in ddb.get_paginator("scan").paginate(TableName=TABLE, ProjectionExpression="PK, SK")
        for i in page["Items"]
    ]
    for start in range(0, len(claves), 25):
        ddb.batch_write_item(RequestItems={TABLE: [{"DeleteRequest": {"Key": k}} for k in claves[start : start + 25]]})


@pytest.fixture
def mundo(tabla: Any, monkeypatch: pytest.MonkeyPatch) -> Mundo:
    """An empty RADIAN table; the API's logic sees it through the real repository, at NOW."""
    _vaciar(tabla)
    repo = FacturasRepository(TABLE, tabla, SHARDS)
    flujo = Flujo()
    monkeypatch.setattr(seguimiento, "default_seguimiento_deps", lambda: SeguimientoDeps(repo, flujo, lambda: NOW))
    return Mundo(tabla, repo, flujo)


def factura(cufe: str = CUFE, tenant: str = A, proximo: datetime | None = NOW, **cambios: Any) -> Factura:
    return Factura(tenant=tenant, cufe=cufe, registrada=NOW - timedelta(days=1), proximo_sondeo=proximo, **cambios)


def _sin_afacturar() -> Any:
    raise AssertionError("aplicar never calls afacturar")


class _SinMetricas:
    def count(self, name: str, value: int = 1) -> None:
        pass


def deps_sondeo(repo: Any, eventos: FakeEvents) -> SondeoDeps:
    return SondeoDeps(
        facturas=repo,
        afacturar=_sin_afacturar,  # aplicar never calls afacturar
        eventos=eventos,
        flujo=Flujo(),
        metricas=_SinMetricas(),
        politica=PoliticaSondeo(),
        clock=lambda: NOW,
    )


# ---- the repository ----


def test_given_a_tracked_invoice_when_registered_again_then_false_and_nothing_changes(mundo):
    # Given an invoice with its metadata, already polled once
    primera = factura(metadatos=Metadatos("900123456-7", "FE-1", Decimal("1500000.50"), date(2026, 12, 31)))
    assert mundo.repo.registrar(primera) is True
    polled = replace(primera, version=2, insignias=frozenset({FE, TV}), ultimo_sondeo=NOW)
    assert mundo.repo.guardar(polled, 1, DOCUMENTO)
    # When it is registered again, with other metadata
    otra = factura(metadatos=Metadatos("800", "otra", Decimal(1), None))
    # Then False, and the invoice, its badges and its events are as they were
    assert mundo.repo.registrar(otra) is False
    assert mundo.repo.get(A, CUFE) == polled
    assert len(mundo.repo.eventos(A, CUFE)) == 3


def test_given_an_invoice_written_with_everything_when_read_then_every_field_round_trips(mundo):
    cambio = CambioEstado(version=2, antes=frozenset({FE}), despues=frozenset({FE, TV}), fecha=NOW)
    completa = factura(
        metadatos=Metadatos("900123456-7", "FE-1", Decimal("1500000.50"), date(2026, 12, 31)),
    )
    mundo.repo.registrar(completa)
    escrita = replace(
        completa,
        version=2,
        insignias=frozenset({FE, TV}),
        cudes=frozenset(e.cude for e in DOCUMENTO),
        proximo_sondeo=NOW + timedelta(hours=1),
        ultimo_sondeo=NOW,
        ultimo_cambio=NOW,
        ultimo_resultado="OK",
        ultimo_error=None,
        fallos=0,
        cambio_pendiente=cambio,
    )
    assert mundo.repo.guardar(escrita, 1, DOCUMENTO)
    assert mundo.repo.get(A, CUFE) == escrita
    assert sorted(mundo.repo.eventos(A, CUFE), key=lambda e: e.numero) == DOCUMENTO
    assert mundo.repo.get(B, CUFE) is None and mundo.repo.eventos(B, CUFE) == []


def test_given_a_tracked_invoice_with_many_events_when_deleted_then_it_and_its_events_are_gone(mundo):
    # Given an invoice with 30 events (more than one BatchWriteItem), and the same CUFE tracked by tenant B
    mundo.repo.registrar(factura())
    mundo.repo.registrar(factura(tenant=B))
    muchos = [evento("muchos", i, "030", NOW.replace(tzinfo=None)) for i in range(30)]
    assert mundo.repo.guardar(replace(factura(), version=2), 1, muchos)
    assert len(mundo.items(A, CUFE)) == 31
    # When A stops tracking it
    assert mundo.repo.eliminar(A, CUFE) is True
    # Then nothing of it is left, B's is untouched, and a second delete says it was not tracked
    assert mundo.items(A, CUFE) == []
    assert mundo.repo.get(A, CUFE) is None and mundo.repo.get(B, CUFE) is not None
    assert mundo.repo.eliminar(A, CUFE) is False


def test_given_a_deleted_invoice_when_a_poller_writes_its_stale_read_then_it_is_not_brought_back(mundo):
    mundo.repo.registrar(factura())
    leida = mundo.repo.get(A, CUFE)
    assert leida is not None
    mundo.repo.eliminar(A, CUFE)
    assert mundo.repo.guardar(replace(leida, version=2), 1, DOCUMENTO) is False
    assert mundo.items(A, CUFE) == []  # neither the invoice nor its events
    mundo.repo.confirmar_publicacion(A, CUFE, 2)
    assert mundo.items(A, CUFE) == []  # a late confirmation creates nothing either


def test_given_a_re_registered_invoice_when_a_poll_of_the_old_registration_writes_then_it_is_refused(mundo):
    vieja = factura()
    mundo.repo.registrar(vieja)
    mundo.repo.eliminar(A, CUFE)
    nueva = replace(vieja, registrada=NOW)
    mundo.repo.registrar(nueva)
    assert mundo.repo.guardar(replace(vieja, version=2), 1, DOCUMENTO) is False
    assert mundo.repo.get(A, CUFE) == nueva
    assert mundo.repo.guardar(replace(nueva, version=2), 1, DOCUMENTO) is True


def test_given_a_pending_change_when_confirmed_then_only_that_version_is_forgotten_and_the_version_moves(mundo):
    cambio = CambioEstado(version=2, antes=frozenset({FE}), despues=frozenset({FE, TV}), fecha=NOW)
    mundo.repo.registrar(factura())
    assert mundo.repo.guardar(replace(factura(), version=2, cambio_pendiente=cambio), 1)
    # When an older change is confirmed / Then the pending one stays
    mundo.repo.confirmar_publicacion(A, CUFE, 1)
    pendiente = mundo.repo.get(A, CUFE)
    assert pendiente is not None and pendiente.cambio_pendiente == cambio
    # When it is confirmed / Then forgotten, and a writer that read it pending is refused
    mundo.repo.confirmar_publicacion(A, CUFE, 2)
    f = mundo.repo.get(A, CUFE)
    assert f is not None and f.cambio_pendiente is None and f.version == 3
    assert mundo.repo.guardar(replace(f, version=3, cambio_pendiente=cambio), 2) is False


def _registrar_muchas(mundo: Mundo, tenant: str, n: int, prefijo: str = "lista") -> list[str]:
    cufes = [hexa(f"{prefijo}-{tenant}-{i}") for i in range(n)]
    for cufe in cufes:
        assert mundo.repo.registrar(factura(cufe, tenant))
    return cufes


def test_given_23_invoices_when_listed_5_at_a_time_then_every_one_once_in_cufe_order_and_the_last_page_ends(mundo):
    # Given 23 invoices of A and 7 of B
    cufes = _registrar_muchas(mundo, A, 23)
    _registrar_muchas(mundo, B, 7)
    # When A lists them 5 per page, following siguiente
    paginas: list[list[str]] = []
    siguiente = None
    while True:
        facturas, siguiente = mundo.repo.listar(A, None, 5, siguiente)
        paginas.append([f.cufe for f in facturas])
        if siguiente is None:
            break
        assert len(paginas) < 10
    # Then 5, 5, 5, 5, 3: all of A's, each once, by CUFE, none of B's
    assert [len(p) for p in paginas] == [5, 5, 5, 5, 3]
    assert [c for p in paginas for c in p] == sorted(cufes)


def test_given_invoices_with_several_badges_when_listed_by_one_then_only_those_containing_it(mundo):
    # Given 20 invoices of which every third is a título valor (a badge set: FE and TV together)
    cufes = _registrar_muchas(mundo, A, 20)
    titulos = set()
    for i, cufe in enumerate(cufes):
        if i % 3 == 0:
            f = mundo.repo.get(A, cufe)
            assert f is not None
            assert mundo.repo.guardar(replace(f, version=2, insignias=frozenset({FE, TV})), 1)
            titulos.add(cufe)
    # When listed by TV, two per page
    vistos: list[str] = []
    siguiente = None
    for _ in range(20):
        facturas, siguiente = mundo.repo.listar(A, TV, 2, siguiente)
        vistos += [f.cufe for f in facturas]
        assert all(TV in f.insignias for f in facturas)
        if siguiente is None:
            break
    # Then exactly the título valor ones; and by FE, every one of them
    assert sorted(vistos) == sorted(titulos)
    assert len(mundo.repo.listar(A, FE, 100, None)[0]) == 20
    assert mundo.repo.listar(A, DISP, 100, None) == ([], None)


def test_given_a_continuation_token_of_another_tenant_when_listing_then_refused(mundo):
    _registrar_muchas(mundo, A, 4)
    _registrar_muchas(mundo, B, 4)
    _, token_b = mundo.repo.listar(B, None, 2, None)
    assert token_b is not None
    with pytest.raises(SolicitudInvalida):
        mundo.repo.listar(A, None, 2, token_b)


def _b64(texto: str | bytes) -> str:
    import base64

    data = texto.encode() if isinstance(texto, str) else texto
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "basura",
        "a",
        "AAAA",
        _b64(b"\xff\xfe\xfd"),
        _b64("[]"),
        _b64('"x"'),
        _b64("{}"),
        _b64("[" * 5000),
        _b64(json.dumps({"PK": "FACTURA#tenant-a#x", "SK": "FACTURA", "GSI2PK": "TENANT#tenant-a", "GSI2SK": "y"})),
        _b64(json.dumps({"PK": 1, "SK": "FACTURA", "GSI2PK": "TENANT#tenant-a", "GSI2SK": "x"})),
        _b64(json.dumps({"PK": "FACTURA#tenant-a#x", "SK": "EVENTO#1", "GSI2PK": "TENANT#tenant-a", "GSI2SK": "x"})),
        _b64(
            json.dumps(
                {"PK": "FACTURA#tenant-a#x", "SK": "FACTURA", "GSI2PK": "TENANT#tenant-a", "GSI2SK": "x", "z": "1"}
            )
        ),
    ],
)
def test_given_a_garbage_continuation_token_when_listing_then_refused_as_an_invalid_request(mundo, token):
    _registrar_muchas(mundo, A, 2)
    with pytest.raises(SolicitudInvalida):
        mundo.repo.listar(A, None, 2, token)


def test_given_due_invoices_across_shards_when_sliced_then_each_slice_holds_at_most_tamano_and_together_all(mundo):
    # Given 30 due invoices (next poll spread over the past hour), 5 due later, 2 whose polling stopped
    due = []
    for i in range(30):
        cufe = hexa(f"vence-{i}")
        mundo.repo.registrar(factura(cufe, proximo=NOW - timedelta(minutes=2 * i)))
        due.append(cufe)
    for i in range(5):
        mundo.repo.registrar(factura(hexa(f"luego-{i}"), proximo=NOW + timedelta(seconds=1 + i)))
    for i in range(2):
        mundo.repo.registrar(factura(hexa(f"parada-{i}"), proximo=None, motivo_fin="PAGADA"))
    assert len({shard_de(c, SHARDS) for c in due}) == SHARDS  # every shard has some
    # When sliced 4 at a time
    lotes = list(mundo.repo.lotes(NOW, 4, 100))
    # Then every slice is of one shard, at most 4, and holds exactly what it says; together: the 30, once
    vistas: list[str] = []
    for lote in lotes:
        assert 1 <= lote.cuantas <= 4 and lote.desde <= lote.hasta
        facturas = mundo.repo.del_lote(lote.shard, lote.desde, lote.hasta)
        assert len(facturas) == lote.cuantas
        assert all(shard_de(f.cufe, SHARDS) == lote.shard for f in facturas)
        vistas += [f.cufe for f in facturas]
    assert sorted(vistas) == sorted(due)
    # and at most maximo slices: the rest wait for the next run
    assert len(list(mundo.repo.lotes(NOW, 4, 3))) == 3
    assert list(mundo.repo.lotes(NOW - timedelta(hours=2), 4, 100)) == []


def test_given_a_slice_when_one_of_its_invoices_is_polled_then_it_leaves_the_slice(mundo):
    for i in range(6):
        mundo.repo.registrar(factura(hexa(f"uno-{i}"), proximo=NOW - timedelta(minutes=i)))
    lote = next(iter(mundo.repo.lotes(NOW, 100, 100)))
    facturas = mundo.repo.del_lote(lote.shard, lote.desde, lote.hasta)
    polled, parada = facturas[0], facturas[-1]
    # When one is polled (its next poll moves on) and another stops being polled
    assert mundo.repo.guardar(replace(polled, version=2, proximo_sondeo=NOW + timedelta(hours=1)), 1)
    if parada is not polled:
        assert mundo.repo.guardar(replace(parada, version=2, proximo_sondeo=None, motivo_fin="PAGADA"), 1)
    # Then the slice no longer holds them
    quedan = {f.cufe for f in mundo.repo.del_lote(lote.shard, lote.desde, lote.hasta)}
    assert quedan == {f.cufe for f in facturas} - {polled.cufe, parada.cufe}


# ---- pollers racing on one invoice ----


def _carrera(mundo: Mundo, historias: list[list[Evento]]) -> tuple[FakeEvents, list[Any]]:
    """Each history applied by its own thread to the invoice as all of them read it, at once, through one
    client whose requests are atomic one by one."""
    repo = FacturasRepository(TABLE, Serializado(mundo.ddb), SHARDS)
    eventos = FakeEvents()
    deps = deps_sondeo(repo, eventos)
    leida = repo.get(A, CUFE)
    assert leida is not None
    salida = threading.Barrier(len(historias))
    resultados: list[Any] = [None] * len(historias)

    def poller(i: int) -> None:
        salida.wait()
        try:
            resultados[i] = aplicar(leida, Sondeo(ResultadoSondeo.OK, historias[i], "0"), deps)
        except RuntimeError as exc:  # lost every race: the invoice stays due for the next run
            resultados[i] = exc

    hilos = [threading.Thread(target=poller, args=(i,)) for i in range(len(historias))]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join(timeout=30)
    return eventos, resultados


def test_given_8_pollers_with_the_documents_history_when_they_race_then_3_events_one_change_one_publication(mundo):
    # Given the invoice tracked, read by 8 pollers at version 1
    mundo.repo.registrar(factura())
    # When all 8 apply afacturar's history (030, 032, 033) at once
    eventos, resultados = _carrera(mundo, [DOCUMENTO] * 8)
    # Then each poller either applied it or gave up after losing every race (never anything else)
    aplicados = [r for r in resultados if isinstance(r, Resumen)]
    assert aplicados and all(isinstance(r, Resumen | RuntimeError) for r in resultados)
    # and three event items, one per CUDE
    items = mundo.items(A, CUFE)
    assert sorted(i["SK"]["S"] for i in items if i["SK"]["S"] != "FACTURA") == sorted(
        f"EVENTO#{e.cude}" for e in DOCUMENTO
    )
    # and the badges, with exactly one InvoiceStatusChanged, its change forgotten
    f = mundo.repo.get(A, CUFE)
    assert f is not None and f.insignias == {FE, TV} and f.cambio_pendiente is None
    assert [(t, d["id"], d["antes"], d["despues"]) for t, d in eventos.published] == [
        ("InvoiceStatusChanged", f"{A}:{CUFE}:2", ["Factura Electrónica"], ["Factura Electrónica", "Título Valor"])
    ]
    assert sum(r.cambios for r in aplicados) == 1 and sum(r.eventos_nuevos for r in aplicados) == 3
    # and the version counts every write: one per applied poll, one for the confirmed publication
    assert f.version == 1 + len(aplicados) + 1


def test_given_two_histories_racing_when_one_has_an_extra_036_then_the_union_and_one_event_per_change(mundo):
    # Given 8 pollers, half with the document's history, half also with the inscription (036)
    mundo.repo.registrar(factura())
    larga = [*DOCUMENTO, INSCRIPCION]
    eventos, resultados = _carrera(mundo, [DOCUMENTO, larga] * 4)
    assert any(isinstance(r, Resumen) for r in resultados)
    # Then the 4 events once each, and the badges of all of them (events are facts: never lost)
    items = [i for i in mundo.items(A, CUFE) if i["SK"]["S"] != "FACTURA"]
    assert sorted(i["SK"]["S"] for i in items) == sorted(f"EVENTO#{e.cude}" for e in larga)
    f = mundo.repo.get(A, CUFE)
    assert f is not None and f.insignias == insignias(larga) == {TV, DISP}
    assert f.cambio_pendiente is None
    # and one publication per change, each of its own version, the last one ending where the invoice is
    publicados = [d for _, d in eventos.published]
    assert 1 <= len(publicados) <= 2
    assert len({d["id"] for d in publicados}) == len(publicados)
    assert all(d["antes"] != d["despues"] for d in publicados)
    assert publicados[-1]["despues"] == ["Disponibilizada", "Título Valor"]
    assert [d["version"] for d in publicados] == sorted(d["version"] for d in publicados)


def test_given_a_change_pending_after_a_refused_publication_when_pollers_race_then_it_is_published_once(mundo):
    mundo.repo.registrar(factura())
    repo = FacturasRepository(TABLE, Serializado(mundo.ddb), SHARDS)
    rechaza = FakeEvents(refuse=True)
    leida = repo.get(A, CUFE)
    assert leida is not None
    aplicar(leida, Sondeo(ResultadoSondeo.OK, DOCUMENTO, "0"), deps_sondeo(repo, rechaza))
    pendiente = repo.get(A, CUFE)
    assert pendiente is not None and pendiente.cambio_pendiente is not None
    # When the next pollers race with EventBridge back
    eventos, _ = _carrera(mundo, [DOCUMENTO] * 4)
    # Then the pending change is published (once, under its own id) and forgotten
    assert [d["id"] for _, d in eventos.published] == [f"{A}:{CUFE}:2"]
    f = repo.get(A, CUFE)
    assert f is not None and f.cambio_pendiente is None


# ---- the tracking API, in-process ----

CUFES = [hexa(f"api-{i}") for i in range(3)]


def registrar(tenant: str | None, *cufes: str, **extra: Any) -> tuple[int, Any]:
    body = {"facturas": [{"cufe": c, **extra} for c in cufes]}
    return call(registrar_handler.handler, api("POST", "/v1/facturas", tenant, body=body))


def consultar(tenant: str | None, cufe: str) -> tuple[int, Any]:
    return call(consultar_handler.handler, api("GET", f"/v1/facturas/{cufe}", tenant))


def eliminar(tenant: str | None, cufe: str) -> tuple[int, Any]:
    return call(eliminar_handler.handler, api("DELETE", f"/v1/facturas/{cufe}", tenant))


def listar(tenant: str | None, **query: str) -> tuple[int, Any]:
    return call(listar_handler.handler, api("GET", "/v1/facturas", tenant, query=query or None))


def test_given_a_new_invoice_when_registered_then_201_and_again_200_ya_registrada(mundo):
    status, body = registrar(A, CUFES[0], nitEmisor="900123456-7", numero="FE-1", monto=1500000.5)
    assert (status, body) == (201, {"facturas": [{"cufe": CUFES[0], "resultado": "REGISTRADA"}]})
    status, body = registrar(A, CUFES[0])
    assert (status, body) == (200, {"facturas": [{"cufe": CUFES[0], "resultado": "YA_REGISTRADA"}]})
    # the first registration's metadata stays
    _, detalle = consultar(A, CUFES[0])
    assert (detalle["nitEmisor"], detalle["numero"], detalle["monto"]) == ("900123456-7", "FE-1", Decimal("1500000.5"))


def test_given_many_invoices_one_already_tracked_and_one_repeated_when_registered_then_201_each_once(mundo):
    registrar(A, CUFES[0])
    status, body = registrar(A, CUFES[0], CUFES[1], CUFES[2], CUFES[1].upper())
    assert status == 201
    assert body["facturas"] == [
        {"cufe": CUFES[0], "resultado": "YA_REGISTRADA"},
        {"cufe": CUFES[1], "resultado": "REGISTRADA"},
        {"cufe": CUFES[2], "resultado": "REGISTRADA"},
    ]
    status, body = registrar(A, *CUFES)
    assert status == 200 and {r["resultado"] for r in body["facturas"]} == {"YA_REGISTRADA"}


def test_given_an_uppercase_cufe_with_spaces_when_registered_then_stored_lowercase_and_found_either_way(mundo):
    status, body = registrar(A, f"  {CUFES[0].upper()} ")
    assert (status, body["facturas"][0]["cufe"]) == (201, CUFES[0])
    assert mundo.repo.get(A, CUFES[0]) is not None
    assert consultar(A, CUFES[0].upper())[0] == 200
    assert consultar(A, CUFES[0])[1]["cufe"] == CUFES[0]


def test_given_a_polled_invoice_when_read_then_its_badges_in_dians_order_and_its_history_by_date_then_numero(mundo):
    # Given an invoice whose events were stored out of order (numero 10 and 2 in the same second)
    registrar(A, CUFE)
    f = mundo.repo.get(A, CUFE)
    assert f is not None
    mismo = datetime(2022, 12, 2, 10, 0, 0)
    tardios = [evento("orden", 10, "037", mismo), evento("orden", 2, "036", mismo)]
    todos = [INSCRIPCION, *reversed(DOCUMENTO), *tardios]
    escrita = replace(
        f,
        version=2,
        insignias=insignias(todos),
        cudes=frozenset(e.cude for e in todos),
        ultimo_sondeo=NOW,
        ultimo_cambio=NOW,
        ultimo_resultado="OK",
        proximo_sondeo=NOW + timedelta(hours=1),
    )
    assert mundo.repo.guardar(escrita, 1, todos)
    # When read
    status, body = consultar(A, CUFE)
    # Then the badges as a set in DIAN's order, the events by date then numero as an integer
    assert status == 200
    assert body["insignias"] == ["Título Valor", "Disponibilizada", "Endosada"]
    assert [(e["numero"], e["codigo"]) for e in body["eventos"]] == [
        ("1", "030"),
        ("2", "032"),
        ("3", "033"),
        ("4", "036"),
        ("2", "036"),
        ("10", "037"),
    ]
    assert body["eventos"][0] == {
        "numero": "1",
        "codigo": "030",
        "descripcion": "evento 030",
        "fecha": "2022-11-30 21:22:17",
        "cude": DOCUMENTO[0].cude,
    }
    assert body["version"] == 2
    assert body["seguimiento"] == {
        "activo": True,
        "proximoSondeo": "2026-11-21T16:00:00Z",
        "ultimoSondeo": "2026-11-21T15:00:00Z",
        "ultimoResultado": "OK",
        "fallos": 0,
    }


def test_given_invoices_with_badges_when_listed_by_estado_then_only_those_whatever_the_spelling(mundo):
    for cufe in CUFES:
        registrar(A, cufe)
    f = mundo.repo.get(A, CUFES[1])
    assert f is not None
    mundo.repo.guardar(replace(f, version=2, insignias=frozenset({FE, TV})), 1)
    for estado in ("Título Valor", "TITULO_VALOR", "titulo-valor", "titulo valor"):
        status, body = listar(A, estado=estado)
        assert status == 200, estado
        assert [x["cufe"] for x in body["facturas"]] == [CUFES[1]]
        assert body["facturas"][0]["insignias"] == ["Factura Electrónica", "Título Valor"]
    status, body = listar(A)
    assert status == 200 and len(body["facturas"]) == 3 and "siguiente" not in body


def test_given_pages_when_listed_through_the_api_then_siguiente_leads_to_the_next_one_until_the_end(mundo):
    cufes = _registrar_muchas(mundo, A, 7)
    vistos, siguiente, vueltas = [], None, 0
    while True:
        status, body = listar(A, limite="3", **({"siguiente": siguiente} if siguiente else {}))
        assert status == 200
        vistos += [x["cufe"] for x in body["facturas"]]
        siguiente = body.get("siguiente")
        vueltas += 1
        if not siguiente:
            break
    assert vistos == sorted(cufes) and vueltas == 3
    # and a page of A is no page of B
    _, body = listar(A, limite="3")
    status, error = listar(B, siguiente=body["siguiente"])
    assert (status, error["codigo"]) == (400, "SOLICITUD_INVALIDA")


def test_given_a_tracked_invoice_when_deleted_then_get_and_delete_say_404(mundo):
    registrar(A, CUFE)
    status, body = eliminar(A, CUFE.upper())
    assert (status, body) == (200, {"cufe": CUFE, "resultado": "ELIMINADA"})
    for status, body in (consultar(A, CUFE), eliminar(A, CUFE)):
        assert status == 404
        assert body["codigo"] == "FACTURA_NO_ENCONTRADA" and CUFE in body["mensaje"]


def test_given_tenant_a_invoice_when_tenant_b_reads_lists_or_deletes_it_then_404_and_a_keeps_it(mundo):
    registrar(A, CUFE)
    assert consultar(B, CUFE)[0] == 404
    assert eliminar(B, CUFE)[0] == 404
    sondeo_b = call(sondear_ahora_handler.handler, api("POST", f"/v1/facturas/{CUFE}/sondeo", B))
    assert sondeo_b[0] == 404 and mundo.flujo.iniciadas == []
    assert listar(B) == (200, {"facturas": []})
    assert consultar(A, CUFE)[0] == 200
    # and B registering the same CUFE is B's own, new
    assert registrar(B, CUFE)[0] == 201


def test_given_a_tracked_invoice_when_polled_now_then_202_and_one_run_with_just_it(mundo):
    registrar(A, CUFE)
    status, body = call(sondear_ahora_handler.handler, api("POST", f"/v1/facturas/{CUFE.upper()}/sondeo", A))
    assert status == 202
    assert body["resultado"] == "SONDEO_SOLICITADO" and body["consultar"] == f"/radian/v1/facturas/{CUFE}"
    ((nombre, payload),) = mundo.flujo.iniciadas
    assert nombre.startswith("ahora-") and body["ejecucion"] == nombre
    assert payload == {"lotes": [{"facturas": [{"tenant": A, "cufe": CUFE}]}]}


def test_given_no_tenant_from_the_authorizer_when_called_then_401_in_the_dialect(mundo):
    status, body = consultar(None, CUFE)
    assert (status, body["codigo"]) == (401, "NO_AUTENTICADO")


def _cuerpo(facturas: Any) -> dict[str, Any]:
    return {"facturas": facturas}


HOSTILES: dict[str, dict[str, Any]] = {
    "cufe de 95": {"body": _cuerpo([{"cufe": CUFE[:95]}])},
    "cufe de 97": {"body": _cuerpo([{"cufe": CUFE + "a"}])},
    "cufe no hexadecimal": {"body": _cuerpo([{"cufe": "g" * 96}])},
    "cufe vacío": {"body": _cuerpo([{"cufe": ""}])},
    "cufe número": {"body": _cuerpo([{"cufe": 12345}])},
    "cufe nulo": {"body": _cuerpo([{"cufe": None}])},
    "cufe de unicode": {"body": _cuerpo([{"cufe": "é" * 96}])},
    "cufe enorme": {"body": _cuerpo([{"cufe": "a" * 100_000}])},
    "sin facturas": {"body": {}},
    "facturas vacía": {"body": _cuerpo([])},
    "facturas no lista": {"body": _cuerpo("x")},
    "factura no objeto": {"body": _cuerpo(["abc"])},
    "cuerpo vacío": {"raw": b""},
    "cuerpo no JSON": {"raw": b"cufe=abc"},
    "JSON truncado": {"raw": b'{"facturas": [{"cufe": "'},
    "JSON profundo": {"raw": b"[" * 100_000},
    "JSON profundo de objetos": {"raw": b'{"a":' * 50_000},
    "cuerpo lista": {"body": [{"cufe": CUFE}]},
    "cuerpo cadena": {"body": "hola"},
    "cuerpo null": {"raw": b"null"},
    "101 facturas": {"body": _cuerpo([{"cufe": hexa(f"x{i}")} for i in range(101)])},
    "UTF-8 inválido": {"raw": b'{"facturas": [{"cufe": "\xff\xfe\xfa"}]}'},
    "campo desconocido": {"body": _cuerpo([{"cufe": CUFE, "valor": 1}])},
    "campo desconocido arriba": {"body": {"facturas": [{"cufe": CUFE}], "tenant": "tenant-b"}},
    "monto negativo": {"body": _cuerpo([{"cufe": CUFE, "monto": -1}])},
    "monto con 3 decimales": {"raw": b'{"facturas": [{"cufe": "' + CUFE.encode() + b'", "monto": 10.005}]}'},
    "monto texto": {"body": _cuerpo([{"cufe": CUFE, "monto": "mucho"}])},
    "monto NaN": {"raw": b'{"facturas": [{"cufe": "' + CUFE.encode() + b'", "monto": NaN}]}'},
    "monto infinito": {"raw": b'{"facturas": [{"cufe": "' + CUFE.encode() + b'", "monto": 1e999}]}'},
    "nit inválido": {"body": _cuerpo([{"cufe": CUFE, "nitEmisor": "abc"}])},
    "vencimiento inválido": {"body": _cuerpo([{"cufe": CUFE, "vencimiento": "2026-02-30"}])},
    "numero vacío": {"body": _cuerpo([{"cufe": CUFE, "numero": ""}])},
}


def _es_dialecto(status: int, body: Any) -> None:
    assert status == 400, body
    assert isinstance(body, dict) and body["codigo"] == "SOLICITUD_INVALIDA"
    assert isinstance(body["mensaje"], str) and body["mensaje"]
    assert set(body) <= {"codigo", "mensaje", "errores"}
    texto = json.dumps(body, ensure_ascii=False)
    assert "Traceback" not in texto and 'File "' not in texto and len(texto) < 20_000


@pytest.mark.parametrize("caso", list(HOSTILES))
def test_given_a_hostile_registration_when_posted_then_400_in_the_dialect_and_nothing_registered(mundo, caso):
    event = api("POST", "/v1/facturas", A, **HOSTILES[caso])
    status, body = call(registrar_handler.handler, event)
    _es_dialecto(status, body)
    assert mundo.repo.listar(A, None, 100, None) == ([], None)


@pytest.mark.parametrize(
    "query",
    [
        {"estado": "Desconocida"},
        {"estado": "Factura"},
        {"estado": "x" * 41},
        {"limite": "0"},
        {"limite": "101"},
        {"limite": "1000"},
        {"limite": "-1"},
        {"limite": "diez"},
        {"limite": "1.5"},
        {"siguiente": "no válido!"},
        {"siguiente": "a" * 2000},
        {"siguiente": "basura"},
        {"siguiente": _b64("{}")},
    ],
)
def test_given_a_hostile_listing_when_requested_then_400_in_the_dialect(mundo, query):
    _registrar_muchas(mundo, A, 2)
    status, body = listar(A, **query)
    _es_dialecto(status, body)


def test_given_an_empty_estado_when_listing_then_no_filter(mundo):
    _registrar_muchas(mundo, A, 2)
    status, body = listar(A, estado="")
    assert status == 200 and len(body["facturas"]) == 2


@pytest.mark.parametrize(
    "cufe",
    [CUFE[:95], CUFE + "0", "g" * 96, "x", "%20" * 32, "a" * 200, "a" * 201, CUFE[:48] + " " + CUFE[49:]],
)
def test_given_a_path_cufe_that_is_not_96_hex_when_read_deleted_or_polled_then_400_in_the_dialect(mundo, cufe):
    registrar(A, CUFE)
    for handler, method, sufijo in (
        (consultar_handler.handler, "GET", ""),
        (eliminar_handler.handler, "DELETE", ""),
        (sondear_ahora_handler.handler, "POST", "/sondeo"),
    ):
        status, body = call(handler, api(method, f"/v1/facturas/{cufe}{sufijo}", A))
        _es_dialecto(status, body)
    assert mundo.repo.get(A, CUFE) is not None and mundo.flujo.iniciadas == []
