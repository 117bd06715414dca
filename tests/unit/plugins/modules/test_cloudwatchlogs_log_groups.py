"""Tests of the cloudwatchlogs_log_groups module against moto's in-process emulator (mock_aws)."""

import boto3
import pytest
from botocore.client import BaseClient
from moto.core import DEFAULT_ACCOUNT_ID
from moto.logs.models import logs_backends

from ansible_collections.serverless.tasks_api.plugins.modules import cloudwatchlogs_log_groups
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import (
    REGION,
    calls_of,
    operations,
)

PREFIX = "/aws/lambda/tasks-api-test-"
LIST = f"{PREFIX}list"
CREATE = f"{PREFIX}create"
TAGS = {"Application": "tasks-api", "Environment": "test"}
KEY = f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT_ID}:key/5678abcd-12ab-34cd-56ef-1234567890ab"
READS = ("Describe", "List")


def arn(name):
    return f"arn:aws:logs:{REGION}:{DEFAULT_ACCOUNT_ID}:log-group:{name}"


def entry(name, retention=30, **settings):
    function = name.removeprefix(PREFIX)
    return {"name": name, "retention": retention, "tags": {**TAGS, "Function": function}, **settings}


GROUPS = [entry(LIST), entry(CREATE)]


@pytest.fixture
def logs(mocked_aws):
    return boto3.client("logs", region_name=REGION)


@pytest.fixture
def run(logs, module_runner):
    return module_runner(cloudwatchlogs_log_groups.main, log_groups=GROUPS)


@pytest.fixture
def associate_kms_key(monkeypatch, api_calls):
    """moto 5.2.5 has no AssociateKmsKey: record the call and set the key on moto's log group, as AWS would."""
    recording = BaseClient._make_api_call

    def associating(self, operation_name, api_params):
        if operation_name != "AssociateKmsKey":
            return recording(self, operation_name, api_params)
        api_calls.append((operation_name, api_params))
        backend = logs_backends[DEFAULT_ACCOUNT_ID][REGION]
        backend.groups[api_params["logGroupName"]].kms_key_id = api_params["kmsKeyId"]
        return {}

    monkeypatch.setattr(BaseClient, "_make_api_call", associating)


def writes(api_calls):
    return [name for name in operations(api_calls) if not name.startswith(READS)]


def described(logs, name):
    (group,) = [g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name]
    return group


def tags_of(logs, name):
    return logs.list_tags_for_resource(resourceArn=arn(name))["tags"]


# Creation


def test_creates_each_group_with_its_tags_then_sets_its_retention(run, logs, api_calls):
    result = run()

    assert result["changed"] is True
    assert writes(api_calls) == ["CreateLogGroup", "PutRetentionPolicy"] * 2
    assert calls_of(api_calls, "CreateLogGroup") == [
        {"logGroupName": LIST, "tags": {**TAGS, "Function": "list"}},
        {"logGroupName": CREATE, "tags": {**TAGS, "Function": "create"}},
    ]
    assert calls_of(api_calls, "PutRetentionPolicy") == [
        {"logGroupName": LIST, "retentionInDays": 30},
        {"logGroupName": CREATE, "retentionInDays": 30},
    ]
    assert result["log_groups"] == {
        LIST: {"arn": arn(LIST), "retention_in_days": 30, "changed": True},
        CREATE: {"arn": arn(CREATE), "retention_in_days": 30, "changed": True},
    }
    assert described(logs, LIST)["retentionInDays"] == 30
    assert tags_of(logs, CREATE) == {**TAGS, "Function": "create"}


def test_creates_with_the_kms_key_in_the_same_call(run, logs, api_calls):
    run(log_groups=[entry(LIST, kms_key_id=KEY)])

    assert calls_of(api_calls, "CreateLogGroup")[0]["kmsKeyId"] == KEY
    assert "AssociateKmsKey" not in operations(api_calls)
    assert described(logs, LIST)["kmsKeyId"] == KEY


def test_creates_only_the_missing_groups(run, logs, api_calls):
    logs.create_log_group(logGroupName=LIST, tags={**TAGS, "Function": "list"})
    logs.put_retention_policy(logGroupName=LIST, retentionInDays=30)

    result = run()

    assert calls_of(api_calls, "CreateLogGroup") == [{"logGroupName": CREATE, "tags": {**TAGS, "Function": "create"}}]
    assert writes(api_calls) == ["CreateLogGroup", "PutRetentionPolicy"]
    assert result["log_groups"][LIST]["changed"] is False and result["log_groups"][CREATE]["changed"] is True
    assert result["log_groups"][CREATE]["arn"] == arn(CREATE)


