#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: lambda_traffic_shift
version_added: 1.1.0
short_description: Shift the traffic of Lambda aliases to new versions in steps, rolled back when an alarm fires
description:
  - Moves the alias of each function of O(functions) to its target version, at once or in steps through the
    alias's routing configuration (C(AdditionalVersionWeights)), the safety of SAM's C(DeploymentPreference)
    without CodeDeploy.
  - V(canary) sends C(percent) of the traffic to the target for C(interval_seconds), then all of it; V(linear) adds
    C(percent) every C(interval_seconds) until all; V(all_at_once) moves the alias in one step.
  - All the functions shift together on one clock. While traffic is split, the module reads the state of each
    function's C(alarm_names) every O(poll_seconds). An alarm in C(ALARM) (also one already in C(ALARM) when the
    shift starts) moves all the traffic of that function back to the version its alias served, clears the routing
    and marks the description C([rolled back version N]); the others go on. The target version stays published but
    unused. When a shift completes, the alias points at the target, its routing is cleared and its description is
    marked C([previous version P]).
  - When any function was rolled back the module fails, naming the function, the alarms and the versions.
  - A function whose alias points at its target without routing is unchanged. A target marked as rolled back in the
    alias description is not shifted to again (the module warns) unless O(retry_rolled_back).
  - An alias whose routing already sends part of the traffic to the target (an interrupted shift) continues from
    that weight, with the version it points at as the previous one.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  functions:
    description:
      - The functions whose alias moves.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The name of the function.
        type: str
        required: true
      alias:
        description:
          - The name of its alias, which must exist.
        type: str
        required: true
      version:
        description:
          - The version the alias moves to.
          - When omitted, the version before the one the alias points at - that of its C([previous version P])
            marker, or else the highest published version below it - which is what a rollback wants.
        type: str
      strategy:
        description:
          - How the traffic moves.
        type: dict
        default: {type: all_at_once}
        suboptions:
          type:
            description:
              - V(all_at_once), V(canary) or V(linear).
            type: str
            choices: [all_at_once, canary, linear]
            default: all_at_once
          percent:
            description:
              - The share of the traffic sent to the target first (V(canary)), or added at every step (V(linear)),
                from 1 to 99. Required unless V(all_at_once).
            type: int
          interval_seconds:
            description:
              - How long each step is watched before the next one. Required unless V(all_at_once).
            type: int
      alarm_names:
        description:
          - The CloudWatch alarms (metric or composite) watched while the traffic of this function is split.
          - An alarm that does not exist is reported in a warning and otherwise ignored.
        type: list
        elements: str
        default: []
  poll_seconds:
    description:
      - How often the alarms are read while traffic is split.
    type: int
    default: 30
  retry_rolled_back:
    description:
      - Whether to shift to a target that the alias description marks as rolled back.
    type: bool
    default: false
  description:
    description:
      - The description of the aliases, without the markers the module adds.
      - When omitted, the description each alias has (without its markers) is kept.
    type: str
  mark_rolled_back:
    description:
      - Whether moving an alias marks the version it leaves as rolled back (C([rolled back version N])) rather than
        as the previous one; the rollback playbook sets this with V(all_at_once) and the version to go back to.
    type: bool
    default: false
notes:
  - Reads each alias with C(GetAlias) and the alarms with C(DescribeAlarms) (by name, 100 at a time); moves the
    aliases with C(UpdateAlias).
  - The alarms are those of the whole function (all its versions), as the monitoring role creates them; during a
    canary they see the traffic of both versions.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Shift the live alias of the list function to version 5, 10% for 5 minutes, watching its alarms
  serverless.tasks_api.lambda_traffic_shift:
    functions:
      - name: tasks-api-prod-list
        alias: live
        version: "5"
        strategy:
          type: canary
          percent: 10
          interval_seconds: 300
        alarm_names:
          - tasks-api-prod-list-errors
          - tasks-api-prod-list-throttles
          - tasks-api-prod-list-duration
    poll_seconds: 30
    description: Serves API traffic

- name: Move the live alias of the list function back to version 4 at once, marking version 5 as rolled back
  serverless.tasks_api.lambda_traffic_shift:
    functions:
      - name: tasks-api-prod-list
        alias: live
        version: "4"
    mark_rolled_back: true
