"""Tests of the cloudwatch_composite_alarm module against moto's in-process emulator (mock_aws).

moto 5.2.5 stores composite alarms (an alarm with a rule), describes them under ``CompositeAlarms`` and tags
them, but has no PutCompositeAlarm. The ``aws`` fixture adds that one operation to moto, on moto's own
backend, as AWS documents it (the call replaces the whole alarm; tags count only when it creates the alarm).
``test_moto_implements_put_composite_alarm`` runs without that addition and is a strict xfail: when a moto
release implements the operation it passes, fails as strict, and the addition can go.
"""

import time
from types import SimpleNamespace

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import EmptyResult

from ansible_collections.serverless.tasks_api.plugins.modules import cloudwatch_composite_alarm
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import calls_of, operations

REGION = "us-east-1"
NAME = "tasks-api-test-unhealthy"
ARN = f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{NAME}"
READS = ("Describe", "List")
MOTO_HAS_NO_PUT_COMPOSITE_ALARM = "moto 5.2.5 does not implement PutCompositeAlarm (NotImplementedError)"
ERRORS = "tasks-api-test-errors"
THROTTLES = "tasks-api-test-throttles"
LATENCY = "tasks-api-test-latency"
RULE = f'ALARM("{ERRORS}") OR ALARM("{THROTTLES}")'
TOPIC = f"arn:aws:sns:{REGION}:123456789012:tasks-api-test-alarms"
PAGER = f"arn:aws:sns:{REGION}:123456789012:tasks-api-test-pager"
# Unmanaged settings that moto's stored alarm carries when PutCompositeAlarm sends them.
SUPPRESSION = {
    "ActionsSuppressor": "actions_suppressor",
    "ActionsSuppressorWaitPeriod": "actions_suppressor_wait_period",
    "ActionsSuppressorExtensionPeriod": "actions_suppressor_extension_period",
}


def put_composite_alarm(self):
    """PutCompositeAlarm for moto 5.2.5, on the backend's own store of alarms (an alarm with a rule is composite)."""
    backend = self.cloudwatch_backend
    name = self._get_param("AlarmName")
    created = name not in backend.alarms
    alarm = backend.put_metric_alarm(
        name=name,
        namespace=None,
        metric_name=None,
        comparison_operator=None,
        evaluation_periods=None,
        period=None,
        threshold=None,
        statistic=None,
        description=self._get_param("AlarmDescription"),
        dimensions=[],
        alarm_actions=self._get_param("AlarmActions", []),
        ok_actions=self._get_param("OKActions", []),
        insufficient_data_actions=self._get_param("InsufficientDataActions", []),
        actions_enabled=self._get_bool_param("ActionsEnabled"),
        rule=self._get_param("AlarmRule"),
        tags=self._get_param("Tags", []) if created else None,  # AWS ignores the tags of an update
    )
    for key, attribute in SUPPRESSION.items():
        setattr(alarm, attribute, self._get_param(key))
    return EmptyResult()


