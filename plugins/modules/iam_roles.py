#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: iam_roles
version_added: 1.0.0
short_description: Converge a list of IAM roles with their inline and managed policies in one invocation
description:
  - Creates or updates each IAM role of O(roles), found by its name, with its trust policy, description,
    permissions boundary, inline policies, attached managed policies and tags.
  - One invocation manages the whole list, so a playbook does not pay for one module run per role.
  - Reads per role - C(GetRole) (a role that does not exist is created), C(GetRolePolicy) for each inline policy
    of the role's O(roles[].inline_policies), C(ListAttachedRolePolicies) only when O(purge_managed_policies) is
    set or the role lists O(roles[].managed_policy_arns), C(ListRolePolicies) only when O(purge_inline_policies)
    is set. Policy documents are compared with amazon.aws's C(compare_policies), so the order of statements,
    actions and keys, and a single item given as a list or not, make no difference.
  - Writes only what differs - C(CreateRole) (with its path, description, boundary and tags),
    C(UpdateAssumeRolePolicy), C(UpdateRole) (description), C(PutRolePermissionsBoundary) or
    C(DeleteRolePermissionsBoundary), C(PutRolePolicy), C(DeleteRolePolicy), C(AttachRolePolicy),
    C(DetachRolePolicy), C(TagRole), C(UntagRole). A converged list makes no write call.
  - After C(CreateRole) the module waits for the role with the C(role_exists) waiter, as M(amazon.aws.iam_role)
    does (IAM is eventually consistent). On real AWS a service may still be unable to assume a new role for a
    few seconds; the caller retries on that error (the collection's M(serverless.tasks_api.lambda_functions)
    retries C(CreateFunction)).
  - Roles that are not in O(roles) are left alone; deleting a role is M(amazon.aws.iam_role)'s job.
  - The path of a role cannot be changed; an existing role with another path than O(roles[].path) fails the
    task, naming the role.
  - This module supports check mode and diff mode. In check mode a role that does not exist yet is reported
    with everything it would be created with, its policies included.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  roles:
    description:
      - The roles to create or update.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The name of the role, up to 64 letters, digits and C(+=,.@_-).
        type: str
        required: true
      path:
        description:
          - The path of the role; it starts and ends with C(/).
          - Set when the role is created; it cannot change afterwards.
        type: str
        default: /
      description:
        description:
          - The description of the role. Omitted, the current description is left as it is.
        type: str
      assume_role_policy_document:
        description:
          - The trust policy of the role, as data or as a JSON string.
        type: raw
        required: true
      permissions_boundary:
        description:
          - The ARN of the managed policy set as the permissions boundary of the role.
          - V("") removes the boundary; omitted, the current boundary is left as it is.
        type: str
      inline_policies:
        description:
          - The inline policies of the role, policy name to policy document (as data or as a JSON string).
          - An inline policy of the role that is not listed is deleted only with O(purge_inline_policies).
        type: dict
        default: {}
      managed_policy_arns:
        description:
          - The ARNs of the managed policies attached to the role.
          - A managed policy attached to the role but not listed is detached when O(purge_managed_policies) is set.
        type: list
        elements: str
        default: []
      tags:
        description:
          - The tags of the role. Omitted, the current tags are left as they are.
          - With O(purge_tags), tags of the role not listed here are removed (but those starting with C(aws:)).
        type: dict
  purge_tags:
    description:
      - Remove the tags of each role that its O(roles[].tags) does not list.
    type: bool
    default: true
  purge_managed_policies:
    description:
      - Detach the managed policies of each role that its O(roles[].managed_policy_arns) does not list.
    type: bool
    default: true
  purge_inline_policies:
    description:
      - Delete the inline policies of each role that its O(roles[].inline_policies) does not list.
      - Off by default, so that nothing that was not asked for is removed.
    type: bool
    default: false
notes:
  - The credentials need C(iam:GetRole) and C(iam:GetRolePolicy) even when nothing changes, and
    C(iam:ListAttachedRolePolicies) and C(iam:ListRolePolicies) for the purges.
  - Throttling is retried with backoff for about ten attempts.
  - Instance profiles and the maximum session duration are not managed.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create or update the execution role of each function, with its least-privilege inline policy
  serverless.tasks_api.iam_roles:
    roles: >-
      {{ stack.functions | serverless.tasks_api.lambda_execution_roles(
           stack.name_prefix, table_arn, stack.account_id, stack.region, stack.partition,
           iam_role_path, iam_permissions_boundary_arn, stack.tags) }}
  register: execution_roles

