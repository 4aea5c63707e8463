"""The production guards as synthesized (docs/decisions.md, "Conectividad: …"): alarms on an encrypted
topic, the banks' usage plan, the web ACL on the Conectividad stage, the bus's archive and the rules'
dead-letter queue, the custom domain whose root is the stage, and what the local stack reads of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import constants as c
from local_stack.template import Naming, Stack

PERIOD_SECONDS = c.ALARM_PERIOD_MINUTES * 60


@pytest.fixture(scope="module")
def resources(synthesized) -> dict:
    return synthesized[1].to_json()["Resources"]


@pytest.fixture(scope="module")
def outputs(synthesized) -> dict:
    return synthesized[1].to_json()["Outputs"]


def of_type(resources: dict, kind: str) -> dict:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def by_path(resources: dict, kind: str, path: str) -> str:
    """The logical id of the one resource of ``kind`` whose construct path is ``Recaudo/<path>/…``."""
    (found,) = [
        k
        for k, v in of_type(resources, kind).items()
        if v.get("Metadata", {}).get("aws:cdk:path", "").startswith(f"Recaudo/{path}/")
    ]
    return found


def alarms(resources: dict) -> dict[str, dict]:
    """Alarm name (the logical id of an alarm CloudFormation names) -> properties."""
    return {
        a["Properties"].get("AlarmName", k): a["Properties"]
        for k, a in of_type(resources, "AWS::CloudWatch::Alarm").items()
    }


def topic(resources: dict) -> str:
    return by_path(resources, "AWS::SNS::Topic", "Operacion/Alarmas")


def conectividad_api(resources: dict) -> str:
    (api,) = [k for k in of_type(resources, "AWS::ApiGateway::RestApi") if k.startswith("ConectividadApi")]
    return api


def conectividad_stage(resources: dict) -> str:
    (stage,) = [
        k
        for k, s in of_type(resources, "AWS::ApiGateway::Stage").items()
        if s["Properties"]["StageName"] == c.CONECTIVIDAD_STAGE
    ]
    return stage


def assert_fires_on_one_in_five_minutes(alarm: dict, resources: dict) -> None:
    assert alarm["Threshold"] == 1 and alarm["EvaluationPeriods"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Period"] == PERIOD_SECONDS
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": topic(resources)}]


# ---- alarms ----


@pytest.mark.parametrize("function", c.PAYMENT_PATH_FUNCTIONS)
def test_given_a_payment_path_function_then_alarms_on_its_errors_and_throttles(resources, function):
    # Given the function of the payment path / When its alarms are read
    fn = by_path(resources, "AWS::Lambda::Function", f"Conectividad/{function}/Function")
    found = alarms(resources)
    errors = found[c.ALARM_LAMBDA_ERRORS.format(funcion=function)]
    throttles = found[c.ALARM_LAMBDA_THROTTLES.format(funcion=function)]
    # Then each watches that function's Lambda metric, >= 1 in 5 minutes, on the topic
    for alarm, metric in ((errors, "Errors"), (throttles, "Throttles")):
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", metric, "Sum")
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": fn}}]
        assert_fires_on_one_in_five_minutes(alarm, resources)


def test_given_the_payment_flow_then_alarms_on_failed_timed_out_and_aborted_executions(resources):
    # Given the payment flow's Express state machine
    machine = by_path(resources, "AWS::StepFunctions::StateMachine", "Conectividad/PaymentFlow")
    found = alarms(resources)
    # Then one alarm per bad outcome, on that machine
    for outcome, metric in (("fallido", "Failed"), ("timeout", "TimedOut"), ("abortado", "Aborted")):
        alarm = found[c.ALARM_PAYMENT_FLOW.format(resultado=outcome)]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/States", f"Executions{metric}")
        assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine}}]
        assert_fires_on_one_in_five_minutes(alarm, resources)


def test_given_the_stuck_and_uncompensated_payments_then_alarms_on_conectividads_own_metrics(resources):
    # Given the dimension Powertools gives the Conectividad functions' metrics
    services = {
        f["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for k, f in of_type(resources, "AWS::Lambda::Function").items()
        if f["Properties"].get("Handler", "").startswith("conectividad.")
    }
    assert services == {"recaudo-conectividad"}
    found = alarms(resources)
    # Then PagosAtascados and CompensacionFallida alarm at >= 1, in namespace Recaudo, on that dimension
    for name, metric in (
        (c.ALARM_PAGOS_ATASCADOS, c.METRIC_PAGOS_ATASCADOS),
        (c.ALARM_COMPENSACION_FALLIDA, c.METRIC_COMPENSACION_FALLIDA),
    ):
        alarm = found[name]
        assert (alarm["Namespace"], alarm["MetricName"]) == (c.SERVICE_NAMESPACE, metric)
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "recaudo-conectividad"}]
        assert_fires_on_one_in_five_minutes(alarm, resources)


def test_given_the_alarm_topic_then_named_encrypted_with_a_rotated_key_tls_only_and_open_to_cloudwatch(resources):
    # Given the topic every alarm notifies
    props = resources[topic(resources)]["Properties"]
    assert props["TopicName"] == c.ALARM_TOPIC_NAME
    key = props["KmsMasterKeyId"]["Fn::GetAtt"][0]
    # Then its key (a customer key: CloudWatch cannot use SNS's AWS-managed one) rotates and lets CloudWatch in
    key_props = resources[key]["Properties"]
    assert key_props["EnableKeyRotation"] is True
    assert any(
        s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} and "kms:GenerateDataKey*" in s["Action"]
        for s in key_props["KeyPolicy"]["Statement"]
    )
    # and its policy refuses plain HTTP and lets CloudWatch alarms publish
    (policy,) = [p for p in of_type(resources, "AWS::SNS::TopicPolicy").values()]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements)
    # and every alarm of the stack (RADIAN's too) goes there, when it fires and when it clears
    for name, alarm in alarms(resources).items():
        assert alarm["AlarmActions"] == [{"Ref": topic(resources)}], name
        assert alarm["OKActions"] == [{"Ref": topic(resources)}], name


# ---- durable events ----


def test_given_the_bus_then_an_archive_of_every_event_with_its_retention(resources):
    bus = by_path(resources, "AWS::Events::EventBus", "Data/Bus")
    (archive,) = of_type(resources, "AWS::Events::Archive").values()
    props = archive["Properties"]
    assert props["SourceArn"] == {"Fn::GetAtt": [bus, "Arn"]}
    assert props["RetentionDays"] == c.EVENT_ARCHIVE_RETENTION_DAYS
    assert props["ArchiveName"] == c.EVENT_ARCHIVE_NAME
    assert props["EventPattern"] == {"account": [{"Ref": "AWS::AccountId"}]}


def test_given_every_rule_then_each_target_has_the_dead_letter_queue_and_retries(resources):
    # Given the dead-letter queue: encrypted, TLS only
    queue = by_path(resources, "AWS::SQS::Queue", "Operacion/EventosDlq")
    props = resources[queue]["Properties"]
    assert props["QueueName"] == c.EVENTS_DLQ_NAME and props["SqsManagedSseEnabled"] is True
    (policy,) = [
        p for p in of_type(resources, "AWS::SQS::QueuePolicy").values() if {"Ref": queue} in p["Properties"]["Queues"]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    senders = [
        s["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0]
        for s in statements
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    # When every rule of the stack is read
    rules = of_type(resources, "AWS::Events::Rule")
    assert rules
    for name, rule in rules.items():
        targets = rule["Properties"]["Targets"]
        # Then each target sends what it could not take to the queue, after retries, and the queue lets it
        assert targets, name
        for target in targets:
            assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}, name
            assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1, name
        assert name in senders
    # and its depth alarms
    alarm = alarms(resources)[c.ALARM_EVENTS_DLQ]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert_fires_on_one_in_five_minutes(alarm, resources)


# ---- the banks' usage plan ----


def test_given_the_conectividad_api_then_keys_come_from_the_authorizer_and_every_method_requires_one(resources):
    api = conectividad_api(resources)
    assert resources[api]["Properties"]["ApiKeySourceType"] == "AUTHORIZER"
    methods = of_type(resources, "AWS::ApiGateway::Method")
    mine = {k: m for k, m in methods.items() if m["Properties"]["RestApiId"] == {"Ref": api}}
    assert len(mine) == len(c.CONECTIVIDAD_QUERIES) + len(c.CONECTIVIDAD_PAYMENTS)
    assert all(m["Properties"]["ApiKeyRequired"] is True for m in mine.values())
    # the other APIs' clients have no keys: none of their methods requires one
    assert not any(m["Properties"].get("ApiKeyRequired") for k, m in methods.items() if k not in mine)


def test_given_the_usage_plan_then_it_limits_each_bank_on_the_api_stage_and_is_a_stack_output(resources, outputs):
    (plan_id, plan), *others = of_type(resources, "AWS::ApiGateway::UsagePlan").items()
    assert others == []
    props = plan["Properties"]
    assert props["UsagePlanName"] == c.CONECTIVIDAD_USAGE_PLAN_NAME
    assert props["ApiStages"] == [
        {"ApiId": {"Ref": conectividad_api(resources)}, "Stage": {"Ref": conectividad_stage(resources)}, "Throttle": {}}
    ]
    assert props["Throttle"] == {
        "RateLimit": c.CONECTIVIDAD_BANK_RATE_LIMIT,
        "BurstLimit": c.CONECTIVIDAD_BANK_BURST_LIMIT,
    }
    assert props["Quota"] == {"Limit": c.CONECTIVIDAD_BANK_DAILY_QUOTA, "Period": "DAY"}
    assert outputs[c.CONECTIVIDAD_USAGE_PLAN_OUTPUT]["Value"] == {"Ref": plan_id}


def test_given_a_bank_without_a_key_or_over_its_quota_then_api_gateway_answers_in_the_conectividad_dialect(
    resources,
):
    replies = {
        r["Properties"]["ResponseType"]: (r["Properties"]["StatusCode"], r["Properties"]["ResponseTemplates"])
        for r in of_type(resources, "AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["RestApiId"] == {"Ref": conectividad_api(resources)}
    }
    status, templates = replies["INVALID_API_KEY"]
    assert status == "403" and json.loads(templates["application/json"])["codigoRespuesta"] == 4
    status, templates = replies["QUOTA_EXCEEDED"]
    assert status == "429" and json.loads(templates["application/json"])["codigoRespuesta"] == 1


# ---- the web ACL ----


def web_acl(resources: dict) -> dict:
    (acl,) = of_type(resources, "AWS::WAFv2::WebACL").values()
    return acl["Properties"]


def test_given_the_web_acl_then_regional_and_associated_with_the_conectividad_stage_only(resources):
    props = web_acl(resources)
    assert props["Scope"] == "REGIONAL" and props["DefaultAction"] == {"Allow": {}}
    (association,) = of_type(resources, "AWS::WAFv2::WebACLAssociation").values()
    arn = json.dumps(association["Properties"]["ResourceArn"])
    assert conectividad_api(resources) in arn and conectividad_stage(resources) in arn
    assert association["Properties"]["WebACLArn"]["Fn::GetAtt"][1] == "Arn"


def test_given_the_web_acl_then_the_aws_managed_rule_groups_with_the_8_kb_body_rule_only_counting(resources):
    rules = {r["Name"]: r for r in web_acl(resources)["Rules"]}
    for group in (
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    ):
        statement = rules[group]["Statement"]["ManagedRuleGroupStatement"]
        assert (statement["VendorName"], statement["Name"]) == ("AWS", group)
        assert rules[group]["OverrideAction"] == {"None": {}}
    overrides = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    assert overrides == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]


def test_given_a_body_over_64_kb_then_the_web_acl_answers_413_in_the_conectividad_dialect(resources):
    # Given the web ACL: API Gateway forwards 64 KB of each body to it
    props = web_acl(resources)
    assert props["AssociationConfig"] == {"RequestBody": {"API_GATEWAY": {"DefaultSizeInspectionLimit": "KB_64"}}}
    # When its first rule is read
    first = min(props["Rules"], key=lambda r: r["Priority"])
    size = first["Statement"]["SizeConstraintStatement"]
    # Then bodies over 64 KB (a larger one is oversize: a match) are blocked
    assert (size["ComparisonOperator"], size["Size"]) == ("GT", 64 * 1024)
    assert size["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}
    # with a 413 whose body is Conectividad's error object
    custom = first["Action"]["Block"]["CustomResponse"]
    assert custom["ResponseCode"] == 413
    body = props["CustomResponseBodies"][custom["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON"
    assert json.loads(body["Content"]) == {
        "codigoRespuesta": 5,
        "descripcion": "Parámetros incorrectos: cuerpo demasiado grande",
    }


# ---- the custom domain ----


def test_given_the_domain_context_then_a_regional_tls_1_2_domain_whose_root_is_the_conectividad_stage(
    resources, outputs
):
    # Given a synthesis with a domain and certificate (the local placeholders: no AWS account)
    (domain_id, domain), *others = of_type(resources, "AWS::ApiGateway::DomainName").items()
    assert others == []
    props = domain["Properties"]
    assert props["DomainName"] == c.LOCAL_CONECTIVIDAD_DOMINIO
    assert props["RegionalCertificateArn"] == c.LOCAL_CONECTIVIDAD_CERTIFICADO_ARN
    assert props["EndpointConfiguration"] == {"Types": ["REGIONAL"]} and props["SecurityPolicy"] == "TLS_1_2"
    # Then the empty base path maps its root to the "api" stage, and the DNS target is an output
    (mapping,) = of_type(resources, "AWS::ApiGateway::BasePathMapping").values()
    assert mapping["Properties"] == {
        "DomainName": {"Ref": domain_id},
        "RestApiId": {"Ref": conectividad_api(resources)},
        "Stage": {"Ref": conectividad_stage(resources)},
    }
    assert outputs["ConectividadDominioDestino"]["Value"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}


def test_given_an_account_and_no_domain_context_then_no_domain_and_one_value_alone_is_refused(tmp_path, monkeypatch):
    from aws_cdk.assertions import Template

    from infra.app import build_app, local_context

    # Given a deployment's synthesis (an account) / Then no local placeholder
    assert local_context("111111111111") == {}
    assert set(local_context(None)) == {"conectividadDominio", "conectividadCertificadoArn"}
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "111111111111")
    monkeypatch.setenv("CDK_DEFAULT_REGION", "us-east-1")
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    # When the domain is named without its certificate / Then the synthesis stops
    with pytest.raises(ValueError, match="go together"):
        build_app(str(tmp_path / "a"), str(layer), context={"conectividadDominio": "pagos.example.com"})
    # When nothing is named / Then the stage URL is the only one
    _, stack = build_app(str(tmp_path / "b"), str(layer))
    kinds = {r["Type"] for r in Template.from_stack(stack).to_json()["Resources"].values()}
    assert "AWS::ApiGateway::DomainName" not in kinds and "AWS::ApiGateway::BasePathMapping" not in kinds


# ---- reserved concurrency ----


def test_given_the_payment_path_then_each_function_has_its_reserved_concurrency(resources):
    # Given the payment path's functions / Then each has its own reserved concurrency (a flood elsewhere
    # cannot starve it), as constants.PAYMENT_RESERVED_CONCURRENCY says
    assert set(c.PAYMENT_RESERVED_CONCURRENCY) == set(c.PAYMENT_PATH_FUNCTIONS)
    for function, reserved in c.PAYMENT_RESERVED_CONCURRENCY.items():
        fn = by_path(resources, "AWS::Lambda::Function", f"Conectividad/{function}/Function")
        assert resources[fn]["Properties"].get("ReservedConcurrentExecutions") == reserved, function


# ---- what the local stack reads of it ----


def test_given_the_template_then_the_local_gateway_serves_the_root_mapping_and_the_web_acls_size_rule(synthesized):
    from local_stack.gateway.apis import check_mappings, load_apis, load_mappings

    # Given the template as the local stack reads it
    stack = Stack("Recaudo", synthesized[1].to_json(), Path("."), Naming("Recaudo", "us-east-1", "123456789012"))
    apis = load_apis(stack)
    mappings = load_mappings(stack, apis)
    check_mappings(apis, mappings)  # no stage shadows the root's routes
    # Then the root of the domain is the Conectividad stage
    (mapping,) = mappings
    assert (mapping.domain, mapping.base_path, mapping.api.stage) == (c.LOCAL_CONECTIVIDAD_DOMINIO, "", "api")
    # and only that stage has the web ACL, whose size rule is emulated and AWS's groups are not
    (api,) = [a for a in apis if a.web_acl is not None]
    assert api.stage == c.CONECTIVIDAD_STAGE and api.api_key_source == "AUTHORIZER"
    assert api.web_acl is not None and api.web_acl.inspection_limit == 64 * 1024
    assert [r.name for r in api.web_acl.rules] == ["CuerpoDemasiadoGrande"]
    assert api.web_acl.inspect(b"x" * 64 * 1024) is None
    blocked = api.web_acl.inspect(b"x" * (64 * 1024 + 1))
    assert blocked is not None and blocked.status == 413
    assert json.loads(blocked.body)["codigoRespuesta"] == 5
    assert len(api.web_acl.not_emulated) == 3
    assert all(route.api_key_required for route in api.routes)
