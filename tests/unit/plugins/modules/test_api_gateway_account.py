"""Tests of the api_gateway_account module against moto's in-process emulator (mock_aws).

moto 5.2.5 keeps the account settings per account and region, and implements GetAccount and UpdateAccount with
the cloudwatchRoleArn replace patch. It does not check the role: it accepts any string, an unknown role, or a role
that does not trust apigateway.amazonaws.com, so the propagation error of real AWS is injected.
"""

from types import SimpleNamespace

import boto3
import pytest
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.serverless.tasks_api.plugins.modules import api_gateway_account
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import (
    REGION,
    calls_of,
    operations,
    trust_policy,
    writes,
)

PROPAGATION_ERROR = "The role ARN does not have required permissions set to API Gateway"
OTHER_ROLE = "arn:aws:iam::123456789012:role/someone-elses-logs-role"


@pytest.fixture
def aws(mocked_aws):
    """moto's mock of every AWS service, with a role API Gateway may assume to write logs."""
    iam = boto3.client("iam", region_name=REGION)
    trust = trust_policy("apigateway.amazonaws.com")
    role = iam.create_role(RoleName="apigateway-cloudwatch-logs", Path="/service-role/", AssumeRolePolicyDocument=trust)
    return SimpleNamespace(apigateway=boto3.client("apigateway", region_name=REGION), role=role["Role"]["Arn"])


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Start each test with no warnings: ansible-core keeps module.warn() messages in a process-wide dict."""
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})


@pytest.fixture
def run(aws, module_runner):
    """Run the module's main() setting the test role; return its JSON result."""
    return module_runner(api_gateway_account.main, cloudwatch_role_arn=aws.role)


def warnings(result):
    """The messages of the warnings in a result (ansible-core 2.19 returns them as WarningSummary dicts)."""
    return [item["event"]["msg"] if isinstance(item, dict) else item for item in result.get("warnings", [])]


def role_set(aws):
    return aws.apigateway.get_account().get("cloudwatchRoleArn")


def set_role_outside(aws, arn):
    aws.apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}])


def replace_patch(arn):
    return [{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}]


# Setting the role


def test_sets_the_role_when_none_is_set(run, aws, api_calls):
    result = run()

    assert result["changed"] is True
    assert writes(api_calls) == ["UpdateAccount"]
    assert calls_of(api_calls, "UpdateAccount") == [{"patchOperations": replace_patch(aws.role)}]
    assert role_set(aws) == aws.role
    assert warnings(result) == []


def test_returns_the_account_snake_cased(run, aws):
    account = run()["account"]

    assert account["cloudwatch_role_arn"] == aws.role
    assert account["throttle_settings"] == {"burst_limit": 5000, "rate_limit": 10000.0}
    assert "api_key_version" in account


def test_the_setting_is_per_region(run, aws):
    run()

    assert boto3.client("apigateway", region_name="eu-west-1").get_account().get("cloudwatchRoleArn") is None


# Idempotence


def test_identical_rerun_is_unchanged_with_zero_writes(run, aws, api_calls):
    run()

    second = run()

    assert second["changed"] is False
    assert writes(api_calls) == []
    assert operations(api_calls) == ["GetAccount"]
    assert second["account"]["cloudwatch_role_arn"] == aws.role
    assert warnings(second) == []


# A role set by someone else


def test_a_different_role_is_kept_with_a_warning_without_overwrite(run, aws, api_calls):
    set_role_outside(aws, OTHER_ROLE)

    result = run()

    assert result["changed"] is False
    assert writes(api_calls) == []
    assert role_set(aws) == OTHER_ROLE
    assert result["account"]["cloudwatch_role_arn"] == OTHER_ROLE
    [warning] = warnings(result)
    assert OTHER_ROLE in warning
    assert aws.role in warning
    assert "Set overwrite to true" in warning


def test_a_different_role_is_replaced_with_overwrite(run, aws, api_calls):
    set_role_outside(aws, OTHER_ROLE)

    result = run(overwrite=True)

    assert result["changed"] is True
    assert calls_of(api_calls, "UpdateAccount") == [{"patchOperations": replace_patch(aws.role)}]
    assert role_set(aws) == aws.role
    assert result["account"]["cloudwatch_role_arn"] == aws.role
    assert warnings(result) == []
    assert run(overwrite=True)["changed"] is False


def test_overwrite_sets_the_role_when_none_is_set(run, aws):
    assert run(overwrite=True)["changed"] is True
    assert role_set(aws) == aws.role


# Check mode


def test_check_mode_writes_nothing(run, aws, api_calls):
    result = run(check_mode=True)

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert role_set(aws) is None
    assert result["account"].get("cloudwatch_role_arn") is None


def test_check_mode_overwrite_writes_nothing(run, aws, api_calls):
    set_role_outside(aws, OTHER_ROLE)

    result = run(check_mode=True, overwrite=True)

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert role_set(aws) == OTHER_ROLE


def test_check_mode_keeps_a_different_role_with_a_warning(run, aws, api_calls):
    set_role_outside(aws, OTHER_ROLE)

    result = run(check_mode=True)

    assert result["changed"] is False
    assert writes(api_calls) == []
    assert OTHER_ROLE in warnings(result)[0]


# Diff


