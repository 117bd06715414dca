#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: cloudwatch_composite_alarm
version_added: 1.0.0
short_description: Converge a CloudWatch composite alarm, an alarm whose state follows a rule over other alarms
description:
  - Creates, updates or deletes one CloudWatch composite alarm, found by its name.
  - The alarm is read with C(DescribeAlarms). Its rule, description, actions and whether actions are enabled are
    compared with the options (the action lists as sets, so order and repeats do not count), and
    C(PutCompositeAlarm) is called only when one of them differs. A run with the same settings changes nothing.
  - C(PutCompositeAlarm) replaces the whole configuration of the alarm, so an update sends every managed setting.
    Action suppression (C(ActionsSuppressor) and its periods) and the action configuration are not managed; the
    module sends back those of an existing alarm unchanged.
  - Tags are set at creation and afterwards with C(TagResource) and C(UntagResource), since C(PutCompositeAlarm)
    ignores tags when it updates an alarm.
  - No module of amazon.aws or community.aws manages composite alarms; use M(amazon.aws.cloudwatch_metric_alarm)
    for the metric alarms the rule refers to.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  name:
    description:
      - The name of the composite alarm, unique among the alarms of the region.
    required: true
    type: str
  rule:
    description:
      - The alarm rule, an expression over other alarms with the functions C(ALARM), C(OK) and
        C(INSUFFICIENT_DATA), the operators C(AND), C(OR) and C(NOT), parentheses and the constants C(TRUE) and
        C(FALSE); for example V(ALARM("tasks-api-prod-errors"\) OR ALARM("tasks-api-prod-throttles"\)).
      - Every alarm the rule names must exist in the region.
      - Compared as text, exactly as given.
      - Required when O(state=present).
    type: str
  description:
    description:
      - The description of the alarm.
    type: str
    default: ""
  actions_enabled:
    description:
      - Whether the actions run when the state of the alarm changes.
    type: bool
    default: true
  alarm_actions:
    description:
      - The ARNs of the actions (for example SNS topics) that run when the alarm goes into the C(ALARM) state.
    type: list
    elements: str
    default: []
  ok_actions:
    description:
      - The ARNs of the actions that run when the alarm goes into the C(OK) state.
    type: list
    elements: str
    default: []
  insufficient_data_actions:
    description:
      - The ARNs of the actions that run when the alarm goes into the C(INSUFFICIENT_DATA) state.
    type: list
    elements: str
    default: []
  tags:
    description:
      - A dictionary of tags to set on the alarm.
      - When omitted, the tags of an existing alarm are left alone.
    type: dict
    aliases: ["resource_tags"]
  purge_tags:
    description:
      - Whether tags of an existing alarm that are not in O(tags) are removed. Tags starting with C(aws:) are kept.
      - Has no effect when O(tags) is omitted.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the alarm, V(absent) deletes it.
      - With V(absent), an alarm that does not exist is not an error.
    type: str
    choices: ["present", "absent"]
    default: present
notes:
  - The module reads the alarm with C(DescribeAlarms) and its tags with C(ListTagsForResource); the credentials need
    C(cloudwatch:DescribeAlarms) and C(cloudwatch:ListTagsForResource) even when nothing changes, and
    C(cloudwatch:TagResource) to tag the alarm when it creates it.
  - Throttling is retried with backoff for about ten attempts.
  - A composite alarm that the rule of another composite alarm refers to cannot be deleted before that rule is
    changed or that alarm deleted.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Notify the on-call topic when the tasks API has errors or throttles
  serverless.tasks_api.cloudwatch_composite_alarm:
    name: tasks-api-prod-unhealthy
    rule: ALARM("tasks-api-prod-errors") OR ALARM("tasks-api-prod-throttles")
    description: The tasks API fails or is throttled
    alarm_actions:
      - arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms
    ok_actions:
      - arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms
    tags:
      Environment: prod
      ManagedBy: ansible
  register: unhealthy_alarm

- name: Keep the alarm but silence its actions during maintenance
  serverless.tasks_api.cloudwatch_composite_alarm:
    name: tasks-api-prod-unhealthy
    rule: ALARM("tasks-api-prod-errors") OR ALARM("tasks-api-prod-throttles")
    description: The tasks API fails or is throttled
    actions_enabled: false
    alarm_actions:
      - arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms
    ok_actions:
      - arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms

- name: Delete the composite alarm
  serverless.tasks_api.cloudwatch_composite_alarm:
    name: tasks-api-prod-unhealthy
    state: absent
