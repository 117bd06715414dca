"""The API Gateway REST (v1) proxy event turned into a request: method, path, query, headers, body."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from . import config
from .errors import bad_request, payload_too_large


class Headers(dict):
    """Header names lower-cased; look-ups are case-insensitive."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)


@dataclass
class Request:
    method: str
    resource: str
    path: str
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    headers: Headers = field(default_factory=Headers)
    raw_body: bytes | None = None

    def json_body(self) -> Any:
        """The body parsed as JSON; 400 when absent, not UTF-8 or not JSON."""
        if not self.raw_body:
            raise bad_request("request body is required")
        try:
            text = self.raw_body.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request("request body is not valid UTF-8") from None
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise bad_request("request body is not valid JSON") from None


def _single_values(single: Any, multi: Any) -> dict[str, str]:
    """Merge a proxy event's single- and multi-value maps, the last value of a repeated name winning."""
    merged: dict[str, str] = {}
    if isinstance(single, dict):
        merged.update({str(k): str(v) for k, v in single.items() if v is not None})
    if isinstance(multi, dict):
        for key, values in multi.items():
            if isinstance(values, list) and values:
                merged[str(key)] = str(values[-1])
    return merged


def _body(event: dict[str, Any]) -> bytes | None:
    body = event.get("body")
    if body is None:
        return None
    if not isinstance(body, str):
        raise bad_request("request body is not valid")
    if event.get("isBase64Encoded"):
        # Base64 grows data by 4/3: refuse what cannot decode to 64 KiB or less before decoding it.
        if len(body) > (config.MAX_BODY_BYTES + 2) // 3 * 4 + 4:
            raise payload_too_large(config.MAX_BODY_BYTES)
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request("request body is not valid base64") from None
    else:
        if len(body) > config.MAX_BODY_BYTES:  # characters <= bytes, so this never refuses a body that fits
            raise payload_too_large(config.MAX_BODY_BYTES)
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request("request body is not valid UTF-8") from None
    if len(raw) > config.MAX_BODY_BYTES:
        raise payload_too_large(config.MAX_BODY_BYTES)
    return raw


def parse_event(event: dict[str, Any]) -> Request:
    headers = Headers(
        {k.lower(): v for k, v in _single_values(event.get("headers"), event.get("multiValueHeaders")).items()}
    )
    path_params = event.get("pathParameters")
    return Request(
        method=str(event.get("httpMethod") or "").upper(),
        resource=str(event.get("resource") or ""),
        path=str(event.get("path") or ""),
        path_params={str(k): str(v) for k, v in path_params.items()} if isinstance(path_params, dict) else {},
        query=_single_values(event.get("queryStringParameters"), event.get("multiValueQueryStringParameters")),
        headers=headers,
        raw_body=_body(event),
    )


def request_id_of(event: Any, context: Any) -> str:
    """The API Gateway request id, else the Lambda invocation's id."""
    if isinstance(event, dict):
        request_context = event.get("requestContext")
        if isinstance(request_context, dict) and request_context.get("requestId"):
            return str(request_context["requestId"])
    return str(getattr(context, "aws_request_id", None) or "unknown")
