"""Helpers and fixtures for the Lambda handler tests: moto mock_aws, the tasks table, handlers imported in it."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from api_events import load_event, with_body, with_headers, with_id, with_query  # noqa: F401 - re-exported for the tests
from moto import mock_aws

REPO_ROOT = Path(__file__).resolve().parents[3]
LAMBDA_SRC = REPO_ROOT / "lambda_src"
HANDLER_MODULES = ("list_tasks", "create_task", "get_task", "update_task", "delete_task")
TABLE_NAME = "tasks-unit"

if str(LAMBDA_SRC) not in sys.path:
    sys.path.insert(0, str(LAMBDA_SRC))


def purge_handler_modules() -> None:
    """Forget the handlers and tasks_core so the next import re-reads the environment and binds new clients."""
    for name in list(sys.modules):
        if name in HANDLER_MODULES or name == "tasks_core" or name.startswith("tasks_core."):
            del sys.modules[name]


class Response(SimpleNamespace):
    @property
    def json(self):
        return json.loads(self.body) if self.body else None


def invoke(handler, event: dict) -> Response:
    raw = handler(event, SimpleNamespace(aws_request_id="lambda-invocation-id", function_name="tasks"))
    assert set(raw) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert raw["headers"]["Content-Type"] == "application/json"
    assert raw["headers"]["X-Request-Id"]
    return Response(status=raw["statusCode"], headers=raw["headers"], body=raw["body"])


@pytest.fixture
def lambda_env(monkeypatch):
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    monkeypatch.setenv("TTL_ATTRIBUTE", "expires_at")
    monkeypatch.setenv("IDEMPOTENCY_TTL_SECONDS", "86400")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    purge_handler_modules()
    yield monkeypatch
    purge_handler_modules()


@pytest.fixture
def table(lambda_env):
    """The tasks table (key ``id`` only) inside mock_aws; yields the DynamoDB client."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE_NAME,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName=TABLE_NAME, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
        yield client


@pytest.fixture
def api(table):
    """The five handler modules, imported inside the mock so their clients bind to it."""
    return SimpleNamespace(**{name: importlib.import_module(name) for name in HANDLER_MODULES})


def scan_all(client) -> list[dict]:
    items, start = [], None
    while True:
        page = client.scan(TableName=TABLE_NAME, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items
