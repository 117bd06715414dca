"""Safe deployments: canary shifts of the live aliases, rolled back on ALARM, and the rollback playbook.

One full converge on the local endpoint, then each scenario makes its own code change (a comment appended to a
handler in a copy of lambda_src, which changes the one package of every function) and converges the functions
role alone with short bake times.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from types import SimpleNamespace

import pytest
from playbook_runner import (
    ANSIBLE_PLAYBOOK,
    REPO_ROOT,
    PlaybookRun,
    converge_site,
    playbook_env,
    read_outputs,
    run_playbook,
)

PREFIX = "tasks-api-local"
LIST = f"{PREFIX}-list"
ERRORS_ALARM = f"{LIST}-errors"
ALIAS = "live"
SHIFT_TASK = "Shift the traffic to the new versions"
QUICK_CANARY = {
    "functions_deployment_strategy": {"type": "canary", "percent": 10, "interval_seconds": 3},
    "functions_deployment_poll_seconds": 1,
}
# Only the list function shifts, slowly enough for the test to see the split and raise its alarm.
SLOW_LIST_CANARY = {
    "functions_deployment_strategies": {"list": {"type": "canary", "percent": 10, "interval_seconds": 60}},
    "functions_deployment_poll_seconds": 1,
}
SPLIT_TIMEOUT_SECONDS = 240


@pytest.fixture(scope="module")
def stack(local_endpoint, tmp_path_factory):
    """The whole stack converged once (functions, their alarms) with the functions at version 1."""
    local_endpoint.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    first = converge_site(local_endpoint.url, outputs, "all")
    assert first.returncode == 0, first.describe()
    return SimpleNamespace(
        endpoint=local_endpoint,
        outputs=outputs,
        sources=tmp_path_factory.mktemp("sources"),
        lambda_=local_endpoint.client("lambda"),
        cloudwatch=local_endpoint.client("cloudwatch"),
    )


def changed_source(stack):
    """A copy of lambda_src with a new comment in a handler: a new package, so a new version of every function."""
    source = stack.sources / uuid.uuid4().hex
    shutil.copytree(REPO_ROOT / "lambda_src", source, ignore=shutil.ignore_patterns("__pycache__"))
    with (source / "list_tasks.py").open("a") as handler:
        handler.write(f"# change {source.name}\n")
    return source


def converge_functions(stack, source, *args, **extra_vars):
    return converge_site(
        stack.endpoint.url, stack.outputs, "functions", *args, stack_functions_source_dir=str(source), **extra_vars
    )


def alias(stack, function=LIST):
    return stack.lambda_.get_alias(FunctionName=function, Name=ALIAS)


def weights(alias_):
    return (alias_.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}


def latest_version(stack, function=LIST):
    versions = stack.lambda_.list_versions_by_function(FunctionName=function)["Versions"]
    return str(max(int(version["Version"]) for version in versions if version["Version"].isdigit()))


def shift_results(run):
    tasks = [task for play in run.output.get("plays", []) for task in play["tasks"]]
    named = [task for task in tasks if task["task"]["name"].split(" : ", 1)[-1].startswith(SHIFT_TASK)]
    return [result for task in named for result in task["hosts"].values()]


def set_alarm(stack, state):
    stack.cloudwatch.set_alarm_state(AlarmName=ERRORS_ALARM, StateValue=state, StateReason="test_deployments")


def deployed_all_at_once(stack):
    """A new version of every function, served at once; returns the list function's version before it."""
    before = alias(stack)["FunctionVersion"]
    run = converge_functions(stack, changed_source(stack))
    assert run.returncode == 0, run.describe()
    assert alias(stack)["FunctionVersion"] != before
    return before


def start_converge(stack, source, log_path, **extra_vars):
    """The functions role in the background: (process, its output file)."""
    command = [str(ANSIBLE_PLAYBOOK), "site.yml", "-i", "inventories/local", "--tags", "functions"]
    variables = {"stack_outputs_dir": str(stack.outputs), "stack_functions_source_dir": str(source), **extra_vars}
    command += ["-e", json.dumps(variables)]
    log = log_path.open("w")
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=playbook_env(stack.endpoint.url), stdout=log, stderr=subprocess.STDOUT
    )
    return process, log


def wait_for_split(stack, process):
    deadline = time.monotonic() + SPLIT_TIMEOUT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if weights(alias(stack)):
            return alias(stack)
        time.sleep(0.2)
    pytest.fail(f"the alias of {LIST} never split its traffic (run exited: {process.poll()})")


def finished(process, log, log_path) -> PlaybookRun:
    process.wait(timeout=SPLIT_TIMEOUT_SECONDS)
    log.close()
    text = log_path.read_text()
    try:
        output = json.loads(text)
    except json.JSONDecodeError:
        output = {"unparsed": text[-4000:]}
    return PlaybookRun(process.returncode, output, "", text)


# (a) check mode


def test_check_mode_reports_the_canary_and_moves_nothing(stack):
    served, latest = alias(stack)["FunctionVersion"], latest_version(stack)

    run = converge_functions(stack, changed_source(stack), "--check", "--diff", **QUICK_CANARY)

    assert run.returncode == 0, run.describe()
    (result,) = shift_results(run)
    assert result["changed"] is True
    plan = result["functions"][LIST]
    assert (plan["outcome"], plan["steps"], plan["target_version"]) == ("shifted", [10, 100], "(new version)")
    assert (alias(stack)["FunctionVersion"], latest_version(stack)) == (served, latest)
    assert weights(alias(stack)) == {}


