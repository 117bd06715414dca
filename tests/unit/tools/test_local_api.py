"""tools/local_api.py: routing, proxy events and response mapping, then a small real API served from the endpoint."""

from __future__ import annotations

import base64
import datetime
import http.client
import io
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import local_api
import pytest
from api_events import load_event
from free_port import free_port
from local_api import Api, IncomingRequest, Route, Stage, Target
from local_front import FRONT, Front

from ansible_collections.serverless.tasks_api.plugins.plugin_utils.package import lambda_package

REPO_ROOT = Path(__file__).resolve().parents[3]
API_NAME = "tasks-api-front-test"
STAGE = "local"
API_KEY = "LocalApiTestKey-0123456789abcdefghijklmn"
DISABLED_KEY = "LocalApiDisabledKey-0123456789abcdefghij"
TABLE = "tasks-api-front-test-tasks"
BUCKET = "tasks-api-front-test-code"
TASKS_FUNCTIONS = {  # name: (handler, method, path)
    "list": ("list_tasks.handler", "GET", "/tasks"),
    "create": ("create_task.handler", "POST", "/tasks"),
    "get": ("get_task.handler", "GET", "/tasks/{id}"),
    "update": ("update_task.handler", "PUT", "/tasks/{id}"),
    "delete": ("delete_task.handler", "DELETE", "/tasks/{id}"),
}
PROBE_FUNCTIONS = {  # name: (handler, method, path, timeout); none of these routes needs a key
    "echo": ("probe.echo", "ANY", "/echo/{proxy+}", 10),
    "echo-body": ("probe.echo_body", "POST", "/echo/body", 10),
    "boom": ("probe.boom", "GET", "/boom", 10),
    "malformed": ("probe.malformed", "GET", "/malformed", 10),
    "slow": ("probe.slow", "GET", "/slow", 1),
    "nap": ("probe.nap", "GET", "/nap", 10),
}
PROBE_SOURCE = """
import base64, json, os, time

WORKER_ENV = ("TABLE_NAME", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT")

def echo(event, context):
    headers = {"X-Worker-Env": json.dumps({name: os.environ.get(name) for name in WORKER_ENV})}
    multi = {"X-Multi": ["a", "b"]}
    return {"statusCode": 200, "headers": headers, "multiValueHeaders": multi, "body": json.dumps(event)}

def echo_body(event, context):
    raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else (event["body"] or "").encode()
    headers = {"Content-Type": "application/octet-stream"}
    return {"statusCode": 200, "headers": headers, "body": base64.b64encode(raw).decode(), "isBase64Encoded": True}

def boom(event, context):
    print("about to fail")
    raise RuntimeError("boom")

def malformed(event, context):
    return {"status": 200, "body": "not a proxy response"}

def nap(event, context):
    time.sleep(0.5)
    return {"statusCode": 200, "body": str(os.getpid())}

def slow(event, context):
    time.sleep(3)
    return {"statusCode": 200, "body": "too late"}
"""


# Pure parts: routing, events, responses ------------------------------------------------------------------------


def route(template: str, method: str = "GET", key: bool = False) -> Route:
    return Route(template, f"res-{template}", method, f"arn:aws:lambda:us-east-1:123456789012:function:{method}", key)


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("/tasks", "/tasks", {}),
        ("/tasks/{id}", "/tasks/abc", {"id": "abc"}),
        ("/tasks/{id}", "/tasks", None),
        ("/tasks/{id}", "/tasks/abc/more", None),
        ("/tasks", "/other", None),
        ("/files/{proxy+}", "/files/a/b/c", {"proxy": "a/b/c"}),
        ("/files/{proxy+}", "/files", None),
        ("/", "/", {}),
    ],
)
def test_a_template_matches_one_segment_per_parameter_and_the_rest_for_a_greedy_one(template, path, expected):
    assert local_api.match_template(template, local_api.path_segments(path)) == expected


def test_the_most_specific_resource_wins_and_any_stands_for_the_missing_methods():
    routes = [
        route("/files/{proxy+}", "ANY"),
        route("/files/{name}"),
        route("/files/readme"),
        route("/files/readme", "PUT"),
    ]
    assert local_api.find_route(routes, "GET", ["files", "readme"])[0].template == "/files/readme"
    assert local_api.find_route(routes, "GET", ["files", "x"]) == (routes[1], {"name": "x"})
    assert local_api.find_route(routes, "DELETE", ["files", "a", "b"]) == (routes[0], {"proxy": "a/b"})
    assert local_api.find_route(routes, "DELETE", ["files", "readme"]) is None  # its resource has no DELETE
    assert local_api.find_route(routes, "GET", ["elsewhere"]) is None


LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:tasks-get:live"


def lambda_uri(function_arn: str) -> str:
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"


@pytest.mark.parametrize(
    ("integration", "expected"),
    [
        ({"type": "AWS_PROXY", "uri": lambda_uri(LAMBDA)}, LAMBDA),
        ({"type": "AWS", "uri": lambda_uri(LAMBDA)}, None),  # a non-proxy Lambda integration
        ({"type": "AWS_PROXY", "uri": lambda_uri("arn:aws:lambda:us-east-1:1:function:${stageVariables.fn}")}, None),
        ({"type": "HTTP_PROXY", "uri": "https://example.com/{proxy}"}, None),
        ({"type": "MOCK"}, None),
        (None, None),
    ],
)
def test_only_aws_proxy_lambda_integrations_are_routes(integration, expected):
    assert local_api.lambda_arn_of(integration) == expected


def test_a_target_needs_a_known_stage_and_decodes_the_path():
    stage = Stage("local", [route("/tasks/{id}")])
    api = Api("abc123", "api", "123456789012", {"local": stage})
    target = local_api.resolve_target(api, "GET", "/local/tasks/a%20b")
    assert (target.path, target.path_parameters, target.stage.name) == ("/tasks/a b", {"id": "a b"}, "local")
    assert local_api.resolve_target(api, "GET", "/prod/tasks/x") is None
    assert local_api.resolve_target(api, "GET", "/") is None


def example_target(template: str = "/tasks", parameters: dict | None = None, variables: dict | None = None) -> Target:
    stage = Stage("prod", [route(template, "POST")], variables or {}, {"k" * 40: "key-id"})
    path = template.replace("{id}", (parameters or {}).get("id", ""))
    return Target(stage, stage.routes[0], path, parameters or {})


def test_the_event_has_the_shape_of_api_gateway_s_example_events():
    request = IncomingRequest(
        "POST", "/prod/tasks", "", [("Host", "127.0.0.1:3000"), ("Content-Type", "application/json")], b'{"a": 1}'
    )
    api = Api("a1b2c3d4e5", "api", "123456789012", {})
    now = datetime.datetime(2026, 3, 10, 0, 3, 59, tzinfo=datetime.UTC)
    event = local_api.build_event(request, api, example_target(), "req-1", "ext-1=", now)
    example = load_event("create_task")

    assert set(event) == set(example)
    assert set(event["requestContext"]) == set(example["requestContext"])
    assert set(event["requestContext"]["identity"]) == set(example["requestContext"]["identity"])
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/tasks", "/tasks", "POST")
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    assert event["queryStringParameters"] is event["pathParameters"] is event["stageVariables"] is None
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["http"]
    context = event["requestContext"]
    assert context["requestTime"] == example["requestContext"]["requestTime"]
    assert context["requestTimeEpoch"] == example["requestContext"]["requestTimeEpoch"]
    assert (context["path"], context["stage"], context["requestId"], context["apiId"]) == (
        "/prod/tasks",
        "prod",
        "req-1",
        "a1b2c3d4e5",
    )
    assert context["identity"]["sourceIp"] == "127.0.0.1"


def test_repeated_query_names_and_headers_keep_the_last_value_and_all_values():
    headers = [("Host", "h"), ("X-Api-Key", "k" * 40), ("Accept", "a"), ("Accept", "b")]
    request = IncomingRequest("GET", "/prod/tasks/1", "limit=1&tag=x&tag=y&empty", headers)
    target = example_target("/tasks/{id}", {"id": "1"}, {"colour": "blue"})
    event = local_api.build_event(request, Api("id", "api", "1", {}), target, "req-2")

    assert event["queryStringParameters"] == {"limit": "1", "tag": "y", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"limit": ["1"], "tag": ["x", "y"], "empty": [""]}
    assert (event["headers"]["Accept"], event["multiValueHeaders"]["Accept"]) == ("b", ["a", "b"])
    assert (event["pathParameters"], event["stageVariables"]) == ({"id": "1"}, {"colour": "blue"})
    assert event["requestContext"]["identity"]["apiKey"] == "k" * 40
    assert event["requestContext"]["identity"]["apiKeyId"] == "key-id"
    assert event["body"] is None and event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"", None, (None, False)),
        ("héllo".encode(), "text/plain", ("héllo", False)),
        (b"\xff\x00\xfe", "application/octet-stream", (base64.b64encode(b"\xff\x00\xfe").decode(), True)),
        (b"text", "image/png; q=1", (base64.b64encode(b"text").decode(), True)),  # a binary media type of the API
    ],
)
def test_the_body_is_text_when_it_is_utf8_else_base64(body, content_type, expected):
    assert local_api.event_body(body, content_type, ["image/*"]) == expected


