#!/usr/bin/env python3
"""The performance benchmark: converge scenarios, scaling, environments, Mitogen and the handlers, in one run.

    make bench                                   # or: .venv/bin/python benchmarks/bench.py [--quick]

Every measurement gets a private moto endpoint (tools/local_endpoint.py, on a free port, stopped by its pid),
and every AWS call goes through the call-counting proxy of tests/fault_proxy.py (no faults injected), which
names each call by service and operation and tells reads from writes. It measures:

- the site playbook: check mode on an empty account, a fresh converge, a no-op re-run, check mode on the
  converged stack, a full converge after a one-line handler change, ``--tags functions`` after another;
  wall time, tasks run, changes, AWS reads and writes per service;
- scaling: a fresh converge with 4, 16 and 64 functions in the manifest (generated entries on the same
  handlers), and the ratios 16/4 and 64/4;
- one environment against three converged in parallel at forks 3 (inventories/local-multi);
- the same fresh converge and no-op re-run with the Mitogen strategy (tools/mitogen_strategy.py);
- the handlers: the package's size, each handler module's import time (boto3 excluded), and the local
  front's p50/p95 and requests per second over --requests requests at concurrency 1 and 8.

It prints a table, writes JSON (outputs/benchmarks/bench.json) and rewrites the figures part of
docs/performance.md with the commit they come from. A benchmark prints figures; the targets are
reported met or missed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCHMARKS.parent / "tools"), str(BENCHMARKS.parent / "tests"), str(BENCHMARKS)]

import bench_handlers  # noqa: E402
import bench_report  # noqa: E402
import local_endpoint  # noqa: E402
from converge_times import source_edition  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402
from free_port import free_port  # noqa: E402
from mitogen_strategy import strategy_env  # noqa: E402
from playbook_runner import REPO_ROOT, read_outputs, role_defaults, run_playbook  # noqa: E402

MULTI_INVENTORY = "inventories/local-multi"
ONE_HOST = "dev-us-east-1"
SCALES = (4, 16, 64)
REPEATS = 2  # runs of the no-op re-run and of check mode on the converged stack, taking turns
# Calls that create a managed resource: counted on a fresh converge, they give the number of resources
# that the no-op re-run's reads are divided by. Tagging and settings calls (CreateTags, PutBucket*) are not.
CREATING = ("Create", "Allocate", "Subscribe", "AddPermission", "AssociateRouteTable")
CREATING_PUTS = {"PutMetricAlarm", "PutCompositeAlarm", "PutDashboard", "PutRolePolicy", "PutParameter"}
NOT_CREATING = {"CreateTags", "CreateLogStream", "CreateGrant"}


class Endpoint:
    """A private endpoint and the counting proxy in front of it; ``run`` times one playbook through both."""

    def __init__(self, url: str, proxy: FaultProxy, workdir: Path):
        self.url, self.proxy, self.workdir = url, proxy, workdir

    def run(self, label: str, *args: str, extra_vars: dict | None = None, **options) -> dict:
        before, writes_before = Counter(self.proxy.counts), Counter(self.proxy.service_writes)
        started = time.monotonic()
        extra = {"stack_outputs_dir": str(self.workdir / "outputs"), **(extra_vars or {})}
        run = run_playbook(self.proxy.url, options.pop("playbook", "site.yml"), *args, extra_vars=extra, **options)
        seconds = time.monotonic() - started
        if run.returncode != 0:
            raise SystemExit(f"{label}: {run.describe()}")
        counts = Counter(self.proxy.counts) - before
        writes = Counter(self.proxy.service_writes) - writes_before
        figures = {"scenario": label, "seconds": round(seconds, 1), "tasks": run.task_count}
        figures = {**figures, "changed": sum(run.changed_by_host().values()), **call_figures(counts, writes)}
        print(f"{label}: {figures['seconds']} s, {figures['reads']} reads, {figures['writes']} writes", flush=True)
        return figures


def call_figures(counts: Counter, writes: Counter) -> dict:
    """Reads and writes in all and per service, and the resources the writes created."""
    services = sorted({service for service, _ in counts})
    by_service = {}
    for service in services:
        calls = sum(count for (name, _), count in counts.items() if name == service)
        by_service[service] = {"reads": calls - writes[service], "writes": writes[service]}
    created = sum(count for (_, action), count in counts.items() if creates_resource(action))
    total_writes = sum(writes.values())
    return {
        "reads": sum(counts.values()) - total_writes,
        "writes": total_writes,
        "created": created,
        "by_service": by_service,
    }


def creates_resource(action: str) -> bool:
    if action in NOT_CREATING:
        return False
    return action.startswith(CREATING) or action in CREATING_PUTS


@contextlib.contextmanager
def private_endpoint(name: str) -> Iterator[Endpoint]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    port = free_port()
    if local_endpoint.up(port, workdir) != 0:
        raise SystemExit(f"could not start a local endpoint on port {port}")
    proxy = FaultProxy(local_endpoint.endpoint_url(port), max_requests=500_000, max_seconds=7200, seed=0)
    try:
        with proxy:
            yield Endpoint(local_endpoint.endpoint_url(port), proxy, workdir)
    finally:
        local_endpoint.down(port, workdir)
        shutil.rmtree(workdir, ignore_errors=True)


def site_scenarios(requests: int) -> tuple[list[dict], dict]:
    """The converge scenarios on one endpoint, then the handler figures against the stack they deployed."""
    with private_endpoint("site") as endpoint:
        rows = [endpoint.run("check mode, empty account", "--check", "--diff"), endpoint.run("fresh converge")]
        rows += best_of_alternating(
            endpoint, ("no-op re-run", ()), ("check mode, converged stack", ("--check", "--diff"))
        )
        front = front_figures(endpoint, requests)
        first, second = source_edition(endpoint.workdir, 1), source_edition(endpoint.workdir, 2)
        rows.append(endpoint.run("full converge, one handler changed", extra_vars=first))
        rows.append(endpoint.run("--tags functions, one handler changed", "--tags", "functions", extra_vars=second))
    return rows, front


def best_of_alternating(endpoint: Endpoint, *scenarios: tuple[str, tuple[str, ...]]) -> list[dict]:
    """Each scenario REPEATS times, taking turns, and the fastest run of each (all times kept in ``samples``).

    The no-op re-run and check mode on the converged stack do the same reads; compared once each, whichever
    ran while something else loaded the machine would lose. Taking turns exposes both to the same load.
    """
    runs: dict[str, list[dict]] = {label: [] for label, _ in scenarios}
    for _ in range(REPEATS):
        for label, args in scenarios:
            runs[label].append(endpoint.run(label, *args))
    best = []
    for measured in runs.values():
        fastest = min(measured, key=lambda row: row["seconds"])
        best.append({**fastest, "samples": [row["seconds"] for row in measured]})
    return best


def front_figures(endpoint: Endpoint, requests: int) -> dict:
    api = read_outputs(endpoint.workdir / "outputs")["api"]
    port = free_port()
    bench_handlers.start_front(endpoint.url, port, endpoint.workdir, api["name"])
    try:
        front_url = f"http://127.0.0.1:{port}/{api['stage_name']}"
        return bench_handlers.front_figures(front_url, endpoint.url, api["api_key_parameter_name"], requests)
    finally:
        bench_handlers.stop_front(port, endpoint.workdir)


def mitogen_scenarios() -> list[dict]:
    with private_endpoint("mitogen") as endpoint:
        env = strategy_env()
        return [
            endpoint.run("fresh converge, Mitogen", env_overrides=env),
            endpoint.run("no-op re-run, Mitogen", env_overrides=env),
            endpoint.run("check mode, converged stack, Mitogen", "--check", "--diff", env_overrides=env),
        ]


def generated_manifest(count: int) -> list[dict]:
    """``count`` functions cycling through the default manifest's handlers, each on a route of its own."""
    defaults = role_defaults("stack")["stack_functions"]
    manifest = []
    for index in range(count):
        base = defaults[index % len(defaults)]
        name = f"fn{index:02d}"
        path = f"/{name}/{{id}}" if "{" in base["path"] else f"/{name}"
        manifest.append({**base, "name": name, "path": path})
    return manifest


