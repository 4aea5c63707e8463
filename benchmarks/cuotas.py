"""Sistema UNO paymentDue benchmark (run on demand: `python benchmarks/cuotas.py`). Prints figures; asserts nothing.

Two payloads: (a) the document's (tests/data/uno_paymentDue_documento.xml: 2 dues, 7 payments) and (b) a
generated one of 500 dues (3 contiguous payments each, inside the demo school year, over the demo's priced
articles, prices with cents). For each, per request and per due, median and p95 of:

1. parse + validate: ``parse_payment_due`` (size check, hardened lxml, the XSD, the ``Cuota`` objects);
2. parse + validate + the logic: ``configurar`` with an in-memory ``Cuotas`` (the port's semantics: prices,
   ids, version-checked writes in transactions of at most 100 items) and no AWS: every due is new, so every
   run writes everything;
3. the whole ``configurar`` handler in-process (resolver, decorators, base64 body, XML reply) with the real
   ``CuotasRepository`` under moto (``mock_aws``, with the local stack's one-snapshot-per-transaction fix):
   a fresh table per run, so each run writes every due. moto's cost is in it: an upper bound, not DynamoDB's.

BENCH_CUOTAS_RUNS_DOC, BENCH_CUOTAS_RUNS_500 and BENCH_CUOTAS_RUNS_HANDLER change the 200, 30 and 15 runs.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from importlib.metadata import version
from typing import Any

from _entorno import ROOT  # first: the import paths and the environment

RUNS_DOC = int(os.environ.get("BENCH_CUOTAS_RUNS_DOC", "200"))
RUNS_500 = int(os.environ.get("BENCH_CUOTAS_RUNS_500", "30"))
RUNS_HANDLER = int(os.environ.get("BENCH_CUOTAS_RUNS_HANDLER", "15"))
DUES = 500
TABLE = "recaudo-cuotas"
os.environ["CUOTAS_TABLE"] = TABLE

DOCUMENT = (ROOT / "tests" / "data" / "uno_paymentDue_documento.xml").read_bytes()
NOW = datetime(2026, 11, 21, 15, tzinfo=UTC)


def generated(n: int) -> bytes:
    """``n`` dues, 3 contiguous monthly-ish payments each, inside 2017, over the demo's priced articles."""
    from ops.cuotas import DEMO_ARTICULOS_CON_PRECIO

    dues = []
    for i in range(n):
        article = DEMO_ARTICULOS_CON_PRECIO[i % len(DEMO_ARTICULOS_CON_PRECIO)]
        start = date(2017, 1, 1) + timedelta(days=i % 200)
        payments = []
        for k in range(3):
            s, e = start + timedelta(days=30 * k), start + timedelta(days=30 * k + 29)
            payments.append(
                f"<payment><price>{1000 + i}.{(i * 7 + k) % 100:02d}</price><discountPercent>5.25</discountPercent>"
                f"<taxPercent>0</taxPercent><startDate>{s}</startDate><endDate>{e}</endDate></payment>"
            )
        dues.append(
            f"<due><articleRefId>{article}</articleRefId><gradeRefId>{41 + i}</gradeRefId><termRefId>905</termRefId>"
            f"<salesTypeRefId>45</salesTypeRefId><payments>{''.join(payments)}</payments></due>"
        )
    body = '<?xml version="1.0" encoding="utf-8"?>\n<paymentDue>' + "".join(dues) + "</paymentDue>"
    return body.encode()


# ---- the in-memory port ----


@dataclass
class CuotasEnMemoria:
    """``Cuotas`` with the repository's semantics, in a dict: the demo's year and priced articles."""

    ciclo: Any
    precios: set[int]
    guardadas: dict[Any, Any] = field(default_factory=dict)
    ultimo_id: int = 0

    def ciclo_del_colegio(self, ctx: Any) -> Any:
        return self.ciclo

    def articulos_con_precio(self, ctx: Any, articulos: Iterable[int]) -> set[int]:
        return self.precios & set(articulos)

    def cuotas(self, ctx: Any, claves: Iterable[Any]) -> dict[Any, Any]:
        return {c: self.guardadas[c] for c in claves if c in self.guardadas}

    def todas(self, ctx: Any) -> list[Any]:
        return list(self.guardadas.values())

    def reservar_ids(self, cantidad: int) -> list[int]:
        self.ultimo_id += cantidad
        return list(range(self.ultimo_id - cantidad + 1, self.ultimo_id + 1))

    @staticmethod
    def acciones(articulos: int, cuotas: int) -> int:
        return 1 + articulos + cuotas

    def guardar(self, ctx: Any, cuotas: list[tuple[Any, int | None]], now: datetime) -> Any:
        from dataclasses import replace

        from recaudo.models.cuotas import Rechazo

        conflicto = frozenset(
            c.clave
            for c, v in cuotas
            if (v is None and c.clave in self.guardadas)
            or (v is not None and getattr(self.guardadas.get(c.clave), "version", None) != v)
        )
        if conflicto:
            return Rechazo(en_conflicto=conflicto)
        for c, v in cuotas:
            self.guardadas[c.clave] = replace(c, version=(v or 0) + 1)
        return None