def test_a_proxy_response_becomes_the_http_answer():
    answer = local_api.answer_from_lambda(
        {
            "statusCode": 201,
            "headers": {"Location": "/tasks/1", "Set-Cookie": "a=1", "Content-Length": "999"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert (answer.status, answer.body) == (201, b"\x00\x01")
    assert answer.headers == [
        ("Content-Type", "application/json"),  # API Gateway's default
        ("Location", "/tasks/1"),
        ("Set-Cookie", "a=1"),  # in both maps: once
        ("Set-Cookie", "b=2"),
    ]
    assert local_api.answer_from_lambda({"statusCode": "204"}).status == 204


@pytest.mark.parametrize(
    "result",
    [
        {"errorType": "KeyError", "errorMessage": "'x'"},
        {"statusCode": 200, "extra": 1},
        {"statusCode": 99},
        {"statusCode": True},
        {"body": "no status"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": {"X": {"nested": 1}}},
        {"statusCode": 200, "multiValueHeaders": {"X": "not a list"}},
        {"statusCode": 200, "body": "!!!", "isBase64Encoded": True},
        "a string",
        None,
    ],
)
def test_an_error_or_a_malformed_response_is_502(result):
    answer = local_api.answer_from_lambda(result)
    assert (answer.status, json.loads(answer.body)) == (502, {"message": "Internal server error"})


# A real API on the endpoint, served by the front ----------------------------------------------------------------


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def deploy_function(endpoint, name: str, handler: str, key: str, timeout: int, role: str) -> str:
    lambda_ = endpoint.client("lambda")
    lambda_.create_function(
        FunctionName=f"front-test-{name}",
        Runtime="python3.12",
        Role=role,
        Handler=handler,
        Code={"S3Bucket": BUCKET, "S3Key": key},
        Timeout=timeout,
        Environment={"Variables": {"TABLE_NAME": TABLE, "LOG_LEVEL": "INFO"}},
    )
    version = lambda_.publish_version(FunctionName=f"front-test-{name}")["Version"]
    return lambda_.create_alias(FunctionName=f"front-test-{name}", Name="live", FunctionVersion=version)["AliasArn"]


def deploy_functions(endpoint) -> dict[str, tuple[str, str, str]]:
    """Every function, by name: (method, path, live alias ARN)."""
    endpoint.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    s3 = endpoint.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    tasks_zip = base64.b64decode(lambda_package(str(REPO_ROOT / "lambda_src"))["zip_base64"])
    s3.put_object(Bucket=BUCKET, Key="tasks.zip", Body=tasks_zip)
    s3.put_object(Bucket=BUCKET, Key="probe.zip", Body=zip_of({"probe.py": PROBE_SOURCE}))
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:*"}]}
    role = endpoint.client("iam").create_role(RoleName="front-test", AssumeRolePolicyDocument=json.dumps(trust))
    arn = role["Role"]["Arn"]
    routes = {}
    for name, (handler, method, path) in TASKS_FUNCTIONS.items():
        routes[name] = (method, path, deploy_function(endpoint, name, handler, "tasks.zip", 10, arn), True)
    for name, (handler, method, path, timeout) in PROBE_FUNCTIONS.items():
        routes[name] = (method, path, deploy_function(endpoint, name, handler, "probe.zip", timeout, arn), False)
    return routes


def resource_ids(apigateway, api_id: str, paths: set[str]) -> dict[str, str]:
    """Create the resources of ``paths`` (and their parents); return every resource id by path."""
    ids = {item["path"]: item["id"] for item in apigateway.get_resources(restApiId=api_id)["items"]}
    for path in sorted(paths, key=len):
        parent = "/"
        for part in path.strip("/").split("/"):
            current = f"{parent.rstrip('/')}/{part}"
            if current not in ids:
                ids[current] = apigateway.create_resource(restApiId=api_id, parentId=ids[parent], pathPart=part)["id"]
            parent = current
    return ids


def deploy_api(endpoint, routes: dict) -> str:
    apigateway = endpoint.client("apigateway")
    api_id = apigateway.create_rest_api(name=API_NAME)["id"]
    ids = resource_ids(apigateway, api_id, {path for _, path, _, _ in routes.values()})
    for method, path, alias_arn, key_required in routes.values():
        apigateway.put_method(
            restApiId=api_id,
            resourceId=ids[path],
            httpMethod=method,
            authorizationType="NONE",
            apiKeyRequired=key_required,
        )
        apigateway.put_integration(
            restApiId=api_id,
            resourceId=ids[path],
            httpMethod=method,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=lambda_uri(alias_arn),
        )
    apigateway.put_method(restApiId=api_id, resourceId=ids["/tasks"], httpMethod="OPTIONS", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=ids["/tasks"], httpMethod="OPTIONS", type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName=STAGE, variables={"colour": "blue"})
    plan = apigateway.create_usage_plan(name="front-test", apiStages=[{"apiId": api_id, "stage": STAGE}])
    for name, value, enabled in (("front-test", API_KEY, True), ("front-test-off", DISABLED_KEY, False)):
        key_id = apigateway.create_api_key(name=name, value=value, enabled=enabled)["id"]
        apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key_id, keyType="API_KEY")
    apigateway.create_api_key(name="front-test-unattached", value="x" * 40, enabled=True)
    return api_id


@pytest.fixture(scope="module")
def front(local_endpoint, tmp_path_factory):
    local_endpoint.reset()
    api_id = deploy_api(local_endpoint, deploy_functions(local_endpoint))
    front = Front(local_endpoint.url, tmp_path_factory.mktemp("front") / "front.log", "--api-name", API_NAME)
    front.endpoint, front.api_id = local_endpoint, api_id
    yield front
    front.stop()


def call(front, method: str, path: str, body=None, key: str | None = API_KEY, **headers: str) -> SimpleNamespace:
    data = body if isinstance(body, bytes | None) else json.dumps(body).encode()
    headers = {name.replace("_", "-"): value for name, value in headers.items()}
    if key is not None:
        headers["x-api-key"] = key
    request = urllib.request.Request(f"{front.url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, answer_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, error.headers, error.read()
    text = raw.decode("utf-8", "replace")
    is_json = answer_headers.get("Content-Type") == "application/json" and raw
    return SimpleNamespace(status=status, headers=answer_headers, raw=raw, json=json.loads(text) if is_json else None)


def test_the_tasks_api_round_trip_through_the_front(front):
    created = call(front, "POST", f"/{STAGE}/tasks", {"title": "Ship it"}, Idempotency_Key=str(uuid.uuid4()))
    assert created.status == 201, created.raw
    task_id = created.json["id"]
    assert created.headers["Location"] == f"/tasks/{task_id}"
    assert created.headers["x-amzn-RequestId"] == created.headers["X-Request-Id"]  # the event's requestId

    assert call(front, "GET", f"/{STAGE}/tasks/{task_id}").json == created.json
    listed = call(front, "GET", f"/{STAGE}/tasks?limit=100")
    assert listed.status == 200 and task_id in [task["id"] for task in listed.json["items"]]
    update = {**created.json, "title": "Shipped", "status": "done"}
    updated = call(front, "PUT", f"/{STAGE}/tasks/{task_id}", update)
    assert (updated.status, updated.json["version"], updated.json["title"]) == (200, 2, "Shipped")
    assert call(front, "PUT", f"/{STAGE}/tasks/{task_id}", update).status == 409  # the version moved on

    deleted = call(front, "DELETE", f"/{STAGE}/tasks/{task_id}")
    assert (deleted.status, deleted.raw) == (204, b"")
    gone = call(front, "GET", f"/{STAGE}/tasks/{task_id}")
    assert gone.status == 404 and gone.json["error"]["request_id"] == gone.headers["x-amzn-RequestId"]


def test_a_key_required_route_refuses_a_missing_wrong_disabled_or_unattached_key(front):
    for key in (None, "wrong" * 8, DISABLED_KEY, "x" * 40):
        refused = call(front, "GET", f"/{STAGE}/tasks", key=key)
        assert (refused.status, refused.json) == (403, {"message": "Forbidden"}), key
        assert refused.headers["x-amzn-ErrorType"] == "ForbiddenException" and refused.headers["x-amzn-RequestId"]
    assert call(front, "GET", f"/{STAGE}/tasks", key=None, X_API_KEY=API_KEY).status == 200  # any case
    assert call(front, "GET", f"/{STAGE}/echo/x", key=None).status == 200  # a route without a key


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nostage/tasks"),
        ("GET", f"/{STAGE}/unknown"),
        ("GET", f"/{STAGE}"),
        ("GET", "/"),
        ("PATCH", f"/{STAGE}/tasks"),
        ("DELETE", f"/{STAGE}/tasks"),
        ("GET", f"/{STAGE}/echo/body"),  # the literal resource wins over /echo/{proxy+}, and it has POST only
    ],
)
def test_no_stage_route_or_method_is_missing_authentication_token(front, method, path):
    answer = call(front, method, path)
    assert (answer.status, answer.json) == (403, {"message": "Missing Authentication Token"})
    assert answer.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_a_method_not_integrated_to_lambda_is_noted_at_start_and_not_served(front):
    assert "not served: OPTIONS /tasks (integration MOCK)" in front.log()
    assert call(front, "OPTIONS", f"/{STAGE}/tasks").json == {"message": "Missing Authentication Token"}


def test_query_strings_reach_the_handler_and_page_the_list(front):
    for title in ("one", "two", "three"):
        assert call(front, "POST", f"/{STAGE}/tasks", {"title": title}).status == 201
    seen, token, pages = [], None, 0
    while True:
        query = "limit=1" + (f"&next_token={urllib.parse.quote(token)}" if token else "")
        page = call(front, "GET", f"/{STAGE}/tasks?{query}")
        assert page.status == 200 and len(page.json["items"]) <= 1, page.json
        seen += [task["id"] for task in page.json["items"]]
        token, pages = page.json["next_token"], pages + 1
        if token is None:
            break
    assert len(seen) == len(set(seen)) >= 3 and pages >= 3
    assert call(front, "GET", f"/{STAGE}/tasks?limit=0").status == 400


def test_the_handler_receives_api_gateway_s_event(front):
    answer = call(front, "PATCH", f"/{STAGE}/echo/a/b%20c?x=1&x=2", b"payload", key=None, Content_Type="text/plain")
    event = answer.json
    assert answer.status == 200 and answer.headers.get_all("X-Multi") == ["a", "b"]
    assert set(event) == set(load_event("list_tasks"))
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/echo/{proxy+}", "/echo/a/b c", "PATCH")
    assert event["pathParameters"] == {"proxy": "a/b c"}
    assert (event["queryStringParameters"], event["multiValueQueryStringParameters"]) == ({"x": "2"}, {"x": ["1", "2"]})
    assert (event["body"], event["isBase64Encoded"], event["stageVariables"]) == ("payload", False, {"colour": "blue"})
    context = event["requestContext"]
    assert context["requestId"] == answer.headers["x-amzn-RequestId"]
    assert (context["apiId"], context["stage"], context["path"]) == (front.api_id, STAGE, f"/{STAGE}/echo/a/b c")
    assert context["resourcePath"] == "/echo/{proxy+}" and context["identity"]["sourceIp"] == "127.0.0.1"
    worker_env = json.loads(answer.headers["X-Worker-Env"])
    assert worker_env["LAMBDA_TASK_ROOT"] and Path(worker_env.pop("LAMBDA_TASK_ROOT")).is_dir()
    assert worker_env == {
        "TABLE_NAME": TABLE,
        "AWS_ENDPOINT_URL": front.endpoint.url,
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "front-test-echo",
    }


def test_a_body_that_is_not_utf8_travels_base64_both_ways(front):
    payload = bytes(range(256))
    answer = call(front, "POST", f"/{STAGE}/echo/body", payload, key=None)
    assert (answer.status, answer.raw, answer.headers["Content-Type"]) == (200, payload, "application/octet-stream")
    refused = call(front, "POST", f"/{STAGE}/tasks", b'{"title": "\xff"}')
    assert refused.status == 400 and "UTF-8" in refused.json["error"]["message"]


def test_a_chunked_body_is_read_and_one_over_10_mb_is_refused(front):
    connection = http.client.HTTPConnection("127.0.0.1", front.port, timeout=30)
    connection.request("POST", f"/{STAGE}/echo/body", body=iter([b"chunk one, ", b"chunk two"]), encode_chunked=True)
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"chunk one, chunk two")
    connection.close()

    connection = http.client.HTTPConnection("127.0.0.1", front.port, timeout=30)
    connection.putrequest("POST", f"/{STAGE}/echo/body")
    connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
    connection.endheaders()  # the body is never sent: the front answers from the length alone
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())) == (413, {"message": "Request Too Long"})
    assert response.getheader("x-amzn-RequestId")
    connection.close()


