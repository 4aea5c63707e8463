"""The bytecode Lambda gets (issue 15): every module of the layer and of each function asset ships a
``checked-hash`` pyc for the Lambda's Python (3.13), and after a trip through a zip, whose entries carry
fixed dates, Python's own import machinery loads each module from that pyc without compiling it."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from infra import constants as c
from infra.layer import _target_python, build_layer

PYTHON = _target_python()
pytestmark = pytest.mark.skipif(PYTHON is None, reason=f"no Python {c.LAMBDA_PYTHON_VERSION} on this machine")

# Run by the Lambda's Python: load every module's code through SourceFileLoader, as an import does, and
# report the modules it had to compile from source (a missing, stale or foreign pyc) or whose pyc is not
# checked-hash.
_PROBE = r"""
import importlib.machinery, importlib.util, json, pathlib, sys
root = pathlib.Path(sys.argv[1])
compiled, not_hash = [], []
original = importlib.machinery.SourceFileLoader.source_to_code
def source_to_code(self, data, path, *args, **kwargs):
    compiled.append(str(pathlib.Path(path).relative_to(root)))
    return original(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = source_to_code
sys.dont_write_bytecode = True
for source in sorted(root.rglob("*.py")):
    cached = pathlib.Path(importlib.util.cache_from_source(str(source)))
    if not cached.exists() or int.from_bytes(cached.read_bytes()[4:8], "little") != 0b11:
        not_hash.append(str(source.relative_to(root)))
    importlib.machinery.SourceFileLoader("probe", str(source)).get_code("probe")
print(json.dumps({"modules": len(list(root.rglob("*.py"))), "compiled": compiled, "not_hash": not_hash}))
"""

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the fixed date of the asset zips' entries


def through_a_zip(directory: Path, tmp: Path) -> Path:
    """The directory as Lambda unpacks it: zipped, unpacked, every file dated as its zip entry."""
    tmp.mkdir(parents=True, exist_ok=True)
    archive = tmp / "asset.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            z.writestr(zipfile.ZipInfo(str(path.relative_to(directory)), ZIP_DATE), path.read_bytes())
    out = tmp / "unpacked"
    with zipfile.ZipFile(archive) as z:
        z.extractall(out)
    stamp = 315532800  # 1980-01-01 UTC
    for path in out.rglob("*"):
        os.utime(path, (stamp, stamp))
    return out


def probe(root: Path) -> dict:
    assert PYTHON is not None
    out = subprocess.run([PYTHON, "-c", _PROBE, str(root)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_given_a_timestamp_pyc_after_the_zip_then_the_probe_sees_it_compiled(tmp_path):
    # Given a module compiled the default way (timestamp), then zipped and unpacked with fixed dates
    assert PYTHON is not None
    src = tmp_path / "src" / "pkg"
    src.mkdir(parents=True)
    (src / "m.py").write_text("X = 1\n")
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(src)], check=True)
    # When the probe loads it / Then it had to compile it: the check can fail
    result = probe(through_a_zip(tmp_path / "src", tmp_path))
    assert result["compiled"] == ["pkg/m.py"] and result["not_hash"] == ["pkg/m.py"]


def test_given_each_function_asset_then_every_module_loads_from_its_checked_hash_pyc(synthesized, tmp_path):
    _, template, artifact = synthesized
    outdir = Path(artifact.assembly.directory)
    handlers = {
        r["Properties"]["Handler"].split(".")[0]: outdir / ("asset." + r["Properties"]["Code"]["S3Key"][: -len(".zip")])
        for k, r in template.to_json()["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and not k.startswith("BucketNotificationsHandler")
    }
    assert set(handlers) == {p.name for p in c.FUNCTIONS_DIR.iterdir() if (p / "__init__.py").exists()}
    for context, asset in handlers.items():
        result = probe(through_a_zip(asset, tmp_path / context))
        assert result["modules"] > 0
        assert (result["compiled"], result["not_hash"]) == ([], []), context


def test_given_the_layer_then_every_module_loads_from_its_checked_hash_pyc(tmp_path):
    # Given the layer as `make synth` builds it (cached under build/layer)
    layer = build_layer() / "python"
    # When it has been through a zip / Then no module is compiled at import, ours and the wheels' alike
    result = probe(through_a_zip(layer, tmp_path))
    assert result["modules"] > 500
    assert (result["compiled"], result["not_hash"]) == ([], [])
