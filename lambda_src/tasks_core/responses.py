"""JSON responses in the API Gateway (REST, v1) proxy integration format."""

from __future__ import annotations

import json
from typing import Any

from .errors import ApiError

INTERNAL_ERROR_MESSAGE = "internal error"


def _headers(request_id: str, extra: dict[str, str] | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Request-Id": request_id}
    if extra:
        headers.update(extra)
    return headers


def json_response(
    status: int, body: Any, request_id: str, headers: dict[str, str] | None = None, raw_body: str | None = None
) -> dict[str, Any]:
    """A proxy response; ``body`` None means an empty body (204), ``raw_body`` an already serialised one."""
    if raw_body is None:
        raw_body = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return {
        "statusCode": status,
        "headers": _headers(request_id, headers),
        "body": raw_body,
        "isBase64Encoded": False,
    }


def error_response(error: ApiError, request_id: str) -> dict[str, Any]:
    body = {"error": {"code": error.code, "message": error.message, "request_id": request_id}}
    return json_response(error.status, body, request_id, error.headers)


def internal_error_response(request_id: str) -> dict[str, Any]:
    return error_response(ApiError(500, "internal_error", INTERNAL_ERROR_MESSAGE), request_id)
