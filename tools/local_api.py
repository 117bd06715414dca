#!/usr/bin/env python3
"""Serve a deployed REST API on 127.0.0.1, running its functions' deployed code: a local API Gateway front.

    local_api.py up     (--api-name NAME | --api-id ID) [--port N] [--endpoint-url URL] [options]
    local_api.py down   [--port N] [--state-dir DIR]     stop the front that ``up`` started, by its pid
    local_api.py status [--port N] [--state-dir DIR]     say whether the port answers
    local_api.py serve  (--api-name NAME | --api-id ID) [--port N] [--endpoint-url URL] [options]

    options: --region us-east-1  --state-dir .local  --workers-per-function 4

``up`` stops the front it started earlier on that port (so it always serves the code deployed last),
starts ``serve`` in the background (pid and log in ``STATE_DIR/api-PORT.pid`` / ``.log``) and waits
until it answers.  The port defaults to ``$LOCAL_API_PORT`` or 3000, the endpoint to
``$AWS_ENDPOINT_URL`` or ``http://127.0.0.1:${LOCAL_AWS_PORT:-5000}``.  Credentials are the
environment's, ``testing`` when unset: the front talks to the local endpoint only.

Design.  moto's Lambda ``Invoke`` needs a container engine, so this front plays API Gateway and
Lambda itself, in the spirit of ``sam local start-api`` without Docker:

* At start it reads the deployed API from the endpoint: the REST API (by name, exactly one, or by
  id), its stages and their variables, every method whose integration is ``AWS_PROXY`` to a Lambda
  function (with its ``apiKeyRequired``), and, per stage, the enabled API keys attached to a usage
  plan of that stage.  For each function ARN it reads ``GetFunction`` (handler, environment,
  timeout), downloads ``Code.Location``, checks ``CodeSha256`` and unpacks the package into a
  temporary directory (one per ``CodeSha256``, removed on exit).
* It serves ``http://127.0.0.1:PORT/<stage>/<path>`` (the execute-api layout) with a threading HTTP
  server: it matches the stage and the route (``{name}`` is one segment, ``{name+}`` the rest), checks
  the ``x-api-key`` header, builds the proxy event API Gateway would send (as in tests/events/) and
  hands it to a pool of ``tools/handler_runner.py`` processes for that function: started on demand,
  at most ``--workers-per-function``, one event at a time each, like Lambda execution environments.
* API Gateway's own answers: no stage, route or method: 403 ``Missing Authentication Token``; a
  missing or unknown key on a key-required method: 403 ``Forbidden``; the function's timeout (at most
  API Gateway's 29 s) passed: 504 ``Endpoint request timed out`` and that worker is killed; an
  unhandled error, a crashed worker or a malformed proxy response: 502 ``Internal server error``; a
  body over 10 MB: 413 ``Request Too Long``; a Content-Length or chunk size that is not a number: 400
  ``Bad Request`` (the body cannot be found; the connection is closed).  Every answer carries
  ``x-amzn-RequestId``; one line per request goes to standard error, with the handlers' own logs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import fnmatch
import hashlib
import io
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import background
from background import is_running

HOST = "127.0.0.1"
DEFAULT_PORT = int(os.environ.get("LOCAL_API_PORT", "3000"))
DEFAULT_ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL") or f"http://{HOST}:{os.environ.get('LOCAL_AWS_PORT', '5000')}"
DEFAULT_STATE_DIR = Path(__file__).resolve().parent.parent / ".local"
HANDLER_RUNNER = Path(__file__).resolve().parent / "handler_runner.py"
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
API_GATEWAY_TIMEOUT_SECONDS = 29
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
LAMBDA_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/2015-03-31/functions/(?P<arn>arn:[^/]+)/invocations$")
HEX_DIGITS = re.compile(rb"[0-9A-Fa-f]{1,16}")
DECIMAL_DIGITS = re.compile(r"[0-9]{1,20}")
PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
FRAMING_HEADERS = {"content-length", "transfer-encoding", "connection"}  # the front frames its own responses
IDENTITY_FIELDS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "sourceIp",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "userAgent",
    "user",
)


def note(message: str) -> None:
    """A line for the front's log (standard error), next to the handlers' own output."""
    print(f"local api: {message}", file=sys.stderr, flush=True)


class LaunchError(Exception):
    """Why the front cannot serve the API, said plainly."""


class WorkerTimedOut(Exception):
    """The function did not answer before its deadline."""


class WorkerDied(Exception):
    """The worker process ended instead of answering (an init failure, an exit, a crash)."""


@dataclass(frozen=True)
class Route:
    template: str  # the resource path, "/tasks/{id}"
    resource_id: str
    method: str  # an HTTP method or "ANY"
    function_arn: str
    api_key_required: bool


@dataclass
class Stage:
    name: str
    routes: list[Route]
    variables: dict[str, str] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)  # key value -> key id


@dataclass
class Api:
    id: str
    name: str
    account_id: str
    stages: dict[str, Stage]
    binary_media_types: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """Where a request goes: its stage, its route, its path below the stage and the path's parameters."""

    stage: Stage
    route: Route
    path: str
    path_parameters: dict[str, str]


