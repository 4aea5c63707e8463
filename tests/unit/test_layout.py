"""The context template (docs/contexts.md) as checks on the source tree: what the Lambda layer may
import, and where DynamoDB's wire format may appear."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared" / "python" / "recaudo"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_given_the_layer_when_its_imports_are_read_then_it_never_reaches_repo_only_packages():
    # Given every module the layer ships
    offenders = {
        str(path.relative_to(LAYER)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] in {"ops", "infra", "local_stack", "tests"}
        )
        for path in LAYER.rglob("*.py")
    }
    # Then none imports the operator tooling, the CDK app, the local stack or the tests
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("module", ["admin", "demo", "flows"])
def test_given_the_layer_then_tooling_and_state_machines_live_outside_it(module):
    # The admin CLI and demo data are in ops/, the state-machine definitions in infra/flows/
    assert not (LAYER / f"{module}.py").exists()