def test_twenty_concurrent_requests_all_succeed(front):
    def create_then_get(index: int) -> tuple[int, int]:
        created = call(front, "POST", f"/{STAGE}/tasks", {"title": f"concurrent {index}"})
        return created.status, call(front, "GET", f"/{STAGE}/tasks/{created.json['id']}").status

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(create_then_get, range(20)))
    assert statuses == [(201, 200)] * 20


def test_a_function_runs_on_up_to_four_workers_at_once_and_requests_beyond_wait(front):
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: call(front, "GET", f"/{STAGE}/nap", key=None), range(8)))
    elapsed = time.monotonic() - started
    assert [answer.status for answer in answers] == [200] * 8
    assert len({answer.raw for answer in answers}) == 4  # four worker processes (pids), each used twice
    assert 1.0 <= elapsed < 2.5  # two rounds of 0.5 s naps, not eight


def test_an_unhandled_error_or_a_malformed_response_is_502_and_logged(front):
    for path in ("/boom", "/malformed"):
        answer = call(front, "GET", f"/{STAGE}{path}", key=None)
        assert (answer.status, answer.json) == (502, {"message": "Internal server error"}), path
    log = front.log()
    assert "about to fail" in log  # the handler's own output reaches the front's log
    assert f"GET /{STAGE}/boom 502 " in log and f"GET /{STAGE}/malformed 502 " in log