class SinMetricas:
    def count(self, name: str, value: int = 1) -> None:
        pass


# ---- timing ----


@dataclass
class Cifra:
    muestras: list[float]  # seconds

    @property
    def mediana(self) -> float:
        return statistics.median(self.muestras)

    @property
    def p95(self) -> float:
        ordenadas = sorted(self.muestras)
        return ordenadas[min(len(ordenadas) - 1, round(0.95 * (len(ordenadas) - 1)))]


def medir(runs: int, preparar: Callable[[], Any], correr: Callable[[Any], Any], warmup: int = 2) -> Cifra:
    """``correr(preparar())`` timed ``runs`` times (``preparar`` outside the timing)."""
    for _ in range(warmup):
        correr(preparar())
    muestras = []
    for _ in range(runs):
        arg = preparar()
        t0 = time.perf_counter()
        correr(arg)
        muestras.append(time.perf_counter() - t0)
    return Cifra(muestras)


def ms(s: float) -> str:
    return f"{s * 1000:9.3f}"


def us(s: float) -> str:
    return f"{s * 1e6:9.1f}"


# ---- 1 and 2: in memory ----


def en_memoria(payloads: dict[str, tuple[bytes, int, int]]) -> dict[tuple[str, str], Cifra]:
    from cuotas.cuotas import configurar
    from cuotas.deps import CuotasDeps
    from lxml import etree

    from ops.cuotas import DEMO_ARTICULOS_CON_PRECIO, DEMO_CICLO, DEMO_CONTEXTO
    from recaudo.formats.cuotas import _PARSER, _SCHEMA, parse_payment_due

    ctx = DEMO_CONTEXTO

    def deps() -> CuotasDeps:
        memoria = CuotasEnMemoria(DEMO_CICLO, set(DEMO_ARTICULOS_CON_PRECIO))
        return CuotasDeps(cuotas=memoria, metricas=SinMetricas(), clock=lambda: NOW)

    def logica(arg: tuple[CuotasDeps, bytes]) -> None:
        d, data = arg
        resultados = configurar(ctx.business_id, ctx, parse_payment_due(data), d)
        assert all(r.status == 200 for r in resultados), resultados[:3]

    def reglas(arg: tuple[CuotasDeps, list[Any]]) -> None:
        d, cuotas = arg
        resultados = configurar(ctx.business_id, ctx, cuotas, d)
        assert all(r.status == 200 for r in resultados), resultados[:3]

    def lxml_xsd(data: bytes) -> None:
        assert _SCHEMA.validate(etree.fromstring(data, _PARSER))

    def tal_cual(x: Any) -> Any:
        return x

    def con_deps(x: Any) -> tuple[CuotasDeps, Any]:
        return deps(), list(x) if isinstance(x, list) else x  # configurar sets ids in the list it gets

    out: dict[tuple[str, str], Cifra] = {}
    for nombre, (data, dues, runs) in payloads.items():
        cuotas = parse_payment_due(data)
        assert len(cuotas) == dues
        out[(nombre, "lxml")] = medir(runs, partial(tal_cual, data), lxml_xsd)
        out[(nombre, "parse")] = medir(runs, partial(tal_cual, data), parse_payment_due)
        out[(nombre, "rules")] = medir(runs, partial(con_deps, cuotas), reglas)
        out[(nombre, "logic")] = medir(runs, partial(con_deps, data), logica)
    return out


# ---- 3: the handler under moto ----


def evento(data: bytes, ctx: dict[str, int]) -> dict[str, Any]:
    from urllib.parse import quote

    from tests.helpers import rest_event

    path = f"/wssb/admin/paymentDue;contextId={quote(json.dumps(ctx), safe='')}"
    event = rest_event(
        "POST",
        path,
        headers={"Content-Type": "application/xml"},
        authorizer={"businessId": str(ctx["businessId"]), "principalId": f"empresa:{ctx['businessId']}"},
    )
    event["resource"] = "/wssb/admin/{recurso}"
    event["pathParameters"] = {"recurso": path.rsplit("/", 1)[1]}
    event["body"], event["isBase64Encoded"] = base64.b64encode(data).decode("ascii"), True
    return event


