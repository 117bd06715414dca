"""Drift: changes made by hand are named by check mode and by drift.yml's report, then repaired by a run.

One converge on a private endpoint; five changes made with boto3 behind Ansible's back; one run of
playbooks/drift.yml (the site plays in --check --diff, then the report); one real run; one more drift.yml.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from playbook_runner import converge_site, run_playbook

PREFIX = "tasks-api-local"
NOT_REPORTED = "(not reported by module)"
ALARM = f"{PREFIX}-api-5xx"
FUNCTION = f"{PREFIX}-get"
LOG_GROUP = f"/aws/lambda/{PREFIX}-list"
TABLE = f"{PREFIX}-tasks"
VPC = f"{PREFIX}-vpc"
VPC_TASK = "Create or update the VPC"
TABLE_TASK = "Create or update the tasks table"
LOG_GROUP_TASK = "Create or update the log group of each function"
FUNCTION_TASK = "Create or update each function"
ALARM_TASK = "Create or update each metric alarm, notifying the alarm topic"
ALARM_SETTINGS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
)


def vpc(endpoint) -> dict:
    (found,) = endpoint.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [VPC]}])["Vpcs"]
    return found


def alarm(endpoint) -> dict:
    (found,) = endpoint.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    return found


def point_in_time_recovery(endpoint) -> str:
    backups = endpoint.client("dynamodb").describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    return backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]


def memory(endpoint) -> int:
    return endpoint.client("lambda").get_function_configuration(FunctionName=FUNCTION)["MemorySize"]


def retention(endpoint) -> int | None:
    groups = endpoint.client("logs").describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]
    (group,) = [group for group in groups if group["logGroupName"] == LOG_GROUP]
    return group.get("retentionInDays")


def drift_by_hand(endpoint) -> None:
    """The five manual changes: a VPC tag, an alarm threshold, PITR, a function's memory, a log retention."""
    endpoint.client("ec2").delete_tags(Resources=[vpc(endpoint)["VpcId"]], Tags=[{"Key": "Application"}])
    settings = {key: value for key, value in alarm(endpoint).items() if key in ALARM_SETTINGS}
    endpoint.client("cloudwatch").put_metric_alarm(**settings, Threshold=7.0)
    endpoint.client("dynamodb").update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    endpoint.client("lambda").update_function_configuration(FunctionName=FUNCTION, MemorySize=512)
    endpoint.client("logs").put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=7)


def drift_run(endpoint, outputs):
    run = run_playbook(
        endpoint.url, "playbooks/drift.yml", "--check", "--diff", extra_vars={"stack_outputs_dir": str(outputs)}
    )
    report_path = outputs / "local-drift.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return SimpleNamespace(run=run, report=report, path=report_path)


def changed_results(run) -> dict[tuple[str, str | None], dict]:
    """Each changed result of a run by (task name, loop item label or None)."""
    changed = {}
    for play in run.output.get("plays", []):
        for task in play["tasks"]:
            name = task["task"]["name"].split(" : ", 1)[-1]
            for result in task["hosts"].values():
                for item in result.get("results", [result]):
                    if item.get("changed"):
                        changed[(name, item.get("_ansible_item_label"))] = item
    return changed


@pytest.fixture(scope="module")
def stack(local_endpoint, tmp_path_factory):
    """The site converged once on an emptied endpoint, then drifted by hand, then dry-run by drift.yml."""
    local_endpoint.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    converged = converge_site(local_endpoint.url, outputs, "all")
    assert converged.returncode == 0, converged.describe()
    drift_by_hand(local_endpoint)
    return SimpleNamespace(endpoint=local_endpoint, outputs=outputs, drifted=drift_run(local_endpoint, outputs))


@pytest.fixture(scope="module")
def repaired(stack):
    """A real site run on the drifted stack, then drift.yml again."""
    run = converge_site(stack.endpoint.url, stack.outputs, "all")
    return SimpleNamespace(run=run, after=drift_run(stack.endpoint, stack.outputs))


def test_check_mode_names_exactly_the_drifted_resources(stack):
    run = stack.drifted.run
    assert sorted(changed_results(run), key=str) == sorted(
        [
            (VPC_TASK, None),
            (TABLE_TASK, None),
            (LOG_GROUP_TASK, None),
            # One task for every function; its diff names the drifted one (FUNCTION).
            (FUNCTION_TASK, None),
            (ALARM_TASK, None),
        ],
        key=str,
    ), run.describe()


