"""The embedded local stack: the synthesized app (cdk.out) served on localhost, no AWS, no Docker.

moto (server mode) provides DynamoDB, S3, Step Functions, EventBridge and IAM; one warm worker
process per Lambda function runs the function's own code asset and the layer; a small gateway serves
the REST APIs from the template's resources and methods; a timer fires schedules.
"""
