"""Local-stack benchmarks (run on demand: `make bench`). Prints figures; asserts nothing.

1. From `make run` to the first 200 OK through the gateway, synth included (the layer build is
   cached in build/layer after the first synth; the figure says which case it measured).
2. The gateway's overhead per request: the same obtener-persona request through HTTP (gateway, cached
   authorizer, worker IPC) against calling the handler in-process on the same moto data. p50 and p95.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local" / "stack.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def startup() -> tuple[subprocess.Popen, dict, float, bool]:
    import httpx

    layer_cached = (ROOT / "build" / "layer" / ".fingerprint").exists()
    STATE.unlink(missing_ok=True)
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while not STATE.exists():
        if process.poll() is not None:
            raise RuntimeError("make run exited")
        time.sleep(0.05)
    state = json.loads(STATE.read_text())
    url = f"{state['apiBaseUrls']['api']}/v1/integracion-conectividad/obtener-persona?identificacion=12345678"
    headers = {"Authorization": f"Token {state['demo']['bank']['token']}"}
    while httpx.get(url, headers=headers).status_code != 200:
        time.sleep(0.05)
    return process, state, time.monotonic() - started, layer_cached


def overhead(state: dict, requests: int) -> None:
    import httpx

    os.environ.update(
        {
            "AWS_ENDPOINT_URL": state["awsEndpointUrl"],
            "AWS_DEFAULT_REGION": state["region"],
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "LEDGER_TABLE": state["demo"]["tables"]["ledger"],
            "POWERTOOLS_SERVICE_NAME": "bench",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT / "functions"), str(ROOT)]
    import contextlib
    import io

    from conectividad import obtener_persona
    from tests.helpers import LambdaContext, rest_event

    event = rest_event("GET", "/v1/integracion-conectividad/obtener-persona", "identificacion=12345678")
    url = f"{state['apiBaseUrls']['api']}/v1/integracion-conectividad/obtener-persona?identificacion=12345678"
    headers = {"Authorization": f"Token {state['demo']['bank']['token']}"}
    in_process, through_gateway = [], []
    with httpx.Client() as client, contextlib.redirect_stdout(io.StringIO()):
        obtener_persona.handler(event, LambdaContext())
        client.get(url, headers=headers)
        for _ in range(requests):  # interleaved, so noise hits both alike
            t0 = time.perf_counter()
            obtener_persona.handler(event, LambdaContext())
            in_process.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            response = client.get(url, headers=headers)
            through_gateway.append(time.perf_counter() - t0)
            assert response.status_code == 200
    print(f"\nGateway overhead, obtener-persona, {requests} requests each, same moto data")
    for name, samples in (("handler in-process", in_process), ("through the gateway", through_gateway)):
        print(
            f"  {name:<24} p50 {percentile(samples, 0.5) * 1000:6.2f} ms   p95 {percentile(samples, 0.95) * 1000:6.2f} ms"
        )
    diff = [g - h for g, h in zip(through_gateway, in_process, strict=True)]
    print(
        f"  {'gateway overhead':<24} p50 {statistics.median(diff) * 1000:6.2f} ms   p95 {percentile(diff, 0.95) * 1000:6.2f} ms"
    )


def payments(state: dict, count: int) -> None:
    """Sequential payments of distinct receipts; the split comes from the runner's /_stats."""
    import httpx

    api = f"{state['apiBaseUrls']['api']}/v1/integracion-conectividad"
    demo = state["demo"]
    headers = {"Authorization": f"Token {demo['bank']['token']}", "Content-Type": "application/json"}
    receipts = []
    with httpx.Client(headers=headers, timeout=60) as client:
        for ident in demo["personasDemo"]:
            response = client.get(f"{api}/saldos-persona", params={"codigoConvenio": "001", "identificacion": ident})
            if response.status_code == 200:
                receipts += response.json()
        receipts = receipts[:count]
        before = {k: len(v["durationsMs"]) for k, v in client.get(f"{state['gatewayUrl']}/_stats").json().items()}
        totals = []
        for s in receipts:
            body = json.dumps(
                {
                    "llaveAcceso": demo["bank"]["llaveAcceso"],
                    "codigoConvenio": "001",
                    "codigoBanco": "00152",
                    "codigoAgencia": "033272",
                    "periodo": f"{s['year']}{s['periodo']}",
                    "montoTotal": "M",
                    "numeroFactura": s["idSaldo"],
                }
            ).replace('"M"', str(s["monto"]))
            t0 = time.perf_counter()
            response = client.post(f"{api}/ejecutar-pago", content=body)
            totals.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.text
        stats = client.get(f"{state['gatewayUrl']}/_stats").json()
    print(f"\nPayment latency through the local stack, {len(totals)} payments of distinct receipts (ms)")
    print(f"  {'step':<44} {'p50':>7} {'p95':>7}")
    print(f"  {'whole request (HTTP, client side)':<44} {percentile(totals, 0.5):7.1f} {percentile(totals, 0.95):7.1f}")
    for name in (
        "Conectividad/ejecutar-pago",
        "Conectividad/flujo-aplicar",
        "Conectividad/flujo-confirmar",
        "Conectividad/flujo-verificar",
    ):
        samples = stats[name]["durationsMs"][before.get(name, 0) :]
        label = {"Conectividad/ejecutar-pago": "endpoint function (checks + sync execution)"}.get(
            name, name.split("/")[1]
        )
        print(f"  {label:<44} {percentile(samples, 0.5):7.1f} {percentile(samples, 0.95):7.1f}")


if __name__ == "__main__":
    process, state, seconds, cached = startup()
    try:
        print(
            f"\n`make run` to the first 200 OK (synth included, layer {'cached' if cached else 'built'}): {seconds:.1f} s"
            f"   (the stack itself reported {state['startupSeconds']} s)   goal <= 25 s"
        )
        overhead(state, int(os.environ.get("BENCH_GATEWAY_REQUESTS", "300")))
        payments(state, int(os.environ.get("BENCH_PAYMENTS", "60")))
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
