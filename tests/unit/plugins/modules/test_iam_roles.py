"""Tests of the iam_roles module against moto's in-process emulator (mock_aws)."""

import copy
import json

import boto3
import pytest

from ansible_collections.serverless.tasks_api.plugins.modules import iam_roles
from ansible_collections.serverless.tasks_api.tests.unit.plugins.modules.module_calls import (
    REGION,
    calls_of,
    operations,
    writes,
)

ACCOUNT = "123456789012"  # moto's default account
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "LambdaAssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": ["sts:AssumeRole"],
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ],
}
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tasks"


def execution_policy(*actions):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "TableAccess", "Effect": "Allow", "Action": sorted(actions), "Resource": [TABLE_ARN]}],
    }


def role(name, *actions, **overrides):
    """One entry of the roles option: an execution role with its inline policy ``execution``."""
    entry = {
        "name": name,
        "path": "/tasks-api/",
        "description": f"Execution role of {name}",
        "assume_role_policy_document": TRUST,
        "inline_policies": {"execution": execution_policy(*(actions or ("dynamodb:GetItem",)))},
        "managed_policy_arns": [],
        "tags": {"Environment": "test", "Function": name},
    }
    return {**entry, **overrides}


ROLES = [role("tasks-api-list", "dynamodb:Scan"), role("tasks-api-get", "dynamodb:GetItem")]
READS = ("Get", "List")


@pytest.fixture
def iam(mocked_aws):
    return boto3.client("iam", region_name=REGION)


@pytest.fixture
def run(iam, module_runner):
    """Run the module; ``roles`` defaults to ROLES."""
    run_module = module_runner(iam_roles.main)

    def run_roles(roles=None, **args):
        return run_module(roles=copy.deepcopy(ROLES if roles is None else roles), **args)

    return run_roles


@pytest.fixture
def converged(run):
    result = run()
    assert result["changed"] is True
    return result


@pytest.fixture
def managed_policy(iam):
    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    )
    return iam.create_policy(PolicyName="wide-open", PolicyDocument=document)["Policy"]["Arn"]


def inline_policy(iam, name, policy_name="execution"):
    return iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]


def tags_of(iam, name):
    return {tag["Key"]: tag["Value"] for tag in iam.get_role(RoleName=name)["Role"].get("Tags", [])}


def test_create_makes_each_role_with_its_policy(iam, run, api_calls):
    result = run()

    assert result["changed"] is True
    for entry in ROLES:
        name = entry["name"]
        created = iam.get_role(RoleName=name)["Role"]
        assert result["roles"][name] == {"arn": created["Arn"], "role_id": created["RoleId"], "changed": True}
        assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/tasks-api/{name}"
        assert created["Path"] == "/tasks-api/"
        assert created["Description"] == f"Execution role of {name}"
        assert created["AssumeRolePolicyDocument"] == TRUST
        assert tags_of(iam, name) == {"Environment": "test", "Function": name}
        assert inline_policy(iam, name) == entry["inline_policies"]["execution"]
    assert writes(api_calls, READS) == ["CreateRole", "PutRolePolicy"] * 2
    assert calls_of(api_calls, "CreateRole")[0]["Tags"] == [
        {"Key": "Environment", "Value": "test"},
        {"Key": "Function", "Value": "tasks-api-list"},
    ]


def test_create_waits_for_the_role(run, api_calls):
    run()
    ops = operations(api_calls)
    create = ops.index("CreateRole")
    # The role_exists waiter reads the role before its policy is put.
    assert ops[create + 1 : create + 3] == ["GetRole", "PutRolePolicy"]


def test_rerun_makes_no_write_and_few_reads(converged, run, api_calls):
    result = run()

    assert result["changed"] is False
    assert all(entry["changed"] is False for entry in result["roles"].values())
    assert writes(api_calls, READS) == []
    # Per role: GetRole, GetRolePolicy and ListAttachedRolePolicies (purge_managed_policies).
    assert sorted(operations(api_calls)) == sorted(["GetRole", "GetRolePolicy", "ListAttachedRolePolicies"] * 2)


def test_rerun_without_purging_managed_policies_reads_two_calls_per_role(converged, run, api_calls):
    result = run(purge_managed_policies=False)

    assert result["changed"] is False
    assert operations(api_calls) == ["GetRole", "GetRolePolicy"] * 2


