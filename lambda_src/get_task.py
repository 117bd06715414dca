"""GET /tasks/{id} -- one task (role: dynamodb:GetItem)."""

from __future__ import annotations

from typing import Any

from tasks_core import errors, store, validation
from tasks_core.app import run
from tasks_core.request import Request
from tasks_core.responses import json_response

ROUTE = "GET /tasks/{id}"


def _get(request: Request, request_id: str) -> dict[str, Any]:
    task = store.get_task(validation.task_id(request.path_params))
    if task is None:
        raise errors.not_found()
    return json_response(200, task, request_id)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run(event, context, "GET", ROUTE, _get)
