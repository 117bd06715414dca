"""The functions role against a private local endpoint: properties, zero-write re-runs, the fast path, deployed code."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
import zipfile
from types import SimpleNamespace

import pytest
from api_events import load_event, with_body, with_headers, with_id, with_query
from aws_calls import recorded_calls, writes
from playbook_runner import REPO_ROOT, converge_site, read_outputs, rerun_and_dry_run

PREFIX = "tasks-api-local"
BUCKET = f"{PREFIX}-123456789012-us-east-1"
FUNCTIONS = {
    "list": "list_tasks.handler",
    "create": "create_task.handler",
    "get": "get_task.handler",
    "update": "update_task.handler",
    "delete": "delete_task.handler",
}
LIST_ENTRY = {
    "name": "list",
    "handler": "list_tasks.handler",
    "method": "GET",
    "path": "/tasks",
    "dynamodb_actions": ["dynamodb:Scan"],
}
HANDLER_RUNNER = REPO_ROOT / "tools" / "handler_runner.py"


@pytest.fixture(scope="module")
def deployed(local_endpoint, tmp_path_factory):
    """The whole stack converged once, after a dry run on the empty account."""
    local_endpoint.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    dry_run = converge_site(local_endpoint.url, outputs, "all", "--check")
    assert dry_run.returncode == 0, dry_run.describe()
    assert local_endpoint.client("lambda").list_functions()["Functions"] == []
    first = converge_site(local_endpoint.url, outputs, "all")
    assert first.returncode == 0, first.describe()
    return SimpleNamespace(endpoint=local_endpoint, outputs=outputs, dry_run=dry_run, first=first)


def test_check_mode_on_an_empty_account_says_what_it_would_deploy(deployed):
    changed = deployed.dry_run.changed_tasks()
    assert "Report the upload that check mode would make" in changed
    assert "Create or update the log group of each function" in changed
    assert "Create or update each function" in changed


def test_every_function_has_the_properties_of_its_manifest_entry(deployed):
    lambda_ = deployed.endpoint.client("lambda")
    outputs = read_outputs(deployed.outputs)
    package = outputs["functions"]["package"]
    code_sha256 = base64.b64encode(bytes.fromhex(package["sha256"])).decode()
    for name, handler in FUNCTIONS.items():
        function = lambda_.get_function(FunctionName=f"{PREFIX}-{name}")
        config = function["Configuration"]
        assert (config["Runtime"], config["Handler"], config["Architectures"]) == ("python3.12", handler, ["arm64"])
        assert (config["MemorySize"], config["Timeout"]) == (256, 10)
        assert config["TracingConfig"] == {"Mode": "Active"}
        assert config["Role"] == outputs["iam"]["role_arns"][name]
        assert sorted(config["VpcConfig"]["SubnetIds"]) == sorted(outputs["network"]["private_subnet_ids"])
        assert config["VpcConfig"]["SecurityGroupIds"] == [outputs["network"]["lambda_security_group_id"]]
        assert config["Environment"]["Variables"] == {
            "TABLE_NAME": f"{PREFIX}-tasks",
            "TTL_ATTRIBUTE": "expires_at",
            "LOG_LEVEL": "INFO",
        }
        assert config["CodeSha256"] == code_sha256 == outputs["functions"]["code_sha256"][name]
        assert function["Tags"]["Function"] == name and function["Tags"]["Environment"] == "local"
        alias = lambda_.get_alias(FunctionName=f"{PREFIX}-{name}", Name="live")
        assert alias["FunctionVersion"] == outputs["functions"]["versions"][name] == "1"
        assert alias["AliasArn"] == outputs["functions"]["alias_arns"][name]


def test_log_groups_keep_30_days_and_the_package_is_content_addressed(deployed):
    logs = deployed.endpoint.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{PREFIX}-")["logGroups"]
    assert sorted(group["logGroupName"] for group in groups) == sorted(f"/aws/lambda/{PREFIX}-{n}" for n in FUNCTIONS)
    assert {group["retentionInDays"] for group in groups} == {30}
    package = read_outputs(deployed.outputs)["functions"]["package"]
    body = deployed.endpoint.client("s3").get_object(Bucket=BUCKET, Key=package["key"])["Body"].read()
    assert package["key"] == f"packages/{hashlib.sha256(body).hexdigest()}.zip"
    assert len(body) == package["size"]


def test_a_rerun_and_a_dry_run_write_nothing(deployed):
    """The functions role again, then dry-run: no change, no write call."""
    calls = rerun_and_dry_run(deployed.endpoint.url, deployed.outputs, "functions")
    assert {call.service for call in calls} >= {"lambda", "logs", "s3"}
    assert writes(calls) == []
    # Each run reads the log groups with one DescribeLogGroups for the stack and the tags of each group.
    per_run = ["DescribeLogGroups", *["ListTagsForResource"] * len(FUNCTIONS)]
    assert [call.operation for call in calls if call.service == "logs"] == per_run * 2


class DeployedFunction:
    """The code its live alias runs, downloaded from Code.Location, run by tools/handler_runner.py with its env."""

    def __init__(self, endpoint, name, workdir):
        function = endpoint.client("lambda").get_function(FunctionName=f"{PREFIX}-{name}", Qualifier="live")
        config = function["Configuration"]
        code_dir = workdir / name
        package = self._download(function["Code"]["Location"], config["CodeSha256"])
        zipfile.ZipFile(io.BytesIO(package)).extractall(code_dir)
        env = {
            "PATH": os.environ["PATH"],
            **config["Environment"]["Variables"],
            "AWS_ENDPOINT_URL": endpoint.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        self._process = subprocess.Popen(
            [sys.executable, str(HANDLER_RUNNER), str(code_dir), config["Handler"]],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    @staticmethod
    def _download(location, code_sha256):
        with urllib.request.urlopen(location, timeout=30) as response:
            body = response.read()
        assert base64.b64encode(hashlib.sha256(body).digest()).decode() == code_sha256
        return body

    def __call__(self, event) -> SimpleNamespace:
        self._process.stdin.write(json.dumps(event) + "\n")
        self._process.stdin.flush()
        raw = json.loads(self._process.stdout.readline())
        assert "statusCode" in raw, raw  # else the handler raised
        assert raw["headers"]["Content-Type"] == "application/json", raw
        assert raw["headers"]["X-Request-Id"], raw
        return SimpleNamespace(status=raw["statusCode"], headers=raw["headers"], json=json.loads(raw["body"] or "null"))

    def stop(self):
        self._process.stdin.close()
        self._process.wait(timeout=30)


@pytest.fixture
def api(deployed, tmp_path):
    functions = {name: DeployedFunction(deployed.endpoint, name, tmp_path) for name in FUNCTIONS}
    yield SimpleNamespace(**functions)
    for function in functions.values():
        function.stop()


def create_event(body, key):
    return with_headers(with_body(load_event("create_task"), body), Idempotency_Key=key)


def test_the_deployed_code_serves_the_api_contract(api):
    key = str(uuid.uuid4())
    created = api.create(create_event({"title": "Ship it", "due_date": "2026-12-31"}, key))
    assert created.status == 201 and created.headers["Location"] == f"/tasks/{created.json['id']}"
    task_id = created.json["id"]
    assert api.create(create_event({"title": "Ship it", "due_date": "2026-12-31"}, key)).json == created.json
    assert api.create(create_event({"title": "Other"}, key)).status == 409

    assert api.get(with_id(load_event("get_task"), task_id)).json == created.json
    listed = api.list(with_query(load_event("list_tasks"), limit="100"))
    assert [task["id"] for task in listed.json["items"]] == [task_id]  # the idempotency record is not listed

    replaced = {**created.json, "title": "Shipped", "status": "done"}
    updated = api.update(with_body(with_id(load_event("update_task"), task_id), replaced))
    assert (updated.status, updated.json["version"], updated.json["title"]) == (200, 2, "Shipped")
    assert api.update(with_body(with_id(load_event("update_task"), task_id), replaced)).status == 409

    assert api.delete(with_id(load_event("delete_task"), task_id)).status == 204
    assert api.delete(with_id(load_event("delete_task"), task_id)).status == 404
    assert api.get(with_id(load_event("get_task"), task_id)).status == 404


def test_the_deployed_code_rejects_bad_requests_with_the_error_contract(api):
    cases = [
        (api.create, create_event({"title": ""}, str(uuid.uuid4())), 400, "title"),
        (api.create, create_event({"title": "x" * 70_000}, str(uuid.uuid4())), 413, None),
        (api.list, with_query(load_event("list_tasks"), next_token="forged.token"), 400, "next_token"),
        (api.get, with_id(load_event("get_task"), "not-a-uuid"), 400, "id"),
        (api.create, load_event("create_task", httpMethod="PATCH"), 405, None),
    ]
    for function, event, status, field in cases:
        response = function(event)
        error = response.json["error"]
        assert response.status == status, error
        assert error["request_id"] == response.headers["X-Request-Id"] and error["code"] and error["message"]
        assert field is None or field in error["message"]


def converge_functions(deployed, source):
    """The developers' fast path: only the functions role, from another source directory."""
    return converge_site(deployed.endpoint.url, deployed.outputs, "functions", stack_functions_source_dir=str(source))