def scaling_scenarios(scales: tuple[int, ...]) -> list[dict]:
    rows = []
    for count in scales:
        with private_endpoint(f"scale-{count}") as endpoint:
            row = endpoint.run(
                f"fresh converge, {count} functions", extra_vars={"stack_functions": generated_manifest(count)}
            )
        rows.append({**row, "functions": count})
    return rows


def environment_scenarios() -> list[dict]:
    rows = []
    for label, limit in ((f"one environment ({ONE_HOST})", ONE_HOST), ("three environments, forks 3", None)):
        with private_endpoint("environments") as endpoint:
            args = ["-f", "3"] + (["--limit", limit] if limit else [])
            rows.append(endpoint.run(f"fresh converge, {label}", *args, inventory=MULTI_INVENTORY))
    return rows


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "outputs" / "benchmarks" / "bench.json")
    parser.add_argument("--doc", type=Path, default=REPO_ROOT / "docs" / "performance.md")
    parser.add_argument("--requests", type=int, default=1000, help="requests through the local front per concurrency")
    parser.add_argument("--quick", action="store_true", help="scaling with 4 and 16 functions only; no doc update")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started, load_before = time.monotonic(), os.getloadavg()[0]
    site, front = site_scenarios(args.requests)
    results = {
        "site": site,
        "scaling": scaling_scenarios(SCALES[:2] if args.quick else SCALES),
        "environments": environment_scenarios(),
        "mitogen": mitogen_scenarios(),
        "handlers": {
            "package": bench_handlers.package_figures(),
            "import_ms": bench_handlers.import_figures(),
            "front": front,
        },
    }
    results["machine"] = bench_report.machine(load_before, time.monotonic() - started)
    results["targets"] = bench_report.targets(results)
    print(bench_report.text_table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"JSON: {args.json}")
    if not args.quick:
        bench_report.update_doc(args.doc, results)
        print(f"figures written to {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