"""

RETURN = r"""
alarm:
  description:
    - The composite alarm as CloudWatch describes it after the module ran, with its tags.
    - Empty when O(state=absent), and when the alarm would be created in check mode.
  returned: always
  type: dict
  contains:
    alarm_name:
      description: The name of the alarm.
      returned: when the alarm exists
      type: str
      sample: tasks-api-prod-unhealthy
    alarm_arn:
      description: The ARN of the alarm.
      returned: when the alarm exists
      type: str
      sample: arn:aws:cloudwatch:us-east-1:123456789012:alarm:tasks-api-prod-unhealthy
    alarm_rule:
      description: The rule of the alarm.
      returned: when the alarm exists
      type: str
      sample: ALARM("tasks-api-prod-errors") OR ALARM("tasks-api-prod-throttles")
    alarm_description:
      description: The description of the alarm.
      returned: when the alarm has one
      type: str
      sample: The tasks API fails or is throttled
    actions_enabled:
      description: Whether the actions run when the state changes.
      returned: when the alarm exists
      type: bool
      sample: true
    alarm_actions:
      description: The actions for the C(ALARM) state.
      returned: when the alarm exists
      type: list
      elements: str
      sample: ["arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms"]
    ok_actions:
      description: The actions for the C(OK) state.
      returned: when the alarm exists
      type: list
      elements: str
      sample: []
    insufficient_data_actions:
      description: The actions for the C(INSUFFICIENT_DATA) state.
      returned: when the alarm exists
      type: list
      elements: str
      sample: []
    state_value:
      description: The state of the alarm.
      returned: when the alarm exists
      type: str
      sample: INSUFFICIENT_DATA
    state_reason:
      description: Why the alarm is in its state.
      returned: when the alarm exists
      type: str
    state_updated_timestamp:
      description: When the state last changed.
      returned: when the alarm exists
      type: str
      sample: "2025-01-31T12:00:00+00:00"
    alarm_configuration_updated_timestamp:
      description: When the configuration last changed.
      returned: when the alarm exists
      type: str
      sample: "2025-01-31T12:00:00+00:00"
    tags:
      description: The tags of the alarm.
      returned: when the alarm exists
      type: dict
      sample: {"Environment": "prod"}
diff:
  description:
    - The managed settings before and after, action lists sorted; C(before) is empty for a creation, C(after) for
      a deletion.
  returned: in diff mode
  type: dict
  sample:
    before: {}
    after:
      rule: ALARM("tasks-api-prod-errors") OR ALARM("tasks-api-prod-throttles")
      description: The tasks API fails or is throttled
      actions_enabled: true
      alarm_actions: ["arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms"]
      ok_actions: []
      insufficient_data_actions: []
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

# Managed settings: field of the diff and option, key of PutCompositeAlarm and of DescribeAlarms.
ACTION_LISTS = (
    ("alarm_actions", "AlarmActions"),
    ("ok_actions", "OKActions"),
    ("insufficient_data_actions", "InsufficientDataActions"),
)
# Settings the module does not manage but must send back, since PutCompositeAlarm replaces the whole alarm.
KEPT_SETTINGS = (
    "ActionsSuppressor",
    "ActionsSuppressorWaitPeriod",
    "ActionsSuppressorExtensionPeriod",
    "ActionConfiguration",
)
PUT_HINT = (
    'check the syntax of the rule (ALARM("name"), OK(...), INSUFFICIENT_DATA(...), AND, OR, NOT, TRUE, FALSE),'
    " that every alarm it names exists in this region, that no metric alarm has this name"
    " and that every action ARN exists"
)


def get_composite_alarm(client, name):
    response = client.describe_alarms(aws_retry=True, AlarmNames=[name], AlarmTypes=["CompositeAlarm"])
    return next((alarm for alarm in response.get("CompositeAlarms", []) if alarm["AlarmName"] == name), None)


def get_tags(client, arn):
    response = client.list_tags_for_resource(aws_retry=True, ResourceARN=arn)
    return boto3_tag_list_to_ansible_dict(response.get("Tags", []))


def put_composite_alarm(client, params):
    client.put_composite_alarm(aws_retry=True, **params)


def delete_alarm(client, name):
    client.delete_alarms(aws_retry=True, AlarmNames=[name])


def tag_alarm(client, arn, tags):
    client.tag_resource(aws_retry=True, ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(tags))


def untag_alarm(client, arn, keys):
    client.untag_resource(aws_retry=True, ResourceARN=arn, TagKeys=keys)


def describe_alarm_name(module):
    return f"composite alarm {module.params['name']}"


