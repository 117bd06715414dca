"""Aggregate callback: the drift that a check-mode run finds, written as a JSON report per host."""

from __future__ import annotations

# ruff: noqa: E402 - DOCUMENTATION comes first, as in every Ansible plugin

DOCUMENTATION = """
name: drift_report
type: aggregate
short_description: Write the drift that playbooks/drift.yml finds to <outputs>/<environment>-drift.json
version_added: 1.0.0
author: Serverless tasks API maintainers (!UNKNOWN)
description:
  - Collects every changed task result of a check-mode run and turns it into property-level entries
    C({resource, property, expected, actual, task}) (the logic is in
    C(plugins/plugin_utils/drift_report.py)). A module's C(diff) gives one entry per differing leaf;
    a result without a diff still names its resource, with the property C((not reported by module)).
  - Writes nothing unless the run is in check mode and the host sets the fact C(drift_report_path), which
    C(playbooks/drift.yml) does after the site plays. The report is written at that moment (so that a
    following task can read it) and again at the end of the playbook.
  - The report is a JSON list, empty when nothing drifted.
  - Enabled in the collection's C(ansible.cfg) (C(callbacks_enabled)); see C(docs/drift.md).
requirements:
  - enabled in C(callbacks_enabled)
"""

EXAMPLES = """
# ansible.cfg (the collection's own enables it already):
#   [defaults]
#   callbacks_enabled = serverless.tasks_api.drift_report
# then, in check mode:
#   ansible-playbook playbooks/drift.yml -i inventories/prod --check --diff
# writes outputs/prod-drift.json:
#   [{"resource": "tasks-api-prod-tasks", "property": "point_in_time_recovery",
#     "expected": true, "actual": false, "task": "Create or update the tasks table"}]
"""

import json
import os

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.serverless.tasks_api.plugins.plugin_utils import drift_report

PATH_FACT = "drift_report_path"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "serverless.tasks_api.drift_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._entries: dict[str, list[dict]] = {}
        self._paths: dict[str, str] = {}

    @staticmethod
    def _check_mode() -> bool:
        return bool((context.CLIARGS or {}).get("check"))

    def v2_runner_on_ok(self, result):
        if not self._check_mode():
            return
        host = result.host.get_name()
        data = result.result
        path = (data.get("ansible_facts") or {}).get(PATH_FACT)
        if path:
            self._paths[host] = str(path)
            self._write(host)
            return
        task = result.task.get_name().split(" : ", 1)[-1]
        self._entries.setdefault(host, []).extend(drift_report.entries_from_result(task, data))

    def v2_playbook_on_stats(self, stats):
        for host, path in self._paths.items():
            self._write(host)
            summary = drift_report.summary(self._entries.get(host, []), path)
            self._display.display(f"Drift report of {host}: {summary}", stderr=True)

    def _write(self, host: str) -> None:
        path = self._paths[host]
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as report:
            json.dump(self._entries.get(host, []), report, indent=2, default=str)
            report.write("\n")
