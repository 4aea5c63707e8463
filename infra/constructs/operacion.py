"""Production guards (docs/decisions.md, "Conectividad: …"): alarms on one encrypted topic, the web ACL
on the Conectividad stage, a dead-letter queue for every EventBridge rule's targets, and the optional
custom domain whose root is the Conectividad stage (a bank's base URL is the host)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_wafv2 as wafv2
from cdk_nag import NagSuppressions
from constructs import Construct

from infra import constants as c
from infra.constructs.api import TokenRestApi
from infra.constructs.functions import PythonFunction
from recaudo.errors import CodigoRespuesta, error_body

# The Conectividad dialect's 413, as the web ACL answers it (WAF's custom response, not API Gateway's).
BODY_TOO_LARGE_KEY = "cuerpoDemasiadoGrande"
BODY_TOO_LARGE = json.dumps(
    error_body(CodigoRespuesta.PARAMETROS_INCORRECTOS, "cuerpo demasiado grande"),
    ensure_ascii=False,
    separators=(",", ":"),
)
# AWS managed rule groups, in order; and the rules of theirs that only count (with why).
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)
COUNTED_MANAGED_RULES: dict[str, dict[str, str]] = {
    "AWSManagedRulesCommonRuleSet": {
        # 8 KB: a cart payment (ejecutar-pago with many transacciones) is larger. Our own rule, first in
        # the ACL, refuses bodies over WAF_MAX_BODY_BYTES in the API's dialect instead.
        "SizeRestrictions_BODY": "bodies over 8 KB are legitimate cart payments; CuerpoDemasiadoGrande limits size",
    }
}


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def threshold_alarm(
    scope: Construct, construct_id: str, name: str, metric: cloudwatch.IMetric, description: str
) -> cloudwatch.Alarm:
    """One alarm: >= 1 in one period; no data is no alarm. OperacionConstruct (composed last) makes
    every alarm of the stack notify the topic, so a context may create its own with this."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_name=name,
        alarm_description=description,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def dead_letter_queue(
    scope: Construct, construct_id: str, name: str, reason: str, retention_days: int = c.EVENTS_DLQ_RETENTION_DAYS
) -> sqs.Queue:
    """A queue for what could not be delivered: SSE-SQS (EventBridge and Lambda destinations write it
    with no key policy), TLS only, retained. ``reason``: why it has no dead-letter queue of its own."""
    queue = sqs.Queue(
        scope,
        construct_id,
        queue_name=name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(retention_days),
        removal_policy=RemovalPolicy.RETAIN,
    )
    NagSuppressions.add_resource_suppressions(queue, [{"id": "AwsSolutions-SQS3", "reason": reason}])
    return queue


