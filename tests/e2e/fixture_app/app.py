"""A small CDK app that uses every kind of resource and event source the local stack emulates."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

CODE = Path(__file__).resolve().parent / "functions"


class ProbeStack(Stack):
    def __init__(self, scope, construct_id, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        records = ddb.Table(
            self,
            "Records",
            partition_key=ddb.Attribute(name="PK", type=ddb.AttributeType.STRING),
            sort_key=ddb.Attribute(name="SK", type=ddb.AttributeType.STRING),
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            removal_policy=RemovalPolicy.DESTROY,
        )
        code = lambda_.Code.from_asset(str(CODE))

        def fn(name: str, timeout: int = 5, grant: bool = True) -> lambda_.Function:
            f = lambda_.Function(
                self,
                name,
                runtime=lambda_.Runtime.PYTHON_3_13,
                handler=f"probe.handlers.{name}",
                code=code,
                timeout=Duration.seconds(timeout),
                environment={"RECORDS_TABLE": records.table_name},
            )
            if grant:
                records.grant_read_write_data(f)
            return f

        api = apigw.RestApi(
            self,
            "Api",
            deploy_options=apigw.StageOptions(stage_name="probe"),
            binary_media_types=["image/png", "multipart/form-data"],
        )
        authorizer = apigw.RequestAuthorizer(
            self,
            "KeyAuthorizer",
            handler=fn("authorize"),
            identity_sources=[apigw.IdentitySource.header("X-Key")],
            results_cache_ttl=Duration.seconds(60),
        )
        echo = apigw.LambdaIntegration(fn("echo"))
        items = api.root.add_resource("items")
        items.add_method("GET", echo)
        item = items.add_resource("{itemId}")
        item.add_method("ANY", echo)
        item.add_resource("{proxy+}").add_method("GET", echo)
        api.root.add_resource("secure").add_method(
            "GET", echo, authorizer=authorizer, authorization_type=apigw.AuthorizationType.CUSTOM
        )
        api.root.add_resource("required").add_method(
            "GET",
            echo,
            request_validator_options=apigw.RequestValidatorOptions(validate_request_parameters=True),
            request_parameters={"method.request.querystring.needed": True},
        )
        api.root.add_resource("png").add_method("GET", apigw.LambdaIntegration(fn("png")))
        api.root.add_resource("sleepy").add_method("GET", apigw.LambdaIntegration(fn("sleepy", timeout=1)))
        api.root.add_resource("crash").add_method("GET", apigw.LambdaIntegration(fn("crash")))
        api.root.add_resource("boom").add_method("GET", apigw.LambdaIntegration(fn("boom")))
        api.root.add_resource("malformed").add_method("GET", apigw.LambdaIntegration(fn("malformed")))
        api.add_gateway_response(
            "Unauthorized",
            type=apigw.ResponseType.UNAUTHORIZED,
            status_code="401",
            templates={"application/json": '{"probe": "unauthorized"}'},
        )

        uploads = s3.Bucket(self, "Uploads", removal_policy=RemovalPolicy.DESTROY)

        # IAM, enforced locally: what each role allows is all a function may do.
        reader = fn("try_write", grant=False)  # may read the table, not write it
        records.grant_read_data(reader)
        reader.add_environment("UPLOADS_BUCKET", uploads.bucket_name)
        uploads.grant_put(reader, "allowed/*")  # may write under allowed/ only
        # a missing object: 404 with s3:ListBucket, 403 without (as S3 answers)
        blind = fn("read_missing", grant=False)
        blind.add_environment("UPLOADS_BUCKET", uploads.bucket_name)
        blind.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[uploads.arn_for_objects("*")])
        )
        sighted = fn("read_missing_listed", grant=False)
        sighted.add_environment("UPLOADS_BUCKET", uploads.bucket_name)
        sighted.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[uploads.arn_for_objects("*")])
        )
        sighted.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[uploads.bucket_arn]))
        for name, f in (("try-write", reader), ("read-missing", blind), ("read-missing-listed", sighted)):
            api.root.add_resource(name).add_method("GET", apigw.LambdaIntegration(f))
        uploads.add_event_notification(
            s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(fn("on_upload")), s3.NotificationKeyFilter(prefix="in/")
        )

        doubler = fn("double")
        double = tasks.LambdaInvoke(self, "Double", lambda_function=doubler, payload_response_only=True)
        again = tasks.LambdaInvoke(self, "DoubleAgain", lambda_function=doubler, payload_response_only=True)
        failing = tasks.LambdaInvoke(self, "Fail", lambda_function=fn("fail_task"), payload_response_only=True)
        caught = sfn.Pass(self, "Caught", result=sfn.Result.from_object({"compensated": True}))
        failing.add_catch(caught, errors=["States.ALL"])
        choice = sfn.Choice(self, "ShouldFail")
        choice.when(sfn.Condition.boolean_equals("$.fail", True), failing)
        choice.otherwise(double.next(again))
        sfn.StateMachine(self, "Flow", definition_body=sfn.DefinitionBody.from_chainable(choice))

        events.Rule(
            self,
            "OnProbeEvent",
            event_pattern=events.EventPattern(source=["probe.tests"], detail_type=["Probe"]),
            targets=[targets.LambdaFunction(fn("on_event"))],
        )
        events.Rule(
            self,
            "Tick",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[targets.LambdaFunction(fn("tick"))],
        )


def synth(outdir: str) -> str:
    app = App(outdir=outdir, context={"aws:cdk:enable-path-metadata": True})
    ProbeStack(app, "Probe")
    app.synth()
    return outdir
