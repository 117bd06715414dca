#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: api_gateway_usage_plan
version_added: 1.0.0
short_description: Converge an API Gateway usage plan, its API stages, throttle, quota and API keys
description:
  - Creates, updates or deletes one usage plan, found by its name.
  - The plan covers the REST API stages of O(api_stages), limits requests with a throttle and a quota, and lists
    the API keys that may call those stages.
  - An existing plan is read and only what differs is sent, in one C(UpdateUsagePlan) call, then keys are
    attached and detached one by one; a run with the same settings changes nothing.
  - Throttle settings of individual methods of a stage, and the AWS Marketplace product code, are left alone.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  name:
    description:
      - The name of the plan. The module finds the plan by this exact name and fails when several plans have it.
    required: true
    type: str
  description:
    description:
      - The description of the plan.
    type: str
    default: ""
  api_stages:
    description:
      - The REST API stages the plan covers. Stages of an existing plan that are not listed are removed from it.
      - Each stage must exist. An API key may belong to only one usage plan for a given stage.
    type: list
    elements: dict
    default: []
    suboptions:
      rest_api_id:
        description:
          - The ID of the REST API.
        required: true
        type: str
      stage:
        description:
          - The name of the stage.
        required: true
        type: str
  throttle_burst_limit:
    description:
      - The number of requests a key may burst to.
      - Together with O(throttle_rate_limit). When both are omitted the plan has no throttle, and the throttle of
        an existing plan is removed.
    type: int
  throttle_rate_limit:
    description:
      - The steady number of requests per second a key may make.
    type: float
  quota_limit:
    description:
      - The number of requests a key may make in a O(quota_period).
      - Together with O(quota_period). When both are omitted the plan has no quota, and the quota of an existing
        plan is removed.
    type: int
  quota_period:
    description:
      - The period O(quota_limit) applies to.
    type: str
    choices: ["DAY", "WEEK", "MONTH"]
  quota_offset:
    description:
      - The number of requests subtracted from O(quota_limit) in the first period.
      - Ignored when O(quota_limit) is omitted.
    type: int
    default: 0
  api_key_ids:
    description:
      - The IDs of the API keys attached to the plan, such as
        RV(serverless.tasks_api.api_gateway_api_key#module:api_key.id).
      - When omitted, the keys of an existing plan are left alone.
    type: list
    elements: str
  purge_api_keys:
    description:
      - Whether keys attached to the plan but not in O(api_key_ids) are detached from it.
      - Has no effect when O(api_key_ids) is omitted.
    type: bool
    default: true
  tags:
    description:
      - A dictionary of tags to set on the plan.
      - When omitted, the tags of an existing plan are left alone.
    type: dict
    aliases: ["resource_tags"]
  purge_tags:
    description:
      - Whether tags of an existing plan that are not in O(tags) are removed. Tags starting with C(aws:) are kept.
      - Has no effect when O(tags) is omitted.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the plan, V(absent) removes its stages, as API Gateway requires, and
        deletes it. The API keys themselves are not deleted.
      - With V(absent), a plan that does not exist is not an error.
    type: str
    choices: ["present", "absent"]
    default: present
notes:
  - The module reads the plans with C(GetUsagePlans) and the keys of the plan found with C(GetUsagePlanKeys); the
    credentials need C(apigateway:GET) even when nothing changes.
  - Throttling (C(TooManyRequestsException)) and concurrent changes (C(ConflictException)) are retried with
    backoff for about ten attempts.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Limit the clients of the prod stage and attach their key
  serverless.tasks_api.api_gateway_usage_plan:
    name: tasks-api-prod
    description: Clients of the tasks API
    api_stages:
      - rest_api_id: a1b2c3d4e5
        stage: prod
    throttle_burst_limit: 100
    throttle_rate_limit: 50
    quota_limit: 100000
    quota_period: MONTH
    api_key_ids:
      - "{{ tasks_api_key.api_key.id }}"
    tags:
      Environment: prod
  register: tasks_usage_plan

- name: Attach one more key without detaching the others
  serverless.tasks_api.api_gateway_usage_plan:
    name: tasks-api-prod
    api_stages:
      - rest_api_id: a1b2c3d4e5
        stage: prod
    throttle_burst_limit: 100
    throttle_rate_limit: 50
    quota_limit: 100000
    quota_period: MONTH
    api_key_ids:
      - k1l2m3n4o5
    purge_api_keys: false

- name: Delete the plan
  serverless.tasks_api.api_gateway_usage_plan:
    name: tasks-api-prod
    state: absent
"""

RETURN = r"""
usage_plan:
  description:
    - The plan as API Gateway describes it after the module ran, with the IDs of its keys.
    - Empty when O(state=absent), and when the plan would be created in check mode.
  returned: always
  type: dict
  contains:
    id:
      description: The ID of the plan.
      returned: when the plan exists
      type: str
      sample: u1v2w3
    name:
      description: The name of the plan.
      returned: when the plan exists
      type: str
      sample: tasks-api-prod
    description:
      description: The description of the plan.
      returned: when the plan has one
      type: str
    api_stages:
      description: The stages the plan covers.
      returned: when the plan exists
      type: list
      elements: dict
      sample: [{"api_id": "a1b2c3d4e5", "stage": "prod"}]
    throttle:
      description: The throttle of the plan.
      returned: when the plan has one
      type: dict
      sample: {"burst_limit": 100, "rate_limit": 50.0}
    quota:
      description: The quota of the plan.
      returned: when the plan has one
      type: dict
      sample: {"limit": 100000, "offset": 0, "period": "MONTH"}
    api_key_ids:
      description: The IDs of the API keys attached to the plan, sorted.
      returned: when the plan exists
      type: list
      elements: str
      sample: ["k1l2m3n4o5"]
    tags:
      description: The tags of the plan.
      returned: when the plan exists
      type: dict
      sample: {"Environment": "prod"}
diff:
  description:
    - The managed properties before and after; C(before) is empty for a creation, C(after) for a deletion.
  returned: in diff mode
  type: dict
  sample:
    before: {}
    after:
      description: Clients of the tasks API
      api_stages: [{"rest_api_id": "a1b2c3d4e5", "stage": "prod"}]
      throttle: {"burst_limit": 100, "rate_limit": 50.0}
      quota: {"limit": 100000, "period": "MONTH", "offset": 0}
      api_key_ids: ["k1l2m3n4o5"]
      tags: {"Environment": "prod"}
"""

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.serverless.tasks_api.plugins.module_utils.api_gateway import (
    all_items,
    apigateway_arn,
    apigateway_client,
    call_or_fail,
    delete_unless_gone,
    exit_with_diff,
    plain_tags,
    snake_dict,
    update_tags,
)
from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import desired_tags

THROTTLE_PATHS = (("burst_limit", "/throttle/burstLimit"), ("rate_limit", "/throttle/rateLimit"))
QUOTA_PATHS = (("limit", "/quota/limit"), ("period", "/quota/period"), ("offset", "/quota/offset"))


def list_plans_named(client, name):
    return [plan for plan in all_items(client.get_usage_plans) if plan.get("name") == name]


def get_plan(client, plan_id):
    plan = client.get_usage_plan(aws_retry=True, usagePlanId=plan_id)
    plan.pop("ResponseMetadata", None)
    return plan


def list_key_ids(client, plan_id):
    return sorted(key["id"] for key in all_items(client.get_usage_plan_keys, usagePlanId=plan_id))


def create_plan(client, params):
    return client.create_usage_plan(aws_retry=True, **params)


def update_plan(client, plan_id, patches):
    client.update_usage_plan(aws_retry=True, usagePlanId=plan_id, patchOperations=patches)


def delete_plan(client, plan_id):
    client.delete_usage_plan(aws_retry=True, usagePlanId=plan_id)


def attach_key(client, plan_id, key_id):
    client.create_usage_plan_key(aws_retry=True, usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")


def detach_key(client, plan_id, key_id):
    client.delete_usage_plan_key(aws_retry=True, usagePlanId=plan_id, keyId=key_id)


def delete_with_stages(client, plan_id, stages):
    """Remove the stages of the plan, which API Gateway requires before DeleteUsagePlan, then delete it."""
    if stages:
        update_plan(client, plan_id, stage_patches(stages, []))
    delete_plan(client, plan_id)


def plan_arn(client, plan_id):
    return apigateway_arn(client, f"/usageplans/{plan_id}")


def describe_plan_name(module, plan_id):
    return f"usage plan {module.params['name']} ({plan_id})"


def find_plan(client, module):
    """The one plan with the name, or None; fail when several plans have it."""
    name = module.params["name"]
    plans = call_or_fail(module, "Failed to list the usage plans", list_plans_named, client, name)
    if len(plans) > 1:
        ids = sorted(plan["id"] for plan in plans)
        module.fail_json(
            msg=(
                f"{len(plans)} usage plans are named {name} (IDs {', '.join(ids)}); the module cannot tell which one"
                " to manage. Delete or rename the extra plans, then run again."
            ),
            usage_plan_ids=ids,
        )
    return plans[0] if plans else None


def find_key_ids(client, module, plan_id):
    msg = f"Failed to list the API keys of {describe_plan_name(module, plan_id)}"
    return call_or_fail(module, msg, list_key_ids, client, plan_id)


def number_text(value):
    """A number as a patch operation carries it: 50 rather than 50.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def stage_value(stage):
    """An API stage as the value of an /apiStages patch operation."""
    return f"{stage['rest_api_id']}:{stage['stage']}"


def sorted_stages(stages):
    unique = {stage_value(stage): stage for stage in stages}
    return [unique[value] for value in sorted(unique)]


def plan_state(plan, key_ids):
    """The parts of a plan that the module manages, as shown in the diff."""
    throttle = plan.get("throttle") or {}
    quota = plan.get("quota") or {}
    stages = [{"rest_api_id": stage["apiId"], "stage": stage["stage"]} for stage in plan.get("apiStages") or []]
    return {
        "description": plan.get("description") or "",
        "api_stages": sorted_stages(stages),
        "throttle": (
            {"burst_limit": throttle.get("burstLimit"), "rate_limit": throttle.get("rateLimit")} if throttle else None
        ),
        "quota": (
            {"limit": quota.get("limit"), "period": quota.get("period"), "offset": quota.get("offset", 0)}
            if quota
            else None
        ),
        "api_key_ids": sorted(key_ids),
        "tags": plain_tags(plan),
    }


def desired_key_ids(module, current_ids):
    requested = module.params["api_key_ids"]
    if requested is None:
        return sorted(current_ids)
    if module.params["purge_api_keys"]:
        return sorted(set(requested))
    return sorted(set(requested) | set(current_ids))


def desired_state(module, current):
    params = module.params
    throttle = None
    if params["throttle_burst_limit"] is not None:
        throttle = {"burst_limit": params["throttle_burst_limit"], "rate_limit": float(params["throttle_rate_limit"])}
    quota = None
    if params["quota_limit"] is not None:
        quota = {"limit": params["quota_limit"], "period": params["quota_period"], "offset": params["quota_offset"]}
    return {
        "description": params["description"],
        "api_stages": sorted_stages(params["api_stages"]),
        "throttle": throttle,
        "quota": quota,
        "api_key_ids": desired_key_ids(module, current.get("api_key_ids", [])),
        "tags": desired_tags(module, current.get("tags", {})),
    }


def stage_patches(current, desired):
    current_values = [stage_value(stage) for stage in current]
    desired_values = [stage_value(stage) for stage in desired]
    removed = [value for value in current_values if value not in desired_values]
    added = [value for value in desired_values if value not in current_values]
    return [{"op": "remove", "path": "/apiStages", "value": value} for value in removed] + [
        {"op": "add", "path": "/apiStages", "value": value} for value in added
    ]


def settings_patches(current, desired, paths, whole_path):
    """Patches of a throttle or quota: add all when new, remove the whole when gone, else replace what differs."""
    if desired is None:
        return [{"op": "remove", "path": whole_path}] if current else []
    if current is None:
        return [{"op": "add", "path": path, "value": number_text(desired[field])} for field, path in paths]
    return [
        {"op": "replace", "path": path, "value": number_text(desired[field])}
        for field, path in paths
        if current[field] != desired[field]
    ]


def plan_patches(current, desired):
    """The UpdateUsagePlan patch operations for what differs, empty when nothing does."""
    patches = []
    if current["description"] != desired["description"]:
        patches.append({"op": "replace", "path": "/description", "value": desired["description"]})
    patches += stage_patches(current["api_stages"], desired["api_stages"])
    patches += settings_patches(current["throttle"], desired["throttle"], THROTTLE_PATHS, "/throttle")
    patches += settings_patches(current["quota"], desired["quota"], QUOTA_PATHS, "/quota")
    return patches


def create_params(module, desired):
    params = {
        "name": module.params["name"],
        "description": desired["description"],
        "apiStages": [{"apiId": stage["rest_api_id"], "stage": stage["stage"]} for stage in desired["api_stages"]],
    }
    if desired["throttle"]:
        throttle = desired["throttle"]
        params["throttle"] = {"burstLimit": throttle["burst_limit"], "rateLimit": throttle["rate_limit"]}
    if desired["quota"]:
        params["quota"] = dict(desired["quota"])
    if desired["tags"]:
        params["tags"] = desired["tags"]
    return params


def create_new_plan(client, module, desired):
    msg = (
        f"Failed to create usage plan {module.params['name']}; check that every stage of api_stages exists"
        " (deploy the REST API first)"
    )
    return call_or_fail(module, msg, create_plan, client, create_params(module, desired))["id"]


def apply_patches(client, module, plan_id, patches):
    try:
        update_plan(client, plan_id, patches)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        paths = ", ".join(sorted({patch["path"] for patch in patches}))
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to update {paths} of {describe_plan_name(module, plan_id)}; check that every stage of"
                " api_stages exists and that no API key of the plan is in another usage plan for the same stage"
            ),
            patch_operations=patches,
        )


