"""Each role, read from the synthesized template, allows every call its function's code makes, and
each service that invokes a function is allowed by that function's resource policy.

The evaluator is the one the local stack enforces (``local_stack.iam``): what passes here is what the
e2e suite runs under, and what AWS would evaluate. A new function or a new AWS call in the code needs
its line here; a test fails when a function has none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import constants as c
from local_stack.iam import Request, evaluate
from local_stack.roles import function_policies, role_policies
from local_stack.template import Naming, Stack

REGION, ACCOUNT = "us-east-1", "123456789012"

# Resources, by the construct path that creates them (resolved to ARNs from the template).
LEDGER, CREDENTIALS, IDEMPOTENCY = "Data/Ledger", "Data/Credentials", "Data/Idempotency"
BUS, FLOW, FILES = "Data/Bus", "Conectividad/PaymentFlow", "Cobranzas/Files"
GSI = f"{LEDGER}@index/GSI1"


def get(table: str) -> tuple[str, str]:
    return ("dynamodb:GetItem", table)


IDEMPOTENCY_RECORDS = [(f"dynamodb:{op}", IDEMPOTENCY) for op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")]
QUERIES = [get(LEDGER), ("dynamodb:Query", LEDGER)]
PAYMENT = [
    get(LEDGER),
    ("dynamodb:Query", LEDGER),  # the invoice's earlier reversals
    ("dynamodb:UpdateItem", LEDGER),  # the transaction-number sequence
    get(CREDENTIALS),  # llaveAcceso, and the token still active
    ("states:StartSyncExecution", FLOW),
]
IMPORT = [
    get(CREDENTIALS),  # the integrator's hash
    ("dynamodb:BatchGetItem", LEDGER),  # the look-ahead of the file's rows, by key
    ("dynamodb:PutItem", LEDGER),  # the import record and claim
    ("dynamodb:UpdateItem", LEDGER),
    ("dynamodb:ConditionCheckItem", LEDGER),
    get(LEDGER),
]
OBJECT = f"{FILES}/entrada/clubdemo/cobros.csv"
REPORT = f"{FILES}/entrada/clubdemo/cobros.csv.resultado.txt"
HTTP_REPORT = f"{FILES}/reportes/clubdemo/20261121-abc.txt"

# handler -> every (action, resource) its code needs
REQUIRED: dict[str, list[tuple[str, str]]] = {
    **{f"conectividad.{m}.handler": QUERIES for m in c.CONECTIVIDAD_QUERIES.values()},
    **{
        f"conectividad.{m}.handler": PAYMENT
        for m, _ in c.CONECTIVIDAD_PAYMENTS.values()
        if m.startswith("ejecutar_pago")
    },
    "conectividad.reversar_pago.handler": [
        get(LEDGER),
        ("dynamodb:Query", LEDGER),
        # one transaction: payment Deleted, archived under REV# (Put), history and debts Updated
        ("dynamodb:DeleteItem", LEDGER),
        ("dynamodb:PutItem", LEDGER),
        ("dynamodb:UpdateItem", LEDGER),
        ("events:PutEvents", BUS),
        get(CREDENTIALS),
        *IDEMPOTENCY_RECORDS,
    ],
    "conectividad.historial_pagos.handler": QUERIES,
    "conectividad.verificar_pago.handler": [get(LEDGER)],
    "conectividad.flujo.aplicar": [
        ("dynamodb:PutItem", LEDGER),  # the payment and its request's SOLICITUD# item
        ("dynamodb:UpdateItem", LEDGER),  # the debts, and a cart's FACT# reservation
        get(LEDGER),  # after a failed condition: is it our own payment?
    ],
    "conectividad.flujo.confirmar": [
        get(LEDGER),
        ("dynamodb:UpdateItem", LEDGER),
        ("dynamodb:PutItem", LEDGER),
        ("events:PutEvents", BUS),
    ],
    "conectividad.flujo.verificar": [get(LEDGER)],
    "conectividad.flujo.compensar": [
        ("dynamodb:DeleteItem", LEDGER),
        ("dynamodb:PutItem", LEDGER),  # the COMP# audit copy
        ("dynamodb:UpdateItem", LEDGER),
        ("events:PutEvents", BUS),
    ],
    "conectividad.barrido.handler": [
        ("dynamodb:Query", f"{LEDGER}/index/GSI2"),
        get(LEDGER),
        ("dynamodb:UpdateItem", LEDGER),
        ("dynamodb:PutItem", LEDGER),
        ("dynamodb:DeleteItem", LEDGER),
        ("events:PutEvents", BUS),
    ],
    "authorizer.token.handler": [get(CREDENTIALS)],
    "cobranzas.importar_csv.handler": [*IMPORT, ("s3:PutObject", HTTP_REPORT)],
    "cobranzas.importar_s3.handler": [*IMPORT, ("s3:GetObject", OBJECT), ("s3:PutObject", REPORT)],
    "cobranzas.importar_url.handler": [get(CREDENTIALS), ("s3:PutObject", OBJECT)],  # the presigned PUT
    "cobranzas.importar_reporte.handler": [
        get(CREDENTIALS),
        ("s3:GetObject", HTTP_REPORT),
        ("s3:GetObject", REPORT),
        ("s3:ListBucket", FILES),  # a missing report is 404, not 403
    ],
    "cobranzas.exportar_csv.handler": [get(CREDENTIALS), ("dynamodb:Query", GSI)],
    "cobranzas.descargar_csv.handler": [get(CREDENTIALS), ("dynamodb:Query", GSI)],
}

# CPS recargas: its DynamoDB access is narrowed to its own partitions (dynamodb:LeadingKeys).
OPERATION = f"{LEDGER}~RECARGA#rc0123"
CHANNEL = f"{CREDENTIALS}~CANAL#abc"
NONCE = f"{IDEMPOTENCY}~cps-nonce#abc#1670525711124"
IDEMPOTENCY_KEY = f"{IDEMPOTENCY}~cps-idem#abc#key-1"
KEYS, TOPUPS = "Recargas/ChannelKeys", "Recargas/TopUpFlow"
SIGNED = [get(CHANNEL), ("dynamodb:PutItem", NONCE), ("kms:Decrypt", f"{KEYS}~canal")]
OPERATIONS = [(f"dynamodb:{a}", OPERATION) for a in ("GetItem", "PutItem", "UpdateItem")]
REQUIRED |= {
    "recargas.pagar.handler": [
        *SIGNED,
        *OPERATIONS,
        *((f"dynamodb:{a}", IDEMPOTENCY_KEY) for a in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")),
        ("states:StartExecution", TOPUPS),
    ],
    "recargas.saldo.handler": SIGNED,
    "recargas.servicios.handler": SIGNED,
    "recargas.operacion.handler": [*SIGNED, get(OPERATION)],
    "recargas.flujo.enviar_handler": OPERATIONS,
    "recargas.flujo.consultar_handler": [get(OPERATION)],
    "recargas.flujo.confirmar_handler": [*OPERATIONS, ("events:PutEvents", BUS)],
    "recargas.flujo.fallar_handler": [*OPERATIONS, ("events:PutEvents", BUS)],
    "recargas.flujo.verificar_handler": OPERATIONS,
}

# RADIAN: its own table; the poller alone reads afacturar's token and publishes.
RADIAN_TABLE, SECRET, POLLING = "Data/Radian", "Radian/AfacturarToken", "Radian/PollingRun"
REQUIRED |= {
    "radian.registrar.handler": [("dynamodb:PutItem", RADIAN_TABLE)],
    "radian.listar.handler": [("dynamodb:Query", f"{RADIAN_TABLE}@index/GSI2")],
    "radian.consultar.handler": [get(RADIAN_TABLE), ("dynamodb:Query", RADIAN_TABLE)],
    "radian.eliminar.handler": [
        ("dynamodb:DeleteItem", RADIAN_TABLE),
        ("dynamodb:Query", RADIAN_TABLE),  # the invoice's events
        ("dynamodb:BatchWriteItem", RADIAN_TABLE),  # deleted 25 at a time
    ],
    "radian.sondear_ahora.handler": [get(RADIAN_TABLE), ("states:StartExecution", POLLING)],
    "radian.planificar.handler": [
        ("dynamodb:Query", f"{RADIAN_TABLE}@index/GSI1"),
        ("states:ListExecutions", POLLING),  # a scheduled run still going: start nothing
        ("states:StartExecution", POLLING),
    ],
    "radian.sondear.handler": [
        ("dynamodb:Query", f"{RADIAN_TABLE}@index/GSI1"),
        get(RADIAN_TABLE),
        ("dynamodb:Query", RADIAN_TABLE),
        ("dynamodb:PutItem", RADIAN_TABLE),  # events and invoice, one transaction (checked per item)
        ("dynamodb:UpdateItem", RADIAN_TABLE),  # the published change forgotten
        ("events:PutEvents", BUS),
        ("secretsmanager:GetSecretValue", SECRET),
    ],
}

# Sistema UNO: its own table; only the configurer writes, and only dues and the id counter.
CUOTAS_TABLE = "Data/Cuotas"
DUES, COUNTER = f"{CUOTAS_TABLE}~CUOTAS#10#6498#64", f"{CUOTAS_TABLE}~CONTADOR"
REQUIRED |= {
    "cuotas.configurar.handler": [
        ("dynamodb:BatchGetItem", CUOTAS_TABLE),  # membership, year, prices, stored dues
        ("dynamodb:ConditionCheckItem", CUOTAS_TABLE),  # the transaction's membership and price checks
        ("dynamodb:PutItem", DUES),  # the dues, in the same transaction
        ("dynamodb:UpdateItem", COUNTER),  # ids, reserved in blocks
    ],
    "cuotas.consultar.handler": [("dynamodb:BatchGetItem", CUOTAS_TABLE), ("dynamodb:Query", CUOTAS_TABLE)],
}

# Calls no role may make, whatever its function: a scan on a request path, writes from a reader.
FORBIDDEN: dict[str, list[tuple[str, str]]] = {
    **{
        f"conectividad.{m}.handler": [("dynamodb:PutItem", LEDGER), ("dynamodb:Scan", LEDGER)]
        for m in c.CONECTIVIDAD_QUERIES.values()
    },
    "conectividad.verificar_pago.handler": [("dynamodb:Query", LEDGER), ("dynamodb:UpdateItem", LEDGER)],
    # the ledger remembers payment requests: no idempotency records, no writes but the sequence's
    "conectividad.ejecutar_pago.handler": [
        ("dynamodb:PutItem", IDEMPOTENCY),
        ("dynamodb:PutItem", LEDGER),
        ("dynamodb:DeleteItem", LEDGER),
    ],
    # the sweeper reads the stuck payments' index only, never scans
    "conectividad.barrido.handler": [("dynamodb:Scan", LEDGER), ("dynamodb:Query", f"{LEDGER}/index/GSI1")],
    "authorizer.token.handler": [("dynamodb:PutItem", CREDENTIALS), get(LEDGER)],
    "cobranzas.exportar_csv.handler": [("dynamodb:Query", LEDGER), ("s3:GetObject", OBJECT)],
    "cobranzas.importar_url.handler": [("s3:GetObject", OBJECT), ("s3:PutObject", HTTP_REPORT)],
    "conectividad.flujo.verificar": [("dynamodb:UpdateItem", LEDGER), ("events:PutEvents", BUS)],
    # a top-up function reaches only its own partitions: never a person's debts, a bank, a payment record
    "recargas.pagar.handler": [
        get(f"{LEDGER}~PER#12345678"),
        ("dynamodb:UpdateItem", f"{LEDGER}~PAGO#20240139001"),
        get(f"{CREDENTIALS}~BANCO#00152"),
        ("dynamodb:PutItem", f"{IDEMPOTENCY}~pago#x"),
        ("dynamodb:Scan", LEDGER),
        ("kms:Decrypt", f"{KEYS}~other"),
    ],
    "recargas.flujo.consultar_handler": [("dynamodb:UpdateItem", OPERATION), ("events:PutEvents", BUS)],
    # the tracking API never reads afacturar's token, never touches another context's data
    "radian.registrar.handler": [
        ("secretsmanager:GetSecretValue", SECRET),
        ("dynamodb:DeleteItem", RADIAN_TABLE),
        ("dynamodb:Scan", RADIAN_TABLE),
        get(LEDGER),
    ],
    "radian.listar.handler": [("dynamodb:Scan", RADIAN_TABLE), ("dynamodb:Query", f"{RADIAN_TABLE}@index/GSI1")],
    # the configurer writes dues and the counter only: never a business, a school, a price or a token
    "cuotas.configurar.handler": [
        ("dynamodb:PutItem", f"{CUOTAS_TABLE}~EMPRESA#10"),
        ("dynamodb:UpdateItem", DUES),
        ("dynamodb:DeleteItem", DUES),
        ("dynamodb:Scan", CUOTAS_TABLE),
        get(CREDENTIALS),
        get(LEDGER),
    ],
    "cuotas.consultar.handler": [
        ("dynamodb:PutItem", DUES),
        ("dynamodb:UpdateItem", COUNTER),
        ("dynamodb:Scan", CUOTAS_TABLE),
    ],
    "radian.consultar.handler": [("secretsmanager:GetSecretValue", SECRET), ("dynamodb:PutItem", RADIAN_TABLE)],
    "radian.sondear_ahora.handler": [("secretsmanager:GetSecretValue", SECRET), ("dynamodb:PutItem", RADIAN_TABLE)],
    "radian.planificar.handler": [("dynamodb:PutItem", RADIAN_TABLE), ("secretsmanager:GetSecretValue", SECRET)],
    "radian.sondear.handler": [
        ("dynamodb:DeleteItem", RADIAN_TABLE),
        ("dynamodb:Scan", RADIAN_TABLE),
        ("dynamodb:PutItem", LEDGER),
        ("states:StartExecution", POLLING),
    ],
}


@pytest.fixture(scope="module")
def app(synthesized):
    construct, template, artifact = synthesized
    name = construct.stack_name
    return Stack(name, template.to_json(), Path(artifact.assembly.directory), Naming(name, REGION, ACCOUNT))


def _request(stack: Stack, action: str, where: str) -> Request:
    """``where`` may carry ``~<value>``: the item's partition key (DynamoDB) or the encryption
    context's key (KMS), as the request would carry them."""
    where, _, value = where.partition("~")
    context: dict[str, list[str]] = {}
    if value and action.startswith("dynamodb:"):
        context["dynamodb:LeadingKeys"] = [value]
    elif value and action.startswith("kms:"):
        context["kms:EncryptionContextKeys"] = [value]
    return Request(action, _arn(stack, where), context)


