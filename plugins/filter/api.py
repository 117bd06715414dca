"""Filters that derive the API from the function manifest.

Documentation: the sibling ``<filter>.yml`` files (rendered by ansible-doc).
"""

from __future__ import annotations

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import api_routes as routes
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.filter_errors import as_filter_error


def api_routes(functions, alias_arns, authorization="API_KEY"):
    return routes.api_routes(functions, alias_arns, authorization)


def api_invoke_permissions(functions, names, alias_name, api_id, region, account_id, partition="aws"):
    return routes.api_invoke_permissions(functions, names, alias_name, api_id, region, account_id, partition)


def execute_api_source_arn(route, api_id, region, account_id, partition="aws"):
    return routes.execute_api_source_arn(route, api_id, region, account_id, partition)


class FilterModule:
    def filters(self):
        return {
            "api_invoke_permissions": as_filter_error(api_invoke_permissions),
            "api_routes": as_filter_error(api_routes),
            "execute_api_source_arn": as_filter_error(execute_api_source_arn),
        }
