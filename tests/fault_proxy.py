"""A fault-injecting HTTP proxy in front of the local AWS endpoint, for tests.

    with FaultProxy(endpoint.url, seed=7) as proxy:
        proxy.fail("ec2", "DeleteSecurityGroup", times=3, code="DependencyViolation")
        proxy.throttle(0.2)                   # a fifth of the calls throttled
        proxy.internal_errors(0.05)           # 500 InternalError / 503 ServiceUnavailable
        proxy.resets(0.03)                    # the connection closed before forwarding
        proxy.latency(0.2)                    # seconds added to every call
        run_playbook(proxy.url, ...)          # AWS_ENDPOINT_URL of the run
    proxy.counts[("ec2", "DeleteSecurityGroup")]   # calls, whether answered by the proxy or forwarded
    proxy.injected[("ec2", "DeleteSecurityGroup")]  # faults injected on that call
    proxy.injected_kinds["throttle"]                # faults injected, by kind
    print(proxy.summary())

It listens on 127.0.0.1 only, on a free port, forwards only to a loopback
endpoint, and is bounded: it answers at most ``max_requests`` requests and
stops serving after ``max_seconds``. Each request is named by service and
action as tools/aws_calls.py names them, REST calls (Lambda, API Gateway, S3)
by the operation whose method, path and required query keys and headers in
botocore's model match (``CreateFunction``), and counted (by service and
action, and as a read or a write).

Every injected fault is decided BEFORE forwarding: a throttled, failed or reset
call never reaches the service, so a client that retries it does not apply a
change twice. Scripted rules (``fail``) answer first; then one draw of a
seeded ``random.Random`` per call decides a reset, a throttle or an internal
error by the configured fractions. The seed is in every injected message and
in ``summary()``, so a failure is reproduced by passing the same seed (calls
arriving in the same order draw the same faults).

Errors are answered in the shape of the request's protocol (current botocore
speaks JSON to CloudWatch, which answers with its former query codes, also in
the ``x-amzn-query-error`` header; older clients speak the query protocol), with the code and
HTTP status AWS uses, so botocore's retry logic (retries/standard.py,
data/_retry.json) classes them as it would classify AWS's own:

| protocol | services | throttling | internal |
|---|---|---|---|
| EC2 query | ec2 | RequestLimitExceeded 503 | InternalError 500 / Unavailable 503 |
| query (XML) | iam, sts, sns, ... | Throttling 400 | InternalFailure 500 / ServiceUnavailable 503 |
| JSON, query-compatible | monitoring (CloudWatch) | Throttling 400 | InternalFailure 500 / ServiceUnavailable 503 |
| JSON | dynamodb, logs, ssm, kms, events | ThrottlingException 400 | InternalFailure 500 / ServiceUnavailable 503 |
| REST-JSON | lambda, apigateway | TooManyRequestsException 429 | InternalFailure 500 / ServiceUnavailable 503 |
| REST-XML | s3 | SlowDown 503 | InternalError 500 / ServiceUnavailable 503 |
"""

from __future__ import annotations

import functools
import http.client
import os
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import botocore.session
import pytest
from aws_calls import parse_entry

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
# Services by the protocol whose error shape they answer with; every other service speaks JSON.
EC2_QUERY_SERVICES = ("ec2",)
QUERY_SERVICES = ("iam", "sts", "monitoring", "sns", "elasticloadbalancing", "autoscaling", "cloudformation", "rds")
REST_JSON_SERVICES = ("lambda", "apigateway")
REST_XML_SERVICES = ("s3",)
HOP_BY_HOP = ("connection", "keep-alive", "transfer-encoding", "content-length")
# The kinds of injected faults, as injected_kinds counts them.
KINDS = ("throttle", "internal", "reset", "scripted")
# (code, status) of a throttled call, and of the two internal errors (500, then 503), by protocol.
THROTTLING = {
    "ec2": ("RequestLimitExceeded", 503),
    "query": ("Throttling", 400),
    "json": ("ThrottlingException", 400),
    "query-json": ("Throttling", 400),
    "rest-json": ("TooManyRequestsException", 429),
    "rest-xml": ("SlowDown", 503),
}
INTERNAL = {
    "ec2": (("InternalError", 500), ("Unavailable", 503)),
    "query": (("InternalFailure", 500), ("ServiceUnavailable", 503)),
    "json": (("InternalFailure", 500), ("ServiceUnavailable", 503)),
    "query-json": (("InternalFailure", 500), ("ServiceUnavailable", 503)),
    "rest-json": (("InternalFailure", 500), ("ServiceUnavailable", 503)),
    "rest-xml": (("InternalError", 500), ("ServiceUnavailable", 503)),
}
SEED_VARIABLE = "FAULT_PROXY_SEED"


