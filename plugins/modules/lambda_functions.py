#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: lambda_functions
version_added: 1.0.0
short_description: Converge a list of Lambda functions whose code is a zip in S3, publish versions and move an alias
description:
  - Creates, updates or deletes the Lambda functions listed in O(functions), each found by its name, in one
    invocation. Their code is one zip package in S3. Functions not listed are left alone.
  - The code of a function is updated only when O(code_sha256) or O(architecture) differ from what Lambda reports,
    so a run with the same package changes nothing.
  - Unlike M(amazon.aws.lambda), a version is published whenever the code or the configuration of a function
    changed, so the alias serves the new configuration too; nothing is published otherwise.
  - With O(alias), the alias of each function is created or moved to the version the run published, or else to the
    latest published version; except for a function with C(traffic_shift), whose existing alias is left for
    M(serverless.tasks_api.lambda_traffic_shift) to move, and except to a version that a rollback moved the alias
    away from (see O(retry_rolled_back)).
  - The module also manages reserved concurrency, and retries the errors AWS returns while a new IAM role
    propagates and while an earlier update of the function is in progress.
  - Layers, the dead letter queue, KMS encryption of the environment, ephemeral storage and other settings not
    listed here are left alone.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  functions:
    description:
      - The functions to converge, each with its own settings; the other options apply to all of them.
      - With O(state=absent) only their names are used.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The name of the function.
        required: true
        type: str
      role_arn:
        description:
          - The ARN of the IAM role the function runs as. Required when O(state=present).
        type: str
      handler:
        description:
          - The function in the package that Lambda calls, for example V(app.handler). Required when
            O(state=present).
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
      traffic_shift:
        description:
          - Whether traffic moves to a new version gradually, by M(serverless.tasks_api.lambda_traffic_shift) after
            this module. Then an existing alias O(alias) is neither moved nor redescribed; the version is still
            published and returned as RV(functions.version), and RV(functions.alias_version) is the version the
            alias still serves.
          - An alias that does not exist yet is created at the published version, since there is nothing to shift
            from.
        type: bool
        default: false
  runtime:
    description:
      - The runtime of the functions.
    type: str
    default: python3.12
  architecture:
    description:
      - The instruction set architecture of the functions. Changing it updates the code.
    type: str
    choices: ["x86_64", "arm64"]
    default: arm64
  s3_bucket:
    description:
      - The S3 bucket that holds the zip package.
      - Required to create a function. When O(s3_bucket), O(s3_key) and O(code_sha256) are omitted, the code of
        the existing functions is left alone.
    type: str
  s3_key:
    description:
      - The key of the zip package in O(s3_bucket).
    type: str
  code_sha256:
    description:
      - The SHA-256 digest of the zip package, base64 encoded, as Lambda reports it in C(CodeSha256).
      - The code of a function is updated only when this differs from its deployed code. It is also passed to
        C(PublishVersion), which fails when the deployed package is not the one described.
    type: str
  environment:
    description:
      - The environment variables of the functions. Variables not listed are removed.
    type: dict
    default: {}
  subnet_ids:
    description:
      - The IDs of the subnets the functions run in. Empty for functions outside any VPC.
    type: list
    elements: str
    default: []
  security_group_ids:
    description:
      - The IDs of the security groups of the functions in their VPC.
    type: list
    elements: str
    default: []
  tracing_mode:
    description:
      - The X-Ray tracing mode.
    type: str
    choices: ["Active", "PassThrough"]
    default: Active
  alias:
    description:
      - The name of an alias that follows each function; it is created, or moved to the version the run published,
        or else to the latest published version.
      - When omitted, no alias is read or changed.
      - With O(state=absent), deleting a function deletes its aliases whatever this option.
    type: str
  alias_description:
    description:
      - The description of the alias O(alias).
      - When omitted, the description of an existing alias is left alone.
      - The markers that M(serverless.tasks_api.lambda_traffic_shift) and the rollback playbook add at the end of the
        description (C([previous version 4]), C([rolled back version 5])) are not compared; they are kept while the
        alias stays, and dropped when the module moves it.
    type: str
  retry_rolled_back:
    description:
      - Whether the alias may move to a version that its description marks as rolled back
        (C([rolled back version N])). By default the alias stays where it is and the module warns; a new change of
        code or configuration publishes another version, to which the alias moves.
    type: bool
    default: false
  purge_tags:
    description:
      - Whether tags of an existing function that are not in its C(tags) are removed. Tags starting with C(aws:)
        are kept.
      - Has no effect on a function whose C(tags) is omitted.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the functions, V(absent) deletes them with all their versions and aliases.
      - With V(absent), a function that does not exist is not an error.
    type: str
    choices: ["present", "absent"]
    default: present
  role_propagation_timeout:
    description:
      - How many seconds C(CreateFunction) is retried, with exponential backoff up to 10 seconds apart, while Lambda
        reports that it cannot assume the role of the function, which happens for a while after the role was
        created.
    type: int
    default: 120
