"""Filters that build least-privilege IAM: the functions' trust and execution policies and roles, the bucket policy.

Documentation: the sibling ``<filter>.yml`` files (rendered by ansible-doc).
"""

from __future__ import annotations

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import iam_policies
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.filter_errors import as_filter_error


def lambda_trust_policy(account_id):
    return iam_policies.lambda_trust_policy(account_id)


def service_trust_policy(account_id, service):
    return iam_policies.service_trust_policy(account_id, service)


def lambda_execution_policy(function, table_arn, log_group_arn, region):
    return iam_policies.lambda_execution_policy(function, table_arn, log_group_arn, region)


def lambda_execution_roles(
    functions,
    name_prefix,
    table_arn,
    account_id,
    region,
    partition,
    path="/",
    permissions_boundary="",
    tags=None,
):
    return iam_policies.lambda_execution_roles(
        functions, name_prefix, table_arn, account_id, region, partition, path, permissions_boundary, tags
    )


def tls_only_bucket_policy(bucket_name, partition="aws"):
    return iam_policies.tls_only_bucket_policy(bucket_name, partition)


class FilterModule:
    def filters(self):
        return {
            "lambda_trust_policy": as_filter_error(lambda_trust_policy),
            "service_trust_policy": as_filter_error(service_trust_policy),
            "lambda_execution_policy": as_filter_error(lambda_execution_policy),
            "lambda_execution_roles": as_filter_error(lambda_execution_roles),
            "tls_only_bucket_policy": as_filter_error(tls_only_bucket_policy),
        }
