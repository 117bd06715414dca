"""tools/handler_runner.py: one process per function, events in, responses out, logs kept apart."""

import json
import subprocess
import sys

from playbook_runner import REPO_ROOT

RUNNER = REPO_ROOT / "tools" / "handler_runner.py"


def run(code_dir, handler, events, env=None):
    lines = "".join(json.dumps(event) + "\n" for event in events)
    return subprocess.run(
        [sys.executable, str(RUNNER), str(code_dir), handler],
        input=lines,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_each_event_gets_one_response_and_logs_go_to_stderr(tmp_path):
    (tmp_path / "app.py").write_text(
        "COUNT = []\n"
        "def handler(event, context):\n"
        "    COUNT.append(1)\n"
        "    print('log line', event)\n"
        "    return {'n': len(COUNT), 'echo': event['x'], 'request_id': bool(context.aws_request_id)}\n"
    )
    completed = run(tmp_path, "app.handler", [{"x": 1}, {"x": 2}])

    assert completed.returncode == 0, completed.stderr
    responses = [json.loads(line) for line in completed.stdout.splitlines()]
    assert responses == [{"n": 1, "echo": 1, "request_id": True}, {"n": 2, "echo": 2, "request_id": True}]
    assert "log line" in completed.stderr


def test_an_exception_is_reported_like_lambda_and_the_runner_goes_on(tmp_path):
    (tmp_path / "app.py").write_text(
        "def handler(event, context):\n    if event['fail']:\n        raise KeyError('boom')\n    return 'ok'\n"
    )
    completed = run(tmp_path, "app.handler", [{"fail": True}, {"fail": False}])

    assert [json.loads(line) for line in completed.stdout.splitlines()] == [
        {"errorType": "KeyError", "errorMessage": "'boom'"},
        "ok",
    ]


def test_an_import_failure_is_an_init_failure(tmp_path):
    (tmp_path / "app.py").write_text("import os\nTABLE = os.environ['TABLE_NAME']\ndef handler(e, c):\n    return 1\n")
    completed = run(tmp_path, "app.handler", [{}], env={"PATH": "/usr/bin"})

    assert completed.returncode == 1
    assert completed.stdout == ""
    assert "init failed for app.handler: KeyError" in completed.stderr
