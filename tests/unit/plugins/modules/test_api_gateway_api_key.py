"""Tests of the api_gateway_api_key module against moto's in-process emulator (mock_aws)."""

import json
from types import SimpleNamespace

import boto3
import pytest
from ansible.module_utils import basic

from ansible_collections.serverless.tasks_api.plugins.modules import api_gateway_api_key
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import (
    REGION,
    calls_of,
    operations,
    writes,
)

NAME = "tasks-api-test-clients"
VALUE = "first-secret-value-0123456789"
NEW_VALUE = "second-secret-value-9876543210"
MOTO_TAGS_ONLY_STAGES = (
    "moto 5.2.5 TagResource/UntagResource only know stage ARNs: an API key ARN gives NotFoundException"
    " 'Invalid Rest API Id specified'"
)


@pytest.fixture
def aws(mocked_aws):
    """moto's mock of every AWS service."""
    return SimpleNamespace(apigateway=boto3.client("apigateway", region_name=REGION))


@pytest.fixture
def unmasked(monkeypatch):
    """Turn off Ansible's masking of no_log values, to see what the module itself returns."""
    monkeypatch.setattr(basic, "remove_values", lambda value, no_log_strings: value)


@pytest.fixture
def run(aws, module_runner):
    """Run the module's main() for the test key with VALUE by default; return its JSON result."""
    return module_runner(api_gateway_api_key.main, name=NAME, value=VALUE)


def keys_named(aws, name=NAME):
    return [key for key in aws.apigateway.get_api_keys(includeValues=True)["items"] if key["name"] == name]


def the_key(aws):
    (key,) = keys_named(aws)
    return key


def without_invocation(result):
    """The result without the module arguments that Ansible echoes back (masked there by no_log)."""
    return {name: item for name, item in result.items() if name != "invocation"}


def usage_plan_with_key(aws, key_id):
    plan_id = aws.apigateway.create_usage_plan(name="tasks-api-test")["id"]
    aws.apigateway.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    return plan_id


# Creation


def test_create_sends_the_value_and_returns_the_key_without_it(run, aws, api_calls):
    result = run(description="clients", tags={"Env": "test"})

    assert result["changed"] is True
    assert result["replaced"] is False
    assert writes(api_calls) == ["CreateApiKey"]
    assert calls_of(api_calls, "CreateApiKey") == [
        {"name": NAME, "description": "clients", "enabled": True, "value": VALUE, "tags": {"Env": "test"}}
    ]
    key = the_key(aws)
    assert (key["value"], key["enabled"], key["description"], key["tags"]) == (VALUE, True, "clients", {"Env": "test"})
    returned = result["api_key"]
    assert returned["id"] == key["id"]
    assert returned["name"] == NAME
    assert returned["enabled"] is True
    assert returned["description"] == "clients"
    assert returned["tags"] == {"Env": "test"}
    assert "value" not in returned


def test_create_without_tags_sends_none(run, aws, api_calls):
    result = run()

    assert calls_of(api_calls, "CreateApiKey") == [{"name": NAME, "description": "", "enabled": True, "value": VALUE}]
    assert result["api_key"]["tags"] == {}


def test_short_value_fails_before_any_call_without_showing_it(run, aws, api_calls, unmasked):
    result = run(value="short-value")

    assert result["failed"] is True
    assert f"The value of API key {NAME} has 11 characters; API Gateway requires at least 20" in result["msg"]
    assert "short-value" not in json.dumps(without_invocation(result))
    assert api_calls == []


def test_present_without_value_fails(run, aws, api_calls):
    result = run(value=None)

    assert result["failed"] is True
    assert "value" in result["msg"]
    assert api_calls == []


# Finding the key by its exact name


def test_keys_whose_name_only_starts_with_the_name_are_ignored(run, aws):
    other = aws.apigateway.create_api_key(name=NAME + "-admin", value="admin-secret-value-0123456789", enabled=True)

    result = run()

    assert result["changed"] is True
    assert result["api_key"]["id"] != other["id"]
    assert len(keys_named(aws)) == 1
    assert keys_named(aws, NAME + "-admin")[0]["enabled"] is True


def test_several_keys_with_the_name_fail_listing_their_ids(run, aws, api_calls):
    first = aws.apigateway.create_api_key(name=NAME, value="one-secret-value-0123456789")["id"]
    second = aws.apigateway.create_api_key(name=NAME, value="two-secret-value-0123456789")["id"]

    result = run()

    assert result["failed"] is True
    assert f"2 API keys are named {NAME}" in result["msg"]
    assert first in result["msg"]
    assert second in result["msg"]
    assert result["api_key_ids"] == sorted([first, second])
    assert writes(api_calls) == []


# Idempotence


def test_identical_rerun_is_unchanged_with_zero_writes(run, aws, api_calls):
    run(description="clients", tags={"Env": "test"})

    second = run(description="clients", tags={"Env": "test"})

    assert second["changed"] is False
    assert second["replaced"] is False
    assert writes(api_calls) == []
    assert operations(api_calls) == ["GetApiKeys", "GetApiKey"]
    assert calls_of(api_calls, "GetApiKeys")[0]["nameQuery"] == NAME
    assert calls_of(api_calls, "GetApiKey")[0]["includeValue"] is True
    assert second["api_key"]["id"] == the_key(aws)["id"]


