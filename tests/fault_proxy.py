"""A fault-injecting HTTP proxy in front of the local AWS endpoint, for tests.

    with FaultProxy(endpoint.url) as proxy:
        proxy.fail("ec2", "DeleteSecurityGroup", times=3, code="DependencyViolation")
        run_playbook(proxy.url, ...)          # AWS_ENDPOINT_URL of the run
    proxy.counts[("ec2", "DeleteSecurityGroup")]   # 4: three refused, one forwarded
    proxy.injected[("ec2", "DeleteSecurityGroup")]  # 3

It listens on 127.0.0.1 only, on a free port, forwards only to a loopback
endpoint, and is bounded: it answers at most ``max_requests`` requests and
stops serving after ``max_seconds``. Each request is named by service and
action as tools/aws_calls.py names them, and counted. A rule answers the first
``times`` matching requests itself, with the error shape of the service's
protocol (EC2's query XML, the other query services' XML, or JSON), instead of
forwarding them. Later kinds of faults (throttling, 5xx, latency, resets) are
more rules of the same kind.
"""

from __future__ import annotations

import http.client
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest
from aws_calls import parse_entry

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
# Services that answer errors in EC2's query shape, and the other query (XML) services.
EC2_QUERY_SERVICES = ("ec2",)
QUERY_SERVICES = ("iam", "sts", "monitoring", "sns", "elasticloadbalancing", "autoscaling", "cloudformation", "rds")
HOP_BY_HOP = ("connection", "keep-alive", "transfer-encoding", "content-length")


@dataclass
class FaultRule:
    """Answer the next ``times`` requests for ``service`` ``action`` with an error instead of forwarding them."""

    service: str
    action: str
    times: int
    code: str
    message: str
    status: int = 400

    def matches(self, service: str, action: str) -> bool:
        return self.times > 0 and (self.service, self.action) == (service, action)


def error_response(rule: FaultRule) -> tuple[str, bytes]:
    """The content type and body AWS answers an error with, in the protocol of the rule's service."""
    request_id = str(uuid.uuid4())
    if rule.service in EC2_QUERY_SERVICES:
        body = (
            f"<Response><Errors><Error><Code>{rule.code}</Code><Message>{rule.message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return "text/xml;charset=UTF-8", body.encode()
    if rule.service in QUERY_SERVICES:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{rule.code}</Code><Message>{rule.message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return "text/xml", body.encode()
    return "application/x-amz-json-1.1", f'{{"__type": "{rule.code}", "message": "{rule.message}"}}'.encode()


class FaultProxy:
    """The proxy: start() serves on a free loopback port in a thread, stop() shuts it down."""

    def __init__(self, target_url: str, max_requests: int = 20000, max_seconds: float = 1800):
        target = urlparse(target_url)
        if target.hostname not in LOOPBACK_HOSTS:
            raise ValueError(f"the fault proxy forwards to a loopback endpoint only, not {target_url}")
        self._target = (target.hostname, target.port or 80)
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.rules: list[FaultRule] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.injected: Counter[tuple[str, str]] = Counter()
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

    def fail(self, service: str, action: str, times: int, code: str, message: str = "", status: int = 400) -> None:
        """Answer the next ``times`` calls of ``action`` with the AWS error ``code``."""
        text = message or f"Injected by the fault proxy: {code}"
        with self._lock:
            self.rules.append(FaultRule(service, action, times, code, text, status))

    def start(self) -> FaultProxy:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
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

    def decide(self, service: str, action: str) -> FaultRule | None:
        """Count the call; return the rule that answers it, or None to forward it."""
        with self._lock:
            if sum(self.counts.values()) >= self.max_requests:
                return FaultRule(service, action, 1, "ServiceUnavailable", "fault proxy: request budget spent", 503)
            self.counts[(service, action)] += 1
            for rule in self.rules:
                if rule.matches(service, action):
                    rule.times -= 1
                    self.injected[(service, action)] += 1
                    return rule
        return None

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
                action = call.operation or f"{call.method} {call.path}"
                rule = proxy.decide(call.service, action)
                if rule is not None:
                    content_type, answer = error_response(rule)
                    self._answer(rule.status, [("Content-Type", content_type)], answer)
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
