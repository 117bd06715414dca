#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: dynamodb_table
version_added: 1.0.0
short_description: Converge a DynamoDB table with encryption, point-in-time recovery, TTL and tags
description:
  - Creates, updates or deletes one DynamoDB table, found by its name.
  - Unlike M(community.aws.dynamodb_table), the module sets server-side encryption with KMS,
    point-in-time recovery, deletion protection and time to live, and it brings an existing table to the
    requested billing mode, throughput, encryption, recovery, protection, TTL and tags in place.
  - The key schema of a table cannot change in place. When the requested keys differ from those of the
    existing table the module fails and changes nothing, rather than replace the table and lose its items.
  - A table with deletion protection enabled is never deleted; the module fails instead.
  - The module does not manage secondary indexes, streams or the table class, and leaves them alone.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  name:
    description:
      - The name of the table.
    required: true
    type: str
  hash_key_name:
    description:
      - The name of the partition (hash) key attribute.
    type: str
    default: id
  hash_key_type:
    description:
      - The type of the partition key attribute, V(S) (string), V(N) (number) or V(B) (binary).
    type: str
    choices: ["S", "N", "B"]
    default: S
  range_key_name:
    description:
      - The name of the sort (range) key attribute. When omitted the table has no sort key.
    type: str
  range_key_type:
    description:
      - The type of the sort key attribute, V(S), V(N) or V(B).
      - Defaults to V(S) when O(range_key_name) is set. Requires O(range_key_name).
    type: str
    choices: ["S", "N", "B"]
  billing_mode:
    description:
      - V(PAY_PER_REQUEST) bills per request (on demand); V(PROVISIONED) bills the capacities set by
        O(read_capacity) and O(write_capacity).
      - AWS limits how often a table may switch between the two modes.
    type: str
    choices: ["PAY_PER_REQUEST", "PROVISIONED"]
    default: PAY_PER_REQUEST
  read_capacity:
    description:
      - The provisioned read capacity units. Required when O(billing_mode=PROVISIONED), ignored otherwise.
    type: int
  write_capacity:
    description:
      - The provisioned write capacity units. Required when O(billing_mode=PROVISIONED), ignored otherwise.
    type: int
  sse_kms_key_id:
    description:
      - The ID or ARN of a customer managed KMS key that encrypts the table.
      - When omitted, a new table is encrypted with the AWS managed key C(alias/aws/dynamodb), and an existing
        table that is encrypted with the AWS owned key is switched to it. An existing table already encrypted
        with a KMS key keeps its key, because telling the AWS managed key from a customer key needs KMS.
      - Aliases are refused, because DynamoDB reports the key ARN, which an alias cannot be compared with.
    type: str
  point_in_time_recovery:
    description:
      - Whether point-in-time recovery (continuous backups) is enabled.
    type: bool
    default: true
  deletion_protection:
    description:
      - Whether deletion protection is enabled. While it is, O(state=absent) fails without deleting the table.
    type: bool
    default: false
  ttl_attribute:
    description:
      - The name of the attribute that holds the expiry time of items. When set, time to live is enabled on it.
      - When omitted, the time to live setting of an existing table is left as it is; it is never disabled.
      - DynamoDB cannot move time to live from one attribute to another in place, and accepts one change per
        hour. When time to live is enabled on another attribute the module fails without changing anything.
    type: str
  tags:
    description:
      - A dictionary of tags to set on the table.
      - When omitted, the tags of an existing table are left alone.
    type: dict
    aliases: ["resource_tags"]
  purge_tags:
    description:
      - Whether tags of an existing table that are not in O(tags) are removed. Tags starting with C(aws:) are kept.
      - Has no effect when O(tags) is omitted.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the table, V(absent) deletes it and its items.
      - With V(absent), a table that does not exist is not an error.
    choices: ["present", "absent"]
    default: present
    type: str
  wait:
    description:
      - Whether to wait for the table to be C(ACTIVE) after it is created or updated, and to be gone after it
        is deleted.
      - A new table is waited for regardless when point-in-time recovery or time to live must be set on it,
        because DynamoDB accepts these settings only on an C(ACTIVE) table.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait each time the module waits for the table.
    type: int
    default: 600
