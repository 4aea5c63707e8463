"""One warm worker process per Lambda function: its resolved environment (its role's credentials
included), its code asset and the layer; the template's timeout enforced. Its logs go to
``<logs dir>/<function>.log`` (or, without a logs dir, to the stream prefixed with its name); init
errors, crashes and timeouts are also told to the terminal in one line."""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

INIT_TIMEOUT_SECONDS = 60.0
# The environment a worker inherits from the runner: nothing that could leak the developer's shell.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    display_name: str
    name: str
    arn: str
    role_arn: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str]
    timeout: int
    memory: int


@dataclass
class Invocation:
    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None
    timed_out: bool = False
    duration_ms: float = 0.0
    logs: list[str] = field(default_factory=list)


_CONTEXT: Any = None


def _forkserver() -> Any:
    """One forkserver per runner, with the shared libraries already imported."""
    global _CONTEXT
    if _CONTEXT is None:
        import multiprocessing

        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(["local_stack.worker_preload"])
    return _CONTEXT


def _log_file(logs_dir: Path, spec: FunctionSpec) -> TextIO:
    logs_dir.mkdir(parents=True, exist_ok=True)
    return (logs_dir / f"{spec.display_name.replace('/', '.')}.log").open("a", encoding="utf-8", buffering=1)


