"""The committed OpenAPI document is what the handlers generate: no drift."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("openapi_gen", ROOT / "scripts" / "openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_given_the_handlers_when_the_spec_is_generated_then_it_equals_the_committed_file():
    generator = _generator()
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert generator.render() == committed, "docs/openapi.json drifted: run `make openapi` and commit it"


def test_given_the_spec_then_every_query_endpoint_has_its_reply_and_error_models():
    spec = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert len(spec["paths"]) == 7
    for path, operations in spec["paths"].items():
        responses = operations["get"]["responses"]
        assert {"200", "400", "401", "404", "500"} <= responses.keys(), path
        assert "422" not in responses, path
