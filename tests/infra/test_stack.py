"""CDK assertions on the synthesized template, cdk-nag and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Annotations, Match

from infra import constants as c


@pytest.fixture(scope="module")
def template(synthesized):
    return synthesized[1]


@pytest.fixture(scope="module")
def resources(template) -> dict:
    return template.to_json()["Resources"]


def of_type(resources: dict, kind: str) -> dict:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def ours(resources) -> dict:
    """Our functions: not CDK's deploy-time BucketNotificationsHandler (inline code, no layer)."""
    return {
        k: f
        for k, f in of_type(resources, "AWS::Lambda::Function").items()
        if not k.startswith("BucketNotificationsHandler")
    }


def test_given_the_app_then_one_function_per_endpoint_and_flow_task_plus_the_authorizer(resources):
    handlers = sorted(f["Properties"]["Handler"] for f in ours(resources).values())
    expected = sorted(
        [f"conectividad.{m}.handler" for m in c.CONECTIVIDAD_QUERIES.values()]
        + [f"conectividad.{m}.handler" for m, _ in c.CONECTIVIDAD_PAYMENTS.values()]
        + [f"conectividad.flujo.{task}" for task in c.PAYMENT_FLOW_TASKS.values()]
        + ["conectividad.barrido.handler"]  # the sweeper of payments left APLICADO
        + ["authorizer.token.handler"]
        + [f"cobranzas.{m}.handler" for m, _ in c.COBRANZAS_ROUTES.values()]
        + ["cobranzas.importar_s3.handler"]
        + [f"recargas.{m}.handler" for m, _ in c.RECARGAS_ROUTES.values()]
        + [f"recargas.flujo.{task}" for task in c.RECARGAS_FLOW_TASKS.values()]
        + [f"radian.{m}.handler" for m in c.RADIAN_ROUTES]
        + ["radian.planificar.handler", "radian.sondear.handler", "authorizer.token.handler"]  # + RADIAN's own
        + [f"cuotas.{m}.handler" for m in c.CUOTAS_ROUTES]
        + ["authorizer.token.handler"]  # UNO's own: business tokens
    )
    assert handlers == expected
    assert len(of_type(resources, "AWS::Lambda::Function")) == len(expected) + 1  # + CDK's notifications handler


def test_given_every_function_then_it_targets_the_layer_runtime_and_architecture(resources):
    for fn in ours(resources).values():
        props = fn["Properties"]
        assert props["Runtime"] == f"python{c.LAMBDA_PYTHON_VERSION}"
        assert props["Architectures"] == ["arm64"]
        assert len(props["Layers"]) == 1
        assert props["TracingConfig"] == {"Mode": "Active"}


def test_given_every_function_then_it_has_a_role_of_its_own(resources):
    roles = [json.dumps(fn["Properties"]["Role"]) for fn in of_type(resources, "AWS::Lambda::Function").values()]
    assert len(roles) == len(set(roles))


def dynamodb_actions_by_handler(resources) -> dict[str, set[str]]:
    policies: dict[str, set[str]] = {}
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        for role in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                policies.setdefault(role["Ref"], set()).update(a for a in actions if a.startswith("dynamodb:"))
    return {
        fn["Properties"]["Handler"]: policies.get(fn["Properties"]["Role"]["Fn::GetAtt"][0], set())
        for fn in of_type(resources, "AWS::Lambda::Function").values()
    }