@pytest.fixture
def plain_aws(monkeypatch):
    """moto's mock of every AWS service as released, with the metric alarms the rules refer to."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for name, metric in ((ERRORS, "Errors"), (THROTTLES, "Throttles"), (LATENCY, "Duration")):
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/Lambda",
                MetricName=metric,
                Dimensions=[{"Name": "FunctionName", "Value": "tasks-api-test-list-tasks"}],
                Statistic="Sum",
                Period=300,
                EvaluationPeriods=1,
                Threshold=5,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
        yield SimpleNamespace(cloudwatch=cloudwatch)


@pytest.fixture
def aws(plain_aws, monkeypatch):
    """plain_aws with PutCompositeAlarm added to moto."""
    monkeypatch.setattr(CloudWatchResponse, "put_composite_alarm", put_composite_alarm, raising=False)
    return plain_aws


@pytest.fixture
def sleeps(monkeypatch):
    """Replace time.sleep, recording the pauses."""
    pauses = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    return pauses


@pytest.fixture
def failing(monkeypatch, api_calls, sleeps):
    """Make one operation raise a ClientError the first `times` calls (None: always); count its calls."""
    seen = {}

    def inject(operation, code, message, times=None):
        recording = BaseClient._make_api_call
        seen[operation] = 0

        def faulty(self, operation_name, api_params):
            if operation_name == operation:
                seen[operation] += 1
                if times is None or seen[operation] <= times:
                    api_calls.append((operation_name, api_params))
                    error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}
                    raise ClientError(error, operation_name)
            return recording(self, operation_name, api_params)

        monkeypatch.setattr(BaseClient, "_make_api_call", faulty)
        return seen

    return inject


@pytest.fixture
def run(plain_aws, run_main):
    """Run the module's main() on the test alarm with RULE by default; return its JSON result.

    api_calls holds the operations of the last run only; an argument given as None is omitted.
    """

    def run_module(check_mode=False, diff=False, **args):
        module_args = {
            "access_key": "testing",
            "secret_key": "testing",
            "region": REGION,
            "name": NAME,
            "rule": RULE,
            "_ansible_check_mode": check_mode,
            "_ansible_diff": diff,
            **args,
        }
        module_args = {key: value for key, value in module_args.items() if value is not None}
        return run_main(cloudwatch_composite_alarm.main, module_args)

    return run_module


def writes(api_calls):
    return [name for name in operations(api_calls) if not name.startswith(READS)]


def described(aws):
    alarms = aws.cloudwatch.describe_alarms(AlarmNames=[NAME], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    return alarms[0] if alarms else None


def tags_of(aws):
    return {tag["Key"]: tag["Value"] for tag in aws.cloudwatch.list_tags_for_resource(ResourceARN=ARN)["Tags"]}


def puts(api_calls):
    return calls_of(api_calls, "PutCompositeAlarm")


def put_request(**overrides):
    """The PutCompositeAlarm request of the module's defaults and RULE."""
    return {
        "AlarmName": NAME,
        "AlarmRule": RULE,
        "AlarmDescription": "",
        "ActionsEnabled": True,
        "AlarmActions": [],
        "OKActions": [],
        "InsufficientDataActions": [],
        **overrides,
    }


FULL = {
    "description": "The tasks API fails or is throttled",
    "alarm_actions": [TOPIC],
    "ok_actions": [TOPIC],
    "insufficient_data_actions": [],
    "tags": {"Environment": "test", "ManagedBy": "ansible"},
}


# Creation


def test_create_sends_every_setting_and_the_tags_in_one_call(run, aws, api_calls):
    result = run(**FULL)

    assert result["changed"] is True
    assert writes(api_calls) == ["PutCompositeAlarm"]
    assert puts(api_calls) == [
        put_request(
            AlarmDescription=FULL["description"],
            AlarmActions=[TOPIC],
            OKActions=[TOPIC],
            Tags=[{"Key": "Environment", "Value": "test"}, {"Key": "ManagedBy", "Value": "ansible"}],
        )
    ]
    alarm = described(aws)
    assert alarm["AlarmRule"] == RULE
    assert alarm["AlarmDescription"] == FULL["description"]
    assert alarm["AlarmActions"] == [TOPIC]
    assert alarm["OKActions"] == [TOPIC]
    assert alarm["ActionsEnabled"] is True
    assert tags_of(aws) == FULL["tags"]


def test_create_returns_the_alarm_with_its_tags(run, aws):
    result = run(**FULL)

    alarm = result["alarm"]
    assert alarm["alarm_name"] == NAME
    assert alarm["alarm_arn"] == ARN
    assert alarm["alarm_rule"] == RULE
    assert alarm["alarm_description"] == FULL["description"]
    assert alarm["actions_enabled"] is True
    assert alarm["alarm_actions"] == [TOPIC]
    assert alarm["ok_actions"] == [TOPIC]
    assert alarm["insufficient_data_actions"] == []
    assert isinstance(alarm["state_updated_timestamp"], str)
    assert alarm["tags"] == FULL["tags"]


