"""RADIAN polling benchmark (run on demand: `make bench`). Prints figures; asserts nothing.

The batch poller ``sondear`` (functions/radian/sondeo.py) as the poller Lambda runs it: the real
``AfacturarClient`` (async httpx, pools of four kept-alive connections) against the fake afacturar over
loopback, every reply applied by ``aplicar`` in the poller's own write threads, in a new event loop
per run as ``sondear_lote`` does. The
fake runs in a child process (afacturar is another machine: its threads must not share the poller's
GIL) and answers every poll after 100 ms: 9 CUFEs in 10 a 3-event history (030 032 033, the document's
example, with that invoice's own CUDEs: a new Título Valor, so events stored and a change written and
published), 1 in 10 "no events" (code 12).

1. 1,000 CUFEs, concurrency 32, rate limit 10,000/s (never binds): median wall time of N runs and its
   ratio to the ideal 1,000 / 32 x 100 ms = 3.125 s (goal <= 1.25x); the poller's CPU per run (one
   event loop under one GIL: a floor for the wall time); peak memory (``tracemalloc``'s peak in a
   separate run: without HTTP, for tracing makes httpcore's pool ten times slower, unless
   BENCH_RADIAN_TRACE_HTTP=1; and the growth of the process's max RSS over the first timed run); the
   polls the fake received (1,000 per run), the most in flight at once and the connections it
   accepted. Where the CPU goes (counted in the first run): httpcore's pool passes and failed
   ``import sniffio``s per poll; then one run each with a single httpx pool (its defaults, and sized
   to the concurrency) for comparison, and at concurrency 8 (500 CUFEs) and 64.
   Storage in memory: a ``Facturas`` with the repository's semantics (version-conditioned
   ``guardar``), so DynamoDB's cost is not in these figures.
2. ``sondear`` without HTTP (a stand-in client: 100 ms of ``asyncio.sleep``, the reply already read):
   the poller's own cost, and the write path's latency with a simulated 10 ms per DynamoDB/EventBridge
   call.
3. 100 CUFEs (BENCH_RADIAN_MOTO_CUFES), storage through the real ``FacturasRepository`` and
   ``EventBridgePublisher`` under moto (in-process, calls serialised as the local stack's emulator
   does; moto copies the table for every transaction, so its cost per invoice grows with the table):
   an upper bound, not DynamoDB's figure.

BENCH_RADIAN_CUFES and BENCH_RADIAN_RUNS change the 1,000 CUFEs and the 5 timed runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import multiprocessing
import os
import resource
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Any

from _entorno import ROOT  # noqa: F401 (first: the import paths and the environment)

N = int(os.environ.get("BENCH_RADIAN_CUFES", "1000"))
RUNS = int(os.environ.get("BENCH_RADIAN_RUNS", "5"))
MOTO_CUFES = int(os.environ.get("BENCH_RADIAN_MOTO_CUFES", "100"))
LATENCY = 0.1
CONCURRENCY = 32
RATE = 10_000.0  # calls started per second: far above 32 / 100 ms, so it never binds
GOAL = 1.25
STORE_DELAY = 0.010  # section 2: one DynamoDB or EventBridge call, simulated
TOKEN = "bench-afacturar-token"
TENANT = "bench"
TABLE = "recaudo-radian"
MB = 1024 * 1024


def ideal(n: int, concurrency: int) -> float:
    return n / concurrency * LATENCY


def veredicto(ratio: float) -> str:
    return "MET" if ratio <= GOAL else "NOT MET"


def cufe(i: int) -> str:
    return hashlib.sha384(f"recaudo-bench-radian-{i}".encode()).hexdigest()


def sin_eventos(i: int) -> bool:
    return i % 10 == 0


def guion(i: int) -> bytes:
    """afacturar's reply for invoice ``i``: the document's 3 events with their own CUDEs, or (1 in 10)
    code 12, no events, as the fake answers a CUFE it does not know."""
    from local_stack.fakes.afacturar import evento

    if sin_eventos(i):
        body: dict[str, Any] = {"codigo_error": 12, "descripcion_error": "Sin eventos", "resultado": []}
    else:
        filas = (("030", "2022-11-30 21:22:17"), ("032", "2022-11-30 21:22:37"), ("033", "2022-11-30 21:23:07"))
        eventos = [evento(f"bench-{i}", n, codigo, fecha) for n, (codigo, fecha) in enumerate(filas, start=1)]
        body = {"codigo_error": 0, "descripcion_error": "OK", "resultado": eventos}
    body |= {"tiempo_ejecucion": LATENCY, "transaccion": f"6387c0e9{i:05x}"}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


# ---- the fake afacturar, in a child process ----


def fake_process(conn: Any, n: int, latency: float) -> None:
    """Serve the fake (the 3-event replies scripted; the others are CUFEs it does not know) and answer
    the parent: "stats" -> the polls, the most requests in flight, the connections accepted (these two
    since the last "stats") and the process's CPU seconds; "stop"."""
    from local_stack.fakes.afacturar import FakeAfacturar

    fake = FakeAfacturar(token=TOKEN, latency=latency)
    url = fake.serve()
    for i in range(n):
        if not sin_eventos(i):
            fake.set_historial(cufe(i), guion(i))
    lock = threading.Lock()
    cuenta = {"en_vuelo": 0, "max": 0, "conexiones": 0}
    assert fake._server is not None
    base: Any = fake._server.RequestHandlerClass

    class Contado(base):
        def setup(self) -> None:
            with lock:
                cuenta["conexiones"] += 1
            super().setup()

        def do_POST(self) -> None:
            with lock:
                cuenta["en_vuelo"] += 1
                cuenta["max"] = max(cuenta["max"], cuenta["en_vuelo"])
            try:
                super().do_POST()
            finally:
                with lock:
                    cuenta["en_vuelo"] -= 1

    fake._server.RequestHandlerClass = Contado
    conn.send(url)
    while (orden := conn.recv()) != "stop":
        assert orden == "stats"
        with fake.lock, lock:
            polls = sum(fake.polls.values())
            conn.send({"polls": polls, "cpu": time.process_time(), **cuenta})
            cuenta["max"], cuenta["conexiones"] = 0, 0
    fake.stop()


