"""POST /tasks -- create a task, idempotently with an Idempotency-Key header.

Role: dynamodb:PutItem, dynamodb:GetItem, dynamodb:ConditionCheckItem.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from tasks_core import errors, store, validation
from tasks_core.app import run, timestamp, utc_now
from tasks_core.request import Request
from tasks_core.responses import json_response

ROUTE = "POST /tasks"


def _fingerprint(fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _replay(record: dict[str, Any] | None, fingerprint: str, request_id: str) -> dict[str, Any]:
    if record is None:
        raise errors.conflict("a request with this Idempotency-Key is being processed; retry")
    if record.get("fingerprint") != fingerprint:
        raise errors.conflict("this Idempotency-Key was used with a different request body")
    return json_response(
        int(record["response_status"]),
        None,
        request_id,
        headers={"Location": record["response_location"]},
        raw_body=record["response_body"],
    )


def _create(request: Request, request_id: str) -> dict[str, Any]:
    key = validation.idempotency_key(request.headers)
    fields = validation.task_for_create(request.json_body())
    now = utc_now()
    task = {
        "id": str(uuid.uuid4()),
        **fields,
        "created_at": timestamp(now),
        "updated_at": timestamp(now),
        "version": 1,
    }
    response = json_response(201, task, request_id, headers={"Location": f"/tasks/{task['id']}"})
    if key is None:
        store.put_task(task)
        return response
    fingerprint = _fingerprint(fields)
    record = {
        "fingerprint": fingerprint,
        "task_id": task["id"],
        "response_status": response["statusCode"],
        "response_body": response["body"],
        "response_location": response["headers"]["Location"],
        "created_at": task["created_at"],
    }
    try:
        store.put_task_idempotently(task, key, record, int(now.timestamp()))
    except store.IdempotencyKeyTaken as taken:
        return _replay(taken.record, fingerprint, request_id)
    return response


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run(event, context, "POST", ROUTE, _create)
