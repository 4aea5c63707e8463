"""Every runtime promise docs/decisions.md makes that the template must keep, read from the template
as synthesized (not from the construct's arguments: CDK may drop one, as it dropped the payment
flow's timeout given beside ``DefinitionBody.from_string``)."""

from __future__ import annotations

import json

import pytest

from infra import constants as c

API_GATEWAY_INTEGRATION_LIMIT_SECONDS = 29


@pytest.fixture(scope="module")
def resources(synthesized) -> dict:
    return synthesized[1].to_json()["Resources"]


def of_type(resources: dict, kind: str) -> dict:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def functions(resources: dict) -> dict[str, dict]:
    """handler -> properties, for our functions (not CDK's deploy-time notifications handler)."""
    return {
        f["Properties"]["Handler"]: f["Properties"]
        for k, f in of_type(resources, "AWS::Lambda::Function").items()
        if not k.startswith("BucketNotificationsHandler")
    }


def definition(resources: dict, flow: str = "ConectividadPaymentFlow") -> dict:
    (machine,) = [m for k, m in of_type(resources, "AWS::StepFunctions::StateMachine").items() if k.startswith(flow)]
    text = machine["Properties"]["DefinitionString"]
    if isinstance(text, dict):  # Fn::Join of literal parts and task ARNs: the literal parts are the JSON
        text = "".join(p if isinstance(p, str) else '"arn"' for p in text["Fn::Join"][1])
    return json.loads(text)


def test_given_the_payment_flow_then_its_timeout_is_in_the_definition_step_functions_reads(resources):
    # Given the synthesized definition / Then TimeoutSeconds is there (a construct-level timeout is not)
    assert definition(resources)["TimeoutSeconds"] == c.PAYMENT_STATE_MACHINE_TIMEOUT_SECONDS


def test_given_the_top_up_flow_then_a_standard_machine_whose_timeout_is_in_its_definition(resources):
    from infra.flows.recarga import TIMEOUT_SECONDS

    (machine,) = [
        m
        for k, m in of_type(resources, "AWS::StepFunctions::StateMachine").items()
        if k.startswith("RecargasTopUpFlow")
    ]
    assert machine["Properties"]["StateMachineType"] == "STANDARD"
    assert definition(resources, "RecargasTopUpFlow")["TimeoutSeconds"] == TIMEOUT_SECONDS
    # the top-up POST's task is retried only on AWS faults, never on the carrier's outcome
    (retry,) = definition(resources, "RecargasTopUpFlow")["States"]["Enviar"]["Retry"]
    assert "States.ALL" not in retry["ErrorEquals"] and "Lambda.ServiceException" in retry["ErrorEquals"]


def test_given_the_pay_endpoint_then_it_waits_for_the_outcome_within_its_own_timeout(resources):
    pay = functions(resources)["recargas.pagar.handler"]
    wait = float(pay["Environment"]["Variables"]["RECARGAS_WAIT_SECONDS"])
    assert wait + 5 <= pay["Timeout"] <= API_GATEWAY_INTEGRATION_LIMIT_SECONDS


def test_given_the_payment_flow_then_each_task_function_ends_before_the_flow_gives_up(resources):
    # Given the four task functions of the flow
    by_handler = functions(resources)
    for task in c.PAYMENT_FLOW_TASKS.values():
        timeout = by_handler[f"conectividad.flujo.{task}"]["Timeout"]
        # Then one attempt fits in the flow's time limit with room for its retries
        assert timeout * 2 <= c.PAYMENT_STATE_MACHINE_TIMEOUT_SECONDS, task


def test_given_the_payment_flow_then_throttling_is_retried_with_backoff_and_compensation_persists(resources):
    states = definition(resources)["States"]
    for state in ("Aplicar", "Confirmar", "Verificar"):
        (retry,) = states[state]["Retry"]
        assert "Throttled" in retry["ErrorEquals"] and "Lambda.TooManyRequestsException" in retry["ErrorEquals"]
        assert (retry["MaxAttempts"], retry["BackoffRate"]) == (3, 2.0), state
    # a failure after apply is compensated; a refusal at apply is not
    assert states["Confirmar"]["Catch"][0]["Next"] == "Compensar"
    assert {c["Next"] for c in states["Aplicar"]["Catch"]} == {
        "DeudaNoPendiente",
        "PagoExistente",
        "SolicitudRepetida",
        "NumeroNoDisponible",
        "Compensar",
    }
    # compensation retries only transient errors; a permanent one ends in CompensacionFallida at once
    (compensation,) = states["Compensar"]["Retry"]
    assert "States.ALL" not in compensation["ErrorEquals"] and "Throttled" in compensation["ErrorEquals"]
    assert compensation["MaxAttempts"] == 5
    (caught,) = states["Compensar"]["Catch"]
    assert caught["Next"] == "CompensacionFallida" and states["CompensacionFallida"]["Type"] == "Fail"