def test_a_function_past_its_timeout_is_504_and_its_worker_is_replaced(front):
    for _ in range(2):  # the second call runs on a new worker: the first was killed
        started = time.monotonic()
        answer = call(front, "GET", f"/{STAGE}/slow", key=None)
        assert (answer.status, answer.json) == (504, {"message": "Endpoint request timed out"})
        assert time.monotonic() - started < 2.5  # Timeout=1, not the handler's 3 s
    assert call(front, "GET", f"/{STAGE}/echo/still-serving", key=None).status == 200


def listening_addresses(port: int) -> set[str]:
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=False)
    if listening.returncode != 0:
        pytest.skip("ss is not available to list listening sockets")
    return {line.split()[3].rsplit(":", 1)[0] for line in listening.stdout.splitlines() if line.strip()}


def test_the_front_binds_loopback_only(front):
    assert listening_addresses(front.port) == {"127.0.0.1"}


def test_an_unknown_or_ambiguous_api_name_is_refused_plainly(front):
    apigateway = front.endpoint.client("apigateway")
    with pytest.raises(local_api.LaunchError, match="0 REST APIs are named 'nope'"):
        local_api.read_api(front.endpoint.url, "us-east-1", "nope", None)
    twins = [apigateway.create_rest_api(name="front-test-twin")["id"] for _ in range(2)]
    with pytest.raises(local_api.LaunchError, match="2 REST APIs are named 'front-test-twin'"):
        local_api.read_api(front.endpoint.url, "us-east-1", "front-test-twin", None)
    for api_id in twins:
        apigateway.delete_rest_api(restApiId=api_id)
    by_id = local_api.read_api(front.endpoint.url, "us-east-1", None, front.api_id)
    assert by_id.name == API_NAME and set(by_id.stages[STAGE].api_keys) == {API_KEY}  # enabled and attached only


