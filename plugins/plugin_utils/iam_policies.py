"""Pure functions behind the IAM filters: least-privilege policy documents, as data.

Every document comes out in one canonical form, so that the same inputs (in any
order) give documents that compare equal, even as JSON text:

- ``Version`` first, then ``Statement``; statements in a fixed order;
- keys of a statement in the order Sid, Effect, Principal, Action, Resource, Condition;
- ``Action`` and ``Resource`` always lists, sorted, without repeats;
  ``Principal`` and condition values as single strings.

Importable without Ansible so that unit tests exercise it directly; the filter
plugin in ``plugins/filter/iam.py`` turns ``ValueError`` into ``AnsibleFilterError``.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.serverless.tasks_api.plugins.plugin_utils.function_manifest import (
    normalize_function,
    normalize_manifest,
)

POLICY_VERSION = "2012-10-17"
LAMBDA_SERVICE = "lambda.amazonaws.com"
SERVICE_PATTERN = re.compile(r"[a-z][a-z0-9-]*\.amazonaws\.com")

# Matched with fullmatch: a "$" anchor would also accept a trailing newline.
PARTITION = r"aws(?:-[a-z]+)*"
REGION = r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}"
ACCOUNT = r"\d{12}"
PARTITION_PATTERN = re.compile(PARTITION)
REGION_PATTERN = re.compile(REGION)
ACCOUNT_PATTERN = re.compile(ACCOUNT)
TABLE_ARN_PATTERN = re.compile(
    rf"arn:(?P<partition>{PARTITION}):dynamodb:(?P<region>{REGION}):(?P<account>{ACCOUNT}):table/[A-Za-z0-9_.-]{{3,255}}"
)
# DescribeLogGroups reports a group's "arn" with a trailing ":*"; both forms are accepted.
LOG_GROUP_ARN_PATTERN = re.compile(
    rf"(?P<arn>arn:(?P<partition>{PARTITION}):logs:(?P<region>{REGION}):(?P<account>{ACCOUNT}):"
    r"log-group:[A-Za-z0-9_./#-]{1,512})(?::\*)?"
)
ROLE_NAME_PATTERN = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
ROLE_PATH_PATTERN = re.compile(r"/(?:[A-Za-z0-9+=,.@_-]+/)*")
BOUNDARY_ARN_PATTERN = re.compile(rf"arn:{PARTITION}:iam::(?:{ACCOUNT}|aws):policy/[A-Za-z0-9+=,.@_/-]+")
EXECUTION_POLICY_NAME = "execution"
BUCKET_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
ENI_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def lambda_trust_policy(account_id: str) -> dict:
    """Return the trust policy that lets Lambda, acting for ``account_id`` only, assume a function's role."""
    return service_trust_policy(account_id, LAMBDA_SERVICE)


def service_trust_policy(account_id: str, service: str) -> dict:
    """Return the trust policy that lets an AWS service, acting for ``account_id`` only, assume a role."""
    _check_account_id("account_id", account_id)
    if not isinstance(service, str) or not SERVICE_PATTERN.fullmatch(service):
        raise ValueError(f"service: expected a service principal such as apigateway.amazonaws.com, got {service!r}")
    return _policy(
        _statement(
            f"{service.split('.')[0].capitalize()}AssumeRole",
            ["sts:AssumeRole"],
            principal={"Service": service},
            condition={"StringEquals": {"aws:SourceAccount": account_id}},
        )
    )


