"""Tests of the lambda_permissions module against moto's in-process emulator (mock_aws)."""

import io
import json
import zipfile
from types import SimpleNamespace

import boto3
import pytest
from botocore.client import BaseClient

from ansible_collections.serverless.tasks_api.plugins.modules import lambda_permissions
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import (
    REGION,
    calls_of,
    operations,
    trust_policy,
    writes,
)

LIST = "tasks-api-test-list"
GET = "tasks-api-test-get"
ALIAS = "live"
API = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"
INVOKE = "lambda:InvokeFunction"
APIGATEWAY = "apigateway.amazonaws.com"
CONFLICT_ERROR = "The operation cannot be performed at this time. An update is in progress for resource: " + LIST


def statement(function_name, sid, source_arn, **fields):
    return {
        "function_name": function_name,
        "qualifier": ALIAS,
        "statement_id": sid,
        "action": INVOKE,
        "principal": APIGATEWAY,
        "source_arn": source_arn,
        **fields,
    }


PERMISSIONS = [
    statement(LIST, "apigateway-get-list", f"{API}/*/GET/tasks"),
    statement(LIST, "apigateway-post-list", f"{API}/*/POST/tasks"),
    statement(GET, "apigateway-get-get", f"{API}/*/GET/tasks/*"),
]
KEYS = [
    f"{LIST}:{ALIAS}/apigateway-get-list",
    f"{LIST}:{ALIAS}/apigateway-post-list",
    f"{GET}:{ALIAS}/apigateway-get-get",
]


def zipped(body):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", body)
    return buffer.getvalue()


@pytest.fixture
def aws(mocked_aws):
    """moto's mock of every AWS service, with two published functions, each with its live alias."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="tasks-api-test-lambda", AssumeRolePolicyDocument=trust_policy("lambda.amazonaws.com")
    )
    lambda_ = boto3.client("lambda", region_name=REGION)
    for name in (LIST, GET):
        lambda_.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role["Role"]["Arn"],
            Handler="app.handler",
            Code={"ZipFile": zipped("def handler(event, context):\n    return 1\n")},
            Publish=True,
        )
        lambda_.create_alias(FunctionName=name, Name=ALIAS, FunctionVersion="1")
    return SimpleNamespace(lambda_=lambda_)


@pytest.fixture
def run(aws, module_runner):
    """Run the module's main() with PERMISSIONS by default; return its JSON result."""
    return module_runner(lambda_permissions.main, permissions=PERMISSIONS)


@pytest.fixture
def stored_policy(monkeypatch, api_calls):
    """Make GetPolicy answer with this policy document, as real Lambda stores it (moto stores what it was given)."""

    def answer_with(policy):
        recording = BaseClient._make_api_call

        def answering(self, operation_name, api_params):
            if operation_name == "GetPolicy":
                api_calls.append((operation_name, api_params))
                return {"Policy": json.dumps(policy), "RevisionId": "1"}
            return recording(self, operation_name, api_params)

        monkeypatch.setattr(BaseClient, "_make_api_call", answering)

    return answer_with


def statements(aws, function_name, qualifier=ALIAS):
    """The statements of the function's policy by Sid; {} without a policy."""
    params = {"FunctionName": function_name, **({"Qualifier": qualifier} if qualifier else {})}
    try:
        policy = json.loads(aws.lambda_.get_policy(**params)["Policy"])
    except aws.lambda_.exceptions.ResourceNotFoundException:
        return {}
    return {entry["Sid"]: entry for entry in policy["Statement"]}


def source_arn(entry):
    return entry["Condition"]["ArnLike"]["AWS:SourceArn"]


def add_directly(aws, permission):
    params = {
        "FunctionName": permission["function_name"],
        "Qualifier": permission["qualifier"],
        "StatementId": permission["statement_id"],
        "Action": permission["action"],
        "Principal": permission["principal"],
    }
    if permission.get("source_arn"):
        params["SourceArn"] = permission["source_arn"]
    aws.lambda_.add_permission(**params)


def changed_keys(result):
    return [key for key, entry in result["permissions"].items() if entry["changed"]]


# Creation


def test_create_adds_every_statement_reading_each_policy_once(run, aws, api_calls):
    result = run()

    assert result["changed"] is True
    assert operations(api_calls) == ["GetPolicy", "GetPolicy", "AddPermission", "AddPermission", "AddPermission"]
    assert calls_of(api_calls, "GetPolicy") == [
        {"FunctionName": LIST, "Qualifier": ALIAS},
        {"FunctionName": GET, "Qualifier": ALIAS},
    ]
    assert calls_of(api_calls, "AddPermission")[0] == {
        "FunctionName": LIST,
        "Qualifier": ALIAS,
        "StatementId": "apigateway-get-list",
        "Action": INVOKE,
        "Principal": APIGATEWAY,
        "SourceArn": f"{API}/*/GET/tasks",
    }
    assert result["permissions"] == {key: {"changed": True} for key in KEYS}
    assert sorted(statements(aws, LIST)) == ["apigateway-get-list", "apigateway-post-list"]
    stored = statements(aws, GET)["apigateway-get-get"]
    assert stored["Principal"] == {"Service": APIGATEWAY}
    assert stored["Action"] == INVOKE
    assert source_arn(stored) == f"{API}/*/GET/tasks/*"


