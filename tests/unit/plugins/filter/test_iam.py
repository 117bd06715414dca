"""Unit tests of the IAM filters (plugins/filter/iam.py, plugins/plugin_utils/iam_policies.py)."""

import copy
import inspect
import json
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ansible_collections.serverless.tasks_api.plugins.filter.iam import FilterModule
from ansible_collections.serverless.tasks_api.plugins.plugin_utils import iam_policies
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.function_manifest import normalize_manifest

REPO_ROOT = Path(__file__).resolve().parents[4]
# The default manifest, as the stack role ships it.
STACK_DEFAULTS = REPO_ROOT / "roles" / "stack" / "defaults" / "main.yml"
TASKS_MANIFEST = yaml.safe_load(STACK_DEFAULTS.read_text())["stack_functions"]
FILTERS = FilterModule().filters()
ACCOUNT = "123456789012"
REGION = "us-east-1"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tasks"
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/tasks-api-create"
FUNCTIONS = {function["name"]: function for function in normalize_manifest(TASKS_MANIFEST)}
STAR_STATEMENTS = {"VpcNetworkInterfaces", "XRayTraces"}
IN_REGION = {"StringEquals": {"aws:RequestedRegion": REGION}}
STATEMENT_KEY_ORDER = ["Sid", "Effect", "Principal", "Action", "Resource", "Condition"]


def execution_policy(function, table_arn=TABLE_ARN, log_group_arn=LOG_GROUP_ARN, region=REGION):
    return FILTERS["lambda_execution_policy"](function, table_arn, log_group_arn, region)


def with_indexes(function, *indexes):
    return {**function, "dynamodb_indexes": list(indexes)}


def statements_by_sid(policy):
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def aws_style(value):
    """``value`` reordered the way AWS may hand a policy back: keys and list items reversed, single items unwrapped."""
    if isinstance(value, dict):
        return {key: aws_style(value[key]) for key in reversed(value)}
    if isinstance(value, list):
        items = [aws_style(item) for item in reversed(value)]
        return items[0] if len(items) == 1 and isinstance(items[0], str) else items
    return value


def all_documents():
    yield "trust", FILTERS["lambda_trust_policy"](ACCOUNT)
    for name, function in FUNCTIONS.items():
        yield f"execution-{name}", execution_policy(function)
    yield "execution-indexed", execution_policy(with_indexes(FUNCTIONS["list"], "by-status", "by-owner"))
    yield "bucket", FILTERS["tls_only_bucket_policy"]("tasks-api-artifacts")


DOCUMENTS = dict(all_documents())


# Trust policy


