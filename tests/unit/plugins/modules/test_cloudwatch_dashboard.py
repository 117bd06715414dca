"""Tests of the cloudwatch_dashboard module against moto's in-process emulator (mock_aws)."""

import json
import time
from types import SimpleNamespace

import boto3
import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto import mock_aws

from ansible_collections.serverless.tasks_api.plugins.modules import cloudwatch_dashboard
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import calls_of, operations

REGION = "us-east-1"
NAME = "tasks-api-test"
ARN = f"arn:aws:cloudwatch::123456789012:dashboard/{NAME}"
READS = ("Get", "List")
MOTO_ACCEPTS_UNKNOWN_WIDGET_TYPES = (
    "moto 5.2.5 PutDashboard only checks that the body is JSON; AWS rejects a widget of unknown type"
)
TEXT_WIDGET = {"type": "text", "x": 0, "y": 0, "width": 6, "height": 3, "properties": {"markdown": "Tasks API"}}
METRIC_WIDGET = {
    "type": "metric",
    "x": 6,
    "y": 0,
    "width": 12,
    "height": 6,
    "properties": {
        "title": "Errors",
        "region": REGION,
        "stat": "Sum",
        "period": 300,
        "metrics": [["AWS/Lambda", "Errors", "FunctionName", "tasks-api-test-list-tasks"]],
    },
}
BODY = {"widgets": [TEXT_WIDGET, METRIC_WIDGET]}
CHANGED_BODY = {"widgets": [TEXT_WIDGET, {**METRIC_WIDGET, "width": 24}]}
REJECTION = "The dashboard body is invalid, there are 1 validation errors"
WIDGET_TYPE_MESSAGE = {"DataPath": "/widgets/0/type", "Message": "Should be equal to one of the allowed values"}


@pytest.fixture
def aws(monkeypatch):
    """moto's mock of every AWS service, with a CloudWatch client for setting up and reading back."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield SimpleNamespace(cloudwatch=boto3.client("cloudwatch", region_name=REGION))


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Start each test with no warnings: ansible-core keeps module.warn() messages in a process-wide dict."""
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})


@pytest.fixture
def sleeps(monkeypatch):
    """Replace time.sleep, recording the pauses."""
    pauses = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    return pauses


@pytest.fixture
def failing(monkeypatch, api_calls, sleeps):
    """Make one operation raise a ClientError the first `times` calls (None: always); count its calls.

    `extra` adds fields to the error response, as a modeled error of the protocol carries them.
    """
    seen = {}

    def inject(operation, code, message, times=None, extra=None):
        recording = BaseClient._make_api_call
        seen[operation] = 0

        def faulty(self, operation_name, api_params):
            if operation_name == operation:
                seen[operation] += 1
                if times is None or seen[operation] <= times:
                    api_calls.append((operation_name, api_params))
                    error = {
                        "Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": 400},
                        **(extra or {}),
                    }
                    raise ClientError(error, operation_name)
            return recording(self, operation_name, api_params)

        monkeypatch.setattr(BaseClient, "_make_api_call", faulty)
        return seen

    return inject


@pytest.fixture
def validation_messages(monkeypatch):
    """Make PutDashboard store the body and answer with these validation messages, as AWS does for warnings."""

    def answer_with(messages):
        recording = BaseClient._make_api_call

        def answering(self, operation_name, api_params):
            response = recording(self, operation_name, api_params)
            if operation_name == "PutDashboard":
                response["DashboardValidationMessages"] = messages
            return response

        monkeypatch.setattr(BaseClient, "_make_api_call", answering)

    return answer_with


@pytest.fixture
def run(aws, run_main):
    """Run the module's main() on the test dashboard with BODY by default; return its JSON result.

    api_calls holds the operations of the last run only; an argument given as None is omitted.
    """

    def run_module(check_mode=False, diff=False, **args):
        module_args = {
            "access_key": "testing",
            "secret_key": "testing",
            "region": REGION,
            "name": NAME,
            "body": BODY,
            "_ansible_check_mode": check_mode,
            "_ansible_diff": diff,
            **args,
        }
        module_args = {key: value for key, value in module_args.items() if value is not None}
        return run_main(cloudwatch_dashboard.main, module_args)

    return run_module


def warnings(result):
    """The messages of the warnings in a result (ansible-core 2.19 returns them as WarningSummary dicts)."""
    return [item["event"]["msg"] if isinstance(item, dict) else item for item in result.get("warnings", [])]


def writes(api_calls):
    return [name for name in operations(api_calls) if not name.startswith(READS)]


def stored_text(aws):
    return aws.cloudwatch.get_dashboard(DashboardName=NAME)["DashboardBody"]