def lifecycle(command: str, port: int, state_dir: Path, endpoint_url: str) -> subprocess.CompletedProcess:
    args = [command, "--port", str(port), "--state-dir", str(state_dir), "--endpoint-url", endpoint_url]
    if command == "up":
        args += ["--api-name", API_NAME, "--workers-per-function", "1"]
    return subprocess.run([sys.executable, str(FRONT), *args], capture_output=True, text=True, timeout=90, check=False)


def test_up_twice_restarts_the_front_and_down_stops_only_our_pid(front, tmp_path):
    port, url = free_port(), front.endpoint.url
    first = lifecycle("up", port, tmp_path, url)
    assert first.returncode == 0, first.stderr
    first_pid = local_api.read_pid(tmp_path, port)
    again = lifecycle("up", port, tmp_path, url)
    second_pid = local_api.read_pid(tmp_path, port)
    try:
        assert again.returncode == 0, again.stderr
        assert f"stopped pid {first_pid}" in again.stdout and second_pid != first_pid
        assert not local_api.is_running(first_pid) and local_api.is_running(second_pid)
        assert lifecycle("status", port, tmp_path, url).returncode == 0
        front_on_port = SimpleNamespace(url=f"http://127.0.0.1:{port}")
        assert call(front_on_port, "GET", f"/{STAGE}/tasks?limit=1").status == 200
        echoed = call(front_on_port, "GET", f"/{STAGE}/echo/x")
        code_dir = Path(json.loads(echoed.headers["X-Worker-Env"])["LAMBDA_TASK_ROOT"])
        assert (code_dir / "probe.py").is_file()
    finally:
        stopped = lifecycle("down", port, tmp_path, url)
    assert f"stopped pid {second_pid}" in stopped.stdout
    assert not local_api.is_running(second_pid) and not local_api.answers(port)
    assert not code_dir.exists()  # the unpacked code went with the front
    assert lifecycle("status", port, tmp_path, url).returncode == 1
    assert (tmp_path / f"api-{port}.log").read_text().count("local api: serving") == 2


