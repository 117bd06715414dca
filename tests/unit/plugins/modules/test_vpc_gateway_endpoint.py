"""End-to-end tests of the vpc_gateway_endpoint module against the private local endpoint."""

import json
from types import SimpleNamespace

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.serverless.tasks_api.plugins.modules import vpc_gateway_endpoint

SERVICE = "com.amazonaws.us-east-1.s3"
NAME = "tasks-api-test-s3"
DEFAULT_POLICY = {
    "Version": "2008-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}
BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::tasks-bucket/*"}
    ],
}
TABLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::other/*"}],
}
DEAD_STATES = ("deleted", "deleting", "failed", "rejected", "expired")


@pytest.fixture
def network(fresh_endpoint):
    """A VPC with three route tables on an emptied local endpoint."""
    ec2 = fresh_endpoint.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    route_tables = [ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"] for _number in range(3)]
    return SimpleNamespace(ec2=ec2, vpc_id=vpc_id, route_tables=route_tables)


@pytest.fixture
def run(fresh_endpoint, network, capsys):
    """Run the module's main() with the given args; return the JSON result it printed."""

    def run_module(check_mode=False, diff=False, **args):
        module_args = {
            "endpoint_url": fresh_endpoint.url,
            "access_key": "testing",
            "secret_key": "testing",
            "region": "us-east-1",
            "vpc_id": network.vpc_id,
            "service": SERVICE,
            "name": NAME,
            "_ansible_check_mode": check_mode,
            "_ansible_diff": diff,
            **args,
        }
        with patch_module_args(module_args), pytest.raises(SystemExit):
            vpc_gateway_endpoint.main()
        return json.loads(capsys.readouterr().out)

    return run_module


def live_endpoints(network):
    endpoints = network.ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [network.vpc_id]}])
    return [e for e in endpoints["VpcEndpoints"] if e["State"].lower() not in DEAD_STATES]


def only_endpoint(network):
    endpoints = live_endpoints(network)
    assert len(endpoints) == 1, [e["VpcEndpointId"] for e in endpoints]
    return endpoints[0]


def tags_of(endpoint):
    return {tag["Key"]: tag["Value"] for tag in endpoint.get("Tags", [])}


def create_directly(network, name=NAME):
    """Create a Gateway endpoint with boto3, bypassing the module."""
    return network.ec2.create_vpc_endpoint(
        VpcId=network.vpc_id,
        ServiceName=SERVICE,
        VpcEndpointType="Gateway",
        TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "Name", "Value": name}]}],
    )["VpcEndpoint"]["VpcEndpointId"]


def test_create_makes_endpoint_with_route_tables_policy_and_tags(run, network):
    result = run(route_table_ids=network.route_tables[:2], policy=BUCKET_POLICY, tags={"Env": "test"})

    assert result["changed"] is True
    endpoint = only_endpoint(network)
    assert endpoint["VpcEndpointType"] == "Gateway"
    assert endpoint["ServiceName"] == SERVICE
    assert sorted(endpoint["RouteTableIds"]) == sorted(network.route_tables[:2])
    assert json.loads(endpoint["PolicyDocument"]) == BUCKET_POLICY
    assert tags_of(endpoint) == {"Name": NAME, "Env": "test"}
    returned = result["vpc_endpoint"]
    assert returned["vpc_endpoint_id"] == endpoint["VpcEndpointId"]
    assert returned["tags"] == {"Name": NAME, "Env": "test"}
    assert sorted(returned["route_table_ids"]) == sorted(network.route_tables[:2])


def test_create_without_policy_gets_full_access_default(run, network):
    run(route_table_ids=network.route_tables[:1])

    assert json.loads(only_endpoint(network)["PolicyDocument"]) == DEFAULT_POLICY


def test_second_identical_run_is_unchanged(run, network):
    args = {"route_table_ids": network.route_tables[:2], "policy": BUCKET_POLICY, "tags": {"Env": "test"}}
    first = run(**args)
    second = run(**args)

    assert second["changed"] is False
    assert second["vpc_endpoint"]["vpc_endpoint_id"] == first["vpc_endpoint"]["vpc_endpoint_id"]
    assert len(live_endpoints(network)) == 1


def test_route_table_order_and_duplicates_do_not_matter(run, network):
    first, second = network.route_tables[:2]
    run(route_table_ids=[first, second])

    assert run(route_table_ids=[second, first, second])["changed"] is False


def test_check_mode_create_writes_nothing(run, network):
    result = run(check_mode=True, route_table_ids=network.route_tables[:1], tags={"Env": "test"})

    assert result["changed"] is True
    assert result["vpc_endpoint"] == {}
    assert live_endpoints(network) == []


def test_check_mode_update_writes_nothing(run, network):
    run(route_table_ids=network.route_tables[:1], tags={"Env": "test"})

    result = run(check_mode=True, route_table_ids=network.route_tables[1:], policy=BUCKET_POLICY, tags={})

    assert result["changed"] is True
    endpoint = only_endpoint(network)
    assert endpoint["RouteTableIds"] == network.route_tables[:1]
    assert json.loads(endpoint["PolicyDocument"]) == DEFAULT_POLICY
    assert tags_of(endpoint) == {"Name": NAME, "Env": "test"}


def test_route_table_change_modifies_the_same_endpoint(run, network):
    created = run(route_table_ids=network.route_tables[:2])

    result = run(route_table_ids=network.route_tables[1:])

    assert result["changed"] is True
    endpoint = only_endpoint(network)
    assert endpoint["VpcEndpointId"] == created["vpc_endpoint"]["vpc_endpoint_id"]
    assert sorted(endpoint["RouteTableIds"]) == sorted(network.route_tables[1:])
    assert sorted(result["vpc_endpoint"]["route_table_ids"]) == sorted(network.route_tables[1:])


def test_empty_route_table_list_detaches_all(run, network):
    run(route_table_ids=network.route_tables[:2])

    assert run(route_table_ids=[])["changed"] is True
    assert only_endpoint(network)["RouteTableIds"] == []


def test_policy_change_updates_the_policy(run, network):
    created = run(route_table_ids=network.route_tables[:1], policy=BUCKET_POLICY)

    result = run(route_table_ids=network.route_tables[:1], policy=TABLE_POLICY)

    assert result["changed"] is True
    endpoint = only_endpoint(network)
    assert endpoint["VpcEndpointId"] == created["vpc_endpoint"]["vpc_endpoint_id"]
    assert endpoint["RouteTableIds"] == network.route_tables[:1]
    assert json.loads(endpoint["PolicyDocument"]) == TABLE_POLICY
    assert run(route_table_ids=network.route_tables[:1], policy=TABLE_POLICY)["changed"] is False


def test_policy_given_as_json_string_is_compared_by_content(run, network):
    run(policy=BUCKET_POLICY)

    assert run(policy=json.dumps(BUCKET_POLICY, indent=4, sort_keys=True))["changed"] is False


def test_omitted_policy_resets_to_full_access_default(run, network):
    run(route_table_ids=network.route_tables[:1], policy=BUCKET_POLICY)

    result = run(route_table_ids=network.route_tables[:1])

    assert result["changed"] is True
    assert json.loads(only_endpoint(network)["PolicyDocument"]) == DEFAULT_POLICY
    assert run(route_table_ids=network.route_tables[:1])["changed"] is False


def test_tags_are_purged_but_name_is_kept(run, network):
    run(tags={"Env": "test", "Team": "api"})

    result = run(tags={"Env": "prod"})

    assert result["changed"] is True
    assert tags_of(only_endpoint(network)) == {"Name": NAME, "Env": "prod"}
    assert result["vpc_endpoint"]["tags"] == {"Name": NAME, "Env": "prod"}


def test_empty_tags_with_purge_leave_only_name(run, network):
    run(tags={"Env": "test"})

    assert run(tags={})["changed"] is True
    assert tags_of(only_endpoint(network)) == {"Name": NAME}


def test_tags_without_purge_are_added(run, network):
    run(tags={"Env": "test"})

    assert run(tags={"Team": "api"}, purge_tags=False)["changed"] is True
    assert tags_of(only_endpoint(network)) == {"Name": NAME, "Env": "test", "Team": "api"}


def test_omitted_tags_leave_tags_alone(run, network):
    run(tags={"Env": "test"})

    assert run()["changed"] is False
    assert tags_of(only_endpoint(network)) == {"Name": NAME, "Env": "test"}


def test_name_in_tags_cannot_rename_the_endpoint(run, network):
    run(tags={"Name": "something-else", "Env": "test"})

    assert tags_of(only_endpoint(network)) == {"Name": NAME, "Env": "test"}
    assert run(tags={"Env": "test"})["changed"] is False


def test_diff_on_create(run, network):
    result = run(diff=True, route_table_ids=network.route_tables[1::-1], tags={"Env": "test"})

    assert result["diff"] == {
        "before": {},
        "after": {
            "route_table_ids": sorted(network.route_tables[:2]),
            "policy": DEFAULT_POLICY,
            "tags": {"Name": NAME, "Env": "test"},
        },
    }


def test_diff_on_update(run, network):
    run(route_table_ids=network.route_tables[:1], tags={"Env": "test", "Team": "api"})

    result = run(diff=True, route_table_ids=network.route_tables[1:], policy=BUCKET_POLICY, tags={"Env": "prod"})

    assert result["diff"] == {
        "before": {
            "route_table_ids": network.route_tables[:1],
            "policy": DEFAULT_POLICY,
            "tags": {"Name": NAME, "Env": "test", "Team": "api"},
        },
        "after": {
            "route_table_ids": sorted(network.route_tables[1:]),
            "policy": BUCKET_POLICY,
            "tags": {"Name": NAME, "Env": "prod"},
        },
    }


def test_no_diff_without_diff_mode(run, network):
    assert "diff" not in run(route_table_ids=network.route_tables[:1])


def test_absent_deletes_then_is_unchanged(run, network):
    run(route_table_ids=network.route_tables[:1])

    deleted = run(state="absent", diff=True)
    again = run(state="absent")

    assert deleted["changed"] is True
    assert deleted["diff"]["after"] == {}
    assert deleted["diff"]["before"]["route_table_ids"] == network.route_tables[:1]
    assert live_endpoints(network) == []
    assert again["changed"] is False
    assert "failed" not in again


def test_absent_in_check_mode_keeps_the_endpoint(run, network):
    run(route_table_ids=network.route_tables[:1])

    assert run(state="absent", check_mode=True)["changed"] is True
    assert len(live_endpoints(network)) == 1


def test_absent_when_never_created_is_unchanged(run, network):
    result = run(state="absent")

    assert result["changed"] is False
    assert "failed" not in result


def test_present_after_absent_creates_a_new_endpoint(run, network):
    first = run(route_table_ids=network.route_tables[:1])["vpc_endpoint"]["vpc_endpoint_id"]
    run(state="absent")

    result = run(route_table_ids=network.route_tables[:1])

    assert result["changed"] is True
    assert only_endpoint(network)["VpcEndpointId"] not in (first, None)


def test_endpoint_with_another_name_is_left_alone(run, network):
    other = create_directly(network, name="someone-else")

    result = run(route_table_ids=network.route_tables[:1])

    assert result["changed"] is True
    assert result["vpc_endpoint"]["vpc_endpoint_id"] != other
    assert len(live_endpoints(network)) == 2


def test_two_endpoints_with_the_same_name_fail_naming_both(run, network):
    ids = [create_directly(network), create_directly(network)]

    result = run(route_table_ids=network.route_tables[:1])

    assert result["failed"] is True
    assert all(endpoint_id in result["msg"] for endpoint_id in ids)
    assert result["vpc_endpoint_ids"] == sorted(ids)
    assert len(live_endpoints(network)) == 2


def test_invalid_policy_json_fails_without_writing(run, network):
    result = run(policy="{not json")

    assert result["failed"] is True
    assert "policy is not valid JSON" in result["msg"]
    assert live_endpoints(network) == []


def test_unknown_route_table_fails_with_actionable_message(run, network):
    result = run(route_table_ids=["rtb-0000000000000000"])

    assert result["failed"] is True
    assert "route tables belong to the VPC" in result["msg"]
    assert "InvalidRouteTableID.NotFound" in json.dumps(result)
