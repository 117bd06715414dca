"""Which AWS API calls a run made against the local endpoint, read from moto's request recorder.

    with recorded_calls(endpoint_url) as calls:
        run_playbook(...)
    assert [call for call in calls if call.is_write] == []

Each request is named by service (from the SigV4 credential scope) and operation:
the X-Amz-Target header for JSON protocols (CloudWatch Logs, DynamoDB, SSM),
the Action parameter for query protocols (EC2, IAM, STS), and the method and
path for REST protocols (Lambda, S3, API Gateway). A call is a write unless its
operation reads (Describe*, Get*, List*, Head*, ...) or its REST method is GET
or HEAD.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

READ_PREFIXES = ("Describe", "Get", "List", "Head", "Query", "Scan", "BatchGet", "Lookup", "Search")
READ_METHODS = ("GET", "HEAD")
SCOPE_PATTERN = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


@dataclass(frozen=True)
class AwsCall:
    service: str
    operation: str
    method: str
    path: str

    @property
    def is_write(self) -> bool:
        if self.operation:
            return not self.operation.startswith(READ_PREFIXES)
        return self.method not in READ_METHODS

    def __str__(self) -> str:
        return f"{self.service} {self.operation or self.method + ' ' + self.path}"


def parse_entry(entry: dict) -> AwsCall:
    """One line of moto's recording as an AwsCall."""
    headers = {name.lower(): value for name, value in entry.get("headers", {}).items()}
    scope = SCOPE_PATTERN.search(headers.get("authorization", ""))
    service = scope.group(1) if scope else "unsigned"
    url = urlparse(entry.get("url", ""))
    return AwsCall(service, _operation(headers, url.query, _body(entry)), entry.get("method", ""), url.path)


def _body(entry: dict) -> str:
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        try:
            return base64.b64decode(body).decode("utf-8")
        except UnicodeDecodeError:
            return ""  # a binary upload (an S3 object) names no operation
    return body


def _operation(headers: dict, query: str, body: str) -> str:
    target = headers.get("x-amz-target", "")
    if target:
        return target.rpartition(".")[2]
    for params in (parse_qs(query), _form(headers, body)):
        if params.get("Action"):
            return params["Action"][0]
    return ""


def _form(headers: dict, body: str) -> dict:
    if "x-www-form-urlencoded" not in headers.get("content-type", ""):
        return {}
    return parse_qs(body)


class Recording:
    """The calls recorded between start() and stop(), read back with calls()."""

    def __init__(self, endpoint_url: str):
        self._base = endpoint_url.rstrip("/") + "/moto-api/recorder"

    def _post(self, action: str) -> None:
        request = urllib.request.Request(f"{self._base}/{action}", method="POST")
        urllib.request.urlopen(request, timeout=30).close()

    def start(self) -> None:
        self._post("reset-recording")
        self._post("start-recording")

    def stop(self) -> None:
        self._post("stop-recording")

    def calls(self) -> list[AwsCall]:
        with urllib.request.urlopen(f"{self._base}/download-recording", timeout=30) as response:
            lines = response.read().decode("utf-8").splitlines()
        return [parse_entry(json.loads(line)) for line in lines if line.strip()]


@contextlib.contextmanager
def recorded_calls(endpoint_url: str) -> Iterator[list[AwsCall]]:
    """Record the calls made inside the block; the list is filled when the block ends."""
    recording = Recording(endpoint_url)
    calls: list[AwsCall] = []
    recording.start()
    try:
        yield calls
    finally:
        recording.stop()
        calls.extend(recording.calls())


def writes(calls: list[AwsCall]) -> list[str]:
    """The write calls, as readable strings, in order."""
    return [str(call) for call in calls if call.is_write]