def test_policy_in_another_form_is_no_change(iam, converged, run, api_calls):
    """AWS may hand back a single action as a string and keys in another order: compare_policies sees through."""
    statement = {"Resource": TABLE_ARN, "Action": "dynamodb:Scan", "Effect": "Allow", "Sid": "TableAccess"}
    iam.put_role_policy(
        RoleName="tasks-api-list",
        PolicyName="execution",
        PolicyDocument=json.dumps({"Statement": [statement], "Version": "2012-10-17"}),
    )

    assert run()["changed"] is False
    assert writes(api_calls, READS) == []


def test_policy_given_as_json_text(converged, run, api_calls):
    roles = copy.deepcopy(ROLES)
    for entry in roles:
        entry["assume_role_policy_document"] = json.dumps(entry["assume_role_policy_document"])
        entry["inline_policies"] = {"execution": json.dumps(entry["inline_policies"]["execution"])}

    assert run(roles)["changed"] is False
    assert writes(api_calls, READS) == []


def test_inline_policy_edited_by_hand_is_put_back(iam, converged, run, api_calls):
    wider = execution_policy("dynamodb:GetItem", "dynamodb:DeleteTable")
    iam.put_role_policy(RoleName="tasks-api-get", PolicyName="execution", PolicyDocument=json.dumps(wider))

    result = run(diff=True)

    assert result["changed"] is True
    assert result["roles"]["tasks-api-get"]["changed"] is True
    assert result["roles"]["tasks-api-list"]["changed"] is False
    assert writes(api_calls, READS) == ["PutRolePolicy"]
    assert inline_policy(iam, "tasks-api-get") == execution_policy("dynamodb:GetItem")
    (entry,) = result["diff"]
    assert entry["before_header"] == entry["after_header"] == "tasks-api-get"
    assert entry["before"]["inline_policies"] == {"execution": wider}
    assert entry["after"]["inline_policies"] == {"execution": execution_policy("dynamodb:GetItem")}
    # Only the policy differs: every other property compares equal.
    assert {key: value for key, value in entry["before"].items() if key != "inline_policies"} == {
        key: value for key, value in entry["after"].items() if key != "inline_policies"
    }


def test_deleted_inline_policy_is_put_back(iam, converged, run, api_calls):
    iam.delete_role_policy(RoleName="tasks-api-list", PolicyName="execution")

    result = run(diff=True)

    assert result["changed"] is True
    assert writes(api_calls, READS) == ["PutRolePolicy"]
    assert result["diff"][0]["before"]["inline_policies"] == {}
    assert inline_policy(iam, "tasks-api-list") == execution_policy("dynamodb:Scan")


def test_changed_trust_policy_description_and_tags(iam, converged, run, api_calls):
    other_trust = copy.deepcopy(TRUST)
    other_trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] = "210987654321"
    iam.update_assume_role_policy(RoleName="tasks-api-list", PolicyDocument=json.dumps(other_trust))
    iam.update_role(RoleName="tasks-api-list", Description="edited by hand")
    iam.untag_role(RoleName="tasks-api-list", TagKeys=["Environment"])
    iam.tag_role(RoleName="tasks-api-list", Tags=[{"Key": "Owner", "Value": "someone"}])

    result = run(diff=True)

    assert result["roles"]["tasks-api-list"]["changed"] is True
    assert sorted(writes(api_calls, READS)) == ["TagRole", "UntagRole", "UpdateAssumeRolePolicy", "UpdateRole"]
    assert calls_of(api_calls, "UntagRole") == [{"RoleName": "tasks-api-list", "TagKeys": ["Owner"]}]
    assert calls_of(api_calls, "TagRole")[0]["Tags"] == [{"Key": "Environment", "Value": "test"}]
    listed = iam.get_role(RoleName="tasks-api-list")["Role"]
    assert listed["AssumeRolePolicyDocument"] == TRUST
    assert listed["Description"] == "Execution role of tasks-api-list"
    assert tags_of(iam, "tasks-api-list") == {"Environment": "test", "Function": "tasks-api-list"}
    (entry,) = result["diff"]
    assert entry["before"]["description"] == "edited by hand"
    assert entry["before"]["tags"] == {"Function": "tasks-api-list", "Owner": "someone"}
    assert entry["after"]["tags"] == {"Environment": "test", "Function": "tasks-api-list"}
    assert entry["before"]["assume_role_policy_document"] == other_trust
    assert entry["after"]["assume_role_policy_document"] == TRUST


