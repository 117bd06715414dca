# Copyright: Contributors to the serverless.tasks_api collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

"""Helpers shared by the API Gateway modules of the collection.

The modules talk to the ``apigateway`` client through the retrying client of
``AnsibleAWSModule`` (every call passes ``aws_retry=True``), read paginated
lists by following ``position``, keep tags as a plain dict on the resource ARN,
and return what API Gateway describes in snake_case with the tags as given.
"""

try:  # noqa: SIM105 - the amazon.aws idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code, normalize_boto3_result
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.serverless.tasks_api.plugins.module_utils.retries import jittered_backoff
from ansible_collections.serverless.tasks_api.plugins.module_utils.tagging import requested_tags

# Extra error codes retried with backoff, on top of the throttling and 5xx codes of module_utils/retries.py:
# throttling only, or throttling and concurrent changes.
THROTTLING_CODES = ["TooManyRequestsException"]
RETRY_CODES = [*THROTTLING_CODES, "ConflictException"]
PAGE_SIZE = 500


def apigateway_retry(codes=None):
    """The retry decorator of the API Gateway calls: the collection's bounded jittered backoff, on codes too.

    :param codes: extra error codes to retry on; RETRY_CODES when None.
    """
    return jittered_backoff(*(RETRY_CODES if codes is None else codes))


def apigateway_client(module, codes=None):
    """The ``apigateway`` client of the module, whose calls retry with ``aws_retry=True``.

    :param module: the AnsibleAWSModule.
    :param codes: extra error codes to retry on; RETRY_CODES when None.
    """
    return module.client("apigateway", retry_decorator=apigateway_retry(codes))


def apigateway_arn(client, path):
    """The ARN of an API Gateway resource of the client's partition and region, such as ``/apikeys/ID``."""
    return f"arn:{client.meta.partition}:apigateway:{client.meta.region_name}::{path}"


def all_items(operation, **params):
    """Every item of a paginated API Gateway read, following `position`.

    :param operation: a method of the retrying client, such as ``client.get_api_keys``.
    :param params: the parameters of the read, without ``limit`` and ``position``.
    """
    items, position = [], None
    while True:
        page = operation(aws_retry=True, limit=PAGE_SIZE, **params, **({"position": position} if position else {}))
        items.extend(page.get("items", []))
        position = page.get("position")
        if not position:
            return items


def call_or_fail(module, msg, function, *args, **kwargs):
    """Return ``function(*args, **kwargs)``; fail the module with msg when botocore raises."""
    try:
        return function(*args, **kwargs)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=msg)


def aws_call(module, action, operation, **params):
    """Call an API Gateway operation of the retrying client; fail saying what could not be done.

    :param action: what the call does, as it follows "Failed to " in the failure message.
    :param operation: a method of the retrying client.
    """
    return call_or_fail(module, f"Failed to {action}", operation, aws_retry=True, **params)


def delete_unless_gone(module, msg, function, *args, **kwargs):
    """Run a deletion; return False when API Gateway says the resource is gone, True when deleted.

    Fails the module with msg on other botocore errors.
    """
    try:
        function(*args, **kwargs)
    except is_boto3_error_code("NotFoundException"):
        return False
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=msg)
    return True


def update_tags(client, module, arn, current_tags, resource):
    """Bring the tags on arn to O(tags) and O(purge_tags), removing before adding; return whether any changed.

    Nothing is done when O(tags) is omitted, or in check mode.

    :param resource: the resource as the failure message names it, such as ``REST API a1b2c3d4e5``.
    """
    tags = requested_tags(module)
    if tags is None:
        return False
    to_set, to_remove = compare_aws_tags(current_tags, tags, module.params["purge_tags"])
    if not (to_set or to_remove):
        return False
    if module.check_mode:
        return True
    try:
        if to_remove:
            client.untag_resource(aws_retry=True, resourceArn=arn, tagKeys=to_remove)
        if to_set:
            client.tag_resource(aws_retry=True, resourceArn=arn, tags=to_set)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to update the tags of {resource}")
    return True


def plain_tags(resource):
    """The tags of an API Gateway resource as a new dict, empty when it has none."""
    return dict(resource.get("tags") or {})


def snake_dict(resource, leave_out=()):
    """A resource as API Gateway describes it, in snake_case, without ResponseMetadata and the keys in leave_out.

    Tag keys under ``tags`` keep their case.
    """
    described = {key: value for key, value in resource.items() if key not in ("ResponseMetadata", *leave_out)}
    return camel_dict_to_snake_dict(normalize_boto3_result(described), ignore_list=["tags"])


def snake_dict_with_tags(resource, leave_out=()):
    """snake_dict of the resource, with its tags as a plain dict under ``tags``."""
    result = snake_dict(resource, leave_out)
    result["tags"] = plain_tags(resource)
    return result


def exit_with_diff(module, before, after, **result):
    """Exit with result, and in diff mode with ``diff`` holding before and after."""
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)
