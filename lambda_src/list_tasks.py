"""GET /tasks?limit=&next_token= -- a page of tasks (role: dynamodb:Scan)."""

from __future__ import annotations

from typing import Any

from tasks_core import pagination, store, validation
from tasks_core.app import run
from tasks_core.request import Request
from tasks_core.responses import json_response

ROUTE = "GET /tasks"


def _list(request: Request, request_id: str) -> dict[str, Any]:
    limit = validation.list_limit(request.query)
    token = request.query.get("next_token")
    after = pagination.decode(token) if token is not None else None
    tasks, resume_after = store.list_tasks(limit, after)
    next_token = pagination.encode(resume_after) if resume_after else None
    return json_response(200, {"items": tasks, "next_token": next_token}, request_id)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run(event, context, "GET", ROUTE, _list)