def test_tags_are_kept_without_purge_tags(iam, converged, run, api_calls):
    iam.tag_role(RoleName="tasks-api-list", Tags=[{"Key": "Owner", "Value": "someone"}])

    assert run(purge_tags=False)["changed"] is False
    assert writes(api_calls, READS) == []
    assert tags_of(iam, "tasks-api-list")["Owner"] == "someone"


def test_omitted_tags_and_description_are_left_alone(iam, converged, run, api_calls):
    iam.update_role(RoleName="tasks-api-list", Description="edited by hand")
    iam.tag_role(RoleName="tasks-api-list", Tags=[{"Key": "Owner", "Value": "someone"}])
    roles = [{key: value for key, value in entry.items() if key not in ("tags", "description")} for entry in ROLES]

    assert run(roles)["changed"] is False
    assert writes(api_calls, READS) == []


def test_managed_policy_attached_by_hand_is_detached(iam, converged, run, api_calls, managed_policy):
    iam.attach_role_policy(RoleName="tasks-api-get", PolicyArn=managed_policy)

    result = run(diff=True)

    assert result["roles"]["tasks-api-get"]["changed"] is True
    assert writes(api_calls, READS) == ["DetachRolePolicy"]
    assert iam.list_attached_role_policies(RoleName="tasks-api-get")["AttachedPolicies"] == []
    (entry,) = result["diff"]
    assert entry["before"]["managed_policy_arns"] == [managed_policy]
    assert entry["after"]["managed_policy_arns"] == []


def test_managed_policy_attached_by_hand_is_kept_without_purge(iam, converged, run, api_calls, managed_policy):
    iam.attach_role_policy(RoleName="tasks-api-get", PolicyArn=managed_policy)

    assert run(purge_managed_policies=False)["changed"] is False
    assert writes(api_calls, READS) == []
    assert len(iam.list_attached_role_policies(RoleName="tasks-api-get")["AttachedPolicies"]) == 1


def test_listed_managed_policy_is_attached(iam, converged, run, api_calls, managed_policy):
    roles = [role("tasks-api-list", "dynamodb:Scan", managed_policy_arns=[managed_policy])]

    result = run(roles, purge_managed_policies=False)

    assert result["changed"] is True
    assert calls_of(api_calls, "AttachRolePolicy") == [{"RoleName": "tasks-api-list", "PolicyArn": managed_policy}]
    assert run(roles, purge_managed_policies=False)["changed"] is False


def test_new_role_with_managed_policy_and_boundary(iam, run, api_calls, managed_policy):
    roles = [role("tasks-api-new", managed_policy_arns=[managed_policy], permissions_boundary=managed_policy)]

    assert run(roles)["changed"] is True

    created = iam.get_role(RoleName="tasks-api-new")["Role"]
    assert created["PermissionsBoundary"]["PermissionsBoundaryArn"] == managed_policy
    attached = iam.list_attached_role_policies(RoleName="tasks-api-new")["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [managed_policy]
    assert run(roles)["changed"] is False


def test_boundary_is_set_and_removed(iam, converged, run, api_calls, managed_policy):
    with_boundary = [role("tasks-api-list", "dynamodb:Scan", permissions_boundary=managed_policy)]
    assert run(with_boundary)["changed"] is True
    assert writes(api_calls, READS) == ["PutRolePermissionsBoundary"]
    assert iam.get_role(RoleName="tasks-api-list")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
        managed_policy
    )

    assert run(ROLES)["changed"] is False  # an omitted boundary is left as it is

    without = [role("tasks-api-list", "dynamodb:Scan", permissions_boundary="")]
    assert run(without)["changed"] is True
    assert writes(api_calls, READS) == ["DeleteRolePermissionsBoundary"]
    assert "PermissionsBoundary" not in iam.get_role(RoleName="tasks-api-list")["Role"]


def test_other_inline_policies_are_left_unless_purged(iam, converged, run, api_calls):
    iam.put_role_policy(
        RoleName="tasks-api-list", PolicyName="extra", PolicyDocument=json.dumps(execution_policy("dynamodb:Query"))
    )

    assert run()["changed"] is False
    assert "ListRolePolicies" not in operations(api_calls)

    result = run(purge_inline_policies=True, diff=True)

    assert result["roles"]["tasks-api-list"]["changed"] is True
    assert result["roles"]["tasks-api-get"]["changed"] is False
    assert calls_of(api_calls, "DeleteRolePolicy") == [{"RoleName": "tasks-api-list", "PolicyName": "extra"}]
    assert iam.list_role_policies(RoleName="tasks-api-list")["PolicyNames"] == ["execution"]
    (entry,) = result["diff"]
    assert set(entry["before"]["inline_policies"]) == {"execution", "extra"}
    assert set(entry["after"]["inline_policies"]) == {"execution"}


