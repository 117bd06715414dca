"""Every route and error path of the tasks API handlers, against moto's mock_aws."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest
from lambda_helpers import (
    TABLE_NAME,
    invoke,
    load_event,
    scan_all,
    with_body,
    with_headers,
    with_id,
    with_query,
)

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def create(api, body=None, **headers):
    event = load_event("create_task")
    event["headers"].pop("Idempotency-Key")
    event["multiValueHeaders"].pop("Idempotency-Key")
    if body is not None:
        with_body(event, body)
    return invoke(api.create_task.handler, with_headers(event, **headers))


def get(api, task_id):
    return invoke(api.get_task.handler, with_id(load_event("get_task"), task_id))


def put(api, task_id, body):
    return invoke(api.update_task.handler, with_body(with_id(load_event("update_task"), task_id), body))


def delete(api, task_id):
    return invoke(api.delete_task.handler, with_id(load_event("delete_task"), task_id))


def list_page(api, **params):
    return invoke(api.list_tasks.handler, with_query(load_event("list_tasks"), **params))


def assert_error(response, status, code, request_id=None):
    assert response.status == status, response.body
    error = response.json["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-Id"]
    if request_id:
        assert error["request_id"] == request_id
    return error


# --- create -----------------------------------------------------------------------------------------------


def test_create_returns_201_location_and_the_stored_task(api, table):
    response = invoke(api.create_task.handler, load_event("create_task"))
    assert response.status == 201
    task = response.json
    assert response.headers["Location"] == f"/tasks/{task['id']}"
    assert response.headers["X-Request-Id"] == "0a1b2c3d-0002-4000-8000-000000000002"
    assert uuid.UUID(task["id"]).version == 4
    assert task["title"] == "Write the handlers"
    assert task["status"] == "todo"
    assert task["due_date"] == "2026-12-31"
    assert task["version"] == 1
    assert TIMESTAMP.fullmatch(task["created_at"]) and task["created_at"] == task["updated_at"]
    assert get(api, task["id"]).json == task


def test_create_applies_defaults(api, table):
    task = create(api, {"title": "t"}).json
    assert (task["description"], task["status"], task["due_date"]) == ("", "todo", None)


def test_create_accepts_a_base64_body(api, table):
    event = load_event("create_task")
    event["body"] = base64.b64encode(json.dumps({"title": "encoded ✓"}).encode()).decode()
    event["isBase64Encoded"] = True
    response = invoke(api.create_task.handler, event)
    assert response.status == 201
    assert response.json["title"] == "encoded ✓"


def test_create_rejects_invalid_base64(api, table):
    event = load_event("create_task", body="not base64!!", isBase64Encoded=True)
    assert_error(invoke(api.create_task.handler, event), 400, "bad_request")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 5}, "title"),
        ({}, "title"),
        ({"title": "t", "description": "d" * 2001}, "description"),
        ({"title": "t", "description": None}, "description"),
        ({"title": "t", "status": "blocked"}, "status"),
        ({"title": "t", "due_date": "2026-02-30"}, "due_date"),
        ({"title": "t", "due_date": "2026-1-1"}, "due_date"),
        ({"title": "t", "due_date": 20260101}, "due_date"),
        ({"title": "t", "id": str(uuid.uuid4())}, "id"),
        ({"title": "t", "priority": "high"}, "priority"),
    ],
)
def test_create_validation_names_the_field(api, table, body, field):
    error = assert_error(create(api, body), 400, "validation_error")
    assert field in error["message"]
    assert scan_all(table) == []


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"title"', "null", "", None])
def test_create_rejects_malformed_or_non_object_bodies(api, table, body):
    event = with_body(load_event("create_task"), body)
    assert_error(invoke(api.create_task.handler, event), 400, "bad_request")


def test_create_accepts_a_64_kib_body_and_refuses_a_larger_one(api, table):
    padding = 65536 - len(json.dumps({"title": "t", "description": ""}))
    fits = json.dumps({"title": "t", "description": ""}).replace('""', '""' + " " * padding)
    assert len(fits.encode()) == 65536
    assert create(api, fits).status == 201
    response = create(api, fits + " ")
    assert_error(response, 413, "payload_too_large")
    event = load_event("create_task", body=base64.b64encode((fits + " ").encode()).decode(), isBase64Encoded=True)
    assert_error(invoke(api.create_task.handler, event), 413, "payload_too_large")


# --- idempotency ------------------------------------------------------------------------------------------


def test_idempotent_retry_returns_the_first_response_and_writes_nothing(api, table):
    event = load_event("create_task")
    first = invoke(api.create_task.handler, event)
    retry_event = load_event("create_task")
    retry_event["requestContext"]["requestId"] = "retry-request-id"
    retry = invoke(api.create_task.handler, retry_event)
    assert first.status == retry.status == 201
    assert retry.body == first.body
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["X-Request-Id"] == "retry-request-id"
    items = scan_all(table)
    tasks = [item for item in items if "record_type" not in item]
    records = [item for item in items if "record_type" in item]
    assert len(tasks) == 1 and len(records) == 1
    record = records[0]
    assert record["id"]["S"] == "idempotency#7d3e6a52-client-retry-key"
    created = int(record["expires_at"]["N"]) - 86400
    assert abs(created - __import__("time").time()) < 60


def test_same_idempotency_key_with_another_body_is_409(api, table):
    assert create(api, {"title": "one"}, Idempotency_Key="k-1").status == 201
    assert_error(create(api, {"title": "two"}, Idempotency_Key="k-1"), 409, "conflict")
    assert len([item for item in scan_all(table) if "record_type" not in item]) == 1


def test_an_expired_idempotency_record_does_not_block_a_new_request(api, table):
    assert create(api, {"title": "one"}, Idempotency_Key="k-old").status == 201
    table.update_item(
        TableName=TABLE_NAME,
        Key={"id": {"S": "idempotency#k-old"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    assert create(api, {"title": "two"}, Idempotency_Key="k-old").status == 201


@pytest.mark.parametrize("key", ["", "x" * 129, "tab\there", "new\nline", "ünï"])
def test_invalid_idempotency_keys_are_400(api, table, key):
    error = assert_error(create(api, {"title": "t"}, Idempotency_Key=key), 400, "validation_error")
    assert "Idempotency-Key" in error["message"]


def test_idempotency_header_name_is_case_insensitive(api, table):
    first = create(api, {"title": "t"}, idempotency_key="lower")
    again = create(api, {"title": "t"}, IDEMPOTENCY_KEY="lower")
    assert first.body == again.body


# --- list -------------------------------------------------------------------------------------------------


def test_list_paginates_with_limit_and_never_lists_idempotency_records(api, table):
    created = {create(api, {"title": f"task {n}"}, Idempotency_Key=f"key-{n}").json["id"] for n in range(7)}
    seen, token, pages = [], None, 0
    while True:
        params = {"limit": "3"} | ({"next_token": token} if token else {})
        response = list_page(api, **params)
        assert response.status == 200
        page = response.json
        assert set(page) == {"items", "next_token"}
        assert len(page["items"]) <= 3
        seen += [item["id"] for item in page["items"]]
        pages += 1
        token = page["next_token"]
        if token is None:
            break
        assert len(page["items"]) == 3
    assert sorted(seen) == sorted(created)
    assert pages == 3
    assert all(not item_id.startswith("idempotency#") for item_id in seen)


def test_list_fills_a_page_past_idempotency_records(api, table):
    for n in range(30):
        create(api, {"title": f"t{n}"}, Idempotency_Key=f"key-{n}")
    page = list_page(api, limit="25").json
    assert len(page["items"]) == 25
    assert page["next_token"]
    rest = list_page(api, limit="25", next_token=page["next_token"]).json
    assert len(rest["items"]) == 5


def test_list_defaults_to_20_and_an_empty_table_has_no_token(api, table):
    assert list_page(api).json == {"items": [], "next_token": None}
    for n in range(21):
        create(api, {"title": f"t{n}"})
    page = invoke(api.list_tasks.handler, load_event("list_tasks", queryStringParameters=None)).json
    assert len(page["items"]) == 20 and page["next_token"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1.5", "abc", "", " 5", "1e2", "0005"])
def test_list_rejects_bad_limits(api, table, limit):
    error = assert_error(list_page(api, limit=limit), 400, "validation_error")
    assert "limit" in error["message"]


def test_tampered_and_foreign_next_tokens_are_400(api, table, monkeypatch):
    for n in range(3):
        create(api, {"title": f"t{n}"})
    token = list_page(api, limit="1").json["next_token"]
    payload, signature = token.split(".")
    forged_payload = base64.urlsafe_b64encode(json.dumps({"id": str(uuid.uuid4())}).encode()).decode().rstrip("=")
    for bad in [
        token + "x",
        forged_payload + "." + signature,
        payload + "." + signature[::-1],
        payload,
        "garbage",
        "a.b.c",
        "..",
        "é.é",
        "x" * 5000,
    ]:
        assert_error(list_page(api, limit="1", next_token=bad), 400, "bad_request")
    assert list_page(api, limit="1", next_token=token).status == 200

    # A token issued for another table is refused.
    import importlib

    from lambda_helpers import purge_handler_modules

    monkeypatch.setenv("TABLE_NAME", "other-table")
    purge_handler_modules()
    other = importlib.import_module("tasks_core.pagination")
    foreign = other.encode(str(uuid.uuid4()))
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    purge_handler_modules()
    fresh = importlib.import_module("list_tasks")
    response = invoke(fresh.handler, with_query(load_event("list_tasks"), next_token=foreign))
    assert_error(response, 400, "bad_request")


def test_a_token_with_characters_base64_would_skip_is_not_the_token(api, table):
    for n in range(3):
        create(api, {"title": f"t{n}"})
    token = list_page(api, limit="1").json["next_token"]
    payload, signature = token.split(".")
    for bad in ["\x00" + token, token + " ", token + "=", payload + "==." + signature, f"{payload}.!{signature}"]:
        assert_error(list_page(api, limit="1", next_token=bad), 400, "bad_request")


@pytest.mark.parametrize("position", [{"id": "\ud800"}, {"id": "a\udc00b"}])
def test_a_signed_token_whose_id_is_no_dynamodb_key_is_400(api, table, position):
    import tasks_core.pagination as pagination

    payload = json.dumps(position).encode()  # the surrogate escaped, as JSON allows
    signed = f"{pagination._b64encode(payload)}.{pagination._b64encode(pagination._signature(payload))}"
    assert_error(list_page(api, limit="1", next_token=signed), 400, "bad_request")


# --- get --------------------------------------------------------------------------------------------------


def test_get_missing_is_404_and_non_uuid_is_400(api, table):
    assert_error(get(api, str(uuid.uuid4())), 404, "not_found")
    for bad in ["not-a-uuid", "idempotency#key", "3f1c2b9e5d4a4c8b9e7f1a2b3c4d5e6f", ""]:
        assert_error(get(api, bad), 400, "bad_request")


def test_get_accepts_an_upper_case_uuid(api, table):
    task = create(api, {"title": "t"}).json
    assert get(api, task["id"].upper()).json == task


def test_example_get_event_has_no_such_task(api, table):
    response = invoke(api.get_task.handler, load_event("get_task"))
    assert_error(response, 404, "not_found", "0a1b2c3d-0003-4000-8000-000000000003")


# --- update -----------------------------------------------------------------------------------------------


def test_put_replaces_fields_increments_version_and_keeps_created_at(api, table):
    task = create(api, {"title": "t", "description": "d", "due_date": "2026-01-01"}).json
    sent = task | {"title": "new", "status": "done", "due_date": None, "created_at": "ignored", "updated_at": "x"}
    response = put(api, task["id"], sent)
    assert response.status == 200
    updated = response.json
    assert updated["version"] == 2
    assert (updated["title"], updated["status"], updated["due_date"]) == ("new", "done", None)
    assert updated["created_at"] == task["created_at"]
    assert updated["updated_at"] >= task["updated_at"] and TIMESTAMP.fullmatch(updated["updated_at"])
    assert get(api, task["id"]).json == updated


def test_put_with_a_stale_version_is_409(api, table):
    task = create(api, {"title": "t"}).json
    assert put(api, task["id"], task | {"title": "first"}).status == 200
    assert_error(put(api, task["id"], task | {"title": "second"}), 409, "conflict")
    assert get(api, task["id"]).json["title"] == "first"


def test_put_on_a_missing_task_is_404(api, table):
    missing = str(uuid.uuid4())
    assert_error(put(api, missing, {"title": "t", "version": 1}), 404, "not_found")
    assert scan_all(table) == []


def test_put_with_an_id_other_than_the_path_is_400(api, table):
    task = create(api, {"title": "t"}).json
    error = assert_error(put(api, task["id"], task | {"id": str(uuid.uuid4())}), 400, "validation_error")
    assert "id" in error["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": None}, "version"),
        ({"version": "1"}, "version"),
        ({"version": True}, "version"),
        ({"version": 0}, "version"),
        ({"version": 1.0}, "version"),
        ({"version": 10**40}, "version"),
        ({"title": ""}, "title"),
        ({"status": None}, "status"),
        ({"record_type": "idempotency"}, "record_type"),
    ],
)
def test_put_validation_names_the_field(api, table, change, field):
    task = create(api, {"title": "t"}).json
    error = assert_error(put(api, task["id"], task | change), 400, "validation_error")
    assert field in error["message"]


def test_put_without_version_is_400(api, table):
    task = create(api, {"title": "t"}).json
    body = {k: v for k, v in task.items() if k != "version"}
    assert "version" in assert_error(put(api, task["id"], body), 400, "validation_error")["message"]


def test_example_update_event_on_an_empty_table_is_404(api, table):
    assert_error(invoke(api.update_task.handler, load_event("update_task")), 404, "not_found")


# --- delete -----------------------------------------------------------------------------------------------


def test_delete_twice_is_204_then_404(api, table):
    task = create(api, {"title": "t"}).json
    first = delete(api, task["id"])
    assert first.status == 204 and first.body == ""
    assert_error(delete(api, task["id"]), 404, "not_found")
    assert_error(get(api, task["id"]), 404, "not_found")


def test_delete_non_uuid_is_400(api, table):
    assert_error(delete(api, "../etc"), 400, "bad_request")


# --- method, 500, request id, logging ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "event_name", "method", "allowed"),
    [
        ("list_tasks", "list_tasks", "POST", "GET"),
        ("create_task", "create_task", "PATCH", "POST"),
        ("get_task", "get_task", "DELETE", "GET"),
        ("update_task", "update_task", "PATCH", "PUT"),
        ("delete_task", "delete_task", "GET", "DELETE"),
    ],
)
def test_other_methods_are_405(api, table, module, event_name, method, allowed):
    response = invoke(getattr(api, module).handler, load_event(event_name, httpMethod=method))
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allowed


def test_unexpected_exceptions_are_500_without_internals(api, table, monkeypatch, capsys):
    def explode(*args, **kwargs):
        raise RuntimeError("secret-internal-detail arn:aws:dynamodb:eu-west-1:123456789012:table/tasks")

    monkeypatch.setattr(api.get_task.store.client, "get_item", explode)
    response = invoke(api.get_task.handler, load_event("get_task"))
    error = assert_error(response, 500, "internal_error")
    assert error["message"] == "internal error"
    assert "secret" not in response.body and "arn:" not in response.body and "Traceback" not in response.body
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any("secret-internal-detail" in line.get("exception", "") for line in lines)
    assert lines[-1]["status"] == 500


def test_a_non_dict_event_is_500(api, table):
    response = api.get_task.handler(["not", "an", "event"], None)
    assert response["statusCode"] == 500
    assert response["headers"]["X-Request-Id"] == "unknown"


def test_request_id_falls_back_to_the_lambda_context(api, table):
    event = load_event("get_task")
    del event["requestContext"]["requestId"]
    response = invoke(api.get_task.handler, event)
    assert response.headers["X-Request-Id"] == "lambda-invocation-id"
    assert response.json["error"]["request_id"] == "lambda-invocation-id"


def test_one_json_log_line_per_request(api, table, capsys):
    capsys.readouterr()
    invoke(api.list_tasks.handler, load_event("list_tasks"))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["request_id"] == "0a1b2c3d-0001-4000-8000-000000000001"
    assert entry["route"] == "GET /tasks"
    assert entry["status"] == 200
    assert isinstance(entry["latency_ms"], float)
