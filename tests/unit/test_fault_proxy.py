"""The fault proxy forwards to the local endpoint, answers injected errors in AWS's shapes, and counts calls."""

import threading

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from fault_proxy import FaultProxy


def client(proxy, service):
    import boto3

    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=proxy.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
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