def test_check_mode_on_an_empty_account_writes_nothing_and_shows_the_policies(iam, run, api_calls):
    result = run(check_mode=True, diff=True)

    assert result["changed"] is True
    assert result["roles"] == {entry["name"]: {"changed": True} for entry in ROLES}
    assert writes(api_calls, READS) == []
    assert iam.list_roles()["Roles"] == []
    assert [entry["before_header"] for entry in result["diff"]] == [entry["name"] for entry in ROLES]
    first = result["diff"][0]
    assert first["before"] == {}
    assert first["after"] == {
        "path": "/tasks-api/",
        "description": "Execution role of tasks-api-list",
        "assume_role_policy_document": TRUST,
        "inline_policies": {"execution": execution_policy("dynamodb:Scan")},
        "managed_policy_arns": [],
        "tags": {"Environment": "test", "Function": "tasks-api-list"},
    }


def test_check_mode_reports_drift_without_writing(iam, converged, run, api_calls, managed_policy):
    iam.attach_role_policy(RoleName="tasks-api-get", PolicyArn=managed_policy)
    iam.put_role_policy(
        RoleName="tasks-api-list", PolicyName="execution", PolicyDocument=json.dumps(execution_policy("dynamodb:*"))
    )

    result = run(check_mode=True, diff=True)

    assert result["changed"] is True
    assert {name: entry["changed"] for name, entry in result["roles"].items()} == {
        "tasks-api-list": True,
        "tasks-api-get": True,
    }
    assert writes(api_calls, READS) == []
    assert [entry["before_header"] for entry in result["diff"]] == ["tasks-api-list", "tasks-api-get"]
    assert inline_policy(iam, "tasks-api-list") == execution_policy("dynamodb:*")


def test_check_mode_on_a_converged_account_reports_no_change(converged, run, api_calls):
    result = run(check_mode=True, diff=True)

    assert result["changed"] is False
    assert result["diff"] == []
    assert writes(api_calls, READS) == []


def test_another_path_fails_naming_the_role(iam, run, api_calls):
    iam.create_role(RoleName="tasks-api-get", Path="/other/", AssumeRolePolicyDocument=json.dumps(TRUST))

    result = run()

    assert result["failed"] is True
    assert "tasks-api-get" in result["msg"] and "/other/" in result["msg"] and "/tasks-api/" in result["msg"]
    assert writes(api_calls, READS) == ["CreateRole", "PutRolePolicy"]  # the list role, before the failing one


def test_aws_error_names_the_role(failing, run):
    failing("PutRolePolicy", "MalformedPolicyDocument", "Policy document should not specify a principal.")

    result = run([role("tasks-api-list")])

    assert result["failed"] is True
    assert "tasks-api-list" in result["msg"]
    assert "MalformedPolicyDocument" in json.dumps(result)


def test_read_error_names_the_role(failing, run):
    failing("GetRole", "AccessDenied", "not authorized to perform: iam:GetRole")

    result = run([role("tasks-api-list")])

    assert result["failed"] is True
    assert result["msg"].startswith("Failed to read role tasks-api-list")


def test_throttling_is_retried(failing, run, api_calls):
    seen = failing("GetRolePolicy", "Throttling", "Rate exceeded", times=2)

    result = run([role("tasks-api-list")])

    assert result["changed"] is True
    assert seen["GetRolePolicy"] == 0  # a new role has no policy to read
    result = run([role("tasks-api-list")])
    assert result["changed"] is False
    assert seen["GetRolePolicy"] == 3


def test_bad_policy_text_fails_naming_role_and_policy(run, api_calls):
    result = run([role("tasks-api-list", inline_policies={"execution": "{not json"})])

    assert result["failed"] is True
    assert "tasks-api-list" in result["msg"] and "execution" in result["msg"]
    assert api_calls == []


def test_a_role_listed_twice_fails(run, api_calls):
    result = run([role("tasks-api-list"), role("tasks-api-list")])

    assert result["failed"] is True
    assert "tasks-api-list" in result["msg"]
    assert api_calls == []
