"""The handlers answer what docs/api/openapi.yaml says: every status documented, every body of its schema.

Runs each route's success and error paths through the handlers (moto's mock_aws) and validates the
answers with the OpenAPI 3.0 schema validator, so the reference cannot drift from lambda_src/.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from lambda_helpers import invoke, load_event, with_body, with_id, with_query
from openapi_schema_validator import OAS30Validator

REPO_ROOT = Path(__file__).resolve().parents[3]
DOCUMENT = yaml.safe_load((REPO_ROOT / "docs" / "api" / "openapi.yaml").read_text())
HANDLER_OPERATIONS = {
    operation["x-function"]["handler"].split(".")[0]: operation
    for item in DOCUMENT["paths"].values()
    for operation in item.values()
}


def resolve(node: dict) -> dict:
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = DOCUMENT["components"][kind][name]
    return node


def assert_documented(handler_module: str, response) -> None:
    """The status is one of the operation's, and the body matches that answer's schema."""
    operation = HANDLER_OPERATIONS[handler_module]
    assert str(response.status) in operation["responses"], (handler_module, response.status, response.body)
    answer = resolve(operation["responses"][str(response.status)])
    if "content" not in answer:
        assert response.body == ""
        return
    schema = {**answer["content"]["application/json"]["schema"], "components": DOCUMENT["components"]}
    OAS30Validator(schema).validate(response.json)
    for header in answer.get("headers", {}):
        assert header in response.headers, header


def call(api, module: str, event: dict):
    response = invoke(getattr(api, module).handler, event)
    assert_documented(module, response)
    return response


def created(api, body: dict):
    event = load_event("create_task")
    event["headers"].pop("Idempotency-Key")
    event["multiValueHeaders"].pop("Idempotency-Key")
    return call(api, "create_task", with_body(event, body))


def test_the_reference_has_an_operation_for_each_handler():
    assert set(HANDLER_OPERATIONS) == {"list_tasks", "create_task", "get_task", "update_task", "delete_task"}


def test_success_answers_match_the_reference(api, table):
    task = created(api, {"title": "Document it", "due_date": "2026-12-31"}).json
    call(api, "create_task", load_event("create_task"))  # with an Idempotency-Key
    call(api, "create_task", load_event("create_task"))  # the replay
    call(api, "get_task", with_id(load_event("get_task"), task["id"]))
    call(api, "list_tasks", with_query(load_event("list_tasks"), limit="1"))
    call(api, "update_task", with_body(with_id(load_event("update_task"), task["id"]), task | {"status": "done"}))
    assert call(api, "delete_task", with_id(load_event("delete_task"), task["id"])).status == 204


@pytest.mark.parametrize(
    ("module", "event_change", "status"),
    [
        ("create_task", lambda event: with_body(event, {"title": ""}), 400),
        ("create_task", lambda event: with_body(event, {"title": "t", "owner": "me"}), 400),
        ("create_task", lambda event: with_body(event, "x" * (64 * 1024 + 1)), 413),
        ("list_tasks", lambda event: with_query(event, limit="0"), 400),
        ("list_tasks", lambda event: with_query(event, next_token="forged.token"), 400),
        ("get_task", lambda event: with_id(event, "not-a-uuid"), 400),
        ("get_task", lambda event: with_id(event, str(uuid.uuid4())), 404),
        ("update_task", lambda event: with_body(with_id(event, str(uuid.uuid4())), {"title": "t", "version": 1}), 404),
        ("update_task", lambda event: with_body(with_id(event, str(uuid.uuid4())), {"title": "t"}), 400),
        ("delete_task", lambda event: with_id(event, str(uuid.uuid4())), 404),
    ],
)
def test_error_answers_match_the_reference(api, table, module, event_change, status):
    assert call(api, module, event_change(load_event(module))).status == status


def test_a_version_conflict_and_a_reused_idempotency_key_are_documented_409s(api, table):
    task = created(api, {"title": "t"}).json
    stale = with_body(with_id(load_event("update_task"), task["id"]), task | {"version": 7})
    assert call(api, "update_task", stale).status == 409
    call(api, "create_task", load_event("create_task"))
    other_body = with_body(load_event("create_task"), {"title": "something else"})
    assert call(api, "create_task", other_body).status == 409
