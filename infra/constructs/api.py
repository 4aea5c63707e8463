"""A REST API with a TOKEN authorizer (or, for APIs whose secret travels in the body, none), access logs that carry no secrets, stage throttling and
gateway responses in the API's own error dialect; optionally a usage plan whose API keys the authorizer
returns (every method then requires one)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import NagSuppressions
from constructs import Construct

from infra import constants as c
from infra.constructs.functions import PythonFunction


@dataclass(frozen=True)
class GatewayReply:
    status: str
    body: Mapping[str, object] | str  # a JSON object, or text (plain, or XML with content_type)
    content_type: str = "text/plain; charset=utf-8"  # of a text body


@dataclass(frozen=True)
class UsagePlanLimits:
    """One usage plan on the API's stage; the limits apply to each API key (each client) on its own."""

    name: str
    rate_limit: float  # requests per second
    burst_limit: int
    daily_quota: int


class TokenRestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        stage_name: str,
        layer: lambda_.ILayerVersion,
        credentials: ddb.ITable,
        gateway_replies: Mapping[apigw.ResponseType, GatewayReply],
        token_auth: bool = True,
        token_scope: str = "conectividad",
        body_auth_reason: str | None = None,
        binary_media_types: Sequence[str] = (),
        usage_plan: UsagePlanLimits | None = None,
        web_acl: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if usage_plan is not None and not token_auth:
            raise ValueError("a usage plan's keys come from the TOKEN authorizer: token_auth is required")
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.RETAIN
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            description=description,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=list(binary_media_types) or None,
            # the TOKEN authorizer returns the client's API key (usageIdentifierKey): clients never send one
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER if usage_plan else None,
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                # Standard fields only: no headers, no query strings, so no token or hash can leak here.
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=c.STAGE_RATE_LIMIT,
                throttling_burst_limit=c.STAGE_BURST_LIMIT,
            ),
        )
        self.authorizer: apigw.TokenAuthorizer | None = None
        # Why an API without an authorizer is still authenticated (its functions verify a secret or a
        # signature carried in the body, which API Gateway authorizers cannot read).
        self.body_auth_reason = body_auth_reason or (
            "The Pay per TIC document authenticates integrators with a HASH sent as a form field (or query "
            "parameter). API Gateway authorizers cannot read request bodies, so the function checks it first, "
            "against a stored SHA-256 digest in constant time, before doing anything else."
        )
        if token_auth:
            self.authorizer_function = PythonFunction(
                self,
                "AuthorizerFn",
                context="authorizer",
                module="token",
                layer=layer,
                # which tokens this API accepts: a bank's token never opens RADIAN, nor a tenant's Conectividad
                environment={"CREDENTIALS_TABLE": credentials.table_name, "TOKEN_SCOPE": token_scope},
                statements=[iam.PolicyStatement(actions=["dynamodb:GetItem"], resources=[credentials.table_arn])],
                description=f"TOKEN authorizer ({token_scope}): Authorization: Token <keyId>.<secret>",
            )
            self.authorizer = apigw.TokenAuthorizer(
                self,
                "TokenAuthorizer",
                handler=self.authorizer_function.publicada(),
                identity_source=apigw.IdentitySource.header("Authorization"),
                validation_regex=c.TOKEN_VALIDATION_REGEX,
                results_cache_ttl=Duration.seconds(c.AUTHORIZER_CACHE_SECONDS),
            )
        self.validator = apigw.RequestValidator(
            self, "ParamsValidator", rest_api=self.api, validate_request_parameters=True, validate_request_body=True
        )
        for response_type, reply in gateway_replies.items():
            text = isinstance(reply.body, str)
            body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body, ensure_ascii=False)
            templates = {"application/json": body}
            if "xml" in reply.content_type:  # whichever template API Gateway picks, the reply is the same
                templates |= {"application/xml": body, "text/xml": body}
            self.api.add_gateway_response(
                f"Reply{response_type.response_type}",
                type=response_type,
                status_code=reply.status,
                response_headers={"Content-Type": f"'{reply.content_type}'"} if text else None,
                templates=templates,
            )
        self.api_key_required = usage_plan is not None
        self.usage_plan: apigw.UsagePlan | None = None
        if usage_plan is not None:
            self.usage_plan = self.api.add_usage_plan(
                "UsagePlan",
                name=usage_plan.name,
                description="Per client: each API key (returned by the TOKEN authorizer) gets these limits",
                throttle=apigw.ThrottleSettings(rate_limit=usage_plan.rate_limit, burst_limit=usage_plan.burst_limit),
                quota=apigw.QuotaSettings(limit=usage_plan.daily_quota, period=apigw.Period.DAY),
                api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
            )
        suppressions = [
            {
                "id": "AwsSolutions-IAM4",
                "reason": "The account-level API Gateway CloudWatch role uses the AWS-managed "
                "AmazonAPIGatewayPushToCloudWatchLogs policy, which is scoped to exactly that purpose.",
            }
        ]
        if not web_acl:  # an API with a web ACL (infra/constructs/operacion.py) needs no reason
            suppressions.append(
                {
                    "id": "AwsSolutions-APIG3",
                    "reason": "No web ACL on this API: the stage is throttled and every route is authenticated (a "
                    "token authorizer, or the secret or signature each function verifies before anything else); "
                    "its bodies (CSV files, XML, signed JSON) are larger than the managed rule sets allow.",
                }
            )
        NagSuppressions.add_resource_suppressions(self.api, suppressions, apply_to_children=True)

    def add_route(
        self,
        path: str,
        method: str,
        function: lambda_.IFunction,
        required_query: Sequence[str] = (),
    ) -> apigw.Method:
        resource = self.api.root.resource_for_path(path)
        added = resource.add_method(
            method,
            # no test-invoke permission: the console's "Test" would reach the function past the
            # authorizer and the WAF, and it is a Lambda::Permission per route (the stack is capped at 500)
            apigw.LambdaIntegration(function, proxy=True, allow_test_invoke=False),
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM if self.authorizer else apigw.AuthorizationType.NONE,
            request_validator=self.validator,
            request_parameters={f"method.request.querystring.{name}": True for name in required_query},
            api_key_required=self.api_key_required or None,
        )
        if self.authorizer:
            suppressions = [
                {
                    "id": "AwsSolutions-COG4",
                    "reason": "Callers authenticate with per-client API tokens (Authorization: Token …) as the "
                    "API documents prescribe, verified by a Lambda TOKEN authorizer, not a Cognito user pool.",
                }
            ]
        else:
            reason = self.body_auth_reason
            suppressions = [
                {"id": "AwsSolutions-APIG4", "reason": reason},
                {"id": "AwsSolutions-COG4", "reason": reason},
            ]
        NagSuppressions.add_resource_suppressions(added, suppressions)
        return added
