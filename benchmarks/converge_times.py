#!/usr/bin/env python3
"""Time the site playbook on a private local endpoint and print the figures.

    .venv/bin/python benchmarks/converge_times.py [--json PATH]

Runs, in order, on an endpoint of its own (started on a free port, stopped by its pid):
check mode on an empty account, a fresh converge, a no-op re-run, check mode on the
converged stack; then a change to one handler file deployed by a full converge, and
another deployed by the developers' fast path (`--tags functions`), and that fast path
again with nothing to do; last the teardown: in check mode, with the data kept, again on
the torn-down stack, and with purge. Prints wall time, tasks run, tasks changed and AWS write calls
(from the endpoint's request recorder) for each, and writes the same as JSON (default:
outputs/benchmarks/converge_times.json).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent / "tools"
sys.path.insert(0, str(TOOLS))

import local_endpoint  # noqa: E402
from aws_calls import recorded_calls, writes  # noqa: E402
from free_port import free_port  # noqa: E402
from playbook_runner import REPO_ROOT, run_playbook  # noqa: E402

# (label, playbook, ansible-playbook arguments, edition of the handler code: 0 is lambda_src/ as committed,
#  extra vars)
TEARDOWN = {"teardown_confirm": "local"}
STEPS = [
    ("check mode, empty account", "site.yml", ["--check", "--diff"], 0, {}),
    ("fresh converge", "site.yml", [], 0, {}),
    ("no-op re-run", "site.yml", [], 0, {}),
    ("check mode, converged stack", "site.yml", ["--check", "--diff"], 0, {}),
    ("full converge, one handler changed", "site.yml", [], 1, {}),
    ("--tags functions, one handler changed", "site.yml", ["--tags", "functions"], 2, {}),
    ("--tags functions, no change", "site.yml", ["--tags", "functions"], 2, {}),
    ("teardown, check mode", "teardown.yml", ["--check"], 2, TEARDOWN),
    ("teardown, data kept", "teardown.yml", [], 2, TEARDOWN),
    ("teardown re-run, nothing left", "teardown.yml", [], 2, TEARDOWN),
    ("teardown of the data (purge)", "teardown.yml", [], 2, {**TEARDOWN, "teardown_purge_data": True}),
]


def source_edition(workdir: Path, edition: int) -> dict:
    """Extra vars pointing the stack at lambda_src/ with one handler file changed `edition` times."""
    if edition == 0:
        return {}
    source = workdir / f"lambda_src-{edition}"
    if not source.exists():
        shutil.copytree(REPO_ROOT / "lambda_src", source, ignore=shutil.ignore_patterns("__pycache__"))
        with (source / "get_task.py").open("a") as handler:
            handler.write(f"# benchmark edition {edition}\n")
    return {"stack_functions_source_dir": str(source)}


def measure(endpoint_url: str, workdir: Path) -> list[dict]:
    figures = []
    for label, playbook, args, edition, step_vars in STEPS:
        extra_vars = {"stack_outputs_dir": str(workdir), **source_edition(workdir, edition), **step_vars}
        started = time.monotonic()
        with recorded_calls(endpoint_url) as calls:
            run = run_playbook(endpoint_url, playbook, *args, extra_vars=extra_vars)
        seconds = time.monotonic() - started
        if run.returncode != 0:
            raise SystemExit(f"{label}: {run.describe()}")
        figures.append(
            {
                "step": label,
                "seconds": round(seconds, 1),
                "tasks": run.task_count,
                "changed": run.changed,
                "aws_calls": len(calls),
                "aws_writes": len(writes(calls)),
            }
        )
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
            figures = measure(local_endpoint.endpoint_url(port), Path(state_dir))
        finally:
            local_endpoint.down(port, Path(state_dir))
    print(f"\nsite.yml and teardown.yml on the local endpoint (commit {commit()})")
    print(f"{'step':<40} {'seconds':>8} {'tasks':>6} {'changed':>8} {'calls':>6} {'writes':>7}")
    for row in figures:
        print(
            f"{row['step']:<40} {row['seconds']:>8} {row['tasks']:>6} {row['changed']:>8}"
            f" {row['aws_calls']:>6} {row['aws_writes']:>7}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"commit": commit(), "figures": figures}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