- name: One role, written out
  serverless.tasks_api.iam_roles:
    roles:
      - name: tasks-api-prod-list
        path: /tasks-api/
        description: Execution role of tasks-api-prod-list
        assume_role_policy_document:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal:
                Service: lambda.amazonaws.com
              Action: sts:AssumeRole
        permissions_boundary: arn:aws:iam::123456789012:policy/workload-boundary
        inline_policies:
          execution: "{{ lookup('ansible.builtin.file', 'list-policy.json') }}"
        managed_policy_arns:
          - arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess
        tags:
          Environment: prod
    purge_inline_policies: true
"""

RETURN = r"""
roles:
  description:
    - Each role of O(roles), by name.
  returned: always
  type: dict
  contains:
    arn:
      description: The ARN of the role.
      returned: when the role exists (not for a role that check mode would create)
      type: str
      sample: arn:aws:iam::123456789012:role/tasks-api-prod-list
    role_id:
      description: The unique id of the role.
      returned: when the role exists (not for a role that check mode would create)
      type: str
      sample: AROA1234567890EXAMPLE
    changed:
      description: Whether the role was (or in check mode would be) created or changed.
      returned: always
      type: bool
  sample:
    tasks-api-prod-list:
      arn: arn:aws:iam::123456789012:role/tasks-api-prod-list
      role_id: AROA1234567890EXAMPLE
      changed: false
diff:
  description:
    - One entry per role that changes, with the properties the module manages before and after; C(before) is
      empty for a role to create. A policy that is equal to the wanted one (as C(compare_policies) sees it)
      shows as the wanted document on both sides.
  returned: in diff mode
  type: list
  elements: dict
  sample:
    - before_header: tasks-api-prod-list
      after_header: tasks-api-prod-list
      before:
        path: /
        description: Execution role of tasks-api-prod-list
        assume_role_policy_document: {"Version": "2012-10-17", "Statement": []}
        inline_policies: {"execution": {"Version": "2012-10-17", "Statement": []}}
        managed_policy_arns: ["arn:aws:iam::aws:policy/AdministratorAccess"]
        tags: {"Environment": "prod"}
      after:
        path: /
        description: Execution role of tasks-api-prod-list
        assume_role_policy_document: {"Version": "2012-10-17", "Statement": []}
        inline_policies: {"execution": {"Version": "2012-10-17", "Statement": []}}
        managed_policy_arns: []
        tags: {"Environment": "prod"}