@dataclass
class IncomingRequest:
    method: str
    path: str  # as received, with the stage, without the query string
    query: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = HOST
    protocol: str = "HTTP/1.1"
    port: int = DEFAULT_PORT


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Function:
    arn: str
    name: str
    version: str
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    code_dir: Path


# Routing -------------------------------------------------------------------------------------------------------------


def path_segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def is_greedy(part: str) -> bool:
    return part.startswith("{") and part.endswith("+}")


def is_parameter(part: str) -> bool:
    return part.startswith("{") and part.endswith("}")


def match_template(template: str, segments: list[str]) -> dict[str, str] | None:
    """The path parameters when the decoded ``segments`` match the resource ``template``, else None."""
    parts = path_segments(template)
    parameters: dict[str, str] = {}
    for index, part in enumerate(parts):
        if is_greedy(part):
            rest = segments[index:]
            if not rest:
                return None
            parameters[part[1:-2]] = "/".join(rest)
            return parameters
        if index >= len(segments):
            return None
        if is_parameter(part):
            parameters[part[1:-1]] = segments[index]
        elif part != segments[index]:
            return None
    return parameters if len(parts) == len(segments) else None


def specificity(template: str) -> tuple[int, ...]:
    """Sort key: literal segments beat ``{name}``, which beats ``{name+}`` (API Gateway's precedence)."""
    return tuple(2 if is_greedy(part) else 1 if is_parameter(part) else 0 for part in path_segments(template))


def find_route(routes: list[Route], method: str, segments: list[str]) -> tuple[Route, dict[str, str]] | None:
    """The route of the most specific matching resource for ``method`` (or its ANY method), with its parameters."""
    matches = [(route, params) for route in routes if (params := match_template(route.template, segments)) is not None]
    if not matches:
        return None
    best = min(specificity(route.template) for route, _ in matches)
    on_best = {route.method: (route, params) for route, params in matches if specificity(route.template) == best}
    return on_best.get(method) or on_best.get("ANY")


def resolve_target(api: Api, method: str, raw_path: str) -> Target | None:
    """The stage and route of ``/<stage>/<path>``, or None where API Gateway answers Missing Authentication Token."""
    stage_name, _, below_stage = raw_path.lstrip("/").partition("/")
    stage = api.stages.get(stage_name)
    if stage is None:
        return None
    segments = [unquote(segment) for segment in path_segments(below_stage)]
    found = find_route(stage.routes, method, segments)
    if found is None:
        return None
    route, parameters = found
    return Target(stage, route, "/" + "/".join(segments), parameters)


# The proxy event -----------------------------------------------------------------------------------------------------


def header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    """The last value of a header, its name compared case-insensitively."""
    values = [value for header, value in headers if header.lower() == name.lower()]
    return values[-1] if values else None


def single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway's two views of repeated names: the last value, and all values; None when there are none."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    if not multi:
        return None, None
    return {name: values[-1] for name, values in multi.items()}, multi


def forwarded_headers(request: IncomingRequest) -> list[tuple[str, str]]:
    """The client's headers plus the X-Forwarded-* headers API Gateway adds."""
    present = {name.lower() for name, _ in request.headers}
    added = [
        ("X-Forwarded-For", request.source_ip),
        ("X-Forwarded-Port", str(request.port)),
        ("X-Forwarded-Proto", "http"),
    ]
    return request.headers + [(name, value) for name, value in added if name.lower() not in present]


