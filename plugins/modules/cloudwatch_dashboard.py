#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: cloudwatch_dashboard
version_added: 1.0.0
short_description: Converge a CloudWatch dashboard from its body given as data
description:
  - Creates, updates or deletes one CloudWatch dashboard, found by its name.
  - The body is given as data (a dictionary), not as a JSON string. The current body is read with
    C(GetDashboard) and compared as parsed JSON, so the order of keys and the spacing of the stored text do not
    count as a difference; C(PutDashboard) is called only when the content really differs.
  - Problems that CloudWatch reports about a body it accepted (C(DashboardValidationMessages)) are returned as
    warnings; a body it rejects fails the task with CloudWatch's validation messages.
  - This module supports check mode and diff mode; the diff shows the bodies before and after.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  name:
    description:
      - The name of the dashboard. Up to 255 letters, digits, dashes and underscores.
    required: true
    type: str
  body:
    description:
      - The dashboard body as data, with the C(widgets) list and optionally C(start), C(end),
        C(periodOverride) and the other top-level fields of the dashboard body structure
        (U(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)).
      - The module sends it as compact JSON with sorted keys.
      - Required when O(state=present).
    type: dict
  state:
    description:
      - V(present) creates or updates the dashboard, V(absent) deletes it.
      - With V(absent), a dashboard that does not exist is not an error.
    type: str
    choices: ["present", "absent"]
    default: present
notes:
  - The module reads the dashboard with C(GetDashboard); the credentials need C(cloudwatch:GetDashboard) even when
    nothing changes.
  - Throttling is retried with backoff for about ten attempts.
  - Tags of the dashboard are not managed.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Show the errors and throttles of the tasks functions on the tasks-api-prod dashboard
  serverless.tasks_api.cloudwatch_dashboard:
    name: tasks-api-prod
    body:
      widgets:
        - type: metric
          x: 0
          y: 0
          width: 12
          height: 6
          properties:
            title: Lambda errors and throttles
            region: us-east-1
            stat: Sum
            period: 300
            metrics:
              - ["AWS/Lambda", "Errors", "FunctionName", "tasks-api-prod-list-tasks"]
              - ["AWS/Lambda", "Throttles", "FunctionName", "tasks-api-prod-list-tasks"]
        - type: text
          x: 12
          y: 0
          width: 12
          height: 6
          properties:
            markdown: "Runbook: https://wiki.example.com/tasks-api"
  register: tasks_dashboard

- name: Build the body from a template of the role
  serverless.tasks_api.cloudwatch_dashboard:
    name: tasks-api-dev
    body: "{{ lookup('ansible.builtin.template', 'dashboard.json.j2') | from_json }}"

- name: Delete the dashboard
  serverless.tasks_api.cloudwatch_dashboard:
    name: tasks-api-dev
    state: absent
"""

RETURN = r"""
dashboard:
  description:
    - The dashboard as CloudWatch describes it after the module ran.
    - Empty when O(state=absent), and when the dashboard would be created in check mode.
  returned: always
  type: dict
  contains:
    name:
      description: The name of the dashboard.
      returned: when the dashboard exists
      type: str
      sample: tasks-api-prod
    arn:
      description: The ARN of the dashboard.
      returned: when the dashboard exists
      type: str
      sample: arn:aws:cloudwatch::123456789012:dashboard/tasks-api-prod
    body:
      description: The body of the dashboard, parsed.
      returned: when the dashboard exists
      type: dict
      sample:
        widgets:
          - {"type": "text", "x": 0, "y": 0, "width": 6, "height": 3, "properties": {"markdown": "Tasks API"}}
diff:
  description:
    - The dashboard bodies before and after; C(before) is empty for a creation, C(after) for a deletion.
  returned: in diff mode
  type: dict
  sample:
    before_header: dashboard tasks-api-prod
    after_header: dashboard tasks-api-prod
    before: {"widgets": []}
    after:
      widgets:
        - {"type": "text", "x": 0, "y": 0, "width": 6, "height": 3, "properties": {"markdown": "Tasks API"}}
