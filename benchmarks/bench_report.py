"""The benchmark's report: the targets met or missed, the printed table, and the figures part of docs/performance.md."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

from playbook_runner import REPO_ROOT

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def commit() -> str:
    """The short commit of the checkout, with ``-dirty`` when tracked files differ from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head}-dirty" if git("status", "--porcelain", "--untracked-files=no") else head


def machine(load_before: float, seconds: float) -> dict:
    return {
        "commit": commit(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "benchmark_seconds": round(seconds),
    }


def by_scenario(rows: list[dict]) -> dict[str, dict]:
    return {row["scenario"]: row for row in rows}


def targets(results: dict) -> list[dict]:
    """Each target of issue 10 with the measured value and whether it is met."""
    site = by_scenario(results["site"])
    fresh, noop = site["fresh converge"], site["no-op re-run"]
    check, full = site["check mode, converged stack"], site["full converge, one handler changed"]
    tags = site["--tags functions, one handler changed"]
    scale = {row["functions"]: row for row in results["scaling"]}
    one, three = results["environments"]
    handlers = results["handlers"]
    rows = [
        ("no-op re-run: write calls", noop["writes"], 0, "=="),
        ("no-op re-run: reads per managed resource", ratio(noop["reads"], fresh["created"]), 4, "<="),
        ("no-op re-run / fresh converge (wall)", ratio(noop["seconds"], fresh["seconds"]), 0.6, "<="),
        ("check mode converged / no-op re-run (wall)", ratio(check["seconds"], noop["seconds"]), 1.0, "<="),
        ("--tags functions / full converge, code change", ratio(tags["seconds"], full["seconds"]), 0.25, "<="),
        ("16 functions / 4 functions (wall)", ratio(scale[16]["seconds"], scale[4]["seconds"]), 1.5, "<="),
        ("three environments at forks 3 / one (wall)", ratio(three["seconds"], one["seconds"]), 1.5, "<="),
        ("slowest handler import, boto3 excluded (ms)", max(f["ms"] for f in handlers["import_ms"].values()), 20, "<="),
        ("package size (bytes)", handlers["package"]["bytes"], 20480, "<="),
        ("local front p50 at concurrency 1 (ms)", handlers["front"]["concurrency_1"]["p50_ms"], 15, "<="),
    ]
    return [
        {"target": name, "value": value, "limit": limit, "met": value == limit if op == "==" else value <= limit}
        for name, value, limit, op in rows
    ]


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 2) if denominator else float("inf")


def text_table(results: dict) -> str:
    lines = [f"\nBenchmark at commit {results['machine']['commit']} ({results['machine']['date']})", ""]
    lines += _text_rows(results["site"] + results["scaling"] + results["environments"] + results["mitogen"])
    lines += ["", "Targets:"]
    lines += [
        f"  {'met ' if t['met'] else 'MISS'} {t['target']:<48} {t['value']:>9} (limit {t['limit']})"
        for t in results["targets"]
    ]
    handlers = results["handlers"]
    lines += ["", f"Package: {handlers['package']['bytes']} bytes ({handlers['package']['files']} files)"]
    lines += [f"Import {module}: {f['ms']} ms (CPU {f['cpu_ms']} ms)" for module, f in handlers["import_ms"].items()]
    for key, front in handlers["front"].items():
        lines.append(
            f"Front {key}: p50 {front['p50_ms']} ms, p95 {front['p95_ms']} ms, {front['requests_per_second']} req/s"
        )
    return "\n".join(lines)


def _text_rows(rows: list[dict]) -> list[str]:
    header = f"{'scenario':<52} {'s':>7} {'tasks':>6} {'changed':>8} {'reads':>6} {'writes':>7}"
    body = [
        f"{row['scenario']:<52} {row['seconds']:>7} {row['tasks']:>6} {row['changed']:>8}"
        f" {row['reads']:>6} {row['writes']:>7}"
        for row in rows
    ]
    return [header, *body]


def markdown(results: dict) -> str:
    sections = [
        _md_heading(results["machine"]),
        _md_targets(results["targets"]),
        _md_scenarios("Site playbook (default manifest, 5 functions)", results["site"]),
        _md_services(results["site"]),
        _md_scaling(results["scaling"]),
        _md_scenarios("Environments (inventories/local-multi)", results["environments"]),
        _md_mitogen(results["site"], results["mitogen"]),
        _md_handlers(results["handlers"]),
    ]
    return "\n\n".join(sections)