"""

import json

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff
from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import merged_tags

WAIT_DELAY = 1
WAIT_ATTEMPTS = 40


class RoleError(Exception):
    """A wanted role that cannot be converged as given (its message names the role)."""


# Reads and writes: thin wrappers of the IAM client, retried by its decorator.


def get_role(client, name):
    try:
        return client.get_role(aws_retry=True, RoleName=name)["Role"]
    except is_boto3_error_code("NoSuchEntity"):
        return None


def get_role_policy(client, role_name, policy_name):
    try:
        response = client.get_role_policy(aws_retry=True, RoleName=role_name, PolicyName=policy_name)
    except is_boto3_error_code("NoSuchEntity"):
        return None
    return response["PolicyDocument"]


def list_attached_policy_arns(client, role_name):
    paginator = client.get_paginator("list_attached_role_policies")
    pages = paginator.paginate(RoleName=role_name).build_full_result()
    return sorted(policy["PolicyArn"] for policy in pages.get("AttachedPolicies", []))


def list_inline_policy_names(client, role_name):
    paginator = client.get_paginator("list_role_policies")
    return sorted(paginator.paginate(RoleName=role_name).build_full_result().get("PolicyNames", []))


def wait_role_exists(client, name):
    client.get_waiter("role_exists").wait(
        RoleName=name, WaiterConfig={"Delay": WAIT_DELAY, "MaxAttempts": WAIT_ATTEMPTS}
    )


# Pure helpers: what is wanted, what is there, what differs.


def policy_data(document, what):
    """A policy document as data: a dict as is, a JSON string parsed."""
    if isinstance(document, dict):
        return document
    if isinstance(document, str):
        try:
            data = json.loads(document)
        except ValueError as e:
            raise RoleError(f"{what} is not valid JSON: {e}") from e
        if isinstance(data, dict):
            return data
    raise RoleError(f"{what} is not a policy document (a dict or a JSON object), got {document!r}")


def as_json_data(document):
    """The document as it reads back from JSON (tuples become lists, keys strings), for the diff."""
    return json.loads(json.dumps(document))


def policies_differ(current, wanted):
    return current is None or compare_policies(current, wanted)


def wanted_role(spec):
    """The role of one O(roles) entry in the form compared and shown in the diff; RoleError if it is malformed."""
    name = spec["name"]
    path = spec["path"] or "/"
    if not (path.startswith("/") and path.endswith("/")):
        raise RoleError(f"Role {name}: path {path!r} does not start and end with '/'")
    role = {
        "path": path,
        "assume_role_policy_document": as_json_data(
            policy_data(spec["assume_role_policy_document"], f"Role {name}: assume_role_policy_document")
        ),
        "inline_policies": {
            policy_name: as_json_data(policy_data(document, f"Role {name}: inline policy {policy_name}"))
            for policy_name, document in (spec["inline_policies"] or {}).items()
        },
        "managed_policy_arns": sorted(set(spec["managed_policy_arns"] or [])),
    }
    if spec["description"] is not None:
        role["description"] = spec["description"]
    if spec["permissions_boundary"] is not None:
        role["permissions_boundary"] = spec["permissions_boundary"]
    if spec["tags"] is not None:
        role["tags"] = {key: str(value) for key, value in spec["tags"].items()}
    return role


def current_state(client, name, wanted, params):
    """The role's managed properties now ({} when it does not exist), and the role itself (None then)."""
    role = get_role(client, name)
    if role is None:
        return {}, None
    state = {
        "path": role["Path"],
        "assume_role_policy_document": role["AssumeRolePolicyDocument"],
        "inline_policies": {},
    }
    if "description" in wanted:
        state["description"] = role.get("Description", "")
    if "permissions_boundary" in wanted:
        state["permissions_boundary"] = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn", "")
    if "tags" in wanted:
        state["tags"] = boto3_tag_list_to_ansible_dict(role.get("Tags") or [])
    if params["purge_managed_policies"] or wanted["managed_policy_arns"]:
        state["managed_policy_arns"] = list_attached_policy_arns(client, name)
    names = set(wanted["inline_policies"])
    if params["purge_inline_policies"]:
        names |= set(list_inline_policy_names(client, name))
    for policy_name in sorted(names):
        document = get_role_policy(client, name, policy_name)
        if document is not None:
            state["inline_policies"][policy_name] = document
    return state, role


def target_state(before, wanted, params):
    """The role's managed properties after the run, in the form of ``before``.

    A policy equal to the wanted one (compare_policies) takes the wanted form on both sides, so that the diff of an
    unchanged policy compares equal.
    """
    after = {key: value for key, value in wanted.items() if key not in ("tags", "managed_policy_arns")}
    if "tags" in wanted:
        after["tags"] = merged_tags(wanted["tags"], before.get("tags", {}), params["purge_tags"])
    if "managed_policy_arns" in before:
        kept = [] if params["purge_managed_policies"] else before["managed_policy_arns"]
        after["managed_policy_arns"] = sorted(set(kept) | set(wanted["managed_policy_arns"]))
    elif not before:
        after["managed_policy_arns"] = wanted["managed_policy_arns"]
    if not before:
        return before, after
    before = dict(before, inline_policies=dict(before["inline_policies"]))
    if not policies_differ(before["assume_role_policy_document"], after["assume_role_policy_document"]):
        before["assume_role_policy_document"] = after["assume_role_policy_document"]
    for policy_name, document in after["inline_policies"].items():
        if not policies_differ(before["inline_policies"].get(policy_name), document):
            before["inline_policies"][policy_name] = document
    return before, after


# Writes.


def create_role(client, name, after):
    params = {
        "RoleName": name,
        "Path": after["path"],
        "AssumeRolePolicyDocument": json.dumps(after["assume_role_policy_document"]),
    }
    if after.get("description"):
        params["Description"] = after["description"]
    if after.get("permissions_boundary"):
        params["PermissionsBoundary"] = after["permissions_boundary"]
    if after.get("tags"):
        params["Tags"] = ansible_dict_to_boto3_tag_list(after["tags"])
    role = client.create_role(aws_retry=True, **params)["Role"]
    wait_role_exists(client, name)
    return role


