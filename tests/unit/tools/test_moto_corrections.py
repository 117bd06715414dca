"""The launcher's corrections to moto: each defect is shown in plain moto and shown fixed behind the launcher.

If a "plain moto" test starts failing after a moto upgrade, moto fixed the defect:
drop the correction from tools/moto_corrections.py.
"""

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

TLS_ONLY_POLICY_TEMPLATE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::{bucket}", "arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


def tls_only_policy(bucket: str, secure_transport: str = "false") -> str:
    text = json.dumps(TLS_ONLY_POLICY_TEMPLATE).replace("{bucket}", bucket)
    return text.replace('"aws:SecureTransport": "false"', f'"aws:SecureTransport": "{secure_transport}"')


def tagged_eip_and_nat(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "eip"}]}]
    )["AllocationId"]
    nat = ec2.create_nat_gateway(
        SubnetId=subnet,
        AllocationId=allocation,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": "nat"}]}],
    )["NatGateway"]["NatGatewayId"]
    return allocation, nat


def tags_of_type(ec2, resource_id: str, resource_type: str) -> list[dict]:
    filters = [{"Name": "resource-id", "Values": [resource_id]}, {"Name": "resource-type", "Values": [resource_type]}]
    return ec2.describe_tags(Filters=filters)["Tags"]


@mock_aws
def test_plain_moto_files_eip_and_nat_tags_under_the_wrong_resource_types():
    ec2 = boto3.client("ec2", region_name="us-east-1")
    allocation, nat = tagged_eip_and_nat(ec2)
    assert tags_of_type(ec2, allocation, "elastic-ip") == []
    assert tags_of_type(ec2, nat, "natgateway") == []


@pytest.mark.parametrize(("index", "resource_type"), [(0, "elastic-ip"), (1, "natgateway")])
def test_launcher_reports_eip_and_nat_tags_under_aws_resource_types(fresh_endpoint, index, resource_type):
    ec2 = fresh_endpoint.client("ec2")
    resource_id = tagged_eip_and_nat(ec2)[index]
    tags = tags_of_type(ec2, resource_id, resource_type)
    assert [(tag["Key"], tag["Value"], tag["ResourceType"]) for tag in tags] == [
        ("Name", "eip" if index == 0 else "nat", resource_type)
    ]


@mock_aws
def test_plain_moto_denies_every_object_call_under_a_tls_only_policy():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="plain")
    s3.put_bucket_policy(Bucket="plain", Policy=tls_only_policy("plain"))
    with pytest.raises(ClientError, match=r"AccessDenied|403"):
        s3.put_object(Bucket="plain", Key="k", Body=b"v")


def test_launcher_allows_object_calls_under_a_tls_only_policy(fresh_endpoint):
    s3 = fresh_endpoint.client("s3")
    s3.create_bucket(Bucket="packages")
    s3.put_bucket_policy(Bucket="packages", Policy=tls_only_policy("packages"))
    s3.put_object(Bucket="packages", Key="k", Body=b"v")
    assert s3.get_object(Bucket="packages", Key="k")["Body"].read() == b"v"


def test_launcher_still_denies_when_the_condition_holds(fresh_endpoint):
    """The loopback endpoint stands for TLS: a Deny on SecureTransport=true must apply."""
    s3 = fresh_endpoint.client("s3")
    s3.create_bucket(Bucket="denied")
    s3.put_bucket_policy(Bucket="denied", Policy=tls_only_policy("denied", secure_transport="true"))
    with pytest.raises(ClientError, match=r"AccessDenied|403"):
        s3.put_object(Bucket="denied", Key="k", Body=b"v")


def test_launcher_still_denies_an_unconditional_deny(fresh_endpoint):
    s3 = fresh_endpoint.client("s3")
    s3.create_bucket(Bucket="locked")
    policy = json.loads(tls_only_policy("locked"))
    del policy["Statement"][0]["Condition"]
    s3.put_bucket_policy(Bucket="locked", Policy=json.dumps(policy))
    with pytest.raises(ClientError, match=r"AccessDenied|403"):
        s3.put_object(Bucket="locked", Key="k", Body=b"v")


def lambda_package(body: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", body)
    return buffer.getvalue()


def function_from_s3(client_for, suffix: str):
    """A function whose first and second packages are S3 objects; returns (lambda client, packages)."""
    iam, s3, lambda_ = client_for("iam"), client_for("s3"), client_for("lambda")
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    role = iam.create_role(RoleName=f"code-{suffix}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    bucket = f"packages-{suffix}"
    s3.create_bucket(Bucket=bucket)
    packages = {key: lambda_package(f"VALUE = {key!r}\n") for key in ("v1.zip", "v2.zip")}
    for key, body in packages.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    lambda_.create_function(
        FunctionName=f"code-{suffix}",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"S3Bucket": bucket, "S3Key": "v1.zip"},
    )
    return lambda_, packages


@mock_aws
def test_plain_moto_gives_a_code_location_nothing_serves_and_versions_forget_their_key():
    lambda_, _ = function_from_s3(lambda service: boto3.client(service, region_name="us-east-1"), "plain")
    location = lambda_.get_function(FunctionName="code-plain")["Code"]["Location"]
    assert location.startswith("https://awslambda-us-east-1-tasks.s3.")

    lambda_.publish_version(FunctionName="code-plain")
    lambda_.update_function_code(FunctionName="code-plain", S3Bucket="packages-plain", S3Key="v2.zip")
    version_1 = lambda_.get_function(FunctionName="code-plain", Qualifier="1")["Code"]["Location"]
    assert version_1.endswith("/v2.zip")  # AWS serves version 1's own package, v1.zip


def test_launcher_code_location_downloads_each_version_s_package(fresh_endpoint):
    import urllib.request

    lambda_, packages = function_from_s3(fresh_endpoint.client, "served")
    lambda_.publish_version(FunctionName="code-served")
    lambda_.update_function_code(FunctionName="code-served", S3Bucket="packages-served", S3Key="v2.zip")
    lambda_.publish_version(FunctionName="code-served")

    for qualifier, key in (("1", "v1.zip"), ("2", "v2.zip"), ("$LATEST", "v2.zip")):
        location = lambda_.get_function(FunctionName="code-served", Qualifier=qualifier)["Code"]["Location"]
        assert location.startswith(fresh_endpoint.url)
        with urllib.request.urlopen(location, timeout=10) as response:
            assert response.read() == packages[key], qualifier
