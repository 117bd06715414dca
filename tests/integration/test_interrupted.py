"""Interrupted runs: a converge killed (SIGKILL) right after a write, then re-run, leaves no duplicate.

For each kill point (a write call and its occurrence number) a fresh converge of site.yml runs through
the fault proxy. The proxy's on_forwarded hook kills the playbook and every process it started (its
workers run in sessions of their own) when that call's answer is back from the endpoint, before the
module reads it: the write happened, Ansible never learned its result. Then site.yml runs to completion,
the account is read back with boto3 (one of everything the stack owns, no orphan Elastic IP, ENI or KMS
key), the smoke checks pass, and one more run changes nothing.

The two or three most telling points run in `make test`; the others are marked `faults`.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fault_proxy import FaultProxy
from local_front import Front
from playbook_runner import ANSIBLE_PLAYBOOK, REPO_ROOT, playbook_env, read_outputs, role_defaults, run_playbook
from process_tree import kill_tree

KILL_WAIT_SECONDS = 900
LIVE_NAT_STATES = ("pending", "available")
LIVE_KEY_STATES = ("Enabled", "Disabled", "PendingImport", "Creating")


@dataclass(frozen=True)
class KillPoint:
    """Kill the converge when the ``occurrence``-th call matching ``service`` and ``action`` is answered.

    ``action`` is a regular expression on the operation as the fault proxy names it (REST calls too, by
    botocore's service model).
    """

    role: str
    service: str
    action: str
    occurrence: int = 1

    def matches(self, service: str, action: str) -> bool:
        return service == self.service and re.fullmatch(self.action, action) is not None

    def __str__(self) -> str:
        return f"{self.role}-{self.service}-{self.action}-{self.occurrence}"


def kill_point(role: str, service: str, action: str, occurrence: int = 1, *, telling: bool = False):
    point = KillPoint(role, service, action, occurrence)
    label = re.sub(r"[^A-Za-z0-9]+", "_", f"{role} {service} {action} {occurrence}")
    return pytest.param(point, id=label.strip("_"), marks=() if telling else (pytest.mark.faults,))


KILL_POINTS = [
    kill_point("network", "ec2", "CreateVpc"),
    kill_point("network", "ec2", "CreateInternetGateway", telling=True),
    kill_point("network", "ec2", "AllocateAddress"),
    kill_point("network", "ec2", "CreateNatGateway"),
    kill_point("network", "ec2", "CreateRouteTable", 2),
    kill_point("network", "ec2", "CreateVpcEndpoint"),
    kill_point("network", "ec2", "CreateSecurityGroup"),
    kill_point("iam", "iam", "CreateRole", 2),
    kill_point("iam", "iam", "PutRolePolicy"),
    kill_point("storage", "s3", "CreateBucket"),
    kill_point("storage", "dynamodb", "CreateTable"),
    kill_point("storage", "ssm", "PutParameter"),
    kill_point("functions", "lambda", "CreateFunction", 2),
    kill_point("functions", "lambda", "CreateAlias"),
    kill_point("api", "apigateway", "CreateRestApi"),
    kill_point("api", "apigateway", "CreateResource"),
    kill_point("api", "apigateway", "CreateDeployment"),
    kill_point("api", "apigateway", "CreateApiKey"),
    kill_point("api", "apigateway", "CreateUsagePlan"),
    kill_point("monitoring", "kms", "CreateKey", telling=True),
    kill_point("monitoring", "sns", "CreateTopic"),
    kill_point("monitoring", "monitoring", "PutMetricAlarm", 5),
    kill_point("monitoring", "monitoring", "PutDashboard"),
]


# Running and killing


class Killer:
    """The proxy hook: SIGKILL the playbook's process tree once the kill point's call is answered.

    The hook runs before the proxy passes the answer on, so the module that made the call is still
    waiting for it when it dies.
    """

    def __init__(self, point: KillPoint):
        self.point = point
        self.seen = 0
        self.root: int | None = None
        self.killed = threading.Event()

    def __call__(self, service: str, action: str) -> None:
        if self.killed.is_set() or not self.point.matches(service, action):
            return
        self.seen += 1
        if self.seen == self.point.occurrence and self.root is not None:
            kill_tree(self.root)
            self.killed.set()


def converge_until_killed(endpoint_url: str, point: KillPoint, outputs_dir: Path) -> tuple[Killer, float]:
    """Start site.yml through a fault proxy; return the killer and the seconds until the kill."""
    killer = Killer(point)
    command = [str(ANSIBLE_PLAYBOOK), "site.yml", "-i", "inventories/local"]
    command += ["-e", json.dumps({"stack_outputs_dir": str(outputs_dir)})]
    with FaultProxy(endpoint_url) as proxy, (outputs_dir / "killed-run.log").open("wb") as log:
        proxy.on_forwarded = killer
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=playbook_env(proxy.url),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        killer.root = process.pid
        try:
            process.wait(timeout=KILL_WAIT_SECONDS)
        finally:
            if process.poll() is None:
                kill_tree(process.pid)
                process.wait()
        seconds = time.monotonic() - started
    return killer, seconds


# What the account holds after the re-run


def setting(role: str, name: str):
    """A role variable as the local inventory sets it, else the role's default."""
    inventory = yaml.safe_load((REPO_ROOT / "inventories" / "local" / "group_vars" / "all.yml").read_text())
    return inventory.get(name, role_defaults(role)[name])


def expected_nat_count() -> int:
    return setting("network", "network_az_count") if setting("network", "network_nat_per_az") else 1


def miscounts(counts: dict[str, tuple[int, int]]) -> list[str]:
    """'found what, expected n' for each (found, expected) pair that differs."""
    return [f"{found} {what}, expected {expected}" for what, (found, expected) in counts.items() if found != expected]


def stack_vpc_ids(ec2) -> list[str]:
    return [vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"] if not vpc.get("IsDefault")]


def default_vpc_ids(ec2) -> list[str]:
    return [vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"] if vpc.get("IsDefault")]


def live_nat_gateways(ec2) -> list[dict]:
    return [gateway for gateway in ec2.describe_nat_gateways()["NatGateways"] if gateway["State"] in LIVE_NAT_STATES]


def count_live_nat_gateways(ec2) -> int:
    return len(live_nat_gateways(ec2))


def unattached_interfaces(ec2) -> list[str]:
    """ENIs that nothing uses. moto reports a NAT gateway's own ENI as available (AWS: in-use), so those are kept."""
    nat_enis = {
        address["NetworkInterfaceId"]
        for gateway in live_nat_gateways(ec2)
        for address in gateway.get("NatGatewayAddresses", [])
    }
    available = [{"Name": "status", "Values": ["available"]}]
    interfaces = ec2.describe_network_interfaces(Filters=available)["NetworkInterfaces"]
    return [eni["NetworkInterfaceId"] for eni in interfaces if eni["NetworkInterfaceId"] not in nat_enis]


def count_stack_internet_gateways(ec2) -> int:
    """Internet gateways not attached to the default VPC: attached to the stack's, or orphans."""
    default_vpcs = set(default_vpc_ids(ec2))
    gateways = ec2.describe_internet_gateways()["InternetGateways"]
    return sum(1 for gateway in gateways if not {a["VpcId"] for a in gateway.get("Attachments", [])} & default_vpcs)


def count_custom_route_tables(ec2, vpc_ids: list[str]) -> int:
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": vpc_ids}])["RouteTables"]
    return sum(1 for table in tables if not any(a.get("Main") for a in table.get("Associations", [])))


def count_live_endpoints(ec2, vpc_ids: list[str]) -> int:
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": vpc_ids}])["VpcEndpoints"]
    return sum(1 for endpoint in endpoints if endpoint["State"].lower() not in ("deleted", "deleting", "failed"))


def count_custom_security_groups(ec2, vpc_ids: list[str]) -> int:
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": vpc_ids}])["SecurityGroups"]
    return sum(1 for group in groups if group["GroupName"] != "default")


def network_problems(endpoint) -> list[str]:
    ec2 = endpoint.client("ec2")
    vpc_ids = stack_vpc_ids(ec2)
    in_vpcs = [{"Name": "vpc-id", "Values": vpc_ids}]
    counts = {
        "VPCs besides the default one": (len(vpc_ids), 1),
        "subnets": (len(ec2.describe_subnets(Filters=in_vpcs)["Subnets"]), 2 * setting("network", "network_az_count")),
        "internet gateways besides the default VPC's": (count_stack_internet_gateways(ec2), 1),
        "NAT gateways (pending or available)": (count_live_nat_gateways(ec2), expected_nat_count()),
        "route tables besides the main one": (count_custom_route_tables(ec2, vpc_ids), 1 + expected_nat_count()),
        "gateway endpoints": (count_live_endpoints(ec2, vpc_ids), 2),
        "security groups besides the default one": (count_custom_security_groups(ec2, vpc_ids), 1),
    }
    addresses = ec2.describe_addresses()["Addresses"]
    orphan_ips = [address["PublicIp"] for address in addresses if not address.get("AssociationId")]
    orphan_enis = unattached_interfaces(ec2)
    orphans = [f"Elastic IPs not associated: {orphan_ips}"] if orphan_ips else []
    orphans += [f"network interfaces not attached: {orphan_enis}"] if orphan_enis else []
    return miscounts(counts) + orphans


def count_roles(iam, names: list[str]) -> int:
    return sum(1 for role in iam.list_roles()["Roles"] if role["RoleName"] in names)


def function_problems(endpoint, outputs: dict) -> list[str]:
    lambda_client = endpoint.client("lambda")
    names = [function["FunctionName"] for function in lambda_client.list_functions()["Functions"]]
    role_names = [arn.rsplit("/", 1)[1] for arn in outputs["iam"]["role_arns"].values()]
    manifest = setting("stack", "stack_functions")
    counts = {
        "execution roles of the functions": (count_roles(endpoint.client("iam"), role_names), len(manifest)),
        "functions": (len(names), len(manifest)),
    }
    for name in names:
        counts[f"aliases of {name}"] = (len(lambda_client.list_aliases(FunctionName=name)["Aliases"]), 1)
    return miscounts(counts)


def service_problems(endpoint, outputs: dict) -> list[str]:
    apigateway, cloudwatch = endpoint.client("apigateway"), endpoint.client("cloudwatch")
    apis = apigateway.get_rest_apis()["items"]
    buckets = [bucket["Name"] for bucket in endpoint.client("s3").list_buckets()["Buckets"]]
    counts = {
        f"REST APIs named {outputs['api']['name']}": (
            sum(1 for api in apis if api["name"] == outputs["api"]["name"]),
            1,
        ),
        "REST APIs": (len(apis), 1),
        "API keys": (len(apigateway.get_api_keys()["items"]), 1),
        "usage plans": (len(apigateway.get_usage_plans()["items"]), 1),
        "DynamoDB tables": (len(endpoint.client("dynamodb").list_tables()["TableNames"]), 1),
        f"buckets named {outputs['storage']['bucket_name']}": (buckets.count(outputs["storage"]["bucket_name"]), 1),
        "buckets": (len(buckets), 1),
        "SNS topics": (len(endpoint.client("sns").list_topics()["Topics"]), 1),
        "metric alarms": (
            len(cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]),
            len(outputs["monitoring"]["alarm_names"]),
        ),
    }
    return miscounts(counts) + key_problems(endpoint.client("kms"), outputs["monitoring"]["topic_kms_key"])


def key_problems(kms, alias_name: str) -> list[str]:
    """A live customer managed key other than the one the stack's alias points to is an orphan.

    Keys behind an alias/aws/... alias are AWS managed (moto reports the one DynamoDB's SSE makes as CUSTOMER).
    """
    aliases = kms.list_aliases()["Aliases"]
    aws_managed = {alias.get("TargetKeyId") for alias in aliases if alias["AliasName"].startswith("alias/aws/")}
    keys = [kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"] for key in kms.list_keys()["Keys"]]
    live = sorted(
        key["KeyId"]
        for key in keys
        if key.get("KeyManager") == "CUSTOMER"
        and key["KeyState"] in LIVE_KEY_STATES
        and key["KeyId"] not in aws_managed
    )
    aliased = [alias.get("TargetKeyId") for alias in aliases if alias["AliasName"] == alias_name]
    return [] if live == aliased else [f"live customer managed keys {live}, but {alias_name} points to {aliased}"]


def problems_after_rerun(endpoint, outputs: dict) -> list[str]:
    return network_problems(endpoint) + function_problems(endpoint, outputs) + service_problems(endpoint, outputs)


# The test


def smoke(endpoint, outputs_dir: Path):
    """playbooks/smoke.yml against the stack, its API called through a local API front."""
    api_name = read_outputs(outputs_dir)["api"]["name"]
    front = Front(endpoint.url, outputs_dir / "front.log", "--api-name", api_name)
    try:
        return run_playbook(
            endpoint.url,
            "playbooks/smoke.yml",
            extra_vars={"stack_outputs_dir": str(outputs_dir)},
            env_overrides={"LOCAL_API_PORT": str(front.port)},
        )
    finally:
        front.stop()


def converge(endpoint, outputs_dir: Path):
    """A full run of site.yml and its duration in seconds."""
    started = time.monotonic()
    run = run_playbook(endpoint.url, "site.yml", extra_vars={"stack_outputs_dir": str(outputs_dir)})
    return run, time.monotonic() - started


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_rerun_finishes_a_killed_converge_without_duplicates(point, fresh_endpoint, tmp_path):
    killer, kill_seconds = converge_until_killed(fresh_endpoint.url, point, tmp_path)
    assert killer.killed.is_set(), f"the converge finished without reaching {point} ({killer.seen} such calls)"

    rerun, rerun_seconds = converge(fresh_endpoint, tmp_path)
    print(f"\n{point}: killed after {kill_seconds:.0f}s; re-run {rerun_seconds:.0f}s, changed={rerun.changed}")
    assert rerun.returncode == 0, rerun.describe()
    problems = problems_after_rerun(fresh_endpoint, read_outputs(tmp_path))
    print(f"{point}: {problems or 'no duplicate, no orphan'}")
    assert not problems, f"after the kill at {point}: {problems}"
    verified = smoke(fresh_endpoint, tmp_path)
    assert verified.returncode == 0, verified.describe()

    again, again_seconds = converge(fresh_endpoint, tmp_path)
    print(f"{point}: second re-run {again_seconds:.0f}s, changed={again.changed}")
    assert again.returncode == 0, again.describe()
    assert again.changed == 0, again.changed_tasks()
