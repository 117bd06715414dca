"""DELETE /tasks/{id} -- conditional delete (role: dynamodb:DeleteItem)."""

from __future__ import annotations

from typing import Any

from tasks_core import errors, store, validation
from tasks_core.app import run
from tasks_core.request import Request
from tasks_core.responses import json_response

ROUTE = "DELETE /tasks/{id}"


def _delete(request: Request, request_id: str) -> dict[str, Any]:
    try:
        store.delete_task(validation.task_id(request.path_params))
    except store.NotFound:
        raise errors.not_found() from None
    return json_response(204, None, request_id)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run(event, context, "DELETE", ROUTE, _delete)
