"""API Gateway proxy events for the tasks API, built from the examples in tests/events/ (unit and integration tests)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

EVENTS = Path(__file__).resolve().parent / "events"


def load_event(name: str, **overrides) -> dict:
    """An example event from tests/events/<name>.json, with top-level keys replaced."""
    event = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    event.update(overrides)
    return event


def with_headers(event: dict, **headers: str) -> dict:
    """The event with extra headers (names taken with dashes: Idempotency_Key -> Idempotency-Key)."""
    for raw_name, value in headers.items():
        name = raw_name.replace("_", "-")
        event["headers"] = {**(event.get("headers") or {}), name: value}
        event["multiValueHeaders"] = {**(event.get("multiValueHeaders") or {}), name: [value]}
    return event


def with_query(event: dict, **params: str) -> dict:
    event["queryStringParameters"] = params or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in params.items()} or None
    return event


def with_id(event: dict, task_id: str) -> dict:
    event["pathParameters"] = {"id": task_id}
    event["path"] = f"/tasks/{task_id}"
    event["requestContext"]["path"] = f"/prod/tasks/{task_id}"
    return event


def with_body(event: dict, body) -> dict:
    event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    event["isBase64Encoded"] = False
    return event
