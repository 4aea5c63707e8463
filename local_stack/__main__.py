"""``python -m local_stack``: serve the synthesized app (cdk.out) on localhost. Ctrl-C stops it all."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class LocalStack:
    cdk_out: Path
    port: int = 8787
    aws_port: int = 0
    host: str = "127.0.0.1"
    seed: bool = True
    state_file: Path | None = ROOT / ".local" / "stack.json"
    docs: Path | None = ROOT / "docs" / "openapi.json"
    concurrency: int = 4
    state: dict[str, Any] = field(default_factory=dict)

    def start(self) -> dict[str, Any]:
        import boto3

        from local_stack import emulator
        from local_stack.gateway import Gateway, load_apis
        from local_stack.resources import check_types, provision
        from local_stack.schedules import Timer
        from local_stack.template import load_stacks
        from local_stack.workers import WorkerPool

        started = time.monotonic()
        stacks = load_stacks(self.cdk_out, REGION, ACCOUNT)
        for stack in stacks:  # fail before starting anything
            check_types(stack)
        self.moto = emulator.MotoEmulator(self.aws_port, self.host)
        self.moto.start()
        credentials = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION)
        clients = {
            name: session.client(name, endpoint_url=self.moto.endpoint_url)
            for name in ("dynamodb", "s3", "iam", "lambda", "stepfunctions", "events")
        }
        function_env = {
            **credentials,
            "AWS_ENDPOINT_URL": self.moto.endpoint_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon on this machine
            # botocore would prefix hosts (sync-states.…) for StartSyncExecution; the emulator is one host
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            "TZ": "UTC",
        }
        timings = {"emulator": time.monotonic() - started}
        provisioned = [provision(stack, clients, {}) for stack in stacks]
        timings["provision"] = time.monotonic() - started
        specs = [spec for p in provisioned for spec in p.functions]
        seeded: dict[str, Any] = {}
        seeding = None
        if self.seed:  # the demo data goes in while the workers start
            from local_stack.seed import seed_demo

            seeding = threading.Thread(target=lambda: seeded.update(demo=seed_demo(stacks[0], clients["dynamodb"])))
            seeding.start()
        self.pool = WorkerPool(specs, function_env, max_workers=self.concurrency)
        self.pool.start()
        timings["workers"] = time.monotonic() - started

        def dispatch(name: str, event: Any) -> tuple[str, bool, str]:
            result = self.pool.by_name(name).invoke(event)
            payload = result.result if result.ok else result.error
            return json.dumps(payload), not result.ok, "\n".join(result.logs)

        emulator.route_lambda_invokes(dispatch)
        emulator.async_s3_notifications()
        emulator.route_rule_targets(
            lambda name, event: self.pool.by_name(name).invoke(event),
            lambda arn: w.spec.name if (w := self.pool.by_arn(arn)) else None,
        )
        self.gateway = Gateway(
            [api for stack in stacks for api in load_apis(stack)], self.pool, REGION, ACCOUNT, self.docs
        )
        host, port = self.gateway.serve(self.host, self.port)
        schedules = [s for p in provisioned for s in p.schedules]
        self.timer = Timer(schedules, lambda s, e: self.pool.by_name(s.function_name).invoke(e), REGION, ACCOUNT)
        self.timer.start()

        base = f"http://{host}:{port}"
        self.state = {
            "apiBaseUrls": {stage: f"{base}/{stage}" for stage in self.gateway.apis},
            "gatewayUrl": base,
            "swaggerUi": f"{base}/_docs",
            "awsEndpointUrl": self.moto.endpoint_url,
            "region": REGION,
            "tables": {lid: name for p in provisioned for lid, name in p.tables.items()},
            "buckets": {lid: name for p in provisioned for lid, name in p.buckets.items()},
            "stateMachines": {lid: arn for p in provisioned for lid, arn in p.state_machines.items()},
            "functions": {w.spec.display_name: w.spec.name for w in self.pool.workers.values()},
            "schedules": [{"name": s.name, "expression": s.expression, "function": s.function_name} for s in schedules],
            "motoHooks": emulator.hooks_installed(),
            "warnings": self._warnings(stacks),
            "demo": None,
        }
        if seeding is not None:
            seeding.join()
            timings["seeded"] = time.monotonic() - started
            self.state["demo"] = demo = seeded.get("demo")
            if demo and self.state_file:  # ready-to-send bodies for the printed curl lines
                self.state_file.parent.mkdir(parents=True, exist_ok=True)
                body = json.dumps(demo["pago"]["body"], indent=2).replace(
                    f'"montoTotal": {demo["pago"]["body"]["montoTotal"]}', f'"montoTotal": {demo["pago"]["monto"]}'
                )
                (self.state_file.parent / "pago.json").write_text(body + "\n")
                (self.state_file.parent / "reversa.json").write_text(
                    json.dumps(demo["pago"]["reversa"], indent=2) + "\n"
                )
        self.state["startupSeconds"] = round(time.monotonic() - started, 2)
        self.state["startupTimeline"] = {k: round(v, 2) for k, v in timings.items()}
        self.state["stateFile"] = str(self.state_file) if self.state_file else None
        if self.state_file:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(json.dumps(self.state, indent=2, ensure_ascii=False) + "\n")
        return self.state

    @staticmethod
    def _warnings(stacks: list[Any]) -> list[str]:
        here = f"python{sys.version_info.major}.{sys.version_info.minor}"
        runtimes = {
            r.get("Properties", {}).get("Runtime") for s in stacks for r in s.of_type("AWS::Lambda::Function").values()
        } - {None, here}
        return [f"workers run {here}; the functions target {', '.join(sorted(runtimes))}"] if runtimes else []

    def stop(self) -> None:
        for part in ("timer", "gateway", "pool", "moto"):
            component = getattr(self, part, None)
            if component is not None:
                try:
                    component.stop()
                except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                    print(f"stopping {part}: {exc}", file=sys.stderr)


def banner(state: dict[str, Any]) -> str:
    lines = ["", "recaudo local stack ready", ""]
    for stage, url in state["apiBaseUrls"].items():
        lines.append(f"  API ({stage}):     {url}")
    lines += [
        f"  Swagger UI:      {state['swaggerUi']}",
        f"  AWS endpoint:    {state['awsEndpointUrl']}   (AWS_ENDPOINT_URL; any credentials)",
        f"  state:           {state['stateFile']}   (started in {state['startupSeconds']} s)",
    ]
    demo = state.get("demo")
    if demo:
        api = state["apiBaseUrls"].get("api", next(iter(state["apiBaseUrls"].values()), ""))
        ident = demo["persona"]["identificacion"]
        base = f"{api}/v1/integracion-conectividad"
        year = datetime.now().year
        lines += [
            "",
            f"  demo bank {demo['bank']['codigoBanco']}: token and llaveAcceso in {state['stateFile']}",
            f"  demo person {ident} ({demo['persona']['nombre']}): {demo['persona']['pendientes']} pending debts, "
            f"convenios {', '.join(f'{k}={v}' for k, v in demo['persona']['convenios'].items())}",
            "",
            "  Try:",
            f"    TOKEN=$(python3 -c \"import json;print(json.load(open('{state['stateFile']}'))['demo']['bank']['token'])\")",
            f'    curl -s -H "Authorization: Token $TOKEN" "{base}/obtener-persona?identificacion={ident}"',
            f'    curl -s -H "Authorization: Token $TOKEN" "{base}/saldos-persona-resumen?codigoConvenio=001&identificacion={ident}&numeroPagina=1&longitudPagina=5"',
            f'    curl -s -H "Authorization: Token $TOKEN" "{base}/saldos-vencido-persona?idDeudor={ident}"',
            f'    curl -s -H "Authorization: Token $TOKEN" "{base}/saldos-persona?codigoConvenio=004&identificacion={ident}"',
            "",
            f"  Pay, verify, see the history and reverse invoice {demo['pago']['factura']} ({demo['pago']['monto']}):",
            f'    curl -s -H "Authorization: Token $TOKEN" -H \'Content-Type: application/json\' -d @{Path(state["stateFile"]).parent}/pago.json "{base}/ejecutar-pago-vencido"',
            f'    curl -s -o /dev/null -w \'%{{http_code}}\\n\' -H "Authorization: Token $TOKEN" "{base}/verificar-pago?numeroFactura={demo["pago"]["factura"]}"',
            f'    curl -s -H "Authorization: Token $TOKEN" "{base}/historial-pagos?cedula={ident}&fechaInicio=01/01/{year}&fechaFinal=31/12/{year}"',
            f'    curl -s -H "Authorization: Token $TOKEN" -H \'Content-Type: application/json\' -d @{Path(state["stateFile"]).parent}/reversa.json "{base}/reversar-pago"',
        ]
    cob = (demo or {}).get("cobranzas")
    if cob:
        api2 = state["apiBaseUrls"].get("api2", "")
        model = ROOT / "examples" / "cobranzas" / "cobros-demo.csv"
        lines += [
            "",
            f"  Cobranzas (Pay per TIC), integrator {cob['integrador']} (convenio {cob['convenio']}): hash in {state['stateFile']}",
            f"    HASH=$(python3 -c \"import json;print(json.load(open('{state['stateFile']}'))['demo']['cobranzas']['hash'])\")",
            f'    curl -s -F hash=$HASH -F file=@{model} "{api2}/cobranzas/importar/csv"',
            f'    curl -s "{api2}/cobranzas/exportar/csv?hash=$HASH&periodo=*"',
            f'    curl -s -OJ -d hash=$HASH -d id_cliente=176 "{api2}/cobranzas/descargar/csv"',
            f"    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --endpoint-url {state['awsEndpointUrl']} s3 cp {model} s3://{cob['bucket']}/{cob['prefijo']}cobros.csv",
            f'    curl -s "{api2}/cobranzas/importar/reporte?hash=$HASH&importacion=cobros.csv"',
        ]
    lines += [f"  warning: {w}" for w in state.get("warnings", [])]
    lines += ["", "  Ctrl-C stops everything.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8787")))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("AWS_PORT", "0")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("LOCAL_CONCURRENCY", "4")),
        help="instances per function, at most (Lambda scales out; default 4)",
    )
    parser.add_argument("--state-file", type=Path, default=ROOT / ".local" / "stack.json")
    args = parser.parse_args(argv)

    sys.path[:0] = [str(ROOT / "layers" / "shared" / "python")]
    stack = LocalStack(
        args.cdk_out,
        args.port,
        args.aws_port,
        args.host,
        not args.no_seed,
        args.state_file,
        concurrency=args.concurrency,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    try:
        state = stack.start()
        print(banner(state), flush=True)
        stopping.wait()
        print("stopping…", flush=True)
    except Exception as exc:  # noqa: BLE001 - any start-up failure is reported in one line
        print(f"local stack failed to start: {exc}", file=sys.stderr, flush=True)
        stack.stop()
        return 1
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