def test_create_without_tags_sends_none(run, aws, api_calls):
    result = run()

    assert puts(api_calls) == [put_request()]
    assert result["alarm"]["tags"] == {}


def test_repeated_actions_are_sent_once_in_their_order(run, aws, api_calls):
    run(alarm_actions=[TOPIC, PAGER, TOPIC])

    assert puts(api_calls)[0]["AlarmActions"] == [TOPIC, PAGER]


def test_a_metric_alarm_is_not_taken_for_the_composite_alarm(run, aws, api_calls):
    result = run(check_mode=True, diff=True, name=ERRORS, rule=f'ALARM("{THROTTLES}")')

    assert calls_of(api_calls, "DescribeAlarms") == [{"AlarmNames": [ERRORS], "AlarmTypes": ["CompositeAlarm"]}]
    assert result["changed"] is True
    assert result["diff"]["before"] == {}


def test_present_without_rule_fails_before_any_call(run, aws, api_calls):
    result = run(rule=None)

    assert result["failed"] is True
    assert "rule" in result["msg"]
    assert api_calls == []


@pytest.mark.xfail(reason=MOTO_HAS_NO_PUT_COMPOSITE_ALARM, raises=NotImplementedError, strict=True)
def test_moto_implements_put_composite_alarm(run, plain_aws):
    result = run()

    assert result["changed"] is True
    assert described(plain_aws)["AlarmRule"] == RULE


# Idempotence


def test_identical_rerun_is_unchanged_with_zero_writes(run, aws, api_calls):
    run(**FULL)

    second = run(**FULL)

    assert second["changed"] is False
    assert operations(api_calls) == ["DescribeAlarms", "ListTagsForResource"]
    assert second["alarm"]["alarm_rule"] == RULE
    assert second["alarm"]["tags"] == FULL["tags"]


def test_action_order_and_repeats_are_no_change(run, aws, api_calls):
    run(alarm_actions=[TOPIC, PAGER])

    result = run(alarm_actions=[PAGER, TOPIC, PAGER])

    assert result["changed"] is False
    assert writes(api_calls) == []


# Changes: one PutCompositeAlarm with the whole configuration


@pytest.mark.parametrize(
    ("change", "request_change", "read_back"),
    [
        (
            {"rule": f'ALARM("{ERRORS}") AND NOT ALARM("{LATENCY}")'},
            {"AlarmRule": f'ALARM("{ERRORS}") AND NOT ALARM("{LATENCY}")'},
            ("AlarmRule", f'ALARM("{ERRORS}") AND NOT ALARM("{LATENCY}")'),
        ),
        ({"description": "Changed"}, {"AlarmDescription": "Changed"}, ("AlarmDescription", "Changed")),
        ({"actions_enabled": False}, {"ActionsEnabled": False}, ("ActionsEnabled", False)),
        ({"alarm_actions": [TOPIC, PAGER]}, {"AlarmActions": [TOPIC, PAGER]}, ("AlarmActions", [TOPIC, PAGER])),
        ({"ok_actions": []}, {"OKActions": []}, ("OKActions", [])),
        (
            {"insufficient_data_actions": [PAGER]},
            {"InsufficientDataActions": [PAGER]},
            ("InsufficientDataActions", [PAGER]),
        ),
    ],
    ids=["rule", "description", "actions_enabled", "alarm_actions", "ok_actions", "insufficient_data_actions"],
)
def test_each_change_puts_the_whole_alarm_once(run, aws, api_calls, change, request_change, read_back):
    settings = {**FULL, "tags": None}
    run(**settings)

    result = run(**{**settings, **change})

    assert result["changed"] is True
    assert writes(api_calls) == ["PutCompositeAlarm"]
    assert puts(api_calls) == [
        put_request(
            **{"AlarmDescription": FULL["description"], "AlarmActions": [TOPIC], "OKActions": [TOPIC], **request_change}
        )
    ]
    key, value = read_back
    assert described(aws)[key] == value
    assert run(**{**settings, **change})["changed"] is False