def test_source_account_and_no_qualifier(run, aws, api_calls):
    permission = {
        "function_name": GET,
        "statement_id": "reporting",
        "action": INVOKE,
        "principal": "s3.amazonaws.com",
        "source_account": "123456789012",
    }

    result = run(permissions=[permission])

    assert result["permissions"] == {f"{GET}/reporting": {"changed": True}}
    assert calls_of(api_calls, "GetPolicy") == [{"FunctionName": GET}]
    assert calls_of(api_calls, "AddPermission") == [
        {
            "FunctionName": GET,
            "StatementId": "reporting",
            "Action": INVOKE,
            "Principal": "s3.amazonaws.com",
            "SourceAccount": "123456789012",
        }
    ]
    stored = statements(aws, GET, qualifier=None)["reporting"]
    assert stored["Condition"] == {"StringEquals": {"AWS:SourceAccount": "123456789012"}}
    assert run(permissions=[permission])["changed"] is False


def test_sid_is_an_alias_of_statement_id(run, aws):
    permission = {key: value for key, value in PERMISSIONS[2].items() if key != "statement_id"}

    result = run(permissions=[{**permission, "sid": "apigateway-get-get"}])

    assert result["permissions"] == {KEYS[2]: {"changed": True}}


def test_an_empty_list_makes_no_call(run, api_calls):
    result = run(permissions=[])

    assert result == {**result, "changed": False, "permissions": {}}
    assert api_calls == []


# Idempotence


def test_identical_rerun_is_unchanged_with_one_read_per_policy_and_no_write(run, aws, api_calls):
    run()

    result = run()

    assert result["changed"] is False
    assert operations(api_calls) == ["GetPolicy", "GetPolicy"]
    assert result["permissions"] == {key: {"changed": False} for key in KEYS}


def test_only_the_missing_statement_is_added(run, aws, api_calls):
    run()
    aws.lambda_.remove_permission(FunctionName=LIST, Qualifier=ALIAS, StatementId="apigateway-post-list")

    result = run()

    assert changed_keys(result) == [KEYS[1]]
    assert writes(api_calls) == ["AddPermission"]
    assert calls_of(api_calls, "AddPermission")[0]["StatementId"] == "apigateway-post-list"
    assert sorted(statements(aws, LIST)) == ["apigateway-get-list", "apigateway-post-list"]


def test_statements_not_in_the_list_are_left_alone(run, aws, api_calls):
    by_hand = statement(LIST, "by-hand", f"{API}/*/DELETE/tasks")
    add_directly(aws, by_hand)

    run()

    assert "RemovePermission" not in operations(api_calls)
    assert sorted(statements(aws, LIST)) == ["apigateway-get-list", "apigateway-post-list", "by-hand"]


# Changes: a differing statement is removed and added again


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("source_arn", f"{API}/*/GET/tasks/search"),
        ("principal", "events.amazonaws.com"),
        ("action", "lambda:GetFunction"),
        ("source_account", "123456789012"),
    ],
)
def test_a_changed_field_replaces_that_statement_only(run, aws, api_calls, field, value):
    run()
    permissions = [PERMISSIONS[0], {**PERMISSIONS[1], field: value}, PERMISSIONS[2]]

    result = run(permissions=permissions)

    assert changed_keys(result) == [KEYS[1]]
    assert writes(api_calls) == ["RemovePermission", "AddPermission"]
    assert calls_of(api_calls, "RemovePermission") == [
        {"FunctionName": LIST, "Qualifier": ALIAS, "StatementId": "apigateway-post-list"}
    ]
    assert calls_of(api_calls, "AddPermission")[0]["StatementId"] == "apigateway-post-list"
    assert run(permissions=permissions)["changed"] is False


def test_a_dropped_source_arn_is_a_change(run, aws, api_calls):
    run()
    permissions = [PERMISSIONS[0], {**PERMISSIONS[1], "source_arn": None}, PERMISSIONS[2]]

    result = run(permissions=permissions)

    assert changed_keys(result) == [KEYS[1]]
    assert "Condition" not in statements(aws, LIST)["apigateway-post-list"]


def test_a_statement_removed_meanwhile_is_still_added(run, aws, api_calls, failing):
    run()
    failing("RemovePermission", "ResourceNotFoundException", "No policy is associated with the given resource.")

    result = run(permissions=[{**PERMISSIONS[0], "source_arn": f"{API}/*/GET/other"}])

    assert result["changed"] is True
    assert "failed" not in result
    assert writes(api_calls) == ["RemovePermission", "AddPermission"]


