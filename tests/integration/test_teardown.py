"""playbooks/teardown.yml against a private local endpoint: the guard, check mode, an interrupted run finished by a
re-run, the data kept by default and purged when asked, deletion protection, and DependencyViolation retried."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from types import SimpleNamespace

import pytest
from aws_calls import recorded_calls, writes
from botocore.exceptions import ClientError
from fault_proxy import FaultProxy
from playbook_runner import ANSIBLE_PLAYBOOK, REPO_ROOT, converge_site, playbook_env, run_playbook
from process_tree import kill_tree

PREFIX = "tasks-api-local"
TABLE = f"{PREFIX}-tasks"
BUCKET = f"{PREFIX}-123456789012-us-east-1"
PARAMETER = "/tasks-api/local/api-key"
FUNCTIONS = [f"{PREFIX}-{name}" for name in ("list", "create", "get", "update", "delete")]
CONFIRMED = {"teardown_confirm": "local"}
# Short waits: moto deletes at once; the retries below are the injected faults'.
FAST = {**CONFIRMED, "teardown_retry_delay": 1}


def teardown(endpoint_url, *args, **extra_vars):
    return run_playbook(endpoint_url, "teardown.yml", *args, extra_vars=extra_vars or None)


def messages(run) -> str:
    """Every debug message and failure message of a run, as one text."""
    texts = []
    for play in run.output.get("plays", []):
        for task in play["tasks"]:
            for result in task["hosts"].values():
                texts.append(json.dumps(result.get("msg", "")))
    return "\n".join(texts)


def stack_resources(endpoint) -> dict:
    """What of the stack exists, layer by layer (names or ids), from the endpoint itself."""
    ec2, cloudwatch = endpoint.client("ec2"), endpoint.client("cloudwatch")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"{PREFIX}-vpc"]}])["Vpcs"]
    vpc_filter = [{"Name": "vpc-id", "Values": [vpc["VpcId"] for vpc in vpcs]}]
    nats = ec2.describe_nat_gateways(Filters=vpc_filter)["NatGateways"] if vpcs else []
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix=f"{PREFIX}-", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    keys = endpoint.client("kms").list_aliases()["Aliases"]
    key_ids = [alias["TargetKeyId"] for alias in keys if alias["AliasName"] == f"alias/{PREFIX}-alarms"]
    key_states = [endpoint.client("kms").describe_key(KeyId=key)["KeyMetadata"]["KeyState"] for key in key_ids]
    return {
        "vpcs": [vpc["VpcId"] for vpc in vpcs],
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets(Filters=vpc_filter)["Subnets"]] if vpcs else [],
        "nat_gateways": [nat["NatGatewayId"] for nat in nats if nat["State"] != "deleted"],
        "eips": [
            address["AllocationId"]
            for address in ec2.describe_addresses()["Addresses"]
            if any(tag["Value"].startswith(f"{PREFIX}-nat-") for tag in address.get("Tags", []))
        ],
        "igws": [
            igw["InternetGatewayId"]
            for igw in ec2.describe_internet_gateways()["InternetGateways"]
            if any(tag["Value"] == f"{PREFIX}-igw" for tag in igw.get("Tags", []))
        ],
        "security_groups": [
            group["GroupId"]
            for group in ec2.describe_security_groups()["SecurityGroups"]
            if group["GroupName"] == f"{PREFIX}-lambda"
        ],
        "endpoints": [
            endpoint_["VpcEndpointId"]
            for endpoint_ in ec2.describe_vpc_endpoints()["VpcEndpoints"]
            if endpoint_["State"] != "deleted" and endpoint_["VpcId"] in [vpc["VpcId"] for vpc in vpcs]
        ],
        "roles": [
            role["RoleName"]
            for role in endpoint.client("iam").list_roles()["Roles"]
            if role["RoleName"].startswith(f"{PREFIX}-")
        ],
        "functions": functions_left(endpoint),
        "log_groups": [
            group["logGroupName"]
            for group in endpoint.client("logs").describe_log_groups()["logGroups"]
            if PREFIX in group["logGroupName"]
        ],
        "apis": [api["id"] for api in endpoint.client("apigateway").get_rest_apis()["items"] if api["name"] == PREFIX],
        "usage_plans": [plan["id"] for plan in endpoint.client("apigateway").get_usage_plans()["items"]],
        "api_keys": [key["id"] for key in endpoint.client("apigateway").get_api_keys()["items"]],
        "alarms": [alarm["AlarmName"] for alarm in alarms["MetricAlarms"] + alarms["CompositeAlarms"]],
        "dashboards": [
            board["DashboardName"]
            for board in cloudwatch.list_dashboards()["DashboardEntries"]
            if board["DashboardName"] == PREFIX
        ],
        "topics": [topic["TopicArn"] for topic in endpoint.client("sns").list_topics()["Topics"]],
        "live_keys": [state for state in key_states if state != "PendingDeletion"],
    }


def functions_left(endpoint) -> list[str]:
    names = [function["FunctionName"] for function in endpoint.client("lambda").list_functions()["Functions"]]
    return [name for name in names if name in FUNCTIONS]


def data_layer(endpoint) -> dict:
    """The table's items, the bucket's object versions and delete markers, and whether the parameter exists."""
    found = {"table_items": None, "bucket_entries": None, "parameter": False}
    with contextlib.suppress(ClientError):
        found["table_items"] = endpoint.client("dynamodb").scan(TableName=TABLE)["Count"]
    with contextlib.suppress(ClientError):
        versions = endpoint.client("s3").list_object_versions(Bucket=BUCKET)
        found["bucket_entries"] = len(versions.get("Versions", [])) + len(versions.get("DeleteMarkers", []))
    with contextlib.suppress(ClientError):
        endpoint.client("ssm").get_parameter(Name=PARAMETER)
        found["parameter"] = True
    return found


def add_data(endpoint) -> None:
    """An item in the table, and a bucket object with two versions and a delete marker besides the packages."""
    endpoint.client("dynamodb").put_item(TableName=TABLE, Item={"id": {"S": "kept"}, "title": {"S": "Keep me"}})
    s3 = endpoint.client("s3")
    s3.put_object(Bucket=BUCKET, Key="notes.txt", Body=b"one")
    s3.put_object(Bucket=BUCKET, Key="notes.txt", Body=b"two")
    s3.delete_object(Bucket=BUCKET, Key="notes.txt")


def nothing_left(resources: dict) -> dict:
    return {kind: found for kind, found in resources.items() if found}


@pytest.fixture(scope="module")
def stack(local_endpoint, tmp_path_factory):
    """The whole stack converged once on an emptied endpoint, with some data in it."""
    local_endpoint.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    converged = converge_site(local_endpoint.url, outputs, "all")
    assert converged.returncode == 0, converged.describe()
    add_data(local_endpoint)
    return SimpleNamespace(endpoint=local_endpoint, before=stack_resources(local_endpoint))


@pytest.mark.parametrize(
    "confirmation",
    [None, "locla", "prod"],
    ids=["missing", "typo", "another-environment"],
)
def test_refuses_without_the_environment_s_name_and_writes_nothing(stack, confirmation):
    extra_vars = {} if confirmation is None else {"teardown_confirm": confirmation}
    with recorded_calls(stack.endpoint.url) as calls:
        run = teardown(stack.endpoint.url, **extra_vars)
    assert run.returncode != 0, run.describe()
    assert "teardown_confirm" in messages(run)
    assert "-e teardown_confirm=local" in messages(run)
    assert writes(calls) == []
    assert stack_resources(stack.endpoint) == stack.before


def test_check_mode_reports_what_it_would_delete_and_writes_nothing(stack):
    with recorded_calls(stack.endpoint.url) as calls:
        run = teardown(stack.endpoint.url, "--check", **CONFIRMED)
    assert run.returncode == 0, run.describe()
    report = messages(run)
    for name in (f"{PREFIX}-api-unhealthy", f"{PREFIX}-alarms", *FUNCTIONS, f"{PREFIX}-vpc", TABLE, BUCKET):
        assert name in report, name
    assert "kept (data; teardown_purge_data deletes it)" in report
    assert run.changed > 0
    assert writes(calls) == []
    assert stack_resources(stack.endpoint) == stack.before


def test_an_interrupted_teardown_is_finished_by_a_re_run(stack):
    """Killed (SIGKILL, the whole process tree) once the functions are gone, then run again to completion."""
    command = [str(ANSIBLE_PLAYBOOK), "teardown.yml", "-i", "inventories/local", "-e", json.dumps(CONFIRMED)]
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=playbook_env(stack.endpoint.url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600
        while functions_left(stack.endpoint) and process.poll() is None:
            assert time.monotonic() < deadline, "the functions were not deleted in time"
            time.sleep(0.5)
    finally:
        if process.poll() is None:
            kill_tree(process.pid)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the teardown ended before it could be interrupted"
    half_way = stack_resources(stack.endpoint)
    assert half_way["functions"] == [] and half_way["vpcs"], half_way

    run = teardown(stack.endpoint.url, **FAST)
    assert run.returncode == 0, run.describe()
    assert run.changed > 0


def test_teardown_removes_the_stack_and_keeps_the_data(stack):
    assert nothing_left(stack_resources(stack.endpoint)) == {}
    data = data_layer(stack.endpoint)
    assert data["table_items"] == 1
    assert data["bucket_entries"] >= 4  # the package, two versions of notes.txt and a delete marker
    assert data["parameter"] is True


def test_a_second_teardown_changes_nothing(stack):
    with recorded_calls(stack.endpoint.url) as calls:
        run = teardown(stack.endpoint.url, **FAST)
    assert run.returncode == 0, run.describe()
    assert run.changed == 0, run.changed_tasks()
    assert writes(calls) == []


def test_purge_removes_the_data_too(stack):
    run = teardown(stack.endpoint.url, teardown_purge_data=True, **FAST)
    assert run.returncode == 0, run.describe()
    assert data_layer(stack.endpoint) == {"table_items": None, "bucket_entries": None, "parameter": False}
    assert nothing_left(stack_resources(stack.endpoint)) == {}

    again = teardown(stack.endpoint.url, teardown_purge_data=True, **FAST)
    assert (again.returncode, again.changed) == (0, 0), again.describe()


@pytest.fixture(scope="module")
def protected(local_endpoint, tmp_path_factory):
    """The network and data layers, the table under deletion protection, torn down with purge through a proxy
    that refuses the security group's and the subnets' deletion with DependencyViolation three times each."""
    local_endpoint.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    converged = converge_site(local_endpoint.url, outputs, "network,storage", storage_table_deletion_protection=True)
    assert converged.returncode == 0, converged.describe()
    add_data(local_endpoint)
    with FaultProxy(local_endpoint.url) as proxy:
        proxy.fail(
            "ec2",
            "DeleteSecurityGroup",
            times=3,
            code="DependencyViolation",
            message="resource sg has a dependent object",
        )
        proxy.fail(
            "ec2",
            "DeleteSubnet",
            times=3,
            code="DependencyViolation",
            message="The subnet has dependencies and cannot be deleted.",
        )
        run = teardown(proxy.url, teardown_purge_data=True, **FAST)
    return SimpleNamespace(endpoint=local_endpoint, run=run, proxy=proxy)


def test_dependency_violations_are_retried_until_the_teardown_completes(protected):
    assert protected.run.returncode == 0, protected.run.describe()
    counts, injected = protected.proxy.counts, protected.proxy.injected
    assert injected[("ec2", "DeleteSecurityGroup")] == 3
    assert injected[("ec2", "DeleteSubnet")] == 3
    assert counts[("ec2", "DeleteSecurityGroup")] == 1 + 3
    assert counts[("ec2", "DeleteSubnet")] == 4 + 3  # four subnets, the first refused three times
    assert nothing_left(stack_resources(protected.endpoint)) == {}


def test_a_protected_table_is_kept_with_its_items_and_the_way_to_lift_the_protection(protected):
    assert protected.run.returncode == 0, protected.run.describe()
    data = data_layer(protected.endpoint)
    assert data["table_items"] == 1
    assert (data["bucket_entries"], data["parameter"]) == (None, False)
    report = messages(protected.run)
    assert "storage_table_deletion_protection=false" in report
    assert f"aws dynamodb update-table --table-name {TABLE} --no-deletion-protection-enabled" in report
