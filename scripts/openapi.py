"""Generate docs/openapi.json from the handlers' own resolvers (``--write``), or print it.

Each Lambda has its own resolver with its one route; the document merges their paths and schemas.
A test regenerates it and fails when the committed file has drifted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT / "functions"), str(ROOT)]

from infra import constants as c  # noqa: E402

OPENAPI_FILE = ROOT / "docs" / "openapi.json"
TITLE = "recaudo — Integración Conectividad"
VERSION = "1.0.0"


def build() -> dict:
    spec: dict = {}
    modules = [*c.CONECTIVIDAD_QUERIES.values(), *(module for module, _ in c.CONECTIVIDAD_PAYMENTS.values())]
    for module_name in modules:
        app = importlib.import_module(f"conectividad.{module_name}").app
        part = json.loads(
            app.get_openapi_json_schema(
                title=TITLE,
                version=VERSION,
                description="Consultas y pagos de bancos: personas, saldos por convenio, pagos, reversas, "
                "historial y verificación. Autenticación: Authorization: Token <token> (por banco).",
            )
        )
        if not spec:
            spec = part
            continue
        spec["paths"].update(part["paths"])
        spec.setdefault("components", {}).setdefault("schemas", {}).update(part.get("components", {}).get("schemas", {}))
    # Validation failures are answered as 400 with codigoRespuesta 5, never Powertools' default 422.
    for operations in spec["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
    used = json.dumps(spec["paths"])
    schemas = spec["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        if f"#/components/schemas/{name}" not in used:
            schemas.pop(name, None)
    spec["servers"] = [{"url": f"/{c.CONECTIVIDAD_STAGE}"}]
    spec["components"]["securitySchemes"] = {
        "BankToken": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Token <keyId>.<secret>"}
    }
    spec["security"] = [{"BankToken": []}]
    spec["paths"] = dict(sorted(spec["paths"].items()))
    spec["components"]["schemas"] = dict(sorted(spec["components"]["schemas"].items()))
    return spec


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {OPENAPI_FILE.relative_to(ROOT)}")
    args = parser.parse_args()
    text = render()
    if args.write:
        OPENAPI_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {OPENAPI_FILE.relative_to(ROOT)} ({len(build()['paths'])} paths)")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
