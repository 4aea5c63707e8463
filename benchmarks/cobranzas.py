"""Collections (cobranzas) CSV import benchmarks (run on demand). Prints figures; asserts nothing.

1. CPU pipeline, no network: a generated 100,000-row file (25,000 clients, ~4 concepts each) read in
   64 KiB chunks -> ``Lector`` (split, decode, validate) -> row digest -> ``Acciones`` (debt Update +
   invoice-pointer Put per row, payer-profile Update once per client) -> transactions of at most
   ``MAX_ACCIONES`` actions, a row's actions never split, each batch built and then dropped.
   In-process, pinned to one core. Rows/s: median of N runs; goal >= 15,000 rows/s.
   Memory: the peak traced by ``tracemalloc`` (a separate run) and the growth of the process's max
   RSS (``getrusage``) over the timed runs; goal <= 100 MB.
2. DynamoDB write requests per 1,000 rows: a whole import (claim + ``importacion.importar`` + finish,
   as the HTTP/S3 paths do) of a generated 1,000-row file against moto in-process, every write call
   counted on the boto3 client. Typical file (~4 concepts per client), worst case (1 concept per
   client) and a re-import of the same file. Goal <= 41.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from _entorno import ROOT  # noqa: F401 (first: the import paths and the environment)

from recaudo.data.cobranzas_acciones import MAX_ACCIONES, Acciones, Grupo
from recaudo.formats.cobranzas import Fallida, Lector
from recaudo.models.cobranzas import Integrador, Periodo

CHUNK_BYTES = 64 * 1024
TABLE = "recaudo-ledger"
INTEGRADOR = Integrador("club", "Club", "CLUB", "CLUB01", "America/Bogota")
PERIODO = Periodo("202611", date(2026, 11, 30))
NOW = datetime(2026, 11, 21, 15, tzinfo=UTC)  # America/Bogota: period 202611
MB = 1024 * 1024

# ---- a realistic file, shaped like Pay per TIC's model file (tests/data/paypertic-modelo.csv) ----

NOMBRES = (
    "Tomás",
    "Tobías",
    "Sofía",
    "Fabian",
    "Pepe",
    "Diego Ramón",
    "José",
    "María José",
    "Lucía",
    "Martín",
    "Agustín",
    "Valentina",
    "Camila",
    "Joaquín",
    "Inés",
    "Nicolás",
    "Florencia",
    "Ramón",
    "Julián",
    "Belén",
)
APELLIDOS = (
    "Gonzalez",
    "López",
    "Acevedo",
    "Barros",
    "Perez",
    "Villalba",
    "Centeno",
    "Fernández",
    "Rodríguez",
    "Gómez",
    "Martínez",
    "Díaz",
    "Sánchez",
    "Romero",
    "Álvarez",
    "Muñoz",
    "Benítez",
    "Núñez",
    "Suárez",
)
DOMINIOS = ("gmail.com", "yahoo.com.ar", "hotmail.com", "paperbit.com.ar", "yahoo.com")
# (IDConcepto, DescripcionConcepto, fixed amount or None for a per-row amount)
CONCEPTOS = (
    ("2", "Cuota yoga", "400"),
    ("3", "Cuota futbol", "199.90"),
    ("4", "Cuota spa", "350"),
    ("5", "Colonia de Vacaciones", "1322.10"),
    ("6", "Restaurant", None),
    ("7", "Bar", None),
    ("8", "Masajista", "700"),
    ("9", "Cuota Gimnasio", "250"),
    ("10", "Natación", "480.50"),
    ("11", "Cuota tenis", "215"),
    ("12", "Pileta climatizada", "320"),
)
SOCIAL = ("1", "Cuota social", "99")
_PLANO = str.maketrans("áéíóúñÁÉÍÓÚÑ", "aeiounAEIOUN")


def generar(clientes: int, conceptos_por_cliente: int, seed: int = 2026) -> Iterator[bytes]:
    """Lines (UTF-8, LF) of a file with this many clients, each with that many concepts (the first
    one "Cuota social"); one client in five also fills Opcional1/Opcional2 (10 fields)."""
    rng = random.Random(seed)
    ids = rng.sample(range(1, 10_000_000), clientes)
    for id_cliente in ids:
        nombre = f"{rng.choice(NOMBRES)} {rng.choice(APELLIDOS)}"
        usuario = nombre.lower().translate(_PLANO).replace(" ", rng.choice((".", "_", "")))
        mail = f"{usuario}{rng.randrange(100) if rng.random() < 0.5 else ''}@{rng.choice(DOMINIOS)}"
        celular = f"11{rng.randrange(10**8):08d}"
        telefono = f"(0221){rng.randrange(10**7):07d}" if rng.random() < 0.4 else f"4{rng.randrange(10**7):07d}"
        cabeza = f"{id_cliente};{nombre};{celular};{telefono};{mail}"
        opcionales = (
            f";Socio {rng.choice(('activo', 'vitalicio', 'cadete'))};Sede {rng.choice(('Norte', 'Centro'))}"
            if rng.random() < 0.2
            else ""
        )
        conceptos = (
            [SOCIAL, *rng.sample(CONCEPTOS, conceptos_por_cliente - 1)]
            if conceptos_por_cliente > 1
            else [rng.choice((SOCIAL, *CONCEPTOS))]
        )
        for id_concepto, descripcion, monto in conceptos:
            if monto is None:
                monto = f"{rng.randrange(5000, 250000) / 100:.2f}"
            yield f"{cabeza};{id_concepto};{descripcion};{monto}{opcionales}\n".encode()


def archivo(clientes: int, conceptos_por_cliente: int) -> bytes:
    return b"".join(generar(clientes, conceptos_por_cliente))


def escribir_temporal(clientes: int, conceptos_por_cliente: int) -> Path:
    fd, name = tempfile.mkstemp(prefix="cobranzas-bench-", suffix=".csv")
    with os.fdopen(fd, "wb", buffering=1024 * 1024) as f:
        for line in generar(clientes, conceptos_por_cliente):
            f.write(line)
    return Path(name)


def leer(path: Path) -> Iterator[bytes]:
    """The file in 64 KiB chunks, as the importer streams an HTTP body or an S3 object."""
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK_BYTES):
            yield chunk


# ---- 1. the CPU pipeline ----


def pipeline(path: Path) -> tuple[int, int, int, int]:
    """Decode + validate + the look-ahead's keys + build every transaction of a first import.
    -> (rows, failed, transactions, actions)."""
    lector = Lector()
    acciones = Acciones(TABLE, INTEGRADOR, PERIODO, "bench")
    personas: set[str] = set()
    grupos: list[Grupo] = []
    en_lote = transacciones = total = fallidas = 0
    for fila in lector.filas(leer(path)):
        if isinstance(fila, Fallida):
            fallidas += 1
            continue
        acciones.clave(fila)  # the look-ahead's key of the row (importacion.importar reads them by key)
        nuevos = []
        if fila.id_cliente not in personas:  # the payer's profile, once per client (as importacion.importar)
            personas.add(fila.id_cliente)
            nuevos.append(acciones.persona(fila))
        nuevos.append(acciones.fila(fila, fila.huella(), nueva=True))
        n = sum(len(g.acciones) for g in nuevos)
        if en_lote + n > MAX_ACCIONES:  # a row's actions (and its profile) never split
            request = [a for g in grupos for a in g.acciones]  # the TransactItems, then dropped
            total += len(request)
            transacciones += 1
            grupos, en_lote = [], 0
        grupos.extend(nuevos)
        en_lote += n
    if grupos:
        total += len([a for g in grupos for a in g.acciones])
        transacciones += 1
    return lector.validas, fallidas, transacciones, total


def max_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # Linux reports KiB, macOS bytes


def cpu(runs: int, clientes: int = 25_000, conceptos: int = 4) -> None:
    core = None
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
    path = escribir_temporal(clientes, conceptos)
    try:
        size = path.stat().st_size
        filas_esperadas = clientes * conceptos
        # the high-water mark before the first pipeline run (the warm-up), so the growth includes it
        rss_antes = max_rss_bytes()
        pipeline(path)  # warm-up: first-use costs (regex compile caches, lazy imports) out of the timings

        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            validas, fallidas, transacciones, total = pipeline(path)
            samples.append(time.perf_counter() - t0)
        rss_delta = max_rss_bytes() - rss_antes

        tracemalloc.start()
        t0 = time.perf_counter()
        pipeline(path)
        t_traced = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        path.unlink(missing_ok=True)

    median = statistics.median(samples)
    rate = validas / median
    print("\n1. CPU pipeline (decode + validate + digest + look-ahead keys + TransactWriteItems actions, no network)")
    print(f"   Python {sys.version.split()[0]}, pinned to core {core}" if core is not None else "   (not pinned)")
    print(
        f"   file: {filas_esperadas:,} rows, {clientes:,} clients x {conceptos} concepts, {size / MB:.1f} MB, read in 64 KiB chunks"
    )
    print(
        f"   result: {validas:,} valid rows, {fallidas} failed, {transacciones:,} transactions, {total:,} actions "
        f"({total / transacciones:.1f} per transaction)"
    )
    print(f"   time per run, {runs} runs: " + ", ".join(f"{s:.2f}" for s in samples) + " s")
    print(
        f"   throughput (median of {runs})             {rate:12,.0f} rows/s   goal >= 15,000   "
        f"{'MET' if rate >= 15_000 else 'NOT MET'}"
    )
    print(
        f"   peak memory, tracemalloc peak traced    {peak / MB:9.1f} MB       goal <= 100 MB   "
        f"{'MET' if peak <= 100 * MB else 'NOT MET'}   (separate run, {t_traced:.2f} s under tracing)"
    )
    print(
        f"   peak memory, max RSS growth (getrusage) {rss_delta / MB:9.1f} MB       goal <= 100 MB   "
        f"{'MET' if rss_delta <= 100 * MB else 'NOT MET'}   (over the warm-up + {runs} timed runs; process max RSS "
        f"{rss_antes / MB:.1f} -> {(rss_antes + rss_delta) / MB:.1f} MB)"
    )


# ---- 2. DynamoDB write requests ----

ESCRITURAS = {"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}


class Contador:
    """Every DynamoDB call the client makes, by operation (a botocore before-call hook)."""

    def __init__(self, client) -> None:
        self.llamadas: dict[str, int] = {}
        client.meta.events.register("before-call.dynamodb", self._hook)

    def _hook(self, model, **_) -> None:
        self.llamadas[model.name] = self.llamadas.get(model.name, 0) + 1

    def escrituras(self) -> int:
        return sum(n for op, n in self.llamadas.items() if op in ESCRITURAS)

    def reset(self) -> None:
        self.llamadas.clear()


def importacion_completa(deps, contenido: bytes, nombre: str):
    """What importar_http / importar_objeto do around the logic: claim, import, finish."""
    from cobranzas import importacion

    now = deps.clock()
    deps.cobranzas.reclamar_importacion(INTEGRADOR.id, nombre, "http", "", now, deps.claim_seconds)
    resultado = importacion.importar(INTEGRADOR, importacion.trozos(contenido), nombre, deps)
    deps.cobranzas.terminar_importacion(
        INTEGRADOR.id, nombre, resultado.linea(), "bench", resultado.importados, resultado.fallidos
    )
    return resultado


def escrituras() -> None:
    import boto3
    from moto import mock_aws

    from cobranzas.deps import CobranzasDeps
    from recaudo.data.cobranzas import CobranzasRepository
    from recaudo.data.tables import LEDGER

    print("\n2. DynamoDB write requests per 1,000 rows (whole import: claim + rows + finish; moto in-process)")
    casos = [("typical: 250 clients x 4 concepts", 250, 4), ("worst: 1,000 clients x 1 concept", 1000, 1)]
    for titulo, clientes, conceptos in casos:
        contenido = archivo(clientes, conceptos)
        # the local stack's own emulator fix: one rollback snapshot per table per transaction
        from local_stack.emulator import one_snapshot_per_transaction

        one_snapshot_per_transaction()
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name="us-east-1")
            ddb.create_table(**LEDGER.create_table_kwargs(TABLE))
            contador = Contador(ddb)
            repo = CobranzasRepository(TABLE, ddb)
            # one writer: moto in-process is not thread-safe (the local stack serialises it); the count
            # of write requests does not depend on how many threads send them
            deps = CobranzasDeps(cobranzas=repo, integradores=None, archivos=None, clock=lambda: NOW, escritores=1)
            for vez, nombre in ((1, titulo), (2, "re-import of the same file")):
                contador.reset()
                repo.solicitudes_escritura = 0
                t0 = time.perf_counter()
                resultado = importacion_completa(deps, contenido, f"http-bench-{vez}")
                elapsed = time.perf_counter() - t0
                filas = resultado.importados + resultado.fallidos
                n = contador.escrituras()
                por_mil = n * 1000 / filas
                detalle = ", ".join(f"{op} {c}" for op, c in sorted(contador.llamadas.items()))
                en_tabla = sum(1 for _ in repo.cobranzas(INTEGRADOR.id, PERIODO.codigo))  # after counting
                print(
                    f"   {nombre:<40} {por_mil:6.1f} writes / 1,000 rows   goal <= 41   {'MET' if por_mil <= 41 else 'NOT MET'}"
                )
                print(
                    f"     {resultado.linea()}; {resultado.escritas} rows written; {en_tabla:,} collections in the ledger; "
                    f"{elapsed:.1f} s under moto"
                )
                print(f"     calls: {detalle}  (repository's own write counter: {repo.solicitudes_escritura})")


if __name__ == "__main__":
    cpu(int(os.environ.get("BENCH_CPU_RUNS", "5")))
    escrituras()
