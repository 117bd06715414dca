"""Tests of the lambda_traffic_shift module against moto's in-process emulator (mock_aws), on a fake clock."""

import io
import zipfile
from types import SimpleNamespace

import boto3
import pytest
from module_calls import REGION, calls_of, trust_policy, writes

from ansible_collections.serverless.tasks_api.plugins.modules import lambda_traffic_shift

NAME = "tasks-api-test-list"
OTHER = "tasks-api-test-create"
BASE = "Serves API traffic"
CANARY = {"type": "canary", "percent": 10, "interval_seconds": 300}


class FakeClock:
    """A clock that advances only when slept; ``at(seconds, action)`` runs ``action`` once that time is reached."""

    def __init__(self):
        self.time = 0.0
        self.slept = []
        self.actions = []

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.time += seconds
        due = [entry for entry in self.actions if entry[0] <= self.time]
        self.actions = [entry for entry in self.actions if entry[0] > self.time]
        for _due_time, action in due:
            action()

    def at(self, seconds, action):
        self.actions.append((seconds, action))


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(lambda_traffic_shift, "Clock", lambda: fake)
    return fake


def zipped(body):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", body)
    return buffer.getvalue()


def deploy(lambda_, role, name):
    """A function with versions 1 and 2, its alias live at 1, and its errors alarm (OK)."""
    lambda_.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped("def handler(event, context):\n    return 1\n")},
        Publish=True,
    )
    lambda_.update_function_configuration(FunctionName=name, MemorySize=512)
    lambda_.publish_version(FunctionName=name)
    lambda_.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description=BASE)
    boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName=f"{name}-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": name}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


@pytest.fixture
def aws(mocked_aws):
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="tasks-api-test", AssumeRolePolicyDocument=trust_policy("lambda.amazonaws.com"))
    lambda_ = boto3.client("lambda", region_name=REGION)
    for name in (NAME, OTHER):
        deploy(lambda_, role["Role"]["Arn"], name)
    return SimpleNamespace(lambda_=lambda_, cloudwatch=boto3.client("cloudwatch", region_name=REGION))


@pytest.fixture
def run(aws, clock, module_runner):
    return module_runner(lambda_traffic_shift.main, poll_seconds=30)


def shifting(name=NAME, version="2", strategy=None, alarms=("errors",)):
    return {
        "name": name,
        "alias": "live",
        "version": version,
        "strategy": CANARY if strategy is None else strategy,
        "alarm_names": [f"{name}-{alarm}" for alarm in alarms],
    }


def alias(aws, name=NAME):
    return aws.lambda_.get_alias(FunctionName=name, Name="live")


def weights(alias_):
    return (alias_.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}


def set_alarm(aws, name, state="ALARM"):
    aws.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def routing_updates(api_calls, name=NAME):
    return [
        (call["FunctionVersion"], call["RoutingConfig"]["AdditionalVersionWeights"])
        for call in calls_of(api_calls, "UpdateAlias")
        if call["FunctionName"] == name
    ]


# Plans


@pytest.mark.parametrize(
    ("strategy", "steps"),
    [
        ({"type": "all_at_once"}, [100]),
        ({"type": "canary", "percent": 10, "interval_seconds": 5}, [10, 100]),
        ({"type": "linear", "percent": 30, "interval_seconds": 5}, [30, 60, 90, 100]),
        ({"type": "linear", "percent": 50, "interval_seconds": 5}, [50, 100]),
    ],
)
def test_planned_steps(strategy, steps):
    assert lambda_traffic_shift.planned_steps(strategy) == steps


def test_the_plan_reads_as_steps():
    plan = lambda_traffic_shift.describe_plan("live", "4", "5", [10, 100], 300)

    assert plan == "live -> 4, 10% to 5 for 300 s, then 100% to 5"


# Completed shifts


def test_a_canary_shifts_in_two_steps_and_bakes_once(run, aws, clock, api_calls):
    result = run(functions=[shifting()])

    assert result["changed"] is True
    assert result["functions"][NAME] == {
        "name": NAME,
        "previous_version": "1",
        "target_version": "2",
        "alias_version": "2",
        "outcome": "shifted",
        "steps": [10, 100],
        "alarm": [],
    }
    assert routing_updates(api_calls) == [("1", {"2": 0.1}), ("2", {})]
    assert sum(clock.slept) == 300
    assert max(clock.slept) == 30
    live = alias(aws)
    assert (live["FunctionVersion"], weights(live)) == ("2", {})
    assert live["Description"] == f"{BASE} [previous version 1]"


