#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: api_gateway_api_key
version_added: 1.0.0
short_description: Converge an API Gateway API key with a value you choose, without ever showing the value
description:
  - Creates, updates, replaces or deletes one API Gateway API key, found by its name.
  - The value of the key is given by O(value), typically from Ansible Vault or an SSM SecureString, and never
    appears in the results, the diff or the error messages of the module.
  - API Gateway cannot change the value of a key. When O(value) differs from the value of the existing key, the
    module B(replaces) the key, creating a new key with the new value before deleting the old one, and returns
    RV(replaced=true). The new key has a new ID, and deleting the old key detaches it from its usage plans, so
    attach the new ID (RV(api_key.id)) to the usage plans again, for example with
    M(serverless.tasks_api.api_gateway_usage_plan) in the same play. The module warns with the IDs of the usage
    plans the old key was attached to.
  - O(description) and O(enabled) of an existing key are changed in place.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  name:
    description:
      - The name of the key. The module finds the key by this exact name and fails when several keys have it.
    required: true
    type: str
  value:
    description:
      - The value of the key, which clients send in the C(x-api-key) header. At least 20 characters.
      - Required when O(state=present).
      - Changing it replaces the key; see the description.
    type: str
  description:
    description:
      - The description of the key.
    type: str
    default: ""
  enabled:
    description:
      - Whether clients can use the key.
    type: bool
    default: true
  tags:
    description:
      - A dictionary of tags to set on the key.
      - When omitted, the tags of an existing key are left alone (and copied to a replacement key).
    type: dict
    aliases: ["resource_tags"]
  purge_tags:
    description:
      - Whether tags of an existing key that are not in O(tags) are removed. Tags starting with C(aws:) are kept.
      - Has no effect when O(tags) is omitted.
    type: bool
    default: true
  state:
    description:
      - V(present) creates, updates or replaces the key, V(absent) deletes it, which also detaches it from its
        usage plans.
      - With V(absent), a key that does not exist is not an error.
    type: str
    choices: ["present", "absent"]
    default: present
notes:
  - The module reads the keys with C(GetApiKeys) and the value of the key found with C(GetApiKey); the credentials
    need C(apigateway:GET) even when nothing changes.
  - Throttling (C(TooManyRequestsException)) and concurrent changes (C(ConflictException)) are retried with
    backoff for about ten attempts, except that C(ConflictException) on C(CreateApiKey) fails at once,
    because there it means that another key of the account and region already has the value.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Give API Gateway the API key that clients present
  serverless.tasks_api.api_gateway_api_key:
    name: tasks-api-prod-clients
    value: "{{ lookup('amazon.aws.ssm_parameter', '/tasks-api/prod/api-key') }}"
    description: Key of the tasks API clients
    tags:
      Environment: prod
  register: tasks_api_key

- name: Attach the key, new or replaced, to the usage plan
  serverless.tasks_api.api_gateway_usage_plan:
    name: tasks-api-prod
    api_stages:
      - rest_api_id: a1b2c3d4e5
        stage: prod
    api_key_ids:
      - "{{ tasks_api_key.api_key.id }}"

- name: Disable the key without deleting it
  serverless.tasks_api.api_gateway_api_key:
    name: tasks-api-prod-clients
    value: "{{ lookup('amazon.aws.ssm_parameter', '/tasks-api/prod/api-key') }}"
    enabled: false

- name: Delete the key
  serverless.tasks_api.api_gateway_api_key:
    name: tasks-api-prod-clients
    state: absent
"""

RETURN = r"""
api_key:
  description:
    - The key as API Gateway describes it after the module ran, without its value.
    - Empty when O(state=absent), and when the key would be created in check mode.
  returned: always
  type: dict
  contains:
    id:
      description: The ID of the key, which usage plans refer to. A replaced key has a new ID.
      returned: when the key exists
      type: str
      sample: k1l2m3n4o5
    name:
      description: The name of the key.
      returned: when the key exists
      type: str
      sample: tasks-api-prod-clients
    description:
      description: The description of the key.
      returned: when the key has one
      type: str
    enabled:
      description: Whether clients can use the key.
      returned: when the key exists
      type: bool
      sample: true
    stage_keys:
      description: The stages the key is associated with outside usage plans, as C(restApiId/stage).
      returned: when the key exists
      type: list
      elements: str
    created_date:
      description: When the key was created.
      returned: when the key exists
      type: str
    tags:
      description: The tags of the key.
      returned: when the key exists
      type: dict
      sample: {"Environment": "prod"}
replaced:
  description:
    - Whether the key was (in check mode, would be) replaced by a new key because its value changed.
    - When true, attach the new RV(api_key.id) to the usage plans of the old key.
  returned: always
  type: bool
  sample: false
