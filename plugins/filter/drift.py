"""Filters that report drift between wanted and actual settings.

Documentation: the sibling ``<filter>.yml`` files (rendered by ansible-doc).
"""

from __future__ import annotations

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import drift
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.filter_errors import as_filter_error


def drifted_settings(desired, actual):
    return drift.drifted_settings(desired, actual)


class FilterModule:
    def filters(self):
        return {"drifted_settings": as_filter_error(drifted_settings)}