notes:
  - The module reads the table with C(DescribeTable), C(DescribeContinuousBackups), C(DescribeTimeToLive) and
    C(ListTagsOfResource); the credentials need these permissions even when nothing changes.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the tasks table, encrypted with the AWS managed key, with point-in-time recovery
  serverless.tasks_api.dynamodb_table:
    name: tasks-api-prod-tasks
    hash_key_name: id
    hash_key_type: S
    deletion_protection: true
    ttl_attribute: expires_at
    tags:
      Environment: prod
  register: tasks_table

- name: Give a table a sort key, provisioned capacity and a customer managed KMS key
  serverless.tasks_api.dynamodb_table:
    name: tasks-api-prod-events
    hash_key_name: task_id
    range_key_name: created_at
    range_key_type: N
    billing_mode: PROVISIONED
    read_capacity: 5
    write_capacity: 5
    sse_kms_key_id: arn:aws:kms:us-east-1:123456789012:key/0123abcd-01ab-23cd-45ef-0123456789ab

- name: Allow the table to be deleted
  serverless.tasks_api.dynamodb_table:
    name: tasks-api-prod-tasks
    deletion_protection: false

- name: Delete the table and its items
  serverless.tasks_api.dynamodb_table:
    name: tasks-api-prod-tasks
    state: absent
"""

RETURN = r"""
table:
  description:
    - The table as DynamoDB describes it after the module ran, with its tags, point-in-time recovery and TTL.
    - Empty when O(state=absent), and when the table would be created in check mode.
  returned: always
  type: dict
  contains:
    table_name:
      description: The name of the table.
      returned: when the table exists
      type: str
      sample: tasks-api-prod-tasks
    table_arn:
      description: The ARN of the table.
      returned: when the table exists
      type: str
      sample: arn:aws:dynamodb:us-east-1:123456789012:table/tasks-api-prod-tasks
    table_status:
      description: The status of the table.
      returned: when the table exists
      type: str
      sample: ACTIVE
    key_schema:
      description: The key attributes of the table and their roles.
      returned: when the table exists
      type: list
      elements: dict
      sample: [{"attribute_name": "id", "key_type": "HASH"}]
    attribute_definitions:
      description: The names and types of the key attributes.
      returned: when the table exists
      type: list
      elements: dict
      sample: [{"attribute_name": "id", "attribute_type": "S"}]
    billing_mode_summary:
      description: The billing mode of the table.
      returned: when AWS reports it
      type: dict
      sample: {"billing_mode": "PAY_PER_REQUEST"}
    provisioned_throughput:
      description: The provisioned capacities; zero for V(PAY_PER_REQUEST).
      returned: when the table exists
      type: dict
      sample: {"read_capacity_units": 5, "write_capacity_units": 5, "number_of_decreases_today": 0}
    sse_description:
      description: The server-side encryption of the table; absent when the AWS owned key encrypts it.
      returned: when the table is encrypted with a KMS key
      type: dict
      sample:
        status: ENABLED
        sse_type: KMS
        kms_master_key_arn: arn:aws:kms:us-east-1:123456789012:key/0123abcd-01ab-23cd-45ef-0123456789ab
    deletion_protection_enabled:
      description: Whether deletion protection is enabled.
      returned: when the table exists
      type: bool
    item_count:
      description: The approximate number of items, updated by AWS about every six hours.
      returned: when the table exists
      type: int
    creation_date_time:
      description: When the table was created.
      returned: when the table exists
      type: str
    tags:
      description: The tags of the table.
      returned: when the table exists
      type: dict
      sample: {"Environment": "prod"}
    point_in_time_recovery:
      description: Whether point-in-time recovery is enabled.
      returned: when the table exists
      type: bool
    ttl_attribute:
      description: The attribute on which time to live is enabled, or null when it is disabled.
      returned: when the table exists
      type: str
      sample: expires_at
diff:
  description:
    - The managed properties before and after; C(before) is empty for a creation, C(after) for a deletion.
    - O(sse_kms_key_id) omitted shows the AWS managed key as C(alias/aws/dynamodb) until AWS reports its ARN.
  returned: in diff mode
  type: dict
  sample:
    before: {}
    after:
      hash_key_name: id
      hash_key_type: S
      range_key_name: null
      range_key_type: null
      billing_mode: PAY_PER_REQUEST
      throughput: null
      sse: {"enabled": true, "kms_key": "alias/aws/dynamodb"}
      point_in_time_recovery: true
      deletion_protection: true
      ttl_attribute: expires_at
      tags: {"Environment": "prod"}