def is_binary_media_type(content_type: str | None, binary_media_types: list[str]) -> bool:
    media_type = (content_type or "").split(";")[0].strip().lower()
    return bool(media_type) and any(fnmatch.fnmatch(media_type, pattern.lower()) for pattern in binary_media_types)


def event_body(body: bytes, content_type: str | None, binary_media_types: list[str]) -> tuple[str | None, bool]:
    """The body as the event carries it: UTF-8 text as is, else (or for a binary media type) base64."""
    if not body:
        return None, False
    if not is_binary_media_type(content_type, binary_media_types):
        with contextlib.suppress(UnicodeDecodeError):
            return body.decode("utf-8"), False
    return base64.b64encode(body).decode("ascii"), True


def new_extended_request_id() -> str:
    return base64.b64encode(os.urandom(11)).decode("ascii")


def identity(request: IncomingRequest, stage: Stage) -> dict[str, Any]:
    fields: dict[str, Any] = dict.fromkeys(IDENTITY_FIELDS)
    fields.update(sourceIp=request.source_ip, userAgent=header_value(request.headers, "User-Agent"))
    api_key = header_value(request.headers, "x-api-key")
    if api_key is not None:
        fields["apiKey"] = api_key
        if api_key in stage.api_keys:
            fields["apiKeyId"] = stage.api_keys[api_key]
    return fields


def request_context(
    request: IncomingRequest, api: Api, target: Target, request_id: str, extended_id: str, now: datetime.datetime
) -> dict[str, Any]:
    domain = header_value(request.headers, "Host") or f"{HOST}:{request.port}"
    return {
        "resourceId": target.route.resource_id,
        "resourcePath": target.route.template,
        "httpMethod": request.method,
        "extendedRequestId": extended_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "path": f"/{target.stage.name}{target.path}",
        "accountId": api.account_id,
        "protocol": request.protocol,
        "stage": target.stage.name,
        "domainPrefix": domain.split(".")[0],
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "requestId": request_id,
        "identity": identity(request, target.stage),
        "domainName": domain,
        "apiId": api.id,
    }


def build_event(
    request: IncomingRequest,
    api: Api,
    target: Target,
    request_id: str,
    extended_id: str | None = None,
    now: datetime.datetime | None = None,
) -> dict[str, Any]:
    """The API Gateway REST (v1) proxy event for ``request`` routed to ``target``."""
    now = now or datetime.datetime.now(datetime.UTC)
    headers, multi_value_headers = single_and_multi(forwarded_headers(request))
    query, multi_value_query = single_and_multi(parse_qsl(request.query, keep_blank_values=True))
    content_type = header_value(request.headers, "Content-Type")
    body, is_base64 = event_body(request.body, content_type, api.binary_media_types)
    context = request_context(request, api, target, request_id, extended_id or new_extended_request_id(), now)
    return {
        "resource": target.route.template,
        "path": target.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_value_query,
        "pathParameters": target.path_parameters or None,
        "stageVariables": target.stage.variables or None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


# The function's response ---------------------------------------------------------------------------------------------


def gateway_error(status: int, message: str, error_type: str | None = None) -> Answer:
    """An answer of API Gateway itself: ``{"message": ...}``."""
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return Answer(status, headers, json.dumps({"message": message}).encode())


def is_header_value(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def is_proxy_response(result: Any) -> bool:
    """Whether ``result`` is a Lambda proxy response API Gateway accepts (an unhandled error is not)."""
    if not isinstance(result, dict) or set(result) - PROXY_RESPONSE_KEYS:
        return False
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return False
    headers = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    return (
        isinstance(headers, dict)
        and all(is_header_value(value) for value in headers.values())
        and isinstance(multi, dict)
        and all(isinstance(values, list) and all(map(is_header_value, values)) for values in multi.values())
        and isinstance(result.get("body"), str | None)
        and isinstance(result.get("isBase64Encoded", False), bool | None)
    )


def response_headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    """``headers`` and ``multiValueHeaders`` merged as API Gateway does (a pair in both appears once)."""
    multi = [(name, str(value)) for name, values in (result.get("multiValueHeaders") or {}).items() for value in values]
    single = [(name, str(value)) for name, value in (result.get("headers") or {}).items()]
    merged = [pair for pair in single if pair not in multi] + multi
    return [(name, value) for name, value in merged if name.lower() not in FRAMING_HEADERS]


def answer_from_lambda(result: Any) -> Answer:
    """The HTTP answer for a function's result: its proxy response, or 502 as API Gateway answers."""
    if not is_proxy_response(result):
        return gateway_error(502, "Internal server error")
    body = result.get("body") or ""
    try:
        raw = base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else body.encode("utf-8")
    except ValueError:
        return gateway_error(502, "Internal server error")
    headers = response_headers(result)
    if header_value(headers, "Content-Type") is None:
        headers.insert(0, ("Content-Type", "application/json"))
    return Answer(int(result["statusCode"]), headers, raw)


# Reading the deployed API --------------------------------------------------------------------------------------------


def aws_client(service: str, endpoint_url: str, region: str):
    import boto3

    return boto3.client(service, region_name=region, endpoint_url=endpoint_url)


def all_items(client, operation: str, **params) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**params) for item in page.get("items", [])]