# Idempotence: one describe for the list, one tag read per group, no write


def test_rerun_writes_nothing_and_reads_once_plus_the_tags_of_each_group(run, api_calls):
    run()

    result = run()

    assert result["changed"] is False
    assert writes(api_calls) == []
    assert operations(api_calls) == ["DescribeLogGroups", "ListTagsForResource", "ListTagsForResource"]
    assert calls_of(api_calls, "DescribeLogGroups") == [{"logGroupNamePrefix": PREFIX}]
    assert calls_of(api_calls, "ListTagsForResource") == [{"resourceArn": arn(LIST)}, {"resourceArn": arn(CREATE)}]
    assert result["log_groups"][LIST] == {"arn": arn(LIST), "retention_in_days": 30, "changed": False}


def test_without_tags_the_tags_are_not_read(run, api_calls):
    run()

    result = run(log_groups=[{"name": LIST, "retention": 30}, {"name": CREATE, "retention": 30}])

    assert result["changed"] is False
    assert operations(api_calls) == ["DescribeLogGroups"]


def test_tag_values_are_compared_as_text(run, logs, api_calls):
    run(log_groups=[{"name": LIST, "tags": {"Shard": 3}}])

    assert tags_of(logs, LIST) == {"Shard": "3"}
    assert run(log_groups=[{"name": LIST, "tags": {"Shard": 3}}])["changed"] is False
    assert writes(api_calls) == []


def test_reads_every_page_of_the_prefix(run, logs, api_calls):
    names = [f"{PREFIX}fn{index:02d}" for index in range(55)]
    for name in names:
        logs.create_log_group(logGroupName=name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=30)

    result = run(log_groups=[{"name": name, "retention": 30} for name in names])

    assert result["changed"] is False and writes(api_calls) == []
    assert operations(api_calls) == ["DescribeLogGroups", "DescribeLogGroups"]
    assert len(result["log_groups"]) == 55 and result["log_groups"][names[-1]]["arn"] == arn(names[-1])


def test_names_without_a_common_prefix_are_read_with_no_prefix(run, logs, api_calls):
    result = run(log_groups=[{"name": "alpha"}, {"name": "beta"}])

    assert result["changed"] is True
    assert calls_of(api_calls, "DescribeLogGroups")[0] == {}
    assert run(log_groups=[{"name": "alpha"}, {"name": "beta"}])["changed"] is False


def test_a_single_group_is_read_by_its_whole_name(run, api_calls):
    run(log_groups=[{"name": LIST}])

    assert calls_of(api_calls, "DescribeLogGroups")[0] == {"logGroupNamePrefix": LIST}


# Changes: only what differs, only on the group that differs


def test_changed_retention_is_set_on_that_group_only(run, logs, api_calls):
    run()
    logs.put_retention_policy(logGroupName=LIST, retentionInDays=7)

    result = run()

    assert result["changed"] is True
    assert writes(api_calls) == ["PutRetentionPolicy"]
    assert calls_of(api_calls, "PutRetentionPolicy") == [{"logGroupName": LIST, "retentionInDays": 30}]
    assert result["log_groups"][LIST] == {"arn": arn(LIST), "retention_in_days": 30, "changed": True}
    assert result["log_groups"][CREATE]["changed"] is False
    assert described(logs, LIST)["retentionInDays"] == 30


def test_a_group_that_keeps_its_events_forever_gets_the_retention(run, logs, api_calls):
    logs.create_log_group(logGroupName=LIST, tags={**TAGS, "Function": "list"})  # as Lambda would, no retention

    result = run(log_groups=[entry(LIST)], diff=True)

    assert writes(api_calls) == ["PutRetentionPolicy"]
    assert result["diff"][0]["before"]["retention"] is None and result["diff"][0]["after"]["retention"] == 30


def test_omitted_retention_is_left_as_it_is(run, logs, api_calls):
    run()
    logs.put_retention_policy(logGroupName=LIST, retentionInDays=7)

    result = run(log_groups=[entry(LIST, retention=None)])

    assert result["changed"] is False and writes(api_calls) == []
    assert result["log_groups"][LIST]["retention_in_days"] == 7