class Fake:
    def __init__(self, n: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=fake_process, args=(child, n, LATENCY), daemon=True)
        self._process.start()
        self.url: str = self._conn.recv()
        self._polls, self._cpu = 0, 0.0

    def stats(self) -> tuple[int, int, int, float]:
        """Polls, most in flight, connections accepted, the fake's CPU seconds: since the last call."""
        self._conn.send("stats")
        s = self._conn.recv()
        polls, self._polls = s["polls"] - self._polls, s["polls"]
        cpu, self._cpu = s["cpu"] - self._cpu, s["cpu"]
        return polls, s["max"], s["conexiones"], cpu

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(10)


# ---- storage and the other ports ----


class FacturasEnMemoria:
    """The repository's semantics in a dict: ``guardar`` writes the invoice and its new events only if
    the stored one is still at the version read (and of the same registration); ``confirmar_publicacion``
    forgets only that change and moves the version on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._facturas: dict[tuple[str, str], Any] = {}
        self._eventos: dict[tuple[str, str], dict[str, Any]] = {}

    def registrar(self, factura: Any) -> bool:
        with self._lock:
            clave = (factura.tenant, factura.cufe)
            if clave in self._facturas:
                return False
            self._facturas[clave] = factura
            return True

    def get(self, tenant: str, cufe: str) -> Any:
        with self._lock:
            return self._facturas.get((tenant, cufe))

    def eventos(self, tenant: str, cufe: str) -> list[Any]:
        with self._lock:
            return list(self._eventos.get((tenant, cufe), {}).values())

    def guardar(self, factura: Any, version_leida: int, nuevos: Iterable[Any] = ()) -> bool:
        with self._lock:
            clave = (factura.tenant, factura.cufe)
            actual = self._facturas.get(clave)
            if actual is None or actual.version != version_leida or actual.registrada != factura.registrada:
                return False
            self._eventos.setdefault(clave, {}).update({e.cude: e for e in nuevos})
            self._facturas[clave] = factura
            return True

    def confirmar_publicacion(self, tenant: str, cufe: str, version: int) -> None:
        """Forget that change (not a newer one), and move the version on, as the repository does."""
        with self._lock:
            actual = self._facturas.get((tenant, cufe))
            if actual is not None and actual.cambio_pendiente and actual.cambio_pendiente.version == version:
                self._facturas[(tenant, cufe)] = replace(actual, cambio_pendiente=None, version=actual.version + 1)

    # not on the poller's path
    def eliminar(self, tenant: str, cufe: str) -> bool:
        raise NotImplementedError

    def listar(self, tenant: str, insignia: Any, limite: int, siguiente: str | None) -> tuple[list[Any], str | None]:
        raise NotImplementedError

    def lotes(self, corte: datetime, tamano: int, maximo: int) -> Iterator[Any]:
        raise NotImplementedError

    def del_lote(self, shard: int, desde: str, hasta: str) -> list[Any]:
        raise NotImplementedError


class Publicados:
    def __init__(self) -> None:
        self.n = 0
        self._lock = threading.Lock()

    def publish(self, detail_type: str, detail: Any) -> None:
        with self._lock:
            self.n += 1


class ConDemora:
    """Every call on the poller's path sleeps ``demora`` first (a round trip: the GIL released)."""

    def __init__(self, inner: Any, demora: float) -> None:
        self._inner, self._demora = inner, demora

    def __getattr__(self, name: str) -> Any:
        metodo = getattr(self._inner, name)
        if name == "registrar":  # the benchmark's setup
            return metodo

        def llamada(*args: Any, **kwargs: Any) -> Any:
            time.sleep(self._demora)
            return metodo(*args, **kwargs)

        return llamada


