#!/usr/bin/python

# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

# Ansible modules start with their documentation, so the imports come after it.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: vpc_gateway_endpoint
version_added: 1.0.0
short_description: Converge an AWS VPC Gateway endpoint found by its Name tag
description:
  - Creates, updates or deletes one Gateway VPC endpoint (for example for S3 or DynamoDB).
  - The endpoint is found again by its VPC, its service and the value of its C(Name) tag, so that
    changing O(route_table_ids) or O(policy) modifies the existing endpoint instead of creating a second one.
  - Unlike M(amazon.aws.ec2_vpc_endpoint), an existing endpoint has its route tables, its policy and its
    tags brought to the requested state.
  - Endpoints in the states C(deleted), C(deleting), C(failed), C(rejected) or C(expired) are ignored.
  - This module supports check mode and diff mode.
author: Serverless tasks API maintainers (!UNKNOWN)
options:
  vpc_id:
    description:
      - The ID of the VPC of the endpoint.
    required: true
    type: str
  service:
    description:
      - The full name of the AWS service, for example V(com.amazonaws.us-east-1.s3).
    required: true
    type: str
  name:
    description:
      - The value of the C(Name) tag of the endpoint, by which the endpoint is found again.
      - The C(Name) tag is always set to this value, whatever O(tags) and O(purge_tags) say.
    required: true
    type: str
  route_table_ids:
    description:
      - The IDs of the route tables that get a route to the service through the endpoint.
      - Route tables of an existing endpoint that are not listed are detached from it.
    type: list
    elements: str
    default: []
  policy:
    description:
      - The endpoint policy, as a JSON document or a dictionary.
      - When omitted the endpoint gets the AWS default policy, which allows full access to the service.
        An existing endpoint with another policy is reset to that default.
    type: json
  tags:
    description:
      - A dictionary of tags to set on the endpoint, in addition to the C(Name) tag.
      - A C(Name) key in O(tags) is replaced by O(name).
      - When omitted, the tags of an existing endpoint are left alone.
    type: dict
    aliases: ["resource_tags"]
  purge_tags:
    description:
      - Whether tags of an existing endpoint that are not in O(tags) are removed.
      - Has no effect when O(tags) is omitted. The C(Name) tag is never removed.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the endpoint, V(absent) deletes it.
      - With V(absent), an endpoint that does not exist is not an error.
    choices: ["present", "absent"]
    default: present
    type: str
notes:
  - The module does not wait for a new endpoint to become C(available); Gateway endpoints usually are at once.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Route S3 traffic of the private route tables through a Gateway endpoint
  serverless.tasks_api.vpc_gateway_endpoint:
    vpc_id: vpc-0123456789abcdef0
    service: com.amazonaws.us-east-1.s3
    name: tasks-api-prod-s3
    route_table_ids:
      - rtb-0123456789abcdef0
      - rtb-0fedcba9876543210
    policy: "{{ lookup('ansible.builtin.file', 's3-endpoint-policy.json') }}"
    tags:
      Environment: prod
  register: s3_endpoint

- name: Same endpoint, one route table and the default full-access policy
  serverless.tasks_api.vpc_gateway_endpoint:
    vpc_id: vpc-0123456789abcdef0
    service: com.amazonaws.us-east-1.s3
    name: tasks-api-prod-s3
    route_table_ids:
      - rtb-0123456789abcdef0

- name: Delete the endpoint
  serverless.tasks_api.vpc_gateway_endpoint:
    vpc_id: vpc-0123456789abcdef0
    service: com.amazonaws.us-east-1.s3
    name: tasks-api-prod-s3
    state: absent
"""

RETURN = r"""
vpc_endpoint:
  description:
    - The endpoint as AWS describes it after the module ran.
    - Empty when O(state=absent), and when the endpoint would be created in check mode.
  returned: always
  type: dict
  contains:
    vpc_endpoint_id:
      description: The ID of the endpoint.
      returned: when the endpoint exists
      type: str
      sample: vpce-0123456789abcdef0
    vpc_endpoint_type:
      description: The type of the endpoint.
      returned: when the endpoint exists
      type: str
      sample: Gateway
    vpc_id:
      description: The ID of the VPC.
      returned: when the endpoint exists
      type: str
    service_name:
      description: The name of the service.
      returned: when the endpoint exists
      type: str
      sample: com.amazonaws.us-east-1.s3
    state:
      description: The state of the endpoint.
      returned: when the endpoint exists
      type: str
      sample: available
    policy_document:
      description: The policy of the endpoint, as a JSON string.
      returned: when the endpoint exists
      type: str
    route_table_ids:
      description: The route tables associated with the endpoint.
      returned: when the endpoint exists
      type: list
      elements: str
    creation_timestamp:
      description: When the endpoint was created.
      returned: when the endpoint exists
      type: str
    owner_id:
      description: The ID of the AWS account that owns the endpoint.
      returned: when the endpoint exists
      type: str
    tags:
      description: The tags of the endpoint.
      returned: when the endpoint exists
      type: dict
      sample: {"Name": "tasks-api-prod-s3", "Environment": "prod"}