def test_changed_and_extra_tags_are_tagged_and_untagged(run, logs, api_calls):
    run()
    logs.tag_resource(resourceArn=arn(LIST), tags={"Environment": "prod", "Owner": "someone"})

    result = run(diff=True)

    assert writes(api_calls) == ["TagResource", "UntagResource"]
    assert calls_of(api_calls, "TagResource") == [{"resourceArn": arn(LIST), "tags": {"Environment": "test"}}]
    assert calls_of(api_calls, "UntagResource") == [{"resourceArn": arn(LIST), "tagKeys": ["Owner"]}]
    assert tags_of(logs, LIST) == {**TAGS, "Function": "list"}
    assert [item["after_header"] for item in result["diff"]] == [LIST]


def test_without_purge_other_tags_stay(run, logs, api_calls):
    run()
    logs.tag_resource(resourceArn=arn(LIST), tags={"Owner": "someone"})

    result = run(purge_tags=False)

    assert result["changed"] is False and writes(api_calls) == []
    assert tags_of(logs, LIST)["Owner"] == "someone"


def test_omitted_tags_are_left_alone(run, logs, api_calls):
    run()

    result = run(log_groups=[{"name": LIST, "retention": 30, "tags": None}])

    assert result["changed"] is False and writes(api_calls) == []
    assert tags_of(logs, LIST) == {**TAGS, "Function": "list"}


def test_another_kms_key_is_associated(run, logs, api_calls, associate_kms_key):
    run(log_groups=[entry(LIST, kms_key_id=OTHER_KEY)])

    result = run(log_groups=[entry(LIST, kms_key_id=KEY)], diff=True)

    assert writes(api_calls) == ["AssociateKmsKey"]
    assert calls_of(api_calls, "AssociateKmsKey") == [{"logGroupName": LIST, "kmsKeyId": KEY}]
    assert result["diff"][0]["before"]["kms_key_id"] == OTHER_KEY and result["diff"][0]["after"]["kms_key_id"] == KEY
    assert described(logs, LIST)["kmsKeyId"] == KEY
    assert run(log_groups=[entry(LIST, kms_key_id=KEY)])["changed"] is False


def test_a_key_is_associated_with_an_unencrypted_group(run, logs, api_calls, associate_kms_key):
    run(log_groups=[entry(LIST)])

    result = run(log_groups=[entry(LIST, kms_key_id=KEY)])

    assert result["changed"] is True and writes(api_calls) == ["AssociateKmsKey"]
    assert described(logs, LIST)["kmsKeyId"] == KEY


@pytest.mark.parametrize("kms_key_id", [None, ""], ids=["omitted", "empty"])
def test_omitted_kms_key_leaves_the_key_there(run, logs, api_calls, kms_key_id):
    run(log_groups=[entry(LIST, kms_key_id=KEY)])

    result = run(log_groups=[entry(LIST, kms_key_id=kms_key_id)])

    assert result["changed"] is False and writes(api_calls) == []
    assert described(logs, LIST)["kmsKeyId"] == KEY


def test_groups_not_in_the_list_are_left_alone(run, logs, api_calls):
    logs.create_log_group(logGroupName=f"{PREFIX}other")

    result = run()

    assert f"{PREFIX}other" not in result["log_groups"]
    assert "DeleteLogGroup" not in operations(api_calls)
    assert described(logs, f"{PREFIX}other")


def test_an_empty_list_makes_no_call(run, api_calls):
    result = run(log_groups=[], diff=True)

    assert (result["changed"], result["log_groups"], result["diff"]) == (False, {}, [])
    assert api_calls == []


# Check mode: no write, the truth about what a real run would do


def test_check_mode_on_missing_groups_writes_nothing_and_says_they_would_be_created(run, logs, api_calls):
    result = run(check_mode=True)

    assert result["changed"] is True and writes(api_calls) == []
    assert result["log_groups"][LIST] == {"arn": "", "retention_in_days": 30, "changed": True}
    assert logs.describe_log_groups()["logGroups"] == []


def test_check_mode_reports_a_drifted_retention_without_repairing_it(run, logs, api_calls):
    run()
    logs.put_retention_policy(logGroupName=LIST, retentionInDays=7)

    result = run(check_mode=True, diff=True)

    assert result["changed"] is True and writes(api_calls) == []
    assert result["log_groups"][LIST] == {"arn": arn(LIST), "retention_in_days": 30, "changed": True}
    assert result["log_groups"][CREATE]["changed"] is False
    assert described(logs, LIST)["retentionInDays"] == 7
    assert run()["changed"] is True  # the drift was still there for the real run


