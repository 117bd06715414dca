"""Settings read once per container, at import, from environment variables."""

from __future__ import annotations

import logging
import os


class ConfigError(RuntimeError):
    """A setting is missing or invalid; raised at import so the function fails to initialise."""


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"missing required environment variable {name}")
    return value


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"environment variable {name} must be a positive integer, got {raw!r}")
    return int(raw)


def _log_level(name: str, default: str) -> int:
    raw = (os.environ.get(name, "").strip() or default).upper()
    level = logging.getLevelName(raw)
    if not isinstance(level, int):
        raise ConfigError(f"environment variable {name} must be a logging level name, got {raw!r}")
    return level


TABLE_NAME = _required("TABLE_NAME")
TTL_ATTRIBUTE = os.environ.get("TTL_ATTRIBUTE", "").strip() or "expires_at"
IDEMPOTENCY_TTL_SECONDS = _positive_int("IDEMPOTENCY_TTL_SECONDS", 86400)
LOG_LEVEL = _log_level("LOG_LEVEL", "INFO")

MAX_BODY_BYTES = 64 * 1024
