"""Plain helpers of the module tests: the test region and credentials, and views of the calls ``api_calls`` records."""

import json

REGION = "us-east-1"
CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region": REGION}
GET_AND_LIST = ("Get", "List")  # how API Gateway and Lambda name their read operations


def operations(api_calls):
    return [name for name, _params in api_calls]


def calls_of(api_calls, operation):
    return [params for name, params in api_calls if name == operation]


def writes(api_calls, read_prefixes=GET_AND_LIST):
    """The operations called but the reads: those whose names start with one of ``read_prefixes``."""
    return [name for name in operations(api_calls) if not name.startswith(read_prefixes)]


def trust_policy(service):
    """The JSON policy document that lets ``service`` (e.g. "lambda.amazonaws.com") assume a role."""
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
