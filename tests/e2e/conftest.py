"""Local stacks started once per test session, as a user starts them, and spoken to over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


class RunningStack:
    def __init__(self, cdk_out: Path, workdir: Path, seed: bool) -> None:
        self.cdk_out = cdk_out
        # as `make run` on a fresh clone: the state goes to a .local/ that does not exist yet
        self.state_file = workdir / ".local" / "stack.json"
        self.log_file = workdir / "runner.log"
        args = [
            sys.executable,
            "-m",
            "local_stack",
            "--cdk-out",
            str(cdk_out),
            "--port",
            "0",
            "--state-file",
            str(self.state_file),
        ]
        if not seed:
            args.append("--no-seed")
        self._log = self.log_file.open("w")
        # its own process group, as a terminal's foreground job: Ctrl-C reaches the runner and its workers
        self.process = subprocess.Popen(
            args, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while not self.state_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"local stack did not start:\n{self.log_file.read_text()[-4000:]}")
            time.sleep(0.2)
        self.state = json.loads(self.state_file.read_text())

    def logs(self) -> str:
        """The runner's terminal, then every function's log file."""
        self._log.flush()
        functions = sorted((self.state_file.parent / "logs").glob("*.log"))
        return "\n".join([self.log_file.read_text(), *(f.read_text() for f in functions)])

    def terminal(self) -> str:
        self._log.flush()
        return self.log_file.read_text()

    def stop(self) -> int:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        finally:
            self._log.close()

    def stop_cleanly(self) -> None:
        """Stopped with Ctrl-C: exit 0, and the terminal ends with the runner's own lines, no traceback."""
        assert self.stop() == 0
        terminal = self.log_file.read_text()
        assert "Traceback" not in terminal, terminal[-3000:]
        assert terminal.rstrip().endswith("stopped."), terminal[-500:]

    def bus_queue(self, source: str) -> str:
        """A queue that a rule on the ``recaudo`` bus fills with every event of ``source``: its URL."""
        sqs, events = self.aws("sqs"), self.aws("events")
        name = f"{source.rsplit('.', 1)[-1]}-{uuid.uuid4().hex[:8]}"
        queue = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=name, EventBusName="recaudo", EventPattern=json.dumps({"source": [source]}))
        events.put_targets(Rule=name, EventBusName="recaudo", Targets=[{"Id": "q", "Arn": arn}])
        return queue

    def aws(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.state["awsEndpointUrl"],
            region_name=self.state["region"],
            aws_access_key_id="e2e",
            aws_secret_access_key="e2e",
        )


@pytest.fixture(scope="session")
def probe(tmp_path_factory) -> Iterator[RunningStack]:
    """The probe app: every resource type and event source the local stack emulates."""
    from tests.e2e.fixture_app.app import synth

    out = tmp_path_factory.mktemp("probe.out")
    synth(str(out))
    stack = RunningStack(out, tmp_path_factory.mktemp("probe-run"), seed=False)
    yield stack
    stack.stop_cleanly()


@pytest.fixture(scope="session")
def recaudo(tmp_path_factory) -> Iterator[RunningStack]:
    """The real app, synthesized as `make synth` does (layer included), with its demo data."""
    from infra.app import build_app

    out = tmp_path_factory.mktemp("recaudo.out")
    app, _ = build_app(outdir=str(out))
    app.synth()
    stack = RunningStack(out, tmp_path_factory.mktemp("recaudo-run"), seed=True)
    yield stack
    stack.stop_cleanly()