def find_rest_api(apigateway, name: str | None, api_id: str | None) -> dict[str, Any]:
    if api_id:
        try:
            return apigateway.get_rest_api(restApiId=api_id)
        except apigateway.exceptions.NotFoundException:
            raise LaunchError(f"no REST API has the id {api_id!r}") from None
    named = [api for api in all_items(apigateway, "get_rest_apis") if api["name"] == name]
    if len(named) != 1:
        ids = ", ".join(api["id"] for api in named)
        raise LaunchError(f"{len(named)} REST APIs are named {name!r} ({ids or 'none'}); expected exactly one")
    return named[0]


def lambda_arn_of(integration: dict[str, Any] | None) -> str | None:
    """The function ARN of an AWS_PROXY Lambda integration (without stage variables in it), else None."""
    if not integration or integration.get("type") != "AWS_PROXY":
        return None
    match = LAMBDA_URI.match(integration.get("uri", ""))
    return match["arn"] if match and "${" not in match["arn"] else None


def read_routes(apigateway, api_id: str) -> list[Route]:
    """Every method integrated to a Lambda function by AWS_PROXY; the others are noted and not served."""
    routes = []
    for resource in all_items(apigateway, "get_resources", restApiId=api_id, embed=["methods"]):
        for method, definition in (resource.get("resourceMethods") or {}).items():
            if "methodIntegration" not in definition:  # without embedded methods, AWS lists names only
                definition = apigateway.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=method)
            integration = definition.get("methodIntegration") or {}
            arn = lambda_arn_of(integration)
            if arn is None:
                note(f"not served: {method} {resource['path']} (integration {integration.get('type', 'none')})")
                continue
            api_key_required = bool(definition.get("apiKeyRequired"))
            routes.append(Route(resource["path"], resource["id"], method, arn, api_key_required))
    return routes


def read_stage_api_keys(apigateway, api_id: str) -> dict[str, dict[str, str]]:
    """Per stage name, the enabled keys (value -> id) attached to a usage plan that includes the stage."""
    keys_read = all_items(apigateway, "get_api_keys", includeValues=True)
    enabled = {key["id"]: key["value"] for key in keys_read if key.get("enabled") and key.get("value")}
    keys: dict[str, dict[str, str]] = {}
    for plan in all_items(apigateway, "get_usage_plans"):
        stages = [stage["stage"] for stage in plan.get("apiStages", []) if stage.get("apiId") == api_id]
        if not stages:
            continue
        plan_keys = [key["id"] for key in all_items(apigateway, "get_usage_plan_keys", usagePlanId=plan["id"])]
        for stage in stages:
            keys.setdefault(stage, {}).update({enabled[key]: key for key in plan_keys if key in enabled})
    return keys


def read_api(endpoint_url: str, region: str, name: str | None, api_id: str | None) -> Api:
    apigateway = aws_client("apigateway", endpoint_url, region)
    rest_api = find_rest_api(apigateway, name, api_id)
    routes = read_routes(apigateway, rest_api["id"])
    keys = read_stage_api_keys(apigateway, rest_api["id"])
    stages = {
        stage["stageName"]: Stage(
            stage["stageName"], routes, stage.get("variables") or {}, keys.get(stage["stageName"], {})
        )
        for stage in apigateway.get_stages(restApiId=rest_api["id"]).get("item", [])
    }
    if not stages:
        raise LaunchError(f"the REST API {rest_api['name']!r} ({rest_api['id']}) has no stage: deploy it first")
    account_id = aws_client("sts", endpoint_url, region).get_caller_identity()["Account"]
    return Api(rest_api["id"], rest_api["name"], account_id, stages, rest_api.get("binaryMediaTypes") or [])


