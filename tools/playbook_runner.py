"""Run ansible-playbook from the repository against a private local endpoint and read its stats."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
TIMEOUT_SECONDS = 900
# A host's line of the PLAY RECAP: "local-us-east-1 : ok=138  changed=36  unreachable=0  failed=0 ..."
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", re.MULTILINE)
RECAP_COUNT = re.compile(r"(\w+)=(\d+)")


@dataclass
class PlaybookRun:
    returncode: int
    output: dict
    stderr: str
    stdout: str = ""  # as printed, whatever the callback (the JSON callback's is also parsed into ``output``)

    @property
    def stats(self) -> dict:
        (host_stats,) = self.output.get("stats", {}).values() or [{}]
        return host_stats

    @property
    def changed(self) -> int:
        return self.stats.get("changed", 0)

    @property
    def failed(self) -> int:
        return self.stats.get("failures", 0) + self.stats.get("unreachable", 0)

    @property
    def host_stats(self) -> dict[str, dict]:
        """The stats of every host of a run over several hosts (environments), by host name."""
        return self.output.get("stats", {})

    def changed_by_host(self) -> dict[str, int]:
        return {host: stats.get("changed", 0) for host, stats in self.host_stats.items()}

    def changed_tasks(self, host: str | None = None) -> list[str]:
        """Names (without the role prefix) of the tasks that reported a change, on ``host`` or on any host."""
        changed = [
            task["task"]["name"]
            for task in self._tasks()
            if any(r.get("changed") for name, r in task["hosts"].items() if host in (None, name))
        ]
        return [name.split(" : ", 1)[-1] for name in changed]

    def failed_tasks(self) -> list[str]:
        """Names (without the role prefix) of the tasks that failed on any host."""
        failed = [task["task"]["name"] for task in self._tasks() if any(r.get("failed") for r in self._results(task))]
        return [name.split(" : ", 1)[-1] for name in failed]

    def results_of(self, name: str) -> list[dict]:
        """The results of the tasks named ``name`` (without the role prefix), on every host."""
        tasks = [task for task in self._tasks() if task["task"]["name"].split(" : ", 1)[-1] == name]
        return [result for task in tasks for result in self._results(task)]

    def failure_messages(self) -> list[str]:
        return [str(r.get("msg")) for task in self._tasks() for r in self._results(task) if r.get("failed")]

    def _tasks(self) -> list[dict]:
        return [task for play in self.output.get("plays", []) for task in play["tasks"]]

    @staticmethod
    def _results(task: dict) -> list[dict]:
        return list(task["hosts"].values())

    @property
    def task_count(self) -> int:
        """Tasks that ran on the host (skipped ones excluded)."""
        return sum(1 for task in self._tasks() for result in self._results(task) if not result.get("skipped"))

    def recap(self) -> dict[str, dict[str, int]]:
        """The PLAY RECAP that a text callback (ansible.builtin.default) printed: counts by host."""
        _, _, recap = self.stdout.rpartition("PLAY RECAP")
        return {
            host: {name: int(count) for name, count in RECAP_COUNT.findall(counts)}
            for host, counts in RECAP_LINE.findall(recap)
        }

    def describe(self) -> str:
        stats, failures = self.host_stats, self.failure_messages()
        return f"rc={self.returncode} stats={stats} failures={failures} stderr={self.stderr[-2000:]}"


def playbook_env(endpoint_url: str | None, config: Path | None = None) -> dict:
    """The environment of a run: an ansible.cfg, the venv's tools, the endpoint (when given) as AWS_ENDPOINT_URL.

    Without ``config``: the repository's ansible.cfg with the JSON callback, parsed into ``PlaybookRun.output``.
    With one: that file alone, its stdout callback included, as a user of the installed collection runs it.
    """
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(config or REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{ANSIBLE_PLAYBOOK.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    if config is None:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def run_playbook(
    endpoint_url: str | None,
    playbook: str,
    *args: str,
    extra_vars: dict | None = None,
    inventory: str = "inventories/local",
    env_overrides: dict | None = None,
    cwd: Path = REPO_ROOT,
    config: Path | None = None,
) -> PlaybookRun:
    # PWD as a shell sets it: the stack role's default outputs directory is $PWD/outputs.
    env = {**playbook_env(endpoint_url, config), "PWD": str(cwd), **(env_overrides or {})}
    command = [str(ANSIBLE_PLAYBOOK), playbook, "-i", inventory, *args]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )
    try:
        output = json.loads(completed.stdout)
    except json.JSONDecodeError:
        output = {"unparsed": completed.stdout[-4000:]}
    return PlaybookRun(completed.returncode, output, completed.stderr, completed.stdout)


def converge_site(endpoint_url: str, outputs_dir, tags: str, *args: str, **extra_vars) -> PlaybookRun:
    """Run site.yml limited to ``tags`` (comma-separated), writing the stack outputs under ``outputs_dir``."""
    return run_playbook(
        endpoint_url,
        "site.yml",
        "--tags",
        tags,
        *args,
        extra_vars={"stack_outputs_dir": str(outputs_dir), **extra_vars},
    )


def role_defaults(role: str) -> dict:
    """The variables of roles/<role>/defaults/main.yml, such as the stack role's default manifest."""
    import yaml

    return yaml.safe_load((REPO_ROOT / "roles" / role / "defaults" / "main.yml").read_text())


def read_outputs(outputs_dir, environment: str = "local") -> dict:
    """The outputs file (outputs/<environment>.json) that the site playbook wrote into outputs_dir."""
    return json.loads((Path(outputs_dir) / f"{environment}.json").read_text())


def rerun_and_dry_run(endpoint_url: str, outputs_dir, tags: str) -> list:
    """Converge ``tags`` again, then dry-run it with --check --diff: both must pass with changed=0.

    Returns the AWS calls the two runs made (tools/aws_calls.py), for the caller's own assertions, such as
    ``writes(calls) == []``.
    """
    from aws_calls import recorded_calls

    with recorded_calls(endpoint_url) as calls:
        again = converge_site(endpoint_url, outputs_dir, tags)
        check = converge_site(endpoint_url, outputs_dir, tags, "--check", "--diff")
    assert again.returncode == 0 and check.returncode == 0, again.describe() + check.describe()
    assert (again.changed, check.changed) == (0, 0), again.changed_tasks() + check.changed_tasks()
    return calls