def test_lambda_trust_policy_document():
    assert FILTERS["lambda_trust_policy"](ACCOUNT) == {
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


@pytest.mark.parametrize("account", ["1234", "12345678901a", 123456789012, None, "123456789012\n"])
def test_lambda_trust_policy_rejects_bad_account_ids(account):
    with pytest.raises(AnsibleFilterError, match=r"^lambda_trust_policy: account_id: expected 12 digits"):
        FILTERS["lambda_trust_policy"](account)


# Execution policy


def test_lambda_execution_policy_document():
    assert execution_policy(FUNCTIONS["create"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TableAccess",
                "Effect": "Allow",
                "Action": ["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem"],
                "Resource": [TABLE_ARN],
            },
            {
                "Sid": "OwnLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"{LOG_GROUP_ARN}:*"],
            },
            {
                "Sid": "VpcNetworkInterfaces",
                "Effect": "Allow",
                "Action": [
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "Resource": ["*"],
                "Condition": IN_REGION,
            },
            {
                "Sid": "XRayTraces",
                "Effect": "Allow",
                "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                "Resource": ["*"],
                "Condition": IN_REGION,
            },
        ],
    }


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_execution_policy_is_least_privilege(name):
    function = FUNCTIONS[name]
    policy = execution_policy(function)
    statements = statements_by_sid(policy)
    assert [s["Sid"] for s in policy["Statement"]] == ["TableAccess", "OwnLogGroup", *sorted(STAR_STATEMENTS)]
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert not any("*" in action for action in statement["Action"]), statement
        if "*" in statement["Resource"]:
            assert statement["Sid"] in STAR_STATEMENTS
            assert statement["Resource"] == ["*"]
            assert statement["Condition"] == IN_REGION
        else:
            assert "Condition" not in statement
    assert statements["TableAccess"]["Action"] == sorted(function["dynamodb_actions"])
    assert statements["TableAccess"]["Resource"] == [TABLE_ARN]
    assert statements["OwnLogGroup"]["Resource"] == [f"{LOG_GROUP_ARN}:*"]
    assert "logs:CreateLogGroup" not in statements["OwnLogGroup"]["Action"]


def test_index_arns_only_for_declared_indexes():
    undeclared = statements_by_sid(execution_policy(FUNCTIONS["list"]))["TableAccess"]
    declared = statements_by_sid(execution_policy(with_indexes(FUNCTIONS["list"], "by-status")))["TableAccess"]
    assert undeclared["Resource"] == [TABLE_ARN]
    assert declared["Resource"] == [TABLE_ARN, f"{TABLE_ARN}/index/by-status"]
    assert declared["Action"] == undeclared["Action"] == ["dynamodb:Scan"]


def test_no_table_statement_without_actions():
    function = {**FUNCTIONS["list"], "dynamodb_actions": [], "dynamodb_indexes": ["by-status"]}
    policy = execution_policy(function)
    assert [s["Sid"] for s in policy["Statement"]] == ["OwnLogGroup", "VpcNetworkInterfaces", "XRayTraces"]
    assert not any("dynamodb" in json.dumps(statement) for statement in policy["Statement"])


def test_execution_policy_accepts_raw_manifest_entries():
    """An entry straight from the manifest (defaults missing, actions unsorted) gives the same document."""
    assert execution_policy(TASKS_MANIFEST[1]) == execution_policy(FUNCTIONS["create"])


def test_execution_policy_accepts_log_group_arns_with_the_trailing_star():
    assert execution_policy(FUNCTIONS["get"], log_group_arn=f"{LOG_GROUP_ARN}:*") == execution_policy(FUNCTIONS["get"])


def test_execution_policy_in_another_partition():
    table_arn = f"arn:aws-us-gov:dynamodb:us-gov-west-1:{ACCOUNT}:table/tasks"
    log_group_arn = f"arn:aws-us-gov:logs:us-gov-west-1:{ACCOUNT}:log-group:/aws/lambda/tasks-api-get"
    policy = execution_policy(FUNCTIONS["get"], table_arn, log_group_arn, "us-gov-west-1")
    statements = statements_by_sid(policy)
    assert statements["TableAccess"]["Resource"] == [table_arn]
    assert statements["XRayTraces"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-gov-west-1"}}


def test_same_function_in_another_order_gives_an_identical_document():
    function = with_indexes(FUNCTIONS["create"], "by-status", "by-owner")
    shuffled = {key: copy.deepcopy(function[key]) for key in reversed(function)}
    shuffled["dynamodb_actions"] = [*reversed(function["dynamodb_actions"]), function["dynamodb_actions"][0]]
    shuffled["dynamodb_indexes"] = ["by-owner", "by-status", "by-owner"]
    first, second = execution_policy(function), execution_policy(shuffled)
    assert first == second
    assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)
    table = statements_by_sid(first)["TableAccess"]
    assert table["Resource"] == [TABLE_ARN, f"{TABLE_ARN}/index/by-owner", f"{TABLE_ARN}/index/by-status"]


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_documents_have_a_canonical_layout(name):
    document = DOCUMENTS[name]
    assert list(document) == ["Version", "Statement"]
    assert document["Version"] == "2012-10-17"
    for statement in document["Statement"]:
        assert list(statement) == [key for key in STATEMENT_KEY_ORDER if key in statement]
        for key in ("Action", "Resource"):
            if key in statement:
                assert isinstance(statement[key], list)
                assert statement[key] == sorted(set(statement[key]))


@pytest.mark.parametrize(
    ("function", "table_arn", "log_group_arn", "region", "expected"),
    [
        (
            {**FUNCTIONS["get"], "method": "FETCH"},
            TABLE_ARN,
            LOG_GROUP_ARN,
            REGION,
            r"function \(get\): method 'FETCH'",
        ),
        (
            {**FUNCTIONS["get"], "dynamodb_actions": ["dynamodb:*"]},
            TABLE_ARN,
            LOG_GROUP_ARN,
            REGION,
            r"function \(get\): dynamodb_actions\[0\] 'dynamodb:\*'",
        ),
        ("get", TABLE_ARN, LOG_GROUP_ARN, REGION, "function: expected a dict"),
        (FUNCTIONS["get"], "tasks", LOG_GROUP_ARN, REGION, "table_arn: expected an ARN like"),
        (FUNCTIONS["get"], "arn:aws:s3:::tasks", LOG_GROUP_ARN, REGION, "table_arn: expected an ARN like"),
        (FUNCTIONS["get"], f"{TABLE_ARN}/index/by-status", LOG_GROUP_ARN, REGION, "table_arn: expected an ARN"),
        (FUNCTIONS["get"], f"arn:aws:dynamodb:{REGION}:1234:table/tasks", LOG_GROUP_ARN, REGION, "table_arn"),
        (FUNCTIONS["get"], None, LOG_GROUP_ARN, REGION, "table_arn: expected an ARN like"),
        (FUNCTIONS["get"], TABLE_ARN, TABLE_ARN, REGION, "log_group_arn: expected an ARN like"),
        (FUNCTIONS["get"], TABLE_ARN, "/aws/lambda/tasks-api-get", REGION, "log_group_arn: expected an ARN like"),
        (
            FUNCTIONS["get"],
            TABLE_ARN,
            f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/x",
            REGION,
            "log_group_arn: .* is in region eu-west-1",
        ),
        (
            FUNCTIONS["get"],
            f"arn:aws-cn:dynamodb:{REGION}:{ACCOUNT}:table/tasks",
            LOG_GROUP_ARN,
            REGION,
            "log_group_arn: .* is in partition aws, but table_arn",
        ),
        (FUNCTIONS["get"], TABLE_ARN, LOG_GROUP_ARN, "us-east", "region: expected an AWS region like us-east-1"),
        (FUNCTIONS["get"], TABLE_ARN, LOG_GROUP_ARN, "US-EAST-1", "region: expected an AWS region"),
        (FUNCTIONS["get"], TABLE_ARN, LOG_GROUP_ARN, None, "region: expected an AWS region"),
    ],
)
def test_execution_policy_rejects_bad_input_naming_the_argument(function, table_arn, log_group_arn, region, expected):
    with pytest.raises(AnsibleFilterError, match=f"^lambda_execution_policy: {expected}"):
        execution_policy(function, table_arn, log_group_arn, region)


# Bucket policy


def test_tls_only_bucket_policy_document():
    assert FILTERS["tls_only_bucket_policy"]("tasks-api-artifacts") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:*"],
                "Resource": ["arn:aws:s3:::tasks-api-artifacts", "arn:aws:s3:::tasks-api-artifacts/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def test_tls_only_bucket_policy_in_another_partition():
    (statement,) = FILTERS["tls_only_bucket_policy"]("my.bucket-1", "aws-cn")["Statement"]
    assert statement["Resource"] == ["arn:aws-cn:s3:::my.bucket-1", "arn:aws-cn:s3:::my.bucket-1/*"]


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ("ab", "is not 3 to 63"),
        ("a" * 64, "is not 3 to 63"),
        ("Tasks", "is not 3 to 63"),
        ("tasks_api", "is not 3 to 63"),
        ("-tasks", "is not 3 to 63"),
        ("tasks.", "is not 3 to 63"),
        ("tasks\n", "is not 3 to 63"),
        ("my..bucket", "two dots in a row"),
        ("192.168.5.4", "formatted as an IP address"),
        ("xn--tasks", "reserved prefix 'xn--'"),
        ("tasks-s3alias", "reserved suffix '-s3alias'"),
        (42, "expected a string, got int"),
    ],
)
def test_tls_only_bucket_policy_rejects_bad_bucket_names(bucket, expected):
    with pytest.raises(AnsibleFilterError, match=r"^tls_only_bucket_policy: bucket_name: .*" + expected):
        FILTERS["tls_only_bucket_policy"](bucket)