def _arn(stack: Stack, where: str) -> str:
    path, _, index = where.partition("@")
    construct, _, key = path.partition("/")
    construct_path = f"{construct}/{key.split('/', 1)[0]}"
    suffix = key.split("/", 1)[1] if "/" in key else ""
    for lid, res in stack.resources.items():
        if res.get("Metadata", {}).get("aws:cdk:path", "").removesuffix("/Resource").endswith(construct_path):
            arn = stack.naming.arn(res["Type"], stack.physical[lid])
            if index:
                arn = f"{arn}/{index}"
            return f"{arn}/{suffix}" if suffix else arn
    raise AssertionError(f"no resource at {where}")


def _functions(stack: Stack) -> dict[str, dict]:
    return {
        r["Properties"]["Handler"]: stack.properties(lid)
        for lid, r in stack.of_type("AWS::Lambda::Function").items()
        if not lid.startswith("BucketNotificationsHandler")
    }


def test_given_the_template_then_every_function_has_its_calls_listed(app):
    # Given every function of the app / Then each one names the calls its code makes
    assert set(_functions(app)) == set(REQUIRED)


@pytest.mark.parametrize("handler", sorted(REQUIRED))
def test_given_a_function_when_its_role_is_evaluated_then_every_call_its_code_makes_is_allowed(app, handler):
    # Given the function's role and its policies as synthesized
    policies = role_policies(app)[_functions(app)[handler]["Role"]]
    # When each call the code makes is evaluated as AWS would
    denied = [
        (action, where)
        for action, where in REQUIRED[handler]
        if not evaluate(policies, _request(app, action, where)).allowed
    ]
    # Then none is refused
    assert denied == []


