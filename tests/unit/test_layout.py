"""The context template (docs/contexts.md) as checks on the source tree: what the Lambda layer may
import, and where DynamoDB's wire format may appear."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared" / "python" / "recaudo"
NOT_IN_LAMBDAS = {"ops", "infra", "local_stack", "tests"}
FUNCTION_PACKAGES = {p.name for p in (ROOT / "functions").iterdir() if (p / "__init__.py").exists()}


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
            m for m in imported_modules(path) if m.split(".")[0] in NOT_IN_LAMBDAS | FUNCTION_PACKAGES
        )
        for path in LAYER.rglob("*.py")
    }
    # Then none imports the operator tooling, the CDK app, the local stack, the tests or a function
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("module", ["admin", "demo", "flows"])
def test_given_the_layer_then_tooling_and_state_machines_live_outside_it(module):
    # The admin CLI and demo data are in ops/, the state-machine definitions in infra/flows/
    assert not (LAYER / f"{module}.py").exists()


# DynamoDB's attribute-value tags and request/response fields: only recaudo/data may spell them.
WIRE = {"S", "N", "B", "SS", "NS", "BOOL", "NULL", "M", "L", "Item", "Items", "Key", "Attributes"}
FUNCTIONS = ROOT / "functions"


def wire_format_uses(path: Path) -> list[str]:
    """Dict keys, subscripts and ``.get()`` arguments that are DynamoDB wire names, with their line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        candidates: list[ast.expr] = []
        if isinstance(node, ast.Dict):
            candidates += [k for k in node.keys if k is not None]
        elif isinstance(node, ast.Subscript):
            candidates.append(node.slice)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            candidates += node.args[:1]
        found += [f"{c.lineno}: {c.value!r}" for c in candidates if isinstance(c, ast.Constant) and c.value in WIRE]
    return found


@pytest.mark.parametrize("path", sorted(FUNCTIONS.rglob("*.py")), ids=lambda p: str(p.relative_to(FUNCTIONS)))
def test_given_a_function_module_then_it_never_handles_dynamodb_wire_format(path):
    # Given a handler or logic module: it reaches DynamoDB only through repositories returning entities
    assert not {m for m in imported_modules(path) if m.startswith(("boto3.dynamodb", "recaudo.data.dynamo"))}
    assert wire_format_uses(path) == []
