"""Handler benchmarks (run on demand: `make bench`). Prints figures; asserts nothing.

1. Cold import: each handler's import plus its first dependency set-up (boto3 + one DynamoDB client,
   settings, repository) in a fresh interpreter laid out as on Lambda (``benchmarks/_lambda.py``:
   function, layer and runtime directories with the bytecode we ship, none written at run time),
   against the baseline ``import boto3`` + one DynamoDB client in the same layout: each sample is
   paired with a baseline sample taken just before it, and the ratio is the median of the pairs'
   ratios, N pairs per handler (BENCH_COLD_RUNS); goal <= 1.4x. Run on the
   Lambda's Python (3.13) and, beside it, 3.11 (BENCH_PYTHONS: a comma-separated list of interpreters).
2. Warm per-request cost, under each interpreter: the handler on a REST event (with the nine headers a
   regional REST API passes) and an in-memory ledger (so data access costs ~nothing), against the logic
   function alone, tracing on. Goal beyond the data access: <= 150 us for
   obtener-persona, <= 250 us for a 24-item saldos reply.

``python benchmarks/handlers.py importtime <handler>``: where that handler's cold import goes beyond the
baseline (``-X importtime``: the modules the baseline does not import, their own times by package).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT / "functions"), str(ROOT)]

ENV = {
    "PATH": os.environ.get("PATH", ""),
    "PYTHONDONTWRITEBYTECODE": "1",  # as on Lambda: code directories are read-only
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "LEDGER_TABLE": "recaudo-ledger",
    "CREDENTIALS_TABLE": "recaudo-credentials",
    "IDEMPOTENCY_TABLE": "recaudo-idempotency",
    "EVENT_BUS_NAME": "recaudo",
    "PAYMENT_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    # As inside Lambda: the X-Ray SDK then uses its local sampler instead of building an X-Ray client.
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    # the other contexts' settings
    "COBRANZAS_BUCKET": "recaudo-cobranzas",
    "RECARGAS_KEY_ID": "alias/recaudo-recargas-canales",
    "RECARGAS_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:recargas",
    "CARRIER_URL": "https://carrier.invalid",
    "CARRIER_TOKEN": "local-carrier-token",
    "RADIAN_TABLE": "recaudo-radian",
    "RADIAN_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:radian",
    "AFACTURAR_URL": "https://servicios-pruebas.afacturar.com",
    "CUOTAS_TABLE": "recaudo-cuotas",
}
ENV.update({"POWERTOOLS_TRACE_DISABLED": "1"} if os.environ.get("BENCH_NO_TRACE") else {})

BASELINE = "import boto3; boto3.client('dynamodb')"
TIMED = "import time; t0 = time.perf_counter(); {code}; print(time.perf_counter() - t0)"

_Q = "from conectividad import deps; deps.default_query_deps()"
_P = "from conectividad import deps; d = deps.default_payment_deps()"
_CO = "from cobranzas.deps import default_cobranzas_deps; d = default_cobranzas_deps()"
_RE = "from recargas.deps import default_recarga_deps; d = default_recarga_deps()"
_RA = "from radian.deps import default_seguimiento_deps; d = default_seguimiento_deps()"
_CU = "from cuotas.deps import default_cuotas_deps as d; d()"
# A client built on first use (recaudo.aws.al_usarlo) is counted for the handlers whose requests use it:
# ejecutar-pago starts the flow, the reversal publishes, the imports write their report to the bucket,
# a top-up and "poll now" start their state machines. The other handlers never build those clients.
_FLOW, _EVENTS, _BUCKET, _START = (
    "; d.flow._client.meta",
    "; d.events._client.meta",
    "; d.archivos._client.meta",
    "; d.flujo._client.meta",
)
# every API handler (the routes of every context) and the authorizer; the payment flow's tasks beside them
HANDLERS = {
    **{
        f"conectividad.{m}": f"import conectividad.{m}; {_Q}"
        for m in (
            "obtener_persona",
            "saldos_persona",
            "saldos_persona_resumen",
            "saldos_persona_resumen_detalle",
            "saldos_total_persona",
            "saldos_parcial_persona",
            "saldos_vencido_persona",
        )
    },
    **{
        f"conectividad.{m}": f"import conectividad.{m}; {_P}{extra}"
        for m, extra in (
            ("ejecutar_pago", _FLOW),
            ("ejecutar_pago_total", _FLOW),
            ("ejecutar_pago_parcial", _FLOW),
            ("ejecutar_pago_vencido", _FLOW),
            ("reversar_pago", _EVENTS),
            ("historial_pagos", ""),
            ("verificar_pago", ""),
        )
    },
    "conectividad.flujo (payment tasks)": "import conectividad.flujo; from conectividad import deps; deps.default_flow_deps()",
    **{
        f"cobranzas.{m}": f"import cobranzas.{m}; {_CO}{extra}"
        for m, extra in (
            ("importar_csv", _BUCKET),
            ("importar_url", _BUCKET),
            ("importar_reporte", _BUCKET),
            ("exportar_csv", ""),
            ("descargar_csv", ""),
        )
    },
    **{
        f"recargas.{m}": f"import recargas.{m}; {_RE}{_START if m == 'pagar' else ''}"
        for m in ("pagar", "saldo", "servicios", "operacion")
    },
    **{
        f"radian.{m}": f"import radian.{m}; {_RA}{_START if m == 'sondear_ahora' else ''}"
        for m in ("registrar", "listar", "consultar", "eliminar", "sondear_ahora")
    },
    **{f"cuotas.{m}": f"import cuotas.{m}; {_CU}" for m in ("configurar", "consultar")},
    "authorizer.token": "import authorizer.token as a; a.default_deps()",
}
# What any handler pays that keeps what the issue asks to keep (validation, structured logs, metrics),
# before a line of ours: the baseline plus pydantic's import, and plus Powertools' REST resolver with
# validation, its Logger and our EMF writer (Powertools' heavy package __init__s lazy, as in our functions).
_RESOLVER = (
    "import recaudo; from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver; "
    "from aws_lambda_powertools import Logger; from recaudo.emf import Metrics; "
    "APIGatewayRestResolver(enable_validation=True); Logger(); Metrics()"
)
_ONE_MODEL = (
    "from pydantic import ConfigDict, create_model; "
    "create_model('M', __config__=ConfigDict(defer_build=True), x=(int, ...))"
)
FLOORS = {
    "floor: baseline + pydantic (BaseModel)": f"{BASELINE}; from pydantic import BaseModel",
    # importing BaseModel loads neither pydantic.fields nor pydantic.types and annotated_types; the first
    # model class does (every handler defines or imports some): this is the floor of any pydantic model
    "floor: baseline + pydantic, one model": f"{BASELINE}; {_ONE_MODEL}",
    # everything a handler keeps but the resolver and the route's own code: the path the ideas lead
    # to (validation by pydantic without Powertools' OpenAPI machinery) starts here
    "floor: baseline + pydantic, one model, Logger, EMF, tracing": (
        f"{BASELINE}; {_ONE_MODEL}; from recaudo.observability import lambda_handler"
    ),
    "floor: baseline + resolver, Logger, EMF": f"{BASELINE}; {_RESOLVER}",
}


def _context(name: str) -> str:
    return "conectividad" if name in FLOORS else name.split(".", 1)[0]


def _once(lay, context: str, code: str, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {**ENV, "PYTHONPATH": lay.pythonpath(context)}
    out = subprocess.run(
        [lay.python, "-S", *flags, "-c", TIMED.format(code=code)], env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(out.stderr)
    return out


def _subjects() -> dict[str, str]:
    only = os.environ.get("BENCH_ONLY", "")
    return {name: code for name, code in {**FLOORS, **HANDLERS}.items() if re.search(only, name)}


def cold(runs: int, python: str) -> None:
    from _lambda import layout

    lay = layout(python)
    subjects = _subjects()
    # the baseline runs in the first subject's function directory: boto3 never looks there
    for name, code in [("conectividad", BASELINE), *subjects.items()]:
        _once(lay, _context(name), code)  # a failing import fails here, not mid-run
    # Paired: every subject's sample right after a baseline sample, and its ratio to that one. This VM's
    # speed drifts within a round; a pair shares its moment, so the ratio of a pair does not drift.
    samples: dict[str, list[float]] = {"baseline": [], **{name: [] for name in subjects}}
    ratios: dict[str, list[float]] = {name: [] for name in subjects}

    def sample(name: str, code: str) -> float:
        return float(_once(lay, _context(name), code).stdout.split()[-1])

    for _ in range(runs):
        for name, code in subjects.items():
            base_sample = sample("conectividad", BASELINE)
            samples["baseline"].append(base_sample)
            samples[name].append(sample(name, code))
            ratios[name].append(samples[name][-1] / base_sample)
    base = statistics.median(samples["baseline"])
    print(f"\nCold import, {runs} fresh interpreters per handler, Lambda layout (Python {lay.version})")
    print("  median ms; ratio: median of each sample's ratio to the baseline sample taken just before it")
    print(f"  {'import boto3 + dynamodb client (baseline)':<44} {base * 1000:7.1f} ms   1.00x")
    for name in subjects:
        median = statistics.median(samples[name])
        print(f"  {name:<44} {median * 1000:7.1f} ms   {statistics.median(ratios[name]):.2f}x")


def _import_times(lay, context: str, code: str) -> dict[str, int]:
    """Each module's own import time in us (``-X importtime``), in import order."""
    out = {}
    for line in _once(lay, context, code, ("-X", "importtime")).stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
        if m:
            out[m[2]] = int(m[1])
    return out