def test_given_the_payment_endpoints_then_they_wait_for_the_flow_within_their_timeout(resources):
    # Given ejecutar-pago*: the wait for the flow, then the reads after it, within their own timeout
    by_handler = functions(resources)
    for segment, (module, _) in c.CONECTIVIDAD_PAYMENTS.items():
        if not module.startswith("ejecutar_pago"):
            continue
        fn = by_handler[f"conectividad.{module}.handler"]
        wait = float(fn["Environment"]["Variables"]["PAYMENT_WAIT_SECONDS"])
        assert wait + 5 <= fn["Timeout"] <= API_GATEWAY_INTEGRATION_LIMIT_SECONDS, segment


def test_given_the_sweeper_then_scheduled_and_older_than_any_execution_can_run(resources):
    # Given the rule that starts the sweeper
    (rule,) = [
        r
        for r in of_type(resources, "AWS::Events::Rule").values()
        if r["Properties"].get("Name") == c.PAYMENT_SWEEP_RULE_NAME
    ]
    assert rule["Properties"]["ScheduleExpression"] == c.PAYMENT_SWEEP_SCHEDULE
    sweeper = functions(resources)["conectividad.barrido.handler"]
    after = int(sweeper["Environment"]["Variables"]["PAYMENT_SWEEP_AFTER_SECONDS"])
    # Then it only touches payments no execution can still be working on
    assert after >= 2 * c.PAYMENT_STATE_MACHINE_TIMEOUT_SECONDS


def test_given_the_ledger_then_the_sweepers_sparse_index_exists(resources):
    (ledger,) = [t for k, t in of_type(resources, "AWS::DynamoDB::Table").items() if k.startswith("DataLedger")]
    indexes = {g["IndexName"]: g["KeySchema"] for g in ledger["Properties"]["GlobalSecondaryIndexes"]}
    assert [k["AttributeName"] for k in indexes["GSI2"]] == ["GSI2PK", "GSI2SK"]


def test_given_every_api_function_then_it_ends_before_api_gateway_stops_waiting(resources):
    # Given each function behind a REST API method
    targets = set()
    for method in of_type(resources, "AWS::ApiGateway::Method").values():
        uri = json.dumps(method["Properties"]["Integration"]["Uri"])
        targets |= {k for k in of_type(resources, "AWS::Lambda::Function") if f'"{k}"' in uri}
    assert targets
    for logical in targets:
        props = resources[logical]["Properties"]
        # Then its timeout is within API Gateway's 29 s integration limit
        assert props["Timeout"] <= API_GATEWAY_INTEGRATION_LIMIT_SECONDS, props["Handler"]
    assert functions(resources)["cobranzas.importar_csv.handler"]["Timeout"] == c.COBRANZAS_HTTP_IMPORT_TIMEOUT_SECONDS


def test_given_the_s3_import_then_its_claim_outlives_the_function_by_five_minutes(resources):
    # decisions.md: "A claim still EN_CURSO after the function's timeout plus 5 minutes can be retaken"
    importer = functions(resources)["cobranzas.importar_s3.handler"]
    assert importer["Timeout"] == c.COBRANZAS_IMPORT_TIMEOUT_SECONDS
    assert int(importer["Environment"]["Variables"]["IMPORT_CLAIM_SECONDS"]) == importer["Timeout"] + 300


def test_given_every_log_group_then_it_keeps_logs_for_the_promised_retention(resources):
    groups = of_type(resources, "AWS::Logs::LogGroup")
    assert groups
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == c.LOG_RETENTION_DAYS, name
        assert group["DeletionPolicy"] == "Retain", name


def test_given_every_function_then_it_logs_to_its_own_retained_group(resources):
    groups = set(of_type(resources, "AWS::Logs::LogGroup"))
    for handler, props in functions(resources).items():
        assert props["LoggingConfig"]["LogGroup"]["Ref"] in groups, handler


# Reserved concurrency, where set: handler -> reserved executions. Only the payment path (decisions,
# "Conectividad: reserved concurrency"); a function that gets one must be listed here.
RESERVED_CONCURRENCY: dict[str, int] = {
    **{
        f"conectividad.{module}.handler": 20
        for module, _ in c.CONECTIVIDAD_PAYMENTS.values()
        if module.startswith("ejecutar_pago")
    },
    "conectividad.reversar_pago.handler": 10,
    "conectividad.flujo.aplicar": 40,
    "conectividad.flujo.confirmar": 40,
    "conectividad.flujo.verificar": 40,
    "conectividad.flujo.compensar": 20,
}


def test_given_reserved_concurrency_then_exactly_where_promised(resources):
    reserved = {
        handler: props["ReservedConcurrentExecutions"]
        for handler, props in functions(resources).items()
        if "ReservedConcurrentExecutions" in props
    }
    assert reserved == RESERVED_CONCURRENCY


