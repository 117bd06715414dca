#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: lambda_permissions
version_added: 1.0.0
short_description: Converge a list of statements of Lambda resource policies in one invocation
description:
  - Makes sure each statement of O(permissions) is in the resource policy of its function (or of the function's
    alias or version), as M(amazon.aws.lambda_policy) does for one statement, but for the whole list in one run.
  - The policy of each distinct function and qualifier is read once with C(GetPolicy); a function without a policy
    yet (C(ResourceNotFoundException)) has no statement. Each statement is found by its C(Sid) and compared on what
    the module manages - the action, the principal, the source ARN (the C(AWS:SourceArn) condition under C(ArnLike))
    and the source account (the C(AWS:SourceAccount) condition under C(StringEquals)).
  - A missing statement is added with C(AddPermission). A statement that differs is removed with C(RemovePermission)
    and added again, since Lambda cannot update a statement in place. A statement that matches makes no call, so a
    run with the same list makes one read per function and qualifier and no write.
  - Statements of the policies that are not in the list are left alone; remove a statement with
    M(amazon.aws.lambda_policy) and O(amazon.aws.lambda_policy#module:state=absent).
  - C(ResourceConflictException) (another update of the function's policy in progress) is retried with backoff.
  - This module supports check mode and diff mode; the diff holds one entry per statement that changes.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  permissions:
    description:
      - The statements to converge, in the order they are written.
      - A statement (function, qualifier and statement id) may appear only once.
    type: list
    elements: dict
    required: true
    suboptions:
      function_name:
        description:
          - The name of the function, or its ARN or partial ARN without a qualifier.
        type: str
        required: true
      qualifier:
        description:
          - The alias or the version whose policy holds the statement.
          - When omitted, the statement belongs to the policy of the unqualified function.
        type: str
      statement_id:
        description:
          - The identifier of the statement (its C(Sid)), unique in the policy.
        type: str
        required: true
        aliases: ["sid"]
      action:
        description:
          - The action the principal may perform, for example V(lambda:InvokeFunction).
        type: str
        required: true
      principal:
        description:
          - Who may perform the action - a service (V(apigateway.amazonaws.com)), an account id, or an ARN.
          - An account id matches the C(arn:PARTITION:iam::ACCOUNT:root) form in which Lambda stores it.
        type: str
        required: true
      source_arn:
        description:
          - The ARN the request must come from, for example an API Gateway C(execute-api) ARN with wildcards.
          - When omitted, the statement has no C(AWS:SourceArn) condition.
        type: str
      source_account:
        description:
          - The account the request must come from (the C(AWS:SourceAccount) condition).
        type: str
notes:
  - The credentials need C(lambda:GetPolicy) even when nothing changes, and C(lambda:AddPermission) and
    C(lambda:RemovePermission) to make changes.
  - Other conditions of a statement (C(lambda:EventSourceToken), C(aws:PrincipalOrgID), C(lambda:FunctionUrlAuthType))
    are not compared.
  - Throttling and C(ResourceConflictException) are retried with backoff for about ten attempts.
  - The module does not read the policy back after it wrote it; the result says what changed.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Let the API invoke the live alias of each route's function
  serverless.tasks_api.lambda_permissions:
    permissions:
      - function_name: tasks-api-prod-list
        qualifier: live
        statement_id: apigateway-get-list
        action: lambda:InvokeFunction
        principal: apigateway.amazonaws.com
        source_arn: arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/GET/tasks
      - function_name: tasks-api-prod-get
        qualifier: live
        statement_id: apigateway-get-get
        action: lambda:InvokeFunction
        principal: apigateway.amazonaws.com
        source_arn: arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/GET/tasks/*
  register: api_permissions

- name: Build the list from the manifest with the collection's filter
  serverless.tasks_api.lambda_permissions:
    permissions: >-
      {{ stack.functions | serverless.tasks_api.api_invoke_permissions(functions.names, functions.alias_name,
         api_id, stack.region, stack.account_id, stack.partition) }}

- name: Let another account's role invoke a function, from this account only
  serverless.tasks_api.lambda_permissions:
    permissions:
      - function_name: tasks-api-prod-report
        statement_id: reporting-account
        action: lambda:InvokeFunction
        principal: arn:aws:iam::210987654321:role/reporting
        source_account: "123456789012"
"""

RETURN = r"""
permissions:
  description:
    - One entry per statement of O(permissions), keyed by C(FUNCTION:QUALIFIER/STATEMENT_ID)
      (C(FUNCTION/STATEMENT_ID) without a qualifier).
  returned: always
  type: dict
  contains:
    changed:
      description: Whether the statement was (in check mode, would be) added or replaced.
      returned: always
      type: bool
      sample: false
  sample:
    tasks-api-prod-list:live/apigateway-get-list: {"changed": true}
    tasks-api-prod-get:live/apigateway-get-get: {"changed": false}
diff:
  description:
    - One entry per statement that changes, with what the module manages of it before and after; C(before) is
      empty for a statement that is added.
  returned: in diff mode
  type: list
  elements: dict
  sample:
    - before_header: tasks-api-prod-list:live/apigateway-get-list
      after_header: tasks-api-prod-list:live/apigateway-get-list
      before: {}
      after:
        action: lambda:InvokeFunction
        principal: apigateway.amazonaws.com
        source_arn: arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/GET/tasks
        source_account: null
"""

import json
import re

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff

MANAGED_FIELDS = ("action", "principal", "source_arn", "source_account")
ACCOUNT_ROOT = re.compile(r"^arn:[^:]+:iam::(\d{12}):root$")
CONFLICT_HINT = (
    "another update of the function's policy was still in progress after repeated retries, or the statement id"
    " was added meanwhile; run again"
)


def get_policy(client, function_name, qualifier):
    """The function's resource policy as data, or None when it has none."""
    params = {"FunctionName": function_name, **({"Qualifier": qualifier} if qualifier else {})}
    try:
        response = client.get_policy(aws_retry=True, **params)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    return json.loads(response.get("Policy") or "{}")


def add_permission(client, permission):
    params = {
        "FunctionName": permission["function_name"],
        "StatementId": permission["statement_id"],
        "Action": permission["action"],
        "Principal": permission["principal"],
    }
    optional = {"Qualifier": "qualifier", "SourceArn": "source_arn", "SourceAccount": "source_account"}
    params.update({key: permission[option] for key, option in optional.items() if permission.get(option)})
    client.add_permission(aws_retry=True, **params)


def remove_permission(client, permission):
    """RemovePermission; return False when the statement was already gone."""
    params = {"FunctionName": permission["function_name"], "StatementId": permission["statement_id"]}
    if permission.get("qualifier"):
        params["Qualifier"] = permission["qualifier"]
    try:
        client.remove_permission(aws_retry=True, **params)
    except is_boto3_error_code("ResourceNotFoundException"):
        return False
    return True


def target(permission):
    """The function and qualifier whose policy holds the statement: FUNCTION:QUALIFIER, or FUNCTION."""
    qualifier = permission.get("qualifier")
    return f"{permission['function_name']}:{qualifier}" if qualifier else permission["function_name"]


def statement_key(permission):
    return f"{target(permission)}/{permission['statement_id']}"


def principal_of(statement):
    """The principal of a statement as one value: a service, an AWS principal, or the text as stored."""
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        for kind in ("Service", "AWS"):
            if kind in principal:
                return principal[kind]
    return principal


def condition_value(statement, operator, key):
    conditions = (statement.get("Condition") or {}).get(operator) or {}
    return conditions.get(key)


def statements_by_sid(policy):
    """The statements of a policy by Sid (the first of a repeated Sid), flattened to the managed fields."""
    statements = (policy or {}).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    found = {}
    for statement in statements:
        sid = statement.get("Sid")
        if sid is None or sid in found:
            continue
        found[sid] = {
            "action": statement.get("Action"),
            "principal": principal_of(statement),
            "source_arn": condition_value(statement, "ArnLike", "AWS:SourceArn"),
            "source_account": condition_value(statement, "StringEquals", "AWS:SourceAccount"),
        }
    return found


def wanted_state(permission):
    return {field: permission.get(field) or None for field in MANAGED_FIELDS}


def same_principal(current, wanted):
    """Equal, or an account id given as the arn:PARTITION:iam::ACCOUNT:root that Lambda stores it as."""
    if current == wanted:
        return True
    match = ACCOUNT_ROOT.match(current) if isinstance(current, str) else None
    return bool(match) and match.group(1) == wanted


def comparable_state(current, wanted):
    """The current statement, with the principal in the wanted form when both name the same account."""
    if current is None:
        return {}
    if same_principal(current["principal"], wanted["principal"]):
        return {**current, "principal": wanted["principal"]}
    return dict(current)


def repeated_statements(permissions):
    keys = [statement_key(permission) for permission in permissions]
    return sorted({key for key in keys if keys.count(key) > 1})


def read_policies(client, module, permissions):
    """The statements of each distinct function and qualifier's policy, read once each, by target."""
    policies = {}
    for permission in permissions:
        name = target(permission)
        if name in policies:
            continue
        try:
            policy = get_policy(client, permission["function_name"], permission.get("qualifier"))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Failed to get the resource policy of function {name}")
        policies[name] = statements_by_sid(policy)
    return policies


def write_statement(client, module, permission, replace):
    """Remove the statement first when it is replaced, then add it."""
    key = statement_key(permission)
    try:
        if replace:
            remove_permission(client, permission)
    except is_boto3_error_code("ResourceConflictException") as e:
        module.fail_json_aws(e, msg=f"Failed to remove statement {key} to replace it: {CONFLICT_HINT}")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to remove statement {key} to replace it")
    try:
        add_permission(client, permission)
    except is_boto3_error_code("ResourceConflictException") as e:
        module.fail_json_aws(e, msg=f"Failed to add statement {key}: {CONFLICT_HINT}")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to add statement {key}")


def ensure_statement(client, module, permission, current):
    """Return (changed, before, after) of one statement; write it unless in check mode."""
    after = wanted_state(permission)
    before = comparable_state(current, after)
    if before == after:
        return False, before, after
    if not module.check_mode:
        write_statement(client, module, permission, replace=current is not None)
    return True, before, after


def main():
    permission_spec = dict(
        function_name=dict(type="str", required=True),
        qualifier=dict(type="str"),
        statement_id=dict(type="str", required=True, aliases=["sid"]),
        action=dict(type="str", required=True),
        principal=dict(type="str", required=True),
        source_arn=dict(type="str"),
        source_account=dict(type="str"),
    )
    argument_spec = dict(
        permissions=dict(type="list", elements="dict", required=True, options=permission_spec),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    permissions = module.params["permissions"]
    repeated = repeated_statements(permissions)
    if repeated:
        module.fail_json(msg=f"permissions: each statement may be listed once; repeated: {', '.join(repeated)}")

    client = module.client("lambda", retry_decorator=jittered_backoff("ResourceConflictException"))

    policies = read_policies(client, module, permissions)
    changed = False
    results = {}
    diffs = []
    for permission in permissions:
        key = statement_key(permission)
        current = policies[target(permission)].get(permission["statement_id"])
        statement_changed, before, after = ensure_statement(client, module, permission, current)
        changed |= statement_changed
        results[key] = {"changed": statement_changed}
        if statement_changed:
            diffs.append({"before_header": key, "after_header": key, "before": before, "after": after})

    result = {"changed": changed, "permissions": results}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
