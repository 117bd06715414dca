"""Tests of the cloudwatch_metric_alarms module against moto's in-process emulator (mock_aws)."""

import boto3
import pytest

from ansible_collections.serverless.tasks_api.plugins.modules import cloudwatch_metric_alarms
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.monitoring import monitoring_alarms
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import (
    REGION,
    calls_of,
    operations,
)

READS = ("Describe", "List")
PREFIX = "tasks-api-test"
ARN_PREFIX = f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:{PREFIX}-alarms"
PAGER = f"arn:aws:sns:{REGION}:123456789012:{PREFIX}-pager"
ERRORS = f"{PREFIX}-get-errors"
DURATION = f"{PREFIX}-get-duration"


def errors_alarm(**overrides):
    return {
        "name": ERRORS,
        "description": "tasks-api-test-get failed 5 or more times in 300 s",
        "namespace": "AWS/Lambda",
        "metric_name": "Errors",
        "dimensions": {"FunctionName": f"{PREFIX}-get"},
        "statistic": "Sum",
        "period": 300,
        "evaluation_periods": 1,
        "threshold": 5,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "treat_missing_data": "notBreaching",
        "alarm_actions": [TOPIC],
        "ok_actions": [TOPIC],
        **overrides,
    }


def duration_alarm(**overrides):
    return {
        "name": DURATION,
        "namespace": "AWS/Lambda",
        "metric_name": "Duration",
        "dimensions": {"FunctionName": f"{PREFIX}-get"},
        "extended_statistic": "p99",
        "evaluate_low_sample_count_percentile": "evaluate",
        "unit": "Milliseconds",
        "period": 300,
        "evaluation_periods": 3,
        "datapoints_to_alarm": 2,
        "threshold": 8000.0,
        "comparison_operator": "GreaterThanThreshold",
        **overrides,
    }


ALARMS = [errors_alarm(), duration_alarm()]


@pytest.fixture
def cloudwatch(mocked_aws):
    return boto3.client("cloudwatch", region_name=REGION)


@pytest.fixture
def run(cloudwatch, module_runner):
    return module_runner(cloudwatch_metric_alarms.main, alarms=ALARMS)


def writes(api_calls):
    return [name for name in operations(api_calls) if not name.startswith(READS)]


def described(cloudwatch):
    return {alarm["AlarmName"]: alarm for alarm in cloudwatch.describe_alarms()["MetricAlarms"]}


def tags_of(cloudwatch, name):
    tags = cloudwatch.list_tags_for_resource(ResourceARN=ARN_PREFIX + name)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def puts(api_calls):
    return calls_of(api_calls, "PutMetricAlarm")


def managed(alarm, **overrides):
    """The diff view of an alarm definition of this file, with the module's defaults and normalisation."""
    return {
        "description": alarm.get("description", ""),
        "namespace": alarm["namespace"],
        "metric_name": alarm["metric_name"],
        "dimensions": alarm["dimensions"],
        "statistic": alarm.get("statistic"),
        "extended_statistic": alarm.get("extended_statistic"),
        "evaluate_low_sample_count_percentile": alarm.get("evaluate_low_sample_count_percentile"),
        "period": alarm["period"],
        "evaluation_periods": alarm["evaluation_periods"],
        "datapoints_to_alarm": alarm.get("datapoints_to_alarm", alarm["evaluation_periods"]),
        "threshold": float(alarm["threshold"]),
        "comparison_operator": alarm["comparison_operator"],
        "unit": alarm.get("unit"),
        "treat_missing_data": alarm.get("treat_missing_data", "missing"),
        "actions_enabled": True,
        "alarm_actions": alarm.get("alarm_actions", []),
        "ok_actions": alarm.get("ok_actions", []),
        "insufficient_data_actions": [],
        **overrides,
    }


# Creation


def test_create_puts_each_alarm_once_with_every_setting(run, cloudwatch, api_calls):
    result = run()

    assert result["changed"] is True
    assert writes(api_calls) == ["PutMetricAlarm", "PutMetricAlarm"]
    assert puts(api_calls) == [
        {
            "AlarmName": ERRORS,
            "AlarmDescription": ALARMS[0]["description"],
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": f"{PREFIX}-get"}],
            "Period": 300,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "Threshold": 5.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "ActionsEnabled": True,
            "Statistic": "Sum",
            "AlarmActions": [TOPIC],
            "OKActions": [TOPIC],
            "InsufficientDataActions": [],
        },
        {
            "AlarmName": DURATION,
            "AlarmDescription": "",
            "Namespace": "AWS/Lambda",
            "MetricName": "Duration",
            "Dimensions": [{"Name": "FunctionName", "Value": f"{PREFIX}-get"}],
            "Period": 300,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 2,
            "Threshold": 8000.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "missing",
            "ActionsEnabled": True,
            "ExtendedStatistic": "p99",
            "EvaluateLowSampleCountPercentile": "evaluate",
            "Unit": "Milliseconds",
            "AlarmActions": [],
            "OKActions": [],
            "InsufficientDataActions": [],
        },
    ]
    alarms = described(cloudwatch)
    assert sorted(alarms) == sorted([ERRORS, DURATION])
    assert alarms[ERRORS]["Threshold"] == 5.0
    assert alarms[DURATION]["ExtendedStatistic"] == "p99"