def stored_body(aws):
    return json.loads(stored_text(aws))


def dashboard_names(aws):
    return [entry["DashboardName"] for entry in aws.cloudwatch.list_dashboards()["DashboardEntries"]]


def put_directly(aws, text):
    aws.cloudwatch.put_dashboard(DashboardName=NAME, DashboardBody=text)


# Creation


def test_create_puts_the_body_once_and_returns_the_dashboard(run, aws, api_calls):
    result = run()

    assert result["changed"] is True
    assert writes(api_calls) == ["PutDashboard"]
    assert stored_body(aws) == BODY
    assert result["dashboard"] == {"name": NAME, "arn": ARN, "body": BODY}
    assert warnings(result) == []


def test_create_sends_compact_json_with_sorted_keys(run, aws, api_calls):
    run()

    [put] = calls_of(api_calls, "PutDashboard")
    assert put == {"DashboardName": NAME, "DashboardBody": json.dumps(BODY, sort_keys=True, separators=(",", ":"))}
    assert stored_text(aws) == put["DashboardBody"]


def test_body_given_as_json_text_is_taken_as_data(run, aws):
    run(body=json.dumps(BODY))

    assert stored_body(aws) == BODY
    assert run()["changed"] is False


def test_present_without_body_fails_before_any_call(run, aws, api_calls):
    result = run(body=None)

    assert result["failed"] is True
    assert "body" in result["msg"]
    assert api_calls == []


# Idempotence: the body is compared as data


def test_identical_rerun_is_unchanged_with_zero_writes(run, aws, api_calls):
    run()

    second = run()

    assert second["changed"] is False
    assert operations(api_calls) == ["GetDashboard"]
    assert second["dashboard"] == {"name": NAME, "arn": ARN, "body": BODY}


def test_key_order_and_spacing_only_difference_is_no_change(run, aws, api_calls):
    reordered = {"widgets": [dict(reversed(list(widget.items()))) for widget in BODY["widgets"]]}
    put_directly(aws, json.dumps(reordered, indent=4))

    result = run()

    assert result["changed"] is False
    assert writes(api_calls) == []
    assert stored_text(aws) == json.dumps(reordered, indent=4)


def test_real_change_writes_once(run, aws, api_calls):
    run()

    result = run(body=CHANGED_BODY)

    assert result["changed"] is True
    assert writes(api_calls) == ["PutDashboard"]
    assert stored_body(aws) == CHANGED_BODY
    assert result["dashboard"]["body"] == CHANGED_BODY
    assert run(body=CHANGED_BODY)["changed"] is False


def test_a_number_given_as_text_is_a_real_change(run, aws, api_calls):
    run()

    result = run(body={"widgets": [{**TEXT_WIDGET, "width": "6"}, METRIC_WIDGET]})

    assert result["changed"] is True
    assert writes(api_calls) == ["PutDashboard"]


def test_widget_order_is_a_real_change(run, aws, api_calls):
    run()

    result = run(body={"widgets": [METRIC_WIDGET, TEXT_WIDGET]})

    assert result["changed"] is True
    assert stored_body(aws)["widgets"][0] == METRIC_WIDGET


# Check mode


def test_check_mode_create_writes_nothing(run, aws, api_calls):
    result = run(check_mode=True)

    assert result["changed"] is True
    assert result["dashboard"] == {}
    assert writes(api_calls) == []
    assert dashboard_names(aws) == []


def test_check_mode_update_writes_nothing(run, aws, api_calls):
    run()

    result = run(check_mode=True, body=CHANGED_BODY)

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert stored_body(aws) == BODY
    assert result["dashboard"]["body"] == BODY


def test_check_mode_without_difference_is_unchanged(run, aws, api_calls):
    run()

    assert run(check_mode=True)["changed"] is False
    assert writes(api_calls) == []


def test_check_mode_delete_keeps_the_dashboard(run, aws, api_calls):
    run()

    result = run(check_mode=True, state="absent")

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert dashboard_names(aws) == [NAME]


# Diff: the bodies as data, which Ansible renders as a unified diff


def headers():
    return {"before_header": f"dashboard {NAME}", "after_header": f"dashboard {NAME}"}


def test_diff_on_create(run, aws):
    result = run(diff=True)

    assert result["diff"] == {**headers(), "before": {}, "after": BODY}


def test_diff_on_update(run, aws):
    run()

    result = run(diff=True, body=CHANGED_BODY)

    assert result["diff"] == {**headers(), "before": BODY, "after": CHANGED_BODY}