def protocol(service: str, headers: dict | None = None) -> str:
    """The protocol whose error shape a request expects: ec2, query, query-json, json, rest-json or rest-xml."""
    speaks_json = "x-amz-target" in {name.lower() for name in headers or {}}
    if speaks_json:
        return "query-json" if service in QUERY_SERVICES else "json"
    for name, services in (
        ("ec2", EC2_QUERY_SERVICES),
        ("query", QUERY_SERVICES),
        ("rest-json", REST_JSON_SERVICES),
        ("rest-xml", REST_XML_SERVICES),
    ):
        if service in services:
            return name
    return "json"


@dataclass
class FaultRule:
    """Answer the next ``times`` requests for ``service`` ``action`` with an error instead of forwarding them."""

    service: str
    action: str
    times: int
    code: str
    message: str
    status: int = 400
    kind: str = "scripted"
    shape: str = ""  # the protocol of the request answered, protocol(service) when empty

    def matches(self, service: str, action: str) -> bool:
        return self.times > 0 and (self.service, self.action) == (service, action)


def error_response(rule: FaultRule) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body AWS answers an error with, in the protocol of the rule's service."""
    request_id = str(uuid.uuid4())
    shape = rule.shape or protocol(rule.service)
    if shape == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{rule.code}</Code><Message>{rule.message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return [("Content-Type", "text/xml;charset=UTF-8")], body.encode()
    if shape == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{rule.code}</Code><Message>{rule.message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()
    if shape == "rest-json":
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", rule.code)]
        return [*headers, ("x-amzn-RequestId", request_id)], f'{{"message": "{rule.message}"}}'.encode()
    if shape == "rest-xml":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{rule.code}</Code><Message>{rule.message}'
            f"</Message><RequestId>{request_id}</RequestId></Error>"
        )
        return [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body.encode()
    body = f'{{"__type": "{rule.code}", "message": "{rule.message}"}}'.encode()
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)]
    if shape == "query-json":
        headers.append(("x-amzn-query-error", f"{rule.code};{'Sender' if rule.status < 500 else 'Receiver'}"))
    return headers, body


@dataclass(frozen=True)
class RestOperation:
    """How a REST operation of botocore's model is recognised in a request."""

    name: str
    method: str
    path: re.Pattern
    query_keys: frozenset[str]
    headers: frozenset[str]

    def score(self, method: str, path: str, query_keys: set[str], headers: set[str]) -> int | None:
        """How specifically the operation matches the request (more query keys and headers), None if not at all."""
        matches = method == self.method and self.path.match(path)
        if not (matches and self.query_keys <= query_keys and self.headers <= headers):
            return None
        return len(self.query_keys) + len(self.headers)


def rest_operation(service: str, method: str, url: str, headers: dict) -> str:
    """The REST operation of a request to a REST service, such as ``CreateFunction``, or "" when none matches."""
    parsed = urlparse(url)
    query_keys, header_names = set(parse_qs(parsed.query, keep_blank_values=True)), {n.lower() for n in headers}
    scored = [
        (operation.score(method, parsed.path, query_keys, header_names), operation.name)
        for operation in _rest_operations(service)
    ]
    matching = sorted((-score, name) for score, name in scored if score is not None)
    return matching[0][1] if matching else ""  # the most specific; of equals, the first by name


@functools.cache
def _rest_operations(service: str) -> tuple[RestOperation, ...]:
    if protocol(service) not in ("rest-json", "rest-xml"):
        return ()
    model = botocore.session.get_session().get_service_model(service)
    operations = (model.operation_model(name) for name in model.operation_names)
    return tuple(_recognised(operation) for operation in operations if not operation.deprecated)


