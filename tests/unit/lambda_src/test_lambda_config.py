"""Settings read at import: the required TABLE_NAME and the validated optional ones."""

from __future__ import annotations

import importlib

import pytest
from lambda_helpers import HANDLER_MODULES


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_missing_table_name_fails_at_import_naming_it(lambda_env, module):
    lambda_env.delenv("TABLE_NAME")
    with pytest.raises(RuntimeError, match="TABLE_NAME"):
        importlib.import_module(module)


def test_blank_table_name_fails_too(lambda_env):
    lambda_env.setenv("TABLE_NAME", "  ")
    with pytest.raises(RuntimeError, match="TABLE_NAME"):
        importlib.import_module("tasks_core.config")


@pytest.mark.parametrize(
    ("name", "value"), [("IDEMPOTENCY_TTL_SECONDS", "soon"), ("IDEMPOTENCY_TTL_SECONDS", "0"), ("LOG_LEVEL", "CHATTY")]
)
def test_invalid_optional_settings_fail_naming_them(lambda_env, name, value):
    lambda_env.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        importlib.import_module("tasks_core.config")


def test_defaults(lambda_env):
    for name in ("TTL_ATTRIBUTE", "IDEMPOTENCY_TTL_SECONDS", "LOG_LEVEL"):
        lambda_env.delenv(name)
    config = importlib.import_module("tasks_core.config")
    assert (config.TTL_ATTRIBUTE, config.IDEMPOTENCY_TTL_SECONDS, config.LOG_LEVEL) == ("expires_at", 86400, 20)
