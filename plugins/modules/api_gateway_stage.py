#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: api_gateway_stage
version_added: 1.0.0
short_description: Converge a stage of an API Gateway REST API with tracing, access logs, throttling and metrics
description:
  - Creates, updates or deletes one stage of a REST API, found by the API ID and the stage name.
  - The stage points at O(deployment_id) and carries X-Ray tracing, JSON access logs, throttling, CloudWatch
    metrics, execution logging and stage variables. Throttling, metrics and logging are set for all methods
    of the stage (the C(*/*) method settings); settings of individual methods are left alone.
  - An existing stage is read with C(GetStage) and only the settings that differ are sent, in one C(UpdateStage)
    call, so a run with the same settings changes nothing.
  - Caching, canary settings, the client certificate and the web ACL are left alone.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  rest_api_id:
    description:
      - The ID of the REST API the stage belongs to.
    required: true
    type: str
  name:
    description:
      - The name of the stage, the first segment of the invoke URL path, for example V(prod).
    required: true
    type: str
  deployment_id:
    description:
      - The ID of the deployment the stage serves. Required when O(state=present).
    type: str
  description:
    description:
      - The description of the stage.
    type: str
    default: ""
  tracing_enabled:
    description:
      - Whether X-Ray tracing is enabled for the stage.
    type: bool
    default: true
  access_log_destination_arn:
    description:
      - The ARN of the CloudWatch Logs log group (or of a Kinesis Data Firehose stream whose name starts with
        C(amazon-apigateway-)) that receives the access logs of the stage.
      - A trailing C(:*), as M(amazon.aws.cloudwatchlogs_log_group) reports log group ARNs, is removed.
      - When omitted or empty, access logging is turned off.
      - API Gateway writes to CloudWatch Logs only when the account settings of API Gateway name a CloudWatch
        Logs role (C(cloudwatchRoleArn)).
    type: str
  access_log_format:
    description:
      - The format of an access log line, with C($context) variables. It must contain C($context.requestId) or
        C($context.extendedRequestId).
      - The default writes one JSON object per request with the request IDs, the caller's IP address, the
        request time, method, resource path, status, protocol, response length, integration and response
        latency, the API key ID, the error message and the X-Ray trace ID.
      - Ignored when O(access_log_destination_arn) is omitted.
    type: str
    default:
      '{"requestId":"$context.requestId","extendedRequestId":"$context.extendedRequestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","integrationLatency":"$context.integrationLatency","responseLatency":"$context.responseLatency","apiKeyId":"$context.identity.apiKeyId","errorMessage":"$context.error.message","xrayTraceId":"$context.xrayTraceId"}'
  throttling_burst_limit:
    description:
      - The number of requests all methods of the stage may burst to.
    type: int
    default: 100
  throttling_rate_limit:
    description:
      - The steady number of requests per second all methods of the stage accept.
    type: float
    default: 50.0
  metrics_enabled:
    description:
      - Whether detailed CloudWatch metrics are enabled for all methods of the stage.
    type: bool
    default: true
  logging_level:
    description:
      - The execution logging level of all methods of the stage.
      - V(ERROR) and V(INFO) need a CloudWatch Logs role in the account settings of API Gateway, like access logs.
    type: str
    choices: ["OFF", "ERROR", "INFO"]
    default: ERROR
  data_trace_enabled:
    description:
      - Whether full requests and responses are written to the execution logs. They may contain personal data
        and secrets; keep it off in production.
    type: bool
    default: false
  variables:
    description:
      - The stage variables, names to values. Variables of the stage that are not listed are removed.
    type: dict
    default: {}
  tags:
    description:
      - A dictionary of tags to set on the stage.
      - When omitted, the tags of an existing stage are left alone.
    type: dict
    aliases: ["resource_tags"]
  purge_tags:
    description:
      - Whether tags of an existing stage that are not in O(tags) are removed. Tags starting with C(aws:) are kept.
      - Has no effect when O(tags) is omitted.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the stage, V(absent) deletes it.
      - With V(absent), a stage (or REST API) that does not exist is not an error.
    type: str
    choices: ["present", "absent"]
    default: present
notes:
  - The module reads the stage with C(GetStage); the credentials need C(apigateway:GET) even when nothing changes.
  - Throttling (C(TooManyRequestsException)) and concurrent changes (C(ConflictException)) are retried with
    backoff for about ten attempts.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Serve the latest deployment on the prod stage with tracing, access logs and throttling
  serverless.tasks_api.api_gateway_stage:
    rest_api_id: a1b2c3d4e5
    name: prod
    deployment_id: "{{ tasks_api.deployment_id }}"
    description: Tasks API, production
    access_log_destination_arn: arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/tasks-api-prod
    throttling_burst_limit: 200
    throttling_rate_limit: 100
    variables:
      alias: live
    tags:
      Environment: prod
  register: tasks_stage

- name: Turn access logging off and execution logging off on the dev stage
  serverless.tasks_api.api_gateway_stage:
    rest_api_id: a1b2c3d4e5
    name: dev
    deployment_id: "{{ tasks_api.deployment_id }}"
    logging_level: "OFF"

- name: Delete the stage
  serverless.tasks_api.api_gateway_stage:
    rest_api_id: a1b2c3d4e5
    name: dev
    state: absent
"""

RETURN = r"""
stage:
  description:
    - The stage as API Gateway describes it after the module ran.
    - Empty when O(state=absent), and when the stage would be created in check mode.
  returned: always
  type: dict
  contains:
    stage_name:
      description: The name of the stage.
      returned: when the stage exists
      type: str
      sample: prod
    deployment_id:
      description: The ID of the deployment the stage serves.
      returned: when the stage exists
      type: str
      sample: x1y2z3
    description:
      description: The description of the stage.
      returned: when the stage has one
      type: str
    tracing_enabled:
      description: Whether X-Ray tracing is enabled.
      returned: when the stage exists
      type: bool
      sample: true
    access_log_settings:
      description: Where access logs go and their format.
      returned: when access logging is on
      type: dict
      sample:
        destination_arn: arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/tasks-api-prod
        format: '{"requestId":"$context.requestId"}'
    method_settings:
      description:
        - The method settings by C(resource path/method); C(*/*) holds those of all methods.
      returned: when the stage exists
      type: dict
      sample:
        "*/*":
          throttling_burst_limit: 100
          throttling_rate_limit: 50.0
          metrics_enabled: true
          logging_level: ERROR
          data_trace_enabled: false
    variables:
      description: The stage variables, with their names as given.
      returned: when the stage exists
      type: dict
      sample: {"alias": "live"}
    tags:
      description: The tags of the stage.
      returned: when the stage exists
      type: dict
      sample: {"Environment": "prod"}
diff:
  description:
    - The managed settings before and after; C(before) is empty for a creation, C(after) for a deletion.
  returned: in diff mode
  type: dict
  sample:
    before: {}
    after:
      deployment_id: x1y2z3
      description: ""
      tracing_enabled: true
      access_log_destination_arn: null
      access_log_format: null
      throttling_burst_limit: 100
      throttling_rate_limit: 50.0
      metrics_enabled: true
      logging_level: ERROR
      data_trace_enabled: false
      variables: {}
      tags: {"Environment": "prod"}
"""

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.serverless.tasks_api.plugins.module_utils.api_gateway import (
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

DEFAULT_ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","extendedRequestId":"$context.extendedRequestId",'
    '"ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod",'
    '"resourcePath":"$context.resourcePath","status":"$context.status","protocol":"$context.protocol",'
    '"responseLength":"$context.responseLength","integrationLatency":"$context.integrationLatency",'
    '"responseLatency":"$context.responseLatency","apiKeyId":"$context.identity.apiKeyId",'
    '"errorMessage":"$context.error.message","xrayTraceId":"$context.xrayTraceId"}'
)
ALL_METHODS = "*/*"
TOP_LEVEL_PATHS = (
    ("deployment_id", "/deploymentId"),
    ("description", "/description"),
    ("tracing_enabled", "/tracingEnabled"),
)
ACCESS_LOG_PATHS = (
    ("access_log_destination_arn", "/accessLogSettings/destinationArn"),
    ("access_log_format", "/accessLogSettings/format"),
)
# The settings of all methods: field of the diff, patch path, key under methodSettings["*/*"].
METHOD_SETTINGS = (
    ("throttling_burst_limit", "/*/*/throttling/burstLimit", "throttlingBurstLimit"),
    ("throttling_rate_limit", "/*/*/throttling/rateLimit", "throttlingRateLimit"),
    ("metrics_enabled", "/*/*/metrics/enabled", "metricsEnabled"),
    ("logging_level", "/*/*/logging/loglevel", "loggingLevel"),
    ("data_trace_enabled", "/*/*/logging/dataTrace", "dataTraceEnabled"),
)
LOGGING_HINT = (
    "access logs and a logging_level other than OFF need a CloudWatch Logs role ARN in the API Gateway account"
    " settings (set it with serverless.tasks_api.api_gateway_account), and access_log_destination_arn must be an"
    " existing log group"
)


def get_stage(client, rest_api_id, name):
    try:
        stage = client.get_stage(aws_retry=True, restApiId=rest_api_id, stageName=name)
    except is_boto3_error_code("NotFoundException"):
        return None
    stage.pop("ResponseMetadata", None)
    return stage


def create_stage(client, params):
    stage = client.create_stage(aws_retry=True, **params)
    stage.pop("ResponseMetadata", None)
    return stage


def update_stage(client, rest_api_id, name, patches):
    client.update_stage(aws_retry=True, restApiId=rest_api_id, stageName=name, patchOperations=patches)


def delete_stage(client, rest_api_id, name):
    client.delete_stage(aws_retry=True, restApiId=rest_api_id, stageName=name)


def stage_arn(client, rest_api_id, name):
    return apigateway_arn(client, f"/restapis/{rest_api_id}/stages/{name}")


def describe_stage_name(module):
    return f"stage {module.params['name']} of REST API {module.params['rest_api_id']}"


def find_stage(client, module):
    msg = f"Failed to get {describe_stage_name(module)}"
    return call_or_fail(module, msg, get_stage, client, module.params["rest_api_id"], module.params["name"])


def patch_value(value):
    """A setting as the string a patch operation carries: true/false, 50 rather than 50.0, text as it is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def replace(path, value):
    return {"op": "replace", "path": path, "value": patch_value(value)}


def without_wildcard_suffix(arn):
    """A log group ARN as API Gateway wants it, without the trailing :* that CloudWatch Logs reports."""
    if arn and arn.endswith(":*"):
        return arn[:-2]
    return arn or None


def stage_state(stage):
    """The parts of a stage that the module manages, as shown in the diff."""
    settings = (stage.get("methodSettings") or {}).get(ALL_METHODS, {})
    access_logs = stage.get("accessLogSettings") or {}
    destination = access_logs.get("destinationArn") or None
    state = {
        "deployment_id": stage.get("deploymentId"),
        "description": stage.get("description") or "",
        "tracing_enabled": bool(stage.get("tracingEnabled", False)),
        "access_log_destination_arn": destination,
        "access_log_format": access_logs.get("format") if destination else None,
    }
    state.update({field: settings.get(key) for field, _path, key in METHOD_SETTINGS})
    state["variables"] = dict(stage.get("variables") or {})
    state["tags"] = plain_tags(stage)
    return state


def desired_state(module, current):
    params = module.params
    destination = without_wildcard_suffix(params["access_log_destination_arn"])
    return {
        "deployment_id": params["deployment_id"],
        "description": params["description"],
        "tracing_enabled": params["tracing_enabled"],
        "access_log_destination_arn": destination,
        "access_log_format": params["access_log_format"] if destination else None,
        "throttling_burst_limit": params["throttling_burst_limit"],
        "throttling_rate_limit": float(params["throttling_rate_limit"]),
        "metrics_enabled": params["metrics_enabled"],
        "logging_level": params["logging_level"],
        "data_trace_enabled": params["data_trace_enabled"],
        "variables": {name: str(value) for name, value in params["variables"].items()},
        "tags": desired_tags(module, current.get("tags", {})),
    }


def access_log_patches(current, desired):
    if desired["access_log_destination_arn"] is None:
        return [{"op": "remove", "path": "/accessLogSettings"}] if current["access_log_destination_arn"] else []
    return [replace(path, desired[field]) for field, path in ACCESS_LOG_PATHS if current[field] != desired[field]]


def variable_patches(current, desired):
    patches = [
        replace(f"/variables/{name}", value) for name, value in sorted(desired.items()) if current.get(name) != value
    ]
    patches += [{"op": "remove", "path": f"/variables/{name}"} for name in sorted(current) if name not in desired]
    return patches


def stage_patches(current, desired):
    """The UpdateStage patch operations for the settings that differ, empty when none does."""
    patches = [replace(path, desired[field]) for field, path in TOP_LEVEL_PATHS if current[field] != desired[field]]
    patches += access_log_patches(current, desired)
    patches += [
        replace(path, desired[field]) for field, path, _key in METHOD_SETTINGS if current[field] != desired[field]
    ]
    patches += variable_patches(current["variables"], desired["variables"])
    return patches


def create_params(module, desired):
    params = {
        "restApiId": module.params["rest_api_id"],
        "stageName": module.params["name"],
        "deploymentId": desired["deployment_id"],
        "description": desired["description"],
        "tracingEnabled": desired["tracing_enabled"],
        "variables": desired["variables"],
    }
    if desired["tags"]:
        params["tags"] = desired["tags"]
    return params


def create_new_stage(client, module, desired):
    msg = (
        f"Failed to create {describe_stage_name(module)}; check that the REST API exists in this region"
        f" and that deployment {desired['deployment_id']} belongs to it"
    )
    return call_or_fail(module, msg, create_stage, client, create_params(module, desired))


def update_hints(module, patches):
    """What to check when UpdateStage refuses these patches."""
    paths = [patch["path"] for patch in patches]
    hints = []
    if "/deploymentId" in paths:
        hints.append(f"check that deployment {module.params['deployment_id']} belongs to the REST API")
    if any(path.startswith("/accessLogSettings") or path.endswith("/logging/loglevel") for path in paths):
        hints.append(LOGGING_HINT)
    return "; ".join(hints) or "check the values of the options"


def apply_patches(client, module, patches):
    try:
        update_stage(client, module.params["rest_api_id"], module.params["name"], patches)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        paths = ", ".join(patch["path"] for patch in patches)
        module.fail_json_aws(
            e,
            msg=f"Failed to update {paths} of {describe_stage_name(module)}; {update_hints(module, patches)}",
            patch_operations=patches,
        )


def remove_stage(client, module):
    """Delete the stage; return False when it was already gone."""
    if module.check_mode:
        return True
    msg = (
        f"Failed to delete {describe_stage_name(module)}; if a usage plan still lists the stage, remove it"
        " from the plan first (serverless.tasks_api.api_gateway_usage_plan api_stages)"
    )
    return delete_unless_gone(module, msg, delete_stage, client, module.params["rest_api_id"], module.params["name"])


def snake_result(stage):
    """A stage as the module returns it: snake_case keys, variables and tags with their names as given."""
    method_settings = stage.get("methodSettings") or {}
    result = snake_dict(stage, leave_out=("variables", "tags", "methodSettings"))
    result["method_settings"] = {path: camel_dict_to_snake_dict(settings) for path, settings in method_settings.items()}
    result["variables"] = dict(stage.get("variables") or {})
    result["tags"] = plain_tags(stage)
    return result


def describe_result(client, module):
    stage = find_stage(client, module)
    if stage is None:
        module.fail_json(msg=f"{describe_stage_name(module).capitalize()} disappeared while the module converged it")
    return snake_result(stage)


def ensure_present(client, module, stage):
    """Return (changed, stage result, before, after)."""
    if stage is None:
        after = desired_state(module, {})
        if module.check_mode:
            return True, {}, {}, after
        created = create_new_stage(client, module, after)
        patches = stage_patches(stage_state(created), after)
        if patches:
            apply_patches(client, module, patches)
        return True, describe_result(client, module), {}, after
    before = stage_state(stage)
    after = desired_state(module, before)
    patches = stage_patches(before, after)
    if patches and not module.check_mode:
        apply_patches(client, module, patches)
    changed = bool(patches)
    arn = stage_arn(client, module.params["rest_api_id"], module.params["name"])
    changed |= update_tags(client, module, arn, before["tags"], describe_stage_name(module))
    if changed and not module.check_mode:
        return changed, describe_result(client, module), before, after
    return changed, snake_result(stage), before, after


def ensure_absent(client, module, stage):
    """Return (changed, stage result, before, after)."""
    if stage is None:
        return False, {}, {}, {}
    return remove_stage(client, module), {}, stage_state(stage), {}


def main():
    argument_spec = dict(
        rest_api_id=dict(type="str", required=True),
        name=dict(type="str", required=True),
        deployment_id=dict(type="str"),
        description=dict(type="str", default=""),
        tracing_enabled=dict(type="bool", default=True),
        access_log_destination_arn=dict(type="str"),
        access_log_format=dict(type="str", default=DEFAULT_ACCESS_LOG_FORMAT),
        throttling_burst_limit=dict(type="int", default=100),
        throttling_rate_limit=dict(type="float", default=50.0),
        metrics_enabled=dict(type="bool", default=True),
        logging_level=dict(type="str", choices=["OFF", "ERROR", "INFO"], default="ERROR"),
        data_trace_enabled=dict(type="bool", default=False),
        variables=dict(type="dict", default={}),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["deployment_id"])],
    )

    client = apigateway_client(module)

    stage = find_stage(client, module)
    if module.params["state"] == "present":
        changed, result_stage, before, after = ensure_present(client, module, stage)
    else:
        changed, result_stage, before, after = ensure_absent(client, module, stage)

    exit_with_diff(module, before, after, changed=changed, stage=result_stage)


if __name__ == "__main__":
    main()