@pytest.mark.parametrize("partition", ["", "gcp", "AWS", None])
def test_tls_only_bucket_policy_rejects_bad_partitions(partition):
    with pytest.raises(AnsibleFilterError, match=r"^tls_only_bucket_policy: partition: expected an AWS partition"):
        FILTERS["tls_only_bucket_policy"]("tasks-api-artifacts", partition)


def test_bucket_name_problems_accepts_valid_names():
    assert iam_policies.bucket_name_problems("tasks-api-artifacts-123456789012") == []


def test_pure_functions_raise_value_error_without_ansible():
    with pytest.raises(ValueError, match=r"^account_id: "):
        iam_policies.lambda_trust_policy("1234")


# Comparison as amazon.aws modules compare policies


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_documents_compare_equal_after_a_json_round_trip(name):
    document = DOCUMENTS[name]
    assert compare_policies(document, json.loads(json.dumps(document))) is False


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_documents_compare_equal_after_aws_style_reordering(name):
    document = DOCUMENTS[name]
    reordered = aws_style(json.loads(json.dumps(document)))
    assert reordered != document
    assert compare_policies(document, reordered) is False


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_documents_are_the_same_on_every_call(name):
    regenerated = dict(all_documents())[name]
    assert json.dumps(regenerated, sort_keys=False) == json.dumps(DOCUMENTS[name], sort_keys=False)


