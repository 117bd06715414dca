"""Unit tests of the drift_report callback: idle outside check mode, a report per host that names its path."""

import json
from types import SimpleNamespace

import pytest
from ansible import context

from ansible_collections.serverless.tasks_api.plugins.callback import drift_report as plugin


def task_result(host: str, name: str, data: dict):
    return SimpleNamespace(
        host=SimpleNamespace(get_name=lambda: host),
        task=SimpleNamespace(get_name=lambda: name),
        result=data,
    )


CHANGED = {
    "changed": True,
    "invocation": {"module_args": {"name": "tasks-api-local-tasks"}},
    "diff": {"before": {"point_in_time_recovery": False}, "after": {"point_in_time_recovery": True}},
}


@pytest.fixture
def check_mode(monkeypatch):
    def set_check(value: bool):
        monkeypatch.setattr(context, "CLIARGS", {"check": value})

    return set_check


def run(callback, path, host="local-us-east-1"):
    callback.v2_runner_on_ok(task_result(host, "storage : Create or update the tasks table", CHANGED))
    callback.v2_runner_on_ok(task_result(host, "storage : Read the table", {"changed": False}))
    callback.v2_runner_on_ok(task_result(host, "Hand the path", {"ansible_facts": {"drift_report_path": str(path)}}))


def test_in_check_mode_the_report_is_written_when_the_path_is_set(tmp_path, check_mode):
    check_mode(True)
    path = tmp_path / "reports" / "local-drift.json"
    run(plugin.CallbackModule(), path)
    assert json.loads(path.read_text()) == [
        {
            "resource": "tasks-api-local-tasks",
            "property": "point_in_time_recovery",
            "expected": True,
            "actual": False,
            "task": "Create or update the tasks table",
        }
    ]


def test_the_end_of_the_playbook_rewrites_each_host_s_report_and_summarizes(tmp_path, check_mode):
    check_mode(True)
    callback = plugin.CallbackModule()
    callback._display = SimpleNamespace(display=lambda message, stderr=False: shown.append((message, stderr)))
    shown: list[str] = []
    run(callback, tmp_path / "a-drift.json", host="a")
    callback.v2_runner_on_ok(
        task_result("b", "Hand the path", {"ansible_facts": {"drift_report_path": str(tmp_path / "b-drift.json")}})
    )
    callback.v2_playbook_on_stats(None)
    assert len(json.loads((tmp_path / "a-drift.json").read_text())) == 1
    assert json.loads((tmp_path / "b-drift.json").read_text()) == []
    # On stderr: stdout may be a machine-readable callback's (ansible.posix.json).
    assert shown == [
        (f"Drift report of a: 1 drifted resource: tasks-api-local-tasks; report at {tmp_path / 'a-drift.json'}", True),
        (f"Drift report of b: No drift; report at {tmp_path / 'b-drift.json'}", True),
    ]


def test_outside_check_mode_nothing_is_collected_or_written(tmp_path, check_mode):
    check_mode(False)
    callback = plugin.CallbackModule()
    run(callback, tmp_path / "local-drift.json")
    callback.v2_playbook_on_stats(None)
    assert not (tmp_path / "local-drift.json").exists()


def test_the_plugin_is_an_aggregate_callback_that_must_be_enabled():
    assert (plugin.CallbackModule.CALLBACK_TYPE, plugin.CallbackModule.CALLBACK_NEEDS_ENABLED) == ("aggregate", True)
    assert "name: drift_report" in plugin.DOCUMENTATION
