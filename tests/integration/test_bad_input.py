"""Bad input: every bad value stops the site playbook before its first AWS write.

Each case sets one bad value (as extra vars, or in a copy of the local
inventory's group_vars) and runs site.yml through the fault proxy, which counts
every AWS call. The run must fail, make no write call (reads such as sts
GetCallerIdentity or ec2 DescribeAvailabilityZones are fine) and say which
variable is wrong and what it accepts.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass, field

import pytest
import yaml
from playbook_runner import REPO_ROOT, role_defaults, run_playbook

LOCAL_INVENTORY = REPO_ROOT / "inventories" / "local"
DEFAULT_MANIFEST = role_defaults("stack")["stack_functions"]
LOG_RETENTION_CHOICES = "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400"


@dataclass(frozen=True)
class BadInput:
    """One bad setting: where it is set, and what the failure message must say."""

    case: str
    variables: dict
    names: str  # the variable the message must name
    expected: str  # what the message must say is accepted
    in_inventory: bool = False
    also: tuple[str, ...] = field(default=())  # more text the message must hold


def manifest_with(index: int, **changes) -> dict:
    """The default manifest (stack_functions) with entry ``index`` changed."""
    functions = copy.deepcopy(DEFAULT_MANIFEST)
    functions[index].update(changes)
    return {"stack_functions": functions}


def manifest_with_duplicate_name() -> dict:
    functions = copy.deepcopy(DEFAULT_MANIFEST)
    functions[1]["name"] = functions[0]["name"]
    return {"stack_functions": functions}


CASES = [
    # network
    BadInput("vpc-cidr-not-a-cidr", {"network_vpc_cidr": "10.0.0.0/33"}, "network_vpc_cidr", "/16 to /28"),
    BadInput("vpc-cidr-host-bits", {"network_vpc_cidr": "10.0.0.1/16"}, "network_vpc_cidr", "without host bits set"),
    BadInput("vpc-cidr-too-large", {"network_vpc_cidr": "10.0.0.0/8"}, "network_vpc_cidr", "/16 to /28"),
    BadInput("az-count-zero", {"network_az_count": 0}, "network_az_count", "expected 1 to 8"),
    BadInput("az-count-above-the-region", {"network_az_count": 7}, "network_az_count", "expected 1 to 6"),
    BadInput("az-count-not-a-number", {"network_az_count": "two"}, "network_az_count", "int", in_inventory=True),
    BadInput(
        "availability-zone-repeated-overlapping-subnets",
        {"network_availability_zones": ["us-east-1a", "us-east-1a"]},
        "network_availability_zones",
        "distinct availability zones of stack_region us-east-1",
    ),
    BadInput(
        "availability-zone-of-another-region",
        {"network_availability_zones": ["eu-west-1a"]},
        "network_availability_zones",
        "distinct availability zones of stack_region us-east-1",
    ),
    BadInput(
        "subnets-do-not-fit-the-vpc",
        {"network_az_count": 5, "network_subnet_newbits": 2},
        "network_az_count",
        "expected at most 2 AZs",
    ),
    BadInput("subnet-newbits-too-many", {"network_subnet_newbits": 13}, "network_subnet_newbits", "use 1 to 12"),
    # stack
    BadInput(
        "environment-with-characters-aws-rejects",
        {"stack_environment": "Prod_1"},
        "stack_environment",
        "1 to 16 lower-case letters, digits and hyphens",
        in_inventory=True,
    ),
    BadInput(
        "name-prefix-too-long-for-the-bucket",
        {"stack_name_prefix": "tasks-api-" + "x" * 30},
        "stack_name_prefix",
        "3 to 32 lower-case letters",
    ),
    BadInput(
        "derived-name-prefix-too-long",
        {"stack_application": "a-very-long-application", "stack_environment": "integration-east"},
        "stack_name_prefix",
        "3 to 32 lower-case letters",
        also=("stack_application-stack_environment",),
    ),
    BadInput("region-malformed", {"stack_region": "us-east"}, "stack_region", "such as 'us-east-1'"),
    # function manifest and functions
    BadInput(
        "memory-below-128",
        manifest_with(0, memory=64),
        "stack_functions",
        "memory 64 is not a whole number from 128 to 10240",
    ),
    BadInput("memory-above-10240", manifest_with(2, memory=20480), "stack_functions", "from 128 to 10240"),
    BadInput(
        "timeout-above-api-gateway-limit",
        manifest_with(1, timeout=60),
        "stack_functions",
        "timeout 60 is not a whole number from 1 to 29",
    ),
    BadInput(
        "duplicate-function-names", manifest_with_duplicate_name(), "stack_functions", "name 'list' is already used"
    ),
    BadInput("route-path-without-slash", manifest_with(0, path="tasks"), "stack_functions", "does not start with /"),
    BadInput(
        "unknown-http-method",
        manifest_with(3, method="FETCH"),
        "stack_functions",
        "not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
    ),
    BadInput(
        "reserved-concurrency-negative",
        manifest_with(4, reserved_concurrency=-1),
        "stack_functions",
        "neither null nor a whole number of at least 0",
    ),
    BadInput("unknown-runtime", {"functions_runtime": "nodejs20.x"}, "functions_runtime", "python3.12, python3.13"),
    BadInput(
        "python-runtime-lambda-lacks",
        {"functions_runtime": "python3.99"},
        "functions_runtime",
        "python3.12, python3.13",
    ),
    BadInput("unknown-architecture", {"functions_architecture": "x86"}, "functions_architecture", "arm64, x86_64"),
    BadInput(
        "log-retention-negative",
        {"functions_log_retention_days": -1},
        "functions_log_retention_days",
        LOG_RETENTION_CHOICES,
    ),
    BadInput(
        "log-retention-cloudwatch-rejects",
        {"functions_log_retention_days": 45},
        "functions_log_retention_days",
        LOG_RETENTION_CHOICES,
        in_inventory=True,
    ),
    # api
    BadInput(
        "access-log-retention-45",
        {"api_access_log_retention_days": 45},
        "api_access_log_retention_days",
        LOG_RETENTION_CHOICES,
    ),
    BadInput("throttling-rate-zero", {"api_throttling_rate_limit": 0}, "api_throttling_rate_limit", "above 0"),
    BadInput(
        "quota-period-unknown",
        {"api_usage_plan_quota_period": "YEAR"},
        "api_usage_plan_quota_period",
        "DAY, WEEK, MONTH",
    ),
    BadInput("stage-name-with-spaces", {"api_stage_name": "my stage"}, "api_stage_name", "letters, digits, '-' or '_'"),
    # monitoring
    BadInput(
        "alarm-email-malformed",
        {"monitoring_subscriptions": [{"protocol": "email", "endpoint": "ops-at-example.com"}]},
        "monitoring_subscriptions",
        "Expected an email address for email",
    ),
    BadInput(
        "alarm-duration-ratio-above-1", {"monitoring_duration_ratio": 1.5}, "monitoring_duration_ratio", "at most 1"
    ),
    BadInput(
        "alarm-period-not-whole-minutes",
        {"monitoring_errors_period": 45},
        "monitoring_errors_period",
        "a multiple of 60",
    ),
    BadInput(
        "alarm-latency-negative", {"monitoring_api_latency_p99_ms": -5}, "monitoring_api_latency_p99_ms", "more than 0"
    ),
    # storage
    BadInput("bucket-name-invalid", {"storage_bucket_name": "Bad_Bucket"}, "storage_bucket_name", "3 to 63 lower-case"),
    BadInput(
        "old-package-versions-kept-0-days",
        {"storage_noncurrent_version_expiration_days": 0},
        "storage_noncurrent_version_expiration_days",
        "expected 1 or more",
    ),
    BadInput(
        "table-billing-mode-the-collection-lacks",
        {"storage_table_billing_mode": "PROVISIONED"},
        "storage_table_billing_mode",
        "expected one of storage_api_key,",
    ),
    # a typo in the inventory
    BadInput(
        "misspelt-variable-in-inventory",
        {"network_az_cuont": 3},
        "network_az_cuont",
        "expected one of network_availability_zones, network_az_count,",
        in_inventory=True,
    ),
    BadInput(
        "api-key-too-short", {"storage_api_key": "short-key"}, "storage_api_key", "at least 20", in_inventory=True
    ),
]


def inventory_with(tmp_path, variables: dict) -> str:
    """A copy of the local inventory whose group_vars also set ``variables``."""
    inventory = tmp_path / "inventory"
    shutil.copytree(LOCAL_INVENTORY, inventory)
    group_vars = inventory / "group_vars" / "all.yml"
    group_vars.write_text(group_vars.read_text() + "\n" + yaml.safe_dump(variables, default_flow_style=False))
    return str(inventory)


def run_site_with(case: BadInput, endpoint_url: str, tmp_path):
    extra_vars = {"stack_outputs_dir": str(tmp_path / "outputs")}
    if case.in_inventory:
        return run_playbook(
            endpoint_url, "site.yml", inventory=inventory_with(tmp_path, case.variables), extra_vars=extra_vars
        )
    return run_playbook(endpoint_url, "site.yml", extra_vars={**extra_vars, **case.variables})


def test_the_matrix_is_wide():
    assert len(CASES) >= 25
    assert len({case.case for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.case for case in CASES])
def test_bad_input_fails_before_any_write(case, fault_proxy, tmp_path):
    run = run_site_with(case, fault_proxy.url, tmp_path)
    assert run.returncode != 0, run.describe()
    assert fault_proxy.writes == 0, fault_proxy.summary() + run.describe()  # by AwsCall.is_write
    message = run.failure_messages()[-1]
    print(f"\n{case.case}: {message}")
    assert case.names in message, message
    assert case.expected in message, message
    for text in case.also:
        assert text in message, message
