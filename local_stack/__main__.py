"""``python -m local_stack``: serve the synthesized app (cdk.out) on localhost. Ctrl-C stops it all."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT = "123456789012"
# The operator's credentials (the runner's own calls: provisioning, the demo seed). Keys the runner
# did not issue to a role act as the account's administrator.
OPERATOR = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S.%f")[:-3]


class Terminal:
    """One line per request, per denied call and per stack event; function logs go to files."""

    def __init__(self, stream: Any = sys.stdout) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock, contextlib.suppress(ValueError):  # the stream closed at shutdown
            print(f"{_now()}  {text}", file=self._stream, flush=True)

    def request(self, method: str, path: str, status: int, millis: float, function: str | None) -> None:
        self.line(f"{method:<6} {path}  {status}  {millis:.0f} ms  {function or '-'}")


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
    terminal: Terminal = field(default_factory=Terminal)
    state: dict[str, Any] = field(default_factory=dict)

    def start(self) -> dict[str, Any]:
        import boto3

        from local_stack import emulator
        from local_stack.async_invoke import for_runner
        from local_stack.authz import Invocations, Principals
        from local_stack.gateway import Gateway, load_apis, load_mappings
        from local_stack.resources import check_types, provision
        from local_stack.roles import function_policies, role_policies
        from local_stack.schedules import Timer
        from local_stack.template import load_stacks
        from local_stack.workers import WorkerPool

        started = time.monotonic()
        stacks = load_stacks(self.cdk_out, REGION, ACCOUNT)
        resource_policies: dict[str, Any] = {}
        for stack in stacks:  # fail before starting anything
            check_types(stack)
            resource_policies.update(function_policies(stack))
        self.principals = principals = Principals()
        self.invocations = invocations = Invocations(resource_policies, ACCOUNT)
        state_dir = self.state_file.parent if self.state_file else None
        if state_dir:
            state_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir = state_dir / "logs" if state_dir else None
        if self.logs_dir:  # moto's own diagnostics (its Step Functions interpreter's task failures…)
            import logging

            self.logs_dir.mkdir(parents=True, exist_ok=True)
            emulator_log = logging.FileHandler(self.logs_dir / "emulator.log", encoding="utf-8")
            emulator_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            for name in ("moto", "werkzeug"):
                logging.getLogger(name).addHandler(emulator_log)
                logging.getLogger(name).propagate = False

        self.moto = emulator.MotoEmulator(self.aws_port, self.host, principals, REGION, ACCOUNT, self._denied)
        self.moto.start()
        session = boto3.session.Session(
            aws_access_key_id=OPERATOR["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=OPERATOR["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )
        clients = {
            name: session.client(name, endpoint_url=self.moto.endpoint_url)
            for name in ("dynamodb", "s3", "iam", "lambda", "stepfunctions", "events", "kms", "secretsmanager", "sqs")
        }
        function_env = {
            "AWS_ENDPOINT_URL": self.moto.endpoint_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon on this machine
            # botocore would prefix hosts (sync-states.…) for StartSyncExecution; the emulator is one host
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            "TZ": "UTC",
        }
        timings = {"emulator": time.monotonic() - started}
        provisioned = [provision(stack, clients, {}, invocations) for stack in stacks]
        timings["provision"] = time.monotonic() - started
        policies: dict[str, Any] = {}  # read once provisioned: a policy may name a key moto chose the id of
        for stack in stacks:
            policies.update(role_policies(stack))
        fakes = self._start_fakes(provisioned, clients)

        # Every function signs with its own role's credentials; so do state machines and schedules.
        specs = [
            replace(
                spec,
                environment={
                    **spec.environment,
                    **{k: v for k, v in fakes.items() if k in spec.environment},
                    **principals.issue(spec.display_name, spec.role_arn, policies.get(spec.role_arn, ())),
                },
            )
            for p in provisioned
            for spec in p.functions
        ]
        for stack in stacks:
            for lid in stack.of_type("AWS::StepFunctions::StateMachine"):
                role = stack.properties(lid)["RoleArn"]
                principals.issue(stack.physical[lid], role, policies.get(role, ()))
        schedules = [s for p in provisioned for s in p.schedules]
        for schedule in schedules:
            if schedule.role_arn:
                principals.issue(schedule.name, schedule.role_arn, policies.get(schedule.role_arn, ()))

        seeded: dict[str, Any] = {}
        seeding = None
        if self.seed:  # the demo data goes in while the workers start
            from local_stack.seed import seed_cuotas, seed_demo, seed_radian, seed_recargas

            def seed_all() -> None:
                seeded["demo"] = seed_demo(stacks[0], clients["dynamodb"])
                seeded["cps"] = seed_recargas(stacks[0], clients["dynamodb"], clients["kms"])
                seeded["radian"] = seed_radian(stacks[0], clients["dynamodb"])
                seeded["uno"] = seed_cuotas(stacks[0], clients["dynamodb"])

            seeding = threading.Thread(target=seed_all)
            seeding.start()
        self.pool = WorkerPool(
            specs, function_env, max_workers=self.concurrency, logs_dir=self.logs_dir, terminal=self.terminal.line
        )
        self.pool.start()
        timings["workers"] = time.monotonic() - started

        def dispatch(name: str, event: Any) -> tuple[str, bool, str]:
            result = self.pool.by_name(name).invoke(event)
            payload = result.result if result.ok else result.error
            return json.dumps(payload), not result.ok, "\n".join(result.logs)

        emulator.route_lambda_invokes(dispatch)
        self.async_invoker = for_runner(stacks, self.pool, principals, clients["sqs"], self.terminal.line)
        emulator.async_s3_notifications(self._may_invoke, self.async_invoker.submit)
        emulator.route_rule_targets(
            lambda name, event: self.pool.by_name(name).invoke(event),
            lambda arn: w.spec.name if (w := self.pool.by_arn(arn)) else None,
            self._may_invoke,
        )
        apis_by_stack = [(stack, load_apis(stack)) for stack in stacks]
        self.gateway = Gateway(
            [api for _, apis in apis_by_stack for api in apis],
            self.pool,
            REGION,
            ACCOUNT,
            self.docs,
            invocations=invocations,
            on_request=self.terminal.request,
            on_denied=lambda text: self.terminal.line(f"DENIED {text}"),
            on_schedule=lambda name: self.timer.run_now(name),
            mappings=[m for stack, apis in apis_by_stack for m in load_mappings(stack, apis)],
        )
        host, port = self.gateway.serve(self.host, self.port)
        self.timer = Timer(schedules, self._fire, REGION, ACCOUNT)
        self.timer.start()

        base = f"http://{host}:{port}"
        self.state = {
            "apiBaseUrls": {stage: f"{base}/{stage}" for stage in self.gateway.apis},
            # a custom domain's base path mapping, served here: https://<domain>/<basePath>/… is this URL
            "customDomains": {
                f"{m.domain}/{m.base_path}": {"url": f"{base}/{m.base_path}".rstrip("/"), "stage": m.api.stage}
                for m in self.gateway.mappings.values()
            },
            # the web ACL on each stage: the rules the gateway applies, and AWS's own (managed) it does not
            "webAcls": {
                stage: {"name": api.web_acl.name, "emulated": [r.name for r in api.web_acl.rules]}
                | {"notEmulated": api.web_acl.not_emulated}
                for stage, api in self.gateway.apis.items()
                if api.web_acl is not None
            },
            "gatewayUrl": base,
            "swaggerUi": f"{base}/_docs",
            "awsEndpointUrl": self.moto.endpoint_url,
            "region": REGION,
            "tables": {lid: name for p in provisioned for lid, name in p.tables.items()},
            "buckets": {lid: name for p in provisioned for lid, name in p.buckets.items()},
            "stateMachines": {lid: arn for p in provisioned for lid, arn in p.state_machines.items()},
            "functions": {w.spec.display_name: w.spec.name for w in self.pool.workers.values()},
            "schedules": [{"name": s.name, "expression": s.expression, "function": s.function_name} for s in schedules],
            "iam": {"enforced": True, "principals": len(principals), "resourcePolicies": len(resource_policies)},
            "logsDir": str(self.logs_dir) if self.logs_dir else None,
            "fakes": self.fake_urls,
            "python": f"{sys.version.split()[0]} ({sys.executable})",
            "motoHooks": emulator.hooks_installed(),
            "warnings": self._warnings(stacks),
            "demo": None,
        }
        if seeding is not None:
            seeding.join()
            timings["seeded"] = time.monotonic() - started
            self.state["demo"] = demo = seeded.get("demo")
            if demo is not None and seeded.get("cps"):
                demo["cps"] = {
                    **seeded["cps"],
                    "baseUrl": base,  # the URL before /cps/v2/...
                    "carrierUrl": self.fake_urls.get("carrier"),
                }
            if demo is not None and seeded.get("radian") and "afacturar" in self.fake_urls:
                from local_stack.fakes.afacturar import CUFES

                demo["radian"] = {
                    **seeded["radian"],
                    "baseUrl": base,  # the URL before /radian/v1/...
                    "fakeUrl": self.fake_urls["afacturar"],
                    "cufes": dict(CUFES),
                    "schedule": next((s.name for s in schedules if "radian" in s.name), None),
                }
            uno_stage = next(
                (
                    s
                    for s, a in self.gateway.apis.items()
                    if any(r.template_path.startswith("/wssb/") for r in a.routes)
                ),
                None,
            )
            if demo is not None and seeded.get("uno") and uno_stage:
                demo["uno"] = {**seeded["uno"], "baseUrl": f"{base}/{uno_stage}"}  # the URL before /wssb/...
            if demo and state_dir:  # ready-to-send bodies for the printed curl lines
                body = json.dumps(demo["pago"]["body"], indent=2).replace(
                    f'"montoTotal": {demo["pago"]["body"]["montoTotal"]}', f'"montoTotal": {demo["pago"]["monto"]}'
                )
                (state_dir / "pago.json").write_text(body + "\n")
                (state_dir / "reversa.json").write_text(json.dumps(demo["pago"]["reversa"], indent=2) + "\n")
        self.state["startupSeconds"] = round(time.monotonic() - started, 2)
        self.state["startupTimeline"] = {k: round(v, 2) for k, v in timings.items()}
        self.state["stateFile"] = str(self.state_file) if self.state_file else None
        if self.state_file:
            self.state_file.write_text(json.dumps(self.state, indent=2, ensure_ascii=False) + "\n")
        return self.state

    # ---- fakes of the external systems ----

    def _start_fakes(self, provisioned: list[Any], clients: dict[str, Any]) -> dict[str, str]:
        """Start the fake of each external system a function calls; return the environment values that
        point the functions at them (the only values the runner changes in a function's environment).
        afacturar's token is a secret: the fake's goes into the function's secret, as an operator would
        put the real one."""
        environments = [spec.environment for p in provisioned for spec in p.functions]
        overrides: dict[str, str] = {}
        self.fake_urls: dict[str, str] = {}
        if any("CARRIER_URL" in env for env in environments):
            from local_stack.fakes.carrier import FakeCarrier

            token = next(env["CARRIER_TOKEN"] for env in environments if "CARRIER_TOKEN" in env)
            self.carrier = FakeCarrier(token=token)
            overrides["CARRIER_URL"] = self.fake_urls["carrier"] = self.carrier.serve(self.host, 0)
        if any("AFACTURAR_URL" in env for env in environments):
            import secrets

            from local_stack.fakes.afacturar import FakeAfacturar

            self.afacturar = FakeAfacturar(token=secrets.token_urlsafe(24))
            overrides["AFACTURAR_URL"] = self.fake_urls["afacturar"] = self.afacturar.serve(self.host, 0)
            for secret_id in {env["AFACTURAR_SECRET_ID"] for env in environments if env.get("AFACTURAR_SECRET_ID")}:
                clients["secretsmanager"].put_secret_value(SecretId=secret_id, SecretString=self.afacturar.token)
        return overrides

    # ---- IAM at the edges: who may invoke a function ----

    def _denied(self, principal: Any, call: Any, request: Any, decision: Any) -> None:
        self.terminal.line(f"DENIED {principal.name}: {request.action} on {request.resource} ({decision.reason})")

    def _may_invoke(self, function_arn: str, service: str, source_arn: str) -> bool:
        decision = self.invocations.check(function_arn, service, source_arn)
        if not decision.allowed:
            self.terminal.line(f"DENIED {service} -> {function_arn.rsplit(':', 1)[-1]}: {decision.reason}")
        return decision.allowed

    def _fire(self, schedule: Any, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke the schedule's target as EventBridge would; its outcome (for ``/_schedules/<name>/run``)."""
        from local_stack.iam import Request, evaluate

        if schedule.rule_arn:  # an EventBridge rule invokes as events.amazonaws.com
            if not self._may_invoke(schedule.function_arn, "events.amazonaws.com", schedule.rule_arn):
                return {"schedule": schedule.name, "ok": False, "error": "denied: no Lambda permission for the rule"}
        elif schedule.role_arn:  # EventBridge Scheduler assumes the schedule's role
            credentials = self.principals.credentials(schedule.role_arn) or {}
            principal = self.principals.by_access_key(credentials.get("AWS_ACCESS_KEY_ID", ""))
            request = Request("lambda:InvokeFunction", schedule.function_arn)
            decision = evaluate(principal.policies if principal else (), request)
            if not decision.allowed:
                self.terminal.line(f"DENIED schedule {schedule.name}: lambda:InvokeFunction ({decision.reason})")
                return {"schedule": schedule.name, "ok": False, "error": f"denied: {decision.reason}"}
        result = self.pool.by_name(schedule.function_name).invoke(event)
        outcome = {"schedule": schedule.name, "function": schedule.function_name, "ok": result.ok}
        return outcome | ({"result": result.result} if result.ok else {"error": result.error})

    @staticmethod
    def _warnings(stacks: list[Any]) -> list[str]:
        here = f"python{sys.version_info.major}.{sys.version_info.minor}"
        runtimes = {
            r.get("Properties", {}).get("Runtime") for s in stacks for r in s.of_type("AWS::Lambda::Function").values()
        } - {None, here}
        return [f"workers run {here}; the functions target {', '.join(sorted(runtimes))}"] if runtimes else []

    def stop(self) -> None:
        for part in ("timer", "gateway", "async_invoker", "pool", "carrier", "afacturar", "moto"):
            component = getattr(self, part, None)
            if component is not None:
                try:
                    component.stop()
                except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                    print(f"stopping {part}: {exc}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    from local_stack.banner import banner

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
    # Ctrl-C reaches every process of the terminal's group: the workers ignore it and the runner stops
    # them, so the terminal shows one "stopping" line, not a traceback per worker.
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
    print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
