#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: lambda_function
version_added: 0.1.0
short_description: Converge a Lambda function whose code is a zip in S3, and publish a version when it changed
description:
  - Creates, updates or deletes one Lambda function, found by its name. Its code is a zip package in S3.
  - The code is updated only when O(code_sha256) or O(architecture) differ from what Lambda reports, so a run
    with the same package changes nothing.
  - Unlike M(amazon.aws.lambda), a version is published whenever the code or the configuration changed, so an
    alias pointed at RV(function.version) serves the new configuration too; nothing is published otherwise.
  - The module also manages reserved concurrency, and retries the errors AWS returns while a new IAM role
    propagates and while an earlier update of the function is in progress.
  - Layers, the dead letter queue, KMS encryption of the environment, ephemeral storage and other settings not
    listed here are left alone.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers
options:
  name:
    description:
      - The name of the function.
    required: true
    type: str
  role_arn:
    description:
      - The ARN of the IAM role the function runs as. Required when O(state=present).
    type: str
  runtime:
    description:
      - The runtime of the function.
    type: str
    default: python3.12
  handler:
    description:
      - The function in the package that Lambda calls, for example V(app.handler). Required when O(state=present).
    type: str
  architecture:
    description:
      - The instruction set architecture of the function. Changing it updates the code.
    type: str
    choices: ["x86_64", "arm64"]
    default: arm64
  s3_bucket:
    description:
      - The S3 bucket that holds the zip package.
      - Required to create the function. When O(s3_bucket), O(s3_key) and O(code_sha256) are omitted, the code of
        an existing function is left alone.
    type: str
  s3_key:
    description:
      - The key of the zip package in O(s3_bucket).
    type: str
  code_sha256:
    description:
      - The SHA-256 digest of the zip package, base64 encoded, as Lambda reports it in C(CodeSha256).
      - The code is updated only when this differs from the deployed code. It is also passed to C(PublishVersion),
        which fails when the deployed package is not the one described.
    type: str
  memory_size:
    description:
      - The memory of the function in MB.
    type: int
    default: 256
  timeout:
    description:
      - The number of seconds the function may run.
    type: int
    default: 10
  environment:
    description:
      - The environment variables of the function. Variables not listed are removed.
    type: dict
    default: {}
  subnet_ids:
    description:
      - The IDs of the subnets the function runs in. Empty for a function outside any VPC.
    type: list
    elements: str
    default: []
  security_group_ids:
    description:
      - The IDs of the security groups of the function in its VPC.
    type: list
    elements: str
    default: []
  tracing_mode:
    description:
      - The X-Ray tracing mode.
    type: str
    choices: ["Active", "PassThrough"]
    default: Active
  reserved_concurrency:
    description:
      - The number of concurrent executions reserved for the function.
      - When omitted or null, any reserved concurrency is removed.
    type: int
  description:
    description:
      - The description of the function.
    type: str
    default: ""
  tags:
    description:
      - A dictionary of tags to set on the function.
      - When omitted, the tags of an existing function are left alone.
    type: dict
    aliases: ["resource_tags"]
  purge_tags:
    description:
      - Whether tags of an existing function that are not in O(tags) are removed. Tags starting with C(aws:) are
        kept.
      - Has no effect when O(tags) is omitted.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the function, V(absent) deletes it and all its versions.
      - With V(absent), a function that does not exist is not an error.
    type: str
    choices: ["present", "absent"]
    default: present
  role_propagation_timeout:
    description:
      - How many seconds C(CreateFunction) is retried, with exponential backoff up to 10 seconds apart, while Lambda
        reports that it cannot assume O(role_arn), which happens for a while after the role was created.
    type: int
    default: 120