"""

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code, normalize_boto3_result
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff
from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import desired_tags

MANAGED_KEY = "alias/aws/dynamodb"
KMS_ON = ("ENABLING", "ENABLED", "UPDATING")
PITR_ON = ("ENABLING", "ENABLED")
TTL_ON = ("ENABLING", "ENABLED")
WAIT_DELAY = 5
WAITS = {"table_exists": "to become ACTIVE", "table_not_exists": "to be deleted"}
KEY_FIELDS = ("hash_key_name", "hash_key_type", "range_key_name", "range_key_type")


def describe_table(client, name):
    try:
        return client.describe_table(aws_retry=True, TableName=name)["Table"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


def describe_point_in_time_recovery(client, name):
    backups = client.describe_continuous_backups(aws_retry=True, TableName=name)["ContinuousBackupsDescription"]
    return backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") in PITR_ON


def describe_ttl(client, name):
    return client.describe_time_to_live(aws_retry=True, TableName=name)["TimeToLiveDescription"]


@jittered_backoff()
def list_tags(client, arn):
    paginator = client.get_paginator("list_tags_of_resource")
    return paginator.paginate(ResourceArn=arn).build_full_result().get("Tags", [])


def create_table(client, params):
    client.create_table(aws_retry=True, **params)


@jittered_backoff("ResourceInUseException")
def update_table(client, name, change):
    """UpdateTable, retried while the table is busy with an earlier change."""
    client.update_table(TableName=name, **change)


@jittered_backoff("ContinuousBackupsUnavailableException")
def update_point_in_time_recovery(client, name, enabled):
    """UpdateContinuousBackups, retried while a new table's backups are still being set up."""
    client.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled}
    )


@jittered_backoff("ResourceInUseException")
def enable_ttl(client, name, attribute):
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})


def tag_table(client, arn, tags):
    client.tag_resource(aws_retry=True, ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(tags))


def untag_table(client, arn, keys):
    client.untag_resource(aws_retry=True, ResourceArn=arn, TagKeys=keys)


@jittered_backoff("ResourceInUseException")
def delete_table(client, name):
    """DeleteTable, retried while the table is busy with an update."""
    client.delete_table(TableName=name)


