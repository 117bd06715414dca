#!/usr/bin/env python3
"""Time one environment against three converged in parallel, and print the figures.

    .venv/bin/python benchmarks/environments.py [--forks N] [--serial] [--json PATH]

Each measurement gets a fresh endpoint of its own (started on a free port, stopped by its pid):
a fresh converge of site.yml, then a no-op re-run. "one" is the host dev-us-east-1 of
inventories/local-multi alone (--limit); "three" is the whole inventory (dev, stage, prod)
at --forks (default 3); --serial adds the three at -f 1 for comparison. Prints wall time,
the AWS write calls of each run (the endpoint's request recorder), the changes of the no-op
re-run, the ratio three/one, and the 1-minute load average before and after each measurement,
since other processes on the same cores move these figures. Writes the same as JSON (default:
outputs/benchmarks/environments.json).
"""

from __future__ import annotations

import argparse
import json
import os
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

INVENTORY = "inventories/local-multi"
ONE_HOST = "dev-us-east-1"


def timed_run(endpoint_url: str, outputs_dir: Path, forks: int, limit: str | None) -> dict:
    args = ["-f", str(forks)] + (["--limit", limit] if limit else [])
    started = time.monotonic()
    with recorded_calls(endpoint_url) as calls:
        run = run_playbook(
            endpoint_url, "site.yml", *args, inventory=INVENTORY, extra_vars={"stack_outputs_dir": str(outputs_dir)}
        )
    seconds = time.monotonic() - started
    if run.returncode != 0:
        raise SystemExit(f"site.yml {' '.join(args)}: {run.describe()}")
    return {
        "seconds": round(seconds, 1),
        "hosts": len(run.host_stats),
        "tasks_per_host": round(run.task_count / max(len(run.host_stats), 1)),
        "changed": run.changed_by_host(),
        "aws_writes": len(writes(calls)),
    }


def measure(label: str, forks: int, limit: str | None) -> dict:
    """A fresh converge and a no-op re-run on an endpoint of their own."""
    port, load_before = free_port(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="environments-benchmark-") as state:
        state_dir = Path(state)
        if local_endpoint.up(port, state_dir) != 0:
            raise SystemExit(f"could not start a local endpoint on port {port}")
        try:
            url = local_endpoint.endpoint_url(port)
            fresh = timed_run(url, state_dir / "outputs", forks, limit)
            noop = timed_run(url, state_dir / "outputs", forks, limit)
        finally:
            local_endpoint.down(port, state_dir)
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return {"label": label, "forks": forks, "fresh": fresh, "noop": noop, "load_1min": load}


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def report(rows: list[dict]) -> None:
    print(f"\nsite.yml, inventories/local-multi on the local endpoint (commit {commit()}, {os.cpu_count()} cores)")
    header = f"{'run':<26} {'forks':>5} {'fresh s':>8} {'writes':>7} {'no-op s':>8} {'writes':>7} {'changed':>8}"
    print(f"{header} {'load before/after':>18}")
    for row in rows:
        fresh, noop = row["fresh"], row["noop"]
        print(
            f"{row['label']:<26} {row['forks']:>5} {fresh['seconds']:>8} {fresh['aws_writes']:>7}"
            f" {noop['seconds']:>8} {noop['aws_writes']:>7} {sum(noop['changed'].values()):>8}"
            f" {row['load_1min'][0]:>8} / {row['load_1min'][1]:<7}"
        )
    one, three = rows[0], rows[1]
    print(
        f"ratio three/one: fresh {three['fresh']['seconds'] / one['fresh']['seconds']:.2f},"
        f" no-op {three['noop']['seconds'] / one['noop']['seconds']:.2f}"
    )
    if len(rows) > 2:
        serial = rows[2]
        print(
            f"ratio serial three/one: fresh {serial['fresh']['seconds'] / one['fresh']['seconds']:.2f},"
            f" no-op {serial['noop']['seconds'] / one['noop']['seconds']:.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forks", type=int, default=3)
    parser.add_argument("--serial", action="store_true", help="also time the three environments at -f 1")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "outputs" / "benchmarks" / "environments.json")
    args = parser.parse_args()
    rows = [
        measure(f"one ({ONE_HOST})", args.forks, ONE_HOST),
        measure("three (dev, stage, prod)", args.forks, None),
    ]
    if args.serial:
        rows.append(measure("three, one at a time", 1, None))
    report(rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {"commit": commit(), "cores": os.cpu_count(), "runs": rows}
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
