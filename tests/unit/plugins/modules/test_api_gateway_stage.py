"""Tests of the api_gateway_stage module against moto's in-process emulator (mock_aws)."""

import json
from types import SimpleNamespace

import boto3
import pytest
import yaml

from ansible_collections.serverless.tasks_api.plugins.modules import api_gateway_stage
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import (
    REGION,
    calls_of,
    operations,
    writes,
)

STAGE = "prod"
LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/tasks-api-test"
MOTO_ACCEPTS_UNKNOWN_DEPLOYMENTS = "moto 5.2.5 CreateStage accepts a deploymentId that the REST API does not have"
DEFAULT_METHOD_PATCHES = [
    {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "100"},
    {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "50"},
    {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
    {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"},
    {"op": "replace", "path": "/*/*/logging/dataTrace", "value": "false"},
]


@pytest.fixture
def aws(mocked_aws):
    """moto's mock of every AWS service, with a REST API (GET / on a MOCK integration) and two deployments."""
    apigateway = boto3.client("apigateway", region_name=REGION)
    api_id = apigateway.create_rest_api(name="tasks-api-test", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    first = apigateway.create_deployment(restApiId=api_id, description="first")["id"]
    second = apigateway.create_deployment(restApiId=api_id, description="second")["id"]
    return SimpleNamespace(apigateway=apigateway, api_id=api_id, first=first, second=second)


@pytest.fixture
def run(aws, module_runner):
    """Run the module's main() on the prod stage of the test API, serving the first deployment by default."""
    return module_runner(api_gateway_stage.main, rest_api_id=aws.api_id, name=STAGE, deployment_id=aws.first)


def patches(api_calls):
    return [call["patchOperations"] for call in calls_of(api_calls, "UpdateStage")]


def described(aws):
    stage = aws.apigateway.get_stage(restApiId=aws.api_id, stageName=STAGE)
    stage.pop("ResponseMetadata")
    return stage


def stage_names(aws):
    return [stage["stageName"] for stage in aws.apigateway.get_stages(restApiId=aws.api_id)["item"]]


def all_methods(aws):
    return described(aws)["methodSettings"]["*/*"]


def stage_arn(aws):
    return f"arn:aws:apigateway:{REGION}::/restapis/{aws.api_id}/stages/{STAGE}"


# Creation


def test_create_sends_create_stage_then_one_update_with_the_method_settings(run, aws, api_calls):
    result = run(description="tasks", variables={"alias": "live"}, tags={"Env": "test"})

    assert result["changed"] is True
    assert writes(api_calls) == ["CreateStage", "UpdateStage"]
    assert calls_of(api_calls, "CreateStage") == [
        {
            "restApiId": aws.api_id,
            "stageName": STAGE,
            "deploymentId": aws.first,
            "description": "tasks",
            "tracingEnabled": True,
            "variables": {"alias": "live"},
            "tags": {"Env": "test"},
        }
    ]
    assert patches(api_calls) == [DEFAULT_METHOD_PATCHES]
    stage = described(aws)
    assert stage["deploymentId"] == aws.first
    assert stage["tracingEnabled"] is True
    assert stage["variables"] == {"alias": "live"}
    assert stage["tags"] == {"Env": "test"}
    assert stage.get("accessLogSettings") is None
    methods = all_methods(aws)
    assert (methods["throttlingBurstLimit"], methods["throttlingRateLimit"]) == (100, 50.0)
    assert (methods["metricsEnabled"], methods["loggingLevel"], methods["dataTraceEnabled"]) == (True, "ERROR", False)


def test_create_with_access_logs_sends_destination_and_format(run, aws, api_calls):
    run(access_log_destination_arn=LOG_GROUP)

    assert patches(api_calls) == [
        [
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": LOG_GROUP},
            {
                "op": "replace",
                "path": "/accessLogSettings/format",
                "value": api_gateway_stage.DEFAULT_ACCESS_LOG_FORMAT,
            },
            *DEFAULT_METHOD_PATCHES,
        ]
    ]
    assert described(aws)["accessLogSettings"] == {
        "destinationArn": LOG_GROUP,
        "format": api_gateway_stage.DEFAULT_ACCESS_LOG_FORMAT,
    }


def test_trailing_wildcard_of_a_log_group_arn_is_removed(run, aws, api_calls):
    run(access_log_destination_arn=LOG_GROUP + ":*")

    assert described(aws)["accessLogSettings"]["destinationArn"] == LOG_GROUP
    assert run(access_log_destination_arn=LOG_GROUP + ":*")["changed"] is False


def test_create_returns_the_stage(run, aws):
    result = run(variables={"tableName": "tasks"}, tags={"ManagedBy": "ansible"})

    stage = result["stage"]
    assert stage["stage_name"] == STAGE
    assert stage["deployment_id"] == aws.first
    assert stage["tracing_enabled"] is True
    assert stage["variables"] == {"tableName": "tasks"}
    assert stage["tags"] == {"ManagedBy": "ansible"}
    assert stage["method_settings"]["*/*"]["throttling_burst_limit"] == 100
    assert stage["method_settings"]["*/*"]["logging_level"] == "ERROR"


def test_present_without_deployment_fails_before_any_call(run, aws, api_calls):
    result = run(deployment_id=None)

    assert result["failed"] is True
    assert "deployment_id" in result["msg"]
    assert api_calls == []


def test_create_on_a_missing_api_fails_clearly(run, aws):
    result = run(rest_api_id="nope123456")

    assert result["failed"] is True
    assert "Failed to create stage prod of REST API nope123456" in result["msg"]
    assert "check that the REST API exists" in result["msg"]


@pytest.mark.xfail(reason=MOTO_ACCEPTS_UNKNOWN_DEPLOYMENTS, strict=True)
def test_create_with_an_unknown_deployment_fails(run, aws):
    result = run(deployment_id="unknown123")

    assert result.get("failed") is True


def test_default_access_log_format_is_documented_and_one_line_json():
    documented = yaml.safe_load(api_gateway_stage.DOCUMENTATION)["options"]["access_log_format"]["default"]

    assert documented == api_gateway_stage.DEFAULT_ACCESS_LOG_FORMAT
    fields = json.loads(documented)
    assert fields["requestId"] == "$context.requestId"
    assert fields["apiKeyId"] == "$context.identity.apiKeyId"
    assert "\n" not in documented


# Idempotence


def test_identical_rerun_is_unchanged_with_zero_writes(run, aws, api_calls):
    settings = {
        "access_log_destination_arn": LOG_GROUP,
        "variables": {"alias": "live", "port": 8080},
        "tags": {"Env": "test"},
        "throttling_rate_limit": 12.5,
    }
    run(**settings)

    second = run(**settings)

    assert second["changed"] is False
    assert writes(api_calls) == []
    assert operations(api_calls) == ["GetStage"]
    assert second["stage"]["variables"] == {"alias": "live", "port": "8080"}


# Updates: exactly the patches of what differs


def test_throttling_change_sends_only_the_two_throttling_patches(run, aws, api_calls):
    run()

    result = run(throttling_burst_limit=300, throttling_rate_limit=150.5)

    assert result["changed"] is True
    assert writes(api_calls) == ["UpdateStage"]
    assert patches(api_calls) == [
        [
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "300"},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "150.5"},
        ]
    ]
    assert (all_methods(aws)["throttlingBurstLimit"], all_methods(aws)["throttlingRateLimit"]) == (300, 150.5)
    assert result["stage"]["method_settings"]["*/*"]["throttling_rate_limit"] == 150.5
    assert run(throttling_burst_limit=300, throttling_rate_limit=150.5)["changed"] is False


def test_deployment_change_sends_only_the_deployment(run, aws, api_calls):
    run()

    result = run(deployment_id=aws.second)

    assert result["changed"] is True
    assert patches(api_calls) == [[{"op": "replace", "path": "/deploymentId", "value": aws.second}]]
    assert described(aws)["deploymentId"] == aws.second
    assert result["stage"]["deployment_id"] == aws.second


def test_description_and_tracing_change(run, aws, api_calls):
    run()

    run(description="Tasks API", tracing_enabled=False)

    assert patches(api_calls) == [
        [
            {"op": "replace", "path": "/description", "value": "Tasks API"},
            {"op": "replace", "path": "/tracingEnabled", "value": "false"},
        ]
    ]
    assert described(aws)["description"] == "Tasks API"
    assert described(aws)["tracingEnabled"] is False
    assert run(description="Tasks API", tracing_enabled=False)["changed"] is False


def test_access_logs_turned_on_reformatted_and_turned_off(run, aws, api_calls):
    run()

    run(access_log_destination_arn=LOG_GROUP)
    assert patches(api_calls) == [
        [
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": LOG_GROUP},
            {
                "op": "replace",
                "path": "/accessLogSettings/format",
                "value": api_gateway_stage.DEFAULT_ACCESS_LOG_FORMAT,
            },
        ]
    ]

    run(access_log_destination_arn=LOG_GROUP, access_log_format="$context.requestId $context.status")
    assert patches(api_calls) == [
        [{"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId $context.status"}]
    ]
    assert described(aws)["accessLogSettings"]["format"] == "$context.requestId $context.status"

    turned_off = run(access_log_destination_arn="")
    assert turned_off["changed"] is True
    assert patches(api_calls) == [[{"op": "remove", "path": "/accessLogSettings"}]]
    assert described(aws).get("accessLogSettings") is None
    assert run()["changed"] is False


def test_metrics_logging_level_and_data_trace_change(run, aws, api_calls):
    run()

    run(metrics_enabled=False, logging_level="INFO", data_trace_enabled=True)

    assert patches(api_calls) == [
        [
            {"op": "replace", "path": "/*/*/metrics/enabled", "value": "false"},
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
            {"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"},
        ]
    ]
    methods = all_methods(aws)
    assert (methods["metricsEnabled"], methods["loggingLevel"], methods["dataTraceEnabled"]) == (False, "INFO", True)


def test_variables_added_changed_and_removed(run, aws, api_calls):
    run(variables={"alias": "live", "old": "x", "same": "1"})

    result = run(variables={"alias": "blue", "new": "y", "same": "1"})

    assert result["changed"] is True
    assert patches(api_calls) == [
        [
            {"op": "replace", "path": "/variables/alias", "value": "blue"},
            {"op": "replace", "path": "/variables/new", "value": "y"},
            {"op": "remove", "path": "/variables/old"},
        ]
    ]
    assert described(aws)["variables"] == {"alias": "blue", "new": "y", "same": "1"}


def test_several_changes_are_sent_in_one_update(run, aws, api_calls):
    run()

    run(deployment_id=aws.second, throttling_burst_limit=10, variables={"a": "b"})

    assert writes(api_calls) == ["UpdateStage"]
    assert [patch["path"] for patch in patches(api_calls)[0]] == [
        "/deploymentId",
        "/*/*/throttling/burstLimit",
        "/variables/a",
    ]


def test_tags_are_purged_added_and_kept(run, aws, api_calls):
    run(tags={"Env": "test", "Team": "api"})

    purged = run(tags={"Env": "prod"})

    assert purged["changed"] is True
    assert writes(api_calls) == ["UntagResource", "TagResource"]
    assert calls_of(api_calls, "UntagResource") == [{"resourceArn": stage_arn(aws), "tagKeys": ["Team"]}]
    assert calls_of(api_calls, "TagResource") == [{"resourceArn": stage_arn(aws), "tags": {"Env": "prod"}}]
    assert described(aws)["tags"] == {"Env": "prod"}
    assert purged["stage"]["tags"] == {"Env": "prod"}

    kept = run(tags={"Owner": "me"}, purge_tags=False)
    assert kept["changed"] is True
    assert described(aws)["tags"] == {"Env": "prod", "Owner": "me"}

    assert run()["changed"] is False
    assert run(tags={})["changed"] is True
    assert described(aws).get("tags", {}) == {}


# Check mode


def test_check_mode_create_writes_nothing(run, aws, api_calls):
    result = run(check_mode=True, access_log_destination_arn=LOG_GROUP, tags={"Env": "test"})

    assert result["changed"] is True
    assert result["stage"] == {}
    assert writes(api_calls) == []
    assert stage_names(aws) == []


def test_check_mode_update_writes_nothing(run, aws, api_calls):
    run(tags={"Env": "test"})
    before = described(aws)

    result = run(
        check_mode=True, deployment_id=aws.second, throttling_burst_limit=7, variables={"a": "b"}, tags={"Env": "prod"}
    )

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert described(aws) == before
    assert result["stage"]["deployment_id"] == aws.first


def test_check_mode_delete_keeps_the_stage(run, aws, api_calls):
    run()

    result = run(check_mode=True, state="absent")

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert stage_names(aws) == [STAGE]


# Diff


def managed(aws, **overrides):
    return {
        "deployment_id": aws.first,
        "description": "",
        "tracing_enabled": True,
        "access_log_destination_arn": None,
        "access_log_format": None,
        "throttling_burst_limit": 100,
        "throttling_rate_limit": 50.0,
        "metrics_enabled": True,
        "logging_level": "ERROR",
        "data_trace_enabled": False,
        "variables": {},
        "tags": {},
        **overrides,
    }


def test_diff_on_create(run, aws):
    result = run(diff=True, tags={"Env": "test"})

    assert result["diff"] == {"before": {}, "after": managed(aws, tags={"Env": "test"})}


def test_diff_on_update(run, aws):
    run()

    result = run(diff=True, deployment_id=aws.second, access_log_destination_arn=LOG_GROUP, variables={"a": 1})

    assert result["diff"] == {
        "before": managed(aws),
        "after": managed(
            aws,
            deployment_id=aws.second,
            access_log_destination_arn=LOG_GROUP,
            access_log_format=api_gateway_stage.DEFAULT_ACCESS_LOG_FORMAT,
            variables={"a": "1"},
        ),
    }


def test_diff_of_a_no_op_has_equal_sides(run, aws):
    run(access_log_destination_arn=LOG_GROUP, tags={"Env": "test"})

    result = run(diff=True, access_log_destination_arn=LOG_GROUP, tags={"Env": "test"})

    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_diff_on_delete(run, aws):
    run()

    result = run(diff=True, state="absent")

    assert result["diff"] == {"before": managed(aws), "after": {}}


# Deletion


def test_absent_deletes_then_is_unchanged(run, aws, api_calls):
    run()

    deleted = run(state="absent")

    assert deleted["changed"] is True
    assert deleted["stage"] == {}
    assert calls_of(api_calls, "DeleteStage") == [{"restApiId": aws.api_id, "stageName": STAGE}]
    assert stage_names(aws) == []

    again = run(state="absent")

    assert again["changed"] is False
    assert "failed" not in again
    assert writes(api_calls) == []


def test_absent_on_a_missing_api_is_unchanged(run, aws, api_calls):
    result = run(state="absent", rest_api_id="nope123456", deployment_id=None)

    assert result["changed"] is False
    assert "failed" not in result
    assert operations(api_calls) == ["GetStage"]


# Faults only real AWS shows


@pytest.mark.parametrize("code", ["TooManyRequestsException", "ConflictException"])
def test_throttled_or_conflicting_write_is_retried(run, aws, api_calls, failing, sleeps, code):
    seen = failing("CreateStage", code, "injected once", times=1)

    result = run()

    assert result["changed"] is True
    assert seen["CreateStage"] == 2
    assert len(sleeps) == 1
    assert writes(api_calls) == ["CreateStage", "CreateStage", "UpdateStage"]
    assert stage_names(aws) == [STAGE]


def test_update_refused_names_the_paths_and_the_logging_role(run, aws, failing):
    run()
    failing("UpdateStage", "BadRequestException", "CloudWatch Logs role ARN must be set in account settings")

    result = run(access_log_destination_arn=LOG_GROUP)

    assert result["failed"] is True
    assert (
        "Failed to update /accessLogSettings/destinationArn, /accessLogSettings/format of stage prod" in result["msg"]
    )
    assert "CloudWatch Logs role ARN in the API Gateway account settings" in result["msg"]
    assert result["patch_operations"][0]["path"] == "/accessLogSettings/destinationArn"
