"""Validation of task bodies, path ids, list parameters and the Idempotency-Key header."""

from __future__ import annotations

import datetime
import re
from typing import Any

from .errors import bad_request, validation_error

STATUSES = ("todo", "in_progress", "done")
TITLE_MAX = 200
DESCRIPTION_MAX = 2000
LIMIT_DEFAULT = 20
LIMIT_MAX = 100
VERSION_MAX = 2**53
IDEMPOTENCY_KEY_MAX = 128

WRITABLE_FIELDS = ("title", "description", "status", "due_date")
READ_ONLY_FIELDS = ("id", "created_at", "updated_at")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LIMIT = re.compile(r"[0-9]{1,3}")
_PRINTABLE = re.compile(r"[\x20-\x7e]+")


def _string(body: dict[str, Any], name: str, *, minimum: int, maximum: int, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise validation_error(f"field '{name}' must be a string")
    if not minimum <= len(value) <= maximum:
        raise validation_error(f"field '{name}' must be {minimum} to {maximum} characters long")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise validation_error(f"field '{name}' must be valid Unicode text") from None
    return value


def _status(body: dict[str, Any]) -> str:
    value = body.get("status", "todo")
    if value not in STATUSES or not isinstance(value, str):
        raise validation_error(f"field 'status' must be one of {', '.join(STATUSES)}")
    return value


def _due_date(body: dict[str, Any]) -> str | None:
    value = body.get("due_date")
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise validation_error("field 'due_date' must be a date YYYY-MM-DD or null")
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise validation_error("field 'due_date' must be a date YYYY-MM-DD or null") from None
    return value


def _object(body: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    unknown = sorted(str(name) for name in body if name not in allowed)
    if unknown:
        raise validation_error(f"unknown field(s): {', '.join(repr(name) for name in unknown)[:300]}")
    return body


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": _string(body, "title", minimum=1, maximum=TITLE_MAX),
        "description": _string(body, "description", minimum=0, maximum=DESCRIPTION_MAX, default=""),
        "status": _status(body),
        "due_date": _due_date(body),
    }


def task_for_create(body: Any) -> dict[str, Any]:
    """The writable fields of a POST body, defaults applied."""
    return _fields(_object(body, WRITABLE_FIELDS))


def task_for_replace(body: Any, path_id: str) -> tuple[dict[str, Any], int]:
    """The writable fields of a PUT body, defaults applied, and the expected version."""
    body = _object(body, (*WRITABLE_FIELDS, *READ_ONLY_FIELDS, "version"))
    if "id" in body and (not isinstance(body["id"], str) or body["id"].lower() != path_id):
        raise validation_error("field 'id' must match the task id in the path")
    if "version" not in body:
        raise validation_error("field 'version' is required")
    version = body["version"]
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= VERSION_MAX:
        raise validation_error("field 'version' must be a positive integer")
    return _fields(body), version


def task_id(request_path_params: dict[str, str]) -> str:
    value = request_path_params.get("id", "")
    if not _UUID.fullmatch(value):
        raise bad_request("path parameter 'id' must be a UUID")
    return value.lower()


def list_limit(query: dict[str, str]) -> int:
    raw = query.get("limit")
    if raw is None:
        return LIMIT_DEFAULT
    if not _LIMIT.fullmatch(raw) or not 1 <= int(raw) <= LIMIT_MAX:
        raise validation_error(f"query parameter 'limit' must be an integer from 1 to {LIMIT_MAX}")
    return int(raw)


def idempotency_key(headers: Any) -> str | None:
    value = headers.get("idempotency-key")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > IDEMPOTENCY_KEY_MAX or not _PRINTABLE.fullmatch(value):
        raise validation_error(f"header 'Idempotency-Key' must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters")
    return value
