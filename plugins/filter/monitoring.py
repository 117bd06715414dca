"""Filters that derive the stack's CloudWatch alarms and dashboard from the function manifest.

Documentation: the sibling ``<filter>.yml`` files (rendered by ansible-doc).
"""

from __future__ import annotations

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import monitoring
from ansible_collections.serverless.tasks_api.plugins.plugin_utils.filter_errors import as_filter_error


def monitoring_alarms(functions, settings):
    return monitoring.monitoring_alarms(functions, settings)


def monitoring_function_alarm_names(functions, name_prefix):
    return monitoring.monitoring_function_alarm_names(functions, name_prefix)


def monitoring_dashboard(functions, settings, alarm_arns=None):
    return monitoring.monitoring_dashboard(functions, settings, alarm_arns)


def monitoring_composite_rule(alarm_names):
    return monitoring.monitoring_composite_rule(alarm_names)


def monitoring_composite_alarms(alarm_names, name):
    return monitoring.monitoring_composite_alarms(alarm_names, name)


class FilterModule:
    def filters(self):
        return {
            "monitoring_alarms": as_filter_error(monitoring_alarms),
            "monitoring_function_alarm_names": as_filter_error(monitoring_function_alarm_names),
            "monitoring_dashboard": as_filter_error(monitoring_dashboard),
            "monitoring_composite_rule": as_filter_error(monitoring_composite_rule),
            "monitoring_composite_alarms": as_filter_error(monitoring_composite_alarms),
        }