def test_compare_policies_sees_a_real_change():
    """Guard against a comparison that would call any two documents equal."""
    narrower = execution_policy(FUNCTIONS["create"])
    wider = execution_policy({**FUNCTIONS["create"], "dynamodb_actions": ["dynamodb:PutItem", "dynamodb:Scan"]})
    assert compare_policies(narrower, wider) is True


def test_service_trust_policy_trusts_one_service_for_one_account():
    policy = FilterModule().filters()["service_trust_policy"]("123456789012", "apigateway.amazonaws.com")
    (statement,) = policy["Statement"]
    assert statement["Sid"] == "ApigatewayAssumeRole"
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_lambda_trust_policy_is_the_service_trust_policy_of_lambda():
    filters = FilterModule().filters()
    assert filters["lambda_trust_policy"]("123456789012") == filters["service_trust_policy"](
        "123456789012", "lambda.amazonaws.com"
    )


@pytest.mark.parametrize("service", ["apigateway", "evil.example.com", "", None])
def test_service_trust_policy_names_a_bad_service(service):
    with pytest.raises(AnsibleFilterError, match="service_trust_policy: service"):
        FilterModule().filters()["service_trust_policy"]("123456789012", service)


# lambda_execution_roles: the roles option of the iam_roles module, one role per function.

PREFIX = "tasks-api-prod"
STACK_TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PREFIX}-tasks"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/workload-boundary"


def execution_roles(functions=TASKS_MANIFEST, *args, **kwargs):
    arguments = [PREFIX, STACK_TABLE_ARN, ACCOUNT, REGION, "aws", *args]
    return FILTERS["lambda_execution_roles"](functions, *arguments, **kwargs)


def test_execution_roles_one_per_function_in_manifest_order():
    roles = execution_roles()
    assert [role["name"] for role in roles] == [f"{PREFIX}-{function['name']}" for function in TASKS_MANIFEST]