def test_the_fast_path_redeploys_a_touched_handler_everywhere_once(deployed, tmp_path):
    source = tmp_path / "lambda_src"
    shutil.copytree(REPO_ROOT / "lambda_src", source, ignore=shutil.ignore_patterns("__pycache__"))
    with (source / "get_task.py").open("a") as handler:
        handler.write("# touched\n")
    with recorded_calls(deployed.endpoint.url) as calls:
        run = converge_functions(deployed, source)
    assert run.returncode == 0, run.describe()

    package = read_outputs(deployed.outputs)["functions"]["package"]
    function_writes = [
        f"lambda {method} /2015-03-31/functions/{PREFIX}-{name}/{what}"
        for what, method in (("code", "PUT"), ("versions", "POST"), ("aliases/live", "PUT"))
        for name in FUNCTIONS
    ]
    assert sorted(writes(calls)) == sorted([f"s3 PUT /{BUCKET}/{package['key']}", *function_writes])
    assert set(read_outputs(deployed.outputs)["functions"]["versions"].values()) == {"2"}

    with recorded_calls(deployed.endpoint.url) as calls:
        again = converge_functions(deployed, source)
    assert again.changed == 0 and writes(calls) == [], again.changed_tasks()


def test_the_fast_path_keeps_the_outputs_of_the_layers_it_only_read(deployed):
    outputs = read_outputs(deployed.outputs)
    assert "discovered" not in outputs["network"] and outputs["network"]["nat_gateway_ids"]
    assert "discovered" not in outputs["storage"] and "table_stream" in outputs["storage"]


