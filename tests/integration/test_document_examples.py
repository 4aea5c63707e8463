"""The Conectividad document's own curl examples, replayed against our handlers.

The document's examples live in the repository as data (``tests/data/conectividad_documento.json``,
reproduced verbatim from seed 000): each query example's URL and headers are sent as API Gateway
would, and the reply's JSON shape (keys and value types) must equal the document's example reply.
"""

from __future__ import annotations

import json
import shlex
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from infra.constants import CONECTIVIDAD_QUERIES
from tests.helpers import call, rest_event

DOCUMENT = Path(__file__).resolve().parents[1] / "data" / "conectividad_documento.json"


def _examples() -> list[tuple[str, str, dict[str, str], object, str]]:
    out = []
    for example in json.loads(DOCUMENT.read_text(encoding="utf-8"))["examples"]:
        argv = shlex.split(example["curl"])
        headers = dict(argv[i + 1].split(": ", 1) for i, a in enumerate(argv) if a == "-H")
        url = urlsplit(argv[-1])
        out.append((example["title"], url.path, headers, example["reply"], url.query))
    return out


EXAMPLES = _examples()


def shape(value: object) -> object:
    """Keys and JSON types; in a list, element shapes merge (an int beside a fraction is a number)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict = {}
        for element in value:
            for k, v in shape(element).items():
                merged[k] = "number" if {merged.get(k, v), v} == {"int", "number"} else v
        return [merged]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float | Decimal):
        return "number"
    return type(value).__name__


def test_given_the_seed_document_then_every_query_endpoint_has_an_example():
    paths = {path.rsplit("/", 1)[1] for _, path, *_ in EXAMPLES}
    assert set(CONECTIVIDAD_QUERIES) <= paths


@pytest.mark.parametrize(
    ("title", "path", "headers", "documented", "query"),
    [e for e in EXAMPLES if e[1].rsplit("/", 1)[1] in CONECTIVIDAD_QUERIES],
    ids=lambda v: v if isinstance(v, str) and v.startswith("/v1") else "",
)
def test_given_a_document_example_when_replayed_then_the_reply_has_the_documented_shape(
    demo, title, path, headers, documented, query
):
    import importlib

    # Given the example's own headers and query string (including the document's "&&")
    assert headers["Authorization"].startswith("Token ")
    module = importlib.import_module(f"conectividad.{CONECTIVIDAD_QUERIES[path.rsplit('/', 1)[1]]}")
    # When
    status, body = call(module.handler, rest_event("GET", path, query, headers=headers))
    # Then
    assert status == 200, (title, body)
    assert shape(body) == shape(documented), title
