"""The optional Mitogen strategy (tools/mitogen_strategy.py): the whole site converges with it, and re-runs clean.

Ansible refuses to start when ANSIBLE_STRATEGY names a strategy it cannot load, so a run that passes with
the environment of tools/mitogen_strategy.py ran every task under Mitogen.
"""

from __future__ import annotations

from aws_calls import recorded_calls, writes
from mitogen_strategy import STRATEGY, strategy_env
from playbook_runner import read_outputs, run_playbook


def converge(endpoint, outputs_dir, *args):
    extra_vars = {"stack_outputs_dir": str(outputs_dir)}
    return run_playbook(endpoint.url, "site.yml", *args, extra_vars=extra_vars, env_overrides=strategy_env())


def test_the_site_converges_and_reruns_clean_under_mitogen(fresh_endpoint, tmp_path):
    first = converge(fresh_endpoint, tmp_path)
    assert first.returncode == 0, first.describe()
    assert first.changed > 0
    outputs = read_outputs(tmp_path)
    assert sorted(outputs["functions"]["names"]) == ["create", "delete", "get", "list", "update"]

    with recorded_calls(fresh_endpoint.url) as calls:
        again = converge(fresh_endpoint, tmp_path)
        check = converge(fresh_endpoint, tmp_path, "--check", "--diff")
    assert (again.returncode, check.returncode) == (0, 0), again.describe() + check.describe()
    assert (again.changed, check.changed) == (0, 0), again.changed_tasks() + check.changed_tasks()
    assert writes(calls) == []


def test_an_unknown_strategy_fails_instead_of_falling_back(fresh_endpoint, tmp_path):
    env = {**strategy_env(), "ANSIBLE_STRATEGY": f"{STRATEGY}_missing"}
    run = run_playbook(fresh_endpoint.url, "site.yml", "--tags", "stack", env_overrides=env)
    assert run.returncode != 0
    assert f"{STRATEGY}_missing" in run.stdout + run.stderr