def test_diff_when_none_is_set(run, aws):
    result = run(diff=True)

    assert result["diff"] == {"before": {"cloudwatch_role_arn": None}, "after": {"cloudwatch_role_arn": aws.role}}


def test_diff_in_check_mode(run, aws):
    result = run(diff=True, check_mode=True)

    assert result["diff"] == {"before": {"cloudwatch_role_arn": None}, "after": {"cloudwatch_role_arn": aws.role}}


def test_diff_on_overwrite(run, aws):
    set_role_outside(aws, OTHER_ROLE)

    result = run(diff=True, overwrite=True)

    assert result["diff"] == {
        "before": {"cloudwatch_role_arn": OTHER_ROLE},
        "after": {"cloudwatch_role_arn": aws.role},
    }


def test_diff_of_a_kept_role_has_equal_sides(run, aws):
    set_role_outside(aws, OTHER_ROLE)

    result = run(diff=True)

    assert result["diff"] == {
        "before": {"cloudwatch_role_arn": OTHER_ROLE},
        "after": {"cloudwatch_role_arn": OTHER_ROLE},
    }


def test_diff_of_a_no_op_has_equal_sides(run, aws):
    run()

    result = run(diff=True)

    assert result["diff"]["before"] == result["diff"]["after"] == {"cloudwatch_role_arn": aws.role}


# Validation


@pytest.mark.parametrize(
    "arn",
    [
        "apigateway-cloudwatch-logs",
        "arn:aws:iam::123456789012:user/someone",
        "arn:aws:iam::12345:role/short-account",
        "arn:aws:iam:us-east-1:123456789012:role/regional",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway",
        "arn:aws:iam::123456789012:role/",
        "",
    ],
)
def test_a_bad_role_arn_fails_before_any_call(run, aws, api_calls, arn):
    result = run(cloudwatch_role_arn=arn)

    assert result["failed"] is True
    assert "is not an IAM role ARN" in result["msg"]
    assert api_calls == []


def test_a_role_of_another_partition_fails_before_any_call(run, aws, api_calls):
    result = run(cloudwatch_role_arn="arn:aws-cn:iam::123456789012:role/logs")

    assert result["failed"] is True
    assert "partition aws-cn" in result["msg"]
    assert api_calls == []


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/logs",
        "arn:aws:iam::123456789012:role/service-role/a/b/Logs_Role+=,.@-1",
    ],
)
def test_role_arns_with_paths_are_accepted(run, aws, arn):
    result = run(cloudwatch_role_arn=arn)

    assert result["changed"] is True
    assert role_set(aws) == arn


# Faults only real AWS shows


def test_update_retries_while_the_role_propagates(run, aws, api_calls, failing, sleeps):
    seen = failing("UpdateAccount", "BadRequestException", PROPAGATION_ERROR, times=3)

    result = run()

    assert result["changed"] is True
    assert seen["UpdateAccount"] == 4
    assert writes(api_calls) == ["UpdateAccount"] * 4
    assert sleeps == [1, 2, 4]
    assert role_set(aws) == aws.role
    assert result["account"]["cloudwatch_role_arn"] == aws.role


def test_update_gives_up_when_the_role_never_propagates(run, aws, failing, sleeps):
    seen = failing("UpdateAccount", "BadRequestException", PROPAGATION_ERROR)

    result = run(role_propagation_timeout=5)

    assert result["failed"] is True
    assert f"API Gateway could not use role {aws.role} after 5 seconds" in result["msg"]
    assert "trusts apigateway.amazonaws.com" in result["msg"]
    assert "role_propagation_timeout" in result["msg"]
    assert sleeps == [1, 2, 2]
    assert seen["UpdateAccount"] == 4
    assert role_set(aws) is None


def test_default_propagation_timeout_is_sixty_seconds(run, aws, failing, sleeps):
    failing("UpdateAccount", "BadRequestException", PROPAGATION_ERROR)

    result = run()

    assert result["failed"] is True
    assert sum(sleeps) == 60
    assert max(sleeps) == api_gateway_account.MAX_ROLE_DELAY


def test_other_bad_requests_are_not_retried(run, aws, failing, sleeps):
    seen = failing("UpdateAccount", "BadRequestException", "Invalid patch path /cloudwatchRoleArn")

    result = run()

    assert result["failed"] is True
    assert (
        f"Failed to set the CloudWatch Logs role of the API Gateway account settings of region {REGION}"
        in (result["msg"])
    )
    assert "iam:PassRole" in result["msg"]
    assert result["patch_operations"] == replace_patch(aws.role)
    assert seen["UpdateAccount"] == 1
    assert sleeps == []


@pytest.mark.parametrize("operation", ["GetAccount", "UpdateAccount"])
def test_throttling_is_retried(run, aws, api_calls, failing, sleeps, operation):
    seen = failing(operation, "TooManyRequestsException", "Too Many Requests", times=2)

    result = run()

    assert result["changed"] is True
    assert seen[operation] == 3
    assert len(sleeps) == 2
    assert role_set(aws) == aws.role


def test_a_refused_read_fails_clearly(run, aws, failing):
    failing("GetAccount", "AccessDeniedException", "not authorized to perform apigateway:GET")

    result = run()

    assert result["failed"] is True
    assert f"Failed to read the API Gateway account settings of region {REGION}" in result["msg"]