def test_given_the_token_authorizers_then_their_cache_lasts_what_decisions_says(resources):
    # Given the banks', the RADIAN tenants' and the UNO businesses' authorizers / Then each caches 300 s
    authorizers = of_type(resources, "AWS::ApiGateway::Authorizer").values()
    assert len(authorizers) == 3
    for authorizer in authorizers:
        assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == c.AUTHORIZER_CACHE_SECONDS == 60


def test_given_the_cobranzas_bucket_then_versioned_tls_only_and_expiring(resources):
    files = next(b for k, b in of_type(resources, "AWS::S3::Bucket").items() if k.startswith("CobranzasFiles"))
    props = files["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == c.COBRANZAS_RETENTION_DAYS
    policies = [p for p in of_type(resources, "AWS::S3::BucketPolicy").values() if "CobranzasFiles" in json.dumps(p)]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_given_the_s3_import_then_every_key_under_the_inbox_triggers_it(resources):
    # decisions.md, "S3 drops": any suffix, any depth; the importer itself tells its own reports apart
    (notifications,) = of_type(resources, "Custom::S3BucketNotifications").values()
    (config,) = notifications["Properties"]["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    rules = {r["Name"]: r["Value"] for r in config["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": c.COBRANZAS_INBOX_PREFIX}


# ---- RADIAN (docs/decisions.md, "RADIAN") ----


def test_given_the_polling_run_then_a_bounded_map_whose_batches_end_before_the_run(resources):
    from infra.flows.sondeo import POLLER_TIMEOUT_SECONDS, TIMEOUT_SECONDS

    # Given the polling state machine as synthesized
    (machine,) = [
        m for k, m in of_type(resources, "AWS::StepFunctions::StateMachine").items() if k.startswith("RadianPollingRun")
    ]
    assert machine["Properties"]["StateMachineType"] == "STANDARD"
    run = definition(resources, "RadianPollingRun")
    lotes = run["States"]["Lotes"]
    # Then a Map with bounded concurrency over the batches, with its timeout in the definition
    assert lotes["Type"] == "Map" and lotes["ItemsPath"] == "$.lotes"
    assert lotes["MaxConcurrency"] == c.RADIAN_MAP_CONCURRENCY > 0
    assert run["TimeoutSeconds"] == TIMEOUT_SECONDS
    # and a refused token is never retried (it must end the run): only AWS faults are
    (task,) = lotes["ItemProcessor"]["States"].values()
    (retry,) = task["Retry"]
    assert "AfacturarNoAutenticado" not in retry["ErrorEquals"] and "States.ALL" not in retry["ErrorEquals"]
    # and each batch's function ends within its task's timeout, well inside the run's
    poller = functions(resources)["radian.sondear.handler"]
    assert poller["Timeout"] <= task["TimeoutSeconds"] == POLLER_TIMEOUT_SECONDS < TIMEOUT_SECONDS


def test_given_the_schedule_then_it_starts_the_planner_at_the_configured_rate(resources):
    (rule,) = [
        r
        for r in of_type(resources, "AWS::Events::Rule").values()
        if r["Properties"].get("Name") == c.RADIAN_SCHEDULE_NAME
    ]
    assert rule["Properties"]["ScheduleExpression"] == c.RADIAN_SCHEDULE
    (target,) = rule["Properties"]["Targets"]
    assert "Radianplanificar" in json.dumps(target["Arn"])


def test_given_the_poller_then_afacturar_is_waited_for_over_60_s_and_its_token_is_not_in_the_environment(resources):
    env = functions(resources)["radian.sondear.handler"]["Environment"]["Variables"]
    # Then the read timeout exceeds afacturar's own 60 s, and the token is a secret's id, never its value
    assert float(env["AFACTURAR_READ_TIMEOUT_SECONDS"]) > 60
    assert "Ref" in json.dumps(env["AFACTURAR_SECRET_ID"]) and not any("TOKEN" in k for k in env)
    assert env["AFACTURAR_URL"] == c.AFACTURAR_URLS[c.AFACTURAR_DEFAULT_ENTORNO]
    (secret,) = of_type(resources, "AWS::SecretsManager::Secret").values()
    assert "SecretString" not in secret["Properties"]  # generated: a template never carries the token
    assert secret["Properties"]["Name"] == c.AFACTURAR_SECRET_NAME


def test_given_a_refused_token_then_an_alarm_watches_the_metric_the_poller_counts(resources):
    alarms = [a["Properties"] for a in of_type(resources, "AWS::CloudWatch::Alarm").values()]
    (token,) = [a for a in alarms if a.get("MetricName") == "AfacturarNoAutenticado"]
    assert token["Namespace"] == c.SERVICE_NAMESPACE and token["Threshold"] == 1
    assert {"Name": "service", "Value": "recaudo-radian"} in token["Dimensions"]
    assert 'count("AfacturarNoAutenticado")' in (c.FUNCTIONS_DIR / "radian" / "sondeo.py").read_text()
    assert any(a.get("MetricName") == "ExecutionsFailed" for a in alarms)
