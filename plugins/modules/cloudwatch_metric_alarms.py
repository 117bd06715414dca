#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: cloudwatch_metric_alarms
version_added: 1.0.0
short_description: Converge a list of CloudWatch metric alarms in one call
description:
  - Creates or updates every CloudWatch metric alarm of O(alarms), each found by its name, in one invocation.
  - The alarms are read with C(DescribeAlarms), by their names in batches of 100 (one call for up to 100 alarms).
    Each alarm's managed settings are compared with its definition, and C(PutMetricAlarm) is called only for the
    alarms that differ. A run with the same definitions changes nothing and writes nothing.
  - "The comparison normalises what CloudWatch hands back: the threshold as a number (V(5) equals V(5.0)), a
    missing C(TreatMissingData) as V(missing), a missing C(DatapointsToAlarm) as the evaluation periods, the
    dimensions whatever their order, and the action lists as sets (order and repeats do not count)."
  - C(PutMetricAlarm) replaces the whole configuration of an alarm, so an update sends every managed setting.
    An alarm of that name defined by metric math (C(Metrics)) becomes a single metric alarm.
  - Alarms that are not in O(alarms) are left alone; the module never deletes an alarm. Use
    M(amazon.aws.cloudwatch_metric_alarm) with O(amazon.aws.cloudwatch_metric_alarm#module:state=absent) to delete
    one.
  - Tags are set at creation and afterwards with C(TagResource) and C(UntagResource), since C(PutMetricAlarm)
    ignores tags when it updates an alarm.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  alarms:
    description:
      - The metric alarms, each the definition of one alarm on a single metric.
      - The names must be unique within the list.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The name of the alarm, unique among the alarms of the region.
        type: str
        required: true
      description:
        description:
          - The description of the alarm.
        type: str
        default: ""
      namespace:
        description:
          - The namespace of the metric, for example V(AWS/Lambda).
        type: str
        required: true
      metric_name:
        description:
          - The name of the metric, for example V(Errors).
        type: str
        required: true
      dimensions:
        description:
          - The dimensions of the metric, name to value, for example C(FunctionName) to V(tasks-api-prod-get).
          - Values are compared and sent as text.
        type: dict
        default: {}
      statistic:
        description:
          - The statistic of the metric the alarm watches.
          - Exactly one of O(alarms[].statistic) and O(alarms[].extended_statistic) is required.
        type: str
        choices: ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
      extended_statistic:
        description:
          - A percentile statistic, for example V(p99).
        type: str
      evaluate_low_sample_count_percentile:
        description:
          - For a percentile alarm, whether a period with too few samples for the percentile is evaluated or
            keeps the alarm in its state.
        type: str
        choices: ["evaluate", "ignore"]
      period:
        description:
          - The length of a period, in seconds (10, 30 or a multiple of 60).
        type: int
        required: true
      evaluation_periods:
        description:
          - How many of the latest periods the alarm looks at.
        type: int
        required: true
      datapoints_to_alarm:
        description:
          - How many of the O(alarms[].evaluation_periods) must breach for the alarm to go into C(ALARM).
          - Defaults to O(alarms[].evaluation_periods), as in CloudWatch.
        type: int
      threshold:
        description:
          - The value the statistic is compared with.
        type: float
        required: true
      comparison_operator:
        description:
          - How the statistic is compared with O(alarms[].threshold).
          - The alias O(alarms[].comparison) is the option name of M(amazon.aws.cloudwatch_metric_alarm), so its
            definitions fit as they are.
        type: str
        required: true
        choices:
          - GreaterThanOrEqualToThreshold
          - GreaterThanThreshold
          - LessThanThreshold
          - LessThanOrEqualToThreshold
        aliases: ["comparison"]
      unit:
        description:
          - The unit of the metric, for example V(Milliseconds). Omitted means any unit.
        type: str
      treat_missing_data:
        description:
          - How a period without data counts.
        type: str
        choices: ["breaching", "notBreaching", "ignore", "missing"]
        default: missing
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
      - A dictionary of tags to set on every alarm of O(alarms).
      - When omitted, the tags of existing alarms are left alone and not read.
    type: dict
    aliases: ["resource_tags"]
  purge_tags:
    description:
      - Whether tags of an existing alarm that are not in O(tags) are removed. Tags starting with C(aws:) are kept.
      - Has no effect when O(tags) is omitted.
    type: bool
    default: true
notes:
  - The credentials need C(cloudwatch:DescribeAlarms) even when nothing changes, C(cloudwatch:PutMetricAlarm) to
    write an alarm, and with O(tags) C(cloudwatch:ListTagsForResource) (one call per existing alarm) and
    C(cloudwatch:TagResource) (also to tag an alarm it creates) and C(cloudwatch:UntagResource).
  - Metric math alarms (C(Metrics)) and anomaly detection alarms (C(ThresholdMetricId)) are not supported.
  - Throttling is retried with backoff for about ten attempts. When a write fails, the alarms written before it
    stay written; the result lists them.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Alarm on the errors and the p99 duration of a function, notifying the on-call topic
  serverless.tasks_api.cloudwatch_metric_alarms:
    alarms:
      - name: tasks-api-prod-get-errors
        description: tasks-api-prod-get failed 5 or more times in 300 s
        namespace: AWS/Lambda
        metric_name: Errors
        dimensions:
          FunctionName: tasks-api-prod-get
        statistic: Sum
        period: 300
        evaluation_periods: 1
        threshold: 5
        comparison_operator: GreaterThanOrEqualToThreshold
        treat_missing_data: notBreaching
        alarm_actions: ["arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms"]
        ok_actions: ["arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms"]
      - name: tasks-api-prod-get-duration
        namespace: AWS/Lambda
        metric_name: Duration
        dimensions:
          FunctionName: tasks-api-prod-get
        extended_statistic: p99
        evaluate_low_sample_count_percentile: evaluate
        unit: Milliseconds
        period: 300
        evaluation_periods: 3
        datapoints_to_alarm: 2
        threshold: 8000
        comparison_operator: GreaterThanThreshold
        treat_missing_data: notBreaching
        alarm_actions: ["arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms"]
    tags:
      Environment: prod
  register: function_alarms

- name: Show the ARN of the errors alarm
  ansible.builtin.debug:
    msg: "{{ function_alarms.alarms['tasks-api-prod-get-errors'].arn }}"
"""

RETURN = r"""
alarms:
  description:
    - Each alarm of O(alarms), by name.
  returned: always
  type: dict
  contains:
    arn:
      description:
        - The ARN of the alarm; V(null) for an alarm that check mode would create.
      returned: always
      type: str
      sample: arn:aws:cloudwatch:us-east-1:123456789012:alarm:tasks-api-prod-get-errors
    changed:
      description:
        - Whether the alarm was (in check mode, would be) created, updated or tagged.
      returned: always
      type: bool
      sample: true
  sample:
    tasks-api-prod-get-errors:
      arn: arn:aws:cloudwatch:us-east-1:123456789012:alarm:tasks-api-prod-get-errors
      changed: false
diff:
  description:
    - One entry per alarm that changes, with the alarm's name as C(before_header) and C(after_header) and its
      managed settings before (V({}) for a creation) and after; action lists sorted, dimensions sorted by name,
      the threshold a number. C(tags) appears only with O(tags).
  returned: in diff mode
  type: list
  elements: dict
  sample:
    - before_header: tasks-api-prod-api-5xx
      after_header: tasks-api-prod-api-5xx
      before:
        description: The API answered 1 or more requests with 5XX in 300 s
        namespace: AWS/ApiGateway
        metric_name: 5XXError
        dimensions: {"ApiName": "tasks-api-prod", "Stage": "prod"}
        statistic: Sum
        extended_statistic: null
        evaluate_low_sample_count_percentile: null
        period: 300
        evaluation_periods: 1
        datapoints_to_alarm: 1
        threshold: 1.0
        comparison_operator: GreaterThanOrEqualToThreshold
        unit: null
        treat_missing_data: notBreaching
        actions_enabled: true
        alarm_actions: ["arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms"]
        ok_actions: ["arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms"]
        insufficient_data_actions: []
      after:
        description: The API answered 5 or more requests with 5XX in 300 s
        namespace: AWS/ApiGateway
        metric_name: 5XXError
        dimensions: {"ApiName": "tasks-api-prod", "Stage": "prod"}
        statistic: Sum
        extended_statistic: null
        evaluate_low_sample_count_percentile: null
        period: 300
        evaluation_periods: 1
        datapoints_to_alarm: 1
        threshold: 5.0
        comparison_operator: GreaterThanOrEqualToThreshold
        unit: null
        treat_missing_data: notBreaching
        actions_enabled: true
        alarm_actions: ["arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms"]
        ok_actions: ["arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms"]
        insufficient_data_actions: []
"""

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff
from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import desired_tags, requested_tags

MAX_NAMES_PER_DESCRIBE = 100  # DescribeAlarms' AlarmNames and MaxRecords
# Managed settings: field of the diff and option, key of PutMetricAlarm and of DescribeAlarms.
SCALAR_SETTINGS = (
    ("namespace", "Namespace"),
    ("metric_name", "MetricName"),
    ("statistic", "Statistic"),
    ("extended_statistic", "ExtendedStatistic"),
    ("evaluate_low_sample_count_percentile", "EvaluateLowSampleCountPercentile"),
    ("period", "Period"),
    ("evaluation_periods", "EvaluationPeriods"),
    ("datapoints_to_alarm", "DatapointsToAlarm"),
    ("threshold", "Threshold"),
    ("comparison_operator", "ComparisonOperator"),
    ("unit", "Unit"),
    ("treat_missing_data", "TreatMissingData"),
    ("actions_enabled", "ActionsEnabled"),
)
ACTION_LISTS = (
    ("alarm_actions", "AlarmActions"),
    ("ok_actions", "OKActions"),
    ("insufficient_data_actions", "InsufficientDataActions"),
)
PUT_HINT = (
    "check the metric (namespace, name, dimensions), that the statistic, period and unit are valid for it, that"
    " no composite alarm has this name and that every action ARN exists"
)


@jittered_backoff()
def describe_alarms(client, names):
    paginator = client.get_paginator("describe_alarms")
    pages = paginator.paginate(
        AlarmNames=names, AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": MAX_NAMES_PER_DESCRIBE}
    )
    return pages.build_full_result().get("MetricAlarms", [])


def get_tags(client, arn):
    response = client.list_tags_for_resource(aws_retry=True, ResourceARN=arn)
    return boto3_tag_list_to_ansible_dict(response.get("Tags", []))


def put_metric_alarm(client, params):
    client.put_metric_alarm(aws_retry=True, **params)


def tag_alarm(client, arn, tags):
    client.tag_resource(aws_retry=True, ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(tags))


def untag_alarm(client, arn, keys):
    client.untag_resource(aws_retry=True, ResourceARN=arn, TagKeys=keys)


def batches(items, size=MAX_NAMES_PER_DESCRIBE):
    return [items[start : start + size] for start in range(0, len(items), size)]


class Converger:
    """Converges the alarms of one invocation and keeps what it did, for the result and for a failure."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.changed = False
        self.results = {}
        self.diff = []

    def fail(self, error, msg):
        self.module.fail_json_aws(error, msg=msg, changed=self.changed, alarms=self.results)

    def find_alarms(self, names):
        """The metric alarms of those names that exist, by name."""
        found = {}
        for batch in batches(names):
            try:
                alarms = describe_alarms(self.client, batch)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.fail(e, f"Failed to describe the metric alarms {', '.join(batch)}")
            found.update({alarm["AlarmName"]: alarm for alarm in alarms if alarm["AlarmName"] in batch})
        return found

    def find_tags(self, alarm):
        try:
            return get_tags(self.client, alarm["AlarmArn"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to read the tags of metric alarm {alarm['AlarmName']}")

    def converge(self, definitions, current):
        """Create or update each alarm of ``definitions``; return the names of those created."""
        read_tags = requested_tags(self.module) is not None
        created = []
        for definition in definitions:
            name = definition["name"]
            alarm = current.get(name)
            tags = self.find_tags(alarm) if read_tags and alarm is not None else {}
            before = alarm_state(alarm, tags, read_tags) if alarm is not None else {}
            after = desired_state(self.module, definition, tags, read_tags)
            if alarm is None:
                changed = True
                self.create(definition, after)
                created.append(name)
            else:
                changed = configuration_differs(before, after)
                if changed:
                    self.write(definition, "update")
                changed |= self.update_tags(alarm, tags)
            self.changed |= changed
            self.results[name] = {"arn": alarm["AlarmArn"] if alarm is not None else None, "changed": changed}
            if changed:
                self.diff.append({"before_header": name, "after_header": name, "before": before, "after": after})
        return created

    def write(self, definition, action, tags=None):
        if self.module.check_mode:
            return
        request = put_params(definition)
        if tags:
            request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
        try:
            put_metric_alarm(self.client, request)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to {action} metric alarm {definition['name']}; {PUT_HINT}")

    def create(self, definition, after):
        self.write(definition, "create", after.get("tags"))

    def update_tags(self, alarm, current_tags):
        tags = requested_tags(self.module)
        if tags is None:
            return False
        to_set, to_remove = compare_aws_tags(current_tags, tags, self.module.params["purge_tags"])
        if not (to_set or to_remove):
            return False
        if self.module.check_mode:
            return True
        try:
            if to_remove:
                untag_alarm(self.client, alarm["AlarmArn"], to_remove)
            if to_set:
                tag_alarm(self.client, alarm["AlarmArn"], to_set)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to update the tags of metric alarm {alarm['AlarmName']}")
        return True

    def read_created_arns(self, created):
        """Fill in the ARNs of the alarms created, read back in one call per 100."""
        if not created or self.module.check_mode:
            return
        found = self.find_alarms(created)
        for name in created:
            if name not in found:
                self.module.fail_json(
                    msg=f"Metric alarm {name} disappeared while the module converged it",
                    changed=self.changed,
                    alarms=self.results,
                )
            self.results[name]["arn"] = found[name]["AlarmArn"]


def unique(items):
    """The items without repeats, in their first order."""
    return list(dict.fromkeys(items))


def alarm_state(alarm, tags, with_tags):
    """The settings of an existing alarm that the module manages, as shown in the diff."""
    state = {"description": alarm.get("AlarmDescription") or ""}
    state.update({field: alarm.get(key) for field, key in SCALAR_SETTINGS})
    state["dimensions"] = {dimension["Name"]: dimension["Value"] for dimension in alarm.get("Dimensions") or []}
    if state["threshold"] is not None:
        state["threshold"] = float(state["threshold"])
    if state["datapoints_to_alarm"] is None:
        state["datapoints_to_alarm"] = state["evaluation_periods"]
    state["treat_missing_data"] = state["treat_missing_data"] or "missing"
    state["actions_enabled"] = bool(alarm.get("ActionsEnabled", True))
    for field in ("statistic", "extended_statistic", "evaluate_low_sample_count_percentile", "unit"):
        state[field] = state[field] or None
    state.update({field: sorted(set(alarm.get(key) or [])) for field, key in ACTION_LISTS})
    if with_tags:
        state["tags"] = dict(tags)
    return ordered(state)


def desired_state(module, definition, current_tags, with_tags):
    """The managed settings an alarm ends up with, normalised as ``alarm_state`` normalises an existing one."""
    state = {"description": definition["description"]}
    state.update({field: definition[field] for field, _api_name in SCALAR_SETTINGS})
    state["dimensions"] = dimensions_of(definition)
    state["threshold"] = float(definition["threshold"])
    if state["datapoints_to_alarm"] is None:
        state["datapoints_to_alarm"] = definition["evaluation_periods"]
    for field in ("statistic", "extended_statistic", "evaluate_low_sample_count_percentile", "unit"):
        state[field] = state[field] or None
    state.update({field: sorted(set(definition[field])) for field, _api_name in ACTION_LISTS})
    if with_tags:
        state["tags"] = desired_tags(module, current_tags)
    return ordered(state)


def ordered(state):
    """``state`` with its keys in the order of the diff: description, the metric, the rule, the actions, tags."""
    keys = ["description", "namespace", "metric_name", "dimensions"]
    keys += [field for field, _api_name in SCALAR_SETTINGS if field not in keys]
    keys += [field for field, _api_name in ACTION_LISTS] + ["tags"]
    return {key: state[key] for key in keys if key in state}


def dimensions_of(definition):
    return {str(name): str(value) for name, value in sorted(definition["dimensions"].items())}


def configuration_differs(before, after):
    return any(before[field] != after[field] for field in after if field != "tags")


def put_params(definition):
    """The PutMetricAlarm parameters: every managed setting of the definition."""
    request = {
        "AlarmName": definition["name"],
        "AlarmDescription": definition["description"],
        "Namespace": definition["namespace"],
        "MetricName": definition["metric_name"],
        "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions_of(definition).items()],
        "Period": definition["period"],
        "EvaluationPeriods": definition["evaluation_periods"],
        "DatapointsToAlarm": definition["datapoints_to_alarm"] or definition["evaluation_periods"],
        "Threshold": float(definition["threshold"]),
        "ComparisonOperator": definition["comparison_operator"],
        "TreatMissingData": definition["treat_missing_data"],
        "ActionsEnabled": definition["actions_enabled"],
    }
    optional = (
        ("Statistic", "statistic"),
        ("ExtendedStatistic", "extended_statistic"),
        ("EvaluateLowSampleCountPercentile", "evaluate_low_sample_count_percentile"),
        ("Unit", "unit"),
    )
    request.update({key: definition[field] for key, field in optional if definition[field]})
    request.update({key: unique(definition[field]) for field, key in ACTION_LISTS})
    return request


def check_definitions(module, definitions):
    """Fail before any call on a repeated name or on a definition CloudWatch would refuse for a reason known here."""
    names = [definition["name"] for definition in definitions]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        module.fail_json(msg=f"alarms: the names {', '.join(repeated)} are listed more than once")
    for index, definition in enumerate(definitions):
        datapoints = definition["datapoints_to_alarm"]
        if datapoints is not None and not 1 <= datapoints <= definition["evaluation_periods"]:
            module.fail_json(
                msg=(
                    f"alarms[{index}] ({definition['name']}): datapoints_to_alarm is {datapoints}; expected 1 to"
                    f" evaluation_periods ({definition['evaluation_periods']})"
                )
            )


def alarm_spec():
    actions = dict(type="list", elements="str", default=[])
    return dict(
        name=dict(type="str", required=True),
        description=dict(type="str", default=""),
        namespace=dict(type="str", required=True),
        metric_name=dict(type="str", required=True),
        dimensions=dict(type="dict", default={}),
        statistic=dict(type="str", choices=["SampleCount", "Average", "Sum", "Minimum", "Maximum"]),
        extended_statistic=dict(type="str"),
        evaluate_low_sample_count_percentile=dict(type="str", choices=["evaluate", "ignore"]),
        period=dict(type="int", required=True),
        evaluation_periods=dict(type="int", required=True),
        datapoints_to_alarm=dict(type="int"),
        threshold=dict(type="float", required=True),
        comparison_operator=dict(
            type="str",
            required=True,
            choices=[
                "GreaterThanOrEqualToThreshold",
                "GreaterThanThreshold",
                "LessThanThreshold",
                "LessThanOrEqualToThreshold",
            ],
            aliases=["comparison"],
        ),
        unit=dict(type="str"),
        treat_missing_data=dict(
            type="str", choices=["breaching", "notBreaching", "ignore", "missing"], default="missing"
        ),
        actions_enabled=dict(type="bool", default=True),
        alarm_actions=actions,
        ok_actions=dict(actions),
        insufficient_data_actions=dict(actions),
    )


def main():
    argument_spec = dict(
        alarms=dict(
            type="list",
            elements="dict",
            required=True,
            options=alarm_spec(),
            mutually_exclusive=[("statistic", "extended_statistic")],
            required_one_of=[("statistic", "extended_statistic")],
        ),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    definitions = module.params["alarms"]
    check_definitions(module, definitions)

    client = module.client("cloudwatch", retry_decorator=jittered_backoff())
    converger = Converger(module, client)
    current = converger.find_alarms([definition["name"] for definition in definitions])
    created = converger.converge(definitions, current)
    converger.read_created_arns(created)

    result = {"changed": converger.changed, "alarms": converger.results}
    if module._diff:
        result["diff"] = converger.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