def importtime(name: str, python: str) -> None:
    """What the handler imports beyond the baseline, by package (self times: -X importtime inflates them)."""
    from _lambda import layout

    lay = layout(python)
    base = _import_times(lay, "conectividad", BASELINE)
    extra = {m: t for m, t in _import_times(lay, _context(name), HANDLERS[name]).items() if m not in base}
    groups: dict[str, int] = {}
    for module, own in extra.items():
        parts = module.split(".")
        key = ".".join(parts[:3] if parts[0] in ("aws_lambda_powertools", "recaudo", "pydantic") else parts[:1])
        groups[key] = groups.get(key, 0) + own
    print(
        f"{name} on Python {lay.version}: {len(extra)} modules beyond the baseline's {len(base)}, "
        f"{sum(extra.values()) / 1000:.1f} ms of their own import time (baseline: {sum(base.values()) / 1000:.1f} ms)"
    )
    for key, own in sorted(groups.items(), key=lambda kv: -kv[1])[:40]:
        print(f"  {own / 1000:7.1f} ms  {key}")


# What a regional REST API passes to the function for a bank's GET (both as headers and multiValueHeaders):
# the resolver reads them on every request, so the warm figures carry them.
HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
    "Authorization": "Bearer " + "x" * 43,
    "Host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    "User-Agent": "Apache-HttpClient/4.5.13 (Java/17.0.8)",
    "X-Amzn-Trace-Id": "Root=1-6740a1b2-0123456789abcdef01234567",
    "X-Forwarded-For": "200.31.0.10",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
}