def test_create_reads_once_before_and_once_after_and_returns_the_arns(run, api_calls):
    result = run()

    assert (
        calls_of(api_calls, "DescribeAlarms")
        == [{"AlarmNames": [ERRORS, DURATION], "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100}] * 2
    )
    assert result["alarms"] == {
        ERRORS: {"arn": ARN_PREFIX + ERRORS, "changed": True},
        DURATION: {"arn": ARN_PREFIX + DURATION, "changed": True},
    }


def test_only_the_missing_alarm_is_created(run, cloudwatch, api_calls):
    run(alarms=[ALARMS[0]])

    result = run()

    assert [put["AlarmName"] for put in puts(api_calls)] == [DURATION]
    assert result["alarms"][ERRORS] == {"arn": ARN_PREFIX + ERRORS, "changed": False}
    assert result["alarms"][DURATION] == {"arn": ARN_PREFIX + DURATION, "changed": True}
    assert calls_of(api_calls, "DescribeAlarms")[1]["AlarmNames"] == [DURATION]


def test_names_are_described_in_batches_of_100(run, api_calls):
    alarms = [errors_alarm(name=f"{PREFIX}-{number:03}-errors") for number in range(150)]

    run(check_mode=True, alarms=alarms)

    batches = [call["AlarmNames"] for call in calls_of(api_calls, "DescribeAlarms")]
    assert [len(batch) for batch in batches] == [100, 50]
    assert batches[0] + batches[1] == [alarm["name"] for alarm in alarms]


def test_the_filter_definitions_without_kind_are_accepted_as_they_are(run, cloudwatch):
    settings = {"name_prefix": PREFIX, "api_name": PREFIX, "stage": "test", "table_name": f"{PREFIX}-tasks"}
    functions = [
        {
            "name": "get",
            "handler": "get_task.handler",
            "method": "GET",
            "path": "/tasks/{id}",
            "dynamodb_actions": ["dynamodb:GetItem"],
        }
    ]
    definitions = [
        {key: value for key, value in alarm.items() if key != "kind"}
        for alarm in monitoring_alarms(functions, settings)
    ]

    created = run(alarms=definitions)

    assert "failed" not in created, created.get("msg")
    assert sorted(described(cloudwatch)) == sorted(alarm["name"] for alarm in definitions)
    assert run(alarms=definitions)["changed"] is False


# Idempotence


def test_identical_rerun_is_unchanged_with_one_read_and_zero_writes(run, api_calls):
    run()

    second = run(diff=True)

    assert second["changed"] is False
    assert operations(api_calls) == ["DescribeAlarms"]
    assert second["diff"] == []
    assert second["alarms"] == {
        ERRORS: {"arn": ARN_PREFIX + ERRORS, "changed": False},
        DURATION: {"arn": ARN_PREFIX + DURATION, "changed": False},
    }


def test_equivalent_spellings_are_no_change(run, api_calls):
    dimensions = {"Resource": f"{PREFIX}-get:live", "FunctionName": f"{PREFIX}-get"}
    run(alarms=[errors_alarm(dimensions=dimensions, alarm_actions=[TOPIC, PAGER]), duration_alarm()])

    again = run(
        alarms=[
            errors_alarm(
                dimensions=dict(reversed(list(dimensions.items()))),
                alarm_actions=[PAGER, TOPIC, PAGER],
                threshold="5.0",
                datapoints_to_alarm=1,
            ),
            duration_alarm(treat_missing_data="missing", threshold=8000),
        ]
    )

    assert again["changed"] is False
    assert writes(api_calls) == []


def test_an_alarm_written_without_datapoints_or_missing_data_treatment_is_no_change(run, cloudwatch, api_calls):
    cloudwatch.put_metric_alarm(
        AlarmName=DURATION,
        Namespace="AWS/Lambda",
        MetricName="Duration",
        Dimensions=[{"Name": "FunctionName", "Value": f"{PREFIX}-get"}],
        ExtendedStatistic="p99",
        EvaluateLowSampleCountPercentile="evaluate",
        Unit="Milliseconds",
        Period=300,
        EvaluationPeriods=3,
        Threshold=8000,
        ComparisonOperator="GreaterThanThreshold",
    )

    result = run(alarms=[duration_alarm(datapoints_to_alarm=None)])

    assert result["changed"] is False
    assert writes(api_calls) == []


def test_the_alarm_of_an_other_stack_is_left_alone(run, cloudwatch, api_calls):
    other = errors_alarm(name="someone-else-errors")
    run(alarms=[other])

    run()

    assert "someone-else-errors" in described(cloudwatch)
    assert "DeleteAlarms" not in operations(api_calls)


# Changes


@pytest.mark.parametrize(
    ("change", "request_change"),
    [
        ({"threshold": 1}, {"Threshold": 1.0}),
        ({"description": "Changed"}, {"AlarmDescription": "Changed"}),
        ({"namespace": "Custom/Tasks"}, {"Namespace": "Custom/Tasks"}),
        ({"metric_name": "Invocations"}, {"MetricName": "Invocations"}),
        (
            {"dimensions": {"FunctionName": f"{PREFIX}-get", "Resource": f"{PREFIX}-get:live"}},
            {
                "Dimensions": [
                    {"Name": "FunctionName", "Value": f"{PREFIX}-get"},
                    {"Name": "Resource", "Value": f"{PREFIX}-get:live"},
                ]
            },
        ),
        ({"statistic": "Maximum"}, {"Statistic": "Maximum"}),
        ({"period": 60}, {"Period": 60}),
        ({"evaluation_periods": 3}, {"EvaluationPeriods": 3, "DatapointsToAlarm": 3}),
        ({"evaluation_periods": 3, "datapoints_to_alarm": 2}, {"EvaluationPeriods": 3, "DatapointsToAlarm": 2}),
        ({"comparison_operator": "GreaterThanThreshold"}, {"ComparisonOperator": "GreaterThanThreshold"}),
        ({"unit": "Count"}, {"Unit": "Count"}),
        ({"treat_missing_data": "breaching"}, {"TreatMissingData": "breaching"}),
        ({"actions_enabled": False}, {"ActionsEnabled": False}),
        ({"alarm_actions": [TOPIC, PAGER]}, {"AlarmActions": [TOPIC, PAGER]}),
        ({"ok_actions": []}, {"OKActions": []}),
        ({"insufficient_data_actions": [PAGER]}, {"InsufficientDataActions": [PAGER]}),
    ],
    ids=[
        "threshold",
        "description",
        "namespace",
        "metric_name",
        "dimensions",
        "statistic",
        "period",
        "evaluation_periods",
        "evaluation_periods and datapoints",
        "comparison_operator",
        "unit",
        "treat_missing_data",
        "actions_enabled",
        "alarm_actions",
        "ok_actions",
        "insufficient_data_actions",
    ],
)
def test_each_change_puts_only_its_alarm_once(run, cloudwatch, api_calls, change, request_change):
    run()

    result = run(alarms=[errors_alarm(**change), duration_alarm()])

    assert result["changed"] is True
    assert writes(api_calls) == ["PutMetricAlarm"]
    (put,) = puts(api_calls)
    assert put == {**cloudwatch_metric_alarms.put_params(module_params(errors_alarm())), **request_change}
    assert result["alarms"][ERRORS] == {"arn": ARN_PREFIX + ERRORS, "changed": True}
    assert result["alarms"][DURATION]["changed"] is False
    assert calls_of(api_calls, "DescribeAlarms") == [
        {"AlarmNames": [ERRORS, DURATION], "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100}
    ]
    assert run(alarms=[errors_alarm(**change), duration_alarm()])["changed"] is False


def module_params(alarm):
    """An alarm definition with the module's defaults, as main() hands it to put_params."""
    defaults = {
        "description": "",
        "dimensions": {},
        "statistic": None,
        "extended_statistic": None,
        "evaluate_low_sample_count_percentile": None,
        "datapoints_to_alarm": None,
        "unit": None,
        "treat_missing_data": "missing",
        "actions_enabled": True,
        "alarm_actions": [],
        "ok_actions": [],
        "insufficient_data_actions": [],
    }
    return {**defaults, **alarm, "threshold": float(alarm["threshold"])}


def test_switching_to_a_percentile_drops_the_statistic(run, cloudwatch, api_calls):
    run()

    percentile = {key: value for key, value in errors_alarm(extended_statistic="p90").items() if key != "statistic"}

    result = run(alarms=[percentile])

    assert result.get("changed") is True, result.get("msg")
    (put,) = puts(api_calls)
    assert "Statistic" not in put and put["ExtendedStatistic"] == "p90"
    assert described(cloudwatch)[ERRORS]["ExtendedStatistic"] == "p90"


def test_the_comparison_alias_of_the_stock_module_is_accepted(run, cloudwatch):
    definition = errors_alarm()
    definition["comparison"] = definition.pop("comparison_operator")

    result = run(alarms=[definition])

    assert result["changed"] is True
    assert described(cloudwatch)[ERRORS]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


# Check mode


def test_check_mode_create_writes_nothing_and_has_no_arn(run, cloudwatch, api_calls):
    result = run(check_mode=True)

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert operations(api_calls) == ["DescribeAlarms"]
    assert described(cloudwatch) == {}
    assert result["alarms"] == {ERRORS: {"arn": None, "changed": True}, DURATION: {"arn": None, "changed": True}}


def test_check_mode_update_writes_nothing(run, cloudwatch, api_calls):
    run()

    result = run(check_mode=True, alarms=[errors_alarm(threshold=1), duration_alarm()], tags={"Team": "api"})

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert described(cloudwatch)[ERRORS]["Threshold"] == 5.0
    assert tags_of(cloudwatch, ERRORS) == {}
    assert result["alarms"][ERRORS] == {"arn": ARN_PREFIX + ERRORS, "changed": True}


# Diff


def test_diff_on_create_has_an_empty_before(run):
    result = run(diff=True)

    assert result["diff"] == [
        {"before_header": ERRORS, "after_header": ERRORS, "before": {}, "after": managed(errors_alarm())},
        {"before_header": DURATION, "after_header": DURATION, "before": {}, "after": managed(duration_alarm())},
    ]


def test_diff_names_only_the_changed_alarm_and_differs_only_in_its_change(run):
    run()

    result = run(
        check_mode=True, diff=True, alarms=[errors_alarm(threshold=1, alarm_actions=[TOPIC, PAGER]), *ALARMS[1:]]
    )

    (entry,) = result["diff"]
    assert (entry["before_header"], entry["after_header"]) == (ERRORS, ERRORS)
    assert entry["before"] == managed(errors_alarm())
    assert entry["after"] == managed(errors_alarm(), threshold=1.0, alarm_actions=sorted([TOPIC, PAGER]))
    changed = {key for key, value in entry["after"].items() if entry["before"][key] != value}
    assert changed == {"threshold", "alarm_actions"}


def test_diff_of_a_hand_made_change_shows_what_cloudwatch_holds(run, cloudwatch):
    run()
    settings = cloudwatch.describe_alarms(AlarmNames=[ERRORS])["MetricAlarms"][0]
    kept = ("AlarmName", "AlarmDescription", "Namespace", "MetricName", "Dimensions", "Statistic", "Period")
    kept += ("EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator", "TreatMissingData", "AlarmActions")
    cloudwatch.put_metric_alarm(**{key: settings[key] for key in kept}, OKActions=[TOPIC], Threshold=7.0)

    result = run(check_mode=True, diff=True)

    (entry,) = result["diff"]
    assert (entry["before"]["threshold"], entry["after"]["threshold"]) == (7.0, 5.0)
    assert {key for key, value in entry["after"].items() if entry["before"][key] != value} == {"threshold"}


def test_diff_shows_tags_only_with_the_tags_option(run):
    run(tags={"Team": "api"})

    with_tags = run(diff=True, check_mode=True, alarms=[errors_alarm(threshold=1)], tags={"Team": "api"})
    without = run(diff=True, check_mode=True, alarms=[errors_alarm(threshold=1)])

    assert with_tags["diff"][0]["before"]["tags"] == with_tags["diff"][0]["after"]["tags"] == {"Team": "api"}
    assert "tags" not in without["diff"][0]["before"] and "tags" not in without["diff"][0]["after"]


# Tags


def test_tags_are_set_at_creation_in_the_put(run, cloudwatch, api_calls):
    run(tags={"Environment": "test", "Port": 8080})

    assert writes(api_calls) == ["PutMetricAlarm", "PutMetricAlarm"]
    assert puts(api_calls)[0]["Tags"] == [{"Key": "Environment", "Value": "test"}, {"Key": "Port", "Value": "8080"}]
    assert tags_of(cloudwatch, ERRORS) == tags_of(cloudwatch, DURATION) == {"Environment": "test", "Port": "8080"}


def test_tags_no_op_reads_the_tags_of_each_alarm_once(run, api_calls):
    run(tags={"Environment": "test"})

    result = run(tags={"Environment": "test"})

    assert result["changed"] is False
    assert sorted(operations(api_calls)) == ["DescribeAlarms", "ListTagsForResource", "ListTagsForResource"]


def test_tags_are_purged_added_and_kept_without_a_put(run, cloudwatch, api_calls):
    run(tags={"Environment": "test", "Team": "api"})

    purged = run(tags={"Environment": "prod"})

    assert purged["changed"] is True
    assert writes(api_calls) == ["UntagResource", "TagResource"] * 2
    assert calls_of(api_calls, "UntagResource")[0] == {"ResourceARN": ARN_PREFIX + ERRORS, "TagKeys": ["Team"]}
    assert tags_of(cloudwatch, ERRORS) == {"Environment": "prod"}

    kept = run(tags={"Owner": "me"}, purge_tags=False)
    assert kept["changed"] is True
    assert tags_of(cloudwatch, DURATION) == {"Environment": "prod", "Owner": "me"}

    assert run()["changed"] is False
    assert run(tags={})["changed"] is True
    assert tags_of(cloudwatch, ERRORS) == {}


def test_a_threshold_change_does_not_touch_the_tags(run, cloudwatch, api_calls):
    run(tags={"Environment": "test"})

    run(alarms=[errors_alarm(threshold=1)], tags={"Environment": "test"})

    assert writes(api_calls) == ["PutMetricAlarm"]
    assert "Tags" not in puts(api_calls)[0]
    assert tags_of(cloudwatch, ERRORS) == {"Environment": "test"}


# Bad input, faults


def test_a_repeated_name_fails_before_any_call(run, api_calls):
    result = run(alarms=[errors_alarm(), errors_alarm(threshold=1)])

    assert result["failed"] is True
    assert result["msg"] == f"alarms: the names {ERRORS} are listed more than once"
    assert api_calls == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"statistic": "Sum", "extended_statistic": "p99"}, "mutually exclusive"),
        ({"statistic": None}, "one of the following is required"),
        ({"comparison_operator": "Bigger"}, "comparison_operator"),
        ({"threshold": None}, "threshold"),
        (
            {"datapoints_to_alarm": 2},
            f"alarms[0] ({ERRORS}): datapoints_to_alarm is 2; expected 1 to evaluation_periods",
        ),
    ],
    ids=["both statistics", "no statistic", "comparison", "threshold", "datapoints"],
)
def test_a_bad_definition_fails_before_any_call(run, api_calls, overrides, message):
    definition = {key: value for key, value in errors_alarm(**overrides).items() if value is not None}

    result = run(alarms=[definition])

    assert result["failed"] is True
    assert message in result["msg"]
    assert api_calls == []


