"""The frame every handler runs in: method check, request parsing, error mapping, one log line."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

from .errors import ApiError, method_not_allowed
from .logs import logger
from .request import Request, parse_event, request_id_of
from .responses import error_response, internal_error_response

Route = Callable[[Request, str], dict[str, Any]]


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def timestamp(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run(event: Any, context: Any, method: str, route_name: str, route: Route) -> dict[str, Any]:
    """Serve one proxy event with ``route(request, request_id)`` and log the outcome."""
    started = time.perf_counter()
    request_id = request_id_of(event, context)
    error_code = None
    try:
        if not isinstance(event, dict):
            raise TypeError("the event is not an API Gateway proxy event")
        http_method = str(event.get("httpMethod") or "").upper()
        if http_method != method:
            raise method_not_allowed(http_method or "(none)", method)
        response = route(parse_event(event), request_id)
    except ApiError as error:
        error_code = error.code
        response = error_response(error, request_id)
    except Exception:
        error_code = "internal_error"
        logger.exception("unhandled error", extra={"request_id": request_id, "route": route_name})
        response = internal_error_response(request_id)
    fields = {
        "request_id": request_id,
        "route": route_name,
        "status": response["statusCode"],
        "latency_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    if error_code:
        fields["error_code"] = error_code
    logger.info("request", extra=fields)
    return response
