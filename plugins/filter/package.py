"""Filters that build the Lambda deployment package.

Documentation: the sibling ``<filter>.yml`` files (rendered by ansible-doc).
"""

from __future__ import annotations

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import package
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.filter_errors import as_filter_error


def lambda_package(source_dir, handlers=None, architecture="arm64"):
    return package.lambda_package(source_dir, handlers, architecture)


class FilterModule:
    def filters(self):
        return {"lambda_package": as_filter_error(lambda_package)}
