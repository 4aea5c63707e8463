"""What a cold start imports and builds (issue 15): four Powertools packages whose ``__init__``
imports far more than a REST handler uses load lazily (recaudo._lazy_powertools), and nothing that
worked stops working; the recargas API builds the carrier's client only when a call needs it.

Each case runs in a fresh interpreter (the test process has long imported Powertools eagerly), with
the layer and the functions on its path, as a cold start does."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra import constants as c
from recaudo import _lazy_powertools

# what a handler never needs: AppSync's resolvers, Bedrock's, the OpenAPI merge tool, forty event classes
HEAVY = [
    "aws_xray_sdk",  # the handler's subsegment is written without it (recaudo/tracing.py)
    "aws_lambda_powertools.metrics",  # EMF is written directly (recaudo/emf.py)
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.event_handler.events_appsync",
    "aws_lambda_powertools.event_handler.appsync",
    "aws_lambda_powertools.event_handler.bedrock_agent",
    "aws_lambda_powertools.event_handler.openapi.merge",
    "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event",
    "aws_lambda_powertools.utilities.data_classes.kafka_event",
]
# one handler of every context, and the authorizer
HANDLERS = [
    "conectividad.obtener_persona",
    "conectividad.ejecutar_pago",
    "cobranzas.importar_csv",
    "recargas.pagar",
    "radian.registrar",
    "cuotas.configurar",
    "authorizer.token",
]
ENV = {
    "LEDGER_TABLE": "recaudo-ledger",
    "CREDENTIALS_TABLE": "recaudo-credentials",
    "IDEMPOTENCY_TABLE": "recaudo-idempotency",
    "EVENT_BUS_NAME": "recaudo",
    "COBRANZAS_BUCKET": "recaudo-cobranzas",
    "RADIAN_TABLE": "recaudo-radian",
    "CUOTAS_TABLE": "recaudo-cuotas",
    "POWERTOOLS_TRACE_DISABLED": "1",
}


def fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter; it prints one JSON value."""
    env = {
        **os.environ,
        **ENV,
        "PYTHONPATH": os.pathsep.join([str(c.FUNCTIONS_DIR), str(c.LAYER_SOURCE_DIR)]),
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("handler", HANDLERS)
def test_given_a_cold_handler_when_imported_then_powertools_heavy_packages_stay_unloaded(handler):
    # When a fresh interpreter imports the handler module, as Lambda's init does
    loaded = fresh(f"import sys, json, {handler}; print(json.dumps(sorted(set({HEAVY!r}) & set(sys.modules))))")
    # Then none of what it never uses was imported
    assert loaded == []


def test_given_the_lazy_packages_then_each_name_they_map_is_the_one_the_real_init_exports():
    # Given the names the shim resolves itself, and where it looks for them
    code = f"""
import importlib, json
mapped = {_lazy_powertools.PACKAGES!r}
wrong = []
for package, names in mapped.items():
    real = importlib.import_module(package)  # no recaudo imported: the real __init__ runs
    for name, submodule in names.items():
        if getattr(real, name) is not getattr(importlib.import_module(package + "." + submodule), name):
            wrong.append(package + "." + name)
print(json.dumps(wrong))
"""
    # When each is compared with what the real package exports / Then they are the same objects
    assert fresh(code) == []


def test_given_the_shim_then_the_top_package_logger_and_user_agent_are_set_up_as_its_init_sets_them_up():
    code = """
import json, logging
import botocore
before = list(getattr(botocore, "_INITIALIZERS", []))
import recaudo
from aws_lambda_powertools.shared.user_agent import _initializer_botocore_session
package = logging.getLogger("aws_lambda_powertools")
def state():
    return [package.propagate, [type(h).__name__ for h in package.handlers],
            botocore._INITIALIZERS.count(_initializer_botocore_session) - before.count(_initializer_botocore_session)]
lazy = state()
import aws_lambda_powertools
version = aws_lambda_powertools.__version__  # a name the shim leaves to the real __init__, which then runs
print(json.dumps([lazy, state(), bool(version)]))
"""
    # When recaudo installs the shim (the top package's __init__ not run), and later the real __init__ runs
    # Then Powertools' own records go nowhere and botocore sessions get its user agent, once, either way
    assert fresh(code) == [[False, ["NullHandler"], 1], [False, ["NullHandler"], 1], True]


def test_given_the_shim_when_code_asks_for_a_name_it_does_not_map_then_the_real_init_provides_it():
    # Given a cold interpreter with the shim installed
    code = """
import json, sys
import recaudo
lazy_before = "asyncio" not in sys.modules
# When code imports names the shim does not map
from aws_lambda_powertools.event_handler import AppSyncResolver, APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import SNSEvent
import aws_lambda_powertools.event_handler as eh
print(json.dumps([lazy_before, AppSyncResolver.__name__, APIGatewayRestResolver.__name__, SNSEvent.__name__,
                  sorted(eh.__all__)[:2]]))
"""
    # Then they come from the real __init__, run then
    assert fresh(code) == [
        True,
        "AppSyncResolver",
        "APIGatewayRestResolver",
        "SNSEvent",
        ["ALBResolver", "APIGatewayHttpResolver"],
    ]


def test_given_the_shim_when_a_handler_resolves_a_request_then_it_answers_as_before():
    # Given a cold interpreter, the shim installed, a Conectividad resolver with one route
    code = """
import json
from recaudo.rest import conectividad_resolver, json_response
from recaudo.models.conectividad import PersonaReply
app = conectividad_resolver()

@app.get("/v1/integracion-conectividad/obtener-persona")
def obtener(identificacion: str):
    return json_response(PersonaReply(identificacion=identificacion, nombre="Ana", tipoIdentificacion="CED"))

def event(query):
    return {"httpMethod": "GET", "path": "/v1/integracion-conectividad/obtener-persona",
            "resource": "/v1/integracion-conectividad/obtener-persona", "queryStringParameters": query,
            "headers": {}, "requestContext": {"requestId": "r"}, "body": None, "isBase64Encoded": False}

class Ctx:
    function_name = "f"; memory_limit_in_mb = 128; invoked_function_arn = "arn:aws:lambda:us-east-1:1:function:f"
    aws_request_id = "r"

ok = app.resolve(event({"identificacion": "87654321"}), Ctx())
bad = app.resolve(event(None), Ctx())
print(json.dumps([ok["statusCode"], json.loads(ok["body"]), bad["statusCode"], json.loads(bad["body"])["codigoRespuesta"]]))
"""
    # When it resolves a valid and an invalid request
    status, body, bad_status, bad_code = fresh(code)
    # Then validation and replies work as with the eager packages
    assert (status, body) == (200, {"identificacion": "87654321", "nombre": "Ana", "tipoIdentificacion": "CED"})
    assert (bad_status, bad_code) == (400, 5)


def test_given_the_recargas_api_deps_when_built_then_the_carrier_client_waits_for_its_first_call():
    # Given the settings of a recargas API function
    code = """
import json, sys, os
os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
    "RECARGAS_KEY_ID": "alias/k", "RECARGAS_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:r",
    "CARRIER_URL": "http://127.0.0.1:9", "CARRIER_TOKEN": "local-carrier-token"})
import recargas.pagar
from recargas import deps
# When pagar's init builds its dependencies
d = deps.default_recarga_deps()
before = "httpx" in sys.modules
# Then the carrier's client is built only when a call needs it (the balance query; no network here)
from recaudo.clients import operador
operador.CarrierClient.saldo = lambda self, producto, numero: 7
built_before_call = deps._operador.cache_info().currsize
answer = d.operador.saldo("CLARO", "3001234567")
print(json.dumps([before, built_before_call, answer, deps._operador.cache_info().currsize]))
"""
    assert fresh(code) == [False, 0, 7, 1]


@pytest.mark.parametrize(
    "handler",
    ["radian.registrar", "radian.listar", "radian.consultar", "radian.eliminar", "radian.sondear_ahora"],
)
def test_given_a_radian_tracking_handler_when_imported_then_afacturar_s_http_client_stays_unloaded(handler):
    # When a fresh interpreter imports a tracking API handler (only the poller calls afacturar)
    loaded = fresh(f"import sys, json, {handler}; print(json.dumps(['httpx' in sys.modules]))")
    # Then httpx was never imported
    assert loaded == [False]


def test_given_the_authorizer_when_its_cold_start_builds_its_deps_then_pydantic_stays_unloaded():
    # Given the authorizer's environment (its settings are checked without pydantic: docs/decisions.md)
    code = """
import json, os, sys
os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
    "TOKEN_SCOPE": "radian"})
import authorizer.token as a
# When its init imports the handler and builds its dependencies, as the first request does
deps = a.default_deps()
# Then the settings came through and pydantic was never imported
print(json.dumps([deps.scope, sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "pydantic_core"))]))
"""
    assert fresh(code) == ["radian", []]


@pytest.mark.parametrize(
    "handler", ["cobranzas.importar_csv", "recargas.pagar", "radian.consultar", "cuotas.configurar"]
)
def test_given_another_context_s_handler_when_imported_then_conectividad_s_models_stay_unloaded(handler):
    # When a fresh interpreter imports a handler of a context other than Conectividad
    loaded = fresh(f"import sys, json, {handler}; print(json.dumps('recaudo.models.conectividad' in sys.modules))")
    # Then Conectividad's request and reply models (only its routes describe them) were never imported
    assert loaded is False


@pytest.mark.parametrize(
    "handler", ["conectividad.obtener_persona", "conectividad.saldos_persona", "conectividad.saldos_vencido_persona"]
)
def test_given_a_conectividad_query_handler_when_its_cold_start_builds_its_deps_then_payments_stay_unloaded(
    handler,
):
    # Given the ports file names the payments' types only in annotations (conectividad/deps.py)
    code = f"""
import json, os, sys
os.environ.update({{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}})
import {handler}
from conectividad.deps import default_query_deps
# When the cold start imports the handler and builds the query deps, as the first request does
default_query_deps()
# Then neither the payments' models, the flow's client nor the event publisher were imported
print(json.dumps(sorted(m for m in ("recaudo.models.pagos", "recaudo.stepfunctions", "recaudo.events")
                        if m in sys.modules)))
"""
    assert fresh(code) == []


def test_given_the_cobranzas_deps_when_built_then_the_s3_client_waits_for_the_first_call_on_the_bucket():
    # Given the settings of a cobranzas function
    code = """
import json, os
os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
import cobranzas.exportar_csv
from cobranzas.deps import default_cobranzas_deps
from recaudo import aws
# When an export function's init builds its dependencies (the export never touches the bucket)
d = default_cobranzas_deps()
before = sorted(c.meta.service_model.service_name for c in aws._creados)
# Then only DynamoDB's client exists; the first call on the bucket builds S3's (a presigned URL: no network)
url = d.archivos.url_put("entradas/x.csv", 60)
d.archivos.url_put("entradas/y.csv", 60)
after = sorted(c.meta.service_model.service_name for c in aws._creados)
print(json.dumps([before, after, "recaudo-cobranzas" in url and "X-Amz-Signature" in url]))
"""
    assert fresh(code) == [["dynamodb"], ["dynamodb", "s3"], True]


@pytest.mark.parametrize(
    ("handler", "deps", "use", "then"),
    [
        (
            "conectividad.verificar_pago",
            "conectividad.deps.default_payment_deps",
            "d.flow._client.meta",
            "stepfunctions",
        ),
        ("conectividad.historial_pagos", "conectividad.deps.default_payment_deps", "d.events._client.meta", "events"),
        ("radian.consultar", "radian.deps.default_seguimiento_deps", "d.flujo._client.meta", "stepfunctions"),
        # CPS: the channels' keys (KMS) serve every request; the top-up machine only a top-up
        ("recargas.saldo", "recargas.deps.default_recarga_deps", "d.flujo._client.meta", "stepfunctions"),
    ],
)
def test_given_shared_deps_when_a_function_builds_them_then_clients_it_never_calls_wait_for_a_use(
    handler, deps, use, then
):
    # Given a function whose shared deps hold a client only some of its siblings call
    module, _, factory = deps.rpartition(".")
    code = f"""
import json, os, importlib
os.environ.update({{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
    "PAYMENT_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:p",
    "RADIAN_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:r", "AFACTURAR_URL": "https://a.invalid",
    "RECARGAS_KEY_ID": "alias/k", "RECARGAS_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:c",
    "CARRIER_URL": "http://127.0.0.1:9", "CARRIER_TOKEN": "local-carrier-token"}})
import {handler}
from recaudo import aws
# When its init builds the deps
d = getattr(importlib.import_module("{module}"), "{factory}")()
before = sorted(c.meta.service_model.service_name for c in aws._creados)
# Then the other client does not exist until its first use
{use}
after = sorted(c.meta.service_model.service_name for c in aws._creados)
print(json.dumps([before, after]))
"""
    always = ["dynamodb", "kms"] if handler.startswith("recargas") else ["dynamodb"]
    assert fresh(code) == [always, sorted([*always, then])]
