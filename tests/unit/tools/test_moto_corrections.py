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