def test_given_every_policy_then_no_scan_and_no_wildcard_action(resources):
    for name, policy in of_type(resources, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(a.endswith("*") for a in actions), name
            assert "dynamodb:Scan" not in actions, name


def test_given_each_function_then_it_may_only_do_its_own_dynamodb_operations(resources):
    actions = dynamodb_actions_by_handler(resources)
    for module in c.CONECTIVIDAD_QUERIES.values():
        assert actions[f"conectividad.{module}.handler"] == {"dynamodb:GetItem", "dynamodb:Query"}
    assert actions["conectividad.verificar_pago.handler"] == {"dynamodb:GetItem"}
    assert actions["conectividad.historial_pagos.handler"] == {"dynamodb:GetItem", "dynamodb:Query"}
    assert actions["conectividad.flujo.verificar"] == {"dynamodb:GetItem"}
    assert actions["conectividad.flujo.aplicar"] == {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"}
    # ledger reads + the sequence; no idempotency records (the ledger remembers requests)
    assert actions["conectividad.ejecutar_pago.handler"] == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    }
    assert actions["authorizer.token.handler"] == {"dynamodb:GetItem"}


def test_given_the_payment_flow_then_an_express_machine_traced_logged_and_wired_to_its_tasks(resources):
    (machine,) = [
        m
        for k, m in of_type(resources, "AWS::StepFunctions::StateMachine").items()
        if k.startswith("ConectividadPaymentFlow")
    ]
    props = machine["Properties"]
    assert props["StateMachineType"] == "EXPRESS"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False  # llaveAcceso never reaches the input, still
    assert set(props["DefinitionSubstitutions"]) == {f"{state}Arn" for state in c.PAYMENT_FLOW_TASKS}


def _api(method: dict) -> str:
    return method["Properties"]["RestApiId"]["Ref"]


def test_given_every_route_then_it_requires_the_token_authorizer(resources):
    methods = of_type(resources, "AWS::ApiGateway::Method")
    conectividad = {k: m for k, m in methods.items() if _api(m).startswith("ConectividadApi")}
    assert len(conectividad) == len(c.CONECTIVIDAD_QUERIES) + len(c.CONECTIVIDAD_PAYMENTS)
    authorizers = {k for k in of_type(resources, "AWS::ApiGateway::Authorizer")}
    (banks,) = [k for k in authorizers if k.startswith("ConectividadApi")]
    (tenants,) = [k for k in authorizers if k.startswith("RadianApi")]
    for name, method in conectividad.items():
        assert method["Properties"]["AuthorizationType"] == "CUSTOM", name
        assert method["Properties"]["AuthorizerId"] == {"Ref": banks}, name
    # RADIAN's routes: every one behind the tenants' authorizer, which accepts only RADIAN tokens
    radian = {k: m for k, m in methods.items() if _api(m).startswith("RadianApi")}
    assert len(radian) == len(c.RADIAN_ROUTES)
    for name, method in radian.items():
        assert method["Properties"]["AuthorizerId"] == {"Ref": tenants}, name
    scopes = {
        f["Properties"]["Environment"]["Variables"]["TOKEN_SCOPE"]
        for k, f in ours(resources).items()
        if f["Properties"]["Handler"] == "authorizer.token.handler"
    }
    assert scopes == {"conectividad", "radian", "uno"}
    # UNO's routes: behind the businesses' authorizer
    (businesses,) = [k for k in authorizers if k.startswith("CuotasApi")]
    uno = {k: m for k, m in methods.items() if _api(m).startswith("CuotasApi")}
    assert len(uno) == len(c.CUOTAS_ROUTES)
    for name, method in uno.items():
        assert method["Properties"]["AuthorizerId"] == {"Ref": businesses}, name


def test_given_the_cobranzas_routes_then_their_own_api_and_the_hash_checked_by_each_function(resources):
    methods = {
        k: m for k, m in of_type(resources, "AWS::ApiGateway::Method").items() if _api(m).startswith("CobranzasApi")
    }
    assert len(methods) == sum(len(methods_) for _, methods_ in c.COBRANZAS_ROUTES.values())
    assert all(m["Properties"]["AuthorizationType"] == "NONE" for m in methods.values())
    (api,) = (r for k, r in of_type(resources, "AWS::ApiGateway::RestApi").items() if k.startswith("CobranzasApi"))
    assert "multipart/form-data" in api["Properties"]["BinaryMediaTypes"]


def test_given_the_authorizer_then_it_reads_the_authorization_header_with_a_regex_and_a_cache(template):
    template.has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {
            "Type": "TOKEN",
            "IdentitySource": "method.request.header.Authorization",
            "IdentityValidationExpression": c.TOKEN_VALIDATION_REGEX,
            "AuthorizerResultTtlInSeconds": c.AUTHORIZER_CACHE_SECONDS,
        },
    )