def lambda_execution_policy(function: dict, table_arn: str, log_group_arn: str, region: str) -> dict:
    """Return the permissions of one function's execution role, and nothing more.

    - ``TableAccess``: exactly the function's ``dynamodb_actions`` on the table and on
      the indexes it declares (no statement when it declares no actions);
    - ``OwnLogGroup``: write streams and events to its own log group (the group is
      created by the deployment, so no ``logs:CreateLogGroup``);
    - ``VpcNetworkInterfaces`` and ``XRayTraces``: the ENI and trace actions, whose
      resource AWS requires to be ``*``, held to ``region`` by ``aws:RequestedRegion``.
    """
    function = normalize_function(function, "function")
    _check_region("region", region)
    table = _match_arn("table_arn", table_arn, TABLE_ARN_PATTERN, "arn:aws:dynamodb:us-east-1:123456789012:table/tasks")
    log_group = _match_arn(
        "log_group_arn",
        log_group_arn,
        LOG_GROUP_ARN_PATTERN,
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/tasks-api-list",
    )
    if log_group["region"] != region:
        raise ValueError(
            f"log_group_arn: {log_group_arn!r} is in region {log_group['region']}, "
            f"but a function in {region} logs to a group in {region}"
        )
    if log_group["partition"] != table["partition"]:
        raise ValueError(
            f"log_group_arn: {log_group_arn!r} is in partition {log_group['partition']}, "
            f"but table_arn {table_arn!r} is in {table['partition']}; one role cannot span partitions"
        )
    in_region = {"StringEquals": {"aws:RequestedRegion": region}}
    statements = []
    if function["dynamodb_actions"]:
        index_arns = [f"{table_arn}/index/{index}" for index in function["dynamodb_indexes"]]
        statements.append(_statement("TableAccess", function["dynamodb_actions"], [table_arn, *index_arns]))
    statements += [
        _statement("OwnLogGroup", LOG_ACTIONS, [f"{log_group['arn']}:*"]),
        _statement("VpcNetworkInterfaces", ENI_ACTIONS, ["*"], condition=in_region),
        _statement("XRayTraces", XRAY_ACTIONS, ["*"], condition=in_region),
    ]
    return _policy(*statements)


def lambda_execution_roles(
    functions: list,
    name_prefix: str,
    table_arn: str,
    account_id: str,
    region: str,
    partition: str,
    path: str = "/",
    permissions_boundary: str = "",
    tags: dict | None = None,
) -> list[dict]:
    """Return the execution role of each function of the manifest, as the ``roles`` of the ``iam_roles`` module.

    Each role is named ``<name_prefix>-<function>``, trusts Lambda of ``account_id`` only
    (:func:`lambda_trust_policy`), has one inline policy ``execution`` (:func:`lambda_execution_policy`, logging to
    ``/aws/lambda/<role name>``), no managed policy, ``tags`` plus ``Function: <function>``, and
    ``permissions_boundary`` when it is not empty (an empty boundary leaves the role's boundary as it is).
    """
    functions = normalize_manifest(functions)
    if not (isinstance(name_prefix, str) and name_prefix):
        raise ValueError(f"name_prefix: expected a non-empty string, got {name_prefix!r}")
    _check_account_id("account_id", account_id)
    _check_region("region", region)
    if not (isinstance(partition, str) and PARTITION_PATTERN.fullmatch(partition)):
        raise ValueError(f"partition: expected an AWS partition like aws, aws-cn or aws-us-gov, got {partition!r}")
    if not (isinstance(path, str) and ROLE_PATH_PATTERN.fullmatch(path)):
        raise ValueError(f"path: expected an IAM path that starts and ends with '/', such as /service/, got {path!r}")
    if permissions_boundary and not (
        isinstance(permissions_boundary, str) and BOUNDARY_ARN_PATTERN.fullmatch(permissions_boundary)
    ):
        raise ValueError(f"permissions_boundary: expected a managed policy ARN, or empty, got {permissions_boundary!r}")
    if tags is None:
        tags = {}
    if not isinstance(tags, dict):
        raise ValueError(f"tags: expected a dict of tag names to values, got {type(tags).__name__} {tags!r}")
    roles = []
    for function in functions:
        name = f"{name_prefix}-{function['name']}"
        if not ROLE_NAME_PATTERN.fullmatch(name):
            raise ValueError(
                f"name_prefix: the role name {name!r} of function {function['name']} is not 1 to 64 letters,"
                " digits and +=,.@_-"
            )
        log_group_arn = f"arn:{partition}:logs:{region}:{account_id}:log-group:/aws/lambda/{name}"
        role = {
            "name": name,
            "path": path,
            "description": f"Execution role of {name} ({function['method']} {function['path']})",
            "assume_role_policy_document": lambda_trust_policy(account_id),
            "inline_policies": {
                EXECUTION_POLICY_NAME: lambda_execution_policy(function, table_arn, log_group_arn, region)
            },
            "managed_policy_arns": [],
            "tags": {**{str(key): str(value) for key, value in tags.items()}, "Function": function["name"]},
        }
        if permissions_boundary:
            role["permissions_boundary"] = permissions_boundary
        roles.append(role)
    return roles


