#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: cloudwatchlogs_log_groups
version_added: 1.0.0
short_description: Create or update a list of CloudWatch Logs log groups in one call
description:
  - Creates the log groups of O(log_groups) that do not exist and updates the retention, the KMS key and the tags
    of those that do, in one invocation for the whole list.
  - The log groups are read with one C(DescribeLogGroups) by the longest common prefix of their names (paginated),
    and the tags of each existing group whose O(log_groups[].tags) are given with C(ListTagsForResource). Only what
    differs is written, with C(CreateLogGroup), C(PutRetentionPolicy), C(AssociateKmsKey), C(TagResource) and
    C(UntagResource); a run on groups that already match makes no write call.
  - Never deletes a log group, a retention or a KMS key association, and leaves alone the log groups that are not
    in the list.
  - Unlike M(amazon.aws.cloudwatchlogs_log_group), check mode makes no write call at all (the retention included)
    and reports what a real run would change.
  - This module supports check mode and diff mode; the diff has one entry per log group that changes.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  log_groups:
    description:
      - The log groups, each with its own settings. The names must be distinct.
      - An empty list makes no call.
    required: true
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The name of the log group, for example V(/aws/lambda/tasks-api-prod-list).
        required: true
        type: str
      retention:
        description:
          - How many days the log group keeps its events, one of the values CloudWatch Logs accepts
            (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
            3653).
          - When omitted, the retention of an existing group is left as it is, and a new group keeps its events
            forever.
        type: int
      kms_key_id:
        description:
          - The ARN of the KMS key that encrypts the log group's data, as C(DescribeLogGroups) shows it
            (V(arn:aws:kms:REGION:ACCOUNT:key/ID)); the module compares it as text.
          - Given to C(CreateLogGroup) for a new group, and associated with C(AssociateKmsKey) to an existing group
            whose key differs. The key's policy must allow CloudWatch Logs to use it.
          - When omitted or empty, the key of an existing group, or its lack of one, is left as it is (the module
            never disassociates a key).
        type: str
      tags:
        description:
          - A dictionary of tags to set on the log group. Values are sent as strings.
          - When omitted, the tags of an existing group are left alone.
        type: dict
  purge_tags:
    description:
      - Whether tags of an existing log group that are not in its O(log_groups[].tags) are removed. Tags starting
        with C(aws:) are kept.
      - Has no effect on a log group whose O(log_groups[].tags) are omitted.
    type: bool
    default: true