def test_a_linear_shift_adds_its_percent_every_interval(run, aws, clock, api_calls):
    result = run(functions=[shifting(strategy={"type": "linear", "percent": 40, "interval_seconds": 60})])

    assert result["functions"][NAME]["steps"] == [40, 80, 100]
    assert routing_updates(api_calls) == [("1", {"2": 0.4}), ("1", {"2": 0.8}), ("2", {})]
    assert sum(clock.slept) == 120


def test_all_at_once_moves_without_waiting(run, aws, clock, api_calls):
    result = run(functions=[shifting(strategy={"type": "all_at_once"})])

    assert result["functions"][NAME]["steps"] == [100]
    assert routing_updates(api_calls) == [("2", {})]
    assert clock.slept == []


def test_a_rerun_after_a_completed_shift_changes_nothing(run, aws, api_calls):
    run(functions=[shifting()])

    result = run(functions=[shifting()])

    assert result["changed"] is False
    assert result["functions"][NAME]["outcome"] == "unchanged"
    assert writes(api_calls) == []


def test_functions_shift_together_on_one_clock(run, aws, clock):
    result = run(functions=[shifting(), shifting(OTHER)])

    assert [result["functions"][name]["outcome"] for name in (NAME, OTHER)] == ["shifted", "shifted"]
    assert sum(clock.slept) == 300


