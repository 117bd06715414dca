#!/usr/bin/env python3
"""Time GET requests through a running local API front (tools/local_api.py) and print the latency percentiles.

    .venv/bin/python benchmarks/local_api_latency.py --url http://127.0.0.1:3000/local --api-key KEY
    .venv/bin/python benchmarks/local_api_latency.py --url http://127.0.0.1:3000/local \\
        --parameter /tasks-api/local/api-key [--endpoint-url http://127.0.0.1:5000]

``--url`` is the front and the stage.  The key is given, or read from the SSM parameter on the local
endpoint (``--endpoint-url``, default ``$AWS_ENDPOINT_URL`` or ``http://127.0.0.1:${LOCAL_AWS_PORT:-5000}``).
After a few warm-up requests (so that every worker has started), it sends N requests (default 200)
one after another on one keep-alive connection, alternating ``GET /tasks?limit=20`` and
``GET /tasks/{id}`` (the first task listed; when there is none it creates one and deletes it at the end),
and prints p50/p90/p99, min and max in milliseconds for each route and for all requests.  Every request
must answer 200, else it stops with status 1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import sys
import time
import urllib.parse

DEFAULT_ENDPOINT_URL = (
    os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{os.environ.get('LOCAL_AWS_PORT', '5000')}"
)


class Front:
    """One keep-alive HTTP connection to the front, with the API key on every request."""

    def __init__(self, url: str, api_key: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._stage_path = parts.path.rstrip("/")
        self._headers = {"x-api-key": api_key, "Content-Type": "application/json"}
        self._connection = http.client.HTTPConnection(self._host, self._port, timeout=60)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        payload = json.dumps(body).encode() if body is not None else None
        try:
            return self._send(method, path, payload)
        except (http.client.HTTPException, ConnectionError):  # the front closed the connection: open another
            self._connection.close()
            self._connection = http.client.HTTPConnection(self._host, self._port, timeout=60)
            return self._send(method, path, payload)

    def _send(self, method: str, path: str, payload: bytes | None) -> tuple[int, bytes]:
        self._connection.request(method, self._stage_path + path, body=payload, headers=self._headers)
        response = self._connection.getresponse()
        return response.status, response.read()


def api_key_from_parameter(name: str, endpoint_url: str, region: str) -> str:
    import boto3

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    ssm = boto3.client("ssm", region_name=region, endpoint_url=endpoint_url)
    return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]


def expect_ok(status: int, body: bytes, what: str, expected: int = 200) -> bytes:
    if status != expected:
        sys.exit(f"{what}: HTTP {status}, expected {expected}: {body[:300]!r}")
    return body


def a_task_id(front: Front) -> tuple[str, bool]:
    """The id of a task to read, and whether this run created it."""
    items = json.loads(expect_ok(*front.request("GET", "/tasks?limit=1"), "GET /tasks"))["items"]
    if items:
        return items[0]["id"], False
    created = expect_ok(*front.request("POST", "/tasks", {"title": "latency benchmark"}), "POST /tasks", 201)
    return json.loads(created)["id"], True


def timed_requests(front: Front, paths: list[str], count: int) -> dict[str, list[float]]:
    """Milliseconds per request, by path, for ``count`` requests cycling through ``paths``."""
    times: dict[str, list[float]] = {path: [] for path in paths}
    for index in range(count):
        path = paths[index % len(paths)]
        started = time.perf_counter()
        status, body = front.request("GET", path)
        times[path].append((time.perf_counter() - started) * 1000)
        expect_ok(status, body, f"GET {path}")
    return times


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def summary_line(label: str, values: list[float]) -> str:
    ordered = sorted(values)
    figures = [percentile(ordered, f) for f in (0.5, 0.9, 0.99)] + [ordered[0], ordered[-1]]
    return f"{label:<22} {len(values):>5} " + " ".join(f"{figure:>8.1f}" for figure in figures)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the front and stage, e.g. http://127.0.0.1:3000/local")
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument("--api-key")
    key.add_argument("--parameter", help="SSM parameter holding the API key")
    parser.add_argument("--endpoint-url", default=DEFAULT_ENDPOINT_URL)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--requests", "-n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    api_key = args.api_key or api_key_from_parameter(args.parameter, args.endpoint_url, args.region)
    front = Front(args.url, api_key)
    task_id, created = a_task_id(front)
    paths = ["/tasks?limit=20", f"/tasks/{task_id}"]
    timed_requests(front, paths, args.warmup)
    times = timed_requests(front, paths, args.requests)
    if created:
        expect_ok(*front.request("DELETE", f"/tasks/{task_id}"), "DELETE the benchmark's task", 204)
    print(f"local API front {args.url}: {args.requests} GET requests after {args.warmup} warm-up, one connection")
    print(f"{'route':<22} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'min ms':>8} {'max ms':>8}")
    print(summary_line("GET /tasks?limit=20", times[paths[0]]))
    print(summary_line("GET /tasks/{id}", times[paths[1]]))
    print(summary_line("all", [value for values in times.values() for value in values]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
