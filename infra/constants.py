"""Every name the CDK app uses, in one place."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
LAYER_SOURCE_DIR = ROOT / "layers" / "shared" / "python"
LAYER_BUILD_DIR = ROOT / "build" / "layer"
# each context's function asset: its package with checked-hash bytecode for the Lambda's Python
FUNCTIONS_BUILD_DIR = ROOT / "build" / "functions"
CDK_OUT = ROOT / "cdk.out"

APP_NAME = "recaudo"
STACK_NAME = "Recaudo"
SERVICE_NAMESPACE = "Recaudo"

# The Lambda target: the layer's wheels and bytecode are built for exactly this.
LAMBDA_PYTHON_VERSION = "3.13"
LAMBDA_PLATFORM = "manylinux2014_aarch64"
# What the Lambda runtime already provides; never shipped in the layer.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six", "snapshot-restore-py"}
)

TIME_ZONE = "America/Costa_Rica"

CONECTIVIDAD_BASE_PATH = "v1/integracion-conectividad"
CONECTIVIDAD_STAGE = "api"

# path segment -> handler module (functions/conectividad/<module>.py), one Lambda each
CONECTIVIDAD_QUERIES: dict[str, str] = {
    "obtener-persona": "obtener_persona",
    "saldos-persona-resumen": "saldos_persona_resumen",
    "saldos-persona-resumen-detalle": "saldos_persona_resumen_detalle",
    "saldos-persona": "saldos_persona",
    "saldos-total-persona": "saldos_total_persona",
    "saldos-parcial-persona": "saldos_parcial_persona",
    "saldos-vencido-persona": "saldos_vencido_persona",
}
# Payments: path segment -> (handler module, HTTP method)
CONECTIVIDAD_PAYMENTS: dict[str, tuple[str, str]] = {
    "ejecutar-pago": ("ejecutar_pago", "POST"),
    "ejecutar-pago-total": ("ejecutar_pago_total", "POST"),
    "ejecutar-pago-parcial": ("ejecutar_pago_parcial", "POST"),
    "ejecutar-pago-vencido": ("ejecutar_pago_vencido", "POST"),
    "reversar-pago": ("reversar_pago", "POST"),
    "historial-pagos": ("historial_pagos", "GET"),
    "verificar-pago": ("verificar_pago", "GET"),
}
# The payment state machine's tasks: state name -> handler in conectividad.flujo
PAYMENT_FLOW_TASKS: dict[str, str] = {
    "Aplicar": "aplicar",
    "Confirmar": "confirmar",
    "Verificar": "verificar",
    "Compensar": "compensar",
}
EVENT_BUS_NAME = "recaudo"
PAYMENT_STATE_MACHINE_TIMEOUT_SECONDS = 60
# ejecutar-pago waits this long for its flow, then answers "en proceso" (202); its function's timeout
# leaves room for the reads before and after, and stays under API Gateway's 29 s.
PAYMENT_WAIT_SECONDS = 18
PAYMENT_FUNCTION_TIMEOUT_SECONDS = 26
# The sweeper settles payments left APLICADO longer than the state machine can run.
PAYMENT_SWEEP_RULE_NAME = "recaudo-conectividad-barrido"
PAYMENT_SWEEP_SCHEDULE = "rate(5 minutes)"
PAYMENT_SWEEP_AFTER_SECONDS = 120
PAYMENT_SWEEP_TIMEOUT_SECONDS = 120

# Query parameters API Gateway itself requires before invoking the function (code 5 at the edge).
CONECTIVIDAD_REQUIRED_PARAMS: dict[str, tuple[str, ...]] = {
    "obtener-persona": ("identificacion",),
    "saldos-persona-resumen": ("codigoConvenio", "identificacion", "numeroPagina", "longitudPagina"),
    "saldos-persona-resumen-detalle": ("codigoConvenio", "identificacion", "numeroPagina", "longitudPagina"),
    "saldos-persona": ("codigoConvenio", "identificacion"),
    "historial-pagos": ("cedula", "fechaInicio", "fechaFinal"),
    "verificar-pago": ("numeroFactura",),
}

# Cobranzas (Pay per TIC): its own REST API, stage "api2" so paths read /api2/cobranzas/...
COBRANZAS_STAGE = "api2"
# path -> (handler module in functions/cobranzas, HTTP methods), one Lambda each
COBRANZAS_ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cobranzas/importar/csv": ("importar_csv", ("POST",)),
    "cobranzas/importar/url": ("importar_url", ("POST",)),
    "cobranzas/importar/reporte": ("importar_reporte", ("GET", "POST")),
    "cobranzas/exportar/csv": ("exportar_csv", ("GET", "POST")),
    "cobranzas/descargar/csv": ("descargar_csv", ("GET", "POST")),
}
# Bodies API Gateway passes to Lambda base64-encoded (uploads may be Windows-1252, not UTF-8).
COBRANZAS_BINARY_MEDIA_TYPES = ("multipart/form-data", "text/csv", "application/octet-stream")
COBRANZAS_INBOX_PREFIX = "entrada/"
COBRANZAS_IMPORT_TIMEOUT_SECONDS = 900
COBRANZAS_IMPORT_MEMORY_MB = 1024
COBRANZAS_HTTP_IMPORT_TIMEOUT_SECONDS = 29  # API Gateway's integration limit
COBRANZAS_RETENTION_DAYS = 400
# DynamoDB warm throughput of the ledger and its indexes (on demand still bills per request): a
# 64,000-row import writes ~290,000 transactional units in under 20 s (docs/decisions.md, "Cobranzas: time").
LEDGER_WARM_WRITE_UNITS = 24_000
WARM_READ_UNITS = 12_000  # DynamoDB's floor for an on-demand table's warm reads
# The S3 drop's asynchronous invocations (docs/decisions.md, "S3 drops"): a failed import is retried by
# Lambda this many times, then its event goes to this queue (the on-failure destination); alarms on the
# queue's depth and on the importer's errors.
COBRANZAS_IMPORT_RETRY_ATTEMPTS = 2
COBRANZAS_IMPORT_MAX_EVENT_AGE_HOURS = 6
COBRANZAS_IMPORT_FAILED_QUEUE_NAME = "recaudo-cobranzas-entregas-fallidas"
COBRANZAS_IMPORT_FAILED_RETENTION_DAYS = 14  # SQS's maximum
ALARM_COBRANZAS_IMPORT_FAILED = "recaudo-cobranzas-entregas-fallidas-profundidad"
ALARM_COBRANZAS_IMPORT_ERRORS = "recaudo-cobranzas-importar-s3-errores"

TOKEN_VALIDATION_REGEX = r"^Token [0-9a-f]{16}\.[A-Za-z0-9_-]{43}$"
# A revoked token stops opening queries within this; money moves only on a token active now (checked by
# the payment and reversal functions themselves). docs/decisions.md, "Conectividad: credentials".
AUTHORIZER_CACHE_SECONDS = 60

STAGE_RATE_LIMIT = 200  # requests per second, steady
STAGE_BURST_LIMIT = 400
FUNCTION_TIMEOUT_SECONDS = 10
FUNCTION_MEMORY_MB = 512
# Lambda SnapStart for the API functions and authorizers, a deploy option: `cdk deploy -c snapStart=true`
# (docs/decisions.md, "SnapStart"). Routes then invoke the function's current published version.
SNAPSTART_CONTEXT = "snapStart"
# CloudFormation's cap on one stack's resources, and the headroom the default synthesis keeps under it
STACK_RESOURCE_LIMIT = 500
STACK_RESOURCE_HEADROOM = 40
LOG_RETENTION_DAYS = 90

# CPS recargas: its own REST API, stage "cps", so paths read /cps/v2/... as the document writes them.
RECARGAS_STAGE = "cps"
# path (after the stage) -> (handler module in functions/recargas, HTTP method), one Lambda each
RECARGAS_ROUTES: dict[str, tuple[str, str]] = {
    "v2/operation/use/pay": ("pagar", "POST"),
    "v2/operation/get/balance": ("saldo", "GET"),
    "v2/list/basic_services": ("servicios", "GET"),
    "v2/operation/{idOperacion}": ("operacion", "GET"),  # our extension: an operation's state
}
# The top-up state machine's tasks: state name -> handler in recargas.flujo
RECARGAS_FLOW_TASKS: dict[str, str] = {
    "Enviar": "enviar_handler",
    "Consultar": "consultar_handler",
    "Confirmar": "confirmar_handler",
    "Fallar": "fallar_handler",
    "Verificar": "verificar_handler",
}
# Every body reaches the function base64-encoded: signatures are verified over the exact bytes sent.
RECARGAS_BINARY_MEDIA_TYPES = ("*/*",)
RECARGAS_PAY_TIMEOUT_SECONDS = 20  # waits up to RECARGAS_WAIT_SECONDS for the outcome, within API Gateway's 29 s
RECARGAS_WAIT_SECONDS = 12
RECARGAS_NONCE_WINDOW_SECONDS = 300
RECARGAS_CARRIER_READ_TIMEOUT_SECONDS = 6
RECARGAS_IDEMPOTENCY_SECONDS = 24 * 3600
# The carrier of each environment (CDK context "carrierUrl"); the local stack points it at its fake.
RECARGAS_CARRIER_URL = "https://carrier.invalid"
# Context "carrierToken" per environment; the placeholder is what the local stack's fake carrier accepts.
RECARGAS_CARRIER_TOKEN_PLACEHOLDER = "local-carrier-token"
RECARGAS_KEY_ALIAS = "alias/recaudo-recargas-canales"

# RADIAN: our tracking API (stage "radian", so paths read /radian/v1/...), polling afacturar on a schedule.
RADIAN_STAGE = "radian"
# handler module in functions/radian -> (path after the stage, HTTP method), one Lambda each
RADIAN_ROUTES: dict[str, tuple[str, str]] = {
    "registrar": ("v1/facturas", "POST"),
    "listar": ("v1/facturas", "GET"),
    "consultar": ("v1/facturas/{cufe}", "GET"),
    "eliminar": ("v1/facturas/{cufe}", "DELETE"),
    "sondear_ahora": ("v1/facturas/{cufe}/sondeo", "POST"),
}
# afacturar's hosts (seed 003 and its public facts); CDK context "afacturarEntorno" picks one, or
# "afacturarUrl" names another (the local stack points it at its fake).
AFACTURAR_URLS = {
    "pruebas": "https://servicios-pruebas.afacturar.com",
    "habilitacion": "https://servicios-habilitacion.afacturar.com",
    "produccion": "https://servicios.afacturar.com",
}
AFACTURAR_DEFAULT_ENTORNO = "pruebas"
AFACTURAR_SECRET_NAME = "recaudo/radian/afacturar-token"
AFACTURAR_READ_TIMEOUT_SECONDS = 75  # afacturar's own limit is 60 s
# The schedule (CDK context "radianSchedule") and its fixed name: `POST /_schedules/<name>/run` locally.
RADIAN_SCHEDULE_NAME = "recaudo-radian-sondeo"
RADIAN_SCHEDULE = "rate(15 minutes)"
# Fan-out: batches of RADIAN_BATCH_SIZE invoices, at most RADIAN_MAX_BATCHES per run, RADIAN_MAP_CONCURRENCY
# pollers at once, each with RADIAN_POLLER_CONCURRENCY calls in flight and RADIAN_POLLER_RATE calls/s
# (docs/radian-capacity.md works these out for 1,000,000 invoices a day).
RADIAN_SHARDS = 16
RADIAN_BATCH_SIZE = 100
RADIAN_MAX_BATCHES = 400
RADIAN_MAP_CONCURRENCY = 8
RADIAN_POLLER_CONCURRENCY = 16
RADIAN_POLLER_RATE = 10

# Sistema UNO paymentDue (seed 004): its own REST API, stage "uno", so paths read /uno/wssb/admin/...
CUOTAS_STAGE = "uno"
# The resource is one path parameter: "paymentDue;contextId=…" is a single path segment to API Gateway,
# so the matrix parameter reaches the function inside {recurso} (docs/decisions.md, "UNO: the route").
CUOTAS_PATH = "wssb/admin/{recurso}"
# handler module in functions/cuotas -> HTTP method, one Lambda each (same resource)
CUOTAS_ROUTES: dict[str, str] = {"configurar": "POST", "consultar": "GET"}
# Every body reaches the function base64-encoded: the XML's BOM and encoding declaration decide how it is read.
CUOTAS_BINARY_MEDIA_TYPES = ("*/*",)

# ---- Operación: production guards (infra/constructs/operacion.py; docs/decisions.md, "Conectividad: …") ----
# The payment path: the functions a bank's payment runs through (construct ids in the Conectividad construct).
PAYMENT_ENDPOINTS: tuple[str, ...] = tuple(
    segment
    for segment, (module, _) in CONECTIVIDAD_PAYMENTS.items()
    if module.startswith("ejecutar_pago") or module == "reversar_pago"
)
PAYMENT_FLOW_FUNCTIONS: tuple[str, ...] = tuple(f"flujo-{handler}" for handler in PAYMENT_FLOW_TASKS.values())
PAYMENT_PATH_FUNCTIONS: tuple[str, ...] = PAYMENT_ENDPOINTS + PAYMENT_FLOW_FUNCTIONS
# Reserved concurrency per payment-path function: a cobranzas (or any) flood cannot take the account's
# concurrency from payments, and a payment flood cannot take more than this. Each ejecutar-pago* request
# runs one flow task at a time, so the tasks get the endpoints' sum. 230 in all: the account's
# concurrency quota must be at least 1000 (the default) so 770 stay unreserved.
PAYMENT_RESERVED_CONCURRENCY: dict[str, int] = {
    **{segment: 20 for segment in PAYMENT_ENDPOINTS if segment != "reversar-pago"},
    "reversar-pago": 10,
    "flujo-aplicar": 40,
    "flujo-confirmar": 40,
    "flujo-verificar": 40,
    "flujo-compensar": 20,
}

# Alarms: every one on this (KMS-encrypted, TLS-only) topic; names are stable so runbooks can cite them.
ALARM_TOPIC_NAME = "recaudo-operacion-alarmas"
ALARM_PERIOD_MINUTES = 5  # each alarm: >= 1 in one period of 5 minutes
ALARM_LAMBDA_ERRORS = "recaudo-conectividad-{funcion}-errores"
ALARM_LAMBDA_THROTTLES = "recaudo-conectividad-{funcion}-throttles"
ALARM_PAYMENT_FLOW = "recaudo-conectividad-flujo-pago-{resultado}"  # fallido, timeout, abortado
ALARM_PAGOS_ATASCADOS = "recaudo-conectividad-pagos-atascados"
ALARM_COMPENSACION_FALLIDA = "recaudo-conectividad-compensacion-fallida"
ALARM_EVENTS_DLQ = "recaudo-eventos-dlq-profundidad"
# Metrics the Conectividad functions emit as EMF lines (recaudo/emf.py, namespace SERVICE_NAMESPACE, dimension
# service = POWERTOOLS_SERVICE_NAME of a function of that context).
METRIC_PAGOS_ATASCADOS = "PagosAtascados"
METRIC_COMPENSACION_FALLIDA = "CompensacionFallida"

# Conectividad's usage plan: one plan on the "api" stage; each bank's own API key (returned by the TOKEN
# authorizer as usageIdentifierKey) gets these limits. CDK context overrides them per environment:
# conectividadRateLimit, conectividadBurstLimit, conectividadCuotaDiaria.
CONECTIVIDAD_USAGE_PLAN_NAME = "recaudo-conectividad-bancos"
CONECTIVIDAD_BANK_RATE_LIMIT = 50  # requests per second, per bank
CONECTIVIDAD_BANK_BURST_LIMIT = 100
CONECTIVIDAD_BANK_DAILY_QUOTA = 500_000
CONECTIVIDAD_USAGE_PLAN_OUTPUT = "ConectividadUsagePlanId"  # the stack output `ops.admin bank-api-key` reads

# WAF on the Conectividad stage: bodies over this are refused with 413 in the Conectividad dialect. API
# Gateway forwards up to 64 KB of body to WAF (AssociationConfig); a larger body is "oversize", which
# the rule treats as a match.
WAF_WEB_ACL_NAME = "recaudo-conectividad"
WAF_MAX_BODY_BYTES = 64 * 1024
WAF_BODY_INSPECTION_LIMIT = "KB_64"

# The event bus's archive (replayable money events) and the dead-letter queue of every rule's targets.
EVENT_ARCHIVE_NAME = "recaudo-eventos"
EVENT_ARCHIVE_RETENTION_DAYS = 400
EVENTS_DLQ_NAME = "recaudo-eventos-dlq"
EVENTS_DLQ_RETENTION_DAYS = 14  # SQS's maximum
EVENT_TARGET_RETRY_ATTEMPTS = 2  # a target with no retry policy of its own gets this one

# Conectividad's custom domain (CDK context conectividadDominio + conectividadCertificadoArn): the empty
# base path maps to the "api" stage, so a bank's base URL is the host (https://<dominio>/v1/...).
# A synthesis without an AWS account (make synth, make run, the tests) is a local one: it gets these
# placeholders, so the local stack serves the mapping the template declares. A deployment has an account
# and gets a domain only when both context values are given.
LOCAL_CONECTIVIDAD_DOMINIO = "conectividad.recaudo.localhost"
LOCAL_CONECTIVIDAD_CERTIFICADO_ARN = (
    "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"
)