def update_role(client, name, before, after):
    """Write what differs between ``before`` (the role exists) and ``after``."""
    if before["assume_role_policy_document"] != after["assume_role_policy_document"]:
        client.update_assume_role_policy(
            aws_retry=True, RoleName=name, PolicyDocument=json.dumps(after["assume_role_policy_document"])
        )
    if "description" in after and before["description"] != after["description"]:
        client.update_role(aws_retry=True, RoleName=name, Description=after["description"])
    boundary = after.get("permissions_boundary")
    if boundary is not None and before["permissions_boundary"] != boundary:
        if boundary:
            client.put_role_permissions_boundary(aws_retry=True, RoleName=name, PermissionsBoundary=boundary)
        else:
            client.delete_role_permissions_boundary(aws_retry=True, RoleName=name)
    if "tags" in after:
        current, wanted = before["tags"], after["tags"]
        removed = sorted(key for key in current if key not in wanted)
        if removed:
            client.untag_role(aws_retry=True, RoleName=name, TagKeys=removed)
        changed = {key: value for key, value in wanted.items() if current.get(key) != value}
        if changed:
            client.tag_role(aws_retry=True, RoleName=name, Tags=ansible_dict_to_boto3_tag_list(changed))


def write_policies(client, name, before, after):
    """Put the inline policies and attach the managed policies that differ; delete and detach the purged ones."""
    current_inline = before.get("inline_policies", {})
    for policy_name, document in after["inline_policies"].items():
        if current_inline.get(policy_name) != document:
            client.put_role_policy(
                aws_retry=True, RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )
    for policy_name in current_inline:
        if policy_name not in after["inline_policies"]:
            client.delete_role_policy(aws_retry=True, RoleName=name, PolicyName=policy_name)
    current_managed = before.get("managed_policy_arns", [])
    wanted_managed = after.get("managed_policy_arns", [])
    for arn in current_managed:
        if arn not in wanted_managed:
            client.detach_role_policy(aws_retry=True, RoleName=name, PolicyArn=arn)
    for arn in wanted_managed:
        if arn not in current_managed:
            client.attach_role_policy(aws_retry=True, RoleName=name, PolicyArn=arn)


def role_result(role, changed):
    return {"arn": role["Arn"], "role_id": role["RoleId"], "changed": changed}


def converge_role(client, module, spec):
    """Converge one role; return (its result, its diff entry or None)."""
    name = spec["name"]
    try:
        wanted = wanted_role(spec)
    except RoleError as e:
        module.fail_json(msg=str(e))
    try:
        before, role = current_state(client, name, wanted, module.params)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to read role {name}")
    if role is not None and role["Path"] != wanted["path"]:
        module.fail_json(
            msg=(
                f"Role {name} exists with path {role['Path']}, not {wanted['path']}: IAM cannot change the path of a"
                " role; delete the role or set its path back"
            )
        )
    before, after = target_state(before, wanted, module.params)
    changed = before != after
    if changed and not module.check_mode:
        step = "create" if role is None else "update"
        try:
            if role is None:
                role = create_role(client, name, after)
            else:
                update_role(client, name, before, after)
            step = "set the policies of"
            write_policies(client, name, before, after)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Failed to {step} role {name}")
    result = role_result(role, changed) if role is not None else {"changed": changed}
    diff = {"before_header": name, "after_header": name, "before": before, "after": after} if changed else None
    return result, diff


def main():
    role_options = dict(
        name=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        description=dict(type="str"),
        assume_role_policy_document=dict(type="raw", required=True),
        permissions_boundary=dict(type="str"),
        inline_policies=dict(type="dict", default={}),
        managed_policy_arns=dict(type="list", elements="str", default=[]),
        tags=dict(type="dict"),
    )
    argument_spec = dict(
        roles=dict(type="list", elements="dict", required=True, options=role_options),
        purge_tags=dict(type="bool", default=True),
        purge_managed_policies=dict(type="bool", default=True),
        purge_inline_policies=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    names = [spec["name"] for spec in module.params["roles"]]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        module.fail_json(msg=f"roles lists {', '.join(repeated)} more than once")

    client = module.client("iam", retry_decorator=jittered_backoff())

    results, diffs = {}, []
    for spec in module.params["roles"]:
        results[spec["name"]], diff = converge_role(client, module, spec)
        if diff is not None:
            diffs.append(diff)

    result = {"changed": any(role["changed"] for role in results.values()), "roles": results}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