class Serializado:
    """Every call under one lock: moto's backend is not safe across threads (the local stack's
    emulator serialises DynamoDB calls the same way)."""

    def __init__(self, inner: Any, lock: threading.Lock) -> None:
        self._inner, self._lock = inner, lock

    def __getattr__(self, name: str) -> Any:
        metodo = getattr(self._inner, name)

        def llamada(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return metodo(*args, **kwargs)

        return llamada


class Nada:
    """The state machine and the metrics: not on ``sondear``'s path."""

    def start(self, name: str, payload: dict[str, Any]) -> str:
        raise NotImplementedError

    def running(self, prefix: str) -> bool:
        return False

    def count(self, name: str, value: int = 1) -> None:
        pass


# ---- clients ----


def cliente(url: str, conexiones: int = 32, transport: Any = None) -> Callable[[], Any]:
    """A client per run, as the poller's ``_afacturar`` makes it (``conexiones`` = its concurrency: pools
    of four, kept alive, one TLS context); ``transport``: one httpx pool instead, for comparison."""
    from recaudo.clients.radian import AfacturarClient

    def nuevo() -> Any:
        return AfacturarClient(url, TOKEN, transport=transport, conexiones=conexiones)

    return nuevo


class SinHttp:
    """A stand-in for ``AfacturarClient``: 100 ms of ``asyncio.sleep``, then the reply already read."""

    def __init__(self, respuestas: dict[str, Any]) -> None:
        self._respuestas = respuestas

    async def historial(self, cufe: str) -> Any:
        await asyncio.sleep(LATENCY)
        return self._respuestas[cufe]

    async def aclose(self) -> None:
        pass


def sin_http(n: int) -> Callable[[], Any]:
    from recaudo.clients.radian import interpretar

    respuestas = {cufe(i): interpretar(200, guion(i)) for i in range(n)}
    return lambda: SinHttp(respuestas)


# ---- one run ----


def facturas(n: int) -> list[Any]:
    from recaudo.models.radian import Factura

    ahora = datetime.now(UTC)
    return [
        Factura(tenant=TENANT, cufe=cufe(i), registrada=ahora - timedelta(days=2), proximo_sondeo=ahora)
        for i in range(n)
    ]


@dataclass
class Corrida:
    segundos: float
    cpu: float
    resumen: Any
    publicados: int
    polls: int = 0
    en_vuelo: int = 0
    conexiones: int = 0
    fake_cpu: float = 0.0


def correr(
    fake: Fake | None,
    n: int,
    concurrencia: int,
    afacturar: Callable[[], Any],
    storage: Any = None,
    eventos: Any = None,
) -> Corrida:
    """One ``sondear`` over ``n`` fresh invoices (registered in ``storage``, in memory unless given),
    in a new event loop as ``sondear_lote`` does."""
    from radian.deps import SondeoDeps
    from radian.sondeo import sondear

    from recaudo.models.radian import PoliticaSondeo

    lote = facturas(n)
    storage = storage if storage is not None else FacturasEnMemoria()
    for f in lote:
        storage.registrar(f)
    publicados = Publicados()
    deps = SondeoDeps(
        facturas=storage,
        afacturar=afacturar,
        eventos=eventos if eventos is not None else publicados,
        flujo=Nada(),
        metricas=Nada(),
        politica=PoliticaSondeo(),
        concurrencia=concurrencia,
        por_segundo=RATE,
    )

    async def run() -> Any:
        return await sondear(lote, deps)

    if fake is not None:
        fake.stats()  # from here
    cpu0, t0 = time.process_time(), time.perf_counter()
    resumen = asyncio.run(run())
    c = Corrida(time.perf_counter() - t0, time.process_time() - cpu0, resumen, publicados.n)
    if fake is not None:
        c.polls, c.en_vuelo, c.conexiones, c.fake_cpu = fake.stats()
    return c


def resumen(c: Corrida) -> str:
    r = c.resumen
    return (
        f"{r.sondeadas} polled ({r.cambios} changed, {r.sin_cambio} unchanged, {r.fallidas} failed, "
        f"{r.reintentar} to retry), {r.eventos_nuevos} events stored"
    )


def del_fake(c: Corrida) -> str:
    return f"the fake: {c.polls} polls, at most {c.en_vuelo} in flight, {c.conexiones} connections accepted"


def max_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # Linux reports KiB, macOS bytes


# ---- where the CPU goes ----


@contextlib.contextmanager
def contadores() -> Iterator[dict[str, int]]:
    """Counts ``import sniffio`` attempts (httpcore imports it for every lock, event and semaphore it
    sets up; it is not installed, and Python does not cache a failed import) and the passes of
    httpcore's pool over its requests and connections."""
    from httpcore._async.connection_pool import AsyncConnectionPool

    cuenta = {"sniffio": 0, "pasadas": 0}

    class Buscador:
        @staticmethod
        def find_spec(nombre: str, path: Any = None, target: Any = None) -> None:
            if nombre == "sniffio":
                cuenta["sniffio"] += 1

    original = AsyncConnectionPool._assign_requests_to_connections

    def contada(self: Any) -> Any:
        cuenta["pasadas"] += 1
        return original(self)

    sys.meta_path.insert(0, Buscador)
    AsyncConnectionPool._assign_requests_to_connections = contada  # type: ignore[method-assign]
    try:
        yield cuenta
    finally:
        sys.meta_path.remove(Buscador)
        AsyncConnectionPool._assign_requests_to_connections = original  # type: ignore[method-assign]


# ---- 1. the real client, storage in memory ----


def con_http(fake: Fake) -> None:
    import aiolimiter  # noqa: F401 (imported before the memory baseline, like the rest of the poller)
    import httpx
    import radian.sondeo  # noqa: F401

    import recaudo.clients.radian  # noqa: F401

    print(
        f"\n1. {N:,} CUFEs, fake afacturar at {LATENCY * 1000:.0f} ms (child process, loopback), concurrency "
        f"{CONCURRENCY}, rate limit {RATE:,.0f}/s; storage: in memory (DynamoDB's cost is not in this figure)"
    )
    print(
        f"   Python {sys.version.split()[0]}, httpx {httpx.__version__}, httpcore {version('httpcore')}, "
        f"anyio {version('anyio')}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f} at the start"
    )
    print("   the client as the poller makes it (pools of four connections, kept alive; one TLS context)")
    objetivo = ideal(N, CONCURRENCY)
    afacturar = cliente(fake.url, CONCURRENCY)
    correr(fake, 10, CONCURRENCY, afacturar)  # warm-up: first-use costs out of the timings
    rss_antes = max_rss_bytes()
    with contadores() as cuenta:  # the first timed run is also counted (a few µs per poll) and measured
        corridas = [correr(fake, N, CONCURRENCY, afacturar)]
    rss_delta = max_rss_bytes() - rss_antes
    corridas += [correr(fake, N, CONCURRENCY, afacturar) for _ in range(RUNS - 1)]
    primera = corridas[0]
    # tracemalloc slows httpcore's pool tenfold (~35 s a run): traced without HTTP unless asked
    trazar_http = os.environ.get("BENCH_RADIAN_TRACE_HTTP") == "1"
    tracemalloc.start()
    trazada = correr(fake, N, CONCURRENCY, afacturar) if trazar_http else correr(None, N, CONCURRENCY, sin_http(N))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    tiempos = [c.segundos for c in corridas]
    mediana = statistics.median(tiempos)
    ratio = mediana / objetivo
    cpu = statistics.median(c.cpu for c in corridas)
    print(f"   time per run, {RUNS} runs: " + ", ".join(f"{t:.2f}" for t in tiempos) + " s")
    print(
        f"   wall time (median of {RUNS})          {mediana:6.2f} s   ideal {objetivo:.3f} s   ratio {ratio:.2f}x   "
        f"goal <= {GOAL}x   {veredicto(ratio)}"
    )
    print(
        f"   poller CPU per run (median)         {cpu:6.2f} s   one event loop under one GIL: a floor for the "
        f"wall time ({cpu / objetivo:.2f}x the ideal)"
    )
    print(
        f"   the fake's CPU per run (median)     {statistics.median(c.fake_cpu for c in corridas):6.2f} s   "
        f"(its own process, on the same {os.cpu_count()} cpus)"
    )
    como = (
        "the client as above"
        if trazar_http
        else "2.'s stand-in client, without HTTP; BENCH_RADIAN_TRACE_HTTP=1 traces the real one"
    )
    print(
        f"   peak memory, tracemalloc peak traced    {peak / MB:5.1f} MB   (a separate run, {trazada.segundos:.2f} s under "
        f"tracing: {como})"
    )
    print(
        f"   peak memory, max RSS growth (getrusage) {rss_delta / MB:5.1f} MB   over the first timed run, after the "
        f"imports and a 10-CUFE warm-up (process max RSS {rss_antes / MB:.1f} -> {(rss_antes + rss_delta) / MB:.1f} MB)"
    )
    print(f"   each run: {resumen(corridas[-1])}, {corridas[-1].publicados} changes published")
    print(f"   each run, {del_fake(corridas[-1])}")
    polls = [c.polls for c in corridas]
    todas = "all" if all(p == N for p in polls) else "NOT all"
    print(f"   polls the fake received per run: {', '.join(map(str, polls))}   {todas} = {N:,}")

    print("   where the poller's CPU goes (counted in the first run):")
    print(
        f"     httpcore's pool: {cuenta['pasadas'] / N:.1f} passes over all its requests and connections per poll; "
        f"{primera.conexiones} connections opened for {N:,} polls"
    )
    print(
        f"     failed `import sniffio` per poll: {cuenta['sniffio'] / N:.1f} (the layer ships sniffio: httpcore "
        f"would retry the failed import for every lock, ~1 ms a poll)"
    )

    print("   one change at a time (one run each):")
    tamano = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    variantes: list[tuple[str, Callable[[], Any], bool]] = [
        (
            "one httpx pool, its defaults (100, 20 kept alive)",
            cliente(fake.url, transport=httpx.AsyncHTTPTransport()),
            False,
        ),
        (
            f"one httpx pool of {CONCURRENCY}, all kept alive",
            cliente(fake.url, transport=httpx.AsyncHTTPTransport(limits=tamano)),
            False,
        ),
    ]
    for nombre, fabrica, _ in variantes:
        c = correr(fake, N, CONCURRENCY, fabrica)
        print(
            f"     {nombre:<50} {c.segundos:5.2f} s  ratio {c.segundos / objetivo:.2f}x  poller CPU {c.cpu:5.2f} s  "
            f"{c.conexiones} connections, {c.polls} polls"
        )

    print("   scaling (one run each, the client as the poller makes it; at 8, half the CUFEs, to keep it short):")
    for concurrencia, n in ((8, N // 2), (64, N)):
        c = correr(fake, n, concurrencia, cliente(fake.url, concurrencia))
        objetivo_c = ideal(n, concurrencia)
        print(
            f"     concurrency {concurrencia:2}, {n:,} CUFEs: {c.segundos:5.2f} s   ideal {objetivo_c:6.3f} s   ratio "
            f"{c.segundos / objetivo_c:.2f}x   poller CPU {c.cpu:5.2f} s   at most {c.en_vuelo} in flight, "
            f"{c.conexiones} connections, {c.polls} polls"
        )


# ---- 2. without HTTP ----


def sin_red() -> None:
    cpus = os.cpu_count() or 1
    defecto = min(32, cpus + 4)
    objetivo = ideal(N, CONCURRENCY)
    print(
        f"\n2. sondear without HTTP: {N:,} CUFEs, concurrency {CONCURRENCY}, a stand-in client "
        f"({LATENCY * 1000:.0f} ms of asyncio.sleep, the reply already read)"
    )
    afacturar = sin_http(N)
    c = correr(None, N, CONCURRENCY, afacturar)
    print(
        f"   storage in memory                     {c.segundos:5.2f} s   ratio {c.segundos / objetivo:.2f}x   "
        f"CPU {c.cpu:.2f} s   {resumen(c)}"
    )
    # a changed invoice: the transaction, PutEvents, the UpdateItem; an unchanged one: the transaction
    cuantas = len([i for i in range(N) if sin_eventos(i)])
    por_factura = ((N - cuantas) * 3 + cuantas) / N * STORE_DELAY
    print(
        f"   storage in memory plus a simulated {STORE_DELAY * 1000:.0f} ms per DynamoDB/EventBridge call "
        f"({por_factura * 1000:.0f} ms per invoice on average):"
    )
    c = correr(
        None,
        N,
        CONCURRENCY,
        afacturar,
        storage=ConDemora(FacturasEnMemoria(), STORE_DELAY),
        eventos=ConDemora(Publicados(), STORE_DELAY),
    )
    print(
        f"     replies written by the poller's own {CONCURRENCY} threads, each call's slot freed first: "
        f"{c.segundos:5.2f} s   ratio {c.segundos / objetivo:.2f}x   (the default executor, {defecto} threads, "
        f"would write at most {defecto / por_factura:.0f} invoices/s: {N / (defecto / por_factura):.2f} s)"
    )


# ---- 3. moto ----


def moto(fake: Fake) -> None:
    import boto3
    from moto import mock_aws

    from local_stack.emulator import one_snapshot_per_transaction
    from recaudo.data.radian import FacturasRepository
    from recaudo.data.tables import RADIAN
    from recaudo.events import EventBridgePublisher

    n = MOTO_CUFES
    print(
        f"\n3. {n:,} CUFEs, concurrency {CONCURRENCY}, the real client and fake; storage: the real "
        f"FacturasRepository and EventBridgePublisher under moto (in-process, calls serialised: an upper bound, "
        f"not DynamoDB's cost)"
    )
    one_snapshot_per_transaction()  # the local stack's emulator fix; safe: calls are serialised here
    lock = threading.Lock()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(**RADIAN.create_table_kwargs(TABLE))
        repo = Serializado(FacturasRepository(TABLE, ddb), lock)
        events = boto3.client("events", region_name="us-east-1")
        publisher = Serializado(EventBridgePublisher(events, "default", "recaudo.radian"), lock)
        c = correr(fake, n, CONCURRENCY, cliente(fake.url, CONCURRENCY), storage=repo, eventos=publisher)
    objetivo = ideal(n, CONCURRENCY)
    print(
        f"   wall time (one run)   {c.segundos:6.2f} s   ideal {objetivo:.3f} s   ratio {c.segundos / objetivo:.2f}x   "
        f"goal <= {GOAL}x   {veredicto(c.segundos / objetivo)} (under moto)"
    )
    print(f"   poller CPU            {c.cpu:6.2f} s   {c.cpu / n * 1000:.1f} ms per invoice, moto's included")
    print(f"   {resumen(c)}; {del_fake(c)}")


if __name__ == "__main__":
    print("RADIAN polling")
    fake = Fake(max(N, MOTO_CUFES))
    try:
        con_http(fake)
        sin_red()
        moto(fake)
    finally:
        fake.stop()
    print(f"\n(load average {os.getloadavg()[0]:.1f} at the end)")