# Updates in place


def test_description_change_sends_only_the_description_patch(run, aws, api_calls):
    run()
    key_id = the_key(aws)["id"]

    result = run(description="new")

    assert result["changed"] is True
    assert writes(api_calls) == ["UpdateApiKey"]
    assert calls_of(api_calls, "UpdateApiKey") == [
        {"apiKey": key_id, "patchOperations": [{"op": "replace", "path": "/description", "value": "new"}]}
    ]
    assert the_key(aws)["description"] == "new"
    assert result["api_key"]["description"] == "new"
    assert result["api_key"]["id"] == key_id


def test_enabled_change_sends_only_the_enabled_patch(run, aws, api_calls):
    run()

    result = run(enabled=False)

    assert result["changed"] is True
    assert calls_of(api_calls, "UpdateApiKey")[0]["patchOperations"] == [
        {"op": "replace", "path": "/enabled", "value": "false"}
    ]
    assert the_key(aws)["enabled"] is False
    assert result["api_key"]["enabled"] is False
    assert run(enabled=False)["changed"] is False


@pytest.mark.xfail(reason=MOTO_TAGS_ONLY_STAGES, strict=True)
def test_tags_of_an_existing_key_are_purged_and_added(run, aws, api_calls):
    run(tags={"Env": "test", "Team": "api"})
    arn = f"arn:aws:apigateway:{REGION}::/apikeys/{the_key(aws)['id']}"

    result = run(tags={"Env": "prod"})

    assert writes(api_calls) == ["UntagResource", "TagResource"]
    assert calls_of(api_calls, "UntagResource") == [{"resourceArn": arn, "tagKeys": ["Team"]}]
    assert calls_of(api_calls, "TagResource") == [{"resourceArn": arn, "tags": {"Env": "prod"}}]
    assert result["api_key"]["tags"] == {"Env": "prod"}
    assert the_key(aws)["tags"] == {"Env": "prod"}


def test_omitted_tags_are_left_alone(run, aws, api_calls):
    run(tags={"Env": "test"})

    result = run()

    assert result["changed"] is False
    assert writes(api_calls) == []
    assert the_key(aws)["tags"] == {"Env": "test"}


# Replacement when the value changes


def test_value_change_replaces_the_key(run, aws, api_calls):
    run(description="clients", enabled=False, tags={"Env": "test"})
    old_id = the_key(aws)["id"]

    result = run(value=NEW_VALUE, description="clients", enabled=False)

    assert result["changed"] is True
    assert result["replaced"] is True
    assert writes(api_calls) == ["CreateApiKey", "DeleteApiKey"]
    assert calls_of(api_calls, "CreateApiKey") == [
        {"name": NAME, "description": "clients", "enabled": False, "value": NEW_VALUE, "tags": {"Env": "test"}}
    ]
    assert calls_of(api_calls, "DeleteApiKey") == [{"apiKey": old_id}]
    key = the_key(aws)
    assert key["id"] != old_id
    assert key["value"] == NEW_VALUE
    assert (key["enabled"], key["description"], key["tags"]) == (False, "clients", {"Env": "test"})
    assert result["api_key"]["id"] == key["id"]

    again = run(value=NEW_VALUE, description="clients", enabled=False)
    assert again["changed"] is False
    assert again["replaced"] is False


def test_replacement_warns_with_the_usage_plans_of_the_old_key(run, aws):
    run()
    old_id = the_key(aws)["id"]
    plan_id = usage_plan_with_key(aws, old_id)

    result = run(value=NEW_VALUE)

    new_id = result["api_key"]["id"]
    warnings = json.dumps(result["warnings"])  # ansible-core 2.19 returns structured warnings
    assert f"({old_id}) was replaced by the new key {new_id}" in warnings
    assert f"attached to usage plans {plan_id}" in warnings


def test_replacement_that_cannot_delete_the_old_key_names_both_keys(run, aws, failing):
    run()
    old_id = the_key(aws)["id"]
    failing("DeleteApiKey", "BadRequestException", "Cannot delete")

    result = run(value=NEW_VALUE)

    assert result["failed"] is True
    new_id = result["api_key"]["id"]
    assert f"Created API key {new_id}" in result["msg"]
    assert f"failed to delete the old key {old_id}" in result["msg"]
    assert len(keys_named(aws)) == 2


# The value never leaves the module


def test_value_never_appears_in_any_result(run, aws, failing):
    outputs = [
        run(diff=True),
        run(diff=True),
        run(diff=True, description="changed"),
        run(diff=True, value=NEW_VALUE),
        run(diff=True, check_mode=True, value=VALUE),
        run(diff=True, value=NEW_VALUE, state="absent"),
    ]
    failing("CreateApiKey", "BadRequestException", "API Key already exists")
    outputs.append(run(diff=True))

    assert outputs[-1]["failed"] is True
    for output in outputs:
        text = json.dumps(output)
        assert VALUE not in text
        assert NEW_VALUE not in text