def _md_heading(machine: dict) -> str:
    return (
        f"Measured at commit `{machine['commit']}` on {machine['date']}: {machine['cores']} cores, Python "
        f"{machine['python']}, 1-minute load {machine['load_1min_before']} before and {machine['load_1min_after']} "
        f"after; the whole benchmark took {machine['benchmark_seconds']} s."
    )


def _md_table(header: list[str], rows: list[list]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _md_targets(rows: list[dict]) -> str:
    body = [[t["target"], t["value"], t["limit"], "met" if t["met"] else "**missed**"] for t in rows]
    return "### Targets\n\n" + _md_table(["target", "measured", "limit", ""], body)


def _md_scenarios(title: str, rows: list[dict]) -> str:
    header = ["scenario", "wall s", "tasks", "changed", "AWS reads", "AWS writes", "resources created"]
    keys = ("scenario", "seconds", "tasks", "changed", "reads", "writes", "created")
    body = [[_seconds(row) if key == "seconds" else row[key] for key in keys] for row in rows]
    return f"### {title}\n\n" + _md_table(header, body)


def _seconds(row: dict) -> str:
    """The wall time, with every run's when the row is the fastest of several."""
    samples = row.get("samples", [])
    if len(samples) < 2:
        return str(row["seconds"])
    return f"{row['seconds']} (runs: {', '.join(str(sample) for sample in samples)})"


def _md_services(rows: list[dict]) -> str:
    site = by_scenario(rows)
    runs = ["fresh converge", "no-op re-run", "check mode, converged stack"]
    services = sorted({service for run in runs for service in site[run]["by_service"]})
    body = []
    for service in services:
        cells = [site[run]["by_service"].get(service, {"reads": 0, "writes": 0}) for run in runs]
        body.append([service] + [f"{c['reads']} / {c['writes']}" for c in cells])
    header = ["service (reads / writes)", "fresh converge", "no-op re-run", "check mode, converged"]
    return "### AWS calls per service\n\n" + _md_table(header, body)


def _md_scaling(rows: list[dict]) -> str:
    base = rows[0]
    body = [
        [r["functions"], r["seconds"], ratio(r["seconds"], base["seconds"]), r["tasks"], r["reads"], r["writes"]]
        for r in rows
    ]
    header = ["functions", "fresh converge s", f"ratio to {base['functions']}", "tasks", "AWS reads", "AWS writes"]
    return "### Scaling with the manifest\n\n" + _md_table(header, body)


def _md_mitogen(site_rows: list[dict], mitogen_rows: list[dict]) -> str:
    site = by_scenario(site_rows)
    body = []
    for row in mitogen_rows:
        default = site[row["scenario"].removesuffix(", Mitogen")]
        body.append(
            [default["scenario"], default["seconds"], row["seconds"], ratio(row["seconds"], default["seconds"])]
        )
    header = ["scenario", "default strategy s", "Mitogen s", "Mitogen / default"]
    return "### Mitogen\n\n" + _md_table(header, body)


def _md_handlers(handlers: dict) -> str:
    package = handlers["package"]
    lines = [
        "### Handlers",
        "",
        f"Package: {package['bytes']} bytes, {package['files']} files, {package['source_bytes']} bytes of source; "
        f"built in {package['build_ms']} ms.",
        "",
        _md_table(
            ["handler module", "import ms (wall, best of 5)", "import ms (CPU)"],
            [[module, f["ms"], f["cpu_ms"]] for module, f in handlers["import_ms"].items()],
        ),
        "",
        _md_table(
            ["local front", "requests", "p50 ms", "p95 ms", "requests/s"],
            [
                [key.replace("_", " "), f["requests"], f["p50_ms"], f["p95_ms"], f["requests_per_second"]]
                for key, f in handlers["front"].items()
            ],
        ),
    ]
    return "\n".join(lines)


def update_doc(path: Path, results: dict) -> None:
    """Replace what stands between the BEGIN and END markers of ``path`` with the figures."""
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} markers to write the figures between")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{markdown(results)}\n{END}{tail}")