notes:
  - The module reads each function with C(GetFunction), C(ListVersionsByFunction) and, with O(alias), C(GetAlias);
    the credentials need these permissions even when nothing changes. A run that changes nothing makes no write
    call.
  - The functions are converged one after the other, in the order of O(functions); the first error stops the run.
  - C(ResourceConflictException) (an update is in progress) is retried with backoff for about ten attempts.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Deploy the functions of the tasks API from their package in S3 and point their live alias at them
  serverless.tasks_api.lambda_functions:
    functions:
      - name: tasks-api-prod-list
        role_arn: arn:aws:iam::123456789012:role/tasks-api-prod-list
        handler: list_tasks.handler
        memory_size: 512
        tags:
          Environment: prod
          Function: list
      - name: tasks-api-prod-create
        role_arn: arn:aws:iam::123456789012:role/tasks-api-prod-create
        handler: create_task.handler
        reserved_concurrency: 50
        tags:
          Environment: prod
          Function: create
    s3_bucket: tasks-api-prod-artifacts
    s3_key: packages/2f6c1a.zip
    code_sha256: m6Bscu20JaexAgLFzx2+3wV1Qu5Kp1LHVTfwm6j6fWM=
    environment:
      TABLE_NAME: tasks-api-prod-tasks
    subnet_ids: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
    security_group_ids: ["sg-0123456789abcdef0"]
    alias: live
    alias_description: Serves API traffic
  register: tasks_functions

- name: Show the version the live alias of the list function serves
  ansible.builtin.debug:
    msg: "{{ tasks_functions.functions['tasks-api-prod-list'].version }}"

- name: Delete the functions with their versions and aliases
  serverless.tasks_api.lambda_functions:
    functions:
      - name: tasks-api-prod-list
      - name: tasks-api-prod-create
    state: absent
"""

RETURN = r"""
functions:
  description:
    - Each function of O(functions), by name, as the run left it (in check mode, as Lambda holds it now).
  returned: always
  type: dict
  sample:
    tasks-api-prod-list:
      arn: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-list
      version: "3"
      new_version: true
      code_sha256: m6Bscu20JaexAgLFzx2+3wV1Qu5Kp1LHVTfwm6j6fWM=
      alias_arn: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-list:live
      changed: true
  contains:
    arn:
      description: The unqualified ARN of the function; null in check mode for a function that does not exist yet.
      type: str
      sample: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-list
    version:
      description:
        - The version published by this run, or else the latest published version, which the alias points at.
        - Null in check mode for a function that does not exist yet, when no version was ever published, and with
          O(state=absent).
      type: str
      sample: "3"
    new_version:
      description:
        - Whether this run published a version (in check mode, whether a real run would), that is whether the
          function was created or its code or configuration changed. A change of tags or reserved concurrency
          alone publishes nothing.
      type: bool
      sample: true
    code_sha256:
      description: The base64 SHA-256 digest of the deployed package; null when the function does not exist.
      type: str
      sample: m6Bscu20JaexAgLFzx2+3wV1Qu5Kp1LHVTfwm6j6fWM=
    alias_version:
      description:
        - The version the alias O(alias) serves after the run; when the alias moves in check mode, the same as
          RV(functions.version). With C(traffic_shift) or a rolled back version (see O(retry_rolled_back)) it can
          be older than RV(functions.version).
        - Null without O(alias), and when no version was ever published.
      type: str
      sample: "2"
    alias_arn:
      description: The ARN of the alias O(alias); null without O(alias) and in check mode for an alias to create.
      type: str
      sample: arn:aws:lambda:us-east-1:123456789012:function:tasks-api-prod-list:live
    changed:
      description: Whether the function or its alias changed (in check mode, would change).
      type: bool
      sample: true
