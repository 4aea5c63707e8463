"""Probe functions for the local stack's own tests: each shows one thing the runner must do."""

import base64
import json
import os
import time

import boto3

_authorizer_calls = 0


def _table():
    return boto3.client("dynamodb"), os.environ["RECORDS_TABLE"]


def _record(kind, detail):
    client, table = _table()
    client.put_item(
        TableName=table,
        Item={"PK": {"S": kind}, "SK": {"S": str(time.time_ns())}, "detail": {"S": json.dumps(detail, default=str)}},
    )


def echo(event, context):
    """Returns the proxy event it received, so tests can check what the gateway built."""
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps(
            {
                "resource": event["resource"],
                "path": event["path"],
                "httpMethod": event["httpMethod"],
                "pathParameters": event["pathParameters"],
                "queryStringParameters": event["queryStringParameters"],
                "multiValueQueryStringParameters": event["multiValueQueryStringParameters"],
                "multiValueHeaders": event["multiValueHeaders"],
                "isBase64Encoded": event["isBase64Encoded"],
                "body": event["body"],
                "authorizer": event["requestContext"].get("authorizer"),
                "stage": event["requestContext"]["stage"],
                "remainingMs": context.get_remaining_time_in_millis(),
                "functionName": context.function_name,
                "env": {k: os.environ.get(k) for k in ("RECORDS_TABLE", "AWS_ENDPOINT_URL", "LEDGER_TABLE")},
            }
        ),
    }


def png(event, context):
    data = bytes(range(256))
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(data).decode("ascii"),
        "isBase64Encoded": True,
    }


def sleepy(event, context):
    time.sleep(30)
    return {"statusCode": 200, "body": "too late"}


def crash(event, context):
    os._exit(3)


def boom(event, context):
    raise RuntimeError("boom")


def malformed(event, context):
    return {"body": "no status code"}


def authorize(event, context):
    """REQUEST authorizer on header X-Key; counts its invocations so caching shows."""
    global _authorizer_calls
    _authorizer_calls += 1
    key = (event.get("headers") or {}).get("X-Key") or (event.get("headers") or {}).get("x-key")
    if key not in ("open-sesame", "deny"):
        raise Exception("Unauthorized")
    effect = "Allow" if key == "open-sesame" else "Deny"
    return {
        "principalId": "probe",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"].split("/")[0] + "/*"}
            ],
        },
        "context": {"calls": _authorizer_calls},
    }


def double(event, context):
    return {"n": event["n"] * 2, "worker": context.function_name}


def fail_task(event, context):
    raise ValueError("task failed on purpose")


def on_upload(event, context):
    for record in event["Records"]:
        _record("upload", {"key": record["s3"]["object"]["key"], "event": record["eventName"]})


def on_event(event, context):
    _record("event", event["detail"])


def tick(event, context):
    _record("tick", {"time": event.get("time")})


def _outcome(call):
    """What an AWS call answered, as the function's own error path sees it."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - reported back to the test
        return getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
    return "ok"


def _reply(body):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def try_write(event, context):
    client, table = _table()
    s3 = boto3.client("s3")
    bucket = os.environ["UPLOADS_BUCKET"]
    return _reply(
        {
            "getItem": _outcome(lambda: client.get_item(TableName=table, Key={"PK": {"S": "x"}, "SK": {"S": "y"}})),
            "putItem": _outcome(lambda: client.put_item(TableName=table, Item={"PK": {"S": "x"}, "SK": {"S": "y"}})),
            "transactPut": _outcome(
                lambda: client.transact_write_items(
                    TransactItems=[{"Put": {"TableName": table, "Item": {"PK": {"S": "x"}, "SK": {"S": "z"}}}}]
                )
            ),
            "scan": _outcome(lambda: client.scan(TableName=table)),
            "putAllowed": _outcome(lambda: s3.put_object(Bucket=bucket, Key="allowed/a.txt", Body=b"a")),
            "putElsewhere": _outcome(lambda: s3.put_object(Bucket=bucket, Key="elsewhere/a.txt", Body=b"a")),
            "getObject": _outcome(lambda: s3.get_object(Bucket=bucket, Key="allowed/a.txt")),
            "presigned": s3.generate_presigned_url(
                "put_object", Params={"Bucket": bucket, "Key": "allowed/presigned.txt"}, ExpiresIn=300
            ),
        }
    )


def read_missing(event, context):
    s3 = boto3.client("s3")
    return _reply({"get": _outcome(lambda: s3.get_object(Bucket=os.environ["UPLOADS_BUCKET"], Key="missing.txt"))})


read_missing_listed = read_missing