# The deployed code ---------------------------------------------------------------------------------------------------


def download_package(location: str, code_sha256: str) -> bytes:
    """The package at ``Code.Location``, checked against ``CodeSha256`` (base64 of its sha256)."""
    try:
        with urllib.request.urlopen(location, timeout=60) as response:
            package = response.read()
    except (urllib.error.URLError, OSError) as error:
        raise LaunchError(f"cannot download the code from {location.split('?')[0]}: {error}") from None
    actual = base64.b64encode(hashlib.sha256(package).digest()).decode("ascii")
    if actual != code_sha256:
        raise LaunchError(f"the code downloaded has CodeSha256 {actual}, the function says {code_sha256}")
    return package


class CodeCache:
    """One unpacked package per CodeSha256, in temporary directories that ``close`` removes."""

    def __init__(self) -> None:
        self._directories: dict[str, tempfile.TemporaryDirectory] = {}

    def directory_for(self, location: str, code_sha256: str) -> Path:
        if code_sha256 not in self._directories:
            package = download_package(location, code_sha256)
            directory = tempfile.TemporaryDirectory(prefix="local-api-code-")
            self._directories[code_sha256] = directory
            try:
                zipfile.ZipFile(io.BytesIO(package)).extractall(directory.name)
            except zipfile.BadZipFile as error:
                raise LaunchError(f"the package with CodeSha256 {code_sha256} is not a zip file: {error}") from None
        return Path(self._directories[code_sha256].name)

    def close(self) -> None:
        for directory in self._directories.values():
            directory.cleanup()
        self._directories.clear()


def read_function(endpoint_url: str, arn: str, code: CodeCache) -> Function:
    region = arn.split(":")[3]
    response = aws_client("lambda", endpoint_url, region).get_function(FunctionName=arn)
    config = response["Configuration"]
    if config.get("PackageType", "Zip") != "Zip" or not config.get("Runtime", "").startswith("python"):
        raise LaunchError(f"{arn}: only Python functions from Zip packages can run here")
    return Function(
        arn=arn,
        name=config["FunctionName"],
        version=config.get("Version", "$LATEST"),
        handler=config["Handler"],
        timeout=int(config.get("Timeout", 3)),
        memory=int(config.get("MemorySize", 128)),
        environment=(config.get("Environment") or {}).get("Variables") or {},
        code_dir=code.directory_for(response["Code"]["Location"], config["CodeSha256"]),
    )


def worker_environment(function: Function, endpoint_url: str) -> dict[str, str]:
    """The function's variables, Lambda's reserved ones, the local endpoint and this process's credentials."""
    region = function.arn.split(":")[3]
    passed = ("PATH", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    return {
        **function.environment,
        **{name: os.environ[name] for name in passed if name in os.environ},
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": function.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "LAMBDA_TASK_ROOT": str(function.code_dir),
    }


# Workers -------------------------------------------------------------------------------------------------------------


class Worker:
    """One ``handler_runner.py`` process: one event at a time, like one Lambda execution environment."""

    def __init__(self, function: Function, environment: dict[str, str]) -> None:
        command = [sys.executable, str(HANDLER_RUNNER), str(function.code_dir), function.handler]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment, cwd=function.code_dir
        )
        self._pending = b""

    def invoke(self, event: dict[str, Any], deadline: float) -> Any:
        """The handler's result for ``event``; WorkerTimedOut after ``deadline`` (monotonic), WorkerDied."""
        try:
            self._process.stdin.write(json.dumps(event).encode("utf-8") + b"\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied(self._process.poll()) from None
        return json.loads(self._read_line(deadline))

    def _read_line(self, deadline: float) -> bytes:
        stdout = self._process.stdout.fileno()
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimedOut("no answer in time; worker killed")
            if select.select([stdout], [], [], remaining)[0]:
                chunk = os.read(stdout, 65536)
                if not chunk:
                    raise WorkerDied(self._process.wait())
                self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def stop(self) -> None:
        """End the process: end of input when it is idle, a kill when it does not exit at once."""
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        try:
            self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        self._process.kill()
        self._process.wait()
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        self._process.stdout.close()


class WorkerPool:
    """Up to ``size`` workers for one function, started on demand; beyond that a request waits for one."""

    def __init__(self, function: Function, environment: dict[str, str], size: int) -> None:
        self.function = function
        self._environment = environment
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[Worker] = []
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any], gateway_deadline: float) -> Any:
        """Run ``event`` on a free worker within the function's timeout and ``gateway_deadline`` (monotonic)."""
        if not self._slots.acquire(timeout=max(0.0, gateway_deadline - time.monotonic())):
            raise WorkerTimedOut("no worker came free in time")
        try:
            worker = self._idle_worker() or Worker(self.function, self._environment)
            deadline = min(time.monotonic() + self.function.timeout, gateway_deadline)
            try:
                result = worker.invoke(event, deadline)
            except BaseException:
                worker.kill()  # a late answer would be read as the next request's
                raise
            with self._lock:
                self._idle.append(worker)
            return result
        finally:
            self._slots.release()

    def _idle_worker(self) -> Worker | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def stop(self) -> None:
        with self._lock:
            workers, self._idle = self._idle, []
        for worker in workers:
            worker.stop()


