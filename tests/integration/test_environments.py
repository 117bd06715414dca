"""Three environments of one account and region converged in parallel (-f 3) from inventories/local-multi.

One converge of the whole site playbook on a fresh private endpoint, then a re-run: three complete stacks
that share nothing but the account's API Gateway logging role, outputs that each name their own stack only,
and a re-run that changes nothing and writes nothing for every host.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from aws_calls import recorded_calls, writes
from playbook_runner import REPO_ROOT, read_outputs, run_playbook

INVENTORY = "inventories/local-multi"
ENVIRONMENTS = ("dev", "stage", "prod")
HOSTS = {f"{environment}-us-east-1": environment for environment in ENVIRONMENTS}
ACCOUNT = "123456789012"
FUNCTIONS = ("list", "create", "get", "update", "delete")
LOGGING_ROLE = "tasks-api-apigateway-logs"
# Ids AWS gives resources (EC2's kind-hex, API Gateway's 10 characters) as the outputs hold them.
EC2_ID = re.compile(r"^(vpc|subnet|igw|nat|rtb|sg|vpce|eipalloc)-[0-9a-f]+$")
KEPT_WARNING = "it was kept instead of being replaced"


def converge(endpoint, outputs_dir):
    return run_playbook(
        endpoint.url, "site.yml", "-f", "3", inventory=INVENTORY, extra_vars={"stack_outputs_dir": str(outputs_dir)}
    )


def prefix(environment: str) -> str:
    return f"tasks-api-{environment}"


def leaves(value) -> list[str]:
    """Every string in a JSON document, keys excepted."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value] if isinstance(value, str) else []


def tags_of(resource: dict) -> dict:
    return {tag["Key"]: tag["Value"] for tag in resource.get("Tags", [])}


@pytest.fixture(scope="module")
def deployed(local_endpoint, tmp_path_factory):
    """The three environments converged once, in parallel, on an empty account."""
    local_endpoint.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    first = converge(local_endpoint, outputs)
    assert first.returncode == 0, first.describe()
    files = {environment: read_outputs(outputs, environment) for environment in ENVIRONMENTS}
    return SimpleNamespace(endpoint=local_endpoint, outputs_dir=outputs, first=first, outputs=files)


def test_every_host_converges_its_own_environment(deployed):
    assert set(deployed.first.host_stats) == set(HOSTS)
    for host, stats in deployed.first.host_stats.items():
        assert stats["failures"] == 0 and stats["unreachable"] == 0, host
        assert stats["changed"] > 0, host
    assert sorted(path.name for path in deployed.outputs_dir.iterdir()) == sorted(f"{e}.json" for e in ENVIRONMENTS)


def test_three_vpcs_each_tagged_with_its_environment(deployed):
    vpcs = deployed.endpoint.client("ec2").describe_vpcs(Filters=[{"Name": "tag:ManagedBy", "Values": ["ansible"]}])
    by_environment = {tags_of(vpc)["Environment"]: vpc for vpc in vpcs["Vpcs"]}
    assert sorted(by_environment) == sorted(ENVIRONMENTS) and len(vpcs["Vpcs"]) == 3
    for environment, vpc in by_environment.items():
        assert tags_of(vpc)["Name"] == f"{prefix(environment)}-vpc"
        assert deployed.outputs[environment]["network"]["vpc_id"] == vpc["VpcId"]