def tls_only_bucket_policy(bucket_name: str, partition: str = "aws") -> dict:
    """Return a bucket policy that denies every request to ``bucket_name`` not made over TLS."""
    problems = bucket_name_problems(bucket_name)
    if problems:
        raise ValueError(f"bucket_name: {'; '.join(problems)}")
    if not (isinstance(partition, str) and PARTITION_PATTERN.fullmatch(partition)):
        raise ValueError(f"partition: expected an AWS partition like aws, aws-cn or aws-us-gov, got {partition!r}")
    bucket_arn = f"arn:{partition}:s3:::{bucket_name}"
    return _policy(
        _statement(
            "DenyInsecureTransport",
            ["s3:*"],
            [bucket_arn, f"{bucket_arn}/*"],
            effect="Deny",
            principal="*",
            condition={"Bool": {"aws:SecureTransport": "false"}},
        )
    )


def bucket_name_problems(bucket_name: object) -> list[str]:
    """Return what is wrong with ``bucket_name`` as a general purpose S3 bucket name (empty when nothing is)."""
    if not isinstance(bucket_name, str):
        return [f"expected a string, got {type(bucket_name).__name__} {bucket_name!r}"]
    if not BUCKET_NAME_PATTERN.fullmatch(bucket_name):
        return [
            f"{bucket_name!r} is not 3 to 63 lowercase letters, digits, hyphens and dots "
            "that start and end with a letter or digit"
        ]
    problems = []
    if ".." in bucket_name:
        problems.append(f"{bucket_name!r} has two dots in a row")
    if _is_ipv4_address(bucket_name):
        problems.append(f"{bucket_name!r} is formatted as an IP address")
    problems += [
        f"{bucket_name!r} starts with the reserved prefix {prefix!r}"
        for prefix in BUCKET_RESERVED_PREFIXES
        if bucket_name.startswith(prefix)
    ]
    problems += [
        f"{bucket_name!r} ends with the reserved suffix {suffix!r}"
        for suffix in BUCKET_RESERVED_SUFFIXES
        if bucket_name.endswith(suffix)
    ]
    return problems


def _policy(*statements: dict) -> dict:
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def _statement(sid, actions, resources=None, *, effect="Allow", principal=None, condition=None) -> dict:
    statement = {"Sid": sid, "Effect": effect}
    if principal is not None:
        statement["Principal"] = principal
    statement["Action"] = sorted(set(actions))
    if resources is not None:
        statement["Resource"] = sorted(set(resources))
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _check_account_id(argument: str, account_id: object) -> None:
    if not (isinstance(account_id, str) and ACCOUNT_PATTERN.fullmatch(account_id)):
        raise ValueError(f"{argument}: expected 12 digits (as a string), got {account_id!r}")


def _check_region(argument: str, region: object) -> None:
    if not (isinstance(region, str) and REGION_PATTERN.fullmatch(region)):
        raise ValueError(f"{argument}: expected an AWS region like us-east-1, got {region!r}")


def _match_arn(argument: str, arn: object, pattern: re.Pattern, example: str) -> re.Match:
    match = pattern.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise ValueError(f"{argument}: expected an ARN like {example}, got {arn!r}")
    return match


def _is_ipv4_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True
