"""Tests of the api_gateway_usage_plan module against moto's in-process emulator (mock_aws)."""

import json
from types import SimpleNamespace

import boto3
import pytest

from ansible_collections.serverless.tasks_api.plugins.modules import api_gateway_usage_plan
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import (
    REGION,
    calls_of,
    operations,
    writes,
)

NAME = "tasks-api-test"
MOTO_TAGS_ONLY_STAGES = (
    "moto 5.2.5 TagResource/UntagResource only know stage ARNs: a usage plan ARN gives NotFoundException"
    " 'Invalid Rest API Id specified'"
)
MOTO_INTEGER_RATE_LIMIT = (
    "moto 5.2.5 UpdateUsagePlan converts /throttle/rateLimit with int(), so a fractional rate raises ValueError"
)
MOTO_KEEPS_DELETED_KEYS = "moto 5.2.5 DeleteApiKey leaves the deleted key in GetUsagePlanKeys of its usage plans"
MOTO_ACCEPTS_UNKNOWN_STAGES = "moto 5.2.5 CreateUsagePlan accepts API stages that do not exist"
MOTO_ALLOWS_A_KEY_IN_TWO_PLANS = "moto 5.2.5 lets an API key join two usage plans that cover the same API stage"
FULL = {
    "description": "clients",
    "throttle_burst_limit": 100,
    "throttle_rate_limit": 50,
    "quota_limit": 10000,
    "quota_period": "MONTH",
}