def test_update_keeps_action_suppression_it_does_not_manage(run, aws, api_calls):
    aws.cloudwatch.put_composite_alarm(
        AlarmName=NAME,
        AlarmRule=RULE,
        ActionsSuppressor=LATENCY,
        ActionsSuppressorWaitPeriod=60,
        ActionsSuppressorExtensionPeriod=120,
    )

    run(description="Changed")

    assert puts(api_calls) == [
        put_request(
            AlarmDescription="Changed",
            ActionsSuppressor=LATENCY,
            ActionsSuppressorWaitPeriod=60,
            ActionsSuppressorExtensionPeriod=120,
        )
    ]
    assert described(aws)["ActionsSuppressor"] == LATENCY


def test_update_does_not_send_tags(run, aws, api_calls):
    run(tags={"Environment": "test"})

    run(description="Changed", tags={"Environment": "test"})

    assert "Tags" not in puts(api_calls)[0]
    assert writes(api_calls) == ["PutCompositeAlarm"]


# Tags


def test_tags_are_purged_added_and_kept(run, aws, api_calls):
    run(tags={"Environment": "test", "Team": "api"})

    purged = run(tags={"Environment": "prod"})

    assert purged["changed"] is True
    assert writes(api_calls) == ["UntagResource", "TagResource"]
    assert calls_of(api_calls, "UntagResource") == [{"ResourceARN": ARN, "TagKeys": ["Team"]}]
    assert calls_of(api_calls, "TagResource") == [
        {"ResourceARN": ARN, "Tags": [{"Key": "Environment", "Value": "prod"}]}
    ]
    assert tags_of(aws) == {"Environment": "prod"}
    assert purged["alarm"]["tags"] == {"Environment": "prod"}

    kept = run(tags={"Owner": "me"}, purge_tags=False)
    assert kept["changed"] is True
    assert tags_of(aws) == {"Environment": "prod", "Owner": "me"}

    assert run()["changed"] is False
    assert run(tags={})["changed"] is True
    assert tags_of(aws) == {}


def test_tag_values_are_compared_as_text(run, aws, api_calls):
    run(tags={"Port": 8080})

    assert run(tags={"Port": "8080"})["changed"] is False
    assert tags_of(aws) == {"Port": "8080"}


# Check mode


def test_check_mode_create_writes_nothing(run, aws, api_calls):
    result = run(check_mode=True, **FULL)

    assert result["changed"] is True
    assert result["alarm"] == {}
    assert writes(api_calls) == []
    assert described(aws) is None


def test_check_mode_update_writes_nothing(run, aws, api_calls):
    run(**FULL)
    before = described(aws)

    result = run(check_mode=True, **{**FULL, "rule": f'ALARM("{ERRORS}")', "tags": {"Environment": "prod"}})

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert described(aws) == before
    assert tags_of(aws) == FULL["tags"]
    assert result["alarm"]["alarm_rule"] == RULE


def test_check_mode_tags_only_change_is_reported(run, aws, api_calls):
    run(**FULL)

    result = run(check_mode=True, **{**FULL, "tags": {"Environment": "prod"}})

    assert result["changed"] is True
    assert writes(api_calls) == []


def test_check_mode_delete_keeps_the_alarm(run, aws, api_calls):
    run()

    result = run(check_mode=True, state="absent")

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert described(aws) is not None


# Diff


def managed(**overrides):
    return {
        "rule": RULE,
        "description": FULL["description"],
        "actions_enabled": True,
        "alarm_actions": [TOPIC],
        "ok_actions": [TOPIC],
        "insufficient_data_actions": [],
        "tags": FULL["tags"],
        **overrides,
    }


