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
from recaudo.rest import cobranzas_security_schemes  # noqa: E402

OPENAPI_FILE = ROOT / "docs" / "openapi.json"
COBRANZAS_OPENAPI_FILE = ROOT / "docs" / "openapi-cobranzas.json"
RECARGAS_OPENAPI_FILE = ROOT / "docs" / "openapi-recargas.json"
RADIAN_OPENAPI_FILE = ROOT / "docs" / "openapi-radian.json"
CUOTAS_OPENAPI_FILE = ROOT / "docs" / "openapi-cuotas.json"
TITLE = "recaudo — Integración Conectividad"
VERSION = "1.0.0"


def _merge(
    package: str, modules: list[str], title: str, description: str, stage: str, security_schemes: dict | None = None
) -> dict:
    """One document from every handler's resolver: paths and schemas merged, Powertools' default
    422 replaced by each API's own 400 (so unused validation schemas go), sorted for stable diffs."""
    spec: dict = {}
    for module_name in modules:
        app = importlib.import_module(f"{package}.{module_name}").app
        part = json.loads(
            app.get_openapi_json_schema(
                title=title, version=VERSION, description=description, security_schemes=security_schemes
            )
        )
        if not spec:
            spec = part
            continue
        for path, operations in part["paths"].items():  # one path may be served by several functions
            spec["paths"].setdefault(path, {}).update(operations)
        spec.setdefault("components", {}).setdefault("schemas", {}).update(
            part.get("components", {}).get("schemas", {})
        )
    for operations in spec["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
    used = json.dumps(spec["paths"])
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        if f"#/components/schemas/{name}" not in used:
            schemas.pop(name, None)
    spec["servers"] = [{"url": f"/{stage}"}]
    spec["paths"] = dict(sorted(spec["paths"].items()))
    if schemas:
        spec["components"]["schemas"] = dict(sorted(schemas.items()))
    return spec


def build() -> dict:
    modules = [*c.CONECTIVIDAD_QUERIES.values(), *(module for module, _ in c.CONECTIVIDAD_PAYMENTS.values())]
    spec = _merge(
        "conectividad",
        modules,
        TITLE,
        "Consultas y pagos de bancos: personas, saldos por convenio, pagos, reversas, "
        "historial y verificación. Autenticación: Authorization: Token <token> (por banco).",
        c.CONECTIVIDAD_STAGE,
    )
    spec["components"]["securitySchemes"] = {
        "BankToken": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Token <keyId>.<secret>",
        }
    }
    spec["security"] = [{"BankToken": []}]
    return spec


def build_cobranzas() -> dict:
    """The Pay per TIC API (stage api2): text replies, the integrator hash as a form field or query parameter."""
    return _merge(
        "cobranzas",
        sorted({module for module, _ in c.COBRANZAS_ROUTES.values()}),
        "recaudo — Cobranzas (Pay per TIC)",
        "Importar cobranzas del periodo en curso desde un CSV (sin encabezado, ';', de 8 a 10 campos), "
        "y exportar o descargar su estado (EMI, ACP, RCH). Respuestas en texto: 'OK: …' o 'ERROR: …'. "
        "Autenticación: el HASH del integrador, como campo hash del formulario (POST) o en "
        "Authorization: Bearer <hash>; nunca en la URL.",
        c.COBRANZAS_STAGE,
        cobranzas_security_schemes(),
    )


def build_recargas() -> dict:
    """The CPS API (stage cps): signed requests, JSON replies, {"codigo", "mensaje"} refusals."""
    from recaudo.models.recargas import PagoRecargaRequest

    spec = _merge(
        "recargas",
        sorted({module for module, _ in c.RECARGAS_ROUTES.values()}),
        "recaudo — CPS recargas",
        "Recargas de servicios básicos para canales. Cada solicitud lleva api-key, api-nonce (tiempo Unix en "
        "milisegundos, único por api-key) y api-signature: el hex de HMAC-SHA384 con la clave privada del canal "
        "sobre PATH + NONCE + JSON, donde PATH va sin /cps y JSON es el cuerpo exacto (POST) o el objeto de la "
        "consulta, tipado y compacto (GET). El resultado de una recarga llega en la respuesta (200) o, si sigue en "
        "proceso, 202 con idOperacion y GET /cps/v2/operation/{idOperacion}. Idempotency-Key opcional (24 h).",
        c.RECARGAS_STAGE,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["PagoRecargaRequest"] = PagoRecargaRequest.model_json_schema()
    pay = spec["paths"]["/v2/operation/use/pay"]["post"]
    # _merge drops Powertools' generic 422; here 422 is ours: an Idempotency-Key reused with another body
    pay["responses"]["422"] = {
        "description": "Idempotency-Key reutilizada con otra solicitud",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorReply"}}},
    }
    pay["responses"] = dict(sorted(pay["responses"].items()))
    pay["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PagoRecargaRequest"}}},
    }
    pay.setdefault("parameters", []).append(
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "la misma clave y cuerpo repiten la primera respuesta; otra solicitud con la clave: 422",
        }
    )
    spec["components"]["schemas"] = dict(sorted(schemas.items()))
    spec["components"]["securitySchemes"] = {
        name: {"type": "apiKey", "in": "header", "name": name, "description": text}
        for name, text in (
            ("api-key", "el id del canal (64 hex)"),
            ("api-nonce", "tiempo Unix en milisegundos; cada uno se acepta una vez"),
            ("api-signature", "hex de HMAC-SHA384(clave privada, PATH + NONCE + JSON)"),
        )
    }
    spec["security"] = [{"api-key": [], "api-nonce": [], "api-signature": []}]
    return spec


