"""The network role against a private local endpoint: check, apply, check, apply, and what lands."""

import json

import pytest
from playbook_runner import converge_site, read_outputs, run_playbook

PREFIX = "tasks-api-local"


def by_name(resources: list[dict]) -> dict[str, dict]:
    return {tag["Value"]: r for r in resources for tag in r.get("Tags", []) if tag["Key"] == "Name"}


def stack_filter(prefix: str) -> list[dict]:
    return [{"Name": "tag:Environment", "Values": [prefix.rsplit("-", 1)[1]]}]


def converge(endpoint, tmp_path, *args, **extra_vars):
    return converge_site(endpoint.url, tmp_path, "network", *args, **extra_vars)


def test_check_apply_check_apply(fresh_endpoint, tmp_path):
    ec2 = fresh_endpoint.client("ec2")

    dry_run = converge(fresh_endpoint, tmp_path, "--check", "--diff")
    assert dry_run.returncode == 0, dry_run.describe()
    assert dry_run.changed > 0
    assert "Report the network that check mode would create" in dry_run.changed_tasks()
    assert ec2.describe_vpcs(Filters=stack_filter(PREFIX))["Vpcs"] == [], "check mode created a VPC"

    first = converge(fresh_endpoint, tmp_path)
    assert first.returncode == 0, first.describe()
    assert first.changed > 0
    outputs_after_first = read_outputs(tmp_path)

    check_converged = converge(fresh_endpoint, tmp_path, "--check", "--diff")
    assert check_converged.returncode == 0, check_converged.describe()
    assert check_converged.changed == 0, check_converged.changed_tasks()

    second = converge(fresh_endpoint, tmp_path)
    assert second.returncode == 0, second.describe()
    assert second.changed == 0, second.changed_tasks()
    assert read_outputs(tmp_path) == outputs_after_first

    assert_network(ec2, PREFIX, outputs_after_first["network"], nat_count=1)

    smoke = run_playbook(
        fresh_endpoint.url, "playbooks/smoke.yml", "--tags", "network", extra_vars={"stack_outputs_dir": str(tmp_path)}
    )
    assert smoke.returncode == 0, smoke.describe()
    s3_endpoint = outputs_after_first["network"]["gateway_endpoint_ids"]["s3"]
    ec2.delete_vpc_endpoints(VpcEndpointIds=[s3_endpoint])
    broken = run_playbook(
        fresh_endpoint.url, "playbooks/smoke.yml", "--tags", "network", extra_vars={"stack_outputs_dir": str(tmp_path)}
    )
    assert broken.returncode != 0
    assert any("Gateway endpoints" in message for message in broken.failure_messages()), broken.describe()


def test_one_nat_gateway_per_az(fresh_endpoint, tmp_path):
    ec2 = fresh_endpoint.client("ec2")
    first = converge(fresh_endpoint, tmp_path, stack_environment="ha", network_nat_per_az=True)
    assert first.returncode == 0, first.describe()
    again = converge(fresh_endpoint, tmp_path, stack_environment="ha", network_nat_per_az=True)
    assert again.changed == 0, again.changed_tasks()
    outputs = read_outputs(tmp_path, "ha")
    assert_network(ec2, "tasks-api-ha", outputs["network"], nat_count=2)


@pytest.mark.parametrize(
    ("extra_vars", "named"),
    [
        ({"network_vpc_cidr": "10.0.0.0/33"}, "network_vpc_cidr is '10.0.0.0/33'"),
        ({"network_az_count": 0}, "network_az_count is 0"),
        ({"network_az_count": "two"}, "network_az_count"),
        ({"network_subnet_newbits": 20}, "network_subnet_newbits is 20"),
        ({"stack_environment": "Prod!"}, "stack_environment is 'Prod!'"),
        ({"stack_extra_tags": {"ManagedBy": "me"}}, "stack_extra_tags has bad keys ['ManagedBy']"),
    ],
)
def test_bad_input_fails_before_any_change(fresh_endpoint, tmp_path, extra_vars, named):
    ec2 = fresh_endpoint.client("ec2")
    vpcs_before = ec2.describe_vpcs()["Vpcs"]
    run = converge(fresh_endpoint, tmp_path, **extra_vars)
    assert run.returncode != 0
    assert any(named in message for message in run.failure_messages()), run.failure_messages()
    assert ec2.describe_vpcs()["Vpcs"] == vpcs_before
    assert ec2.describe_addresses()["Addresses"] == []


def test_changing_the_cidr_of_an_existing_vpc_is_refused(fresh_endpoint, tmp_path):
    ec2 = fresh_endpoint.client("ec2")
    assert converge(fresh_endpoint, tmp_path).returncode == 0
    run = converge(fresh_endpoint, tmp_path, network_vpc_cidr="10.1.0.0/16")
    assert run.returncode != 0
    assert any("primary CIDR cannot change" in message for message in run.failure_messages())
    assert len(ec2.describe_vpcs(Filters=stack_filter(PREFIX))["Vpcs"]) == 1