diff:
  description:
    - One entry per function that changes, named by C(before_header) and C(after_header), with the managed
      properties before and after; C(before) is empty for a creation, C(after) for a deletion.
    - C(version) is the latest published version, C(alias) the version the alias points at, as
      C(<alias> -> <version>); in check mode a version that a real run would publish is C((new version)).
  returned: in diff mode
  type: list
  elements: dict
  sample:
    - before_header: tasks-api-prod-list
      after_header: tasks-api-prod-list
      before:
        role: arn:aws:iam::123456789012:role/tasks-api-prod-list
        handler: list_tasks.handler
        runtime: python3.12
        memory_size: 512
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
        version: "2"
        alias: live -> 2
      after:
        role: arn:aws:iam::123456789012:role/tasks-api-prod-list
        handler: list_tasks.handler
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
        version: (new version)
        alias: live -> (new version)
"""

import time

try:
    from botocore.exceptions import BotoCoreError, ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.serverless.tasks_api.plugins.module_utils.lambda_alias import (
    base_description,
    highest_version,
    list_versions,
    rolled_back_version,
)
from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff
from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import merged_tags

ROLE_NOT_ASSUMABLE = "cannot be assumed by Lambda"
MAX_ROLE_DELAY = 10
WAIT_DELAY = 1
WAIT_ATTEMPTS = 300
NEW_VERSION = "(new version)"
CONFLICT_HINT = (
    "an update of the function was still in progress after repeated retries; another deployment may be changing"
    " it, so wait for it to finish and run again"
)


# The AWS calls, retried on throttling (the client's decorator) and, for updates, while another is in progress.


def get_function(client, name):
    try:
        return client.get_function(aws_retry=True, FunctionName=name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


def get_alias(client, name, alias):
    try:
        return client.get_alias(aws_retry=True, FunctionName=name, Name=alias)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


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


@jittered_backoff("ResourceConflictException")
def write_alias(client, name, alias, version, description, exists):
    """CreateAlias or UpdateAlias, retried while an update of the function is in progress."""
    params = {"FunctionName": name, "Name": alias, "FunctionVersion": version}
    if description is not None:
        params["Description"] = description
    if exists:
        return client.update_alias(**params)
    return client.create_alias(**params)


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


# What a function is and what it should be, as plain comparable data (the diff shows these).


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


def desired_state(params, wanted, current):
    """What a function should be: the shared ``params`` with its own ``wanted`` settings, over ``current``."""
    return {
        "role": wanted["role_arn"],
        "handler": wanted["handler"],
        "runtime": params["runtime"],
        "memory_size": wanted["memory_size"],
        "timeout": wanted["timeout"],
        "description": wanted["description"],
        "environment": {key: str(value) for key, value in params["environment"].items()},
        "subnet_ids": sorted(params["subnet_ids"]),
        "security_group_ids": sorted(params["security_group_ids"]),
        "tracing_mode": params["tracing_mode"],
        "architecture": params["architecture"],
        "code_sha256": params["code_sha256"] or current.get("code_sha256"),
        "reserved_concurrency": wanted["reserved_concurrency"],
        "tags": merged_tags(wanted["tags"], current.get("tags", {}), params["purge_tags"]),
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


def alias_target(alias, version):
    """How the diff shows an alias: ``live -> 3``; None when there is no alias."""
    return None if version is None else f"{alias} -> {version}"


def not_assumable(error):
    return error.response.get("Error", {}).get("Code") == "InvalidParameterValueException" and (
        ROLE_NOT_ASSUMABLE in error.response.get("Error", {}).get("Message", "")
    )


class Function:
    """One function of O(functions): read once, compared, then converged with the fewest calls.

    ``converge()`` fills ``result`` (the function's entry in the module's ``functions``) and ``before``/``after``
    (its diff entry); ``changed`` says whether it changed (in check mode, would change).
    """

    def __init__(self, client, module, wanted):
        self.client = client
        self.module = module
        self.params = module.params
        self.wanted = wanted
        self.name = wanted["name"]
        self.changed = False
        self.before = {}
        self.after = {}
        self.result = {
            "arn": None,
            "version": None,
            "new_version": False,
            "code_sha256": None,
            "alias_version": None,
            "alias_arn": None,
            "changed": False,
        }

    # Reads

    def read(self):
        try:
            return get_function(self.client, self.name)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to get function {self.name}")

    def read_latest_version(self):
        try:
            return highest_version(list_versions(self.client, self.name))
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to list the versions of function {self.name}")

    def read_alias(self):
        try:
            return get_alias(self.client, self.name, self.params["alias"])
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to get alias {self.params['alias']} of function {self.name}")

    # Converge

    def converge(self):
        function = self.read()
        if self.params["state"] == "absent":
            self.ensure_absent(function)
        elif function is None:
            self.create()
        else:
            self.update(function)
        self.result["changed"] = self.changed
        return self

    def create(self):
        self.check_code_given("create")
        self.after = desired_state(self.params, self.wanted, {})
        self.changed = True
        self.result["new_version"] = True
        if self.module.check_mode:
            self.converge_alias(None, version=NEW_VERSION)
            return
        created = self.create_waiting_for_role(self.create_params(self.after))
        self.warn_on_other_package(created.get("CodeSha256"))
        self.wait_until_updated("function_active_v2")
        if self.after["reserved_concurrency"] is not None:
            self.set_concurrency(self.after["reserved_concurrency"])
        self.result.update(
            arn=created["FunctionArn"], version=created.get("Version"), code_sha256=created.get("CodeSha256")
        )
        self.converge_alias(None, version=created.get("Version"))

    def update(self, function):
        config = function["Configuration"]
        self.before = function_state(function)
        self.after = desired_state(self.params, self.wanted, self.before)
        latest = self.read_latest_version()
        self.result.update(arn=config["FunctionArn"], version=latest, code_sha256=config.get("CodeSha256"))
        change = configuration_change(self.before, self.after)
        new_code = code_differs(self.before, self.after)
        if new_code and not self.params["s3_key"]:
            self.check_code_given(f"change the architecture to {self.after['architecture']} of")
        self.changed = self.result["new_version"] = bool(change) or new_code
        version = latest
        if self.changed:
            version = NEW_VERSION if self.module.check_mode else self.publish_changes(change, new_code)
        if self.before["reserved_concurrency"] != self.after["reserved_concurrency"]:
            self.changed = True
            if not self.module.check_mode:
                self.set_concurrency(self.after["reserved_concurrency"])
        self.changed |= self.update_tags(config["FunctionArn"], self.before["tags"])
        self.before["version"] = latest
        self.converge_alias(self.read_alias() if self.params["alias"] else None, version)

    def publish_changes(self, change, new_code):
        """Update the configuration and the code that differ, then publish a version; return its number."""
        if change:
            self.apply_configuration(change)
        if new_code:
            self.apply_code()
        version = self.publish()
        self.result["version"] = version
        return version

    def ensure_absent(self, function):
        if function is None:
            return
        self.before = function_state(function)
        self.result["arn"] = function["Configuration"]["FunctionArn"]
        self.changed = self.module.check_mode or self.remove()

    # The alias

    def converge_alias(self, current, version):
        """Point the alias at ``version`` (NEW_VERSION: the one a real run would publish); record it in the diff."""
        self.after["version"] = version
        alias = self.params["alias"]
        if not alias:
            return
        description = self.params["alias_description"]
        now = current["FunctionVersion"] if current else None
        if self.before:
            self.before["alias"] = alias_target(alias, now)
        self.after["alias"] = alias_target(alias, version if version is not None else now)
        if description is not None:
            if self.before:
                self.before["alias_description"] = current.get("Description", "") if current else None
            self.after["alias_description"] = description
        self.result["alias_arn"] = current["AliasArn"] if current else None
        self.result["alias_version"] = now
        if version is None:
            return  # no version was ever published: nothing to point the alias at
        if current is not None and self.alias_stays(current, version):
            self.after["alias"] = self.before.get("alias")
            self.after.pop("alias_description", None)
            self.before.pop("alias_description", None)
            return
        moves = current is None or now != version
        redescribed = (
            current is not None
            and description is not None
            and base_description(current.get("Description")) != base_description(description)
        )
        if not (moves or redescribed):
            return
        self.changed = True
        self.result["alias_version"] = self.result["version"] if self.module.check_mode else version
        if self.module.check_mode:
            return
        try:
            written = write_alias(self.client, self.name, alias, version, description, current is not None)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(
                e, msg=f"Failed to point alias {alias} of function {self.name} at version {version}"
            )
        self.result["alias_arn"] = written["AliasArn"]

    def alias_stays(self, current, version):
        """Whether an existing alias is left alone: traffic shifts later, or ``version`` was rolled back."""
        if self.wanted["traffic_shift"]:
            return True
        rolled_back = rolled_back_version(current.get("Description"))
        if rolled_back is None or rolled_back != version or current["FunctionVersion"] == version:
            return False
        if self.params["retry_rolled_back"]:
            return False
        self.module.warn(
            f"Alias {self.params['alias']} of function {self.name} stays at version {current['FunctionVersion']}:"
            f" version {version} was rolled back. Change the code or the configuration to publish another version,"
            " or set retry_rolled_back (functions_retry_failed in the functions role) to move it there again"
        )
        return True

    # Writes

    def check_code_given(self, action):
        if not self.params["s3_key"]:
            self.module.fail_json(
                msg=(
                    f"s3_bucket, s3_key and code_sha256 are needed to {action} function {self.name};"
                    " give the location and the base64 SHA-256 of its zip package"
                )
            )

    def warn_on_other_package(self, deployed_sha256):
        declared = self.params["code_sha256"]
        if declared and deployed_sha256 and deployed_sha256 != declared:
            self.module.warn(
                f"The package s3://{self.params['s3_bucket']}/{self.params['s3_key']} has CodeSha256"
                f" {deployed_sha256}, not the code_sha256 {declared} given, so every run will update the code of"
                f" function {self.name} again; fix code_sha256"
            )

    def create_params(self, desired):
        params = {
            "FunctionName": self.name,
            "Role": desired["role"],
            "Runtime": desired["runtime"],
            "Handler": desired["handler"],
            "Code": {"S3Bucket": self.params["s3_bucket"], "S3Key": self.params["s3_key"]},
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

    def create_waiting_for_role(self, params):
        """CreateFunction, retried with exponential backoff while IAM has not propagated the role to Lambda."""
        timeout = self.params["role_propagation_timeout"]
        waited, delay = 0, 1
        while True:
            try:
                return create_function(self.client, params)
            except ClientError as e:
                if not not_assumable(e):
                    self.fail_to_create(e)
                if waited >= timeout:
                    self.module.fail_json_aws(
                        e,
                        msg=(
                            f"Failed to create function {self.name}: Lambda could not assume role {params['Role']};"
                            f" IAM had not propagated the role after {waited} seconds. Check that the role exists"
                            " and trusts lambda.amazonaws.com, or raise role_propagation_timeout"
                        ),
                    )
                pause = min(delay, MAX_ROLE_DELAY, timeout - waited)
                time.sleep(pause)
                waited += pause
                delay *= 2
            except BotoCoreError as e:
                self.fail_to_create(e)

    def fail_to_create(self, error):
        self.module.fail_json_aws(
            error,
            msg=(
                f"Failed to create function {self.name}; check that the package exists in S3 in the function's"
                " region, the runtime and handler, and that the subnets and security groups exist"
            ),
        )

    def apply_configuration(self, change):
        try:
            update_configuration(self.client, self.name, change)
        except is_boto3_error_code("ResourceConflictException") as e:
            self.module.fail_json_aws(
                e, msg=f"Failed to update the configuration of function {self.name}: {CONFLICT_HINT}"
            )
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(
                e,
                msg=(
                    f"Failed to update {', '.join(change)} of function {self.name}; check the role and the VPC settings"
                ),
            )
        self.wait_until_updated()

    def apply_code(self):
        change = {
            "S3Bucket": self.params["s3_bucket"],
            "S3Key": self.params["s3_key"],
            "Architectures": [self.after["architecture"]],
        }
        try:
            updated = update_code(self.client, self.name, change)
        except is_boto3_error_code("ResourceConflictException") as e:
            self.module.fail_json_aws(e, msg=f"Failed to update the code of function {self.name}: {CONFLICT_HINT}")
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(
                e,
                msg=(
                    f"Failed to update the code of function {self.name} from s3://{change['S3Bucket']}/"
                    f"{change['S3Key']}; check that the package exists in the function's region"
                ),
            )
        self.warn_on_other_package(updated.get("CodeSha256"))
        self.result["code_sha256"] = updated.get("CodeSha256")
        self.wait_until_updated()

    def publish(self):
        code_sha256 = self.after["code_sha256"]
        try:
            return publish_version(self.client, self.name, code_sha256)
        except is_boto3_error_code("ResourceConflictException") as e:
            self.module.fail_json_aws(e, msg=f"Failed to publish a version of function {self.name}: {CONFLICT_HINT}")
        except is_boto3_error_code("PreconditionFailedException") as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(
                e,
                msg=(
                    f"Failed to publish a version of function {self.name}: its code is not the package with"
                    f" CodeSha256 {code_sha256}; check code_sha256 and the package in S3"
                ),
            )
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Failed to publish a version of function {self.name}")

    def set_concurrency(self, value):
        try:
            if value is None:
                delete_concurrency(self.client, self.name)
            else:
                put_concurrency(self.client, self.name, value)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(
                e,
                msg=(
                    f"Failed to set the reserved concurrency of function {self.name} to {value}; the account must"
                    " keep at least 100 unreserved concurrent executions"
                ),
            )

    def update_tags(self, arn, current_tags):
        if self.wanted["tags"] is None:
            return False
        tags = {key: str(value) for key, value in self.wanted["tags"].items()}
        to_set, to_remove = compare_aws_tags(current_tags, tags, self.params["purge_tags"])
        if not (to_set or to_remove):
            return False
        if self.module.check_mode:
            return True
        try:
            if to_remove:
                untag_function(self.client, arn, to_remove)
            if to_set:
                tag_function(self.client, arn, to_set)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to update the tags of function {self.name}")
        return True

    def remove(self):
        try:
            delete_function(self.client, self.name)
        except is_boto3_error_code("ResourceNotFoundException"):
            return False
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Failed to delete function {self.name}")
        return True

    def wait_until_updated(self, waiter_name="function_updated_v2"):
        """Wait for LastUpdateStatus Successful (or, with function_active_v2, for a new function to be Active)."""
        try:
            self.client.get_waiter(waiter_name).wait(
                FunctionName=self.name, WaiterConfig={"Delay": WAIT_DELAY, "MaxAttempts": WAIT_ATTEMPTS}
            )
        except AWS_ERRORS as e:
            self.module.fail_json_aws(
                e,
                msg=(
                    f"Function {self.name} was not ready within {WAIT_DELAY * WAIT_ATTEMPTS} seconds;"
                    " look at LastUpdateStatusReason in the Lambda console"
                ),
            )

    # Output

    def diff(self):
        return {"before_header": self.name, "after_header": self.name, "before": self.before, "after": self.after}


def check_functions(module):
    """Fail before any call on a list the module cannot converge: duplicate names, settings missing."""
    names = [wanted["name"] for wanted in module.params["functions"]]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        module.fail_json(msg=f"functions lists {', '.join(duplicates)} more than once; give each function once")
    if module.params["state"] != "present":
        return
    missing = [
        f"{wanted['name']} ({', '.join(key for key in ('role_arn', 'handler') if not wanted[key])})"
        for wanted in module.params["functions"]
        if not (wanted["role_arn"] and wanted["handler"])
    ]
    if missing:
        module.fail_json(
            msg=f"role_arn and handler are required when state is present; missing for {', '.join(missing)}"
        )


def main():
    function_spec = dict(
        name=dict(type="str", required=True),
        role_arn=dict(type="str"),
        handler=dict(type="str"),
        memory_size=dict(type="int", default=256),
        timeout=dict(type="int", default=10),
        reserved_concurrency=dict(type="int"),
        description=dict(type="str", default=""),
        tags=dict(type="dict"),
        traffic_shift=dict(type="bool", default=False),
    )
    argument_spec = dict(
        functions=dict(type="list", elements="dict", required=True, options=function_spec),
        runtime=dict(type="str", default="python3.12"),
        architecture=dict(type="str", choices=["x86_64", "arm64"], default="arm64"),
        s3_bucket=dict(type="str"),
        s3_key=dict(type="str", no_log=False),
        code_sha256=dict(type="str"),
        environment=dict(type="dict", default={}),
        subnet_ids=dict(type="list", elements="str", default=[]),
        security_group_ids=dict(type="list", elements="str", default=[]),
        tracing_mode=dict(type="str", choices=["Active", "PassThrough"], default="Active"),
        alias=dict(type="str"),
        alias_description=dict(type="str"),
        retry_rolled_back=dict(type="bool", default=False),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        role_propagation_timeout=dict(type="int", default=120),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_together=[("s3_bucket", "s3_key", "code_sha256")],
    )
    check_functions(module)

    client = module.client("lambda", retry_decorator=jittered_backoff())

    converged = [Function(client, module, wanted).converge() for wanted in module.params["functions"]]

    result = {
        "changed": any(function.changed for function in converged),
        "functions": {function.name: function.result for function in converged},
    }
    if module._diff:
        result["diff"] = [function.diff() for function in converged if function.changed]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