class OperacionConstruct(Construct):
    """Composed last by the stack: it watches the functions, flows and rules the contexts created."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: TokenRestApi,
        functions: Mapping[str, PythonFunction],
        context: str,
        payment_flow: sfn.StateMachine,
        dominio: str | None = None,
        certificado_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.topic = self._topic()
        self._function_alarms(functions)
        self._flow_alarms(payment_flow)
        self._metric_alarms(f"{c.APP_NAME}-{context}")  # Powertools' `service` dimension of that context
        self.dead_letters = self._dead_letters()
        self.web_acl = self._web_acl(api)
        self.domain = self._domain(api, dominio, certificado_arn)
        # the contexts' own alarms (RADIAN's refused token, a failed run…) notify the same topic
        mine = [id(alarm) for alarm in self.alarms.values()]
        for node in Stack.of(self).node.find_all():
            if isinstance(node, cloudwatch.Alarm) and id(node) not in mine:
                self.watch(node)

    # ---- alarms ----

    def _topic(self) -> sns.Topic:
        """Where every alarm goes. Encrypted with a key of ours: CloudWatch cannot use the AWS-managed
        SNS key, so the key policy lets CloudWatch encrypt, and the topic policy lets it publish."""
        key = kms.Key(
            self,
            "AlarmasKey",
            description=f"{c.APP_NAME}: encrypts the alarm topic {c.ALARM_TOPIC_NAME}",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
            )
        )
        topic = sns.Topic(
            self,
            "Alarmas",
            topic_name=c.ALARM_TOPIC_NAME,
            display_name="recaudo: alarmas de operación",
            master_key=key,
            enforce_ssl=True,
        )
        stack = Stack.of(self)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"
                    }
                },
            )
        )
        return topic

    def alarm(self, construct_id: str, name: str, metric: cloudwatch.IMetric, description: str) -> cloudwatch.Alarm:
        """One alarm on the topic: >= 1 in one period; no data is no alarm."""
        alarm = threshold_alarm(self, construct_id, name, metric, description)
        self.watch(alarm)
        self.alarms[name] = alarm
        return alarm

    def watch(self, alarm: cloudwatch.Alarm) -> None:
        """An alarm (ours or a context's) notifies the topic when it fires and when it clears."""
        action = cw_actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)

    def _function_alarms(self, functions: Mapping[str, PythonFunction]) -> None:
        period = Duration.minutes(c.ALARM_PERIOD_MINUTES)
        for name in c.PAYMENT_PATH_FUNCTIONS:
            fn = functions[name].function
            self.alarm(
                f"Errores-{name}",
                c.ALARM_LAMBDA_ERRORS.format(funcion=name),
                fn.metric_errors(period=period, statistic="Sum"),
                f"{name}: the function failed (an unhandled error, a timeout, or a flow task's refusal).",
            )
            self.alarm(
                f"Throttles-{name}",
                c.ALARM_LAMBDA_THROTTLES.format(funcion=name),
                fn.metric_throttles(period=period, statistic="Sum"),
                f"{name}: Lambda throttled it; its reserved concurrency is exhausted.",
            )

    def _flow_alarms(self, machine: sfn.StateMachine) -> None:
        period = Duration.minutes(c.ALARM_PERIOD_MINUTES)
        outcomes = {
            "fallido": (machine.metric_failed, "a payment execution failed (a refusal, or compensated)"),
            "timeout": (machine.metric_timed_out, "a payment execution timed out: its outcome is unknown"),
            "abortado": (machine.metric_aborted, "a payment execution was aborted: its outcome is unknown"),
        }
        for outcome, (metric, description) in outcomes.items():
            self.alarm(
                f"FlujoPago-{outcome}",
                c.ALARM_PAYMENT_FLOW.format(resultado=outcome),
                metric(period=period, statistic="Sum"),
                f"Payment flow: {description}.",
            )

    def _metric_alarms(self, service: str) -> None:
        period = Duration.minutes(c.ALARM_PERIOD_MINUTES)

        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=c.SERVICE_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": service},
                statistic=statistic,
                period=period,
            )

        self.alarm(
            "PagosAtascados",
            c.ALARM_PAGOS_ATASCADOS,
            metric(c.METRIC_PAGOS_ATASCADOS, "Maximum"),
            "Payments stuck in APLICADO (applied, never confirmed nor compensated): the bank does not know "
            "their outcome. See the sweeper's log.",
        )
        self.alarm(
            "CompensacionFallida",
            c.ALARM_COMPENSACION_FALLIDA,
            metric(c.METRIC_COMPENSACION_FALLIDA, "Sum"),
            "A payment failed after it was applied and could not be undone: money may be recorded as paid.",
        )

    # ---- dead letters ----

    def _dead_letters(self) -> sqs.Queue:
        """One queue for the events no rule target could take after its retries, and an alarm on its
        depth. Every rule of the stack (the contexts' own, as they created them) gets it."""
        queue = dead_letter_queue(
            self,
            "EventosDlq",
            c.EVENTS_DLQ_NAME,
            "This queue is itself the dead-letter queue of the EventBridge rules' targets; an alarm fires on "
            "its depth and the operator redrives it.",
        )
        stack = Stack.of(self)
        events_principal = iam.ServicePrincipal("events.amazonaws.com")
        for node in stack.node.find_all():
            if not isinstance(node, events.CfnRule):
                continue
            targets: list[dict[str, Any]] = stack.resolve(node.targets) or []
            for index, target in enumerate(targets):
                node.add_property_override(f"Targets.{index}.DeadLetterConfig.Arn", queue.queue_arn)
                if "RetryPolicy" not in target and "retryPolicy" not in target:
                    node.add_property_override(
                        f"Targets.{index}.RetryPolicy.MaximumRetryAttempts", c.EVENT_TARGET_RETRY_ATTEMPTS
                    )
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[events_principal],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": node.attr_arn}},
                )
            )
        self.alarm(
            "EventosDlqProfundidad",
            c.ALARM_EVENTS_DLQ,
            queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(c.ALARM_PERIOD_MINUTES), statistic="Maximum"
            ),
            f"Events no target could take after its retries are waiting in {c.EVENTS_DLQ_NAME} (message "
            "attributes RULE_ARN, TARGET_ARN, ERROR_CODE say whose). Fix the target, then redrive them.",
        )
        return queue

    # ---- the web ACL ----

    def _web_acl(self, api: TokenRestApi) -> wafv2.CfnWebACL:
        """On the Conectividad stage only: the other APIs carry files and XML the managed rules would
        refuse. Our size rule first, then AWS's managed rule groups."""
        size_rule = wafv2.CfnWebACL.RuleProperty(
            name="CuerpoDemasiadoGrande",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(
                block=wafv2.CfnWebACL.BlockActionProperty(
                    custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                        response_code=413, custom_response_body_key=BODY_TOO_LARGE_KEY
                    )
                )
            ),
            statement=wafv2.CfnWebACL.StatementProperty(
                size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                    comparison_operator="GT",
                    size=c.WAF_MAX_BODY_BYTES,
                    # WAF sees at most the inspection limit (64 KB): a larger body is "oversize", a match
                    field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                        body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
                    ),
                    text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
                )
            ),
            visibility_config=_visibility("CuerpoDemasiadoGrande"),
        )
        managed = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS",
                        name=group,
                        rule_action_overrides=[
                            wafv2.CfnWebACL.RuleActionOverrideProperty(
                                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                            )
                            for rule in COUNTED_MANAGED_RULES.get(group, {})
                        ]
                        or None,
                    )
                ),
                visibility_config=_visibility(group),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=c.WAF_WEB_ACL_NAME,
            description="recaudo Conectividad: body size in the API dialect, then AWS managed rules",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            # API Gateway forwards up to 64 KB of each body to WAF (16 KB by default)
            association_config=wafv2.CfnWebACL.AssociationConfigProperty(
                request_body={
                    "API_GATEWAY": wafv2.CfnWebACL.RequestBodyAssociatedResourceTypeConfigProperty(
                        default_size_inspection_limit=c.WAF_BODY_INSPECTION_LIMIT
                    )
                }
            ),
            custom_response_bodies={
                BODY_TOO_LARGE_KEY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=BODY_TOO_LARGE
                )
            },
            rules=[size_rule, *managed],
            visibility_config=_visibility(c.WAF_WEB_ACL_NAME),
        )
        wafv2.CfnWebACLAssociation(
            self, "WebAclConectividad", resource_arn=api.api.deployment_stage.stage_arn, web_acl_arn=acl.attr_arn
        )
        return acl

    # ---- the custom domain ----

    def _domain(self, api: TokenRestApi, dominio: str | None, certificado_arn: str | None) -> apigw.DomainName | None:
        """``https://<dominio>/v1/integracion-conectividad/…``: the empty base path maps the domain's root
        to the stage, as the document's URLs read. Both context values, or neither."""
        if not dominio and not certificado_arn:
            return None
        if not (dominio and certificado_arn):
            raise ValueError("CDK context conectividadDominio and conectividadCertificadoArn go together")
        domain = apigw.DomainName(
            self,
            "Dominio",
            domain_name=dominio,
            certificate=acm.Certificate.from_certificate_arn(self, "Certificado", certificado_arn),
            endpoint_type=apigw.EndpointType.REGIONAL,
            security_policy=apigw.SecurityPolicy.TLS_1_2,
        )
        apigw.BasePathMapping(self, "Raiz", domain_name=domain, rest_api=api.api, stage=api.api.deployment_stage)
        return domain
