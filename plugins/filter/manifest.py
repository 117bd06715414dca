"""Filters that check and normalise the function manifest (the API's functions, routes and table access).

Documentation: the sibling ``<filter>.yml`` files (rendered by ansible-doc).
"""

from __future__ import annotations

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import function_manifest as manifest
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.filter_errors import as_filter_error


def function_manifest_problems(functions):
    return manifest.manifest_problems(functions)


def function_manifest(functions):
    return manifest.normalize_manifest(functions)


class FilterModule:
    def filters(self):
        return {
            "function_manifest_problems": function_manifest_problems,
            "function_manifest": as_filter_error(function_manifest),
        }