def test_check_mode_on_converged_groups_is_unchanged(run, api_calls):
    run()

    result = run(check_mode=True, diff=True)

    assert (result["changed"], result["diff"]) == (False, [])
    assert writes(api_calls) == []


# Diff: one entry per group that changes, named by the group, comparable properties


def test_diff_of_a_creation_has_an_empty_before(run):
    result = run(log_groups=[entry(LIST, kms_key_id=KEY)], check_mode=True, diff=True)

    assert result["diff"] == [
        {
            "before_header": LIST,
            "after_header": LIST,
            "before": {},
            "after": {"retention": 30, "kms_key_id": KEY, "tags": {**TAGS, "Function": "list"}},
        }
    ]


def test_diff_of_a_drifted_retention_differs_only_in_the_retention(run, logs):
    run()
    logs.put_retention_policy(logGroupName=LIST, retentionInDays=7)

    result = run(check_mode=True, diff=True)

    tags = {**TAGS, "Function": "list"}
    assert result["diff"] == [
        {
            "before_header": LIST,
            "after_header": LIST,
            "before": {"retention": 7, "tags": tags},
            "after": {"retention": 30, "tags": tags},
        }
    ]


def test_without_diff_mode_there_is_no_diff(run):
    assert "diff" not in run()


# Errors: before any call for bad input; naming the group for AWS errors


def test_a_retention_cloudwatch_refuses_fails_naming_the_group_before_any_call(run, api_calls):
    result = run(log_groups=[entry(LIST), entry(CREATE, retention=31)])

    assert result["failed"] is True
    assert f"log group {CREATE}: retention 31 is not one CloudWatch Logs accepts" in result["msg"]
    assert "1, 3, 5, 7, 14, 30" in result["msg"] and LIST not in result["msg"]
    assert api_calls == []


def test_a_name_listed_twice_fails_before_any_call(run, api_calls):
    result = run(log_groups=[entry(LIST), entry(LIST, retention=7)])

    assert result["failed"] is True and f"log group {LIST} is listed more than once" in result["msg"]
    assert api_calls == []


def test_a_group_without_name_fails(run, api_calls):
    result = run(log_groups=[{"retention": 30}])

    assert result["failed"] is True and "name" in result["msg"]
    assert api_calls == []


def test_a_refused_write_fails_naming_the_group_and_the_action(run, logs, failing):
    run()
    logs.put_retention_policy(logGroupName=CREATE, retentionInDays=7)
    failing("PutRetentionPolicy", "AccessDeniedException", "not authorized to perform logs:PutRetentionPolicy")

    result = run()

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to set the retention of log group {CREATE}")
    assert "not authorized" in result["msg"]


def test_a_refused_tag_read_fails_naming_the_group(run, failing):
    run()
    failing("ListTagsForResource", "AccessDeniedException", "not authorized to perform logs:ListTagsForResource")

    result = run()

    assert result["failed"] is True and result["msg"].startswith(f"Failed to list the tags of log group {LIST}")


def test_a_refused_describe_fails_naming_the_prefix(run, failing):
    failing("DescribeLogGroups", "AccessDeniedException", "not authorized to perform logs:DescribeLogGroups")

    result = run()

    assert result["failed"] is True and result["msg"].startswith("Failed to describe the log groups starting with")
    assert PREFIX in result["msg"]


def test_throttling_is_retried(run, logs, failing, api_calls):
    seen = failing("CreateLogGroup", "ThrottlingException", "Rate exceeded", times=2)

    result = run(log_groups=[entry(LIST)])

    assert result["changed"] is True and seen["CreateLogGroup"] == 3
    assert described(logs, LIST)["retentionInDays"] == 30


@pytest.mark.parametrize(
    ("names", "prefix"),
    [
        ([LIST, CREATE], PREFIX),
        ([LIST], LIST),
        ([f"{PREFIX}a", f"{PREFIX}ab"], f"{PREFIX}a"),
        (["alpha", "beta"], ""),
    ],
)
def test_common_prefix(names, prefix):
    assert cloudwatchlogs_log_groups.common_prefix(names) == prefix
