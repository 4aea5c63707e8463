"""CPS recargas benchmark (run on demand: `make bench`). Prints figures; asserts nothing.

1. The signature check's cost per request: reading the headers, building every accepted message and
   comparing the HMAC-SHA384s, for the documented pay body and a typed GET (median of many runs, µs).
2. Top-up latency through the local stack, the fake carrier answering in 100 ms: p50 and p95 as the
   channel sees it, split by step (each function's own duration, from the stack's /_stats), and a
   Conectividad payment's p50 measured in the same run. Our overhead is the channel's latency minus
   the carrier's 100 ms.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT / "functions"), str(ROOT)]

N = int(os.environ.get("BENCH_TOPUPS", "40"))


def signature_cost() -> None:
    from recaudo.firmas import candidatos_get, candidatos_post, leer_encabezados, verificar_firma

    key, nonce = "5f" * 32, "1670525711124"
    body = b'{"numberService":"04243675525","idTypeService":57,"amount":10}'
    signature = hmac.new(key.encode(), b"/v2/operation/use/pay" + nonce.encode() + body, hashlib.sha384).hexdigest()
    headers = {"api-key": "a3" * 32, "api-nonce": nonce, "api-signature": signature}
    query = [("numberService", "04243675525"), ("idTypeService", "57")]
    get_sig = hmac.new(
        key.encode(),
        b"/v2/operation/get/balance" + nonce.encode() + b'{"numberService":"04243675525","idTypeService":57}',
        hashlib.sha384,
    ).hexdigest()
    types = {"numberService": str, "idTypeService": int}

    def post() -> None:
        h = leer_encabezados(headers)
        verificar_firma(key, h.firma, candidatos_post("/cps/v2/operation/use/pay", "cps", h.nonce, body))

    def get() -> None:
        verificar_firma(key, get_sig, candidatos_get("/cps/v2/operation/get/balance", "cps", nonce, query, types))

    for name, fn in (("POST use/pay (raw body, 2 paths)", post), ("GET get/balance (typed + text, 2 paths)", get)):
        runs = [min(timeit.repeat(fn, number=2000, repeat=1)) / 2000 * 1e6 for _ in range(7)]
        print(f"  signature check, {name}: median {statistics.median(runs):.1f} µs per request")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def through_the_stack() -> None:
    import httpx

    sys.path.insert(0, str(ROOT))
    from tests.e2e.cps import Channel

    workdir = Path(tempfile.mkdtemp(prefix="bench-recargas-"))
    state_file = workdir / ".local" / "stack.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack", "--port", "0", "--state-file", str(state_file)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        while not state_file.exists():
            if process.poll() is not None:
                raise RuntimeError("the local stack did not start (run `make synth` first)")
            time.sleep(0.1)
        state = json.loads(state_file.read_text())
        cps = state["demo"]["cps"]
        httpx.post(f"{cps['carrierUrl']}/_config", json={"latency": 0.1})
        channel = Channel(cps["baseUrl"], cps["apiKey"], cps["privateKey"])
        body = {"numberService": cps["numbers"]["aplicada"], "idTypeService": 57, "amount": 10}
        for _ in range(3):  # warm every function of the path
            channel.pay(body)
        gateway = state["gatewayUrl"]
        before = httpx.get(f"{gateway}/_stats").json()
        topups = []
        for _ in range(N):
            started = time.perf_counter()
            reply = channel.pay(body)
            topups.append((time.perf_counter() - started) * 1000)
            assert reply.status_code == 200 and reply.json()["estado"] == "CONFIRMADA", reply.text
        after = httpx.get(f"{gateway}/_stats").json()

        bank = httpx.Client(
            base_url=state["apiBaseUrls"]["api"] + "/v1/integracion-conectividad",
            headers={"Authorization": f"Token {state['demo']['bank']['token']}"},
            timeout=60,
        )
        saldos = json.loads(
            bank.get("/saldos-persona", params={"codigoConvenio": "001", "identificacion": "87654321"}).text
        )
        payments = []
        for s in saldos[: min(N, len(saldos))]:
            pay = {
                "llaveAcceso": state["demo"]["bank"]["llaveAcceso"], "codigoConvenio": "001", "codigoBanco": "00152",
                "codigoAgencia": "033272", "periodo": f"{s['year']}{s['periodo']}", "numeroFactura": s["idSaldo"],
            }  # fmt: skip
            raw = json.dumps(pay)[:-1] + f', "montoTotal": {s["monto"]}}}'
            started = time.perf_counter()
            reply = bank.post("/ejecutar-pago", content=raw, headers={"Content-Type": "application/json"})
            payments.append((time.perf_counter() - started) * 1000)
            assert reply.status_code == 200, reply.text
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)

    def step(name: str) -> list[float]:
        return after.get(name, {}).get("durationsMs", [])[len(before.get(name, {}).get("durationsMs", [])) :]

    p50, p95 = percentile(topups, 0.5), percentile(topups, 0.95)
    print(f"  top-up through the local stack, carrier at 100 ms, {N} sequential: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    for name in ("Recargas/pagar", "Recargas/flujo-enviar", "Recargas/flujo-confirmar", "Recargas/flujo-verificar"):
        samples = step(name)
        if samples:
            print(
                f"    {name:28} p50 {percentile(samples, 0.5):6.1f} ms  p95 {percentile(samples, 0.95):6.1f} ms  (n={len(samples)})"
            )
    pay_p50 = percentile(payments, 0.5)
    overhead = p50 - 100
    print(f"  Conectividad payment through the same stack ({len(payments)}): p50 {pay_p50:.0f} ms")
    print(
        f"  our top-up overhead beyond the carrier (p50 - 100 ms): {overhead:.0f} ms = {overhead / pay_p50:.2f}x the payment's p50"
    )


if __name__ == "__main__":
    print("CPS recargas")
    signature_cost()
    through_the_stack()
