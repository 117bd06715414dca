"""Tests of the sns_topic_encryption module against moto's in-process emulator (mock_aws)."""

import boto3
import pytest

from ansible_collections.serverless.tasks_api.plugins.modules import sns_topic_encryption
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import (
    REGION,
    calls_of,
    operations,
)

NAME = "tasks-api-test-alarms"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:{NAME}"
KEY = f"arn:aws:kms:{REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "alias/tasks-api-test-other"
READS = ("Get", "List")


@pytest.fixture
def sns(mocked_aws):
    client = boto3.client("sns", region_name=REGION)
    client.create_topic(Name=NAME)
    return client


@pytest.fixture
def run(sns, module_runner):
    return module_runner(sns_topic_encryption.main, topic_arn=TOPIC, kms_master_key_id=KEY)


def stored_key(sns):
    return sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"].get("KmsMasterKeyId", "")


def writes(api_calls):
    return [name for name in operations(api_calls) if not name.startswith(READS)]


def test_encrypts_an_unencrypted_topic_with_one_call(run, sns, api_calls):
    result = run()

    assert (result["changed"], result["topic_arn"], result["kms_master_key_id"]) == (True, TOPIC, KEY)
    assert calls_of(api_calls, "SetTopicAttributes") == [
        {"TopicArn": TOPIC, "AttributeName": "KmsMasterKeyId", "AttributeValue": KEY}
    ]
    assert stored_key(sns) == KEY


def test_rerun_with_the_same_key_writes_nothing(run, api_calls):
    run()

    result = run()

    assert result["changed"] is False and result["kms_master_key_id"] == KEY
    assert writes(api_calls) == []


def test_another_key_replaces_the_key(run, sns, api_calls):
    run()

    result = run(kms_master_key_id=OTHER_KEY)

    assert result["changed"] is True and writes(api_calls) == ["SetTopicAttributes"]
    assert stored_key(sns) == OTHER_KEY


def test_empty_key_removes_the_encryption_then_is_no_change(run, sns, api_calls):
    run()

    assert run(kms_master_key_id="")["changed"] is True
    assert stored_key(sns) == ""
    assert run(kms_master_key_id="")["changed"] is False and writes(api_calls) == []


def test_check_mode_reports_the_change_and_writes_nothing(run, sns, api_calls):
    result = run(check_mode=True, diff=True)

    assert result["changed"] is True and writes(api_calls) == []
    assert result["diff"] == {"before": {"kms_master_key_id": ""}, "after": {"kms_master_key_id": KEY}}
    assert stored_key(sns) == ""


def test_diff_of_a_no_op_has_equal_sides(run):
    run()

    result = run(diff=True)

    assert result["diff"]["before"] == result["diff"]["after"] == {"kms_master_key_id": KEY}


def test_a_missing_topic_fails_naming_it_and_what_to_do(run, api_calls):
    missing = TOPIC.replace(NAME, "tasks-api-test-missing")

    result = run(topic_arn=missing)

    assert result["failed"] is True
    assert f"SNS topic {missing} does not exist" in result["msg"] and "community.aws.sns_topic" in result["msg"]
    assert writes(api_calls) == []


def test_a_refused_key_fails_naming_the_topic_and_the_key(run, failing):
    failing("SetTopicAttributes", "InvalidParameter", "Invalid parameter: KmsMasterKeyId")

    result = run()

    assert result["failed"] is True
    assert f"Failed to encrypt SNS topic {TOPIC} with {KEY}" in result["msg"]


def test_throttled_read_is_retried(run, failing, sleeps):
    seen = failing("GetTopicAttributes", "Throttling", "Rate exceeded", times=1)

    result = run()

    assert result["changed"] is True and seen["GetTopicAttributes"] >= 2
    assert len(sleeps) == 1
