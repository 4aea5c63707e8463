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

    stack, template, artifact = synthesized
    outdir = Path(artifact.assembly.directory)
    functions = template.to_json()["Resources"]
    for fn in (r for r in functions.values() if r["Type"] == "AWS::Lambda::Function"):
        asset = outdir / ("asset." + fn["Properties"]["Code"]["S3Key"].removesuffix(".zip"))
        context = fn["Properties"]["Handler"].split(".")[0]
        shipped = {p.name for p in asset.iterdir()}
        assert shipped == {context}, (fn["Properties"]["Handler"], shipped)
        assert not list(asset.rglob("__pycache__"))