def find_table(client, module):
    try:
        return describe_table(client, module.params["name"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe table {module.params['name']}")


def read_settings(client, module, table):
    """Point-in-time recovery, TTL description and tags of an existing table."""
    name = table["TableName"]
    try:
        return {
            "point_in_time_recovery": describe_point_in_time_recovery(client, name),
            "ttl": describe_ttl(client, name),
            "tags": boto3_tag_list_to_ansible_dict(list_tags(client, table["TableArn"])),
        }
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to read the point-in-time recovery, TTL or tags of table {name}")


def wait_for_table(client, module, name, waiter_name):
    timeout = module.params["wait_timeout"]
    config = {"Delay": WAIT_DELAY, "MaxAttempts": max(1, timeout // WAIT_DELAY)}
    try:
        client.get_waiter(waiter_name).wait(TableName=name, WaiterConfig=config)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e, msg=f"Gave up after {timeout} seconds waiting for table {name} {WAITS[waiter_name]}; raise wait_timeout"
        )


def ttl_attribute(ttl):
    return ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") in TTL_ON else None


def key_schema(table):
    types = {attribute["AttributeName"]: attribute["AttributeType"] for attribute in table["AttributeDefinitions"]}
    keys = dict.fromkeys(KEY_FIELDS)
    for element in table["KeySchema"]:
        role = "hash" if element["KeyType"] == "HASH" else "range"
        keys[f"{role}_key_name"] = element["AttributeName"]
        keys[f"{role}_key_type"] = types.get(element["AttributeName"])
    return keys


def billing_mode(table):
    return table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")


def throughput(table):
    if billing_mode(table) != "PROVISIONED":
        return None
    capacities = table.get("ProvisionedThroughput", {})
    return {
        "read_capacity": capacities.get("ReadCapacityUnits"),
        "write_capacity": capacities.get("WriteCapacityUnits"),
    }


def sse(table):
    description = table.get("SSEDescription") or {}
    if description.get("SSEType") == "KMS" and description.get("Status") in KMS_ON:
        return {"enabled": True, "kms_key": description.get("KMSMasterKeyArn")}
    return {"enabled": False, "kms_key": None}


def table_state(table, settings):
    """The parts of a table that the module manages, as shown in the diff."""
    return {
        **key_schema(table),
        "billing_mode": billing_mode(table),
        "throughput": throughput(table),
        "sse": sse(table),
        "point_in_time_recovery": settings["point_in_time_recovery"],
        "deletion_protection": table.get("DeletionProtectionEnabled", False),
        "ttl_attribute": ttl_attribute(settings["ttl"]),
        "tags": settings["tags"],
    }


def desired_keys(module):
    params = module.params
    range_name = params["range_key_name"]
    return {
        "hash_key_name": params["hash_key_name"],
        "hash_key_type": params["hash_key_type"],
        "range_key_name": range_name,
        "range_key_type": (params["range_key_type"] or "S") if range_name else None,
    }


def same_kms_key(current_arn, requested):
    """Whether the key ARN DynamoDB reports is the requested key ID or ARN."""
    return current_arn == requested or (current_arn or "").endswith(f":key/{requested}")


def desired_sse(module, current):
    requested = module.params["sse_kms_key_id"]
    if requested is None:
        return current if current["enabled"] else {"enabled": True, "kms_key": MANAGED_KEY}
    if current["enabled"] and same_kms_key(current["kms_key"], requested):
        return current
    return {"enabled": True, "kms_key": requested}


def desired_state(module, current):
    params = module.params
    provisioned = params["billing_mode"] == "PROVISIONED"
    requested_ttl = params["ttl_attribute"]
    return {
        **desired_keys(module),
        "billing_mode": params["billing_mode"],
        "throughput": (
            {"read_capacity": params["read_capacity"], "write_capacity": params["write_capacity"]}
            if provisioned
            else None
        ),
        "sse": desired_sse(module, current.get("sse", {"enabled": False, "kms_key": None})),
        "point_in_time_recovery": params["point_in_time_recovery"],
        "deletion_protection": params["deletion_protection"],
        "ttl_attribute": requested_ttl if requested_ttl is not None else current.get("ttl_attribute"),
        "tags": desired_tags(module, current.get("tags", {})),
    }


def validate_kms_key(module):
    key = module.params["sse_kms_key_id"]
    if key and (key.startswith("alias/") or ":alias/" in key):
        module.fail_json(
            msg=(
                f"sse_kms_key_id {key} is a KMS alias; give the key ID or key ARN instead, because DynamoDB reports"
                f" the key ARN, which an alias cannot be compared with. Omit sse_kms_key_id for {MANAGED_KEY}."
            )
        )


def describe_keys(state):
    text = f"hash key {state['hash_key_name']} ({state['hash_key_type']})"
    if state["range_key_name"]:
        return f"{text} and range key {state['range_key_name']} ({state['range_key_type']})"
    return f"{text} and no range key"


def refuse_replacement(module, current, desired):
    """Fail, changing nothing, when the requested key schema needs a new table."""
    if all(current[field] == desired[field] for field in KEY_FIELDS):
        return
    module.fail_json(
        msg=(
            f"Table {module.params['name']} has {describe_keys(current)}, but {describe_keys(desired)} was requested."
            " DynamoDB cannot change the keys of a table; the table would have to be replaced and its items would"
            " be lost, so the module will not replace it. Keep the current keys, or create a table under another"
            " name and copy the items."
        ),
        current_key_schema={field: current[field] for field in KEY_FIELDS},
        requested_key_schema={field: desired[field] for field in KEY_FIELDS},
    )


def refuse_ttl_move(module, current, desired):
    """Fail, changing nothing, when TTL is enabled on another attribute than the requested one."""
    name, enabled_on, requested = module.params["name"], current["ttl_attribute"], desired["ttl_attribute"]
    if enabled_on is None or enabled_on == requested:
        return
    module.fail_json(
        msg=(
            f"Table {name} has time to live enabled on attribute {enabled_on}, not {requested}. DynamoDB cannot"
            f" move time to live to another attribute in place: disable it on {enabled_on} first (aws dynamodb"
            f" update-time-to-live --table-name {name} --time-to-live-specification"
            f" Enabled=false,AttributeName={enabled_on}), then run again after an hour, as AWS allows one time to"
            " live change per hour."
        )
    )


def sse_specification(desired_sse_state):
    specification = {"Enabled": True, "SSEType": "KMS"}
    if desired_sse_state["kms_key"] != MANAGED_KEY:
        specification["KMSMasterKeyId"] = desired_sse_state["kms_key"]
    return specification


def provisioned_throughput(desired_throughput):
    return {
        "ReadCapacityUnits": desired_throughput["read_capacity"],
        "WriteCapacityUnits": desired_throughput["write_capacity"],
    }


def create_params(module, desired):
    keys = [(desired["hash_key_name"], desired["hash_key_type"], "HASH")]
    if desired["range_key_name"]:
        keys.append((desired["range_key_name"], desired["range_key_type"], "RANGE"))
    params = {
        "TableName": module.params["name"],
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind} for name, kind, _role in keys],
        "KeySchema": [{"AttributeName": name, "KeyType": role} for name, _kind, role in keys],
        "BillingMode": desired["billing_mode"],
        "SSESpecification": sse_specification(desired["sse"]),
        "DeletionProtectionEnabled": desired["deletion_protection"],
    }
    if desired["throughput"]:
        params["ProvisionedThroughput"] = provisioned_throughput(desired["throughput"])
    if desired["tags"]:
        params["Tags"] = ansible_dict_to_boto3_tag_list(desired["tags"])
    return params


def table_updates(current, desired):
    """The UpdateTable changes, one per call, that bring the table to the desired state."""
    updates = []
    if (current["billing_mode"], current["throughput"]) != (desired["billing_mode"], desired["throughput"]):
        change = {"BillingMode": desired["billing_mode"]}
        if desired["throughput"]:
            change["ProvisionedThroughput"] = provisioned_throughput(desired["throughput"])
        updates.append(change)
    if current["sse"] != desired["sse"]:
        updates.append({"SSESpecification": sse_specification(desired["sse"])})
    if current["deletion_protection"] != desired["deletion_protection"]:
        updates.append({"DeletionProtectionEnabled": desired["deletion_protection"]})
    return updates


def set_point_in_time_recovery(client, module, enabled):
    name = module.params["name"]
    try:
        update_point_in_time_recovery(client, name, enabled)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e, msg=f"Failed to {'enable' if enabled else 'disable'} point-in-time recovery of table {name}"
        )


