"""A Lambda-like code layout on this machine, for the cold-start benchmark.

On Lambda a function imports from three places, in this order: its own code (read-only, with the
bytecode we ship), the layer (/opt/python, likewise), and the runtime's boto3 (with bytecode). The
shipped layer is built for arm64, so it can't be loaded here: this builds the same thing for this
machine and a given interpreter, from the same lock and sources, compiled the same way (checked-hash),
under build/bench/py<version>/:

- runtime/    what the Lambda runtime provides (the lock's ``runtime-provided`` group: boto3 & co.)
- layer/      the layer's requirements (``infra.layer.runtime_requirements``) plus ``recaudo``
- functions/<context>/<context>/   each context's code, as its asset ships it

The benchmark then runs ``<python> -S -c …`` with PYTHONPATH = function, layer, runtime and
PYTHONDONTWRITEBYTECODE=1: the code directories are read-only on Lambda, so a module without valid
bytecode compiles at every cold start there too.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra import constants as c
from infra.layer import _BYTECODE, _cached, _uv, runtime_requirements

OUT = c.ROOT / "build" / "bench"
_PLAIN = ("--no-header", "--no-annotate", "--format", "requirements.txt")


@dataclass(frozen=True)
class Layout:
    python: str
    version: str
    runtime: Path
    layer: Path
    functions: Path

    def pythonpath(self, context: str) -> str:
        return ":".join([str(self.functions / context), str(self.layer), str(self.runtime)])


def _version(python: str) -> str:
    out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True)
    if out.returncode:
        raise RuntimeError(f"{python}: not a usable interpreter")
    return out.stdout.decode().strip()


def _provided_requirements() -> list[str]:
    out = subprocess.run(
        [_uv(), "export", "--frozen", "--only-group", "runtime-provided", "--no-emit-project", "--no-hashes", *_PLAIN],
        cwd=c.ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line.strip() for line in out.splitlines() if line.strip() and not line.startswith("#")]


def _install(python: str, target: Path, requirements: list[str]) -> None:
    req = target.parent / f"{target.name}.txt"
    req.write_text("\n".join(requirements) + "\n")
    subprocess.run(
        [_uv(), "pip", "install", "--quiet", "--no-deps", "--python", python, "--target", str(target), "-r", str(req)],
        check=True,
    )


def _compile(python: str, target: Path) -> None:
    subprocess.run(
        [python, "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "checked-hash", str(target)],
        check=True,
    )


def layout(python: str) -> Layout:
    """Build (or reuse) the layout for ``python``; cached on the lock, the sources and the interpreter."""
    version = _version(python)
    layer_reqs, provided = runtime_requirements(), _provided_requirements()
    digest = hashlib.sha256("\n".join([python, version, _BYTECODE, *layer_reqs, *provided]).encode())
    for root in (c.LAYER_SOURCE_DIR / "recaudo", c.FUNCTIONS_DIR):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(c.ROOT)).encode() + b"\0" + path.read_bytes())

    def build(staging: Path) -> None:
        _install(python, staging / "runtime", provided)
        _install(python, staging / "layer", layer_reqs)
        shutil.copytree(
            c.LAYER_SOURCE_DIR / "recaudo",
            staging / "layer" / "recaudo",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        for context in sorted(p.name for p in c.FUNCTIONS_DIR.iterdir() if (p / "__init__.py").exists()):
            shutil.copytree(
                c.FUNCTIONS_DIR / context,
                staging / "functions" / context / context,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        for part in ("runtime", "layer", "functions"):
            _compile(python, staging / part)

    out = _cached(OUT / f"py{version}", digest.hexdigest(), build)
    return Layout(python, version, out / "runtime", out / "layer", out / "functions")
