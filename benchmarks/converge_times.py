#!/usr/bin/env python3
"""Time the site playbook on a private local endpoint and print the figures.

    .venv/bin/python benchmarks/converge_times.py [--json PATH]

Runs, in order, on an endpoint of its own (started on a free port, stopped by its pid):
check mode on an empty account, a fresh converge, a no-op re-run, check mode on the
converged stack. Prints wall time, tasks run and tasks changed for each, and writes
the same as JSON (default: outputs/benchmarks/converge_times.json).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent / "tools"
sys.path.insert(0, str(TOOLS))

import local_endpoint  # noqa: E402
from free_port import free_port  # noqa: E402
from playbook_runner import REPO_ROOT, run_playbook  # noqa: E402

STEPS = [
    ("check mode, empty account", ["--check", "--diff"]),
    ("fresh converge", []),
    ("no-op re-run", []),
    ("check mode, converged stack", ["--check", "--diff"]),
]


def measure(endpoint_url: str, outputs_dir: str) -> list[dict]:
    figures = []
    for label, args in STEPS:
        started = time.monotonic()
        run = run_playbook(endpoint_url, "site.yml", *args, extra_vars={"stack_outputs_dir": outputs_dir})
        seconds = time.monotonic() - started
        if run.returncode != 0:
            raise SystemExit(f"{label}: {run.describe()}")
        figures.append({"step": label, "seconds": round(seconds, 1), "tasks": run.task_count, "changed": run.changed})
    return figures


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "outputs" / "benchmarks" / "converge_times.json")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as state_dir:
        if local_endpoint.up(port, Path(state_dir)) != 0:
            return 1
        try:
            figures = measure(local_endpoint.endpoint_url(port), state_dir)
        finally:
            local_endpoint.down(port, Path(state_dir))
    print(f"\nsite.yml on the local endpoint (commit {commit()})")
    print(f"{'step':<30} {'seconds':>8} {'tasks':>6} {'changed':>8}")
    for row in figures:
        print(f"{row['step']:<30} {row['seconds']:>8} {row['tasks']:>6} {row['changed']:>8}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"commit": commit(), "figures": figures}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
