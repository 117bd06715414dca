"""The handler figures of the benchmark: package size, each handler module's import time, the local front's latency.

Used by benchmarks/bench.py; plain functions, each returning a dict of figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from local_api_latency import Front, a_task_id, api_key_from_parameter, expect_ok, percentile
from playbook_runner import REPO_ROOT, role_defaults

LAMBDA_SRC = REPO_ROOT / "lambda_src"
IMPORT_RUNS = 5

# Imports the handler in a fresh interpreter where boto3 is already imported and boto3.client answers with a
# client built beforehand: what is timed is our code only, not boto3's import or botocore loading its model.
IMPORT_SCRIPT = """
import importlib, json, sys, time
import boto3
prebuilt = boto3.client("dynamodb")
boto3.client = lambda *args, **kwargs: prebuilt
started, cpu = time.perf_counter(), time.process_time()
importlib.import_module(sys.argv[1])
print(json.dumps({"ms": (time.perf_counter() - started) * 1000, "cpu_ms": (time.process_time() - cpu) * 1000}))
"""


def package_figures(architecture: str = "arm64") -> dict:
    """The deployment package of lambda_src/, as the functions role builds it: bytes, entries, sources' bytes."""
    if str(REPO_ROOT / "collections") not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / "collections"))  # the link that makes the collection importable
    from ansible_collections.serverless.tasks_api.plugins.plugin_utils.package import lambda_package

    started = time.perf_counter()
    package = lambda_package(str(LAMBDA_SRC), architecture=architecture)
    build_ms = (time.perf_counter() - started) * 1000
    sources = sum((LAMBDA_SRC / name).stat().st_size for name in package["files"])
    return {
        "bytes": package["size"],
        "files": len(package["files"]),
        "source_bytes": sources,
        "build_ms": round(build_ms, 1),
    }


def import_ms(module: str) -> dict:
    """The best of IMPORT_RUNS cold imports of ``module``: wall and CPU milliseconds (CPU is steadier under load)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(LAMBDA_SRC),
        "TABLE_NAME": "tasks-import-time",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    figures = []
    for _ in range(IMPORT_RUNS):
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_SCRIPT, module], env=env, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise SystemExit(f"import {module}: {done.stderr[-2000:]}")
        figures.append(json.loads(done.stdout.splitlines()[-1]))
    return {key: round(min(figure[key] for figure in figures), 1) for key in ("ms", "cpu_ms")}


def import_figures() -> dict:
    """The import time of the module of each handler of the default manifest."""
    handlers = [function["handler"] for function in role_defaults("stack")["stack_functions"]]
    return {module: import_ms(module) for module in dict.fromkeys(handler.split(".")[0] for handler in handlers)}


def front_figures(front_url: str, endpoint_url: str, parameter: str, requests: int) -> dict:
    """p50/p95 and requests per second through the local front, at concurrency 1 and 8."""
    api_key = api_key_from_parameter(parameter, endpoint_url, "us-east-1")
    task_id, created = a_task_id(Front(front_url, api_key))
    paths = ["/tasks?limit=20", f"/tasks/{task_id}"]
    figures = {f"concurrency_{clients}": timed_load(front_url, api_key, paths, requests, clients) for clients in (1, 8)}
    if created:
        expect_ok(*Front(front_url, api_key).request("DELETE", f"/tasks/{task_id}"), "DELETE the task", 204)
    return figures


def timed_load(front_url: str, api_key: str, paths: list[str], requests: int, clients: int) -> dict:
    """``requests`` GETs in all, spread over ``clients`` threads, each on its own keep-alive connection."""
    times: list[float] = []
    lock = threading.Lock()

    def client(share: int) -> None:
        front = Front(front_url, api_key)
        for index in range(len(paths)):  # warm-up: every worker of both functions started
            front.request("GET", paths[index])
        mine = []
        for index in range(share):
            started = time.perf_counter()
            status, body = front.request("GET", paths[index % len(paths)])
            mine.append((time.perf_counter() - started) * 1000)
            expect_ok(status, body, f"GET {paths[index % len(paths)]}")
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=client, args=(requests // clients,)) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    ordered = sorted(times)
    return {
        "requests": len(times),
        "p50_ms": round(percentile(ordered, 0.5), 1),
        "p95_ms": round(percentile(ordered, 0.95), 1),
        "requests_per_second": round(len(times) / seconds, 1),
    }


def start_front(endpoint_url: str, port: int, state_dir: Path, api_name: str) -> None:
    command = [
        sys.executable,
        str(REPO_ROOT / "tools" / "local_api.py"),
        "up",
        "--port",
        str(port),
        "--endpoint-url",
        endpoint_url,
        "--api-name",
        api_name,
        "--state-dir",
        str(state_dir),
    ]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"local front: {done.stdout[-1000:]} {done.stderr[-2000:]}")


def stop_front(port: int, state_dir: Path) -> None:
    command = [sys.executable, str(REPO_ROOT / "tools" / "local_api.py"), "down", "--port", str(port)]
    subprocess.run([*command, "--state-dir", str(state_dir)], cwd=REPO_ROOT, capture_output=True, timeout=60)
