#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: sns_topic_encryption
version_added: 1.0.0
short_description: Set the KMS key that encrypts an SNS topic at rest
description:
  - Sets or removes the server-side encryption of one existing SNS topic, its C(KmsMasterKeyId) attribute.
  - M(community.aws.sns_topic) manages a topic's policy, subscriptions and tags but not its encryption; use it to
    create the topic and this module after it.
  - The attribute is read with C(GetTopicAttributes) and compared as text with O(kms_master_key_id), so give the key
    the same way every time (a key ARN, a key id, an alias name or an alias ARN); C(SetTopicAttributes) is called
    only when they differ. A run with the same key changes nothing.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  topic_arn:
    description:
      - The ARN of the topic. The topic must exist.
    required: true
    type: str
  kms_master_key_id:
    description:
      - The KMS key that encrypts the topic's messages at rest, as SNS stores it, for example
        V(arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab) or
        V(alias/tasks-api-prod-alarms).
      - An empty string removes the encryption.
      - A service that publishes to the topic (CloudWatch alarms, for example) must be allowed C(kms:GenerateDataKey*)
        and C(kms:Decrypt) by the key's policy. The AWS managed key C(alias/aws/sns) allows no service principal, so
        CloudWatch alarms cannot publish to a topic encrypted with it; use a customer managed key for them.
    required: true
    type: str
notes:
  - The credentials need C(sns:GetTopicAttributes) even when nothing changes, and C(sns:SetTopicAttributes) plus
    the key's C(kms:DescribeKey) to change the encryption.
  - Throttling is retried with backoff for about ten attempts.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the alarm topic
  community.aws.sns_topic:
    name: tasks-api-prod-alarms
  register: alarm_topic

- name: Encrypt the alarm topic with the key CloudWatch alarms may use
  serverless.tasks_api.sns_topic_encryption:
    topic_arn: "{{ alarm_topic.sns_arn }}"
    kms_master_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab

- name: Remove the encryption of a topic
  serverless.tasks_api.sns_topic_encryption:
    topic_arn: arn:aws:sns:us-east-1:123456789012:tasks-api-dev-alarms
    kms_master_key_id: ""
"""

RETURN = r"""
topic_arn:
  description: The ARN of the topic.
  returned: always
  type: str
  sample: arn:aws:sns:us-east-1:123456789012:tasks-api-prod-alarms
kms_master_key_id:
  description:
    - The key that encrypts the topic after the module ran (in check mode, the key it would have); empty when the
      topic is not encrypted.
  returned: always
  type: str
  sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
diff:
  description: The key before and after.
  returned: in diff mode
  type: dict
  sample:
    before: {"kms_master_key_id": ""}
    after: {"kms_master_key_id": "alias/tasks-api-prod-alarms"}
"""

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff

ATTRIBUTE = "KmsMasterKeyId"


def get_key(client, topic_arn):
    """The topic's KmsMasterKeyId; empty when the topic is not encrypted."""
    attributes = client.get_topic_attributes(aws_retry=True, TopicArn=topic_arn)["Attributes"]
    return attributes.get(ATTRIBUTE, "")


def set_key(client, topic_arn, key):
    client.set_topic_attributes(aws_retry=True, TopicArn=topic_arn, AttributeName=ATTRIBUTE, AttributeValue=key)


def find_key(client, module):
    topic_arn = module.params["topic_arn"]
    try:
        return get_key(client, topic_arn)
    except is_boto3_error_code("NotFound"):
        module.fail_json(msg=f"SNS topic {topic_arn} does not exist: create it first (community.aws.sns_topic)")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read the attributes of SNS topic {topic_arn}")


def write_key(client, module, key):
    topic_arn = module.params["topic_arn"]
    try:
        set_key(client, topic_arn, key)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        action = f"encrypt SNS topic {topic_arn} with {key}" if key else f"remove the encryption of {topic_arn}"
        module.fail_json_aws(e, msg=f"Failed to {action}; check that the key exists and the credentials may use it")


def main():
    argument_spec = dict(
        topic_arn=dict(type="str", required=True),
        kms_master_key_id=dict(type="str", required=True, no_log=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    client = module.client("sns", retry_decorator=jittered_backoff())

    before = find_key(client, module)
    after = module.params["kms_master_key_id"]
    changed = before != after
    if changed and not module.check_mode:
        write_key(client, module, after)
        after = find_key(client, module)

    result = {"changed": changed, "topic_arn": module.params["topic_arn"], "kms_master_key_id": after}
    if module._diff:
        result["diff"] = {"before": {"kms_master_key_id": before}, "after": {"kms_master_key_id": after}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