def test_diff_on_create(run, aws):
    result = run(diff=True, **FULL)

    assert result["diff"] == {"before": {}, "after": managed()}


def test_diff_on_update_sorts_the_actions(run, aws):
    run(**FULL)

    result = run(diff=True, **{**FULL, "alarm_actions": [TOPIC, PAGER], "actions_enabled": False, "tags": None})

    assert result["diff"] == {
        "before": managed(),
        "after": managed(alarm_actions=sorted([TOPIC, PAGER]), actions_enabled=False),
    }


def test_diff_of_a_no_op_has_equal_sides(run, aws):
    run(**FULL)

    result = run(diff=True, **FULL)

    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"] == managed()


def test_diff_on_delete(run, aws):
    run(**FULL)

    result = run(diff=True, state="absent")

    assert result["diff"] == {"before": managed(), "after": {}}


# Deletion


def test_absent_deletes_then_is_unchanged(run, aws, api_calls):
    run(**FULL)

    deleted = run(state="absent", rule=None)

    assert deleted["changed"] is True
    assert deleted["alarm"] == {}
    assert calls_of(api_calls, "DeleteAlarms") == [{"AlarmNames": [NAME]}]
    assert described(aws) is None
    assert described_metric_alarms(aws) == sorted([ERRORS, THROTTLES, LATENCY])

    again = run(state="absent", rule=None)

    assert again["changed"] is False
    assert "failed" not in again
    assert operations(api_calls) == ["DescribeAlarms"]


def described_metric_alarms(aws):
    return sorted(alarm["AlarmName"] for alarm in aws.cloudwatch.describe_alarms()["MetricAlarms"])


def test_absent_when_missing_is_unchanged(run, aws, api_calls):
    result = run(state="absent")

    assert result["changed"] is False
    assert result["alarm"] == {}
    assert writes(api_calls) == []


def test_alarm_deleted_by_someone_else_meanwhile_is_unchanged(run, aws, failing):
    run()
    failing("DeleteAlarms", "ResourceNotFound", f"Alarm {NAME} does not exist")

    result = run(state="absent")

    assert result["changed"] is False
    assert "failed" not in result


def test_delete_refused_names_the_parent_alarm_hint(run, aws, failing):
    run()
    failing("DeleteAlarms", "ResourceConflict", "The alarm is referenced by a composite alarm")

    result = run(state="absent")

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to delete composite alarm {NAME}; if the rule of another composite alarm")


# Faults only real AWS shows


def test_rejected_rule_fails_with_what_to_check(run, aws, failing):
    failing("PutCompositeAlarm", "ValidationError", "Could not save the composite alarm as alarms [nope] do not exist")

    result = run(rule='ALARM("nope")')

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to create composite alarm {NAME}; check the syntax of the rule")
    assert "every alarm it names exists in this region" in result["msg"]
    assert result["msg"].endswith("do not exist")


def test_throttled_put_is_retried_once(run, aws, api_calls, failing, sleeps):
    seen = failing("PutCompositeAlarm", "Throttling", "Rate exceeded", times=1)

    result = run()

    assert result["changed"] is True
    assert seen["PutCompositeAlarm"] == 2
    assert len(sleeps) == 1
    assert writes(api_calls) == ["PutCompositeAlarm", "PutCompositeAlarm"]
    assert described(aws)["AlarmRule"] == RULE


def test_throttled_describe_is_retried_once(run, aws, failing, sleeps):
    run()
    seen = failing("DescribeAlarms", "Throttling", "Rate exceeded", times=1)

    result = run()

    assert result["changed"] is False
    assert seen["DescribeAlarms"] == 2
    assert len(sleeps) == 1


def test_access_denied_on_read_names_the_alarm(run, aws, failing):
    failing("DescribeAlarms", "AccessDenied", "User is not authorized to perform: cloudwatch:DescribeAlarms")

    result = run()

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to describe composite alarm {NAME}: ")