# The front -----------------------------------------------------------------------------------------------------------


class LocalApi:
    """The API read from the endpoint and a worker pool per function: everything a request needs."""

    def __init__(self, api: Api, pools: dict[str, WorkerPool]) -> None:
        self.api = api
        self.pools = pools

    def answer(self, request: IncomingRequest) -> Answer:
        received = time.monotonic()
        request_id, extended_id = str(uuid.uuid4()), new_extended_request_id()
        answer = self._route_and_invoke(request, request_id, extended_id, received)
        answer.headers += [("x-amzn-RequestId", request_id), ("x-amz-apigw-id", extended_id)]
        return answer

    def _route_and_invoke(self, request: IncomingRequest, request_id: str, extended_id: str, received: float) -> Answer:
        target = resolve_target(self.api, request.method, request.path)
        if target is None:
            return gateway_error(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        if target.route.api_key_required and header_value(request.headers, "x-api-key") not in target.stage.api_keys:
            return gateway_error(403, "Forbidden", "ForbiddenException")
        event = build_event(request, self.api, target, request_id, extended_id)
        return self._invoke(self.pools[target.route.function_arn], event, received + API_GATEWAY_TIMEOUT_SECONDS)

    @staticmethod
    def _invoke(pool: WorkerPool, event: dict[str, Any], gateway_deadline: float) -> Answer:
        name = pool.function.name
        try:
            result = pool.invoke(event, gateway_deadline)
        except WorkerTimedOut as error:
            note(f"{name}: {error} (Timeout {pool.function.timeout} s, at most {API_GATEWAY_TIMEOUT_SECONDS} s)")
            return gateway_error(504, "Endpoint request timed out")
        except WorkerDied as error:
            note(f"{name}: the worker exited with status {error} without answering (an init failure?)")
            return gateway_error(502, "Internal server error")
        except ValueError:
            note(f"{name}: the worker answered something that is not JSON")
            return gateway_error(502, "Internal server error")
        if isinstance(result, dict) and "errorType" in result:
            note(f"{name}: unhandled {result['errorType']}: {result.get('errorMessage')}")
        elif not is_proxy_response(result):
            note(f"{name}: not a Lambda proxy response: {json.dumps(result)[:300]}")
        return answer_from_lambda(result)

    def stop(self) -> None:
        for pool in self.pools.values():
            pool.stop()

    def describe(self) -> list[str]:
        lines = []
        for stage in self.api.stages.values():
            for route in sorted(stage.routes, key=lambda route: (route.template, route.method)):
                key = "API key" if route.api_key_required else "no key"
                lines.append(f"  {route.method:7} /{stage.name}{route.template} -> {route.function_arn} ({key})")
        return lines


def load_local_api(args: argparse.Namespace, code: CodeCache) -> LocalApi:
    import botocore.exceptions

    try:
        api = read_api(args.endpoint_url, args.region, args.api_name, args.api_id)
        arns = sorted({route.function_arn for stage in api.stages.values() for route in stage.routes})
        functions = [read_function(args.endpoint_url, arn, code) for arn in arns]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise LaunchError(f"cannot read the API from {args.endpoint_url}: {error}") from None
    pools = {
        function.arn: WorkerPool(function, worker_environment(function, args.endpoint_url), args.workers_per_function)
        for function in functions
    }
    return LocalApi(api, pools)


class BadFraming(Exception):
    """A Content-Length or chunk size that is not a number: the body cannot be found (400, like API Gateway)."""


def chunk_size(line: bytes) -> int:
    """The size on a chunk's line, hexadecimal digits only (``int(x, 16)`` would take "-1", "0x5", " 5")."""
    size = line.split(b";")[0].strip()
    if not HEX_DIGITS.fullmatch(size):
        raise BadFraming(f"chunk size {line[:40]!r}")
    return int(size, 16)


def content_length(value: str | None) -> int:
    """The Content-Length header's value, decimal digits only; 0 when absent."""
    if value is None:
        return 0
    if not DECIMAL_DIGITS.fullmatch(value.strip()):
        raise BadFraming(f"Content-Length {value[:40]!r}")
    return int(value)


def read_chunked(stream) -> bytes:
    """A body sent with ``Transfer-Encoding: chunked``."""
    body = bytearray()
    while size := chunk_size(stream.readline()):
        body += stream.read(size)
        stream.readline()
        if len(body) > MAX_REQUEST_BYTES:
            raise OverflowError
    while stream.readline() not in (b"\r\n", b"\n", b""):  # trailers
        pass
    return bytes(body)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like API Gateway
    disable_nagle_algorithm = True  # else headers then body on a kept-alive connection wait ~40 ms for an ACK
    server: LocalApiServer

    def serve_request(self) -> None:
        started = time.perf_counter()
        try:
            answer = self._answer()
        except Exception as error:  # the front's own fault: answered like API Gateway's internal error
            self.log_message("front error: %s: %s", type(error).__name__, error)
            answer = gateway_error(500, "Internal server error")
        if header_value(answer.headers, "x-amzn-RequestId") is None:  # answered before any routing (400, 413, 500)
            answer.headers.append(("x-amzn-RequestId", str(uuid.uuid4())))
        elapsed_ms = (time.perf_counter() - started) * 1000
        print(f"{self.command} {self.path} {answer.status} {elapsed_ms:.1f} ms", file=sys.stderr, flush=True)
        self._write(answer)  # after the log line, so that whoever got the answer finds the line in the log

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = serve_request

    def _answer(self) -> Answer:
        try:
            body = self._read_body()
        except OverflowError:
            self.close_connection = True
            return gateway_error(413, "Request Too Long")
        except BadFraming as error:
            self.log_message("bad request framing: %s", error)
            self.close_connection = True
            return gateway_error(400, "Bad Request")
        url = urlsplit(self.path)
        request = IncomingRequest(
            method=self.command,
            path=url.path,
            query=url.query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            port=self.server.server_address[1],
        )
        return self.server.local_api.answer(request)

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            return read_chunked(self.rfile)
        length = content_length(self.headers.get("Content-Length"))
        if length > MAX_REQUEST_BYTES:
            raise OverflowError
        return self.rfile.read(length) if length > 0 else b""

    def _write(self, answer: Answer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: ``serve_request`` logs one line per request itself."""

    def log_message(self, format: str, *args: Any) -> None:
        note(format % args)


class LocalApiServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, port: int, local_api: LocalApi) -> None:
        super().__init__((HOST, port), RequestHandler)
        self.local_api = local_api


# Lifecycle: serve, up, down, status ----------------------------------------------------------------------------------


def front_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def answers(port: int, timeout: float = 1.0) -> bool:
    """Whether an HTTP server answers on the port (any status counts)."""
    return background.answers(f"{front_url(port)}/", timeout)


def pid_file(state_dir: Path, port: int) -> Path:
    return background.state_file(state_dir, "api", port, ".pid")


def log_file(state_dir: Path, port: int) -> Path:
    return background.state_file(state_dir, "api", port, ".log")


def read_pid(state_dir: Path, port: int) -> int | None:
    return background.read_pid(pid_file(state_dir, port))


def is_our_server(pid: int, port: int) -> bool:
    """Guard against a recycled pid: the process must be this front serving that port."""
    return background.is_serving(pid, "local_api.py", str(port))


def serve_command(args: argparse.Namespace) -> list[str]:
    api = ["--api-id", args.api_id] if args.api_id else ["--api-name", args.api_name]
    options = {
        "--port": args.port,
        "--endpoint-url": args.endpoint_url,
        "--region": args.region,
        "--state-dir": args.state_dir,
        "--workers-per-function": args.workers_per_function,
    }
    return [sys.executable, str(Path(__file__).resolve()), "serve", *api, *(str(x) for o in options.items() for x in o)]


def log_tail(path: Path, lines: int = 10) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def serve(args: argparse.Namespace) -> int:
    """Read the API, then serve it until SIGTERM or Ctrl-C; the unpacked code is removed either way."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    code = CodeCache()
    try:
        return serve_with(args, code)
    finally:
        code.close()


def serve_with(args: argparse.Namespace, code: CodeCache) -> int:
    try:
        local_api = load_local_api(args, code)
        server = LocalApiServer(args.port, local_api)
    except (LaunchError, OSError) as error:
        note(str(error))
        return 1
    api = local_api.api
    print(f"local api: serving {api.name} ({api.id}) from {args.endpoint_url} at {front_url(args.port)}", flush=True)
    print("\n".join(local_api.describe()), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        local_api.stop()
    return 0


def stop_ours(port: int, state_dir: Path) -> int | None:
    """Stop the front whose pid ``up`` recorded for the port, if it is still ours; return that pid."""
    pid = read_pid(state_dir, port)
    pid_file(state_dir, port).unlink(missing_ok=True)
    if pid is None or not (is_running(pid) and is_our_server(pid, port)):
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_running(pid):
        os.kill(pid, signal.SIGKILL)
    return pid


def up(args: argparse.Namespace) -> int:
    stopped = stop_ours(args.port, args.state_dir)
    if stopped:
        print(f"local api: stopped pid {stopped} on port {args.port}, to serve the code deployed now")
    if answers(args.port):
        print(f"local api: something that is not ours answers on {front_url(args.port)}", file=sys.stderr)
        return 1
    args.state_dir.mkdir(parents=True, exist_ok=True)
    log = log_file(args.state_dir, args.port)
    with log.open("ab") as output:
        process = subprocess.Popen(
            serve_command(args),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file(args.state_dir, args.port).write_text(f"{process.pid}\n")
    return wait_until_ready(process, args.port, args.state_dir)


def wait_until_ready(process: subprocess.Popen, port: int, state_dir: Path) -> int:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file(state_dir, port).unlink(missing_ok=True)
            tail = log_tail(log_file(state_dir, port))
            print(
                f"local api: exited with {process.returncode}; {log_file(state_dir, port)} ends:\n{tail}",
                file=sys.stderr,
            )
            return 1
        if answers(port):
            print(f"local api: serving on {front_url(port)} (pid {process.pid}, log {log_file(state_dir, port)})")
            return 0
        time.sleep(0.2)
    print(f"local api: no answer on {front_url(port)} after {READY_TIMEOUT_SECONDS}s", file=sys.stderr)
    return 1


def down(port: int, state_dir: Path) -> int:
    pid = read_pid(state_dir, port)
    if pid is None:
        print(f"local api: no pid file for port {port} in {state_dir}; nothing of ours to stop")
        return 0
    if stop_ours(port, state_dir):
        print(f"local api: stopped pid {pid} on port {port}")
    else:
        print(f"local api: pid {pid} is not our front serving port {port}; removing its stale pid file")
    return 0


def status(port: int, state_dir: Path) -> int:
    pid = read_pid(state_dir, port)
    ours = f"pid {pid}" if pid and is_running(pid) and is_our_server(pid, port) else "not started by us"
    state = "answers" if answers(port) else "does not answer"
    print(f"local api: {front_url(port)} {state} ({ours})")
    return 0 if state == "answers" else 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "serve"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--endpoint-url", default=DEFAULT_ENDPOINT_URL)
    api = parser.add_mutually_exclusive_group()
    api.add_argument("--api-name")
    api.add_argument("--api-id")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument("--workers-per-function", type=int, default=4)
    args = parser.parse_args(argv)
    if args.command in ("up", "serve") and not (args.api_name or args.api_id):
        parser.error(f"{args.command} needs --api-name or --api-id")
    if args.workers_per_function < 1:
        parser.error("--workers-per-function must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    commands = {
        "serve": lambda: serve(args),
        "up": lambda: up(args),
        "down": lambda: down(args.port, args.state_dir),
        "status": lambda: status(args.port, args.state_dir),
    }
    return commands[args.command]()


if __name__ == "__main__":
    sys.exit(main())