diff:
  description: The route tables (sorted), policy and tags before and after; C(before) is empty for a creation.
  returned: in diff mode
  type: dict
  sample:
    before: {}
    after:
      route_table_ids: ["rtb-0123456789abcdef0"]
      policy: {"Version": "2008-10-17", "Statement": []}
      tags: {"Name": "tasks-api-prod-s3"}
"""

import json
import uuid

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code, normalize_boto3_result
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import ensure_ec2_tags
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
    boto3_tag_specifications,
)
from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff

DEFAULT_POLICY = {
    "Version": "2008-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}
IGNORED_STATES = ("deleted", "deleting", "failed", "rejected", "expired")
NOT_FOUND_CODES = ("InvalidVpcEndpointId.NotFound", "InvalidVpcEndpoint.NotFound")


@jittered_backoff()
def describe_gateway_endpoints(client, filters):
    paginator = client.get_paginator("describe_vpc_endpoints")
    return paginator.paginate(Filters=filters).build_full_result()["VpcEndpoints"]


@jittered_backoff("InvalidVpcEndpointId.NotFound")
def describe_endpoint(client, endpoint_id):
    """Describe one endpoint by ID, retrying while a new endpoint is not yet visible."""
    return client.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]


def create_endpoint(client, params):
    return client.create_vpc_endpoint(aws_retry=True, **params)["VpcEndpoint"]


def modify_endpoint(client, params):
    client.modify_vpc_endpoint(aws_retry=True, **params)


def delete_endpoint(client, endpoint_id):
    """Delete one endpoint; return the errors AWS reports other than "not found"."""
    try:
        result = client.delete_vpc_endpoints(aws_retry=True, VpcEndpointIds=[endpoint_id])
    except is_boto3_error_code(list(NOT_FOUND_CODES)):
        return []
    return [item["Error"] for item in result.get("Unsuccessful", []) if item["Error"]["Code"] not in NOT_FOUND_CODES]


def find_endpoint(client, module):
    """Return the live Gateway endpoint of the VPC and service tagged Name=<name>, or None."""
    vpc_id, service, name = (module.params[key] for key in ("vpc_id", "service", "name"))
    filters = ansible_dict_to_boto3_filter_list(
        {"vpc-id": vpc_id, "service-name": service, "vpc-endpoint-type": "Gateway", "tag:Name": name}
    )
    try:
        endpoints = describe_gateway_endpoints(client, filters)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to look up the Gateway endpoints of {vpc_id} for {service}")
    endpoints = [endpoint for endpoint in endpoints if endpoint["State"].lower() not in IGNORED_STATES]
    if len(endpoints) > 1:
        ids = sorted(endpoint["VpcEndpointId"] for endpoint in endpoints)
        module.fail_json(
            msg=(
                f"Found {len(ids)} Gateway endpoints for {service} in {vpc_id} tagged Name={name}: {', '.join(ids)}."
                " Delete the extra endpoints or give them distinct Name tags."
            ),
            vpc_endpoint_ids=ids,
        )
    return endpoints[0] if endpoints else None


def desired_policy(module):
    policy = module.params["policy"]
    if policy is None:
        return DEFAULT_POLICY
    try:
        document = json.loads(policy)
    except ValueError as e:
        module.fail_json(msg=f"policy is not valid JSON: {e}")
    if not isinstance(document, dict):
        module.fail_json(msg=f"policy must be a JSON object, got {type(document).__name__}")
    return document


def current_policy(endpoint):
    try:
        return json.loads(endpoint.get("PolicyDocument") or "{}")
    except ValueError:
        return endpoint["PolicyDocument"]


def endpoint_state(endpoint):
    """The parts of an endpoint that the module manages, as shown in the diff."""
    return {
        "route_table_ids": sorted(endpoint.get("RouteTableIds", [])),
        "policy": current_policy(endpoint),
        "tags": boto3_tag_list_to_ansible_dict(endpoint.get("Tags", [])),
    }


def desired_tags(module, current_tags):
    tags, name = module.params["tags"], module.params["name"]
    if tags is None:
        result = dict(current_tags)
    elif module.params["purge_tags"]:
        result = dict(tags)
    else:
        result = {**current_tags, **tags}
    result["Name"] = name
    return result


def desired_state(module, current):
    return {
        "route_table_ids": sorted(set(module.params["route_table_ids"])),
        "policy": desired_policy(module),
        "tags": desired_tags(module, current.get("tags", {})),
    }


def create_gateway_endpoint(client, module, desired):
    """Create the endpoint; return its ID (None in check mode)."""
    if module.check_mode:
        return None
    params = {
        "VpcEndpointType": "Gateway",
        "VpcId": module.params["vpc_id"],
        "ServiceName": module.params["service"],
        "PolicyDocument": json.dumps(desired["policy"]),
        "TagSpecifications": boto3_tag_specifications(desired["tags"], ["vpc-endpoint"]),
        "ClientToken": str(uuid.uuid4()),
    }
    if desired["route_table_ids"]:
        params["RouteTableIds"] = desired["route_table_ids"]
    try:
        return create_endpoint(client, params)["VpcEndpointId"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e,
            msg=(
                f"Failed to create a Gateway endpoint for {module.params['service']} in {module.params['vpc_id']};"
                " check that the service name is offered in the region and that the route tables belong to the VPC"
            ),
        )


def modification(endpoint, current, desired):
    """The ModifyVpcEndpoint parameters that bring the endpoint to the desired state (ID only when none)."""
    params = {"VpcEndpointId": endpoint["VpcEndpointId"]}
    to_add = set(desired["route_table_ids"]) - set(current["route_table_ids"])
    to_remove = set(current["route_table_ids"]) - set(desired["route_table_ids"])
    if to_add:
        params["AddRouteTableIds"] = sorted(to_add)
    if to_remove:
        params["RemoveRouteTableIds"] = sorted(to_remove)
    if compare_policies(current["policy"], desired["policy"]):
        params["PolicyDocument"] = json.dumps(desired["policy"])
    return params


def update_gateway_endpoint(client, module, endpoint, current, desired):
    """Converge route tables, policy and tags of an existing endpoint; return whether anything changed."""
    changed = False
    params = modification(endpoint, current, desired)
    if len(params) > 1:
        changed = True
        if not module.check_mode:
            try:
                modify_endpoint(client, params)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(
                    e,
                    msg=(
                        f"Failed to update Gateway endpoint {endpoint['VpcEndpointId']};"
                        " check that the route tables exist and belong to the VPC and that the policy is valid"
                    ),
                )
    if module.params["tags"] is not None:
        changed |= ensure_ec2_tags(
            client,
            module,
            endpoint["VpcEndpointId"],
            resource_type="vpc-endpoint",
            tags=desired["tags"],
            purge_tags=module.params["purge_tags"],
        )
    return changed


def delete_gateway_endpoint(client, module, endpoint):
    if module.check_mode:
        return
    endpoint_id = endpoint["VpcEndpointId"]
    try:
        errors = delete_endpoint(client, endpoint_id)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to delete Gateway endpoint {endpoint_id}")
    if errors:
        module.fail_json(msg=f"Failed to delete Gateway endpoint {endpoint_id}: {errors[0]['Message']}", errors=errors)


def describe_result(client, module, endpoint_id):
    """Describe the endpoint again after a change, as the module returns it."""
    try:
        endpoint = describe_endpoint(client, endpoint_id)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe Gateway endpoint {endpoint_id}")
    return snake_result(endpoint)


def snake_result(endpoint):
    """An endpoint as the module returns it: snake_case keys, tags as a dict."""
    result = camel_dict_to_snake_dict(normalize_boto3_result(endpoint), ignore_list=["Tags"])
    result["tags"] = boto3_tag_list_to_ansible_dict(endpoint.get("Tags", []))
    return result


def ensure_present(client, module, endpoint):
    """Return (changed, endpoint ID or None, before, after)."""
    before = endpoint_state(endpoint) if endpoint else {}
    after = desired_state(module, before)
    if endpoint is None:
        return True, create_gateway_endpoint(client, module, after), before, after
    changed = update_gateway_endpoint(client, module, endpoint, before, after)
    return changed, endpoint["VpcEndpointId"], before, after


def ensure_absent(client, module, endpoint):
    """Return (changed, None, before, after)."""
    if endpoint is None:
        return False, None, {}, {}
    delete_gateway_endpoint(client, module, endpoint)
    return True, None, endpoint_state(endpoint), {}


def main():
    argument_spec = dict(
        vpc_id=dict(type="str", required=True),
        service=dict(type="str", required=True),
        name=dict(type="str", required=True),
        route_table_ids=dict(type="list", elements="str", default=[]),
        policy=dict(type="json"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    client = module.client("ec2", retry_decorator=jittered_backoff())

    endpoint = find_endpoint(client, module)
    if module.params["state"] == "present":
        changed, endpoint_id, before, after = ensure_present(client, module, endpoint)
    else:
        changed, endpoint_id, before, after = ensure_absent(client, module, endpoint)

    result = {"changed": changed, "vpc_endpoint": {}}
    if endpoint_id and not changed:
        result["vpc_endpoint"] = snake_result(endpoint)
    elif endpoint_id:
        result["vpc_endpoint"] = describe_result(client, module, endpoint_id)
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