@pytest.mark.parametrize("handler", sorted(FORBIDDEN))
def test_given_a_function_when_it_tries_what_it_does_not_need_then_its_role_refuses(app, handler):
    policies = role_policies(app)[_functions(app)[handler]["Role"]]
    allowed = [
        (action, where)
        for action, where in FORBIDDEN[handler]
        if evaluate(policies, _request(app, action, where)).allowed
    ]
    assert allowed == []


def test_given_the_payment_flow_then_its_role_may_invoke_each_task_and_nothing_else(app):
    # Given the state machine's role
    (machine,) = [k for k in app.of_type("AWS::StepFunctions::StateMachine") if k.startswith("ConectividadPaymentFlow")]
    policies = role_policies(app)[app.properties(machine)["RoleArn"]]
    arns = {
        r["Properties"]["Handler"]: app.naming.arn("AWS::Lambda::Function", app.physical[lid])
        for lid, r in app.of_type("AWS::Lambda::Function").items()
    }
    # When it invokes its tasks / Then allowed; any other function / Then refused
    for task in c.PAYMENT_FLOW_TASKS.values():
        assert evaluate(policies, Request("lambda:InvokeFunction", arns[f"conectividad.flujo.{task}"])).allowed, task
    assert not evaluate(policies, Request("lambda:InvokeFunction", arns["conectividad.ejecutar_pago.handler"])).allowed


