"""RADIAN polling, with fakes only (no network, no moto): the adaptive policy, how one afacturar reply
is applied to a tracked invoice (events by CUDE, badges under the version read, one
``InvoiceStatusChanged`` per change, kept until published), the async batch poller and the planner."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from radian import sondeo
from radian.deps import SondeoDeps
from radian.sondeo import aplicar, planificar, sondear, sondear_lote

from recaudo.clients.radian import ResultadoSondeo, Sondeo
from recaudo.models.radian import (
    FIN_ANTIGUA,
    FIN_PAGADA,
    AfacturarNoAutenticado,
    Evento,
    Factura,
    Insignia,
    PoliticaSondeo,
    fin_de_sondeo,
    proximo_tras_exito,
    proximo_tras_fallo,
)
from tests.conftest import NOW
from tests.fakes import FakeEvents

FE, TV, DISP, PAG = Insignia.FACTURA_ELECTRONICA, Insignia.TITULO_VALOR, Insignia.DISPONIBILIZADA, Insignia.PAGADA
TENANT = "tenant-a"
P = PoliticaSondeo()  # the defaults: 1 h / 6 h / 24 h, windows 3 and 30 days, 180 days, backoff 5 min .. 6 h


def hexa(texto: str) -> str:
    return hashlib.sha384(texto.encode()).hexdigest()


CUFE = hexa("factura-1")


def ev(codigo: str, numero: int, cude: str | None = None) -> Evento:
    """An event as the client parses it (Colombia time, naive), a minute apart by numero."""
    return Evento(
        cude or hexa(f"cude-{codigo}-{numero}"), codigo, numero, datetime(2026, 11, 2, 9) + timedelta(minutes=numero)
    )


DOCUMENTO = [ev("030", 1), ev("032", 2), ev("033", 3)]  # the document's example: a título valor


def ok(*eventos: Evento) -> Sondeo:
    return Sondeo(ResultadoSondeo.OK, list(eventos), "0")


# ---- fakes ----


def _clave_sondeo(f: Factura) -> str:
    assert f.proximo_sondeo is not None
    return f"{f.proximo_sondeo.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}#{f.tenant}#{f.cufe}"


@dataclass(frozen=True)
class Lote:
    shard: int
    desde: str
    hasta: str
    cuantas: int


class FakeFacturas:
    """The ``Facturas`` port in memory, with the repository's observable rules: events kept once by
    CUDE, ``guardar`` only at the version read (and the same registration), ``confirmar_publicacion``
    forgetting only that change. ``interponer`` runs a competing writer just before the next ``guardar``."""

    def __init__(self, shards: int = 4) -> None:
        self.facturas: dict[tuple[str, str], Factura] = {}
        self.eventos_: dict[tuple[str, str], dict[str, Evento]] = {}
        self.shards = shards
        self.guardados = 0
        self.rechazados = 0
        self._hooks: list[Callable[[], object]] = []
        self._lock = threading.RLock()  # aplicar runs in worker threads under the async poller

    def interponer(self, hook: Callable[[], object]) -> None:
        self._hooks.append(hook)

    def registrar(self, factura: Factura) -> bool:
        with self._lock:
            if (factura.tenant, factura.cufe) in self.facturas:
                return False
            self.facturas[(factura.tenant, factura.cufe)] = factura
            return True

    def get(self, tenant: str, cufe: str) -> Factura | None:
        with self._lock:
            return self.facturas.get((tenant, cufe))

    def eventos(self, tenant: str, cufe: str) -> list[Evento]:
        with self._lock:
            return list(self.eventos_.get((tenant, cufe), {}).values())

    def eliminar(self, tenant: str, cufe: str) -> bool:
        with self._lock:
            self.eventos_.pop((tenant, cufe), None)
            return self.facturas.pop((tenant, cufe), None) is not None

    def listar(
        self, tenant: str, insignia: Insignia | None, limite: int, siguiente: str | None
    ) -> tuple[list[Factura], str | None]:
        raise NotImplementedError  # the pollers never list

    def _shard(self, cufe: str) -> int:
        return int(cufe[:8], 16) % self.shards

    def lotes(self, corte: datetime, tamano: int, maximo: int) -> Iterator[Lote]:
        limite = f"{corte.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}#~"
        emitidos = 0
        for shard in range(self.shards):
            claves = sorted(
                _clave_sondeo(f)
                for f in self.facturas.values()
                if f.proximo_sondeo is not None and self._shard(f.cufe) == shard and _clave_sondeo(f) <= limite
            )
            for i in range(0, len(claves), tamano):
                if emitidos == maximo:
                    return
                trozo = claves[i : i + tamano]
                yield Lote(shard, trozo[0], trozo[-1], len(trozo))
                emitidos += 1

    def del_lote(self, shard: int, desde: str, hasta: str) -> list[Factura]:
        with self._lock:
            return [
                f
                for f in self.facturas.values()
                if f.proximo_sondeo is not None and self._shard(f.cufe) == shard and desde <= _clave_sondeo(f) <= hasta
            ]

    def guardar(self, factura: Factura, version_leida: int, nuevos: Iterable[Evento] = ()) -> bool:
        if self._hooks:
            self._hooks.pop(0)()
        with self._lock:
            clave = (factura.tenant, factura.cufe)
            actual = self.facturas.get(clave)
            if actual is None or actual.version != version_leida or actual.registrada != factura.registrada:
                self.rechazados += 1
                return False
            guardados = self.eventos_.setdefault(clave, {})
            for e in nuevos:
                guardados[e.cude] = e  # the same item again, never a second one
            self.facturas[clave] = factura
            self.guardados += 1
            return True

    def confirmar_publicacion(self, tenant: str, cufe: str, version: int) -> None:
        with self._lock:
            actual = self.facturas.get((tenant, cufe))
            if (
                actual is not None
                and actual.cambio_pendiente is not None
                and actual.cambio_pendiente.version == version
            ):
                self.facturas[(tenant, cufe)] = replace(actual, cambio_pendiente=None, version=actual.version + 1)


class FakeAfacturar:
    """Scripted replies by CUFE (a list is served in order, its last reply repeated), an optional delay,
    and the calls in flight measured."""

    def __init__(
        self,
        respuestas: dict[str, Sondeo | list[Sondeo]] | None = None,
        espera: float = 0.0,
        defecto: Sondeo | None = None,
    ) -> None:
        self.respuestas = {k: v if isinstance(v, list) else [v] for k, v in (respuestas or {}).items()}
        self.espera = espera
        self.defecto = defecto or ok()
        self.llamadas: list[str] = []
        self.en_vuelo = 0
        self.max_en_vuelo = 0
        self.cerrado = False

    async def historial(self, cufe: str) -> Sondeo:
        self.llamadas.append(cufe)
        self.en_vuelo += 1
        self.max_en_vuelo = max(self.max_en_vuelo, self.en_vuelo)
        try:
            if self.espera:
                await asyncio.sleep(self.espera)
            guion = self.respuestas.get(cufe)
            if not guion:
                return self.defecto
            return guion.pop(0) if len(guion) > 1 else guion[0]
        finally:
            self.en_vuelo -= 1

    async def aclose(self) -> None:
        self.cerrado = True


@dataclass
class FakeFlujo:
    corriendo: bool = False
    iniciadas: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    prefijos: list[str] = field(default_factory=list)

    def start(self, name: str, payload: dict[str, Any]) -> str:
        self.iniciadas.append((name, payload))
        return f"arn:aws:states:us-east-1:123456789012:execution:radian:{name}"

    def running(self, prefix: str) -> bool:
        self.prefijos.append(prefix)
        return self.corriendo


@dataclass
class Metricas:
    valores: Counter[str] = field(default_factory=Counter)

    def count(self, name: str, value: int = 1) -> None:
        self.valores[name] += value


class Reloj:
    def __init__(self, ahora: datetime = NOW) -> None:
        self.ahora = ahora

    def __call__(self) -> datetime:
        return self.ahora

    def avanzar(self, **kwargs: float) -> None:
        self.ahora += timedelta(**kwargs)


@dataclass
class Mundo:
    facturas: FakeFacturas
    afacturar: FakeAfacturar
    eventos: FakeEvents
    flujo: FakeFlujo
    metricas: Metricas
    reloj: Reloj
    deps: SondeoDeps

    def factura(self, cufe: str = CUFE, tenant: str = TENANT) -> Factura:
        f = self.facturas.get(tenant, cufe)
        assert f is not None
        return f

    def aplicar(self, resultado: Sondeo, cufe: str = CUFE) -> sondeo.Resumen:
        return aplicar(self.factura(cufe), resultado, self.deps)

    def publicados(self) -> list[dict[str, Any]]:
        assert all(tipo == "InvoiceStatusChanged" for tipo, _ in self.eventos.published)
        return [detalle for _, detalle in self.eventos.published]


def mundo(concurrencia: int = 16, tamano_lote: int = 100, max_lotes: int = 400, **afacturar: Any) -> Mundo:
    facturas, cliente, eventos = FakeFacturas(), FakeAfacturar(**afacturar), FakeEvents()
    flujo, metricas, reloj = FakeFlujo(), Metricas(), Reloj()
    deps = SondeoDeps(
        facturas=facturas,
        afacturar=lambda: cliente,
        eventos=eventos,
        flujo=flujo,
        metricas=metricas,
        politica=P,
        tamano_lote=tamano_lote,
        max_lotes=max_lotes,
        concurrencia=concurrencia,
        por_segundo=10_000,  # the rate limiter never holds a test back
        clock=reloj,
    )
    return Mundo(facturas, cliente, eventos, flujo, metricas, reloj, deps)


def registrar(m: Mundo, cufe: str = CUFE, registrada: datetime = NOW - timedelta(days=1), **cambios: Any) -> Factura:
    f = Factura(tenant=TENANT, cufe=cufe, registrada=registrada, proximo_sondeo=registrada, **cambios)
    assert m.facturas.registrar(f)
    return f


# ---- the adaptive policy ----


@pytest.mark.parametrize(
    ("quieta", "espera"),
    [
        (timedelta(0), P.activo),
        (timedelta(days=3), P.activo),  # the active window includes its edge
        (timedelta(days=3, seconds=1), P.normal),
        (timedelta(days=30), P.normal),
        (timedelta(days=30, seconds=1), P.lento),
        (timedelta(days=170), P.lento),
    ],
)
def test_given_an_invoice_quiet_for_a_while_when_polled_ok_then_the_next_poll_follows_the_policy(quieta, espera):
    # Given an invoice whose last change was `quieta` ago / When a poll succeeds / Then active, normal or slow
    assert proximo_tras_exito(NOW - quieta, NOW - timedelta(days=200), NOW, P) == NOW + espera


def test_given_an_invoice_that_never_changed_when_polled_then_quiet_time_counts_from_its_registration():
    assert proximo_tras_exito(None, NOW - timedelta(days=1), NOW, P) == NOW + P.activo
    assert proximo_tras_exito(None, NOW - timedelta(days=10), NOW, P) == NOW + P.normal
    assert proximo_tras_exito(None, NOW - timedelta(days=60), NOW, P) == NOW + P.lento


@pytest.mark.parametrize(
    ("fallos", "espera"),
    [
        (1, timedelta(minutes=5)),
        (2, timedelta(minutes=10)),
        (3, timedelta(minutes=20)),
        (4, timedelta(minutes=40)),
        (7, timedelta(minutes=320)),
        (8, timedelta(hours=6)),  # 640 min, capped
        (60, timedelta(hours=6)),  # never overflows
    ],
)
def test_given_consecutive_failures_when_backing_off_then_the_wait_doubles_up_to_the_cap(fallos, espera):
    assert proximo_tras_fallo(fallos, NOW, P) == NOW + espera
    # and azar spreads it in [half, whole]: a DIAN outage does not come back as one wave
    assert proximo_tras_fallo(fallos, NOW, P, azar=0.5) == NOW + espera / 2


def test_given_a_paid_invoice_when_deciding_then_polling_stops_as_pagada_even_if_also_old():
    joven = Factura(TENANT, CUFE, registrada=NOW - timedelta(days=1))
    vieja = Factura(TENANT, CUFE, registrada=NOW - timedelta(days=400))
    assert fin_de_sondeo(joven, frozenset({TV, DISP, PAG}), NOW, P) == FIN_PAGADA
    assert fin_de_sondeo(vieja, frozenset({PAG}), NOW, P) == FIN_PAGADA


@pytest.mark.parametrize(
    ("edad", "fin"),
    [
        (timedelta(days=179, hours=23), None),
        (P.edad_maxima, FIN_ANTIGUA),  # at the configured age it stops
        (timedelta(days=181), FIN_ANTIGUA),
    ],
)
def test_given_an_unpaid_invoice_of_some_age_when_deciding_then_it_stops_only_past_edad_maxima(edad, fin):
    f = Factura(TENANT, CUFE, registrada=NOW - edad)
    assert fin_de_sondeo(f, frozenset({FE, TV}), NOW, P) == fin


# ---- aplicar: one reply ----


def test_given_a_new_invoice_when_the_documents_history_arrives_then_one_status_change_is_published():
    # Given an invoice tracked at version 1, only "Factura Electrónica"
    m = mundo()
    registrar(m)
    # When afacturar returns 030, 032, 033
    r = m.aplicar(ok(*DOCUMENTO))
    # Then one InvoiceStatusChanged, with the badges before and after as values, and a repeatable id
    (detalle,) = m.publicados()
    assert detalle["id"] == f"{TENANT}:{CUFE}:2"
    assert (detalle["tenant"], detalle["cufe"], detalle["version"]) == (TENANT, CUFE, 2)
    assert detalle["antes"] == ["Factura Electrónica"]
    assert detalle["despues"] == ["Factura Electrónica", "Título Valor"]
    assert detalle["fecha"] == NOW.isoformat()
    # and the events are stored, the badges written, the change forgotten once published
    f = m.factura()
    assert f.insignias == {FE, TV}
    assert f.cudes == {e.cude for e in DOCUMENTO}
    assert len(m.facturas.eventos(TENANT, CUFE)) == 3
    assert f.cambio_pendiente is None
    assert (f.ultimo_resultado, f.ultimo_cambio, f.ultimo_sondeo, f.fallos) == ("OK", NOW, NOW, 0)
    assert f.proximo_sondeo == NOW + P.activo  # it just moved: polled often
    assert (r.sondeadas, r.cambios, r.eventos_nuevos, r.sin_cambio) == (1, 1, 3, 0)


def test_given_the_same_history_again_when_applied_then_nothing_is_published_nor_stored_twice():
    m = mundo()
    registrar(m)
    m.aplicar(ok(*DOCUMENTO))
    m.reloj.avanzar(hours=1)
    # When the next poll returns the same history
    r = m.aplicar(ok(*DOCUMENTO))
    # Then no second publication, no new event, the last change kept
    assert len(m.publicados()) == 1
    assert (r.cambios, r.eventos_nuevos, r.sin_cambio) == (0, 0, 1)
    f = m.factura()
    assert f.ultimo_cambio == NOW and f.ultimo_sondeo == NOW + timedelta(hours=1)
    assert len(m.facturas.eventos(TENANT, CUFE)) == 3


def test_given_no_events_yet_when_polled_then_the_invoice_stays_factura_electronica_and_nothing_is_published():
    m = mundo()
    registrar(m)
    r = m.aplicar(Sondeo(ResultadoSondeo.OK, [], "12", "CUFE sin eventos"))
    assert m.publicados() == []
    f = m.factura()
    assert (f.insignias, f.ultimo_resultado, f.ultimo_cambio) == (frozenset({FE}), "SIN_EVENTOS", None)
    assert r.sin_cambio == 1


def test_given_a_reply_repeating_a_cude_when_applied_then_each_event_is_stored_once():
    m = mundo()
    registrar(m)
    acuse = ev("030", 1)
    otra_copia = replace(acuse, descripcion="repetido")
    r = m.aplicar(ok(acuse, otra_copia, ev("032", 2), acuse))
    assert r.eventos_nuevos == 2
    assert sorted(e.codigo for e in m.facturas.eventos(TENANT, CUFE)) == ["030", "032"]
    assert m.factura().insignias == {FE}  # no 033 yet
    assert m.publicados() == []


def test_given_an_event_that_changes_no_badge_when_applied_then_the_invoice_counts_as_moving_without_a_change():
    m = mundo()
    registrar(m, registrada=NOW - timedelta(days=40))
    m.aplicar(ok(ev("030", 1)))
    f = m.factura()
    assert f.ultimo_cambio == NOW and f.proximo_sondeo == NOW + P.activo
    assert m.publicados() == []


def test_given_eventbridge_refuses_when_the_badges_change_then_the_change_stays_pending_and_the_next_poll_publishes_it_once():
    m = mundo()
    registrar(m)
    # Given EventBridge refusing
    m.eventos.refuse = True
    m.aplicar(ok(*DOCUMENTO))
    assert m.publicados() == []
    pendiente = m.factura().cambio_pendiente
    assert pendiente is not None
    assert (pendiente.version, pendiente.antes, pendiente.despues) == (2, frozenset({FE}), frozenset({FE, TV}))
    # When EventBridge is back and the next poll returns the same history
    m.eventos.refuse = False
    m.reloj.avanzar(hours=1)
    m.aplicar(ok(*DOCUMENTO))
    # Then the pending change is published once, with its own version and date, and forgotten
    (detalle,) = m.publicados()
    assert (detalle["id"], detalle["antes"], detalle["despues"]) == (
        f"{TENANT}:{CUFE}:2",
        ["Factura Electrónica"],
        ["Factura Electrónica", "Título Valor"],
    )
    assert detalle["fecha"] == NOW.isoformat()
    assert m.factura().cambio_pendiente is None
    # and a further poll publishes nothing
    m.reloj.avanzar(hours=1)
    m.aplicar(ok(*DOCUMENTO))
    assert len(m.publicados()) == 1


def test_given_a_failed_poll_after_a_refused_publication_when_applied_then_the_pending_change_is_published():
    m = mundo()
    registrar(m)
    m.eventos.refuse = True
    m.aplicar(ok(*DOCUMENTO))
    m.eventos.refuse = False
    # When the next poll fails (afacturar's 28) / Then the pending change still goes out, once
    m.aplicar(Sondeo(ResultadoSondeo.REINTENTAR, codigo="28", descripcion="la operación duró más de 60 s"))
    assert [d["id"] for d in m.publicados()] == [f"{TENANT}:{CUFE}:2"]
    assert m.factura().cambio_pendiente is None


def test_given_an_unpublished_change_when_the_badges_change_again_then_one_event_from_the_last_published_state():
    m = mundo()
    registrar(m)
    m.eventos.refuse = True
    m.aplicar(ok(*DOCUMENTO))  # FE -> FE, TV: refused
    m.eventos.refuse = False
    m.reloj.avanzar(hours=1)
    # When the next poll also brings a 036 (FE -> TV, DISP)
    m.aplicar(ok(*DOCUMENTO, ev("036", 4)))
    # Then one event, from what consumers last saw (FE) to now (TV, DISP)
    (detalle,) = m.publicados()
    assert detalle["antes"] == ["Factura Electrónica"]
    assert detalle["despues"] == ["Disponibilizada", "Título Valor"]
    assert m.factura().cambio_pendiente is None


def test_given_an_unpublished_change_when_the_badges_come_back_then_nothing_is_announced():
    m = mundo()
    registrar(m)
    m.eventos.refuse = True
    m.aplicar(ok(*DOCUMENTO, ev("041", 4)))  # FE -> TV, LIM: refused
    m.eventos.refuse = False
    m.aplicar(ok(*DOCUMENTO, ev("041", 4), ev("042", 5)))  # 042 ends the limitation: FE, TV
    m.aplicar(ok(*DOCUMENTO, ev("041", 4), ev("042", 5), ev("041", 6, cude=hexa("x")), ev("042", 7, cude=hexa("y"))))
    # FE -> (TV, LIM unpublished) -> FE, TV: consumers only ever saw FE, and one change to FE, TV
    assert [(d["antes"], d["despues"]) for d in m.publicados()] == [
        (["Factura Electrónica"], ["Factura Electrónica", "Título Valor"])
    ]


def test_given_a_stored_event_missing_from_the_reply_when_applied_then_the_badges_still_derive_from_all_events():
    m = mundo()
    registrar(m)
    m.aplicar(ok(*DOCUMENTO, ev("036", 4)))
    # When afacturar's next reply lacks the 036 it sent before / Then events are facts: still disponibilizada
    m.aplicar(ok(*DOCUMENTO))
    assert m.factura().insignias == {TV, DISP}
    assert len(m.publicados()) == 1


@pytest.mark.parametrize(
    ("resultado", "codigo", "descripcion", "error", "contador"),
    [
        (ResultadoSondeo.REINTENTAR, "28", "la operación duró más de 60 s", "codigo_error 28:", "reintentar"),
        (ResultadoSondeo.REINTENTAR, None, "sin respuesta: ReadTimeout", "sin respuesta: ReadTimeout", "reintentar"),
        (ResultadoSondeo.FALLIDO, "99", "código desconocido", "codigo_error 99:", "fallidas"),
        (ResultadoSondeo.FALLIDO, None, "", "FALLIDO", "fallidas"),
    ],
)
def test_given_a_failed_poll_when_applied_then_failures_error_and_backoff_are_recorded_and_badges_kept(
    resultado, codigo, descripcion, error, contador
):
    # Given a título valor
    m = mundo()
    registrar(m)
    m.aplicar(ok(*DOCUMENTO))
    version = m.factura().version
    fallo = Sondeo(resultado, codigo=codigo, descripcion=descripcion)
    # When a poll fails
    m.reloj.avanzar(hours=1)
    r = m.aplicar(fallo)
    # Then its badges stay, and the failure is recorded with a backoff in [base/2, base]
    f = m.factura()
    assert f.insignias == {FE, TV} and f.version == version + 1
    assert (f.fallos, f.ultimo_resultado) == (1, resultado.value)
    assert f.ultimo_error is not None and f.ultimo_error.startswith(error)
    assert f.proximo_sondeo is not None
    assert m.reloj.ahora + P.reintento_base / 2 <= f.proximo_sondeo <= m.reloj.ahora + P.reintento_base
    assert getattr(r, contador) == 1 and r.cambios == 0
    # When it fails again / Then the wait doubles
    m.reloj.avanzar(minutes=5)
    m.aplicar(fallo)
    f = m.factura()
    assert f.fallos == 2
    assert f.proximo_sondeo is not None
    assert m.reloj.ahora + P.reintento_base <= f.proximo_sondeo <= m.reloj.ahora + 2 * P.reintento_base
    # When a poll succeeds / Then failures are forgotten
    m.aplicar(ok(*DOCUMENTO))
    f = m.factura()
    assert (f.fallos, f.ultimo_error, f.ultimo_resultado) == (0, None, "OK")
    assert len(m.publicados()) == 1


def test_given_a_payment_event_when_applied_then_the_change_is_published_and_polling_stops_as_pagada():
    m = mundo()
    registrar(m)
    r = m.aplicar(ok(*DOCUMENTO, ev("036", 4), ev("045", 5)))
    f = m.factura()
    assert (f.motivo_fin, f.proximo_sondeo) == (FIN_PAGADA, None)
    assert f.insignias == {TV, DISP, PAG}
    assert r.terminadas == 1
    assert m.publicados()[0]["despues"] == ["Disponibilizada", "Pagada", "Título Valor"]


def test_given_an_invoice_older_than_edad_maxima_when_polled_then_polling_stops_as_antigua_even_after_a_failure():
    m = mundo()
    registrar(m, cufe=hexa("vieja"), registrada=NOW - P.edad_maxima)
    registrar(m, cufe=hexa("vieja-fallida"), registrada=NOW - timedelta(days=200))
    m.aplicar(ok(ev("030", 1)), cufe=hexa("vieja"))
    m.aplicar(Sondeo(ResultadoSondeo.REINTENTAR, codigo="15"), cufe=hexa("vieja-fallida"))
    for cufe in (hexa("vieja"), hexa("vieja-fallida")):
        f = m.factura(cufe)
        assert (f.motivo_fin, f.proximo_sondeo) == (FIN_ANTIGUA, None)


def test_given_another_poller_wins_the_version_race_when_applying_the_same_history_then_one_publication():
    # Given two pollers that read the invoice at version 1
    m = mundo()
    leida = registrar(m)
    # When the other one writes (and publishes) between this one's read and write
    m.facturas.interponer(lambda: aplicar(leida, ok(*DOCUMENTO), m.deps))
    r = aplicar(leida, ok(*DOCUMENTO), m.deps)
    # Then this one loses, re-reads, applies on top: one publication, three events, nothing counted twice
    assert m.facturas.rechazados == 1
    assert len(m.publicados()) == 1
    assert len(m.facturas.eventos(TENANT, CUFE)) == 3
    assert (r.sondeadas, r.eventos_nuevos, r.cambios) == (1, 0, 0)
    f = m.factura()
    assert f.insignias == {FE, TV} and f.cambio_pendiente is None


def _ganador_a_medias(m: Mundo, leida: Factura) -> Factura:
    """Another poller's write of the document's history, its change not yet published."""
    f, nuevos = sondeo._tras_exito(leida, list(DOCUMENTO), m.reloj(), m.deps)
    assert m.facturas.guardar(f, leida.version, nuevos)
    return f


def test_given_the_winner_is_still_publishing_when_the_loser_re_reads_then_the_loser_does_not_publish_it_too():
    # Given a poller that loses the race to one that has written its change and is publishing it now
    m = mundo()
    leida = registrar(m)
    ganador: list[Factura] = []
    m.facturas.interponer(lambda: ganador.append(_ganador_a_medias(m, leida)))
    # When the loser re-reads (the change still pending) and applies the same history
    aplicar(leida, ok(*DOCUMENTO), m.deps)
    # Then it leaves the publication to the winner
    assert m.publicados() == []
    assert m.facturas.rechazados == 1
    # and when the winner's publication lands, the change is published once and forgotten
    sondeo._publicar(ganador[0], m.deps)
    assert [d["id"] for d in m.publicados()] == [f"{TENANT}:{CUFE}:2"]
    assert m.factura().cambio_pendiente is None
    m.aplicar(ok(*DOCUMENTO))
    assert len(m.publicados()) == 1


def test_given_a_confirmation_between_a_read_and_a_write_when_applied_then_the_published_change_is_not_brought_back():
    # Given a poller that read the invoice while another's change was pending
    m = mundo()
    ganador = _ganador_a_medias(m, registrar(m))
    leida = m.factura()
    assert leida.cambio_pendiente is not None
    # When the other poller publishes and confirms that change before this one writes
    m.facturas.interponer(lambda: sondeo._publicar(ganador, m.deps))
    aplicar(leida, ok(*DOCUMENTO), m.deps)
    # Then the change was published once and stays forgotten (a later poll publishes nothing)
    assert len(m.publicados()) == 1
    assert m.factura().cambio_pendiente is None
    m.aplicar(ok(*DOCUMENTO))
    assert len(m.publicados()) == 1


def test_given_an_invoice_deleted_while_polled_when_applied_then_nothing_is_written_nor_published():
    m = mundo()
    leida = registrar(m)
    m.facturas.interponer(lambda: m.facturas.eliminar(TENANT, CUFE))
    r = aplicar(leida, ok(*DOCUMENTO), m.deps)
    assert m.facturas.get(TENANT, CUFE) is None and m.facturas.eventos(TENANT, CUFE) == []
    assert m.publicados() == [] and r.cambios == 0


def test_given_a_deleted_and_re_registered_invoice_when_a_stale_poll_writes_then_it_is_refused_and_re_read():
    m = mundo()
    vieja = registrar(m, registrada=NOW - timedelta(days=2))
    nueva = replace(vieja, registrada=NOW - timedelta(hours=1), proximo_sondeo=NOW - timedelta(hours=1))

    def re_registrar() -> None:
        m.facturas.eliminar(TENANT, CUFE)
        m.facturas.registrar(nueva)

    m.facturas.interponer(re_registrar)
    aplicar(vieja, ok(*DOCUMENTO), m.deps)
    f = m.factura()
    assert f.registrada == nueva.registrada  # the new registration, written on the re-read
    assert m.facturas.rechazados == 1


def test_given_writers_that_always_win_when_applying_then_it_gives_up_after_a_few_reads():
    m = mundo()
    leida = registrar(m)

    def otro_escritor() -> None:  # someone else writes the invoice just before each of this one's writes
        f = m.factura()
        m.facturas.facturas[(TENANT, CUFE)] = replace(f, version=f.version + 1)

    for _ in range(sondeo._INTENTOS):
        m.facturas.interponer(otro_escritor)
    with pytest.raises(RuntimeError, match="concurrentes"):
        aplicar(leida, ok(*DOCUMENTO), m.deps)
    assert m.publicados() == []


# ---- sondear: one batch ----


def _muchas(m: Mundo, n: int) -> list[Factura]:
    return [registrar(m, cufe=hexa(f"lote-{i}")) for i in range(n)]


def test_given_a_batch_when_polled_then_in_flight_calls_never_exceed_concurrencia():
    # Given 40 invoices, afacturar taking 20 ms a call, and 5 calls allowed at once
    m = mundo(concurrencia=5, espera=0.02)
    facturas = _muchas(m, 40)
    # When the batch is polled
    r = asyncio.run(sondear(facturas, m.deps))
    # Then every invoice was polled once, at most 5 at a time (and the limit was actually reached)
    assert sorted(m.afacturar.llamadas) == sorted(f.cufe for f in facturas)
    assert m.afacturar.max_en_vuelo == 5
    assert r.sondeadas == 40 and m.afacturar.cerrado


def test_given_afacturar_refuses_our_token_when_polling_then_no_new_call_starts():
    # Given 30 invoices polled one at a time, and afacturar answering 401 from the third call on
    m = mundo(concurrencia=1)
    facturas = _muchas(m, 30)
    no = Sondeo(ResultadoSondeo.NO_AUTENTICADO, codigo="401", descripcion="HTTP 401")
    m.afacturar.respuestas = {f.cufe: [no] for f in facturas[2:]}
    # When the batch is polled
    r = asyncio.run(sondear(facturas, m.deps))
    # Then the run stopped at the refusal: three calls, two applied, the rest untouched
    assert len(m.afacturar.llamadas) == 3
    assert r.no_autenticado and r.sondeadas == 2
    assert all(m.factura(f.cufe).version == 1 for f in facturas[2:])
    assert m.afacturar.cerrado


def test_given_calls_in_flight_when_the_token_is_refused_then_those_finish_and_nothing_new_starts():
    m = mundo(concurrencia=4, espera=0.01)
    facturas = _muchas(m, 40)
    m.afacturar.respuestas = {
        facturas[0].cufe: [Sondeo(ResultadoSondeo.NO_AUTENTICADO, codigo="11", descripcion="emisor")]
    }
    r = asyncio.run(sondear(facturas, m.deps))
    assert r.no_autenticado
    assert len(m.afacturar.llamadas) <= 4  # only the first window of calls


def test_given_a_refused_token_when_a_batch_runs_then_it_raises_and_counts_the_alarm_metric():
    m = mundo()
    facturas = _muchas(m, 3)
    m.afacturar.defecto = Sondeo(ResultadoSondeo.NO_AUTENTICADO, codigo="401")
    lote = {"facturas": [{"tenant": f.tenant, "cufe": f.cufe} for f in facturas]}
    with pytest.raises(AfacturarNoAutenticado):
        sondear_lote(lote, m.deps)
    assert m.metricas.valores["AfacturarNoAutenticado"] == 1


def test_given_one_invoice_whose_write_breaks_when_the_batch_is_polled_then_the_others_are_applied():
    # Given a batch where writing one invoice raises (DynamoDB down for that item)
    m = mundo()
    facturas = _muchas(m, 6)
    rota = facturas[3].cufe
    original = m.facturas.guardar

    def guardar(factura: Factura, version_leida: int, nuevos: Iterable[Evento] = ()) -> bool:
        if factura.cufe == rota:
            raise RuntimeError("DynamoDB no responde")
        return original(factura, version_leida, nuevos)

    m.facturas.guardar = guardar  # type: ignore[method-assign]
    m.afacturar.defecto = ok(*DOCUMENTO)
    # When polled
    lote = {"facturas": [{"tenant": f.tenant, "cufe": f.cufe} for f in facturas]}
    resumen = sondear_lote(lote, m.deps)
    # Then the five others are applied and published; the broken one stays due, counted as failed
    assert resumen["sondeadas"] == 6 and resumen["fallidas"] == 1 and resumen["cambios"] == 5
    assert sorted(d["cufe"] for d in m.publicados()) == sorted(f.cufe for f in facturas if f.cufe != rota)
    assert m.factura(rota).version == 1 and m.factura(rota).proximo_sondeo == facturas[3].proximo_sondeo
    assert m.metricas.valores["SondeosFallidos"] == 1
    assert m.metricas.valores["Sondeos"] == 6 and m.metricas.valores["CambiosDeEstado"] == 5


def test_given_a_slice_of_the_polling_index_when_its_batch_runs_then_exactly_its_invoices_are_polled():
    m = mundo(tamano_lote=4)
    facturas = _muchas(m, 10)
    lotes = list(m.facturas.lotes(NOW, 4, 100))
    lote = lotes[0]
    esperadas = {f.cufe for f in m.facturas.del_lote(lote.shard, lote.desde, lote.hasta)}
    resumen = sondear_lote({"shard": lote.shard, "desde": lote.desde, "hasta": lote.hasta}, m.deps)
    assert set(m.afacturar.llamadas) == esperadas and resumen["sondeadas"] == len(esperadas)
    # and once polled they have left the slice
    assert m.facturas.del_lote(lote.shard, lote.desde, lote.hasta) == []
    assert sum(x.cuantas for x in lotes) == len(facturas)


def test_given_a_poll_now_batch_naming_a_deleted_invoice_when_run_then_it_is_skipped():
    m = mundo()
    (f,) = _muchas(m, 1)
    resumen = sondear_lote(
        {"facturas": [{"tenant": TENANT, "cufe": f.cufe}, {"tenant": TENANT, "cufe": hexa("z")}]}, m.deps
    )
    assert m.afacturar.llamadas == [f.cufe] and resumen["sondeadas"] == 1


# ---- planificar: the schedule ----


def test_given_a_scheduled_run_still_going_when_the_schedule_fires_then_nothing_starts_and_it_is_counted():
    m = mundo()
    _muchas(m, 3)
    m.flujo.corriendo = True
    out = planificar(m.deps)
    assert out["iniciado"] is False
    assert m.flujo.iniciadas == [] and m.flujo.prefijos == [sondeo.PREFIJO_PROGRAMADO]
    assert m.metricas.valores["SondeoOmitido"] == 1


def test_given_due_invoices_when_the_schedule_fires_then_one_run_starts_with_the_slices():
    # Given 25 due invoices, 3 due later and 1 whose polling stopped
    m = mundo(tamano_lote=4)
    _muchas(m, 25)
    for i in range(3):
        registrar(m, cufe=hexa(f"luego-{i}"), registrada=NOW + timedelta(hours=1))
    registrar(m, cufe=hexa("pagada"), registrada=NOW - timedelta(days=3))
    m.facturas.facturas[(TENANT, hexa("pagada"))] = replace(m.factura(hexa("pagada")), proximo_sondeo=None)
    # When the schedule fires
    out = planificar(m.deps)
    # Then one run, named as a scheduled one, whose slices hold exactly the 25 due invoices
    ((nombre, payload),) = m.flujo.iniciadas
    assert nombre.startswith(sondeo.PREFIJO_PROGRAMADO)
    arn = f"arn:aws:states:us-east-1:123456789012:execution:radian:{nombre}"
    assert out == {"iniciado": True, "ejecucion": arn, "lotes": len(payload["lotes"])}
    assert all(set(lote) == {"shard", "desde", "hasta"} for lote in payload["lotes"])
    en_lotes = [f.cufe for lote in payload["lotes"] for f in m.facturas.del_lote(**lote)]
    assert sorted(en_lotes) == sorted(hexa(f"lote-{i}") for i in range(25))
    assert m.metricas.valores["LotesPlanificados"] == len(payload["lotes"])


def test_given_more_slices_than_max_lotes_when_the_schedule_fires_then_the_run_takes_at_most_max_lotes():
    m = mundo(tamano_lote=2, max_lotes=3)
    _muchas(m, 25)
    out = planificar(m.deps)
    assert out["lotes"] == 3 and len(m.flujo.iniciadas[0][1]["lotes"]) == 3


def test_given_nothing_due_when_the_schedule_fires_then_no_run_starts():
    m = mundo()
    registrar(m, registrada=NOW + timedelta(minutes=30))
    out = planificar(m.deps)
    assert out["iniciado"] is False and out["lotes"] == 0
    assert m.flujo.iniciadas == []
    assert "LotesPlanificados" not in m.metricas.valores


def test_given_the_resumen_when_summed_then_every_counter_adds_and_the_refusal_sticks():
    a = sondeo.Resumen(sondeadas=2, cambios=1, no_autenticado=True)
    a.sumar(sondeo.Resumen(sondeadas=3, fallidas=1))
    assert dataclasses.asdict(a) == dataclasses.asdict(
        sondeo.Resumen(sondeadas=5, cambios=1, fallidas=1, no_autenticado=True)
    )


def test_given_a_slice_already_polled_when_its_batch_runs_then_no_client_is_made_and_nothing_is_counted():
    # Given a batch whose invoices were all polled (or deleted) since the plan
    m = mundo()
    creados: list[int] = []
    m_deps = dataclasses.replace(m.deps, afacturar=lambda: creados.append(1) or m.cliente)
    # When it runs
    resumen = sondear_lote({"facturas": [{"tenant": TENANT, "cufe": CUFE}]}, m_deps)
    # Then no afacturar client (no secret read), an empty summary, no metric
    assert creados == [] and resumen["sondeadas"] == 0 and not resumen["no_autenticado"]
    assert not m.metricas.valores