def test_execution_role_of_one_function():
    create = next(role for role in execution_roles() if role["name"] == f"{PREFIX}-create")
    log_group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{PREFIX}-create"
    assert create == {
        "name": f"{PREFIX}-create",
        "path": "/",
        "description": f"Execution role of {PREFIX}-create ({FUNCTIONS['create']['method']} "
        f"{FUNCTIONS['create']['path']})",
        "assume_role_policy_document": FILTERS["lambda_trust_policy"](ACCOUNT),
        "inline_policies": {"execution": execution_policy(FUNCTIONS["create"], STACK_TABLE_ARN, log_group_arn)},
        "managed_policy_arns": [],
        "tags": {"Function": "create"},
    }


def test_execution_roles_take_path_boundary_and_tags():
    roles = execution_roles(TASKS_MANIFEST, "/tasks-api/", BOUNDARY, {"Environment": "prod", "Cost": 12})
    for role, function in zip(roles, TASKS_MANIFEST, strict=True):
        assert role["path"] == "/tasks-api/"
        assert role["permissions_boundary"] == BOUNDARY
        assert role["tags"] == {"Environment": "prod", "Cost": "12", "Function": function["name"]}


def test_execution_roles_without_a_boundary_leave_it_unmanaged():
    assert all("permissions_boundary" not in role for role in execution_roles(TASKS_MANIFEST, "/", ""))


def test_execution_roles_do_not_share_documents():
    """The module may modify the roles' data; one role's document must not be another's."""
    first, second = execution_roles()[:2]
    assert first["assume_role_policy_document"] == second["assume_role_policy_document"]
    first["tags"]["Extra"] = "x"
    first["assume_role_policy_document"]["Statement"].clear()
    assert "Extra" not in second["tags"]
    assert second["assume_role_policy_document"]["Statement"]


@pytest.mark.parametrize(
    ("args", "kwargs", "argument"),
    [
        ((), {"path": "tasks-api/"}, "path"),
        ((), {"path": "/tasks api/"}, "path"),
        ((), {"permissions_boundary": "arn:aws:iam::123456789012:role/not-a-policy"}, "permissions_boundary"),
        ((), {"tags": ["Environment", "prod"]}, "tags"),
    ],
)
def test_execution_roles_name_a_bad_argument(args, kwargs, argument):
    with pytest.raises(AnsibleFilterError, match=f"lambda_execution_roles: {argument}"):
        execution_roles(TASKS_MANIFEST, *args, **kwargs)


@pytest.mark.parametrize(
    ("position", "value", "argument"),
    [
        (0, "", "name_prefix"),
        (0, "x" * 60, "name_prefix"),
        (2, "12345", "account_id"),
        (3, "mars", "region"),
        (4, "azure", "partition"),
        (1, "arn:aws:s3:::bucket", "table_arn"),
    ],
)
def test_execution_roles_name_a_bad_positional_argument(position, value, argument):
    arguments = [PREFIX, STACK_TABLE_ARN, ACCOUNT, REGION, "aws"]
    arguments[position] = value
    with pytest.raises(AnsibleFilterError, match=f"lambda_execution_roles: {argument}"):
        FILTERS["lambda_execution_roles"](TASKS_MANIFEST, *arguments)


def test_execution_roles_name_a_bad_manifest_entry():
    with pytest.raises(AnsibleFilterError, match="FETCH"):
        execution_roles([{"name": "list", "handler": "list_tasks.handler", "method": "FETCH", "path": "/tasks"}])


def test_execution_roles_filter_is_documented():
    documentation = yaml.safe_load((REPO_ROOT / "plugins" / "filter" / "lambda_execution_roles.yml").read_text())
    assert documentation["DOCUMENTATION"]["name"] == "lambda_execution_roles"
    parameters = list(inspect.signature(iam_policies.lambda_execution_roles).parameters)
    assert documentation["DOCUMENTATION"]["positional"].split(", ") == ["_input", *parameters[1:]]
    assert set(documentation["DOCUMENTATION"]["options"]) == {"_input", *parameters[1:]}
