"""Make lambda_src/ and this directory importable; register the fixtures of lambda_helpers."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAMBDA_SRC = HERE.parents[2] / "lambda_src"
for path in (LAMBDA_SRC, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from lambda_helpers import api, lambda_env, table  # noqa: E402, F401