def _recognised(operation) -> RestOperation:
    uri_path, _, uri_query = operation.http["requestUri"].partition("?")
    pattern = _path_pattern(uri_path)
    query_keys = {part.partition("=")[0] for part in uri_query.split("&") if part}
    headers: set[str] = set()
    shape = operation.input_shape
    for member in shape.required_members if shape else ():
        location, name = (
            shape.members[member].serialization.get("location"),
            shape.members[member].serialization.get("name"),
        )
        if location == "header":
            headers.add(name.lower())
        elif location == "querystring":
            query_keys.add(name)
    return RestOperation(
        operation.name,
        operation.http["method"],
        re.compile(f"^{pattern}/?$"),
        frozenset(query_keys),
        frozenset(headers),
    )


def _path_pattern(uri_path: str) -> str:
    """A regular expression for a requestUri's path: a {Label} is one segment, a greedy {Label+} one or more."""
    parts = re.split(r"(\{[^}]+\})", uri_path)
    labels = {True: ".+", False: "[^/]+"}
    return "".join(labels[part.endswith("+}")] if part.startswith("{") else re.escape(part) for part in parts)


@dataclass
class Fractions:
    """The share of calls that are reset, throttled or answered with an internal error."""

    reset: float = 0.0
    throttle: float = 0.0
    internal: float = 0.0

    def kind(self, draw: float) -> str | None:
        """The kind of fault that a draw in [0, 1) falls on, or None to forward the call."""
        bound = 0.0
        for kind in ("reset", "throttle", "internal"):
            bound += getattr(self, kind)
            if draw < bound:
                return kind
        return None