notes:
  - The credentials need C(logs:DescribeLogGroups) and C(logs:ListTagsForResource) even when nothing changes, and
    C(logs:CreateLogGroup), C(logs:PutRetentionPolicy), C(logs:AssociateKmsKey), C(logs:TagResource) and
    C(logs:UntagResource) for the changes.
  - Without a common prefix of the names, C(DescribeLogGroups) lists every log group of the region.
  - Throttling is retried with backoff for about ten attempts.
  - Deleting log groups is left to M(amazon.aws.cloudwatchlogs_log_group) with
    O(amazon.aws.cloudwatchlogs_log_group#module:state=absent).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the log groups of the functions before Lambda does, keeping 30 days
  serverless.tasks_api.cloudwatchlogs_log_groups:
    log_groups:
      - name: /aws/lambda/tasks-api-prod-list
        retention: 30
        tags: {"Environment": "prod", "Function": "list"}
      - name: /aws/lambda/tasks-api-prod-create
        retention: 30
        tags: {"Environment": "prod", "Function": "create"}
  register: function_log_groups

- name: Encrypt a log group with a customer managed key, leaving its retention and tags as they are
  serverless.tasks_api.cloudwatchlogs_log_groups:
    log_groups:
      - name: /aws/lambda/tasks-api-prod-get
        kms_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab

- name: Add a tag, keeping the tags set elsewhere
  serverless.tasks_api.cloudwatchlogs_log_groups:
    log_groups:
      - name: /aws/lambda/tasks-api-prod-list
        tags: {"CostCenter": "1234"}
    purge_tags: false
"""

RETURN = r"""
log_groups:
  description:
    - Each log group of O(log_groups), by name, after the module ran (in check mode, as a real run would leave it).
  returned: always
  type: dict
  contains:
    arn:
      description:
        - The ARN of the log group, without the C(:*) suffix of C(DescribeLogGroups)' C(arn).
        - Empty when the group would be created in check mode.
      returned: always
      type: str
      sample: arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/tasks-api-prod-list
    retention_in_days:
      description: How many days the group keeps its events; null when it keeps them forever.
      returned: always
      type: int
      sample: 30
    changed:
      description: Whether this log group was (in check mode, would be) created or changed.
      returned: always
      type: bool
      sample: false
  sample:
    /aws/lambda/tasks-api-prod-list:
      arn: arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/tasks-api-prod-list
      retention_in_days: 30
      changed: true
diff:
  description:
    - One entry per log group that changes, with the properties the module manages for it (C(retention),
      C(kms_key_id), C(tags), those given); C(before) is empty for a group to create, and a missing retention or
      key is null.
  returned: in diff mode
  type: list
  elements: dict
  sample:
    - before_header: /aws/lambda/tasks-api-prod-list
      after_header: /aws/lambda/tasks-api-prod-list
      before: {"retention": 7, "tags": {"Environment": "prod", "Function": "list"}}
      after: {"retention": 30, "tags": {"Environment": "prod", "Function": "list"}}
"""

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff
from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import merged_tags

# The values PutRetentionPolicy accepts for retentionInDays.
# fmt: off
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)
# fmt: on


@jittered_backoff()
def describe_log_groups(client, prefix):
    """Every log group whose name starts with ``prefix`` (every log group of the region when it is empty)."""
    paginator = client.get_paginator("describe_log_groups")
    arguments = {"logGroupNamePrefix": prefix} if prefix else {}
    return paginator.paginate(**arguments).build_full_result().get("logGroups", [])


def list_tags(client, arn):
    return client.list_tags_for_resource(aws_retry=True, resourceArn=arn).get("tags", {})


def group_arn(group):
    """The ARN of a described log group, without the ``:*`` that ``arn`` ends with."""
    arn = group.get("logGroupArn") or group["arn"]
    return arn[: -len(":*")] if arn.endswith(":*") else arn


def common_prefix(names):
    """The longest prefix, character by character, that all ``names`` share."""
    first, last = min(names), max(names)
    for index, character in enumerate(first):
        if character != last[index]:
            return first[:index]
    return first


def invalid_entries(log_groups):
    """A message for each entry the API would refuse, naming its log group."""
    problems = []
    seen = set()
    for entry in log_groups:
        name = entry["name"]
        if not name:
            problems.append("a log group has an empty name")
        elif name in seen:
            problems.append(f"log group {name} is listed more than once")
        seen.add(name)
        retention = entry["retention"]
        if retention is not None and retention not in RETENTION_DAYS:
            problems.append(
                f"log group {name}: retention {retention} is not one CloudWatch Logs accepts"
                f" ({', '.join(str(days) for days in RETENTION_DAYS)})"
            )
    return problems


def read_log_groups(client, module, names):
    """The existing log groups among ``names``, by name, from one DescribeLogGroups by their common prefix."""
    prefix = common_prefix(names)
    try:
        groups = describe_log_groups(client, prefix)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe the log groups starting with {prefix!r}")
    wanted = set(names)
    return {group["logGroupName"]: group for group in groups if group["logGroupName"] in wanted}


def current_properties(client, module, entry, group):
    """The properties ``entry`` manages, as the group has them now; {} when it does not exist."""
    if group is None:
        return {}
    properties = {}
    if entry["retention"] is not None:
        properties["retention"] = group.get("retentionInDays")
    if entry["kms_key_id"]:
        properties["kms_key_id"] = group.get("kmsKeyId")
    if entry["tags"] is not None:
        try:
            properties["tags"] = list_tags(client, group_arn(group))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Failed to list the tags of log group {entry['name']}")
    return properties


def wanted_properties(entry, before, purge):
    properties = {}
    if entry["retention"] is not None:
        properties["retention"] = entry["retention"]
    if entry["kms_key_id"]:
        properties["kms_key_id"] = entry["kms_key_id"]
    if entry["tags"] is not None:
        properties["tags"] = merged_tags(entry["tags"], before.get("tags", {}), purge)
    return properties


def creation(name, after):
    """The writes that create the group with the properties of ``after``, as (what, operation, parameters)."""
    parameters = {"logGroupName": name}
    if after.get("kms_key_id"):
        parameters["kmsKeyId"] = after["kms_key_id"]
    if after.get("tags"):
        parameters["tags"] = after["tags"]
    writes = [("create", "create_log_group", parameters)]
    if after.get("retention") is not None:
        writes.append(("set the retention of", "put_retention_policy", retention_parameters(name, after)))
    return writes


def update(name, arn, before, after):
    """The writes that change each property of ``after`` that differs from ``before``."""
    writes = []
    if "retention" in after and after["retention"] != before["retention"]:
        writes.append(("set the retention of", "put_retention_policy", retention_parameters(name, after)))
    if "kms_key_id" in after and after["kms_key_id"] != before["kms_key_id"]:
        parameters = {"logGroupName": name, "kmsKeyId": after["kms_key_id"]}
        writes.append(("associate the KMS key with", "associate_kms_key", parameters))
    if "tags" in after:
        added = {key: value for key, value in after["tags"].items() if before["tags"].get(key) != value}
        removed = [key for key in before["tags"] if key not in after["tags"]]
        if added:
            writes.append(("tag", "tag_resource", {"resourceArn": arn, "tags": added}))
        if removed:
            writes.append(("untag", "untag_resource", {"resourceArn": arn, "tagKeys": removed}))
    return writes


def retention_parameters(name, after):
    return {"logGroupName": name, "retentionInDays": after["retention"]}


def converge(client, module, name, group, before, after):
    writes = creation(name, after) if group is None else update(name, group_arn(group), before, after)
    for what, operation, parameters in writes:
        try:
            getattr(client, operation)(aws_retry=True, **parameters)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Failed to {what} log group {name}")


def main():
    argument_spec = dict(
        log_groups=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                retention=dict(type="int"),
                kms_key_id=dict(type="str"),
                tags=dict(type="dict"),
            ),
        ),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    entries = module.params["log_groups"]
    problems = invalid_entries(entries)
    if problems:
        module.fail_json(msg="; ".join(problems))
    if not entries:
        module.exit_json(changed=False, log_groups={}, **({"diff": []} if module._diff else {}))

    client = module.client("logs", retry_decorator=jittered_backoff())
    names = [entry["name"] for entry in entries]
    existing = read_log_groups(client, module, names)

    results, diffs, created = {}, [], False
    for entry in entries:
        name = entry["name"]
        group = existing.get(name)
        before = current_properties(client, module, entry, group)
        after = wanted_properties(entry, before, module.params["purge_tags"])
        changed = group is None or before != after
        if changed and not module.check_mode:
            converge(client, module, name, group, before, after)
            created |= group is None
        retention = after["retention"] if "retention" in after else (group or {}).get("retentionInDays")
        results[name] = {"arn": group_arn(group) if group else "", "retention_in_days": retention, "changed": changed}
        if changed:
            diffs.append({"before_header": name, "after_header": name, "before": before, "after": after})

    if created:
        for name, group in read_log_groups(client, module, names).items():
            results[name]["arn"] = group_arn(group)

    result = {"changed": any(item["changed"] for item in results.values()), "log_groups": results}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