def set_ttl(client, module, attribute):
    name = module.params["name"]
    try:
        enable_ttl(client, name, attribute)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to enable time to live on attribute {attribute} of table {name};"
                " AWS allows one time to live change per table per hour, so try again later"
            ),
        )


def create_new_table(client, module, desired):
    if module.check_mode:
        return
    name = module.params["name"]
    try:
        create_table(client, create_params(module, desired))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to create table {name}; check the capacities, and that the KMS key exists"
                " and its policy lets DynamoDB use it"
            ),
        )
    if module.params["wait"] or desired["point_in_time_recovery"] or desired["ttl_attribute"]:
        wait_for_table(client, module, name, "table_exists")
    if desired["point_in_time_recovery"]:
        set_point_in_time_recovery(client, module, True)
    if desired["ttl_attribute"]:
        set_ttl(client, module, desired["ttl_attribute"])


def apply_table_update(client, module, change):
    name = module.params["name"]
    try:
        update_table(client, name, change)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to update {', '.join(change)} of table {name}; AWS limits how often the billing mode and"
                " the capacity may change, and a KMS key must exist and let DynamoDB use it"
            ),
        )
    if module.params["wait"]:
        wait_for_table(client, module, name, "table_exists")


def update_tags(client, module, table, current_tags):
    if module.params["tags"] is None:
        return False
    to_set, to_remove = compare_aws_tags(current_tags, module.params["tags"], module.params["purge_tags"])
    if not (to_set or to_remove):
        return False
    if module.check_mode:
        return True
    try:
        if to_remove:
            untag_table(client, table["TableArn"], to_remove)
        if to_set:
            tag_table(client, table["TableArn"], to_set)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to update the tags of table {module.params['name']}")
    return True


