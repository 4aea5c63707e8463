"""The local stack's IAM: the policy evaluator (AWS's evaluation logic) and the description of each
AWS request as the action(s), resource(s) and condition keys IAM evaluates."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest

from local_stack.authz import Invocations
from local_stack.describe import Describer
from local_stack.iam import Request, evaluate, unsupported

ACCOUNT, REGION = "123456789012", "us-east-1"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Ledger"


def allow(action, resource, **extra):
    return {"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}]}


class TestEvaluation:
    def test_given_no_statement_then_denied_implicitly(self):
        assert evaluate([], Request("dynamodb:GetItem", TABLE)).reason == "no statement allows it"

    def test_given_an_allow_and_a_deny_then_the_explicit_deny_wins(self):
        deny = {"Statement": [{"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}]}
        decision = evaluate([allow("dynamodb:GetItem", TABLE), deny], Request("dynamodb:GetItem", TABLE))
        assert (decision.allowed, decision.reason) == (False, "explicit deny")

    @pytest.mark.parametrize(
        ("pattern", "action", "allowed"),
        [
            ("dynamodb:GetItem", "dynamodb:GetItem", True),
            ("DynamoDB:getitem", "dynamodb:GetItem", True),  # actions are case-insensitive
            ("dynamodb:Get*", "dynamodb:GetItem", True),
            ("dynamodb:?etItem", "dynamodb:GetItem", True),
            ("dynamodb:Get*", "dynamodb:Query", False),
            ("*", "s3:GetObject", True),
        ],
    )
    def test_given_action_patterns_then_wildcards_and_case_as_in_iam(self, pattern, action, allowed):
        assert evaluate([allow(pattern, "*")], Request(action, TABLE)).allowed is allowed

    def test_given_resource_patterns_then_case_sensitive_with_wildcards(self):
        policy = allow("dynamodb:Query", f"{TABLE}/index/*")
        assert evaluate([policy], Request("dynamodb:Query", f"{TABLE}/index/GSI1")).allowed
        assert not evaluate([policy], Request("dynamodb:Query", TABLE)).allowed  # the table is not its indexes
        assert not evaluate([policy], Request("dynamodb:Query", TABLE.replace("Ledger", "ledger") + "/index/x")).allowed

    def test_given_not_action_and_not_resource_then_everything_but_those(self):
        policy = {
            "Statement": [{"Effect": "Allow", "NotAction": "s3:DeleteObject", "NotResource": "arn:aws:s3:::b/secret/*"}]
        }
        assert evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::b/a.txt")).allowed
        assert not evaluate([policy], Request("s3:DeleteObject", "arn:aws:s3:::b/a.txt")).allowed
        assert not evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::b/secret/x")).allowed

    def test_given_a_prefix_condition_then_listing_only_inside_it(self):
        policy = allow("s3:ListBucket", "arn:aws:s3:::b", Condition={"StringLike": {"s3:prefix": ["reportes/*"]}})
        assert evaluate([policy], Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["reportes/x/"]})).allowed
        assert not evaluate([policy], Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["entrada/"]})).allowed
        # a missing key fails a condition (no IfExists)
        assert not evaluate([policy], Request("s3:ListBucket", "arn:aws:s3:::b")).allowed

    def test_given_leading_keys_then_a_tenant_reaches_only_its_own_partitions(self):
        policy = allow(
            "dynamodb:GetItem",
            TABLE,
            Condition={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TENANT#acme#*"]}},
        )
        ok = Request("dynamodb:GetItem", TABLE, {"dynamodb:LeadingKeys": ["TENANT#acme#1"]})
        other = Request("dynamodb:GetItem", TABLE, {"dynamodb:LeadingKeys": ["TENANT#acme#1", "TENANT#evil#2"]})
        assert evaluate([policy], ok).allowed
        assert not evaluate([policy], other).allowed

    @pytest.mark.parametrize(
        ("condition", "context", "allowed"),
        [
            ({"StringEqualsIfExists": {"events:source": "recaudo"}}, {}, True),
            ({"StringEqualsIfExists": {"events:source": "recaudo"}}, {"events:source": ["x"]}, False),
            ({"Null": {"s3:prefix": "true"}}, {}, True),
            ({"Null": {"s3:prefix": "false"}}, {}, False),
            ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": ["true"]}, False),
            ({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": ["true"]}, True),
            ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::b*"}}, {"aws:SourceArn": ["arn:aws:s3:::bucket"]}, True),
            ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::b"}}, {"aws:SourceArn": ["arn:aws:s3:::bucket"]}, False),
            ({"StringNotEquals": {"events:source": "evil"}}, {"events:source": ["recaudo"]}, True),
            ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": ["5"]}, True),
        ],
    )
    def test_given_condition_operators_then_they_hold_as_in_iam(self, condition, context, allowed):
        policy = allow("s3:ListBucket", "*", Condition=condition)
        assert evaluate([policy], Request("s3:ListBucket", "arn:aws:s3:::b", context)).allowed is allowed

    def test_given_condition_key_names_then_they_are_case_insensitive(self):
        policy = allow("s3:ListBucket", "*", Condition={"StringEquals": {"AWS:SourceAccount": ACCOUNT}})
        assert evaluate([policy], Request("s3:ListBucket", "x", {"aws:SourceAccount": [ACCOUNT]})).allowed

    def test_given_a_policy_with_what_we_cannot_evaluate_then_it_is_named_not_guessed(self):
        policy = {
            "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*"},
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.4/32"}},
                },
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"StringMagic": {"s3:prefix": "x"}},
                },
            ]
        }
        problems = unsupported(policy)
        assert any("policy variable" in p for p in problems)
        assert any("aws:SourceIp" in p for p in problems)
        assert any("StringMagic" in p for p in problems)
        assert unsupported(allow("s3:GetObject", "arn:aws:s3:::b/*")) == []


class TestResourcePolicies:
    FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:importer"
    POLICY: ClassVar[dict[str, Any]] = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": FUNCTION,
                "Condition": {
                    "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::files"},
                    "StringEquals": {"AWS:SourceAccount": ACCOUNT},
                },
            }
        ]
    }

    def test_given_a_permission_for_s3_from_a_bucket_then_only_that_service_from_that_bucket(self):
        invocations = Invocations({self.FUNCTION: self.POLICY}, ACCOUNT)
        assert invocations.check(self.FUNCTION, "s3.amazonaws.com", "arn:aws:s3:::files").allowed
        assert not invocations.check(self.FUNCTION, "s3.amazonaws.com", "arn:aws:s3:::other").allowed
        assert not invocations.check(self.FUNCTION, "events.amazonaws.com", "arn:aws:s3:::files").allowed

    def test_given_no_resource_policy_then_no_service_may_invoke(self):
        assert not Invocations({}, ACCOUNT).check(self.FUNCTION, "s3.amazonaws.com", "arn:aws:s3:::files").allowed


class FakeLookup:
    def hash_key(self, table_name):
        return "PK" if table_name == "Ledger" else None

    def secret_arn(self, secret_id):
        return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret_id}-AbCdEf"

    def kms_key_arn(self, key_id):
        return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"

    def kms_key_of_ciphertext(self, blob):
        return "k-1"


@pytest.fixture
def describer():
    return Describer(REGION, ACCOUNT, FakeLookup())


def ddb(describer, operation, body):
    headers = {"x-amz-target": f"DynamoDB_20120810.{operation}"}
    return describer.describe("dynamodb", "POST", "/", headers, json.dumps(body).encode())


class TestDescribingRequests:
    def test_given_a_transaction_then_each_item_is_its_own_action(self, describer):
        # Given a TransactWriteItems with a Put, an Update, a Delete and a ConditionCheck
        items = [
            {"Put": {"TableName": "Ledger", "Item": {"PK": {"S": "a"}, "SK": {"S": "1"}}}},
            {"Update": {"TableName": "Ledger", "Key": {"PK": {"S": "b"}, "SK": {"S": "1"}}}},
            {"Delete": {"TableName": "Ledger", "Key": {"PK": {"S": "c"}, "SK": {"S": "1"}}}},
            {"ConditionCheck": {"TableName": "Other", "Key": {"id": {"S": "d"}}}},
        ]
        # When described / Then one check per item, as AWS authorizes transactions
        call = ddb(describer, "TransactWriteItems", {"TransactItems": items})
        assert [(r.action, r.resource.rsplit("/", 1)[-1]) for r in call.checks] == [
            ("dynamodb:PutItem", "Ledger"),
            ("dynamodb:UpdateItem", "Ledger"),
            ("dynamodb:DeleteItem", "Ledger"),
            ("dynamodb:ConditionCheckItem", "Other"),
        ]
        assert call.checks[0].context["dynamodb:LeadingKeys"] == ["a"]

    def test_given_a_query_on_an_index_then_the_index_arn_and_the_leading_key(self, describer):
        call = ddb(
            describer,
            "Query",
            {
                "TableName": "Ledger",
                "IndexName": "GSI1",
                "KeyConditionExpression": "#p = :v AND begins_with(SK, :s)",
                "ExpressionAttributeNames": {"#p": "PK"},
                "ExpressionAttributeValues": {":v": {"S": "COB#club"}, ":s": {"S": "2026"}},
            },
        )
        (check,) = call.checks
        assert check.resource == f"{TABLE}/index/GSI1"
        assert check.context["dynamodb:LeadingKeys"] == ["COB#club"]

    def test_given_an_operation_we_do_not_know_then_the_call_is_refused_with_its_name(self, describer):
        call = ddb(describer, "ExecuteStatement", {"Statement": "SELECT * FROM Ledger"})
        assert call.problem and "ExecuteStatement" in call.problem

    @pytest.mark.parametrize(
        ("method", "path", "headers", "expected"),
        [
            ("GET", "/b/k.csv", {}, [("s3:GetObject", "arn:aws:s3:::b/k.csv")]),
            ("GET", "/b/k.csv?versionId=3", {}, [("s3:GetObjectVersion", "arn:aws:s3:::b/k.csv")]),
            ("HEAD", "/b/dir/k.csv", {}, [("s3:GetObject", "arn:aws:s3:::b/dir/k.csv")]),
            ("PUT", "/b/k.csv", {}, [("s3:PutObject", "arn:aws:s3:::b/k.csv")]),
            (
                "PUT",
                "/b/copy.csv",
                {"x-amz-copy-source": "/src/a.csv"},
                [("s3:PutObject", "arn:aws:s3:::b/copy.csv"), ("s3:GetObject", "arn:aws:s3:::src/a.csv")],
            ),
            ("DELETE", "/b/k.csv?versionId=3", {}, [("s3:DeleteObjectVersion", "arn:aws:s3:::b/k.csv")]),
            ("GET", "/b?list-type=2&prefix=reportes%2F", {}, [("s3:ListBucket", "arn:aws:s3:::b")]),
            ("GET", "/b?versions", {}, [("s3:ListBucketVersions", "arn:aws:s3:::b")]),
        ],
    )
    def test_given_s3_requests_then_the_actions_s3_authorizes(self, describer, method, path, headers, expected):
        call = describer.describe("s3", method, path, headers, b"")
        assert [(r.action, r.resource) for r in call.checks] == expected

    def test_given_a_listing_then_its_prefix_is_the_condition_key(self, describer):
        (check,) = describer.describe("s3", "GET", "/b?list-type=2&prefix=reportes%2Fx", {}, b"").checks
        assert check.context["s3:prefix"] == ["reportes/x"]

    def test_given_a_get_object_then_listbucket_decides_between_404_and_403(self, describer):
        call = describer.describe("s3", "GET", "/b/k", {}, b"")
        assert call.list_bucket is not None and call.list_bucket.action == "s3:ListBucket"

    def test_given_put_events_then_one_check_per_entry_on_its_bus(self, describer):
        body = {
            "Entries": [
                {"Source": "recaudo", "DetailType": "A", "EventBusName": "recaudo"},
                {"Source": "x", "DetailType": "B"},
            ]
        }
        call = describer.describe(
            "events", "POST", "/", {"x-amz-target": "AWSEvents.PutEvents"}, json.dumps(body).encode()
        )
        assert [r.resource.rsplit("/", 1)[-1] for r in call.checks] == ["recaudo", "default"]
        assert call.checks[0].context["events:source"] == ["recaudo"]

    def test_given_a_lambda_invoke_then_the_function_arn_with_its_qualifier(self, describer):
        call = describer.describe("lambda", "POST", "/2015-03-31/functions/fn/invocations?Qualifier=live", {}, b"{}")
        (check,) = call.checks
        assert (check.action, check.resource) == (
            "lambda:InvokeFunction",
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn:live",
        )

    def test_given_a_sync_execution_then_the_state_machine_is_the_resource(self, describer):
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:flow"
        body = json.dumps({"stateMachineArn": arn, "input": "{}"}).encode()
        call = describer.describe("states", "POST", "/", {"x-amz-target": "AWSStepFunctions.StartSyncExecution"}, body)
        assert [(r.action, r.resource) for r in call.checks] == [("states:StartSyncExecution", arn)]

    def test_given_secrets_and_keys_then_their_arns(self, describer):
        secret = describer.describe(
            "secretsmanager", "POST", "/", {"x-amz-target": "secretsmanager.GetSecretValue"}, b'{"SecretId": "token"}'
        )
        assert secret.checks[0].resource.endswith(":secret:token-AbCdEf")
        decrypt = describer.describe(
            "kms",
            "POST",
            "/",
            {"x-amz-target": "TrentService.Decrypt"},
            json.dumps({"CiphertextBlob": "AAAA", "EncryptionContext": {"canal": "c1"}}).encode(),
        )
        (check,) = decrypt.checks
        assert check.resource.endswith(":key/k-1") and check.context["kms:EncryptionContext:canal"] == ["c1"]

    def test_given_an_unknown_service_then_refused_by_name(self, describer):
        assert describer.describe("ec2", "POST", "/", {}, b"").problem