def change_keys(client, module, plan_id, current_ids, desired_ids):
    """Attach the keys that are missing, detach those not wanted; return whether any changed."""
    to_attach = [key_id for key_id in desired_ids if key_id not in current_ids]
    to_detach = [key_id for key_id in current_ids if key_id not in desired_ids]
    if module.check_mode:
        return bool(to_attach or to_detach)
    for key_id in to_attach:
        msg = (
            f"Failed to attach API key {key_id} to {describe_plan_name(module, plan_id)}; check that the key"
            " exists, and that it is in no other usage plan for the same API stage"
        )
        call_or_fail(module, msg, attach_key, client, plan_id, key_id)
    for key_id in to_detach:
        msg = f"Failed to detach API key {key_id} from {describe_plan_name(module, plan_id)}"
        delete_unless_gone(module, msg, detach_key, client, plan_id, key_id)
    return bool(to_attach or to_detach)


def remove_plan(client, module, plan, stages):
    """Remove the stages of the plan, which API Gateway requires, then delete it; False when already gone."""
    if module.check_mode:
        return True
    plan_id = plan["id"]
    msg = f"Failed to remove the stages of and delete {describe_plan_name(module, plan_id)}"
    return delete_unless_gone(module, msg, delete_with_stages, client, plan_id, stages)