def test_given_the_stage_then_throttled_and_access_logs_carry_no_headers_or_query(resources):
    stages = of_type(resources, "AWS::ApiGateway::Stage").values()
    assert sorted(s["Properties"]["StageName"] for s in stages) == sorted(
        [c.CONECTIVIDAD_STAGE, c.COBRANZAS_STAGE, c.RECARGAS_STAGE, c.RADIAN_STAGE, c.CUOTAS_STAGE]
    )
    for stage in stages:
        props = stage["Properties"]
        setting = props["MethodSettings"][0]
        assert setting["ThrottlingRateLimit"] == c.STAGE_RATE_LIMIT
        assert setting["ThrottlingBurstLimit"] == c.STAGE_BURST_LIMIT
        assert setting["DataTraceEnabled"] is False
        log_format = props["AccessLogSetting"]["Format"]
        for leak in ("header", "querystring", "authorization", "requestOverride", "$input"):
            assert leak not in log_format.lower()


def test_given_the_tables_then_point_in_time_recovery_and_encryption(resources):
    tables = of_type(resources, "AWS::DynamoDB::Table")
    assert len(tables) == 5
    for table in tables.values():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_given_gateway_refusals_then_they_speak_the_conectividad_dialect(resources):
    all_replies = of_type(resources, "AWS::ApiGateway::GatewayResponse").values()
    replies = {
        r["Properties"]["ResponseType"]: json.loads(r["Properties"]["ResponseTemplates"]["application/json"])
        for r in all_replies
        if _api(r).startswith("ConectividadApi")
    }
    text = {
        r["Properties"]["ResponseType"]: (
            r["Properties"]["ResponseTemplates"]["application/json"],
            r["Properties"]["ResponseParameters"],
        )
        for r in all_replies
        if _api(r).startswith("CobranzasApi")
    }
    assert text and all(body.startswith("ERROR: ") for body, _ in text.values())
    assert all(
        params["gatewayresponse.header.Content-Type"] == "'text/plain; charset=utf-8'" for _, params in text.values()
    )
    assert "importar/url" in text["REQUEST_TOO_LARGE"][0]
    assert replies["UNAUTHORIZED"]["codigoRespuesta"] == 4
    assert replies["ACCESS_DENIED"]["codigoRespuesta"] == 4
    assert replies["BAD_REQUEST_PARAMETERS"]["codigoRespuesta"] == 5
    assert replies["DEFAULT_5XX"]["codigoRespuesta"] == 1


def test_given_cdk_nag_then_no_unsuppressed_finding_and_every_suppression_has_a_reason(synthesized, resources):
    stack = synthesized[0]
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert errors == [] and warnings == []
    reasons = [
        rule
        for res in resources.values()
        for rule in res.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert reasons, "the suppressions are expected to be recorded in the template"
    assert all(len(rule["reason"]) >= 40 for rule in reasons)


# W3005: CDK writes DependsOn on a function's role although the Role GetAtt already orders them;
# redundant, harmless, and not ours to change.
CFN_LINT_IGNORED = {"W3005"}


def test_given_the_template_then_cfn_lint_finds_no_error_or_warning(synthesized):
    from cfnlint.api import lint_all

    template_path = Path(synthesized[2].template_full_path)
    matches = [m for m in lint_all(template_path.read_text()) if m.rule.id[0] in "EW"]
    assert [str(m) for m in matches if m.rule.id not in CFN_LINT_IGNORED] == []


def test_given_the_synthesized_template_then_the_local_stack_knows_every_resource_type(template):
    from local_stack.resources import check_types
    from local_stack.template import Naming, Stack

    check_types(Stack("Recaudo", template.to_json(), Path("."), Naming("Recaudo", "us-east-1", "123456789012")))