def test_an_account_id_matches_the_root_arn_lambda_stores(run, aws, api_calls, stored_policy):
    permission = statement(GET, "account", None, principal="210987654321")
    stored_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "account",
                    "Effect": "Allow",
                    "Action": INVOKE,
                    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                    "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:{GET}:{ALIAS}",
                }
            ],
        }
    )

    assert run(permissions=[permission])["changed"] is False
    assert writes(api_calls) == []

    other = run(permissions=[{**permission, "principal": "123456789012"}], diff=True)

    assert other["changed"] is True
    assert other["diff"][0]["before"]["principal"] == "arn:aws:iam::210987654321:root"


# Check mode


def test_check_mode_create_writes_nothing(run, aws, api_calls):
    result = run(check_mode=True)

    assert result["changed"] is True
    assert result["permissions"] == {key: {"changed": True} for key in KEYS}
    assert writes(api_calls) == []
    assert statements(aws, LIST) == {}


def test_check_mode_update_writes_nothing(run, aws, api_calls):
    run()

    result = run(check_mode=True, permissions=[{**PERMISSIONS[2], "source_arn": f"{API}/*/PUT/tasks/*"}])

    assert result["changed"] is True
    assert writes(api_calls) == []
    assert source_arn(statements(aws, GET)["apigateway-get-get"]) == f"{API}/*/GET/tasks/*"


def test_check_mode_without_difference_is_unchanged(run, aws, api_calls):
    run()

    result = run(check_mode=True)

    assert result["changed"] is False
    assert operations(api_calls) == ["GetPolicy", "GetPolicy"]


# Diff: one entry per statement that changes


def wanted(permission):
    return {
        "action": permission["action"],
        "principal": permission["principal"],
        "source_arn": permission.get("source_arn"),
        "source_account": permission.get("source_account"),
    }


def test_diff_on_create(run, aws):
    result = run(diff=True)

    assert result["diff"] == [
        {"before_header": key, "after_header": key, "before": {}, "after": wanted(permission)}
        for key, permission in zip(KEYS, PERMISSIONS, strict=True)
    ]


def test_diff_on_update_in_check_mode(run, aws):
    run()
    changed = {**PERMISSIONS[1], "source_arn": f"{API}/*/POST/tasks/bulk"}

    result = run(diff=True, check_mode=True, permissions=[PERMISSIONS[0], changed])

    assert result["diff"] == [
        {"before_header": KEYS[1], "after_header": KEYS[1], "before": wanted(PERMISSIONS[1]), "after": wanted(changed)}
    ]


def test_diff_of_a_no_op_is_empty(run, aws):
    run()

    result = run(diff=True)

    assert result["changed"] is False
    assert result["diff"] == []


# Errors name the statement or the policy


def test_a_repeated_statement_fails_before_any_call(run, api_calls):
    result = run(permissions=[PERMISSIONS[0], PERMISSIONS[1], {**PERMISSIONS[0], "source_arn": f"{API}/*/GET/x"}])

    assert result["failed"] is True
    assert result["msg"] == f"permissions: each statement may be listed once; repeated: {KEYS[0]}"
    assert api_calls == []


def test_a_missing_required_field_fails(run, api_calls):
    result = run(permissions=[{key: value for key, value in PERMISSIONS[0].items() if key != "principal"}])

    assert result["failed"] is True
    assert "principal" in result["msg"]
    assert api_calls == []


def test_access_denied_on_read_names_the_policy(run, aws, failing):
    failing("GetPolicy", "AccessDeniedException", "User is not authorized to perform: lambda:GetPolicy")

    result = run()

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to get the resource policy of function {LIST}:{ALIAS}: ")


def test_a_missing_function_fails_naming_the_statement(run, aws, api_calls):
    result = run(permissions=[statement("tasks-api-test-gone", "apigateway-get-gone", f"{API}/*/GET/gone")])

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to add statement tasks-api-test-gone:{ALIAS}/apigateway-get-gone: ")
    assert "Function not found" in result["msg"]


def test_a_missing_function_in_check_mode_would_be_added(run, aws, api_calls):
    result = run(check_mode=True, permissions=[statement("tasks-api-test-gone", "s", f"{API}/*/GET/gone")])

    assert result["changed"] is True
    assert writes(api_calls) == []


# Faults only real AWS shows


def test_a_conflicting_update_is_retried(run, aws, api_calls, failing, sleeps):
    seen = failing("AddPermission", "ResourceConflictException", CONFLICT_ERROR, times=1, status=409)

    result = run(permissions=[PERMISSIONS[0]])

    assert result["changed"] is True
    assert seen["AddPermission"] == 2
    assert len(sleeps) == 1
    assert sorted(statements(aws, LIST)) == ["apigateway-get-list"]


def test_a_conflict_that_lasts_fails_naming_the_statement(run, aws, failing, sleeps):
    seen = failing("AddPermission", "ResourceConflictException", CONFLICT_ERROR, status=409)

    result = run(permissions=[PERMISSIONS[0]])

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to add statement {KEYS[0]}: another update")
    assert seen["AddPermission"] > 2


def test_a_throttled_read_is_retried(run, aws, failing, sleeps):
    run()
    seen = failing("GetPolicy", "TooManyRequestsException", "Rate exceeded", times=1, status=429)

    result = run()

    assert result["changed"] is False
    assert seen["GetPolicy"] == 3
