"""The iam and storage roles against a private local endpoint: properties, idempotence, drift, safety."""

import json

import pytest
from playbook_runner import REPO_ROOT, converge_site, run_playbook

PREFIX = "tasks-api-local"
TABLE = f"{PREFIX}-tasks"
BUCKET = f"{PREFIX}-123456789012-us-east-1"
PARAMETER = "/tasks-api/local/api-key"
FUNCTIONS = {
    "list": ["dynamodb:Scan"],
    "create": ["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem"],
    "get": ["dynamodb:GetItem"],
    "update": ["dynamodb:UpdateItem"],
    "delete": ["dynamodb:DeleteItem"],
}


def converge(endpoint, tmp_path, *args, **extra_vars):
    return converge_site(endpoint.url, tmp_path, "iam,storage", *args, **extra_vars)


@pytest.fixture(scope="module")
def converged(local_endpoint, tmp_path_factory):
    """A stack converged once (iam and storage layers), shared by the read-only tests."""
    local_endpoint.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    dry_run = converge(local_endpoint, outputs, "--check", "--diff")
    assert dry_run.returncode == 0, dry_run.describe()
    assert dry_run.changed > 0
    first = converge(local_endpoint, outputs)
    assert first.returncode == 0, first.describe()
    return local_endpoint, outputs, dry_run, first


def test_check_mode_on_an_empty_account_creates_nothing(converged):
    _, _, dry_run, _ = converged
    assert "Report the bucket that check mode would create" in dry_run.changed_tasks()


def test_rerun_and_check_mode_report_no_change(converged):
    endpoint, outputs, _, _ = converged
    check = converge(endpoint, outputs, "--check", "--diff")
    assert check.returncode == 0, check.describe()
    assert check.changed == 0, check.changed_tasks()
    again = converge(endpoint, outputs)
    assert again.changed == 0, again.changed_tasks()


def test_bucket_properties(converged):
    s3 = converged[0].client("s3")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    ownership = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags["ManagedBy"] == "ansible" and tags["Environment"] == "local"
    s3.put_object(Bucket=BUCKET, Key="probe", Body=b"tls")  # the TLS-only policy lets TLS requests through


def test_table_properties(converged):
    dynamodb = converged[0].client("dynamodb")
    table = dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["DeletionProtectionEnabled"] is False
    backups = dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    tags = {t["Key"]: t["Value"] for t in dynamodb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]}
    assert tags["ManagedBy"] == "ansible"


def test_api_key_is_generated_once_and_never_shown(converged):
    endpoint, outputs, _, _ = converged
    ssm = endpoint.client("ssm")
    parameter = ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    value = parameter["Value"]
    assert len(value) >= 32 and value.isalnum()
    verbose = converge(endpoint, outputs, "-vvv")
    assert verbose.returncode == 0, verbose.describe()
    assert ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"] == value
    assert value not in json.dumps(verbose.output) + verbose.stderr
    assert value not in (outputs / "local.json").read_text()


def test_execution_roles_are_least_privilege(converged):
    iam = converged[0].client("iam")
    for name, actions in FUNCTIONS.items():
        role = iam.get_role(RoleName=f"{PREFIX}-{name}")["Role"]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
        assert iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"] == []
        document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="execution")["PolicyDocument"]
        statements = {s["Sid"]: s for s in document["Statement"]}
        assert sorted(statements["TableAccess"]["Action"]) == actions
        assert statements["TableAccess"]["Resource"] == [f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}"]
        for statement in document["Statement"]:
            assert not any(action == "*" or action.endswith(":*") for action in statement["Action"])


def test_drift_is_reported_in_check_mode_and_reverted(converged):
    endpoint, outputs, _, _ = converged
    dynamodb, s3, iam = endpoint.client("dynamodb"), endpoint.client("s3"), endpoint.client("iam")
    dynamodb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    tags = [t for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"] if t["Key"] != "Environment"]
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": tags})
    document = iam.get_role_policy(RoleName=f"{PREFIX}-get", PolicyName="execution")["PolicyDocument"]
    document["Statement"].append({"Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "*"})
    iam.put_role_policy(RoleName=f"{PREFIX}-get", PolicyName="execution", PolicyDocument=json.dumps(document))

    check = converge(endpoint, outputs, "--check", "--diff")
    assert check.returncode == 0, check.describe()
    assert set(check.changed_tasks()) == {
        "Create or update the tasks table",
        "Report the bucket settings that a real run would repair",
        "Create or update the execution role of each function, with its least-privilege inline policy",
    }, check.changed_tasks()

    repair = converge(endpoint, outputs)
    assert repair.returncode == 0, repair.describe()
    backups = dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert "Environment" in {t["Key"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    repaired = iam.get_role_policy(RoleName=f"{PREFIX}-get", PolicyName="execution")["PolicyDocument"]
    assert "dynamodb:DeleteTable" not in json.dumps(repaired)
    assert converge(endpoint, outputs).changed == 0


def test_a_sixth_function_gets_its_role(fresh_endpoint, tmp_path):
    functions = [
        {"name": name, "handler": f"{name}_tasks.handler", "method": method, "path": path, "dynamodb_actions": actions}
        for name, method, path, actions in [
            ("list", "GET", "/tasks", ["dynamodb:Scan"]),
            ("search", "GET", "/tasks/search", ["dynamodb:Query"]),
        ]
    ]
    run = converge(fresh_endpoint, tmp_path, stack_functions=functions)
    assert run.returncode == 0, run.describe()
    iam = fresh_endpoint.client("iam")
    document = iam.get_role_policy(RoleName=f"{PREFIX}-search", PolicyName="execution")["PolicyDocument"]
    table_statement = next(s for s in document["Statement"] if s["Sid"] == "TableAccess")
    assert table_statement["Action"] == ["dynamodb:Query"]
    outputs = json.loads((tmp_path / "local.json").read_text())
    assert set(outputs["iam"]["role_arns"]) == {"list", "search"}


def test_a_bad_manifest_entry_fails_in_preflight_naming_it(fresh_endpoint, tmp_path):
    functions = [{"name": "list", "handler": "list_tasks.handler", "method": "FETCH", "path": "/tasks"}]
    run = converge(fresh_endpoint, tmp_path, stack_functions=functions)
    assert run.returncode != 0
    assert any("stack_functions" in m and "FETCH" in m for m in run.failure_messages()), run.failure_messages()
    assert fresh_endpoint.client("iam").list_roles()["Roles"] == []


def test_deletion_protection_keeps_the_table_and_its_items(fresh_endpoint, tmp_path):
    run = converge(fresh_endpoint, tmp_path, storage_table_deletion_protection=True)
    assert run.returncode == 0, run.describe()
    dynamodb = fresh_endpoint.client("dynamodb")
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "keep-me"}})
    delete = run_playbook(
        fresh_endpoint.url,
        str(REPO_ROOT / "tests" / "integration" / "playbooks" / "delete_table.yml"),
        extra_vars={"delete_table_name": TABLE},
    )
    assert delete.returncode != 0
    assert any("deletion protection" in m for m in delete.failure_messages()), delete.failure_messages()
    assert dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "keep-me"}})["Item"]["id"] == {"S": "keep-me"}
