#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: api_gateway_account
version_added: 1.0.0
short_description: Set the CloudWatch Logs role of the API Gateway account settings of a region
description:
  - Sets C(cloudwatchRoleArn) in the API Gateway account settings of the region, the IAM role API Gateway
    assumes to write the execution logs and access logs of every REST API stage to CloudWatch Logs.
  - Until a role is set, API Gateway refuses to turn on the access logs or execution logs of a stage (see
    M(serverless.tasks_api.api_gateway_stage)) with C(CloudWatch Logs role ARN must be set in account settings to
    enable logging).
  - The setting is shared by every API of the AWS account in the region. When another role is already set, the
    module leaves it alone and warns, unless O(overwrite=true).
  - The account settings are read with C(GetAccount) and written with C(UpdateAccount) only when the role
    differs, so a run with the same role changes nothing.
  - The throttling limits and the features of the account are reported but not changed.
  - There is no O(ignore:state) option. The account settings of a region always exist and cannot be deleted;
    the module only sets the role.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  cloudwatch_role_arn:
    description:
      - The ARN of the IAM role API Gateway assumes to write logs, for example
        V(arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs).
      - The role must trust C(apigateway.amazonaws.com) and allow writing to CloudWatch Logs, for example with the
        AWS managed policy C(AmazonAPIGatewayPushToCloudWatchLogs).
      - The ARN is checked to be an IAM role ARN of the partition of the region before any call to AWS.
    required: true
    type: str
  overwrite:
    description:
      - What to do when the account settings already name a different role.
      - V(false) leaves that role in place, returns RV(ignore:changed=false) and warns with both ARNs; other stacks
        of the account may rely on it.
      - V(true) replaces it with O(cloudwatch_role_arn).
      - Has no effect when no role is set; the role is then always set.
    type: bool
    default: false
  role_propagation_timeout:
    description:
      - How many seconds C(UpdateAccount) is retried, with exponential backoff up to 10 seconds apart, while
        API Gateway reports C(The role ARN does not have required permissions set to API Gateway), which happens
        for a few seconds after the role was created, until IAM has propagated it.
      - V(0) does not retry.
    type: int
    default: 60
notes:
  - The module reads the account settings with C(GetAccount); the credentials need C(apigateway:GET) on
    C(arn:aws:apigateway:<region>::/account) even when nothing changes.
  - Setting the role needs C(apigateway:PATCH) on the same resource and C(iam:PassRole) on the role.
  - Throttling (C(TooManyRequestsException)) is retried with backoff for about ten attempts.
  - API Gateway keeps one setting per region; run the module once for every region that serves APIs with logging.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the role API Gateway writes logs with
  amazon.aws.iam_role:
    name: apigateway-cloudwatch-logs
    assume_role_policy_document:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal:
            Service: apigateway.amazonaws.com
          Action: sts:AssumeRole
    managed_policies:
      - arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs
  register: apigateway_logs_role

- name: Let API Gateway write logs in this region, unless another role is already set
  serverless.tasks_api.api_gateway_account:
    cloudwatch_role_arn: "{{ apigateway_logs_role.iam_role.arn }}"
  register: apigateway_account

- name: Take the setting over from a role that is no longer used
  serverless.tasks_api.api_gateway_account:
    cloudwatch_role_arn: arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs
    overwrite: true
    region: eu-west-1
"""

RETURN = r"""
account:
  description:
    - The API Gateway account settings of the region after the module ran.
    - In check mode, the settings as they were.
  returned: always
  type: dict
  contains:
    cloudwatch_role_arn:
      description: The ARN of the role API Gateway writes logs with.
      returned: when a role is set
      type: str
      sample: arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs
    throttle_settings:
      description: The throttling limits of the account in the region, for all its APIs together.
      returned: always
      type: dict
      sample:
        burst_limit: 5000
        rate_limit: 10000.0
    features:
      description: The features enabled for the account, such as C(UsagePlans).
      returned: when some are enabled
      type: list
      elements: str
      sample: ["UsagePlans"]
    api_key_version:
      description: The version of the API keys of the account.
      returned: always
      type: str
      sample: "4"
diff:
  description:
    - The role before and after. When a different role is kept because O(overwrite=false), both sides name it.
  returned: in diff mode
  type: dict
  sample:
    before:
      cloudwatch_role_arn: null
    after:
      cloudwatch_role_arn: arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs
"""

import re
import time

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.serverless.tasks_api.plugins.module_utils.api_gateway import (
    THROTTLING_CODES,
    apigateway_client,
    call_or_fail,
    exit_with_diff,
    snake_dict,
)

# IAM role ARNs: an optional path of /-separated segments, then the role name (64 characters at most).
ROLE_ARN_PATTERN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::\d{12}:role/(?:[A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}$"
)
ROLE_PATH = "/cloudwatchRoleArn"
ROLE_NOT_PROPAGATED = "does not have required permissions set to API Gateway"
MAX_ROLE_DELAY = 10


def get_account(client):
    account = client.get_account(aws_retry=True)
    account.pop("ResponseMetadata", None)
    return account


def update_account(client, patches):
    account = client.update_account(aws_retry=True, patchOperations=patches)
    account.pop("ResponseMetadata", None)
    return account


def describe_settings(client):
    return f"the API Gateway account settings of region {client.meta.region_name}"


def validate_role_arn(client, module):
    arn = module.params["cloudwatch_role_arn"]
    match = ROLE_ARN_PATTERN.match(arn)
    if not match:
        module.fail_json(
            msg=(
                f"cloudwatch_role_arn {arn!r} is not an IAM role ARN; expected"
                " arn:aws:iam::<12-digit account ID>:role/<optional path/><role name>"
            )
        )
    if match.group("partition") != client.meta.partition:
        module.fail_json(
            msg=(
                f"cloudwatch_role_arn {arn} is a role of partition {match.group('partition')}, but region"
                f" {client.meta.region_name} is in partition {client.meta.partition}"
            )
        )


def find_account(client, module):
    return call_or_fail(module, f"Failed to read {describe_settings(client)}", get_account, client)


def not_propagated(error):
    details = error.response.get("Error", {})
    return details.get("Code") == "BadRequestException" and ROLE_NOT_PROPAGATED in details.get("Message", "")


def update_waiting_for_role(client, module, patches):
    """UpdateAccount, retried with exponential backoff while IAM has not propagated the role to API Gateway."""
    timeout = module.params["role_propagation_timeout"]
    arn = module.params["cloudwatch_role_arn"]
    waited, delay = 0, 1
    while True:
        try:
            return update_account(client, patches)
        except botocore.exceptions.ClientError as e:
            if not not_propagated(e):
                raise
            if waited >= timeout:
                module.fail_json_aws(
                    e,
                    msg=(
                        f"Failed to set the CloudWatch Logs role of {describe_settings(client)}: API Gateway could"
                        f" not use role {arn} after {waited} seconds. Check that the role exists, trusts"
                        " apigateway.amazonaws.com and may write to CloudWatch Logs (for example with the"
                        " AmazonAPIGatewayPushToCloudWatchLogs policy), or raise role_propagation_timeout if it"
                        " was just created"
                    ),
                )
            pause = min(delay, MAX_ROLE_DELAY, timeout - waited)
            time.sleep(pause)
            waited += pause
            delay *= 2


def set_role(client, module):
    patches = [{"op": "replace", "path": ROLE_PATH, "value": module.params["cloudwatch_role_arn"]}]
    try:
        return update_waiting_for_role(client, module, patches)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to set the CloudWatch Logs role of {describe_settings(client)} to"
                f" {module.params['cloudwatch_role_arn']}; the credentials need apigateway:PATCH on the account"
                " settings and iam:PassRole on the role"
            ),
            patch_operations=patches,
        )


def role_state(account):
    """The part of the account settings that the module manages, as shown in the diff."""
    return {"cloudwatch_role_arn": account.get("cloudwatchRoleArn") or None}


def snake_result(account):
    return snake_dict(account)


def warn_kept(client, module, current):
    module.warn(
        f"The API Gateway account settings of region {client.meta.region_name} already name CloudWatch Logs role"
        f" {current}, which other APIs of the account may rely on; it was kept instead of being replaced with"
        f" {module.params['cloudwatch_role_arn']}. Set overwrite to true to take the setting over."
    )


def ensure_role(client, module, account):
    """Return (changed, account result, before, after)."""
    before = role_state(account)
    current, desired = before["cloudwatch_role_arn"], module.params["cloudwatch_role_arn"]
    if current == desired:
        return False, snake_result(account), before, before
    if current is not None and not module.params["overwrite"]:
        warn_kept(client, module, current)
        return False, snake_result(account), before, before
    after = {"cloudwatch_role_arn": desired}
    if module.check_mode:
        return True, snake_result(account), before, after
    return True, snake_result(set_role(client, module)), before, after


def main():
    argument_spec = dict(
        cloudwatch_role_arn=dict(type="str", required=True),
        overwrite=dict(type="bool", default=False),
        role_propagation_timeout=dict(type="int", default=60),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    # Throttling only: unlike the other API Gateway modules, ConflictException is not retried.
    client = apigateway_client(module, THROTTLING_CODES)
    validate_role_arn(client, module)

    account = find_account(client, module)
    changed, result_account, before, after = ensure_role(client, module, account)

    exit_with_diff(module, before, after, changed=changed, account=result_account)


if __name__ == "__main__":
    main()