def test_check_mode_shows_a_diff_where_the_module_gives_one(stack):
    changed = changed_results(stack.drifted.run)
    table = changed[(TABLE_TASK, None)]["diff"]
    assert (table["before"]["point_in_time_recovery"], table["after"]["point_in_time_recovery"]) == (False, True)
    (function,) = changed[(FUNCTION_TASK, None)]["diff"]
    assert function["before_header"] == function["after_header"] == FUNCTION
    assert (function["before"]["memory_size"], function["after"]["memory_size"]) == (512, 256)
    # A real run publishes a version with the repaired memory and moves the alias to it.
    assert {
        key: (value, function["after"][key])
        for key, value in function["before"].items()
        if function["after"][key] != value
    } == {
        "memory_size": (512, 256),
        "version": ("1", "(new version)"),
        "alias": ("live -> 1", "live -> (new version)"),
    }
    # One invocation for every log group: one diff entry, for the drifted group only.
    (log_group,) = changed[(LOG_GROUP_TASK, None)]["diff"]
    assert (log_group["before_header"], log_group["after_header"]) == (LOG_GROUP, LOG_GROUP)
    assert (log_group["before"]["retention"], log_group["after"]["retention"]) == (7, 30)
    assert {key for key, value in log_group["before"].items() if log_group["after"][key] != value} == {"retention"}
    alarms = changed[(ALARM_TASK, None)]
    assert [name for name, alarm in alarms["alarms"].items() if alarm["changed"]] == [ALARM]
    (entry,) = alarms["diff"]
    assert (entry["after_header"], entry["before"]["threshold"], entry["after"]["threshold"]) == (ALARM, 7.0, 1.0)
    assert {key for key, value in entry["before"].items() if entry["after"][key] != value} == {"threshold"}
    # The stock VPC module gives no diff: the report names the VPC with "(not reported by module)".
    assert "diff" not in changed[(VPC_TASK, None)]


def test_check_mode_changes_nothing(stack):
    assert vpc(stack.endpoint)["Tags"] and "Application" not in {t["Key"] for t in vpc(stack.endpoint)["Tags"]}
    assert alarm(stack.endpoint)["Threshold"] == 7.0
    assert point_in_time_recovery(stack.endpoint) == "DISABLED"
    assert memory(stack.endpoint) == 512
    assert retention(stack.endpoint) == 7


def test_drift_yml_reports_each_drift_and_fails(stack):
    drifted = stack.drifted
    assert drifted.run.returncode != 0, drifted.run.describe()
    entries = {(e["resource"], e["property"]): (e["expected"], e["actual"], e["task"]) for e in drifted.report}
    assert entries == {
        (VPC, NOT_REPORTED): (None, None, VPC_TASK),
        (TABLE, "point_in_time_recovery"): (True, False, TABLE_TASK),
        (LOG_GROUP, "retention"): (30, 7, LOG_GROUP_TASK),
        (FUNCTION, "memory_size"): (256, 512, FUNCTION_TASK),
        (FUNCTION, "version"): ("(new version)", "1", FUNCTION_TASK),
        (FUNCTION, "alias"): ("live -> (new version)", "live -> 1", FUNCTION_TASK),
        (ALARM, "threshold"): (1.0, 7.0, ALARM_TASK),
    }
    (message,) = drifted.run.failure_messages()
    assert message == (
        f"5 drifted resources: {VPC}, {TABLE}, {LOG_GROUP}, {FUNCTION}, {ALARM}; report at {drifted.path}"
    )


def test_a_real_run_repairs_exactly_the_drift(stack, repaired):
    assert repaired.run.returncode == 0, repaired.run.describe()
    changed = set(changed_results(repaired.run))
    assert {
        (VPC_TASK, None),
        (TABLE_TASK, None),
        (LOG_GROUP_TASK, None),
        (FUNCTION_TASK, None),
        (ALARM_TASK, None),
    } <= changed, changed
    assert "Application" in {tag["Key"] for tag in vpc(stack.endpoint)["Tags"]}
    assert alarm(stack.endpoint)["Threshold"] == 1.0
    assert point_in_time_recovery(stack.endpoint) == "ENABLED"
    assert memory(stack.endpoint) == 256
    assert retention(stack.endpoint) == 30


def test_after_the_repair_check_mode_is_clean_and_drift_yml_passes(repaired):
    after = repaired.after
    assert after.run.returncode == 0, after.run.describe()
    assert after.run.changed == 0, after.run.changed_tasks()
    assert after.report == []


@pytest.mark.parametrize("args", [(), ("--check",)], ids=["apply", "check without diff"])
def test_drift_yml_refuses_to_run_outside_check_mode_with_diffs(local_endpoint, tmp_path, args):
    run = run_playbook(
        local_endpoint.url, "playbooks/drift.yml", *args, extra_vars={"stack_outputs_dir": str(tmp_path)}
    )
    assert run.returncode != 0
    (message,) = run.failure_messages()
    assert "only reports drift" in message and "--check --diff" in message
    assert run.task_count == 1 and not (tmp_path / "local-drift.json").exists()
