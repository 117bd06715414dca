"""tools/aws_calls.py: naming and classifying the requests moto's recorder saw."""

import base64

import boto3
import pytest
from aws_calls import AwsCall, parse_entry, recorded_calls, writes


def entry(service, method="POST", url="/", body="", headers=None, encoded=False):
    authorization = f"AWS4-HMAC-SHA256 Credential=testing/20261125/us-east-1/{service}/aws4_request, Signature=x"
    return {
        "headers": {"Authorization": authorization, **(headers or {})},
        "method": method,
        "url": f"http://127.0.0.1:5000{url}",
        "body": base64.b64encode(body.encode()).decode() if encoded else body,
        "body_encoded": encoded,
    }


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


@pytest.mark.parametrize(
    ("raw", "expected", "is_write"),
    [
        (entry("logs", headers={"X-Amz-Target": "Logs_20140328.DescribeLogGroups"}), "logs DescribeLogGroups", False),
        (entry("logs", headers={"X-Amz-Target": "Logs_20140328.PutRetentionPolicy"}), "logs PutRetentionPolicy", True),
        (entry("ec2", body="Action=DescribeVpcs&Version=2016-11-15", headers=FORM), "ec2 DescribeVpcs", False),
        (entry("ec2", body="Action=CreateTags&Version=2016-11-15", headers=FORM, encoded=True), "ec2 CreateTags", True),
        (entry("iam", url="/?Action=GetRole&RoleName=r", method="GET"), "iam GetRole", False),
        (entry("lambda", "GET", "/2015-03-31/functions/f"), "lambda GET /2015-03-31/functions/f", False),
        (entry("lambda", "PUT", "/2015-03-31/functions/f/code"), "lambda PUT /2015-03-31/functions/f/code", True),
        (entry("s3", "HEAD", "/bucket/key.zip"), "s3 HEAD /bucket/key.zip", False),
        (entry("s3", "PUT", "/bucket/key.zip", body="PK\x03\x04"), "s3 PUT /bucket/key.zip", True),
    ],
)
def test_requests_are_named_and_classified(raw, expected, is_write):
    call = parse_entry(raw)
    assert str(call) == expected
    assert call.is_write is is_write


def test_a_binary_body_names_no_operation():
    raw = entry("s3", "PUT", "/bucket/key.zip", headers=FORM)
    raw.update(body=base64.b64encode(b"\xff\xfe\x00binary").decode(), body_encoded=True)
    assert parse_entry(raw) == AwsCall("s3", "", "PUT", "/bucket/key.zip")


def test_an_unsigned_request_is_named_so():
    assert parse_entry({"method": "GET", "url": "http://127.0.0.1/x"}).service == "unsigned"


def test_the_recorder_sees_the_calls_made_in_the_block(local_endpoint):
    client = boto3.client(
        "logs",
        region_name="us-east-1",
        endpoint_url=local_endpoint.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.describe_log_groups()  # before the block: not recorded
    with recorded_calls(local_endpoint.url) as calls:
        client.create_log_group(logGroupName="/recorded")
        client.describe_log_groups()
    client.delete_log_group(logGroupName="/recorded")  # after the block: not recorded

    assert [str(call) for call in calls] == ["logs CreateLogGroup", "logs DescribeLogGroups"]
    assert writes(calls) == ["logs CreateLogGroup"]