"""

RETURN = r"""
functions:
  description: What happened to each function of O(functions), by name.
  returned: always
  type: dict
  sample:
    tasks-api-prod-list:
      name: tasks-api-prod-list
      previous_version: "4"
      target_version: "5"
      alias_version: "5"
      outcome: shifted
      steps: [10, 100]
      alarm: []
  contains:
    name:
      description: The name of the function.
      type: str
    previous_version:
      description: The version the alias served before the run.
      type: str
    target_version:
      description: The version of O(functions[].version).
      type: str
    alias_version:
      description: The version the alias serves after the run (in check mode, now).
      type: str
    outcome:
      description:
        - V(unchanged) (the alias already served the target), V(shifted) (in check mode, would shift),
          V(rolled_back) (an alarm fired; the alias serves the previous version), V(not_retried) (the target was
          rolled back before, see O(retry_rolled_back)).
      type: str
    steps:
      description: The percentages of the traffic sent to the target, step by step (planned, in check mode).
      type: list
      elements: int
    alarm:
      description: The alarms in ALARM that rolled the function back; empty otherwise.
      type: list
      elements: str
diff:
  description: One entry per function that moves, with its alias before and the plan after.
  returned: in diff mode
  type: list
  elements: dict
  sample:
    - before_header: tasks-api-prod-list
      after_header: tasks-api-prod-list
      before: {alias: live -> 4}
      after: {alias: "live -> 4, 10% to 5 for 300 s, then 100% to 5"}
"""

import time

try:
    from botocore.exceptions import BotoCoreError, ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.serverless.tasks_api.plugins.module_utils.lambda_alias import (
    base_description,
    compose_description,
    highest_version,
    list_versions,
    previous_version,
    rolled_back_version,
)
from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff

ALARMS_PER_CALL = 100
ALARM = "ALARM"


class Clock:
    """Real time; the unit tests replace it with a clock that advances when slept."""

    def now(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)


# The AWS calls, retried on throttling (the client's decorator) and while an update of the function is in progress.


def get_alias(client, name, alias):
    return client.get_alias(aws_retry=True, FunctionName=name, Name=alias)


@jittered_backoff("ResourceConflictException")
def update_alias(client, name, alias, version, weights, description=None):
    params = {
        "FunctionName": name,
        "Name": alias,
        "FunctionVersion": version,
        "RoutingConfig": {"AdditionalVersionWeights": weights},
    }
    if description is not None:
        params["Description"] = description
    return client.update_alias(**params)


def alarm_states(client, names):
    """{alarm name: state} of the metric and composite alarms among ``names`` that exist."""
    states = {}
    for start in range(0, len(names), ALARMS_PER_CALL):
        found = client.describe_alarms(
            aws_retry=True,
            AlarmNames=names[start : start + ALARMS_PER_CALL],
            AlarmTypes=["MetricAlarm", "CompositeAlarm"],
        )
        for alarm in found.get("MetricAlarms", []) + found.get("CompositeAlarms", []):
            states[alarm["AlarmName"]] = alarm["StateValue"]
    return states


# The plan


def planned_steps(strategy):
    """The percentages of the traffic sent to the target, step by step; the last is always 100."""
    if strategy["type"] == "canary":
        return [strategy["percent"], 100]
    if strategy["type"] == "linear":
        return [*range(strategy["percent"], 100, strategy["percent"]), 100]
    return [100]


def routing_weights(alias):
    return ((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")) or {}


def describe_plan(alias, previous, target, steps, interval):
    """How the diff shows a shift: ``live -> 4, 10% to 5 for 300 s, then 100% to 5``."""
    parts = [f"{alias} -> {previous}"]
    for index, percent in enumerate(steps):
        then = "then " if index else ""
        watched = f" for {interval} s" if percent < 100 else ""
        parts.append(f"{then}{percent}% to {target}{watched}")
    return ", ".join(parts)


def check_strategy(name, strategy):
    """The problem with a function's strategy, or None."""
    if strategy["type"] == "all_at_once":
        return None
    percent, interval = strategy.get("percent"), strategy.get("interval_seconds")
    if percent is None or not 1 <= percent <= 99:
        return f"{name}: strategy {strategy['type']} needs percent from 1 to 99, got {percent}"
    if interval is None or interval < 0:
        return f"{name}: strategy {strategy['type']} needs interval_seconds of 0 or more, got {interval}"
    return None