# (b) a canary that completes


def test_a_canary_completes_and_a_rerun_changes_nothing(stack):
    previous = alias(stack)["FunctionVersion"]
    source = changed_source(stack)

    started = time.monotonic()
    run = converge_functions(stack, source, **QUICK_CANARY)
    seconds = time.monotonic() - started

    assert run.returncode == 0, run.describe()
    print(f"\ncanary run (5 functions, 10% for 3 s, alarms polled every 1 s): {seconds:.1f} s wall time")
    (result,) = shift_results(run)
    assert {shifted["outcome"] for shifted in result["functions"].values()} == {"shifted"}
    assert result["functions"][LIST]["steps"] == [10, 100]
    live = alias(stack)
    target = latest_version(stack)
    assert (live["FunctionVersion"], weights(live)) == (target, {})
    assert live["Description"].endswith(f"[previous version {previous}]")
    assert read_outputs(stack.outputs)["functions"]["versions"]["list"] == target
    again = converge_functions(stack, source, **QUICK_CANARY)
    assert again.returncode == 0, again.describe()
    assert again.changed == 0, again.changed_tasks()


# (c) an alarm during the bake rolls back; no retry unless asked


def test_an_alarm_during_the_canary_rolls_back_and_is_not_retried(stack, tmp_path):
    previous = alias(stack)["FunctionVersion"]
    source = changed_source(stack)
    log_path = tmp_path / "canary.json"
    process, log = start_converge(stack, source, log_path, **SLOW_LIST_CANARY)
    try:
        split = wait_for_split(stack, process)
        set_alarm(stack, "ALARM")
        run = finished(process, log, log_path)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()

    bad = latest_version(stack)
    assert split["FunctionVersion"] == previous and weights(split) == {bad: 0.1}
    assert run.returncode != 0
    message = " ".join(run.failure_messages())
    assert f"function {LIST}: alarm {ERRORS_ALARM} went into ALARM" in message
    assert f"moved back to version {previous}; version {bad} stays published but unused" in message
    live = alias(stack)
    assert (live["FunctionVersion"], weights(live)) == (previous, {})
    assert live["Description"].endswith(f"[rolled back version {bad}]")

    set_alarm(stack, "OK")
    again = converge_functions(stack, source, **SLOW_LIST_CANARY)
    assert again.returncode == 0, again.describe()
    # No change in AWS; the outputs file, which the failed run did not reach, gets the new package.
    assert [task for task in again.changed_tasks() if not task.startswith("Write the stack outputs")] == []
    assert shift_results(again)[0]["functions"][LIST]["outcome"] == "not_retried"
    assert read_outputs(stack.outputs)["functions"]["versions"]["list"] == previous
    assert alias(stack)["FunctionVersion"] == previous

    retried = converge_functions(stack, source, functions_retry_failed=True, **QUICK_CANARY)
    assert retried.returncode == 0, retried.describe()
    assert alias(stack)["FunctionVersion"] == bad


# (d) the rollback playbook


def rollback(stack, **extra_vars):
    return run_playbook(
        stack.endpoint.url, "playbooks/rollback.yml", extra_vars={"stack_outputs_dir": str(stack.outputs), **extra_vars}
    )


def test_rollback_refuses_without_confirmation(stack):
    served = alias(stack)["FunctionVersion"]

    run = rollback(stack, rollback_confirm="prod")

    assert run.returncode != 0
    assert "run again with -e rollback_confirm=local. Nothing was changed." in " ".join(run.failure_messages())
    assert alias(stack)["FunctionVersion"] == served


def test_rollback_moves_the_alias_back_and_records_it(stack):
    previous = deployed_all_at_once(stack)
    bad = alias(stack)["FunctionVersion"]

    run = rollback(stack, rollback_confirm="local", rollback_function="list", rollback_version=previous)

    assert run.returncode == 0, run.describe()
    live = alias(stack)
    assert (live["FunctionVersion"], weights(live)) == (previous, {})
    assert live["Description"].endswith(f"[rolled back version {bad}]")
    assert alias(stack, f"{PREFIX}-get")["FunctionVersion"] == latest_version(stack, f"{PREFIX}-get")
    outputs = read_outputs(stack.outputs)
    assert outputs["rollback"]["functions"] == {"list": {"from": bad, "to": previous}}
    assert outputs["rollback"]["time"] and outputs["functions"]["names"]["list"] == LIST
    assert outputs["functions"]["versions"]["list"] == previous  # what the alias serves now, as after a converge


# Preflight


@pytest.mark.parametrize(
    ("extra_vars", "named"),
    [
        ({"functions_deployment_strategy": {"type": "blue_green"}}, "functions_deployment_strategy is"),
        (
            {"functions_deployment_strategies": {"list": {"type": "canary", "percent": 100, "interval_seconds": 5}}},
            "functions_deployment_strategies.list is",
        ),
        ({"functions_deployment_strategy": {"type": "linear", "percent": 10}}, "interval_seconds of 0 or more"),
        ({"functions_deployment_strategies": {"lists": {"type": "all_at_once"}}}, "has lists, not in the manifest"),
    ],
)
def test_a_bad_strategy_fails_naming_it_before_any_change(stack, extra_vars, named):
    served = alias(stack)["FunctionVersion"]

    run = converge_functions(stack, changed_source(stack), **extra_vars)

    assert run.returncode != 0
    assert any(named in message for message in run.failure_messages()), run.failure_messages()
    assert run.changed == 0
    assert alias(stack)["FunctionVersion"] == served
