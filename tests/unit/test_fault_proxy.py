"""The fault proxy forwards to the local endpoint, answers injected errors in AWS's shapes, and counts calls."""

import threading
import time
from types import SimpleNamespace

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.retries import standard
from fault_proxy import FaultProxy


def client(proxy, service, attempts=1):
    import boto3

    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=proxy.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def test_injects_dependency_violation_in_ec2_s_error_shape_then_forwards(fault_proxy):
    ec2 = client(fault_proxy, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    fault_proxy.fail("ec2", "DeleteSecurityGroup", times=2, code="DependencyViolation", message="in use")

    for _ in range(2):
        with pytest.raises(ClientError) as refused:
            ec2.delete_security_group(GroupId=group)
        assert refused.value.response["Error"] == {"Code": "DependencyViolation", "Message": "in use"}
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    ec2.delete_security_group(GroupId=group)

    assert fault_proxy.counts[("ec2", "DeleteSecurityGroup")] == 3
    assert fault_proxy.injected[("ec2", "DeleteSecurityGroup")] == 2
    assert fault_proxy.counts[("ec2", "CreateVpc")] == 1


def test_injects_errors_in_the_json_and_query_shapes(fault_proxy):
    fault_proxy.fail("dynamodb", "ListTables", times=1, code="ResourceInUseException", message="busy")
    fault_proxy.fail("iam", "ListRoles", times=1, code="DeleteConflict", message="in use")

    with pytest.raises(ClientError) as json_error:
        client(fault_proxy, "dynamodb").list_tables()
    with pytest.raises(ClientError) as query_error:
        client(fault_proxy, "iam").list_roles()

    assert json_error.value.response["Error"] == {"Code": "ResourceInUseException", "Message": "busy"}
    assert query_error.value.response["Error"]["Code"] == "DeleteConflict"
    assert client(fault_proxy, "dynamodb").list_tables()["TableNames"] == []


def test_forwards_s3_bodies_and_head_lengths(fault_proxy):
    s3 = client(fault_proxy, "s3")
    s3.create_bucket(Bucket="proxied")
    s3.put_object(Bucket="proxied", Key="k", Body=b"\x00\xff" * 1000)
    assert s3.head_object(Bucket="proxied", Key="k")["ContentLength"] == 2000
    assert s3.get_object(Bucket="proxied", Key="k")["Body"].read() == b"\x00\xff" * 1000


def test_is_bounded_in_requests_and_refuses_other_hosts(local_endpoint):
    with FaultProxy(local_endpoint.url, max_requests=1) as proxy:
        dynamodb = client(proxy, "dynamodb")
        dynamodb.list_tables()
        with pytest.raises(ClientError) as spent:
            dynamodb.list_tables()
        assert spent.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    with pytest.raises(ValueError):
        FaultProxy("http://example.com:80")


def test_stops_serving_after_its_time(local_endpoint):
    proxy = FaultProxy(local_endpoint.url, max_seconds=0.2).start()
    stopped = threading.Event()
    threading.Thread(target=lambda: (proxy._threads[0].join(), stopped.set()), daemon=True).start()
    assert stopped.wait(timeout=10)
    proxy.stop()


TABLE = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def one_call(proxy, service):
    """A read of the service, through the proxy, with no retry."""
    reads = {
        "ec2": lambda c: c.describe_vpcs(),
        "iam": lambda c: c.list_roles(),
        "cloudwatch": lambda c: c.describe_alarms(),
        "dynamodb": lambda c: c.list_tables(),
        "lambda": lambda c: c.list_functions(),
        "apigateway": lambda c: c.get_rest_apis(),
        "s3": lambda c: c.list_buckets(),
    }
    return reads[service](client(proxy, service))


def retry_context(error: ClientError) -> standard.RetryContext:
    status = error.response["ResponseMetadata"]["HTTPStatusCode"]
    return standard.RetryContext(
        attempt_number=1, parsed_response=error.response, http_response=SimpleNamespace(status_code=status)
    )


THROTTLING = [
    ("ec2", "RequestLimitExceeded", 503),
    ("iam", "Throttling", 400),
    ("cloudwatch", "Throttling", 400),
    ("dynamodb", "ThrottlingException", 400),
    ("lambda", "TooManyRequestsException", 429),
    ("apigateway", "TooManyRequestsException", 429),
    ("s3", "SlowDown", 503),
]


@pytest.mark.parametrize(("service", "code", "status"), THROTTLING, ids=[row[0] for row in THROTTLING])
def test_throttles_with_the_code_and_status_of_each_protocol(fault_proxy, service, code, status):
    fault_proxy.throttle(1.0)
    with pytest.raises(ClientError) as throttled:
        one_call(fault_proxy, service)
    assert throttled.value.response["Error"]["Code"] == code, fault_proxy.summary()
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert standard.ThrottledRetryableChecker().is_retryable(retry_context(throttled.value))
    assert fault_proxy.injected_kinds == {"throttle": 1}, fault_proxy.counts


INTERNAL = [
    ("ec2", {"InternalError", "Unavailable"}),
    ("iam", {"InternalFailure", "ServiceUnavailable"}),
    ("cloudwatch", {"InternalFailure", "ServiceUnavailable"}),
    ("dynamodb", {"InternalFailure", "ServiceUnavailable"}),
    ("lambda", {"InternalFailure", "ServiceUnavailable"}),
    ("apigateway", {"InternalFailure", "ServiceUnavailable"}),
    ("s3", {"InternalError", "ServiceUnavailable"}),
]


@pytest.mark.parametrize(("service", "codes"), INTERNAL, ids=[row[0] for row in INTERNAL])
def test_internal_errors_are_5xx_that_botocore_and_aws_retry_retry(fault_proxy, service, codes):
    fault_proxy.internal_errors(1.0)
    answers = set()
    for _ in range(4):
        with pytest.raises(ClientError) as failed:
            one_call(fault_proxy, service)
        response = failed.value.response
        answers.add((response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]))
        assert standard.TransientRetryableChecker().is_retryable(retry_context(failed.value))
        assert AWSRetry.found(response["Error"]["Code"]), response["Error"]
    assert {code for code, _ in answers} <= codes, fault_proxy.summary()
    assert {status for _, status in answers} <= {500, 503}
    assert fault_proxy.injected_kinds == {"internal": 4}