class Shift:
    """The shift of one function's alias: read, planned, then moved step by step on the module's clock."""

    def __init__(self, client, module, wanted):
        self.client = client
        self.module = module
        self.name = wanted["name"]
        self.alias = wanted["alias"]
        self.target = wanted["version"]
        self.strategy = wanted["strategy"]
        self.alarm_names = wanted["alarm_names"]
        self.steps = []
        self.applied = []
        self.alarm = []
        self.outcome = "unchanged"
        self.previous = None
        self.served = None
        self.base = None
        self.already_in_alarm = False

    # Plan

    def plan(self):
        current = self.read()
        self.previous = self.served = current["FunctionVersion"]
        if self.target is None:
            self.target = self.version_before(current)
        given = self.module.params["description"]
        self.base = base_description(current.get("Description") if given is None else given)
        weights = routing_weights(current)
        if self.previous == self.target and not weights:
            return
        if (
            rolled_back_version(current.get("Description")) == self.target
            and not self.module.params["retry_rolled_back"]
        ):
            self.outcome = "not_retried"
            self.module.warn(
                f"Alias {self.alias} of function {self.name} stays at version {self.previous}: version {self.target}"
                " was rolled back. Change the code or the configuration to publish another version, or retry it"
                " (retry_rolled_back, functions_retry_failed=true in the functions role)"
            )
            return
        self.outcome = "shifted"
        if self.previous == self.target:
            self.steps = [100]  # only the routing to clear
            return
        already = round(float(weights.get(self.target, 0)) * 100, 6)
        self.steps = [step for step in planned_steps(self.strategy) if step > already] or [100]

    def version_before(self, current):
        """The version of the alias's ``[previous version P]`` marker, else the highest published one below it."""
        serving = current["FunctionVersion"]
        marked = previous_version(current.get("Description"))
        if marked is not None and marked != serving:
            return marked
        try:
            older = highest_version(list_versions(self.client, self.name), below=serving)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to list the versions of function {self.name}")
        if older is None:
            self.module.fail_json(
                msg=f"Function {self.name} has no published version before version {serving} to move alias"
                f" {self.alias} back to; give the version"
            )
        return older

    def read(self):
        try:
            return get_alias(self.client, self.name, self.alias)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(
                e, msg=f"Failed to get alias {self.alias} of function {self.name}; deploy the function first"
            )

    @property
    def moving(self):
        return self.outcome == "shifted"

    @property
    def watched(self):
        """Whether the alarms of this function matter now: traffic split, or about to be."""
        return self.moving and self.steps[0] < 100 and bool(self.alarm_names)

    def schedule(self):
        """(seconds after the start, percent) of each step."""
        interval = self.strategy.get("interval_seconds") or 0
        return [(index * interval, percent) for index, percent in enumerate(self.steps)]

    # Moves

    def step_to(self, percent):
        if percent >= 100:
            description = (
                compose_description(self.base, rolled_back=self.previous)
                if self.module.params["mark_rolled_back"]
                else compose_description(self.base, previous=self.previous)
            )
            if self.previous == self.target:
                description = compose_description(self.base)
            self.write(self.target, {}, description)
            self.served = self.target
        else:
            self.write(self.previous, {self.target: percent / 100})
        self.applied.append(percent)

    def roll_back(self, alarms):
        self.alarm = sorted(alarms)
        self.outcome = "rolled_back"
        self.write(self.previous, {}, compose_description(self.base, rolled_back=self.target))
        self.served = self.previous

    def write(self, version, weights, description=None):
        try:
            update_alias(self.client, self.name, self.alias, version, weights, description)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(
                e, msg=f"Failed to point alias {self.alias} of function {self.name} at version {version}"
            )

    # Output

    def result(self):
        return {
            "name": self.name,
            "previous_version": self.previous,
            "target_version": self.target,
            "alias_version": self.served,
            "outcome": self.outcome,
            "steps": self.applied if not self.module.check_mode else self.steps,
            "alarm": self.alarm,
        }

    def diff(self):
        interval = self.strategy.get("interval_seconds") or 0
        return {
            "before_header": self.name,
            "after_header": self.name,
            "before": {"alias": f"{self.alias} -> {self.previous}"},
            "after": {"alias": describe_plan(self.alias, self.previous, self.target, self.steps, interval)},
        }