def snake_result(plan, key_ids):
    """A plan as the module returns it: snake_case keys, the IDs of its keys, tags as a dict."""
    result = snake_dict(plan, leave_out=("tags", "apiStages"))
    result["api_stages"] = [
        {
            "api_id": stage.get("apiId"),
            "stage": stage.get("stage"),
            # Method throttles are keyed by resource path and method, which keep their case.
            **(
                {"throttle": {path: camel_dict_to_snake_dict(limits) for path, limits in stage["throttle"].items()}}
                if stage.get("throttle")
                else {}
            ),
        }
        for stage in plan.get("apiStages") or []
    ]
    result["api_key_ids"] = sorted(key_ids)
    result["tags"] = plain_tags(plan)
    return result


def describe_result(client, module, plan_id):
    plan = call_or_fail(module, f"Failed to get {describe_plan_name(module, plan_id)}", get_plan, client, plan_id)
    return snake_result(plan, find_key_ids(client, module, plan_id))


def create_with_keys(client, module, desired):
    """Create the plan and attach its keys; return the plan ID."""
    plan_id = create_new_plan(client, module, desired)
    change_keys(client, module, plan_id, [], desired["api_key_ids"])
    return plan_id


def update_existing_plan(client, module, plan_id, before, after):
    """Converge an existing plan in place; return whether anything changed."""
    patches = plan_patches(before, after)
    if patches and not module.check_mode:
        apply_patches(client, module, plan_id, patches)
    changed = bool(patches)
    changed |= change_keys(client, module, plan_id, before["api_key_ids"], after["api_key_ids"])
    changed |= update_tags(
        client, module, plan_arn(client, plan_id), before["tags"], describe_plan_name(module, plan_id)
    )
    return changed