def test_module_itself_never_returns_the_value(run, aws, unmasked):
    """With Ansible's no_log masking off, only the echoed arguments hold the value."""
    outputs = [
        run(diff=True),
        run(diff=True, enabled=False),
        run(diff=True, value=NEW_VALUE),
        run(diff=True, value=NEW_VALUE, state="absent"),
    ]

    assert NEW_VALUE in json.dumps(outputs[2]["invocation"])  # the masking really is off
    for output in outputs:
        text = json.dumps(without_invocation(output))
        assert VALUE not in text
        assert NEW_VALUE not in text


# Check mode


def test_check_mode_create_writes_nothing(run, aws, api_calls):
    result = run(check_mode=True, tags={"Env": "test"})

    assert result["changed"] is True
    assert result["api_key"] == {}
    assert writes(api_calls) == []
    assert keys_named(aws) == []


def test_check_mode_update_writes_nothing(run, aws, api_calls):
    run(tags={"Env": "test"})
    before = the_key(aws)

    result = run(check_mode=True, description="new", enabled=False, tags={"Env": "prod"})

    assert result["changed"] is True
    assert result["replaced"] is False
    assert writes(api_calls) == []
    assert the_key(aws) == before


def test_check_mode_replacement_writes_nothing(run, aws, api_calls):
    run()
    old = the_key(aws)
    usage_plan_with_key(aws, old["id"])

    result = run(check_mode=True, value=NEW_VALUE)

    assert result["changed"] is True
    assert result["replaced"] is True
    assert writes(api_calls) == []
    assert the_key(aws) == old
    assert result["api_key"]["id"] == old["id"]
    assert "would be replaced" in json.dumps(result["warnings"])


def test_check_mode_delete_keeps_the_key(run, aws, api_calls):
    run()

    result = run(check_mode=True, state="absent")

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert len(keys_named(aws)) == 1


# Diff


def managed(**overrides):
    return {"name": NAME, "description": "", "enabled": True, "value": "<hidden>", "tags": {}, **overrides}


def test_diff_on_create(run, aws):
    result = run(diff=True, tags={"Env": "test"})

    assert result["diff"] == {"before": {}, "after": managed(tags={"Env": "test"})}


def test_diff_on_update(run, aws):
    run()

    result = run(diff=True, description="new", enabled=False)

    assert result["diff"] == {"before": managed(), "after": managed(description="new", enabled=False)}


def test_diff_on_replacement_shows_that_the_hidden_value_changed(run, aws):
    run()

    result = run(diff=True, value=NEW_VALUE)

    assert result["diff"] == {"before": managed(), "after": managed(value="<hidden, changed>")}


def test_diff_of_a_no_op_has_equal_sides(run, aws):
    run(tags={"Env": "test"})

    result = run(diff=True, tags={"Env": "test"})

    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_diff_on_delete(run, aws):
    run()

    result = run(diff=True, state="absent")

    assert result["diff"] == {"before": managed(), "after": {}}


# Deletion


def test_absent_deletes_then_is_unchanged(run, aws, api_calls):
    run()
    key_id = the_key(aws)["id"]

    deleted = run(state="absent", value=None)

    assert deleted["changed"] is True
    assert deleted["api_key"] == {}
    assert calls_of(api_calls, "DeleteApiKey") == [{"apiKey": key_id}]
    assert keys_named(aws) == []

    again = run(state="absent", value=None)

    assert again["changed"] is False
    assert "failed" not in again
    assert writes(api_calls) == []


# Faults only real AWS shows


@pytest.mark.parametrize("code", ["TooManyRequestsException", "ConflictException"])
def test_throttled_or_conflicting_update_is_retried(run, aws, api_calls, failing, sleeps, code):
    run()
    api_calls.clear()
    seen = failing("UpdateApiKey", code, "injected once", times=1)

    result = run(description="changed")

    assert result["changed"] is True
    assert seen["UpdateApiKey"] == 2
    assert len(sleeps) == 1
    assert writes(api_calls) == ["UpdateApiKey", "UpdateApiKey"]
    assert the_key(aws)["description"] == "changed"


def test_throttled_create_is_retried(run, aws, api_calls, failing, sleeps):
    seen = failing("CreateApiKey", "TooManyRequestsException", "injected once", times=1)

    result = run()

    assert result["changed"] is True
    assert seen["CreateApiKey"] == 2
    assert len(sleeps) == 1
    assert writes(api_calls) == ["CreateApiKey", "CreateApiKey"]
    assert len(keys_named(aws)) == 1


def test_a_value_already_taken_fails_at_once_saying_so(run, aws, api_calls, failing, sleeps):
    seen = failing("CreateApiKey", "ConflictException", "API Key already exists")

    result = run()

    assert result["failed"] is True
    assert seen["CreateApiKey"] == 1
    assert sleeps == []
    assert "already has" in result["msg"]
    assert "API Key already exists" in result["msg"]
    assert VALUE not in json.dumps(result)
    assert keys_named(aws) == []