def assert_network(ec2, prefix, published, nat_count):
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"{prefix}-vpc"]}])["Vpcs"]
    assert len(vpcs) == 1
    vpc = vpcs[0]
    vpc_id = vpc["VpcId"]
    assert published["vpc_id"] == vpc_id
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
    assert tags["ManagedBy"] == "ansible" and tags["Application"] == "tasks-api"
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        key = attribute[0].upper() + attribute[1:]
        assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"] is True
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]

    subnets = by_name(ec2.describe_subnets(Filters=in_vpc)["Subnets"])
    assert {name: s["CidrBlock"] for name, s in subnets.items()} == {
        f"{prefix}-public-us-east-1a": "10.0.0.0/20",
        f"{prefix}-public-us-east-1b": "10.0.16.0/20",
        f"{prefix}-private-us-east-1a": "10.0.128.0/20",
        f"{prefix}-private-us-east-1b": "10.0.144.0/20",
    }
    assert {s["AvailabilityZone"] for s in subnets.values()} == {"us-east-1a", "us-east-1b"}
    assert all(s["MapPublicIpOnLaunch"] == ("-public-" in name) for name, s in subnets.items())

    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    (igw,) = igws["InternetGateways"]

    nats = [n for n in ec2.describe_nat_gateways(Filter=in_vpc)["NatGateways"] if n["State"] == "available"]
    assert len(nats) == nat_count
    public_subnet_ids = {s["SubnetId"] for name, s in subnets.items() if "-public-" in name}
    assert {n["SubnetId"] for n in nats} <= public_subnet_ids
    addresses = ec2.describe_addresses()["Addresses"]
    assert len(addresses) == nat_count
    assert {a["AllocationId"] for a in addresses} == {n["NatGatewayAddresses"][0]["AllocationId"] for n in nats}

    tables = by_name(ec2.describe_route_tables(Filters=in_vpc)["RouteTables"])
    public = tables[f"{prefix}-public"]
    assert default_route(public) == ("GatewayId", igw["InternetGatewayId"])
    assert associated_subnets(public) == public_subnet_ids
    private_tables = [t for name, t in tables.items() if name.startswith(f"{prefix}-private")]
    assert len(private_tables) == nat_count
    assert {default_route(t) for t in private_tables} == {("NatGatewayId", n["NatGatewayId"]) for n in nats}
    private_subnet_ids = {s["SubnetId"] for name, s in subnets.items() if "-private-" in name}
    assert set().union(*(associated_subnets(t) for t in private_tables)) == private_subnet_ids

    endpoints = ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"]
    live = [e for e in endpoints if e["State"].lower() == "available"]
    assert sorted(e["ServiceName"] for e in live) == ["com.amazonaws.us-east-1.dynamodb", "com.amazonaws.us-east-1.s3"]
    for endpoint in live:
        assert endpoint["VpcEndpointType"] == "Gateway"
        assert set(endpoint["RouteTableIds"]) == {t["RouteTableId"] for t in private_tables}
        policy = json.loads(endpoint["PolicyDocument"])
        assert policy["Statement"][0]["Condition"]["StringEquals"]["aws:ResourceAccount"] == "123456789012"

    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]}
    lambda_group = groups[f"{prefix}-lambda"]
    assert published["lambda_security_group_id"] == lambda_group["GroupId"]
    assert lambda_group["IpPermissions"] == []
    assert [(p["IpProtocol"], p["FromPort"], p["ToPort"]) for p in lambda_group["IpPermissionsEgress"]] == [
        ("tcp", 443, 443)
    ]
    assert groups["default"]["IpPermissions"] == [] and groups["default"]["IpPermissionsEgress"] == []


def default_route(table):
    (route,) = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    return next((key, route[key]) for key in ("GatewayId", "NatGatewayId") if key in route)


def associated_subnets(table):
    return {a["SubnetId"] for a in table["Associations"] if a.get("SubnetId")}


def test_changing_tags_updates_resources_in_place(fresh_endpoint, tmp_path):
    ec2 = fresh_endpoint.client("ec2")
    assert converge(fresh_endpoint, tmp_path).returncode == 0
    before = resource_ids(ec2)

    retagged = converge(fresh_endpoint, tmp_path, stack_extra_tags={"CostCenter": "cc-42"})
    assert retagged.returncode == 0, retagged.describe()
    assert retagged.changed > 0
    assert resource_ids(ec2) == before, "a change of tags must not create resources"
    tagged = {
        tag["ResourceId"]
        for tag in ec2.describe_tags(Filters=[{"Name": "key", "Values": ["CostCenter"]}])["Tags"]
        if tag["Value"] == "cc-42"
    }
    assert set().union(*before.values()) <= tagged

    again = converge(fresh_endpoint, tmp_path, stack_extra_tags={"CostCenter": "cc-42"})
    assert again.changed == 0, again.changed_tasks()


def resource_ids(ec2) -> dict[str, set[str]]:
    """Ids of the stack's resources, by kind (the default VPC's are left out)."""
    vpc_id = ec2.describe_vpcs(Filters=stack_filter(PREFIX))["Vpcs"][0]["VpcId"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    return {
        "vpc": {vpc_id},
        "subnets": {s["SubnetId"] for s in ec2.describe_subnets(Filters=in_vpc)["Subnets"]},
        "route_tables": {
            t["RouteTableId"] for t in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"] if t["Tags"]
        },
        "endpoints": {e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"]},
        "nat_gateways": {n["NatGatewayId"] for n in ec2.describe_nat_gateways(Filter=in_vpc)["NatGateways"]},
        "addresses": {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]},
        "security_groups": {
            g["GroupId"]
            for g in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
            if g["GroupName"] != "default"
        },
        "internet_gateways": {
            g["InternetGatewayId"]
            for g in ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])[
                "InternetGateways"
            ]
        },
    }