def ensure_present(client, module, plan):
    """Return (changed, plan result, before, after)."""
    if plan is None:
        after = desired_state(module, {})
        if module.check_mode:
            return True, {}, {}, after
        plan_id = create_with_keys(client, module, after)
        return True, describe_result(client, module, plan_id), {}, after
    key_ids = find_key_ids(client, module, plan["id"])
    before = plan_state(plan, key_ids)
    after = desired_state(module, before)
    changed = update_existing_plan(client, module, plan["id"], before, after)
    if changed and not module.check_mode:
        return changed, describe_result(client, module, plan["id"]), before, after
    return changed, snake_result(plan, key_ids), before, after


def ensure_absent(client, module, plan):
    """Return (changed, plan result, before, after)."""
    if plan is None:
        return False, {}, {}, {}
    before = plan_state(plan, find_key_ids(client, module, plan["id"]) if module._diff else [])
    return remove_plan(client, module, plan, before["api_stages"]), {}, before, {}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        description=dict(type="str", default=""),
        api_stages=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(rest_api_id=dict(type="str", required=True), stage=dict(type="str", required=True)),
        ),
        throttle_burst_limit=dict(type="int"),
        throttle_rate_limit=dict(type="float"),
        quota_limit=dict(type="int"),
        quota_period=dict(type="str", choices=["DAY", "WEEK", "MONTH"]),
        quota_offset=dict(type="int", default=0),
        api_key_ids=dict(type="list", elements="str", no_log=False),
        purge_api_keys=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_together=[("throttle_burst_limit", "throttle_rate_limit"), ("quota_limit", "quota_period")],
    )

    client = apigateway_client(module)

    plan = find_plan(client, module)
    if module.params["state"] == "present":
        changed, result_plan, before, after = ensure_present(client, module, plan)
    else:
        changed, result_plan, before, after = ensure_absent(client, module, plan)

    exit_with_diff(module, before, after, changed=changed, usage_plan=result_plan)


if __name__ == "__main__":
    main()