notes:
  - The module reads the function with C(GetFunction) and C(ListVersionsByFunction); the credentials need these
    permissions even when nothing changes.
  - C(ResourceConflictException) (an update is in progress) is retried with backoff for about ten attempts.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Deploy the tasks API function from its package in S3
  serverless.tasks_api.lambda_function:
    name: tasks-api-prod-tasks
    role_arn: arn:aws:iam::123456789012:role/tasks-api-prod-lambda
    handler: app.handler
    s3_bucket: tasks-api-prod-artifacts
    s3_key: tasks/2f6c1a.zip
    code_sha256: m6Bscu20JaexAgLFzx2+3wV1Qu5Kp1LHVTfwm6j6fWM=
    memory_size: 512
    environment:
      TABLE_NAME: tasks-api-prod-tasks
    subnet_ids: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
    security_group_ids: ["sg-0123456789abcdef0"]
    reserved_concurrency: 50
    tags:
      Environment: prod
  register: tasks_function

- name: Point the live alias at the published version
  amazon.aws.lambda_alias:
    function_name: tasks-api-prod-tasks
    name: live
    function_version: "{{ tasks_function.function.version }}"

- name: Delete the function and its versions
  serverless.tasks_api.lambda_function:
    name: tasks-api-prod-tasks
    state: absent
"""

RETURN = r"""
function:
  description:
    - The configuration of the function as Lambda describes it after the module ran, with its tags.
    - Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    function_name:
      description: The name of the function.
      returned: when the function exists
      type: str
      sample: tasks-api-prod-tasks
    function_arn:
      description: The unqualified ARN of the function.
      returned: when the function exists
      type: str
      sample: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-tasks
    role:
      description: The ARN of the role of the function.
      returned: when the function exists
      type: str
    handler:
      description: The handler of the function.
      returned: when the function exists
      type: str
      sample: app.handler
    runtime:
      description: The runtime of the function.
      returned: when the function exists
      type: str
      sample: python3.12
    architectures:
      description: The architecture of the function.
      returned: when the function exists
      type: list
      elements: str
      sample: ["arm64"]
    memory_size:
      description: The memory of the function in MB.
      returned: when the function exists
      type: int
      sample: 256
    timeout:
      description: The timeout of the function in seconds.
      returned: when the function exists
      type: int
      sample: 10
    environment:
      description: The environment variables, under C(variables), with their names as given.
      returned: when the function has environment variables
      type: dict
      sample: {"variables": {"TABLE_NAME": "tasks-api-prod-tasks"}}
    vpc_config:
      description: The subnets and security groups of the function.
      returned: when the function exists
      type: dict
    tracing_config:
      description: The tracing mode of the function.
      returned: when the function exists
      type: dict
      sample: {"mode": "Active"}
    code_sha256:
      description: The base64 SHA-256 digest of the deployed package.
      returned: when the function exists
      type: str
      sample: m6Bscu20JaexAgLFzx2+3wV1Qu5Kp1LHVTfwm6j6fWM=
    version:
      description:
        - The version published by this run, or else the latest published version, to point an alias at.
        - Null in check mode for a function that does not exist yet, and when no version was ever published.
      returned: when the function exists or would be created
      type: str
      sample: "3"
    reserved_concurrency:
      description: The reserved concurrency of the function, or null when none is reserved.
      returned: when the function exists
      type: int
      sample: 50
    tags:
      description: The tags of the function.
      returned: when the function exists
      type: dict
      sample: {"Environment": "prod"}
new_version:
  description:
    - Whether this run published a version (in check mode, whether a real run would), that is whether the function
      was created or its code or configuration changed. A change of tags or reserved concurrency alone publishes
      nothing. An alias that follows the function moves when this is true.
  returned: always
  type: bool
  sample: true
diff:
  description:
    - The managed properties before and after; C(before) is empty for a creation, C(after) for a deletion.
  returned: in diff mode
  type: dict
  sample:
    before: {}
    after:
      role: arn:aws:iam::123456789012:role/tasks-api-prod-lambda
      handler: app.handler
      runtime: python3.12
      memory_size: 256
      timeout: 10
      description: ""
      environment: {"TABLE_NAME": "tasks-api-prod-tasks"}
      subnet_ids: []
      security_group_ids: []
      tracing_mode: Active
      architecture: arm64
      code_sha256: m6Bscu20JaexAgLFzx2+3wV1Qu5Kp1LHVTfwm6j6fWM=
      reserved_concurrency: null
      tags: {"Environment": "prod"}
