"""Import cost of each handler module, in a fresh interpreter with boto3 already imported.

Two figures per module, best of three runs:
- own: our modules only -- boto3 pre-imported and ``boto3.client`` answering with a client built
  beforehand, so neither boto3's import nor botocore's client construction is counted (asserted < 20 ms);
- cold: boto3 pre-imported only, so the real DynamoDB client is built at import (printed, not asserted:
  that part is botocore loading its service model, outside our control).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from lambda_helpers import HANDLER_MODULES, LAMBDA_SRC

LIMIT_MS = 20.0
RUNS = 3

SCRIPT = """
import importlib, json, sys, time
import boto3
if sys.argv[2] == "own":
    prebuilt = boto3.client("dynamodb")
    boto3.client = lambda *args, **kwargs: prebuilt
started = time.perf_counter()
importlib.import_module(sys.argv[1])
print(json.dumps({"ms": (time.perf_counter() - started) * 1000}))
"""


def measure(module: str, mode: str) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": str(LAMBDA_SRC),
        "TABLE_NAME": "tasks-import-time",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    figures = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, module, mode], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        figures.append(json.loads(done.stdout.splitlines()[-1])["ms"])
    return min(figures)


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_handler_import_time(module):
    own = measure(module, "own")
    cold = measure(module, "cold")
    print(f"\nimport {module}: own code {own:.1f} ms, with DynamoDB client construction {cold:.1f} ms")
    assert own < LIMIT_MS