def update_existing_table(client, module, table, current, desired):
    """Converge the settings of an existing table in place; return whether anything changed."""
    changed = False
    for change in table_updates(current, desired):
        changed = True
        if not module.check_mode:
            apply_table_update(client, module, change)
    if current["point_in_time_recovery"] != desired["point_in_time_recovery"]:
        changed = True
        if not module.check_mode:
            set_point_in_time_recovery(client, module, desired["point_in_time_recovery"])
    if current["ttl_attribute"] != desired["ttl_attribute"]:
        changed = True
        if not module.check_mode:
            set_ttl(client, module, desired["ttl_attribute"])
    changed |= update_tags(client, module, table, current["tags"])
    return changed


def remove_table(client, module):
    """Delete the table; return False when it was already gone."""
    if module.check_mode:
        return True
    name = module.params["name"]
    try:
        delete_table(client, name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return False
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to delete table {name}")
    if module.params["wait"]:
        wait_for_table(client, module, name, "table_not_exists")
    return True


def snake_result(table, settings):
    """A table as the module returns it: snake_case keys, tags as a dict, recovery and TTL settings."""
    result = camel_dict_to_snake_dict(normalize_boto3_result(table), ignore_list=["Tags"])
    result["tags"] = settings["tags"]
    result["point_in_time_recovery"] = settings["point_in_time_recovery"]
    result["ttl_attribute"] = ttl_attribute(settings["ttl"])
    return result


def describe_result(client, module):
    """Describe the table again after a change, as the module returns it."""
    table = find_table(client, module)
    if table is None:
        module.fail_json(msg=f"Table {module.params['name']} disappeared while the module converged it")
    return snake_result(table, read_settings(client, module, table))


def ensure_present(client, module, table):
    """Return (changed, table result, before, after)."""
    if table is None:
        after = desired_state(module, {})
        create_new_table(client, module, after)
        return True, {} if module.check_mode else describe_result(client, module), {}, after
    settings = read_settings(client, module, table)
    before = table_state(table, settings)
    after = desired_state(module, before)
    refuse_replacement(module, before, after)
    refuse_ttl_move(module, before, after)
    changed = update_existing_table(client, module, table, before, after)
    if changed and not module.check_mode:
        return changed, describe_result(client, module), before, after
    return changed, snake_result(table, settings), before, after


def ensure_absent(client, module, table):
    """Return (changed, table result, before, after)."""
    if table is None:
        return False, {}, {}, {}
    if table.get("DeletionProtectionEnabled"):
        name = module.params["name"]
        module.fail_json(
            msg=(
                f"Table {name} has deletion protection enabled; set deletion_protection: false first"
                " if you really mean to delete it and its items"
            )
        )
    before = table_state(table, read_settings(client, module, table)) if module._diff else {}
    return remove_table(client, module), {}, before, {}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        hash_key_name=dict(type="str", default="id"),
        hash_key_type=dict(type="str", choices=["S", "N", "B"], default="S"),
        range_key_name=dict(type="str"),
        range_key_type=dict(type="str", choices=["S", "N", "B"]),
        billing_mode=dict(type="str", choices=["PAY_PER_REQUEST", "PROVISIONED"], default="PAY_PER_REQUEST"),
        read_capacity=dict(type="int"),
        write_capacity=dict(type="int"),
        sse_kms_key_id=dict(type="str"),
        point_in_time_recovery=dict(type="bool", default=True),
        deletion_protection=dict(type="bool", default=False),
        ttl_attribute=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("billing_mode", "PROVISIONED", ["read_capacity", "write_capacity"])],
        required_by={"range_key_type": "range_key_name"},
    )
    validate_kms_key(module)

    client = module.client("dynamodb", retry_decorator=jittered_backoff())

    table = find_table(client, module)
    if module.params["state"] == "present":
        changed, result_table, before, after = ensure_present(client, module, table)
    else:
        changed, result_table, before, after = ensure_absent(client, module, table)

    result = {"changed": changed, "table": result_table}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