def test_the_fast_path_names_the_layer_to_converge_first(deployed):
    run = converge_site(deployed.endpoint.url, deployed.outputs, "functions", stack_environment="ghost")
    assert run.failed
    assert any("converge the network role first" in message for message in run.failure_messages()), run.describe()


@pytest.mark.parametrize(
    ("extra_vars", "named"),
    [
        ({"functions_log_retention_days": 31}, "functions_log_retention_days is 31"),
        ({"functions_environment": {"AWS_REGION": "x"}}, "functions_environment has AWS_REGION"),
        ({"functions_environment": {"TABLE_NAME": "other"}}, "functions_environment has TABLE_NAME"),
        ({"functions_architecture": "arm"}, "functions_architecture"),
        ({"functions_alias_name": "42"}, "functions_alias_name is '42'"),
        ({"functions_runtime": "python3.11"}, "functions_runtime is 'python3.11'"),
        ({"stack_functions_source_dir": "/nonexistent/src"}, "stack_functions_source_dir is '/nonexistent/src'"),
        ({"stack_functions": [{**LIST_ENTRY, "handler": "missing.handler"}]}, "no module file in"),
    ],
)
def test_bad_input_fails_naming_it_before_any_write(deployed, extra_vars, named):
    with recorded_calls(deployed.endpoint.url) as calls:
        run = converge_site(deployed.endpoint.url, deployed.outputs, "functions", **extra_vars)
    assert run.returncode != 0
    assert any(named in message for message in run.failure_messages()), run.failure_messages()
    assert writes(calls) == []