class FaultProxy:
    """The proxy: start() serves on a free loopback port in a thread, stop() shuts it down."""

    def __init__(self, target_url: str, max_requests: int = 20000, max_seconds: float = 1800, seed: int | None = None):
        target = urlparse(target_url)
        if target.hostname not in LOOPBACK_HOSTS:
            raise ValueError(f"the fault proxy forwards to a loopback endpoint only, not {target_url}")
        self._target = (target.hostname, target.port or 80)
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.seed = default_seed() if seed is None else seed
        self._random = random.Random(self.seed)
        self.fractions = Fractions()
        self.delay = 0.0
        self.rules: list[FaultRule] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.services: Counter[str] = Counter()
        self.writes = 0
        self.service_writes: Counter[str] = Counter()
        self.injected: Counter[tuple[str, str]] = Counter()
        self.injected_kinds: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        # Called with (service, action) once a forwarded call's answer is back, before the client gets it.
        self.on_forwarded: Callable[[str, str], None] | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fault proxy is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def calls(self) -> int:
        return sum(self.counts.values())

    def fail(self, service: str, action: str, times: int, code: str, message: str = "", status: int = 400) -> None:
        """Answer the next ``times`` calls of ``action`` with the AWS error ``code``."""
        text = message or f"Injected by the fault proxy (seed {self.seed}): {code}"
        with self._lock:
            self.rules.append(FaultRule(service, action, times, code, text, status))

    def throttle(self, fraction: float) -> None:
        """Answer that fraction of the calls with the throttling error of their service's protocol."""
        self._set_fraction("throttle", fraction)

    def internal_errors(self, fraction: float) -> None:
        """Answer that fraction of the calls with a 500 internal error or a 503 service unavailable."""
        self._set_fraction("internal", fraction)

    def resets(self, fraction: float) -> None:
        """Close the connection without answering on that fraction of the calls.

        The call is reset BEFORE it is forwarded: the request never reaches the service.
        """
        self._set_fraction("reset", fraction)

    def latency(self, seconds: float) -> None:
        """Wait that long before answering every call, forwarded or not."""
        self.delay = seconds

    def _set_fraction(self, kind: str, fraction: float) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError(f"a fraction of calls is between 0 and 1, not {fraction}")
        with self._lock:
            setattr(self.fractions, kind, fraction)
            if self.fractions.reset + self.fractions.throttle + self.fractions.internal > 1:
                raise ValueError(f"the fractions of faults add up to more than 1: {self.fractions}")

    def summary(self) -> str:
        """One line for test output: the seed, the calls, the writes and the injected faults by kind."""
        kinds = " ".join(f"{kind}={self.injected_kinds[kind]}" for kind in KINDS)
        busiest = ", ".join(f"{service}={count}" for service, count in self.services.most_common())
        totals = f"seed={self.seed} calls={self.calls} writes={self.writes}"
        return f"{totals} injected: {kinds} (calls by service: {busiest})"

    def start(self) -> FaultProxy:
        self._server = QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        serving = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        deadline = threading.Timer(self.max_seconds, self._server.shutdown)
        deadline.daemon = True
        self._threads = [serving, deadline]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._threads[1].cancel()
        self._server.shutdown()
        self._server.server_close()
        self._threads[0].join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def decide(self, service: str, action: str, is_write: bool = False, shape: str = "") -> FaultRule | None:
        """Count the call; return the rule that answers it (a reset's has status 0), or None to forward it."""
        with self._lock:
            if self.calls >= self.max_requests:
                return FaultRule(service, action, 1, "ServiceUnavailable", "fault proxy: request budget spent", 503)
            self.counts[(service, action)] += 1
            self.services[service] += 1
            self.writes += is_write
            self.service_writes[service] += is_write
            rule = self._scripted(service, action) or self._drawn(service, action, shape or protocol(service))
            if rule is None:
                return None
            self.injected[(service, action)] += 1
            self.injected_kinds[rule.kind] += 1
            return FaultRule(**{**rule.__dict__, "shape": shape})

    def _scripted(self, service: str, action: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(service, action):
                rule.times -= 1
                return rule
        return None

    def _drawn(self, service: str, action: str, shape: str) -> FaultRule | None:
        kind = self.fractions.kind(self._random.random())
        if kind is None:
            return None
        if kind == "reset":
            code, status = "ConnectionReset", 0
        elif kind == "throttle":
            code, status = THROTTLING[shape]
        else:
            code, status = self._random.choice(INTERNAL[shape])
        message = f"Injected by the fault proxy (seed {self.seed}): {code}"
        return FaultRule(service, action, 1, code, message, status, kind)

    def forward(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(*self._target, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet: the counts are the record
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
                call = parse_entry({"headers": headers, "url": self.path, "method": self.command, "body": _text(body)})
                operation = call.operation or rest_operation(call.service, self.command, self.path, headers)
                action = operation or f"{call.method} {call.path}"
                if proxy.delay:
                    time.sleep(proxy.delay)
                rule = proxy.decide(call.service, action, call.is_write, protocol(call.service, headers))
                if rule is not None and rule.kind == "reset":
                    self.close_connection = True  # no answer at all: the client sees the connection closed
                    return
                if rule is not None:
                    error_headers, answer = error_response(rule)
                    self._answer(rule.status, error_headers, answer)
                    return
                status, response_headers, answer = proxy.forward(self.command, self.path, headers, body)
                if proxy.on_forwarded is not None:
                    proxy.on_forwarded(call.service, action)
                kept = [(name, value) for name, value in response_headers if name.lower() not in HOP_BY_HOP]
                length = dict((name.lower(), value) for name, value in response_headers).get("content-length")
                self._answer(status, kept, answer, length if self.command == "HEAD" else None)

            def _answer(self, status: int, headers: list, body: bytes, length: str | None = None) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", length or str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        return Handler


class QuietServer(ThreadingHTTPServer):
    """A client that went away (a killed playbook, a reset) is no error worth a traceback."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def default_seed() -> int:
    """The seed from FAULT_PROXY_SEED (to reproduce a failure), or a new one."""
    configured = os.environ.get(SEED_VARIABLE)
    return int(configured) if configured else random.SystemRandom().randrange(2**31)


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return ""  # a binary upload names no action


@pytest.fixture
def fault_proxy(local_endpoint):
    """A started fault proxy in front of the session's endpoint, stopped after the test."""
    proxy = FaultProxy(local_endpoint.url).start()
    yield proxy
    proxy.stop()
