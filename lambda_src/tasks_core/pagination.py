"""Opaque list tokens: base64url of the scan position plus an HMAC bound to the table name."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re

from . import config
from .errors import bad_request

_TOKEN_MAX = 1024
_SIGNATURE_BYTES = 16
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")  # base64url, unpadded: nothing b64decode would skip
_KEY = hashlib.sha256(b"tasks-api/next-token/" + config.TABLE_NAME.encode("utf-8")).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: bytes) -> bytes:
    return hmac.new(_KEY, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def encode(task_id: str) -> str:
    payload = json.dumps({"id": task_id}, separators=(",", ":")).encode("utf-8")
    return f"{_b64encode(payload)}.{_b64encode(_signature(payload))}"


def decode(token: str) -> str:
    """The task id a token resumes after; 400 for anything this table did not issue."""
    invalid = bad_request("query parameter 'next_token' is invalid")
    if not token or len(token) > _TOKEN_MAX or not _TOKEN.fullmatch(token):
        raise invalid
    payload_text, signature_text = token.split(".")
    try:
        payload = _b64decode(payload_text)
        signature = _b64decode(signature_text)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not hmac.compare_digest(signature, _signature(payload)):
        raise invalid
    try:
        position = json.loads(payload)
    except ValueError:
        raise invalid from None
    if not isinstance(position, dict) or not isinstance(position.get("id"), str) or not position["id"]:
        raise invalid
    try:
        position["id"].encode("utf-8")  # a lone surrogate cannot be a DynamoDB key
    except UnicodeEncodeError:
        raise invalid from None
    return position["id"]