def test_a_standard_mode_client_recovers_from_throttling(local_endpoint):
    with FaultProxy(local_endpoint.url, seed=3) as proxy:
        proxy.throttle(0.3)
        dynamodb = client(proxy, "dynamodb", attempts=10)
        retried = sum(dynamodb.list_tables()["ResponseMetadata"]["RetryAttempts"] for _ in range(6))
    assert proxy.injected_kinds["throttle"] == retried > 0, proxy.summary()
    assert proxy.calls == 6 + retried


def test_a_reset_closes_the_connection_before_the_call_reaches_the_service(fault_proxy, local_endpoint):
    fault_proxy.resets(1.0)
    with pytest.raises(HTTPClientError):
        client(fault_proxy, "dynamodb").create_table(TableName="never", **TABLE)
    assert fault_proxy.injected_kinds == {"reset": 1}
    assert fault_proxy.writes == 1
    assert "never" not in local_endpoint.client("dynamodb").list_tables()["TableNames"]


def test_latency_is_added_to_every_call(fault_proxy):
    fault_proxy.latency(0.3)
    started = time.monotonic()
    one_call(fault_proxy, "dynamodb")
    assert time.monotonic() - started >= 0.3
    assert sum(fault_proxy.injected_kinds.values()) == 0


def test_the_same_seed_draws_the_same_faults_and_the_summary_names_it(local_endpoint):
    def draws(seed):
        proxy = FaultProxy(local_endpoint.url, seed=seed)
        proxy.throttle(0.2)
        proxy.internal_errors(0.1)
        proxy.resets(0.1)
        return [getattr(proxy.decide("ec2", "DescribeVpcs"), "code", None) for _ in range(200)], proxy

    first, proxy = draws(42)
    assert first == draws(42)[0] != draws(43)[0]
    assert {"RequestLimitExceeded", "ConnectionReset"} <= set(first)
    assert "seed=42 calls=200 writes=0" in proxy.summary()
    assert proxy.counts[("ec2", "DescribeVpcs")] == 200
    assert sum(proxy.injected_kinds.values()) == proxy.injected[("ec2", "DescribeVpcs")]


def test_counts_by_service_action_and_write(fault_proxy):
    fault_proxy.fail("dynamodb", "CreateTable", times=1, code="LimitExceededException", message="too many")
    dynamodb = client(fault_proxy, "dynamodb")
    with pytest.raises(ClientError):
        dynamodb.create_table(TableName="t", **TABLE)
    dynamodb.list_tables()
    client(fault_proxy, "cloudwatch").describe_alarms()
    client(fault_proxy, "lambda").list_functions()
    client(fault_proxy, "s3").create_bucket(Bucket="counted")
    assert fault_proxy.writes == 2
    assert fault_proxy.service_writes == {"dynamodb": 1, "s3": 1, "monitoring": 0, "lambda": 0}
    assert fault_proxy.services == {"dynamodb": 2, "monitoring": 1, "lambda": 1, "s3": 1}
    assert fault_proxy.counts[("monitoring", "DescribeAlarms")] == 1
    # REST calls named by the operation of botocore's model whose method and path match
    assert fault_proxy.counts[("lambda", "ListFunctions")] == fault_proxy.counts[("s3", "CreateBucket")] == 1
    assert fault_proxy.injected_kinds == {"scripted": 1}
    assert fault_proxy.injected == {("dynamodb", "CreateTable"): 1}
