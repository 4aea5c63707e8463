"""Imported once by the workers' forkserver: the heavy libraries every function shares. Nothing here
may read the environment at import time (each worker gets its own after the fork); so not the X-Ray
SDK, which decides at import whether it runs inside Lambda."""

import boto3
import boto3.dynamodb.types  # noqa: F401
import botocore.session
import pydantic  # noqa: F401
import simplejson  # noqa: F401
from aws_lambda_powertools.event_handler import APIGatewayRestResolver  # noqa: F401
from aws_lambda_powertools.event_handler.openapi import params  # noqa: F401
from aws_lambda_powertools.utilities.idempotency import idempotent_function  # noqa: F401

# Load the service models the functions use, so a worker's first client is cheap.
_session = botocore.session.get_session()
for _service in ("dynamodb", "stepfunctions", "events", "s3"):
    _session.get_service_model(_service)