class Worker:
    def __init__(
        self,
        spec: FunctionSpec,
        base_env: dict[str, str],
        log_stream: TextIO = sys.stdout,
        terminal: Callable[[str], None] | None = None,
        prefix: bool = True,
    ) -> None:
        self.spec = spec
        self._base_env = base_env
        self._log_stream = log_stream
        self._terminal = terminal
        self._prefix = prefix
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Any = None
        self._recent: deque[tuple[int, str]] = deque(maxlen=200)
        self._seq = 0
        self.init_ms: float | None = None

    # ---- lifecycle ----

    def start(self) -> None:
        from local_stack.worker_main import serve

        spec = {
            "name": self.spec.name,
            "arn": self.spec.arn,
            "handler": self.spec.handler,
            "code_dir": str(self.spec.code_dir),
            "layer_dirs": [str(p) for p in self.spec.layer_dirs],
            "timeout": self.spec.timeout,
            "memory": self.spec.memory,
        }
        env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
        env.update(self._base_env)
        env.update(self.spec.environment)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": self.spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.spec.memory),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.spec.timeout),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "LAMBDA_TASK_ROOT": str(self.spec.code_dir),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        context = _forkserver()
        self._conn, child_conn = context.Pipe()
        log_parent, log_child = context.Pipe(duplex=False)
        self._process = context.Process(target=serve, args=(child_conn, log_child, spec, env), daemon=True)
        self._process.start()
        child_conn.close()
        log_child.close()
        threading.Thread(target=self._pump, args=(log_parent,), daemon=True).start()

    def wait_ready(self, timeout: float = INIT_TIMEOUT_SECONDS) -> None:
        message, _ = self._read(timeout)
        if message is None or not message.get("ready"):
            raise RuntimeError(
                f"worker {self.spec.display_name} did not start: {[line for _, line in self._recent][-5:]}"
            )
        self.init_ms = message["init_ms"]
        if message.get("init_error"):
            self._log(
                f"INIT ERROR {message['init_error']['errorType']}: {message['init_error']['errorMessage']}", tell=True
            )

    def stop(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        if self._conn is not None:
            self._conn.close()

    def _restart(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join()
        self.stop()
        self.start()
        self.wait_ready()

    # ---- invocation ----

    def invoke(self, event: Any) -> Invocation:
        """One invocation at a time per worker, as one Lambda instance; the timeout is enforced."""
        with self._lock:
            if self._process is None or not self._process.is_alive():
                self._restart()
            mark = self._seq
            started = time.monotonic()
            timed_out = False
            try:
                self._conn.send({"event": event, "request_id": str(uuid.uuid4())})
                message, timed_out = self._read(self.spec.timeout)
            except (BrokenPipeError, EOFError, OSError):
                message = None
            duration = (time.monotonic() - started) * 1000
            if message is None:
                reason = f"Task timed out after {self.spec.timeout:.2f} seconds" if timed_out else "Runtime exited"
                self._log(f"{reason} (duration {duration:.0f} ms)", tell=True)
                self._restart()
                return Invocation(
                    ok=False,
                    timed_out=timed_out,
                    error={
                        "errorType": "Sandbox.Timedout" if timed_out else "Runtime.ExitError",
                        "errorMessage": reason,
                    },
                    duration_ms=duration,
                )
            logs = [line for seq, line in list(self._recent) if seq > mark]
            return Invocation(
                ok=message["ok"],
                result=message.get("result"),
                error=message.get("error"),
                duration_ms=duration,
                logs=logs,
            )

    # ---- plumbing ----

    def _read(self, timeout: float) -> tuple[dict[str, Any] | None, bool]:
        """(message, timed out). A message of None without a time-out means the process died."""
        try:
            if not self._conn.poll(timeout):
                return None, True
            return self._conn.recv(), False
        except (EOFError, OSError):
            return None, False

    def _pump(self, log_conn: Any) -> None:
        while True:
            try:
                line = log_conn.recv()
            except (EOFError, OSError):
                return
            self._log(line)

    def _log(self, line: str, tell: bool = False) -> None:
        self._seq += 1
        self._recent.append((self._seq, line))
        with contextlib.suppress(ValueError):  # the stream was closed at shutdown
            print(f"[{self.spec.display_name}] {line}" if self._prefix else line, file=self._log_stream, flush=True)
        if tell and self._terminal is not None:
            self._terminal(f"{self.spec.display_name}: {line}")


class FunctionWorkers:
    """The instances of one function: one warm from the start, more cold-started on demand up to
    ``max_workers`` concurrent invocations (as Lambda scales out); beyond that, callers wait."""

    def __init__(
        self,
        spec: FunctionSpec,
        base_env: dict[str, str],
        log_stream: TextIO,
        max_workers: int,
        terminal: Callable[[str], None] | None = None,
        prefix: bool = True,
    ) -> None:
        self.spec = spec
        self._log_stream = log_stream
        self._factory = lambda: Worker(spec, base_env, log_stream, terminal, prefix)
        self._idle: queue.LifoQueue[Worker] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(max_workers)
        self.instances: list[Worker] = []
        self._lock = threading.Lock()
        self.durations_ms: deque[float] = deque(maxlen=100_000)  # every invocation, for /_stats

    def _new(self) -> Worker:
        worker = self._factory()
        with self._lock:
            self.instances.append(worker)
        worker.start()
        return worker

    def start(self) -> Worker:
        return self._new()

    def invoke(self, event: Any) -> Invocation:
        with self._slots:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = self._new()
                worker.wait_ready()
            try:
                result = worker.invoke(event)
                self.durations_ms.append(result.duration_ms)
                return result
            finally:
                self._idle.put(worker)

    def release(self, worker: Worker) -> None:
        self._idle.put(worker)

    def stop(self) -> None:
        with self._lock:
            instances = list(self.instances)
        for worker in instances:
            worker.stop()
        if self._log_stream not in (sys.stdout, sys.stderr):
            self._log_stream.close()


class WorkerPool:
    def __init__(
        self,
        specs: list[FunctionSpec],
        base_env: dict[str, str],
        log_stream: TextIO = sys.stdout,
        max_workers: int = 4,
        logs_dir: Path | None = None,
        terminal: Callable[[str], None] | None = None,
    ) -> None:
        self.workers = {
            s.name: FunctionWorkers(
                s,
                base_env,
                _log_file(logs_dir, s) if logs_dir else log_stream,
                max_workers,
                terminal,
                prefix=logs_dir is None,
            )
            for s in specs
        }

    def start(self) -> None:
        started = [(pool, pool.start()) for pool in self.workers.values()]
        for pool, worker in started:
            worker.wait_ready()
            pool.release(worker)

    def stop(self) -> None:
        for pool in self.workers.values():
            pool.stop()

    def by_name(self, name: str) -> FunctionWorkers:
        return self.workers[name]

    def by_arn(self, arn: str) -> FunctionWorkers | None:
        name = arn.split(":function:", 1)[-1].split(":", 1)[0]
        return self.workers.get(name)
