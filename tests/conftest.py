"""Shared pytest fixtures: a private local AWS endpoint per test session or module."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = REPO_ROOT / "tools" / "local_endpoint.py"
COLLECTIONS_PATH = REPO_ROOT / "collections"

# pyproject.toml puts tools/ and tests/ on pytest's pythonpath; ansible-test units runs pytest with a configuration
# of its own, so they are added here too.
for _helpers in (REPO_ROOT / "tools", REPO_ROOT / "tests"):
    if str(_helpers) not in sys.path:
        sys.path.insert(0, str(_helpers))

from free_port import free_port  # noqa: E402 - tools/ is on the path from here

# Make `ansible_collections.serverless.tasks_api` importable (the link in collections/).
if str(COLLECTIONS_PATH) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_PATH))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


class LocalEndpoint:
    """A moto server started through the project's launcher, stopped by its own pid."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("wb")
        self._process = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "serve", "--port", str(self.port), "--state-dir", str(log_path.parent)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"local endpoint exited with {self._process.returncode}")
            if _answers(self.url):
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"local endpoint did not answer on {self.url}")

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def client(self, service: str, region: str = "us-east-1"):
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()


@pytest.fixture(scope="session")
def local_endpoint(tmp_path_factory):
    """One private endpoint for the whole test session, on a free port."""
    endpoint = LocalEndpoint(tmp_path_factory.mktemp("endpoint") / "endpoint.log")
    yield endpoint
    endpoint.stop()


@pytest.fixture
def fresh_endpoint(local_endpoint):
    """The session's endpoint, emptied before the test."""
    local_endpoint.reset()
    return local_endpoint


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch):
    """Keep tests away from real AWS, whatever the developer's shell exports."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


# The fault-injecting proxy's fixture (tests/fault_proxy.py), for every test.
from fault_proxy import fault_proxy  # noqa: E402, F401