def render_recargas() -> str:
    return json.dumps(build_recargas(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def build_radian() -> dict:
    """Our RADIAN tracking API (stage radian): a tenant's token, JSON, {"codigo", "mensaje"} refusals."""
    spec = _merge(
        "radian",
        list(c.RADIAN_ROUTES),
        "recaudo — RADIAN: seguimiento de facturas electrónicas",
        "Registre CUFEs (96 caracteres hexadecimales) y consulte el estado legal de cada factura según los "
        "eventos RADIAN que afacturar devuelve: un conjunto de insignias (Factura Electrónica, Título Valor, "
        "Disponibilizada, Endosada, Limitada, Pagada, Protestada, Transferida) derivadas como lo hace la "
        "plataforma de la DIAN. Un programa consulta afacturar periódicamente (más a menudo mientras la factura "
        "se mueve); POST …/{cufe}/sondeo consulta una ya. Cada cambio de insignias publica InvoiceStatusChanged "
        "en el bus de eventos. Autenticación: Authorization: Token <keyId>.<secreto>, uno por cliente; cada "
        "cliente ve solo sus facturas.",
        c.RADIAN_STAGE,
    )
    spec.setdefault("components", {})["securitySchemes"] = {
        "token": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Token <keyId>.<secreto> (el del cliente; python -m ops.admin create-tenant)",
        }
    }
    spec["security"] = [{"token": []}]
    return spec


def render_radian() -> str:
    return json.dumps(build_radian(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def build_cuotas() -> dict:
    """Sistema UNO paymentDue (stage uno): a business's token, XML in and out, <error> refusals. The
    resource is one path segment carrying a SIF matrix parameter: OpenAPI's ``style: matrix``."""
    spec = _merge(
        "cuotas",
        list(c.CUOTAS_ROUTES),
        "recaudo — Sistema UNO: configuración de cuotas (paymentDue)",
        "Configure las cuotas (colegio_articulo_abono) de cada artículo por grado para un colegio y ciclo: POST de "
        "un <paymentDue> (sin espacio de nombres, según docs/uno/paymentDue.xsd) a "
        '/wssb/admin/paymentDue;contextId=<JSON URL-encoded {"businessId","schoolId","schoolYearId"}>. La '
        "respuesta es HTTP 200 con un <create id statusCode> por <due>, en orden: 200 guardado (re-enviar el "
        "mismo due reemplaza sus pagos y conserva su id), o el estado de su rechazo con su <error>. Cada "
        "artículo necesita su configuración de precios (colegio_articulo_precio). GET (extensión) devuelve "
        "las cuotas configuradas. Rechazos: <error refId><code>estado</code><message/></error>. "
        "Autenticación: Authorization: Token <keyId>.<secreto>, uno por empresa.",
        c.CUOTAS_STAGE,
    )
    old = "/wssb/admin/{recurso}"
    operations = spec["paths"].pop(old)
    for operation in operations.values():
        operation["parameters"] = [
            {
                "name": "contextId",
                "in": "path",
                "required": True,
                "style": "matrix",
                "explode": False,
                "description": 'JSON URL-encoded: {"businessId":10,"schoolId":6498,"schoolYearId":64}',
                "schema": {"type": "string"},
            }
        ]
        if operation.get("operationId"):
            operation["operationId"] = operation["operationId"].replace("_recurso_", "_paymentDue_")
    operations["post"]["requestBody"] = {
        "required": True,
        "content": {"application/xml": {"schema": {"type": "string", "format": "xml"}}},
        "description": "<paymentDue>: docs/uno/paymentDue.xsd",
    }
    spec["paths"] = {"/wssb/admin/paymentDue{contextId}": operations}
    spec.setdefault("components", {})["securitySchemes"] = {
        "token": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Token <keyId>.<secreto> (el de la empresa; python -m ops.admin create-business)",
        }
    }
    spec["security"] = [{"token": []}]
    return spec


def render_cuotas() -> str:
    return json.dumps(build_cuotas(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def render_cobranzas() -> str:
    return json.dumps(build_cobranzas(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {OPENAPI_FILE.relative_to(ROOT)}")
    args = parser.parse_args()
    if args.write:
        OPENAPI_FILE.write_text(render(), encoding="utf-8")
        print(f"wrote {OPENAPI_FILE.relative_to(ROOT)} ({len(build()['paths'])} paths)")
        COBRANZAS_OPENAPI_FILE.write_text(render_cobranzas(), encoding="utf-8")
        print(f"wrote {COBRANZAS_OPENAPI_FILE.relative_to(ROOT)} ({len(build_cobranzas()['paths'])} paths)")
        RECARGAS_OPENAPI_FILE.write_text(render_recargas(), encoding="utf-8")
        print(f"wrote {RECARGAS_OPENAPI_FILE.relative_to(ROOT)} ({len(build_recargas()['paths'])} paths)")
        RADIAN_OPENAPI_FILE.write_text(render_radian(), encoding="utf-8")
        print(f"wrote {RADIAN_OPENAPI_FILE.relative_to(ROOT)} ({len(build_radian()['paths'])} paths)")
        CUOTAS_OPENAPI_FILE.write_text(render_cuotas(), encoding="utf-8")
        print(f"wrote {CUOTAS_OPENAPI_FILE.relative_to(ROOT)} ({len(build_cuotas()['paths'])} paths)")
    else:
        sys.stdout.write(render() + render_cobranzas())
    return 0


if __name__ == "__main__":
    sys.exit(main())