def con_moto(payloads: dict[str, tuple[bytes, int, int]]) -> dict[str, Cifra]:
    import boto3
    from moto import mock_aws

    from local_stack.emulator import one_snapshot_per_transaction
    from ops.cuotas import DEMO_ARTICULOS_CON_PRECIO, DEMO_CICLO, DEMO_CONTEXTO
    from recaudo.aws import nueva_sesion
    from recaudo.data.cuotas import CuotasRepository
    from recaudo.data.tables import CUOTAS
    from tests.helpers import LambdaContext

    one_snapshot_per_transaction()  # the local stack's emulator fix
    c = DEMO_CONTEXTO
    ctx = {"businessId": c.business_id, "schoolId": c.school_id, "schoolYearId": c.school_year_id}
    out: dict[str, Cifra] = {}
    with mock_aws():
        nueva_sesion()
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        from cuotas import configurar  # its deps are built on first use, inside mock_aws

        repo = CuotasRepository(TABLE, ddb)

        def tabla_nueva() -> None:
            """A fresh table with the demo's business, year, school and priced articles: every due is new."""
            with contextlib.suppress(ddb.exceptions.ResourceNotFoundException):
                ddb.delete_table(TableName=TABLE)
            ddb.create_table(**CUOTAS.create_table_kwargs(TABLE))
            repo.crear_empresa(c.business_id, "Empresa bench", NOW)
            repo.crear_ciclo(c.business_id, DEMO_CICLO)
            repo.crear_colegio(c.business_id, c.school_id, "Colegio bench", [c.school_year_id])
            for articulo in DEMO_ARTICULOS_CON_PRECIO:
                repo.configurar_precio(c, articulo)

        for nombre, (data, dues, _runs) in payloads.items():
            event = evento(data, ctx)

            def llamar(_a: Any, event: dict[str, Any] = event, dues: int = dues) -> None:
                with contextlib.redirect_stdout(io.StringIO()):  # the metrics' EMF lines
                    response = configurar.handler(json.loads(json.dumps(event)), LambdaContext())
                assert response["statusCode"] == 200, response
                body = response["body"]
                body = base64.b64decode(body).decode() if response.get("isBase64Encoded") else body
                assert body.count('statusCode="200"') == dues, body[:500]

            out[nombre] = medir(RUNS_HANDLER, tabla_nueva, llamar, warmup=1)
        nueva_sesion()
    return out


if __name__ == "__main__":
    doc_dues = 2
    grande = generated(DUES)
    payloads = {
        "document": (DOCUMENT, doc_dues, RUNS_DOC),
        f"{DUES} dues": (grande, DUES, RUNS_500),
    }
    print(
        f"Sistema UNO paymentDue (Python {sys.version.split()[0]}, lxml {version('lxml')}, moto {version('moto')})\n"
        f"  (a) the document's payload: {len(DOCUMENT):,} bytes, 2 dues, 7 payments; {RUNS_DOC} runs\n"
        f"  (b) generated: {len(grande):,} bytes, {DUES} dues, {3 * DUES} payments; {RUNS_500} runs\n"
        f"  the handler under moto: {RUNS_HANDLER} runs each"
    )
    memoria = en_memoria(payloads)
    moto = con_moto(payloads)

    pasos = (
        ("lxml parse + XSD only", "lxml"),
        ("parse + validate (Cuotas)", "parse"),
        ("configurar alone (in memory)", "rules"),
        ("parse + validate + configurar", "logic"),
        ("handler under moto", "moto"),
    )

    def cifra(nombre: str, clave: str) -> Cifra:
        return moto[nombre] if clave == "moto" else memoria[(nombre, clave)]

    print(f"\n  {'step':<30} {'payload':<10} {'median ms':>10} {'p95 ms':>10} {'per due us':>11} {'p95/due us':>11}")
    for nombre, (_data, dues, _runs) in payloads.items():
        for paso, clave in pasos:
            c = cifra(nombre, clave)
            print(
                f"  {paso:<30} {nombre:<10} {ms(c.mediana):>10} {ms(c.p95):>10} "
                f"{us(c.mediana / dues):>11} {us(c.p95 / dues):>11}"
            )
        print()

    print(f"  per due, {DUES} dues / document (medians; < 1: the fixed cost per request is amortised)")
    for paso, clave in pasos:
        ratio = (cifra(f"{DUES} dues", clave).mediana / DUES) / (cifra("document", clave).mediana / doc_dues)
        print(f"  {paso:<30} {ratio:6.2f}x")
    objetos = cifra(f"{DUES} dues", "parse").mediana - cifra(f"{DUES} dues", "lxml").mediana
    print(
        f"\n  of parse + validate ({DUES} dues), building the Cuota objects (Decimal, date, one pass) takes "
        f"~{objetos * 1000:.1f} ms ({objetos / cifra(f'{DUES} dues', 'parse').mediana:.0%})"
    )
    print(f"\n(load average {os.getloadavg()[0]:.1f} at the end)")
