#!/usr/bin/env python3
"""Run a Lambda handler from a code directory, the way one Lambda container would.

    python tools/handler_runner.py CODE_DIR HANDLER < events.jsonl > responses.jsonl

CODE_DIR is an unpacked deployment package, HANDLER is ``module.function``.
The module is imported once, with this process's environment (give it the
function's own variables, plus AWS_ENDPOINT_URL for the local endpoint); then
each line of standard input is an event, and each line of standard output is
the handler's return value as JSON (what the handler prints or logs goes to
standard error, where this process's caller can keep it). A handler that raises writes
``{"errorType": ..., "errorMessage": ...}`` instead, like Lambda's invoke
response for an unhandled error. An import error ends the process with
status 1 and the message on standard error, like a failed Lambda init.

moto's Invoke needs a container engine; this runner is how the local stack
runs its functions' deployed code.
"""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from types import SimpleNamespace


class LocalContext(SimpleNamespace):
    """The attributes of the Lambda context object that handlers commonly read."""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_handler(code_dir: str, handler: str):
    module_name, _, function_name = handler.rpartition(".")
    sys.path.insert(0, code_dir)
    return getattr(importlib.import_module(module_name), function_name)


def context_for(handler: str) -> LocalContext:
    return LocalContext(
        aws_request_id=str(uuid.uuid4()),
        function_name=handler.rpartition(".")[0],
        function_version="$LATEST",
        memory_limit_in_mb=256,
    )


def invoke(function, handler: str, event: dict) -> dict:
    try:
        return function(event, context_for(handler))
    except Exception as error:  # reported like Lambda's unhandled error response
        return {"errorType": type(error).__name__, "errorMessage": str(error)}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    code_dir, handler = argv
    # Handlers log to standard output, as in Lambda; here that is the responses' channel.
    responses, sys.stdout = sys.stdout, sys.stderr
    try:
        function = load_handler(code_dir, handler)
    except Exception as error:  # any import failure is an init failure
        print(f"init failed for {handler}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(invoke(function, handler, json.loads(line))), file=responses, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