"""

import json

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff

BODY_HINT = (
    "check the body against the dashboard body structure"
    " (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)"
)


def get_dashboard(client, name):
    try:
        dashboard = client.get_dashboard(aws_retry=True, DashboardName=name)
    except is_boto3_error_code("ResourceNotFound"):
        return None
    dashboard.pop("ResponseMetadata", None)
    return dashboard


def put_dashboard(client, name, body_text):
    """Store the body; return CloudWatch's validation messages about the body it accepted."""
    response = client.put_dashboard(aws_retry=True, DashboardName=name, DashboardBody=body_text)
    return response.get("DashboardValidationMessages") or []


def delete_dashboard(client, name):
    client.delete_dashboards(aws_retry=True, DashboardNames=[name])


def body_text(body):
    """The body as the JSON text sent to CloudWatch: compact, keys sorted, so the same data gives the same text."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def as_json_data(body):
    """The body as it reads back from JSON (tuples become lists, keys strings), for comparing."""
    return json.loads(body_text(body))


def stored_body(dashboard):
    return json.loads(dashboard["DashboardBody"])


def validation_text(messages):
    """CloudWatch's validation messages as one line: 'path: message; path: message'."""
    return "; ".join(f"{message.get('DataPath', '/')}: {message.get('Message', '')}" for message in messages)


def rejected_body_messages(error):
    """The validation messages of a PutDashboard refusal, wherever the protocol put them."""
    response = getattr(error, "response", None) or {}
    return response.get("dashboardValidationMessages") or response.get("DashboardValidationMessages") or []


def find_dashboard(client, module):
    try:
        return get_dashboard(client, module.params["name"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to get dashboard {module.params['name']}")


def write_dashboard(client, module, body):
    name = module.params["name"]
    try:
        messages = put_dashboard(client, name, body_text(body))
    except is_boto3_error_code("InvalidParameterInput") as e:
        messages = rejected_body_messages(e)
        details = f": {validation_text(messages)}" if messages else ""
        module.fail_json_aws(e, msg=f"CloudWatch rejected the body of dashboard {name}{details}; {BODY_HINT}")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to put dashboard {name}")
    for message in messages:
        module.warn(f"Dashboard {name}: {validation_text([message])}")


def remove_dashboard(client, module):
    """Delete the dashboard; return False when it was already gone."""
    if module.check_mode:
        return True
    try:
        delete_dashboard(client, module.params["name"])
    except is_boto3_error_code("ResourceNotFound"):
        return False
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to delete dashboard {module.params['name']}")
    return True


def dashboard_result(dashboard):
    return {"name": dashboard["DashboardName"], "arn": dashboard["DashboardArn"], "body": stored_body(dashboard)}


def describe_result(client, module):
    dashboard = find_dashboard(client, module)
    if dashboard is None:
        module.fail_json(msg=f"Dashboard {module.params['name']} disappeared while the module converged it")
    return dashboard_result(dashboard)


def ensure_present(client, module, dashboard):
    """Return (changed, dashboard result, body before, body after)."""
    after = as_json_data(module.params["body"])
    before = stored_body(dashboard) if dashboard else {}
    if dashboard is not None and before == after:
        return False, dashboard_result(dashboard), before, after
    if module.check_mode:
        return True, dashboard_result(dashboard) if dashboard else {}, before, after
    write_dashboard(client, module, after)
    return True, describe_result(client, module), before, after


def ensure_absent(client, module, dashboard):
    """Return (changed, dashboard result, body before, body after)."""
    if dashboard is None:
        return False, {}, {}, {}
    return remove_dashboard(client, module), {}, stored_body(dashboard), {}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        body=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["body"])],
    )

    client = module.client("cloudwatch", retry_decorator=jittered_backoff())

    dashboard = find_dashboard(client, module)
    if module.params["state"] == "present":
        changed, result_dashboard, before, after = ensure_present(client, module, dashboard)
    else:
        changed, result_dashboard, before, after = ensure_absent(client, module, dashboard)

    result = {"changed": changed, "dashboard": result_dashboard}
    if module._diff:
        header = f"dashboard {module.params['name']}"
        result["diff"] = {"before_header": header, "after_header": header, "before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