@pytest.fixture
def aws(mocked_aws):
    """moto's mock of every AWS service, with a REST API that has stages prod and dev, and three API keys."""
    apigateway = boto3.client("apigateway", region_name=REGION)
    api_id = apigateway.create_rest_api(name="tasks-api-test")["id"]
    root = next(r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigateway.create_deployment(restApiId=api_id)["id"]
    for stage in ("prod", "dev"):
        apigateway.create_stage(restApiId=api_id, stageName=stage, deploymentId=deployment)
    keys = [
        apigateway.create_api_key(name=f"client-{n}", value=f"client-{n}-secret-value-0123456789", enabled=True)["id"]
        for n in (1, 2, 3)
    ]
    return SimpleNamespace(
        apigateway=apigateway,
        api_id=api_id,
        prod={"rest_api_id": api_id, "stage": "prod"},
        dev={"rest_api_id": api_id, "stage": "dev"},
        keys=keys,
    )


@pytest.fixture
def run(aws, module_runner):
    """Run the module's main() for the test plan, covering the prod stage by default."""
    return module_runner(api_gateway_usage_plan.main, name=NAME, api_stages=[aws.prod])


def patches(api_calls):
    return [call["patchOperations"] for call in calls_of(api_calls, "UpdateUsagePlan")]


def plans_named(aws, name=NAME):
    return [plan for plan in aws.apigateway.get_usage_plans()["items"] if plan["name"] == name]


def the_plan(aws):
    (plan,) = plans_named(aws)
    return plan


def plan_key_ids(aws):
    return sorted(key["id"] for key in aws.apigateway.get_usage_plan_keys(usagePlanId=the_plan(aws)["id"])["items"])


def stage_value(stage):
    return f"{stage['rest_api_id']}:{stage['stage']}"


# Creation


def test_create_sends_the_plan_then_attaches_the_keys(run, aws, api_calls):
    result = run(**FULL, api_key_ids=aws.keys[:2], tags={"Env": "test"})

    assert result["changed"] is True
    assert writes(api_calls) == ["CreateUsagePlan", "CreateUsagePlanKey", "CreateUsagePlanKey"]
    assert calls_of(api_calls, "CreateUsagePlan") == [
        {
            "name": NAME,
            "description": "clients",
            "apiStages": [{"apiId": aws.api_id, "stage": "prod"}],
            "throttle": {"burstLimit": 100, "rateLimit": 50.0},
            "quota": {"limit": 10000, "period": "MONTH", "offset": 0},
            "tags": {"Env": "test"},
        }
    ]
    plan_id = the_plan(aws)["id"]
    assert calls_of(api_calls, "CreateUsagePlanKey") == [
        {"usagePlanId": plan_id, "keyId": key_id, "keyType": "API_KEY"} for key_id in sorted(aws.keys[:2])
    ]
    assert plan_key_ids(aws) == sorted(aws.keys[:2])


def test_create_returns_the_plan(run, aws):
    result = run(**FULL, api_key_ids=[aws.keys[0]], tags={"ManagedBy": "ansible"})

    plan = result["usage_plan"]
    assert plan["id"] == the_plan(aws)["id"]
    assert plan["name"] == NAME
    assert plan["description"] == "clients"
    assert plan["api_stages"] == [{"api_id": aws.api_id, "stage": "prod"}]
    assert plan["throttle"] == {"burst_limit": 100, "rate_limit": 50.0}
    assert plan["quota"] == {"limit": 10000, "offset": 0, "period": "MONTH"}
    assert plan["api_key_ids"] == [aws.keys[0]]
    assert plan["tags"] == {"ManagedBy": "ansible"}


def test_create_without_limits_sends_no_throttle_or_quota(run, aws, api_calls):
    result = run()

    assert calls_of(api_calls, "CreateUsagePlan") == [
        {"name": NAME, "description": "", "apiStages": [{"apiId": aws.api_id, "stage": "prod"}]}
    ]
    assert writes(api_calls) == ["CreateUsagePlan"]
    assert result["usage_plan"]["api_key_ids"] == []
    assert "throttle" not in result["usage_plan"]


@pytest.mark.parametrize(
    "args",
    [{"throttle_burst_limit": 10}, {"throttle_rate_limit": 5.0}, {"quota_limit": 10}, {"quota_period": "DAY"}],
)
def test_half_a_throttle_or_quota_fails_before_any_call(run, aws, api_calls, args):
    result = run(**args)

    assert result["failed"] is True
    assert "parameters are required together" in result["msg"]
    assert api_calls == []


@pytest.mark.xfail(reason=MOTO_ACCEPTS_UNKNOWN_STAGES, strict=True)
def test_create_with_an_unknown_stage_fails(run, aws):
    result = run(api_stages=[{"rest_api_id": aws.api_id, "stage": "missing"}])

    assert result.get("failed") is True


# Finding the plan by its exact name


def test_plans_whose_name_only_starts_with_the_name_are_ignored(run, aws):
    other = aws.apigateway.create_usage_plan(name=NAME + "-internal")["id"]

    result = run()

    assert result["changed"] is True
    assert result["usage_plan"]["id"] != other
    assert len(plans_named(aws)) == 1


def test_several_plans_with_the_name_fail_listing_their_ids(run, aws, api_calls):
    first = aws.apigateway.create_usage_plan(name=NAME)["id"]
    second = aws.apigateway.create_usage_plan(name=NAME)["id"]

    result = run()

    assert result["failed"] is True
    assert f"2 usage plans are named {NAME}" in result["msg"]
    assert first in result["msg"]
    assert second in result["msg"]
    assert result["usage_plan_ids"] == sorted([first, second])
    assert writes(api_calls) == []


# Idempotence


def test_identical_rerun_is_unchanged_with_zero_writes(run, aws, api_calls):
    settings = {**FULL, "api_stages": [aws.prod, aws.dev], "api_key_ids": aws.keys[:2], "tags": {"Env": "test"}}
    run(**settings)

    second = run(**settings)

    assert second["changed"] is False
    assert writes(api_calls) == []
    assert operations(api_calls) == ["GetUsagePlans", "GetUsagePlanKeys"]
    assert second["usage_plan"]["api_key_ids"] == sorted(aws.keys[:2])


def test_order_of_stages_and_keys_does_not_matter(run, aws):
    run(api_stages=[aws.prod, aws.dev], api_key_ids=aws.keys[:2])

    result = run(api_stages=[aws.dev, aws.prod], api_key_ids=list(reversed(aws.keys[:2])))

    assert result["changed"] is False


# Updates: exactly the patches of what differs


def test_burst_limit_change_sends_only_the_burst_patch(run, aws, api_calls):
    run(**FULL)

    result = run(**{**FULL, "throttle_burst_limit": 200})

    assert result["changed"] is True
    assert writes(api_calls) == ["UpdateUsagePlan"]
    assert patches(api_calls) == [[{"op": "replace", "path": "/throttle/burstLimit", "value": "200"}]]
    assert the_plan(aws)["throttle"]["burstLimit"] == 200
    assert result["usage_plan"]["throttle"]["burst_limit"] == 200
    assert run(**{**FULL, "throttle_burst_limit": 200})["changed"] is False


def test_throttle_change_sends_only_the_two_throttle_patches(run, aws, api_calls):
    run(**FULL)

    run(**{**FULL, "throttle_burst_limit": 20, "throttle_rate_limit": 10.0})

    assert patches(api_calls) == [
        [
            {"op": "replace", "path": "/throttle/burstLimit", "value": "20"},
            {"op": "replace", "path": "/throttle/rateLimit", "value": "10"},
        ]
    ]
    assert the_plan(aws)["throttle"] == {"burstLimit": 20, "rateLimit": 10.0}
    assert run(**{**FULL, "throttle_burst_limit": 20, "throttle_rate_limit": 10.0})["changed"] is False


def test_fractional_rate_limit_at_creation_is_kept(run, aws, api_calls):
    run(throttle_burst_limit=5, throttle_rate_limit=2.5)

    assert calls_of(api_calls, "CreateUsagePlan")[0]["throttle"] == {"burstLimit": 5, "rateLimit": 2.5}
    assert run(throttle_burst_limit=5, throttle_rate_limit=2.5)["changed"] is False


@pytest.mark.xfail(reason=MOTO_INTEGER_RATE_LIMIT, strict=True, raises=ValueError)
def test_fractional_rate_limit_change_is_applied(run, aws, api_calls):
    run(**FULL)

    run(**{**FULL, "throttle_rate_limit": 12.5})

    assert patches(api_calls) == [[{"op": "replace", "path": "/throttle/rateLimit", "value": "12.5"}]]
    assert the_plan(aws)["throttle"]["rateLimit"] == 12.5


def test_throttle_added_then_removed(run, aws, api_calls):
    run()

    run(throttle_burst_limit=10, throttle_rate_limit=5)
    assert patches(api_calls) == [
        [
            {"op": "add", "path": "/throttle/burstLimit", "value": "10"},
            {"op": "add", "path": "/throttle/rateLimit", "value": "5"},
        ]
    ]
    assert the_plan(aws)["throttle"] == {"burstLimit": 10, "rateLimit": 5}

    removed = run()
    assert removed["changed"] is True
    assert patches(api_calls) == [[{"op": "remove", "path": "/throttle"}]]
    assert "throttle" not in the_plan(aws)
    assert run()["changed"] is False


def test_quota_limit_change_sends_only_the_limit_patch(run, aws, api_calls):
    run(**FULL)

    run(**{**FULL, "quota_limit": 500})

    assert patches(api_calls) == [[{"op": "replace", "path": "/quota/limit", "value": "500"}]]
    assert the_plan(aws)["quota"]["limit"] == 500
    assert run(**{**FULL, "quota_limit": 500})["changed"] is False


def test_quota_period_and_offset_change(run, aws, api_calls):
    run(**FULL)

    run(**{**FULL, "quota_period": "WEEK", "quota_offset": 2})

    assert patches(api_calls) == [
        [
            {"op": "replace", "path": "/quota/period", "value": "WEEK"},
            {"op": "replace", "path": "/quota/offset", "value": "2"},
        ]
    ]
    assert the_plan(aws)["quota"] == {"limit": 10000, "period": "WEEK", "offset": 2}
    assert run(**{**FULL, "quota_period": "WEEK", "quota_offset": 2})["changed"] is False


def test_quota_added_then_removed(run, aws, api_calls):
    run()

    run(quota_limit=100, quota_period="DAY")
    assert patches(api_calls) == [
        [
            {"op": "add", "path": "/quota/limit", "value": "100"},
            {"op": "add", "path": "/quota/period", "value": "DAY"},
            {"op": "add", "path": "/quota/offset", "value": "0"},
        ]
    ]
    assert the_plan(aws)["quota"] == {"limit": 100, "period": "DAY", "offset": 0}
    assert run(quota_limit=100, quota_period="DAY")["changed"] is False

    run()
    assert patches(api_calls) == [[{"op": "remove", "path": "/quota"}]]
    assert "quota" not in the_plan(aws)


def test_description_change_sends_only_the_description_patch(run, aws, api_calls):
    run()

    run(description="new")

    assert patches(api_calls) == [[{"op": "replace", "path": "/description", "value": "new"}]]
    assert the_plan(aws)["description"] == "new"


def test_stages_added_and_removed(run, aws, api_calls):
    run()

    run(api_stages=[aws.dev])

    assert patches(api_calls) == [
        [
            {"op": "remove", "path": "/apiStages", "value": stage_value(aws.prod)},
            {"op": "add", "path": "/apiStages", "value": stage_value(aws.dev)},
        ]
    ]
    assert the_plan(aws)["apiStages"] == [{"apiId": aws.api_id, "stage": "dev"}]
    assert run(api_stages=[aws.dev])["changed"] is False


def test_several_changes_are_sent_in_one_update(run, aws, api_calls):
    run(**FULL)

    run(**{**FULL, "description": "new", "quota_limit": 1, "throttle_burst_limit": 1}, api_stages=[aws.prod, aws.dev])

    assert writes(api_calls) == ["UpdateUsagePlan"]
    assert [patch["path"] for patch in patches(api_calls)[0]] == [
        "/description",
        "/apiStages",
        "/throttle/burstLimit",
        "/quota/limit",
    ]


# API keys


def test_keys_attached_and_detached(run, aws, api_calls):
    run(api_key_ids=aws.keys[:2])
    plan_id = the_plan(aws)["id"]

    result = run(api_key_ids=[aws.keys[1], aws.keys[2]])

    assert result["changed"] is True
    assert writes(api_calls) == ["CreateUsagePlanKey", "DeleteUsagePlanKey"]
    assert calls_of(api_calls, "CreateUsagePlanKey") == [
        {"usagePlanId": plan_id, "keyId": aws.keys[2], "keyType": "API_KEY"}
    ]
    assert calls_of(api_calls, "DeleteUsagePlanKey") == [{"usagePlanId": plan_id, "keyId": aws.keys[0]}]
    assert plan_key_ids(aws) == sorted(aws.keys[1:])
    assert result["usage_plan"]["api_key_ids"] == sorted(aws.keys[1:])


def test_keys_kept_without_purge(run, aws, api_calls):
    run(api_key_ids=[aws.keys[0]])

    result = run(api_key_ids=[aws.keys[1]], purge_api_keys=False)

    assert writes(api_calls) == ["CreateUsagePlanKey"]
    assert plan_key_ids(aws) == sorted(aws.keys[:2])
    assert result["usage_plan"]["api_key_ids"] == sorted(aws.keys[:2])
    assert run(api_key_ids=[aws.keys[1]], purge_api_keys=False)["changed"] is False


def test_omitted_keys_are_left_alone(run, aws, api_calls):
    run(api_key_ids=aws.keys[:2])

    result = run()

    assert result["changed"] is False
    assert writes(api_calls) == []
    assert plan_key_ids(aws) == sorted(aws.keys[:2])


def test_empty_key_list_detaches_every_key(run, aws, api_calls):
    run(api_key_ids=aws.keys[:2])

    run(api_key_ids=[])

    assert writes(api_calls) == ["DeleteUsagePlanKey", "DeleteUsagePlanKey"]
    assert plan_key_ids(aws) == []


@pytest.mark.xfail(reason=MOTO_KEEPS_DELETED_KEYS, strict=True)
def test_a_deleted_key_is_no_longer_attached(run, aws):
    run(api_key_ids=[aws.keys[0]])
    aws.apigateway.delete_api_key(apiKey=aws.keys[0])

    assert run(api_key_ids=[])["changed"] is False


@pytest.mark.xfail(reason=MOTO_ALLOWS_A_KEY_IN_TWO_PLANS, strict=True)
def test_a_key_in_another_plan_for_the_same_stage_is_refused(run, aws, sleeps):
    other = aws.apigateway.create_usage_plan(name="other", apiStages=[{"apiId": aws.api_id, "stage": "prod"}])["id"]
    aws.apigateway.create_usage_plan_key(usagePlanId=other, keyId=aws.keys[0], keyType="API_KEY")

    result = run(api_key_ids=[aws.keys[0]])

    assert result.get("failed") is True


def test_attach_refused_names_the_key_and_the_cause(run, aws, failing):
    run()
    failing("CreateUsagePlanKey", "BadRequestException", "Invalid API Key identifier specified")

    result = run(api_key_ids=["nokey12345"])

    assert result["failed"] is True
    assert "Failed to attach API key nokey12345 to usage plan tasks-api-test" in result["msg"]
    assert "in no other usage plan for the same API stage" in result["msg"]


# Tags


@pytest.mark.xfail(reason=MOTO_TAGS_ONLY_STAGES, strict=True)
def test_tags_of_an_existing_plan_are_purged_and_added(run, aws, api_calls):
    run(tags={"Env": "test", "Team": "api"})
    arn = f"arn:aws:apigateway:{REGION}::/usageplans/{the_plan(aws)['id']}"

    result = run(tags={"Env": "prod"})

    assert writes(api_calls) == ["UntagResource", "TagResource"]
    assert calls_of(api_calls, "UntagResource") == [{"resourceArn": arn, "tagKeys": ["Team"]}]
    assert calls_of(api_calls, "TagResource") == [{"resourceArn": arn, "tags": {"Env": "prod"}}]
    assert result["usage_plan"]["tags"] == {"Env": "prod"}


def test_omitted_tags_are_left_alone(run, aws, api_calls):
    run(tags={"Env": "test"})

    result = run()

    assert result["changed"] is False
    assert the_plan(aws)["tags"] == {"Env": "test"}


# Check mode


def test_check_mode_create_writes_nothing(run, aws, api_calls):
    result = run(check_mode=True, **FULL, api_key_ids=aws.keys[:1], tags={"Env": "test"})

    assert result["changed"] is True
    assert result["usage_plan"] == {}
    assert writes(api_calls) == []
    assert plans_named(aws) == []


def test_check_mode_update_writes_nothing(run, aws, api_calls):
    run(**FULL, api_key_ids=aws.keys[:1], tags={"Env": "test"})
    before = (the_plan(aws), plan_key_ids(aws))

    result = run(
        check_mode=True,
        **{**FULL, "quota_limit": 1, "throttle_burst_limit": 1},
        api_stages=[aws.dev],
        api_key_ids=aws.keys[1:],
        tags={"Env": "prod"},
    )

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert (the_plan(aws), plan_key_ids(aws)) == before


def test_check_mode_delete_keeps_the_plan(run, aws, api_calls):
    run()

    result = run(check_mode=True, state="absent")

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert len(plans_named(aws)) == 1


# Diff


def managed(aws, **overrides):
    return {
        "description": "",
        "api_stages": [aws.prod],
        "throttle": None,
        "quota": None,
        "api_key_ids": [],
        "tags": {},
        **overrides,
    }


def test_diff_on_create(run, aws):
    result = run(diff=True, **FULL, api_key_ids=[aws.keys[0]])

    assert result["diff"] == {
        "before": {},
        "after": managed(
            aws,
            description="clients",
            throttle={"burst_limit": 100, "rate_limit": 50.0},
            quota={"limit": 10000, "period": "MONTH", "offset": 0},
            api_key_ids=[aws.keys[0]],
        ),
    }


def test_diff_on_update(run, aws):
    run(api_key_ids=[aws.keys[0]])

    result = run(
        diff=True, api_stages=[aws.dev, aws.prod], api_key_ids=[aws.keys[1]], quota_limit=5, quota_period="DAY"
    )

    assert result["diff"] == {
        "before": managed(aws, api_key_ids=[aws.keys[0]]),
        "after": managed(
            aws,
            api_stages=[aws.dev, aws.prod],
            api_key_ids=[aws.keys[1]],
            quota={"limit": 5, "period": "DAY", "offset": 0},
        ),
    }


def test_diff_of_a_no_op_has_equal_sides(run, aws):
    run(**FULL, api_key_ids=aws.keys, tags={"Env": "test"})

    result = run(diff=True, **FULL, api_key_ids=aws.keys, tags={"Env": "test"})

    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_diff_on_delete(run, aws):
    run(api_key_ids=[aws.keys[0]])

    result = run(diff=True, state="absent")

    assert result["diff"] == {"before": managed(aws, api_key_ids=[aws.keys[0]]), "after": {}}


# Deletion


def test_absent_removes_the_stages_then_deletes_the_plan(run, aws, api_calls):
    run(api_stages=[aws.prod, aws.dev], api_key_ids=[aws.keys[0]])
    plan_id = the_plan(aws)["id"]

    deleted = run(state="absent")

    assert deleted["changed"] is True
    assert deleted["usage_plan"] == {}
    assert writes(api_calls) == ["UpdateUsagePlan", "DeleteUsagePlan"]
    assert patches(api_calls) == [
        [
            {"op": "remove", "path": "/apiStages", "value": stage_value(aws.dev)},
            {"op": "remove", "path": "/apiStages", "value": stage_value(aws.prod)},
        ]
    ]
    assert calls_of(api_calls, "DeleteUsagePlan") == [{"usagePlanId": plan_id}]
    assert plans_named(aws) == []
    assert aws.apigateway.get_api_key(apiKey=aws.keys[0])["id"] == aws.keys[0]

    again = run(state="absent")

    assert again["changed"] is False
    assert "failed" not in again
    assert writes(api_calls) == []


def test_absent_without_stages_only_deletes(run, aws, api_calls):
    run(api_stages=[])

    run(state="absent")

    assert writes(api_calls) == ["DeleteUsagePlan"]


# Faults only real AWS shows


@pytest.mark.parametrize("code", ["TooManyRequestsException", "ConflictException"])
def test_throttled_or_conflicting_write_is_retried(run, aws, api_calls, failing, sleeps, code):
    run(**FULL)
    seen = failing("UpdateUsagePlan", code, "injected once", times=1)

    result = run(**{**FULL, "quota_limit": 7})

    assert result["changed"] is True
    assert seen["UpdateUsagePlan"] == 2
    assert len(sleeps) == 1
    assert writes(api_calls) == ["UpdateUsagePlan", "UpdateUsagePlan"]
    assert the_plan(aws)["quota"]["limit"] == 7


def test_update_refused_names_the_paths(run, aws, failing):
    run()
    failing("UpdateUsagePlan", "BadRequestException", "Invalid stage identifier specified")

    result = run(api_stages=[aws.dev])

    assert result["failed"] is True
    assert f"Failed to update /apiStages of usage plan {NAME}" in result["msg"]
    assert "check that every stage of api_stages exists" in result["msg"]
    assert json.dumps(result["patch_operations"]).count("/apiStages") == 2