diff:
  description:
    - The managed properties before and after; C(before) is empty for a creation, C(after) for a deletion.
    - The value is never shown. It reads C(<hidden>), and C(<hidden, changed>) on the C(after) side when the
      key is replaced because its value changed.
  returned: in diff mode
  type: dict
  sample:
    before:
      name: tasks-api-prod-clients
      description: ""
      enabled: true
      value: <hidden>
      tags: {}
    after:
      name: tasks-api-prod-clients
      description: ""
      enabled: true
      value: <hidden, changed>
      tags: {}
"""

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.serverless.tasks_api.plugins.module_utils.api_gateway import (
    THROTTLING_CODES,
    all_items,
    apigateway_arn,
    apigateway_client,
    apigateway_retry,
    call_or_fail,
    delete_unless_gone,
    exit_with_diff,
    plain_tags,
    snake_dict_with_tags,
    update_tags,
)
from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import desired_tags

HIDDEN = "<hidden>"
HIDDEN_CHANGED = "<hidden, changed>"
MIN_VALUE_LENGTH = 20


def list_keys_named(client, name):
    keys = all_items(client.get_api_keys, nameQuery=name, includeValues=False)
    return [key for key in keys if key.get("name") == name]


def get_key(client, key_id):
    key = client.get_api_key(aws_retry=True, apiKey=key_id, includeValue=False)
    key.pop("ResponseMetadata", None)
    return key


def get_key_value(client, key_id):
    return client.get_api_key(aws_retry=True, apiKey=key_id, includeValue=True).get("value")


def list_plan_ids_of_key(client, key_id):
    return [plan["id"] for plan in all_items(client.get_usage_plans, keyId=key_id)]


@apigateway_retry(THROTTLING_CODES)
def create_key(client, params):
    """Create the key; throttling is retried, a ConflictException (the value is taken) is not."""
    key = client.create_api_key(**params)
    key.pop("ResponseMetadata", None)
    return key


def update_key(client, key_id, patches):
    client.update_api_key(aws_retry=True, apiKey=key_id, patchOperations=patches)


def delete_key(client, key_id):
    client.delete_api_key(aws_retry=True, apiKey=key_id)


def key_arn(client, key_id):
    return apigateway_arn(client, f"/apikeys/{key_id}")


def describe_key_name(module, key_id):
    return f"API key {module.params['name']} ({key_id})"


def find_key(client, module):
    """The one key with the name, or None; fail when several keys have it."""
    name = module.params["name"]
    keys = call_or_fail(module, f"Failed to list the API keys named {name}", list_keys_named, client, name)
    if len(keys) > 1:
        ids = ", ".join(sorted(key["id"] for key in keys))
        module.fail_json(
            msg=(
                f"{len(keys)} API keys are named {name} (IDs {ids}); the module cannot tell which one to manage."
                " Delete or rename the extra keys (aws apigateway delete-api-key --api-key ID), then run again."
            ),
            api_key_ids=sorted(key["id"] for key in keys),
        )
    return keys[0] if keys else None


def value_differs(client, module, key):
    """Whether O(value) is not the value of the key; the value itself never leaves this function."""
    msg = f"Failed to read the value of {describe_key_name(module, key['id'])}"
    return call_or_fail(module, msg, get_key_value, client, key["id"]) != module.params["value"]


def check_value_length(module):
    value = module.params["value"]
    if module.params["state"] == "present" and len(value) < MIN_VALUE_LENGTH:
        module.fail_json(
            msg=(
                f"The value of API key {module.params['name']} has {len(value)} characters; API Gateway requires at"
                f" least {MIN_VALUE_LENGTH}"
            )
        )


def key_state(key):
    """The parts of a key that the module manages, as shown in the diff, the value hidden."""
    return {
        "name": key.get("name"),
        "description": key.get("description") or "",
        "enabled": bool(key.get("enabled", False)),
        "value": HIDDEN,
        "tags": plain_tags(key),
    }


def desired_state(module, current, new_value):
    return {
        "name": module.params["name"],
        "description": module.params["description"],
        "enabled": module.params["enabled"],
        "value": HIDDEN_CHANGED if new_value else HIDDEN,
        "tags": desired_tags(module, current.get("tags", {})),
    }


def key_patches(current, desired):
    """The UpdateApiKey patch operations for what differs, empty when nothing does."""
    patches = []
    if current["description"] != desired["description"]:
        patches.append({"op": "replace", "path": "/description", "value": desired["description"]})
    if current["enabled"] != desired["enabled"]:
        patches.append({"op": "replace", "path": "/enabled", "value": "true" if desired["enabled"] else "false"})
    return patches


def create_params(module, desired):
    params = {
        "name": module.params["name"],
        "description": desired["description"],
        "enabled": desired["enabled"],
        "value": module.params["value"],
    }
    if desired["tags"]:
        params["tags"] = desired["tags"]
    return params


def create_new_key(client, module, desired):
    msg = (
        f"Failed to create API key {module.params['name']}; API Gateway refuses a value that another key"
        " of the account and region already has (ConflictException: API Key already exists), so check that"
        " the value is not in use"
    )
    return call_or_fail(module, msg, create_key, client, create_params(module, desired))


def apply_patches(client, module, key_id, patches):
    paths = ", ".join(patch["path"] for patch in patches)
    msg = f"Failed to update {paths} of {describe_key_name(module, key_id)}"
    call_or_fail(module, msg, update_key, client, key_id, patches)


def warn_about_usage_plans(client, module, old_id, new_id):
    """Warn that the usage plans of the replaced key must be given the new key."""
    msg = f"Failed to list the usage plans of {describe_key_name(module, old_id)}"
    plan_ids = call_or_fail(module, msg, list_plan_ids_of_key, client, old_id)
    if not plan_ids:
        return
    new = f"the new key {new_id}" if new_id else "the new key"
    module.warn(
        f"API key {module.params['name']} ({old_id}) {'would be' if module.check_mode else 'was'} replaced by {new}"
        f" because its value changed, and API Gateway cannot change the value of a key. The old key was attached"
        f" to usage plans {', '.join(sorted(plan_ids))}: attach {new} to them, for example with"
        " serverless.tasks_api.api_gateway_usage_plan and api_key_ids."
    )


def replace_key(client, module, key, desired):
    """Create a key with the new value, then delete the old one; return the new key (None in check mode)."""
    if module.check_mode:
        warn_about_usage_plans(client, module, key["id"], None)
        return None
    new_key = create_new_key(client, module, desired)
    warn_about_usage_plans(client, module, key["id"], new_key["id"])
    try:
        delete_key(client, key["id"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e,
            msg=(
                f"Created API key {new_key['id']} with the new value of {module.params['name']}, but failed to delete"
                f" the old key {key['id']}; two keys now have the name, so delete {key['id']} (aws apigateway"
                " delete-api-key) before running again"
            ),
            api_key={"id": new_key["id"]},
        )
    return new_key


def remove_key(client, module, key_id):
    """Delete the key; return False when it was already gone."""
    if module.check_mode:
        return True
    return delete_unless_gone(
        module, f"Failed to delete {describe_key_name(module, key_id)}", delete_key, client, key_id
    )


def snake_result(key):
    """A key as the module returns it: snake_case keys, tags as a dict, and never its value."""
    return snake_dict_with_tags(key, leave_out=("value", "tags"))


def describe_result(client, module, key_id):
    return snake_result(
        call_or_fail(module, f"Failed to get {describe_key_name(module, key_id)}", get_key, client, key_id)
    )


def update_existing_key(client, module, key, before, after):
    """Converge description, enabled and tags in place; return whether anything changed."""
    patches = key_patches(before, after)
    if patches and not module.check_mode:
        apply_patches(client, module, key["id"], patches)
    changed = bool(patches)
    changed |= update_tags(
        client, module, key_arn(client, key["id"]), before["tags"], describe_key_name(module, key["id"])
    )
    return changed


def ensure_present(client, module, key):
    """Return (changed, replaced, key result, before, after)."""
    if key is None:
        after = desired_state(module, {}, new_value=False)
        if module.check_mode:
            return True, False, {}, {}, after
        created = create_new_key(client, module, after)
        return True, False, describe_result(client, module, created["id"]), {}, after
    before = key_state(key)
    new_value = value_differs(client, module, key)
    after = desired_state(module, before, new_value)
    if new_value:
        new_key = replace_key(client, module, key, after)
        if new_key is None:
            return True, True, snake_result(key), before, after
        return True, True, describe_result(client, module, new_key["id"]), before, after
    changed = update_existing_key(client, module, key, before, after)
    if changed and not module.check_mode:
        return changed, False, describe_result(client, module, key["id"]), before, after
    return changed, False, snake_result(key), before, after


def ensure_absent(client, module, key):
    """Return (changed, replaced, key result, before, after)."""
    if key is None:
        return False, False, {}, {}, {}
    return remove_key(client, module, key["id"]), False, {}, key_state(key), {}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        value=dict(type="str", no_log=True),
        description=dict(type="str", default=""),
        enabled=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["value"])],
    )
    check_value_length(module)

    client = apigateway_client(module)

    key = find_key(client, module)
    if module.params["state"] == "present":
        changed, replaced, result_key, before, after = ensure_present(client, module, key)
    else:
        changed, replaced, result_key, before, after = ensure_absent(client, module, key)

    exit_with_diff(module, before, after, changed=changed, replaced=replaced, api_key=result_key)


if __name__ == "__main__":
    main()
