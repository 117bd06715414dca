"""The API's error type: an HTTP status, a stable machine-readable code and a message for the client."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def validation_error(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)


def not_found(message: str = "task not found") -> ApiError:
    return ApiError(404, "not_found", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def payload_too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"request body exceeds {limit} bytes")


def method_not_allowed(method: str, allowed: str) -> ApiError:
    return ApiError(405, "method_not_allowed", f"method {method} is not allowed here", {"Allow": allowed})