def test_an_interrupted_shift_continues_from_its_weight(run, aws, clock, api_calls):
    aws.lambda_.update_alias(
        FunctionName=NAME, Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}}
    )

    result = run(functions=[shifting(strategy={"type": "linear", "percent": 10, "interval_seconds": 10})])

    assert result["functions"][NAME]["steps"] == [20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert result["functions"][NAME]["previous_version"] == "1"
    assert alias(aws)["FunctionVersion"] == "2"


def test_a_missing_alarm_is_reported_once_and_not_watched(run, aws, clock):
    result = run(functions=[shifting(alarms=("errors", "nope"))])

    assert result["functions"][NAME]["outcome"] == "shifted"
    assert str(result["warnings"]).count(f"{NAME}-nope") == 1


# Rollbacks


def test_an_alarm_during_the_bake_rolls_back(run, aws, clock):
    clock.at(60, lambda: set_alarm(aws, f"{NAME}-errors"))

    result = run(functions=[shifting()])

    assert result["failed"] is True
    assert f"alarm {NAME}-errors went into ALARM" in result["msg"]
    assert "moved back to version 1; version 2 stays published but unused" in result["msg"]
    assert result["functions"][NAME]["outcome"] == "rolled_back"
    assert result["functions"][NAME]["alarm"] == [f"{NAME}-errors"]
    assert result["functions"][NAME]["steps"] == [10]
    assert sum(clock.slept) == 60
    live = alias(aws)
    assert (live["FunctionVersion"], weights(live)) == ("1", {})
    assert live["Description"] == f"{BASE} [rolled back version 2]"
    versions = aws.lambda_.list_versions_by_function(FunctionName=NAME)["Versions"]
    assert "2" in [version["Version"] for version in versions]


def test_one_rollback_leaves_the_other_functions_shifting(run, aws, clock):
    clock.at(30, lambda: set_alarm(aws, f"{NAME}-errors"))

    result = run(functions=[shifting(), shifting(OTHER)])

    assert result["failed"] is True
    assert result["functions"][NAME]["outcome"] == "rolled_back"
    assert result["functions"][OTHER]["outcome"] == "shifted"
    assert alias(aws, OTHER)["FunctionVersion"] == "2"
    assert OTHER not in result["msg"]


def test_an_alarm_already_firing_stops_the_shift_before_any_traffic(run, aws, clock, api_calls):
    set_alarm(aws, f"{NAME}-errors")

    result = run(functions=[shifting()])

    assert result["failed"] is True
    assert "was already in ALARM when the shift started" in result["msg"]
    assert routing_updates(api_calls) == [("1", {})]
    assert clock.slept == []


def test_a_rolled_back_version_is_not_retried(run, aws, clock):
    clock.at(30, lambda: set_alarm(aws, f"{NAME}-errors"))
    run(functions=[shifting()])
    set_alarm(aws, f"{NAME}-errors", "OK")

    result = run(functions=[shifting()])

    assert result["changed"] is False
    assert result["functions"][NAME]["outcome"] == "not_retried"
    assert "version 2 was rolled back" in str(result["warnings"])
    assert alias(aws)["FunctionVersion"] == "1"


def test_retry_rolled_back_shifts_again(run, aws, clock):
    clock.at(30, lambda: set_alarm(aws, f"{NAME}-errors"))
    run(functions=[shifting()])
    set_alarm(aws, f"{NAME}-errors", "OK")

    result = run(functions=[shifting()], retry_rolled_back=True)

    assert result["functions"][NAME]["outcome"] == "shifted"
    live = alias(aws)
    assert (live["FunctionVersion"], live["Description"]) == ("2", f"{BASE} [previous version 1]")


def test_mark_rolled_back_marks_the_version_left(run, aws, clock):
    run(functions=[shifting(strategy={"type": "all_at_once"})])

    result = run(functions=[shifting(version="1", strategy={"type": "all_at_once"})], mark_rolled_back=True)

    assert result["functions"][NAME]["previous_version"] == "2"
    live = alias(aws)
    assert (live["FunctionVersion"], live["Description"]) == ("1", f"{BASE} [rolled back version 2]")


# Check mode, options


def test_check_mode_reports_the_plan_and_moves_nothing(run, aws, clock, api_calls):
    result = run(functions=[shifting(version="(new version)")], check_mode=True, diff=True)

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert result["functions"][NAME]["steps"] == [10, 100]
    (entry,) = result["diff"]
    assert entry["before"] == {"alias": "live -> 1"}
    assert entry["after"] == {"alias": "live -> 1, 10% to (new version) for 300 s, then 100% to (new version)"}
    assert alias(aws)["FunctionVersion"] == "1"


def test_a_given_description_replaces_the_base(run, aws):
    run(functions=[shifting(strategy={"type": "all_at_once"})], description="New text")

    assert alias(aws)["Description"] == "New text [previous version 1]"


@pytest.mark.parametrize(
    ("strategy", "problem"),
    [
        ({"type": "canary", "interval_seconds": 5}, "needs percent from 1 to 99, got None"),
        ({"type": "linear", "percent": 100, "interval_seconds": 5}, "needs percent from 1 to 99, got 100"),
        ({"type": "canary", "percent": 10}, "needs interval_seconds of 0 or more, got None"),
    ],
)
def test_a_bad_strategy_fails_before_any_call(run, aws, api_calls, strategy, problem):
    result = run(functions=[shifting(strategy=strategy)])

    assert result["failed"] is True
    assert f"{NAME}: strategy {strategy['type']} {problem}" in result["msg"]
    assert api_calls == []


def test_without_a_version_the_alias_goes_back_to_the_marked_previous_one(run, aws):
    run(functions=[shifting(strategy={"type": "all_at_once"})])
    aws.lambda_.publish_version(FunctionName=NAME, Description="3")  # a newer version, never served

    result = run(functions=[{"name": NAME, "alias": "live"}], mark_rolled_back=True)

    assert (result["functions"][NAME]["previous_version"], result["functions"][NAME]["alias_version"]) == ("2", "1")
    assert alias(aws)["Description"] == f"{BASE} [rolled back version 2]"


def test_without_a_marker_the_alias_goes_back_to_the_highest_version_below(run, aws):
    aws.lambda_.update_alias(FunctionName=NAME, Name="live", FunctionVersion="2", Description=BASE)

    result = run(functions=[{"name": NAME, "alias": "live"}], mark_rolled_back=True)

    assert result["functions"][NAME]["alias_version"] == "1"


def test_a_rollback_from_the_first_version_fails_naming_it(run, aws):
    result = run(functions=[{"name": NAME, "alias": "live"}], mark_rolled_back=True)

    assert result["failed"] is True
    assert f"Function {NAME} has no published version before version 1" in result["msg"]
    assert alias(aws)["FunctionVersion"] == "1"
