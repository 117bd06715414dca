"""tools/mitogen_strategy.py: the environment that switches ansible-playbook to Mitogen."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from mitogen_strategy import STRATEGY, strategy_env

SCRIPT = Path(__file__).resolve().parents[3] / "tools" / "mitogen_strategy.py"


def test_the_environment_names_the_installed_strategy_plugin():
    env = strategy_env()
    assert env["ANSIBLE_STRATEGY"] == STRATEGY == "mitogen_linear"
    assert (Path(env["ANSIBLE_STRATEGY_PLUGINS"]) / f"{STRATEGY}.py").is_file()


def test_the_script_prints_shell_exports_of_that_environment():
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True)
    exported = dict(shlex.split(line)[1].split("=", 1) for line in done.stdout.splitlines())
    assert exported == strategy_env()