def test_a_refused_put_names_the_alarm_and_reports_what_was_written(run, cloudwatch, failing):
    run(alarms=[errors_alarm()])
    seen = failing("PutMetricAlarm", "ValidationError", "The unit Bytes is not valid for Duration")

    result = run(alarms=[errors_alarm(), duration_alarm(unit="Bytes")])

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to create metric alarm {DURATION}; check the metric")
    assert result["msg"].endswith("The unit Bytes is not valid for Duration")
    assert seen["PutMetricAlarm"] == 1
    assert result["alarms"] == {ERRORS: {"arn": ARN_PREFIX + ERRORS, "changed": False}}


def test_a_refused_update_says_update(run, failing):
    run()
    failing("PutMetricAlarm", "ValidationError", "nope")

    result = run(alarms=[errors_alarm(threshold=1)])

    assert result["msg"].startswith(f"Failed to update metric alarm {ERRORS}; ")


def test_throttled_describe_and_put_are_retried(run, cloudwatch, failing, sleeps):
    seen = failing("DescribeAlarms", "Throttling", "Rate exceeded", times=1)

    result = run()

    assert result["changed"] is True
    assert seen["DescribeAlarms"] == 3  # one throttled, one answered, one reading the ARNs back
    assert len(sleeps) == 1
    assert sorted(described(cloudwatch)) == sorted([ERRORS, DURATION])


def test_access_denied_on_describe_names_the_alarms(run, failing):
    failing("DescribeAlarms", "AccessDenied", "User is not authorized to perform: cloudwatch:DescribeAlarms")

    result = run()

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to describe the metric alarms {ERRORS}, {DURATION}: ")


def test_access_denied_on_tags_names_the_alarm(run, failing):
    run()
    failing("ListTagsForResource", "AccessDenied", "not authorized")

    result = run(tags={"Team": "api"})

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to read the tags of metric alarm {ERRORS}: ")