def test_diff_in_check_mode_says_what_a_real_run_would_do(run, aws):
    run()

    result = run(diff=True, check_mode=True, body=CHANGED_BODY)

    assert result["diff"] == {**headers(), "before": BODY, "after": CHANGED_BODY}


def test_diff_of_a_no_op_has_equal_sides(run, aws):
    put_directly(aws, json.dumps(BODY, indent=2))

    result = run(diff=True)

    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"] == BODY


def test_diff_on_delete(run, aws):
    run()

    result = run(diff=True, state="absent")

    assert result["diff"] == {**headers(), "before": BODY, "after": {}}


# Deletion


def test_absent_deletes_then_is_unchanged(run, aws, api_calls):
    run()

    deleted = run(state="absent", body=None)

    assert deleted["changed"] is True
    assert deleted["dashboard"] == {}
    assert calls_of(api_calls, "DeleteDashboards") == [{"DashboardNames": [NAME]}]
    assert dashboard_names(aws) == []

    again = run(state="absent", body=None)

    assert again["changed"] is False
    assert "failed" not in again
    assert operations(api_calls) == ["GetDashboard"]


def test_absent_when_missing_is_unchanged(run, aws, api_calls):
    result = run(state="absent", body=None)

    assert result["changed"] is False
    assert result["dashboard"] == {}
    assert writes(api_calls) == []


def test_dashboard_deleted_by_someone_else_meanwhile_is_unchanged(run, aws, failing):
    run()
    failing("DeleteDashboards", "ResourceNotFound", f"The specified dashboard does not exist. [{NAME}]")

    result = run(state="absent")

    assert result["changed"] is False
    assert "failed" not in result


# Validation of the body by CloudWatch


@pytest.mark.xfail(reason=MOTO_ACCEPTS_UNKNOWN_WIDGET_TYPES, strict=True)
def test_widget_of_unknown_type_fails_with_the_validation_message(run, aws):
    result = run(body={"widgets": [{**TEXT_WIDGET, "type": "sparkles"}]})

    assert result.get("failed") is True
    assert "/widgets/0/type" in result["msg"]


def test_rejected_body_fails_with_the_validation_messages(run, aws, failing):
    failing(
        "PutDashboard",
        "InvalidParameterInput",
        REJECTION,
        extra={"dashboardValidationMessages": [WIDGET_TYPE_MESSAGE]},
    )

    result = run(body={"widgets": [{**TEXT_WIDGET, "type": "sparkles"}]})

    assert result["failed"] is True
    assert result["msg"].startswith(
        f"CloudWatch rejected the body of dashboard {NAME}:"
        " /widgets/0/type: Should be equal to one of the allowed values; check the body against"
    )
    assert result["msg"].endswith(REJECTION)
    assert result["dashboard_validation_messages"] == [
        {"data_path": "/widgets/0/type", "message": "Should be equal to one of the allowed values"}
    ]
    assert dashboard_names(aws) == []


def test_rejected_body_without_messages_still_names_the_dashboard(run, aws, failing):
    failing("PutDashboard", "InvalidParameterInput", "Body is invalid JSON")

    result = run()

    assert result["failed"] is True
    assert result["msg"].startswith(f"CloudWatch rejected the body of dashboard {NAME}; check the body")


def test_validation_messages_of_an_accepted_body_are_warnings(run, aws, validation_messages):
    validation_messages([{"DataPath": "/widgets/1/properties/region", "Message": "Region is not enabled"}])

    result = run()

    assert result["changed"] is True
    assert warnings(result) == [f"Dashboard {NAME}: /widgets/1/properties/region: Region is not enabled"]
    assert stored_body(aws) == BODY


# Faults only real AWS shows


def test_throttled_put_is_retried_once(run, aws, api_calls, failing, sleeps):
    seen = failing("PutDashboard", "Throttling", "Rate exceeded", times=1)

    result = run()

    assert result["changed"] is True
    assert seen["PutDashboard"] == 2
    assert len(sleeps) == 1
    assert writes(api_calls) == ["PutDashboard", "PutDashboard"]
    assert stored_body(aws) == BODY


def test_throttled_read_is_retried_once(run, aws, failing, sleeps):
    run()
    seen = failing("GetDashboard", "Throttling", "Rate exceeded", times=1)

    result = run()

    assert result["changed"] is False
    assert seen["GetDashboard"] == 2
    assert len(sleeps) == 1


def test_access_denied_on_read_names_the_dashboard(run, aws, failing):
    failing("GetDashboard", "AccessDenied", "User is not authorized to perform: cloudwatch:GetDashboard")

    result = run()

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to get dashboard {NAME}: ")