def test_given_the_files_bucket_then_s3_may_invoke_the_importer_for_that_bucket_only(app):
    resource_policies = function_policies(app)
    importer = next(
        app.naming.arn("AWS::Lambda::Function", app.physical[lid])
        for lid, r in app.of_type("AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == "cobranzas.importar_s3.handler"
    )
    bucket = _arn(app, FILES)

    def may(source: str) -> bool:
        request = Request(
            "lambda:InvokeFunction",
            importer,
            {"aws:SourceArn": [source], "aws:SourceAccount": [ACCOUNT]},
            principal="s3.amazonaws.com",
        )
        return evaluate([resource_policies[importer]], request, resource_policy=True).allowed

    assert may(bucket)
    assert not may("arn:aws:s3:::someone-elses-bucket")


def test_given_every_route_then_api_gateway_may_invoke_its_function_from_that_route_only(app):
    from local_stack.gateway import load_apis

    resource_policies = function_policies(app)
    for api in load_apis(app):
        for route in api.routes:
            method = "GET" if route.http_method == "ANY" else route.http_method
            source = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api.api_id}/{api.stage}/{method}{route.template_path}"
            request = Request(
                "lambda:InvokeFunction",
                route.function_arn,
                {"aws:SourceArn": [source], "aws:SourceAccount": [ACCOUNT]},
                principal="apigateway.amazonaws.com",
            )
            assert evaluate([resource_policies[route.function_arn]], request, resource_policy=True).allowed, source
            other = source.replace(f"/{api.stage}/", "/another-stage/")
            request = Request(
                "lambda:InvokeFunction",
                route.function_arn,
                {"aws:SourceArn": [other]},
                principal="apigateway.amazonaws.com",
            )
            assert not evaluate([resource_policies[route.function_arn]], request, resource_policy=True).allowed, other
