"""One synthesis per test session, with an empty stand-in for the layer (no pip, no network)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory):
    from aws_cdk.assertions import Template

    from infra.app import build_app

    layer_dir = tmp_path_factory.mktemp("layer")
    (layer_dir / "python").mkdir()
    (layer_dir / "python" / "README").write_text("stand-in for the built layer")
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(outdir=str(outdir), layer_dir=str(layer_dir))
    assembly = app.synth()
    return stack, Template.from_stack(stack), assembly.get_stack_by_name(stack.stack_name)