"""

import time

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code, normalize_boto3_result
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff
from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import desired_tags

ROLE_NOT_ASSUMABLE = "cannot be assumed by Lambda"
MAX_ROLE_DELAY = 10
WAIT_DELAY = 1
WAIT_ATTEMPTS = 300
CONFIGURATION_FIELDS = (
    "role",
    "handler",
    "runtime",
    "memory_size",
    "timeout",
    "description",
    "environment",
    "subnet_ids",
    "security_group_ids",
    "tracing_mode",
)
CONFLICT_HINT = (
    "an update of the function was still in progress after repeated retries; another deployment may be changing"
    " it, so wait for it to finish and run again"
)


def get_function(client, name):
    try:
        return client.get_function(aws_retry=True, FunctionName=name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


@jittered_backoff()
def list_versions(client, name):
    paginator = client.get_paginator("list_versions_by_function")
    return paginator.paginate(FunctionName=name).build_full_result()["Versions"]


def create_function(client, params):
    return client.create_function(aws_retry=True, **params)


@jittered_backoff("ResourceConflictException")
def update_configuration(client, name, change):
    """UpdateFunctionConfiguration, retried while an earlier update is in progress."""
    client.update_function_configuration(FunctionName=name, **change)


@jittered_backoff("ResourceConflictException")
def update_code(client, name, change):
    """UpdateFunctionCode, retried while an earlier update is in progress."""
    return client.update_function_code(FunctionName=name, **change)


@jittered_backoff("ResourceConflictException")
def publish_version(client, name, code_sha256):
    """PublishVersion, retried while an update is in progress."""
    return client.publish_version(FunctionName=name, CodeSha256=code_sha256)["Version"]


def put_concurrency(client, name, value):
    client.put_function_concurrency(aws_retry=True, FunctionName=name, ReservedConcurrentExecutions=value)


def delete_concurrency(client, name):
    client.delete_function_concurrency(aws_retry=True, FunctionName=name)


def tag_function(client, arn, tags):
    client.tag_resource(aws_retry=True, Resource=arn, Tags=tags)


def untag_function(client, arn, keys):
    client.untag_resource(aws_retry=True, Resource=arn, TagKeys=keys)


def delete_function(client, name):
    client.delete_function(aws_retry=True, FunctionName=name)


def find_function(client, module):
    try:
        return get_function(client, module.params["name"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to get function {module.params['name']}")


def latest_version(client, module):
    """The highest published version number as a string, or None when none was published."""
    try:
        versions = list_versions(client, module.params["name"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the versions of function {module.params['name']}")
    numbers = [int(version["Version"]) for version in versions if version["Version"].isdigit()]
    return str(max(numbers)) if numbers else None


def wait_until_updated(client, module, waiter_name="function_updated_v2"):
    """Wait for LastUpdateStatus Successful (or, with function_active_v2, for a new function to be Active)."""
    name = module.params["name"]
    try:
        client.get_waiter(waiter_name).wait(
            FunctionName=name, WaiterConfig={"Delay": WAIT_DELAY, "MaxAttempts": WAIT_ATTEMPTS}
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e,
            msg=(
                f"Function {name} was not ready within {WAIT_DELAY * WAIT_ATTEMPTS} seconds;"
                " look at LastUpdateStatusReason in the Lambda console"
            ),
        )


def function_state(function):
    """The parts of a function that the module manages, as shown in the diff."""
    config = function["Configuration"]
    vpc = config.get("VpcConfig") or {}
    return {
        "role": config.get("Role"),
        "handler": config.get("Handler"),
        "runtime": config.get("Runtime"),
        "memory_size": config.get("MemorySize"),
        "timeout": config.get("Timeout"),
        "description": config.get("Description", ""),
        "environment": (config.get("Environment") or {}).get("Variables") or {},
        "subnet_ids": sorted(vpc.get("SubnetIds") or []),
        "security_group_ids": sorted(vpc.get("SecurityGroupIds") or []),
        "tracing_mode": (config.get("TracingConfig") or {}).get("Mode", "PassThrough"),
        "architecture": (config.get("Architectures") or ["x86_64"])[0],
        "code_sha256": config.get("CodeSha256"),
        "reserved_concurrency": (function.get("Concurrency") or {}).get("ReservedConcurrentExecutions"),
        "tags": dict(function.get("Tags") or {}),
    }


def desired_state(module, current):
    params = module.params
    return {
        "role": params["role_arn"],
        "handler": params["handler"],
        "runtime": params["runtime"],
        "memory_size": params["memory_size"],
        "timeout": params["timeout"],
        "description": params["description"],
        "environment": {key: str(value) for key, value in params["environment"].items()},
        "subnet_ids": sorted(params["subnet_ids"]),
        "security_group_ids": sorted(params["security_group_ids"]),
        "tracing_mode": params["tracing_mode"],
        "architecture": params["architecture"],
        "code_sha256": params["code_sha256"] or current.get("code_sha256"),
        "reserved_concurrency": params["reserved_concurrency"],
        "tags": desired_tags(module, current.get("tags", {})),
    }


def configuration_change(current, desired):
    """The UpdateFunctionConfiguration parameters for what differs, empty when nothing does."""
    fields = {
        "role": "Role",
        "handler": "Handler",
        "runtime": "Runtime",
        "memory_size": "MemorySize",
        "timeout": "Timeout",
        "description": "Description",
    }
    change = {key: desired[field] for field, key in fields.items() if current[field] != desired[field]}
    if current["environment"] != desired["environment"]:
        change["Environment"] = {"Variables": desired["environment"]}
    if (current["subnet_ids"], current["security_group_ids"]) != (
        desired["subnet_ids"],
        desired["security_group_ids"],
    ):
        change["VpcConfig"] = {"SubnetIds": desired["subnet_ids"], "SecurityGroupIds": desired["security_group_ids"]}
    if current["tracing_mode"] != desired["tracing_mode"]:
        change["TracingConfig"] = {"Mode": desired["tracing_mode"]}
    return change


def code_differs(current, desired):
    return (current["code_sha256"], current["architecture"]) != (desired["code_sha256"], desired["architecture"])


def check_code_given(module, action):
    if not module.params["s3_key"]:
        module.fail_json(
            msg=(
                f"s3_bucket, s3_key and code_sha256 are needed to {action} function {module.params['name']};"
                " give the location and the base64 SHA-256 of its zip package"
            )
        )


def warn_on_other_package(module, deployed_sha256):
    declared = module.params["code_sha256"]
    if declared and deployed_sha256 and deployed_sha256 != declared:
        module.warn(
            f"The package s3://{module.params['s3_bucket']}/{module.params['s3_key']} has CodeSha256 {deployed_sha256},"
            f" not the code_sha256 {declared} given, so every run will update the code again; fix code_sha256"
        )


def create_params(module, desired):
    params = {
        "FunctionName": module.params["name"],
        "Role": desired["role"],
        "Runtime": desired["runtime"],
        "Handler": desired["handler"],
        "Code": {"S3Bucket": module.params["s3_bucket"], "S3Key": module.params["s3_key"]},
        "Description": desired["description"],
        "Timeout": desired["timeout"],
        "MemorySize": desired["memory_size"],
        "Publish": True,
        "Architectures": [desired["architecture"]],
        "TracingConfig": {"Mode": desired["tracing_mode"]},
        "VpcConfig": {"SubnetIds": desired["subnet_ids"], "SecurityGroupIds": desired["security_group_ids"]},
        "Environment": {"Variables": desired["environment"]},
    }
    if desired["tags"]:
        params["Tags"] = desired["tags"]
    return params


def not_assumable(error):
    return error.response.get("Error", {}).get("Code") == "InvalidParameterValueException" and (
        ROLE_NOT_ASSUMABLE in error.response.get("Error", {}).get("Message", "")
    )


def create_waiting_for_role(client, module, params):
    """CreateFunction, retried with exponential backoff while IAM has not propagated the role to Lambda."""
    timeout = module.params["role_propagation_timeout"]
    waited, delay = 0, 1
    while True:
        try:
            return create_function(client, params)
        except botocore.exceptions.ClientError as e:
            if not not_assumable(e):
                raise
            if waited >= timeout:
                module.fail_json_aws(
                    e,
                    msg=(
                        f"Failed to create function {module.params['name']}: Lambda could not assume role"
                        f" {params['Role']}; IAM had not propagated the role after {waited} seconds. Check that the"
                        " role exists and trusts lambda.amazonaws.com, or raise role_propagation_timeout"
                    ),
                )
            pause = min(delay, MAX_ROLE_DELAY, timeout - waited)
            time.sleep(pause)
            waited += pause
            delay *= 2


def create_new_function(client, module, desired):
    """Create the function with its first published version; return that version (None in check mode)."""
    if module.check_mode:
        return None
    name = module.params["name"]
    try:
        created = create_waiting_for_role(client, module, create_params(module, desired))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to create function {name}; check that the package exists in S3 in the function's region,"
                " the runtime and handler, and that the subnets and security groups exist"
            ),
        )
    warn_on_other_package(module, created.get("CodeSha256"))
    wait_until_updated(client, module, "function_active_v2")
    if desired["reserved_concurrency"] is not None:
        set_concurrency(client, module, desired["reserved_concurrency"])
    return created.get("Version")


def apply_configuration(client, module, change):
    name = module.params["name"]
    try:
        update_configuration(client, name, change)
    except is_boto3_error_code("ResourceConflictException") as e:
        module.fail_json_aws(e, msg=f"Failed to update the configuration of function {name}: {CONFLICT_HINT}")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(
            e, msg=f"Failed to update {', '.join(change)} of function {name}; check the role and the VPC settings"
        )
    wait_until_updated(client, module)


def apply_code(client, module, desired):
    name = module.params["name"]
    change = {
        "S3Bucket": module.params["s3_bucket"],
        "S3Key": module.params["s3_key"],
        "Architectures": [desired["architecture"]],
    }
    try:
        updated = update_code(client, name, change)
    except is_boto3_error_code("ResourceConflictException") as e:
        module.fail_json_aws(e, msg=f"Failed to update the code of function {name}: {CONFLICT_HINT}")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to update the code of function {name} from s3://{change['S3Bucket']}/{change['S3Key']};"
                " check that the package exists in the function's region"
            ),
        )
    warn_on_other_package(module, updated.get("CodeSha256"))
    wait_until_updated(client, module)


def publish(client, module, code_sha256):
    name = module.params["name"]
    try:
        return publish_version(client, name, code_sha256)
    except is_boto3_error_code("ResourceConflictException") as e:
        module.fail_json_aws(e, msg=f"Failed to publish a version of function {name}: {CONFLICT_HINT}")
    except is_boto3_error_code("PreconditionFailedException") as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to publish a version of function {name}: its code is not the package with CodeSha256"
                f" {code_sha256}; check code_sha256 and the package in S3"
            ),
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to publish a version of function {name}")


def set_concurrency(client, module, value):
    name = module.params["name"]
    try:
        if value is None:
            delete_concurrency(client, name)
        else:
            put_concurrency(client, name, value)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to set the reserved concurrency of function {name} to {value}; the account must keep"
                " at least 100 unreserved concurrent executions"
            ),
        )


def update_tags(client, module, arn, current_tags):
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
            untag_function(client, arn, to_remove)
        if to_set:
            tag_function(client, arn, to_set)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to update the tags of function {module.params['name']}")
    return True


def update_existing_function(client, module, function, current, desired):
    """Converge an existing function; return (changed, version published or None)."""
    change = configuration_change(current, desired)
    new_code = code_differs(current, desired)
    if new_code and not module.params["s3_key"]:
        check_code_given(module, f"change the architecture to {desired['architecture']} of")
    changed = bool(change) or new_code
    version = None
    if changed and not module.check_mode:
        if change:
            apply_configuration(client, module, change)
        if new_code:
            apply_code(client, module, desired)
        version = publish(client, module, desired["code_sha256"])
    if current["reserved_concurrency"] != desired["reserved_concurrency"]:
        changed = True
        if not module.check_mode:
            set_concurrency(client, module, desired["reserved_concurrency"])
    changed |= update_tags(client, module, function["Configuration"]["FunctionArn"], current["tags"])
    return changed, version


def remove_function(client, module):
    if module.check_mode:
        return True
    name = module.params["name"]
    try:
        delete_function(client, name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return False
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to delete function {name}")
    return True


def snake_result(function, version):
    """A function as the module returns it: snake_case configuration, tags as a dict, version, concurrency."""
    config = dict(function["Configuration"])
    environment = config.pop("Environment", None)
    result = camel_dict_to_snake_dict(normalize_boto3_result(config))
    if environment is not None:
        # Only the names of the variables keep their case.
        result["environment"] = {
            **camel_dict_to_snake_dict({key: value for key, value in environment.items() if key != "Variables"}),
            "variables": dict(environment.get("Variables") or {}),
        }
    result["tags"] = dict(function.get("Tags") or {})
    result["version"] = version
    result["code_sha256"] = config.get("CodeSha256")
    result["reserved_concurrency"] = (function.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    return result


def describe_result(client, module, version):
    function = find_function(client, module)
    if function is None:
        module.fail_json(msg=f"Function {module.params['name']} disappeared while the module converged it")
    return snake_result(function, version)


def ensure_present(client, module, function):
    """Return (changed, function result, before, after)."""
    if function is None:
        check_code_given(module, "create")
        after = desired_state(module, {})
        version = create_new_function(client, module, after)
        if module.check_mode:
            return True, {"version": None}, {}, after
        return True, describe_result(client, module, version), {}, after
    before = function_state(function)
    after = desired_state(module, before)
    changed, version = update_existing_function(client, module, function, before, after)
    if version is None:
        version = latest_version(client, module)
    if changed and not module.check_mode:
        return changed, describe_result(client, module, version), before, after
    return changed, snake_result(function, version), before, after


def publishes_version(changed, before, after):
    """Whether the run published (in check mode: would publish) a version: a creation, new code or configuration."""
    if not changed or not after:
        return False
    if not before:
        return True
    return bool(configuration_change(before, after)) or code_differs(before, after)


def ensure_absent(client, module, function):
    """Return (changed, function result, before, after)."""
    if function is None:
        return False, {}, {}, {}
    return remove_function(client, module), {}, function_state(function), {}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        role_arn=dict(type="str"),
        runtime=dict(type="str", default="python3.12"),
        handler=dict(type="str"),
        architecture=dict(type="str", choices=["x86_64", "arm64"], default="arm64"),
        s3_bucket=dict(type="str"),
        s3_key=dict(type="str", no_log=False),
        code_sha256=dict(type="str"),
        memory_size=dict(type="int", default=256),
        timeout=dict(type="int", default=10),
        environment=dict(type="dict", default={}),
        subnet_ids=dict(type="list", elements="str", default=[]),
        security_group_ids=dict(type="list", elements="str", default=[]),
        tracing_mode=dict(type="str", choices=["Active", "PassThrough"], default="Active"),
        reserved_concurrency=dict(type="int"),
        description=dict(type="str", default=""),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        role_propagation_timeout=dict(type="int", default=120),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["role_arn", "handler"])],
        required_together=[("s3_bucket", "s3_key", "code_sha256")],
    )

    client = module.client("lambda", retry_decorator=jittered_backoff())

    function = find_function(client, module)
    if module.params["state"] == "present":
        changed, result_function, before, after = ensure_present(client, module, function)
    else:
        changed, result_function, before, after = ensure_absent(client, module, function)

    result = {"changed": changed, "function": result_function, "new_version": publishes_version(changed, before, after)}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
