"""PUT /tasks/{id} -- replace a task under optimistic locking (role: dynamodb:UpdateItem)."""

from __future__ import annotations

from typing import Any

from tasks_core import errors, store, validation
from tasks_core.app import run, timestamp, utc_now
from tasks_core.request import Request
from tasks_core.responses import json_response

ROUTE = "PUT /tasks/{id}"


def _update(request: Request, request_id: str) -> dict[str, Any]:
    task_id = validation.task_id(request.path_params)
    fields, version = validation.task_for_replace(request.json_body(), task_id)
    try:
        task = store.replace_task(task_id, fields, version, timestamp(utc_now()))
    except store.NotFound:
        raise errors.not_found() from None
    except store.VersionConflict:
        raise errors.conflict("the task was changed since it was read (version mismatch)") from None
    return json_response(200, task, request_id)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run(event, context, "PUT", ROUTE, _update)