def test_up_for_an_unknown_api_says_why_and_keeps_no_pid(front, tmp_path):
    port = free_port()
    args = ["up", "--port", str(port), "--state-dir", str(tmp_path), "--endpoint-url", front.endpoint.url]
    failed = subprocess.run(
        [sys.executable, str(FRONT), *args, "--api-name", "nope"], capture_output=True, text=True, timeout=60
    )
    assert failed.returncode == 1
    assert "0 REST APIs are named 'nope' (none); expected exactly one" in failed.stderr
    assert local_api.read_pid(tmp_path, port) is None and not local_api.answers(port)


def test_down_never_kills_a_process_it_did_not_start(tmp_path):
    port = free_port()
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        local_api.pid_file(tmp_path, port).write_text(f"{stranger.pid}\n")
        assert local_api.down(port, tmp_path) == 0
        assert stranger.poll() is None
        assert not local_api.pid_file(tmp_path, port).exists()
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.parametrize("value", ["abc", "1e3", "0x10", "5, 5", "", "-5", "+5", "1.5", "\u0663", "9" * 21])
def test_a_content_length_that_is_not_decimal_digits_is_bad_framing(value):
    with pytest.raises(local_api.BadFraming):
        local_api.content_length(value)


@pytest.mark.parametrize("line", [b"zz\r\n", b"-1\r\n", b"0x5\r\n", b" \r\n", b"\r\n", b"+5\r\n", b"1_0\r\n"])
def test_a_chunk_size_that_is_not_hexadecimal_digits_is_bad_framing(line):
    with pytest.raises(local_api.BadFraming):
        local_api.chunk_size(line)


def test_good_lengths_and_chunk_sizes_still_read():
    assert (local_api.content_length(None), local_api.content_length("0"), local_api.content_length("42")) == (0, 0, 42)
    assert (local_api.chunk_size(b"1A;ext=1\r\n"), local_api.chunk_size(b"0\r\n")) == (26, 0)


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Content-Length": "abc"}, b""),  # was a 500 from the front (int("abc"))
        ({"Content-Length": "-5"}, b""),
        ({"Transfer-Encoding": "chunked"}, b"zz\r\nabc\r\n0\r\n\r\n"),  # was a 500
        ({"Transfer-Encoding": "chunked"}, b"-1\r\n\r\n"),  # was read to the end of the stream: a hang
    ],
)
def test_a_body_that_cannot_be_framed_is_400_bad_request(front, headers, body):
    connection = http.client.HTTPConnection("127.0.0.1", front.port, timeout=10)
    connection.putrequest("POST", f"/{STAGE}/tasks")
    for name, value in {**headers, "x-api-key": API_KEY}.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(body)
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())) == (400, {"message": "Bad Request"})
    assert response.getheader("x-amzn-RequestId")
    connection.close()