class Watch:
    """The alarms of the shifting functions, read together; an alarm that does not exist is reported once."""

    def __init__(self, client, module):
        self.client = client
        self.module = module
        self.reported_missing = set()

    def firing(self, shifts):
        """{shift: [its alarms in ALARM]} among ``shifts``."""
        names = sorted({name for shift in shifts for name in shift.alarm_names})
        if not names:
            return {}
        try:
            states = alarm_states(self.client, names)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg="Failed to read the state of the alarms watched during the shift")
        self.report_missing([name for name in names if name not in states])
        found = {shift: [name for name in shift.alarm_names if states.get(name) == ALARM] for shift in shifts}
        return {shift: alarms for shift, alarms in found.items() if alarms}

    def report_missing(self, missing):
        new = [name for name in missing if name not in self.reported_missing]
        if new:
            self.reported_missing.update(new)
            self.module.warn(
                f"The alarms {', '.join(new)} do not exist, so the shift does not watch them; converge the monitoring"
                " role, or fix the alarm names"
            )


def run_shifts(shifts, watch, clock, poll_seconds):
    """Move every shift on one clock: apply the steps that are due, watch the split ones, roll back on ALARM."""
    start = clock.now()
    pending = {shift: shift.schedule() for shift in shifts}
    for shift, alarms in watch.firing([shift for shift in shifts if shift.watched]).items():
        shift.already_in_alarm = True
        shift.roll_back(alarms)
        pending.pop(shift)
    while pending:
        elapsed = clock.now() - start
        for shift in list(pending):
            while pending[shift] and pending[shift][0][0] <= elapsed:
                shift.step_to(pending[shift].pop(0)[1])
            if not pending[shift]:
                pending.pop(shift)
        if not pending:
            return
        next_step = min(steps[0][0] for steps in pending.values())
        clock.sleep(max(0, min(poll_seconds, next_step - (clock.now() - start))))
        for shift, alarms in watch.firing([shift for shift in pending if shift.alarm_names]).items():
            shift.roll_back(alarms)
            pending.pop(shift)


def rollback_message(rolled_back):
    lines = []
    for shift in rolled_back:
        when = "was already in ALARM when the shift started" if shift.already_in_alarm else "went into ALARM"
        lines.append(
            f"function {shift.name}: alarm {', '.join(shift.alarm)} {when}, so alias {shift.alias} was moved back"
            f" to version {shift.previous}; version {shift.target} stays published but unused"
        )
    return (
        "Traffic shift rolled back: "
        + "; ".join(lines)
        + ". Fix the cause and deploy a new change, or retry the same version with retry_rolled_back"
        " (-e functions_retry_failed=true)"
    )


def main():
    strategy_spec = dict(
        type=dict(type="str", choices=["all_at_once", "canary", "linear"], default="all_at_once"),
        percent=dict(type="int"),
        interval_seconds=dict(type="int"),
    )
    function_spec = dict(
        name=dict(type="str", required=True),
        alias=dict(type="str", required=True),
        version=dict(type="str"),
        strategy=dict(type="dict", options=strategy_spec, default={"type": "all_at_once"}),
        alarm_names=dict(type="list", elements="str", default=[]),
    )
    argument_spec = dict(
        functions=dict(type="list", elements="dict", required=True, options=function_spec),
        poll_seconds=dict(type="int", default=30),
        retry_rolled_back=dict(type="bool", default=False),
        description=dict(type="str"),
        mark_rolled_back=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    problems = [check_strategy(wanted["name"], wanted["strategy"]) for wanted in module.params["functions"]]
    problems = [problem for problem in problems if problem]
    if module.params["poll_seconds"] < 1:
        problems.append(f"poll_seconds must be 1 or more, got {module.params['poll_seconds']}")
    if problems:
        module.fail_json(msg="; ".join(problems))

    client = module.client("lambda", retry_decorator=jittered_backoff())
    shifts = [Shift(client, module, wanted) for wanted in module.params["functions"]]
    for shift in shifts:
        shift.plan()
    moving = [shift for shift in shifts if shift.moving]
    if moving and not module.check_mode:
        cloudwatch = module.client("cloudwatch", retry_decorator=jittered_backoff())
        run_shifts(moving, Watch(cloudwatch, module), Clock(), module.params["poll_seconds"])

    result = {
        "changed": bool(moving),
        "functions": {shift.name: shift.result() for shift in shifts},
    }
    if module._diff:
        result["diff"] = [shift.diff() for shift in moving]
    rolled_back = [shift for shift in shifts if shift.outcome == "rolled_back"]
    if rolled_back:
        module.fail_json(msg=rollback_message(rolled_back), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