def warm(requests: int) -> None:
    from datetime import datetime

    os.environ.update({k: v for k, v in ENV.items() if k != "PYTHONPATH"})
    # A sampled trace, as Lambda sets it: subsegments are really emitted (UDP to the local daemon port).
    os.environ["_X_AMZN_TRACE_ID"] = "Root=1-6740a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
    from conectividad import obtener_persona, queries, saldos_persona
    from conectividad.deps import QueryDeps
    from ops.demo import load_demo
    from tests.fakes import FakeLedger
    from tests.helpers import LambdaContext, rest_event

    now = datetime(2026, 11, 21, 15, tzinfo=UTC)
    ledger = FakeLedger()
    load_demo(ledger, now.date())
    deps = QueryDeps(ledger=ledger, time_zone="America/Costa_Rica", clock=lambda: now)
    queries.default_query_deps = lambda: deps
    context = LambdaContext()

    def timed(groups: list[list[Any]], block: int = 50) -> list[list[float]]:
        """Median us of each function of each group. Within a group the functions are called in turn; the
        groups take turns by blocks of ``block`` rounds, so that every figure spans the whole run (this VM's
        speed drifts from phase to phase) while each handler still runs many times in a row, as on Lambda."""
        samples: list[list[list[int]]] = [[[] for _ in fns] for fns in groups]
        for _ in range(max(1, requests // block)):
            for fns, group_samples in zip(groups, samples, strict=True):
                for _ in range(block):
                    for fn, fn_samples in zip(fns, group_samples, strict=True):
                        t0 = time.perf_counter_ns()
                        fn()
                        fn_samples.append(time.perf_counter_ns() - t0)
        return [[statistics.median(s) / 1000 for s in group_samples] for group_samples in samples]

    # The floor: the same resolver and decorator stack, one route with the same validated parameter that
    # only replies (what every request pays before the logic and its reply models).
    from conectividad import params
    from recaudo.observability import lambda_handler
    from recaudo.rest import conectividad_resolver, json_response

    floor_app = conectividad_resolver()

    def _floor(identificacion):
        return json_response({"identificacion": identificacion})

    _floor.__annotations__ = {"identificacion": params.Identificacion}  # this module's annotations are strings
    floor_app.get("/v1/integracion-conectividad/obtener-persona")(_floor)

    # What a route costs without the resolver (the run-time stack docs/decisions.md leaves to the team):
    # a plain function that checks the same parameter against the same pattern and writes the same reply,
    # under the same decorator stack. Not our API: it has none of the error dialect.
    from recaudo.money import dumps

    pattern = re.compile(params.ID_PATTERN)

    def _plain(event: dict[str, Any], context: Any) -> dict[str, Any]:
        value = (event.get("queryStringParameters") or {}).get("identificacion")
        if not isinstance(value, str) or not pattern.match(value):
            return {"statusCode": 400, "body": "", "isBase64Encoded": False}
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": dumps({"identificacion": value}),
            "isBase64Encoded": False,
        }

    cases = [
        (
            "floor: a route that only replies, same resolver and decorators",
            150,
            lambda_handler(floor_app.resolve),
            rest_event("GET", "/v1/integracion-conectividad/obtener-persona", "identificacion=87654321", HEADERS),
            lambda: None,
            lambda: None,
        ),
        (
            "floor: the same route without the resolver (a plain function), same decorators",
            150,
            lambda_handler(_plain),
            rest_event("GET", "/v1/integracion-conectividad/obtener-persona", "identificacion=87654321", HEADERS),
            lambda: None,
            lambda: None,
        ),
        (
            "floor: the same route through the resolver alone (no Logger, Metrics, tracing)",
            150,
            floor_app.resolve,
            rest_event("GET", "/v1/integracion-conectividad/obtener-persona", "identificacion=87654321", HEADERS),
            lambda: None,
            lambda: None,
        ),
        (
            "obtener-persona (1 small object)",
            150,
            obtener_persona.handler,
            rest_event("GET", "/v1/integracion-conectividad/obtener-persona", "identificacion=87654321", HEADERS),
            lambda: ledger.get_persona("87654321"),
            lambda: queries.obtener_persona("87654321"),
        ),
        (
            f"saldos-persona ({len(queries.saldos_persona('87654321', '013', None))} saldos)",
            250,
            saldos_persona.handler,
            rest_event(
                "GET",
                "/v1/integracion-conectividad/saldos-persona",
                "codigoConvenio=013&identificacion=87654321",
                HEADERS,
            ),
            lambda: (
                ledger.get_convenio("013"),
                ledger.get_persona("87654321"),
                ledger.deudas_pendientes("87654321", "MUNI", ("13",), None),
            ),
            lambda: queries.saldos_persona("87654321", "013", None),
        ),
    ]
    print(
        f"\nWarm request (Python {sys.version.split()[0]}), median of {requests} per figure, in-memory ledger, tracing "
        f"{'off' if os.environ.get('POWERTOOLS_TRACE_DISABLED') else 'on (Lambda mode)'}"
    )
    sink = io.StringIO()
    groups: list[list[Any]] = []
    with contextlib.redirect_stdout(sink):  # EMF metric lines, as Lambda ships them to CloudWatch
        for title, _, handler, event, data_access, logic in cases:
            status = handler(event, context)["statusCode"]
            if status != 200:
                raise RuntimeError(f"{title}: answered {status}, not 200")
            groups.append([data_access, logic, functools.partial(handler, event, context)])
        medians = timed(groups)
    for (title, goal, *_), (data, logic_us, whole) in zip(cases, medians, strict=True):
        print(f"  {title}")
        print(f"    data access alone                      {data:8.1f} us")
        print(f"    logic (data + rules + reply models)    {logic_us:8.1f} us")
        print(f"    whole handler                          {whole:8.1f} us")
        print(f"    beyond the data access                 {whole - data:8.1f} us   (goal <= {goal} us)")
        print(f"    of which resolver, decorators, JSON    {whole - logic_us:8.1f} us")
    _metrics_writers(timed)


def _metrics_writers(timed: Any) -> None:
    """The EMF writer we ship (recaudo/emf.py) against Powertools' Metrics, which it replaced: each around a
    no-op handler that adds the one metric every request adds (HttpNNN), interleaved."""
    import warnings

    from aws_lambda_powertools.metrics import Metrics as PowertoolsMetrics

    from recaudo.emf import Metrics
    from tests.helpers import LambdaContext

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    theirs, ours = PowertoolsMetrics(), Metrics()

    @theirs.log_metrics(capture_cold_start_metric=True, raise_on_empty_metrics=False)
    def powertools(event: Any, context: Any) -> None:
        theirs.add_metric(name="Http200", unit="Count", value=1)

    @ours.log_metrics
    def emf(event: Any, context: Any) -> None:
        ours.add_metric(name="Http200", unit="Count", value=1)

    context, sink = LambdaContext(), io.StringIO()
    with contextlib.redirect_stdout(sink):
        (noop, pt, direct), *_ = timed(
            [[lambda: None, functools.partial(powertools, {}, context), functools.partial(emf, {}, context)]]
        )
    print("  metrics, around a no-op handler (one metric and its EMF line per request)")
    print(f"    Powertools' Metrics                    {pt - noop:8.1f} us")
    print(f"    recaudo.emf (shipped)                  {direct - noop:8.1f} us")


def _pythons() -> list[str]:
    from infra.layer import _target_python

    wanted = os.environ.get("BENCH_PYTHONS")
    if wanted:
        return [p.strip() for p in wanted.split(",") if p.strip()]
    found = [_target_python() or sys.executable]
    for other in ("python3.11",):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            subprocess.run([other, "-c", "pass"], check=True, capture_output=True)
            found.append(other)
    return found


if __name__ == "__main__":
    if sys.argv[1:2] == ["importtime"]:
        importtime(sys.argv[2], os.environ.get("BENCH_PYTHONS", "").split(",")[0] or _pythons()[0])
        raise SystemExit
    if sys.argv[1:2] == ["warm"]:  # run by the loop below, in an interpreter of the layout
        warm(int(os.environ.get("BENCH_WARM_REQUESTS", "2000")))
        raise SystemExit
    from _lambda import layout

    pythons = _pythons()
    for python in pythons:
        cold(int(os.environ.get("BENCH_COLD_RUNS", "15")), python)
    for python in pythons:  # the layer's packages (with their bytecode) under this repository's code
        lay = layout(python)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(lay.layer), str(lay.runtime)])}
        subprocess.run([lay.python, __file__, "warm"], env=env, check=True)