def find_alarm(client, module):
    """Return (alarm, tags); (None, {}) when there is no composite alarm of that name."""
    try:
        alarm = get_composite_alarm(client, module.params["name"])
        if alarm is None:
            return None, {}
        return alarm, get_tags(client, alarm["AlarmArn"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe {describe_alarm_name(module)}")


def unique(items):
    """The items without repeats, in their first order."""
    return list(dict.fromkeys(items))


def alarm_state(alarm, tags):
    """The parts of an alarm that the module manages, as shown in the diff."""
    state = {
        "rule": alarm.get("AlarmRule"),
        "description": alarm.get("AlarmDescription") or "",
        "actions_enabled": bool(alarm.get("ActionsEnabled", True)),
    }
    state.update({field: sorted(set(alarm.get(key) or [])) for field, key in ACTION_LISTS})
    state["tags"] = dict(tags)
    return state


def desired_state(module, current):
    params = module.params
    state = {
        "rule": params["rule"],
        "description": params["description"],
        "actions_enabled": params["actions_enabled"],
    }
    state.update({field: sorted(set(params[field])) for field, _api_name in ACTION_LISTS})
    state["tags"] = desired_tags(module, current.get("tags", {}))
    return state


def configuration_differs(before, after):
    return any(before[field] != after[field] for field in after if field != "tags")


def put_params(module, current_alarm):
    """The PutCompositeAlarm parameters: every managed setting, and the unmanaged ones of the current alarm."""
    params = module.params
    request = {
        "AlarmName": params["name"],
        "AlarmRule": params["rule"],
        "AlarmDescription": params["description"],
        "ActionsEnabled": params["actions_enabled"],
    }
    request.update({key: unique(params[field]) for field, key in ACTION_LISTS})
    request.update({key: current_alarm[key] for key in KEPT_SETTINGS if current_alarm.get(key) is not None})
    return request


def write_alarm(client, module, request, action):
    try:
        put_composite_alarm(client, request)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to {action} {describe_alarm_name(module)}; {PUT_HINT}")


def create_alarm(client, module, desired):
    request = put_params(module, {})
    if desired["tags"]:
        request["Tags"] = ansible_dict_to_boto3_tag_list(desired["tags"])
    write_alarm(client, module, request, "create")


def update_tags(client, module, alarm, current_tags):
    if module.params["tags"] is None:
        return False
    tags = {key: str(value) for key, value in module.params["tags"].items()}
    to_set, to_remove = compare_aws_tags(current_tags, tags, module.params["purge_tags"])
    if not (to_set or to_remove):
        return False
    if module.check_mode:
        return True
    try:
        if to_remove:
            untag_alarm(client, alarm["AlarmArn"], to_remove)
        if to_set:
            tag_alarm(client, alarm["AlarmArn"], to_set)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to update the tags of {describe_alarm_name(module)}")
    return True


def remove_alarm(client, module):
    """Delete the alarm; return False when it was already gone."""
    if module.check_mode:
        return True
    try:
        delete_alarm(client, module.params["name"])
    except is_boto3_error_code("ResourceNotFound"):
        return False
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to delete {describe_alarm_name(module)}; if the rule of another composite alarm refers to"
                " it, change that rule or delete that alarm first"
            ),
        )
    return True


def snake_result(alarm, tags):
    """An alarm as the module returns it: snake_case keys, timestamps as text, tags as a dict."""
    result = camel_dict_to_snake_dict(normalize_boto3_result(alarm))
    result["tags"] = dict(tags)
    return result


def describe_result(client, module):
    alarm, tags = find_alarm(client, module)
    if alarm is None:
        module.fail_json(msg=f"{describe_alarm_name(module).capitalize()} disappeared while the module converged it")
    return snake_result(alarm, tags)


def ensure_present(client, module, alarm, tags):
    """Return (changed, alarm result, before, after)."""
    if alarm is None:
        after = desired_state(module, {})
        if not module.check_mode:
            create_alarm(client, module, after)
            return True, describe_result(client, module), {}, after
        return True, {}, {}, after
    before = alarm_state(alarm, tags)
    after = desired_state(module, before)
    changed = configuration_differs(before, after)
    if changed and not module.check_mode:
        write_alarm(client, module, put_params(module, alarm), "update")
    changed |= update_tags(client, module, alarm, tags)
    if changed and not module.check_mode:
        return changed, describe_result(client, module), before, after
    return changed, snake_result(alarm, tags), before, after


def ensure_absent(client, module, alarm, tags):
    """Return (changed, alarm result, before, after)."""
    if alarm is None:
        return False, {}, {}, {}
    return remove_alarm(client, module), {}, alarm_state(alarm, tags), {}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        rule=dict(type="str"),
        description=dict(type="str", default=""),
        actions_enabled=dict(type="bool", default=True),
        alarm_actions=dict(type="list", elements="str", default=[]),
        ok_actions=dict(type="list", elements="str", default=[]),
        insufficient_data_actions=dict(type="list", elements="str", default=[]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["rule"])],
    )

    client = module.client("cloudwatch", retry_decorator=jittered_backoff())

    alarm, tags = find_alarm(client, module)
    if module.params["state"] == "present":
        changed, result_alarm, before, after = ensure_present(client, module, alarm, tags)
    else:
        changed, result_alarm, before, after = ensure_absent(client, module, alarm, tags)

    result = {"changed": changed, "alarm": result_alarm}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
