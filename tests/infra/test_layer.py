"""The layer recipe: the locked runtime closure without what Lambda provides; assets per context."""

from __future__ import annotations

from infra import constants as c
from infra.layer import runtime_requirements


def test_given_the_lock_when_exported_for_the_layer_then_runtime_provided_packages_are_left_out():
    names = {line.split("==")[0].lower() for line in runtime_requirements()}
    assert {"pydantic", "pydantic-core", "aws-lambda-powertools", "simplejson", "lxml", "httpx"} <= names
    assert not names & c.RUNTIME_PROVIDED
    assert not names & {"moto", "pytest", "aws-cdk-lib", "cdk-nag"}


def test_given_the_function_assets_then_each_context_ships_only_its_own_code(synthesized):
    from pathlib import Path

    _, template, artifact = synthesized
    outdir = Path(artifact.assembly.directory)
    functions = template.to_json()["Resources"]
    for fn in (
        r
        for k, r in functions.items()
        if r["Type"] == "AWS::Lambda::Function" and not k.startswith("BucketNotificationsHandler")
    ):
        asset = outdir / ("asset." + fn["Properties"]["Code"]["S3Key"].removesuffix(".zip"))
        context = fn["Properties"]["Handler"].split(".")[0]
        shipped = {p.name for p in asset.iterdir()}
        assert shipped == {context}, (fn["Properties"]["Handler"], shipped)
        # its bytecode is the Lambda's Python's only (tests/infra/test_bytecode.py checks it loads)
        tags = {p.name.split(".")[1] for p in asset.rglob("*.pyc")}
        assert tags <= {f"cpython-{c.LAMBDA_PYTHON_VERSION.replace('.', '')}"}, tags


def test_given_two_builds_at_once_then_one_builds_and_the_other_reuses_it(tmp_path, monkeypatch):
    import threading
    import time

    from infra import layer

    calls = []

    def fake_build(out_dir, requirements):
        calls.append(out_dir)
        (out_dir / "python").mkdir(parents=True)
        time.sleep(0.3)  # long enough for the second caller to arrive mid-build
        (out_dir / "python" / "marker").write_text("built")

    monkeypatch.setattr(layer, "_build_into", fake_build)
    monkeypatch.setattr(layer, "runtime_requirements", lambda: ["pydantic==2"])
    out = tmp_path / "layer"
    results = []
    threads = [threading.Thread(target=lambda: results.append(layer.build_layer(out))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [out, out] and len(calls) == 1
    assert (out / "python" / "marker").read_text() == "built"
