"""Build the shared layer without Docker.

Third-party wheels come from the lock (``uv export``), minus what the Lambda runtime provides, and
are installed for the target with ``pip install --platform … --only-binary=:all: --target``. The
``recaudo`` package is copied beside them and everything is compiled with the target interpreter in
``checked-hash`` mode, so the bytecode stays valid inside the zip whatever its timestamps.
The result is cached under build/layer, keyed on the lock, the target and the layer sources.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from infra import constants as c


def _uv() -> str:
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(c.ROOT / ".tools" / "bin" / "uv")):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("uv not found: run `make deps` first (it installs uv into .tools/)")


def runtime_requirements() -> list[str]:
    """The locked runtime closure of the project, without what the Lambda runtime provides."""
    out = subprocess.run(
        [
            _uv(),
            "export",
            "--frozen",
            "--no-default-groups",
            "--no-emit-project",
            "--no-hashes",
            "--no-header",
            "--no-annotate",
            "--format",
            "requirements.txt",
        ],
        cwd=c.ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    keep = []
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name = line.split("==", 1)[0].split(";", 1)[0].strip().lower()
        if name not in c.RUNTIME_PROVIDED:
            keep.append(line)
    return keep


# how the bytecode is written (part of the cache key: a change rebuilds cached layers)
_BYTECODE = "checked-hash, forced"


def _target_python() -> str | None:
    """An interpreter of the Lambda's Python version, to write bytecode it will accept."""
    candidates = [os.environ.get("LAYER_PYTHON"), shutil.which(f"python{c.LAMBDA_PYTHON_VERSION}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{c.LAMBDA_PYTHON_VERSION}*/bin/python3")))
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == c.LAMBDA_PYTHON_VERSION:
            return candidate
    return None


def _fingerprint(requirements: list[str]) -> str:
    digest = hashlib.sha256()
    digest.update("\n".join([c.LAMBDA_PLATFORM, c.LAMBDA_PYTHON_VERSION, _BYTECODE, *requirements]).encode())
    for path in sorted(c.LAYER_SOURCE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(c.LAYER_SOURCE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_layer(out_dir: Path = c.LAYER_BUILD_DIR) -> Path:
    """Return a directory whose ``python/`` folder is the layer's content, building it if stale.

    Safe to call from several processes at once: one builds (under a file lock) into a fresh folder
    that replaces the old one by rename; the others wait and reuse it."""
    requirements = runtime_requirements()
    return _cached(out_dir, _fingerprint(requirements), lambda staging: _build_into(staging, requirements))


def function_asset(context: str, out_root: Path = c.FUNCTIONS_BUILD_DIR) -> Path:
    """Return a directory holding only ``<context>/`` (functions/<context>, the function's code) with
    its bytecode compiled for the Lambda's Python in ``checked-hash`` mode, building it if stale: the
    code directory is read-only on Lambda, so without it every cold start compiles every module."""
    source = c.FUNCTIONS_DIR / context
    digest = hashlib.sha256(f"{c.LAMBDA_PYTHON_VERSION}\n{_target_python() or ''}".encode())
    for path in sorted(source.rglob("*.py")):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())

    def build(staging: Path) -> None:
        shutil.copytree(source, staging / context, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        compilar(staging)

    return _cached(out_root / context, digest.hexdigest(), build)


def _cached(out_dir: Path, fingerprint: str, build: Callable[[Path], None]) -> Path:
    import fcntl

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(out_dir.parent / f".{out_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = out_dir / ".fingerprint"
        if stamp.exists() and stamp.read_text() == fingerprint:
            return out_dir
        staging = out_dir.parent / f"{out_dir.name}.staging"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
        build(staging)
        (staging / ".fingerprint").write_text(fingerprint)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    return out_dir


def compilar(target: Path) -> bool:
    """Compile every module under ``target`` with the Lambda's Python, ``checked-hash``: the pyc
    records a hash of its source, not its timestamp, so it stays valid after the zip (whose entries
    carry fixed dates) is unpacked. False when no such interpreter is on this machine."""
    python = _target_python()
    if not python:
        print(
            f"warning: no Python {c.LAMBDA_PYTHON_VERSION} found; {target.name} ships without bytecode "
            "(set LAYER_PYTHON to add it)",
            file=sys.stderr,
        )
        return False
    subprocess.run(
        # -f: compileall skips a module whose timestamp pyc looks current, and would leave it so
        [python, "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "checked-hash", str(target)],
        check=True,
    )
    return True


def _build_into(out_dir: Path, requirements: list[str]) -> None:
    target = out_dir / "python"
    target.mkdir(parents=True)
    req_file = out_dir / "requirements.txt"
    req_file.write_text("\n".join(requirements) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-compile",  # bytecode is written by ``compilar``, for the Lambda's Python, checked-hash
            "--platform",
            c.LAMBDA_PLATFORM,
            "--implementation",
            "cp",
            "--python-version",
            c.LAMBDA_PYTHON_VERSION,
            "--only-binary=:all:",
            "--target",
            str(target),
            "-r",
            str(req_file),
        ],
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},  # only the public index: reproducible anywhere
    )
    shutil.copytree(
        c.LAYER_SOURCE_DIR / "recaudo", target / "recaudo", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    compilar(target)