def test_three_apis_tables_and_sets_of_functions(deployed):
    endpoint = deployed.endpoint
    apis = {api["name"]: api for api in endpoint.client("apigateway").get_rest_apis()["items"]}
    assert sorted(apis) == sorted(prefix(environment) for environment in ENVIRONMENTS)
    tables = endpoint.client("dynamodb").list_tables()["TableNames"]
    assert sorted(tables) == sorted(f"{prefix(environment)}-tasks" for environment in ENVIRONMENTS)
    functions = [f["FunctionName"] for f in endpoint.client("lambda").list_functions()["Functions"]]
    assert sorted(functions) == sorted(f"{prefix(e)}-{name}" for e in ENVIRONMENTS for name in FUNCTIONS)
    for environment in ENVIRONMENTS:
        api = apis[prefix(environment)]
        assert api["tags"]["Environment"] == environment
        assert deployed.outputs[environment]["api"]["id"] == api["id"]
        stages = endpoint.client("apigateway").get_stages(restApiId=api["id"])["item"]
        assert [stage["stageName"] for stage in stages] == [environment]
        assert deployed.outputs[environment]["storage"]["table_name"] == f"{prefix(environment)}-tasks"


def test_every_environment_has_its_own_alarms_topic_and_dashboard(deployed):
    cloudwatch = deployed.endpoint.client("cloudwatch")
    for environment in ENVIRONMENTS:
        monitoring = deployed.outputs[environment]["monitoring"]
        found = cloudwatch.describe_alarms(
            AlarmNamePrefix=f"{prefix(environment)}-", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        assert sorted(alarm["AlarmName"] for alarm in found["MetricAlarms"]) == sorted(monitoring["alarm_names"])
        assert [alarm["AlarmName"] for alarm in found["CompositeAlarms"]] == [monitoring["composite_alarm_name"]]
        topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:{prefix(environment)}-alarms"
        assert monitoring["topic_arn"] == topic
        for alarm in found["MetricAlarms"]:
            assert alarm["AlarmActions"] == [topic]
        assert cloudwatch.get_dashboard(DashboardName=prefix(environment))["DashboardName"] == prefix(environment)
    pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"])
    every_alarm = [alarm["AlarmName"] for page in pages for alarm in page["MetricAlarms"]]
    assert len(every_alarm) == sum(len(outputs["monitoring"]["alarm_names"]) for outputs in deployed.outputs.values())


def test_each_outputs_file_names_its_own_resources_only(deployed):
    ids = {}
    for environment, outputs in deployed.outputs.items():
        assert (outputs["environment"], outputs["name_prefix"]) == (environment, prefix(environment))
        strings = leaves(outputs)
        others = [prefix(other) for other in ENVIRONMENTS if other != environment]
        assert [s for s in strings if any(other in s for other in others)] == []
        api = outputs["api"]
        ids[environment] = {s for s in strings if EC2_ID.match(s)} | {
            api["id"],
            api["deployment_id"],
            api["api_key_id"],
            api["usage_plan_id"],
        }
        assert len(ids[environment]) > 10
    assert ids["dev"].isdisjoint(ids["stage"]) and ids["dev"].isdisjoint(ids["prod"])
    assert ids["stage"].isdisjoint(ids["prod"])


def test_the_account_wide_logging_role_is_one_role_all_environments_agree_on(deployed):
    iam = deployed.endpoint.client("iam")
    roles = [role["RoleName"] for role in iam.list_roles()["Roles"] if "apigateway-logs" in role["RoleName"]]
    assert roles == [LOGGING_ROLE]
    tags = {tag["Key"]: tag["Value"] for tag in iam.list_role_tags(RoleName=LOGGING_ROLE)["Tags"]}
    assert tags == {"Application": "tasks-api", "ManagedBy": "ansible"}
    account = deployed.endpoint.client("apigateway").get_account()
    assert account["cloudwatchRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{LOGGING_ROLE}"
    assert KEPT_WARNING not in deployed.first.stderr


def test_a_parallel_rerun_changes_and_writes_nothing_for_every_host(deployed):
    with recorded_calls(deployed.endpoint.url) as calls:
        again = converge(deployed.endpoint, deployed.outputs_dir)
    assert again.returncode == 0, again.describe()
    assert again.changed_by_host() == dict.fromkeys(HOSTS, 0), again.changed_tasks()
    assert writes(calls) == []
    assert KEPT_WARNING not in again.stderr
    assert {read_outputs(deployed.outputs_dir, e)["environment"] for e in ENVIRONMENTS} == set(ENVIRONMENTS)


def write_inventory(tmp_path, hosts: dict) -> str:
    """An inventory of ``hosts`` (name: host vars) with the local inventory's endpoint settings."""
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "group_vars" / "all.yml").symlink_to(REPO_ROOT / "inventories" / "local" / "group_vars" / "all.yml")
    (inventory / "hosts.yml").write_text(json.dumps({"all": {"hosts": hosts}}))
    return str(inventory)


def two_regions_inventory(tmp_path, **host_vars) -> str:
    """The environment dev in two regions of one account."""
    hosts = {
        f"dev-{region}": {"stack_environment": "dev", "stack_region": region, **host_vars.get(region, {})}
        for region in ("us-east-1", "eu-west-1")
    }
    return write_inventory(tmp_path, hosts)


def test_two_hosts_deploying_one_stack_to_one_account_are_refused_in_preflight(local_endpoint, tmp_path):
    with recorded_calls(local_endpoint.url) as calls:
        run = run_playbook(
            local_endpoint.url,
            "site.yml",
            "-f",
            "2",
            inventory=two_regions_inventory(tmp_path),
            extra_vars={"stack_outputs_dir": str(tmp_path / "outputs")},
        )
    assert run.returncode != 0
    (message, *_) = run.failure_messages()
    assert "deploy the same stack tasks-api-dev to account 123456789012" in message
    assert "write the same outputs file" in message and "Nothing was changed" in message
    assert {"dev-us-east-1", "dev-eu-west-1"} <= set(message.split())
    assert writes(calls) == []


def test_one_environment_in_two_regions_with_its_own_prefixes_passes_preflight(local_endpoint, tmp_path):
    per_region = {
        region: {"stack_name_prefix": f"tasks-api-dev-{region}", "stack_outputs_dir": str(tmp_path / region)}
        for region in ("us-east-1", "eu-west-1")
    }
    run = run_playbook(
        local_endpoint.url,
        "site.yml",
        "--check",
        "--tags",
        "preflight-only",
        inventory=two_regions_inventory(tmp_path, **per_region),
    )
    assert run.returncode == 0, run.describe()


def test_each_host_may_name_its_own_aws_profile(local_endpoint, tmp_path):
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile tasks-dev]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        "[profile tasks-stage]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    hosts = {
        f"{environment}-us-east-1": {
            "stack_environment": environment,
            "stack_aws_profile": f"tasks-{environment}",
            "stack_aws_access_key": "",
            "stack_aws_secret_key": "",
        }
        for environment in ("dev", "stage", "prod")
    }
    run = run_playbook(
        local_endpoint.url,
        "site.yml",
        "-f",
        "3",
        "--check",
        "--tags",
        "preflight-only",
        inventory=write_inventory(tmp_path, hosts),
        extra_vars={"stack_outputs_dir": str(tmp_path / "outputs")},
        # amazon.aws reads exported keys as module options, which a profile cannot go with: none exported.
        env_overrides={
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
        },
    )
    # The profiles reach the AWS calls: the two that exist answer, the missing one stops its host in preflight.
    assert {host: stats["failures"] for host, stats in run.host_stats.items()} == {
        "dev-us-east-1": 0,
        "stage-us-east-1": 0,
        "prod-us-east-1": 1,
    }, run.describe()
    assert any("tasks-prod" in m and "Nothing was changed" in m for m in run.failure_messages()), run.describe()


def test_a_profile_and_keys_together_are_refused_naming_both(local_endpoint, tmp_path):
    hosts = {"dev-us-east-1": {"stack_environment": "dev", "stack_aws_profile": "tasks-dev"}}
    run = run_playbook(local_endpoint.url, "site.yml", "--check", inventory=write_inventory(tmp_path, hosts))
    assert run.returncode != 0
    assert any("stack_aws_profile is 'tasks-dev' and stack_aws_access_key" in m for m in run.failure_messages())
