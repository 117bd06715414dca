#!/usr/bin/env python3
"""Start, stop and serve the local AWS endpoint (moto) on 127.0.0.1.

    local_endpoint.py up     [--port N] [--state-dir DIR]   start in the background unless the port answers
    local_endpoint.py down   [--port N] [--state-dir DIR]   stop the process that ``up`` started, by its pid
    local_endpoint.py status [--port N] [--state-dir DIR]
    local_endpoint.py serve  [--port N] [--state-dir DIR]   serve in the foreground (what ``up`` runs)

The server is plain HTTP bound to 127.0.0.1 only.  Its environment passes
through to moto, so ``MOTO_*`` settings work; moto's request recorder writes to
``DIR/recording-PORT.jsonl`` unless ``MOTO_RECORDER_FILEPATH`` says otherwise.
Before serving, the corrections of ``moto_corrections`` are applied.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import background
from background import is_running

HOST = "127.0.0.1"
DEFAULT_PORT = int(os.environ.get("LOCAL_AWS_PORT", "5000"))
DEFAULT_STATE_DIR = Path(__file__).resolve().parent.parent / ".local"
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15


def endpoint_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def answers(port: int, timeout: float = 1.0) -> bool:
    """Return whether an HTTP server answers on the port (any status counts)."""
    return background.answers(f"{endpoint_url(port)}/moto-api/", timeout)


def pid_file(state_dir: Path, port: int) -> Path:
    return background.state_file(state_dir, "endpoint", port, ".pid")


def log_file(state_dir: Path, port: int) -> Path:
    return background.state_file(state_dir, "endpoint", port, ".log")


def read_pid(state_dir: Path, port: int) -> int | None:
    return background.read_pid(pid_file(state_dir, port))


def is_our_server(pid: int) -> bool:
    """Guard against a recycled pid: the process must be this launcher serving."""
    return background.is_serving(pid, "local_endpoint.py")


def serve_command(port: int, state_dir: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "serve", "--port", str(port), "--state-dir", str(state_dir)]


def up(port: int, state_dir: Path) -> int:
    if answers(port):
        print(f"local endpoint: something already answers on {endpoint_url(port)}; not starting another")
        return 0
    state_dir.mkdir(parents=True, exist_ok=True)
    with log_file(state_dir, port).open("ab") as log:
        process = subprocess.Popen(
            serve_command(port, state_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file(state_dir, port).write_text(f"{process.pid}\n")
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file(state_dir, port).unlink(missing_ok=True)
            print(f"local endpoint: exited with {process.returncode}; see {log_file(state_dir, port)}", file=sys.stderr)
            return 1
        if answers(port):
            print(
                f"local endpoint: started on {endpoint_url(port)} (pid {process.pid}, log {log_file(state_dir, port)})"
            )
            return 0
        time.sleep(0.2)
    print(f"local endpoint: no answer on {endpoint_url(port)} after {READY_TIMEOUT_SECONDS}s", file=sys.stderr)
    return 1


def down(port: int, state_dir: Path) -> int:
    pid = read_pid(state_dir, port)
    if pid is None:
        print(f"local endpoint: no pid file for port {port} in {state_dir}; nothing of ours to stop")
        return 0
    if is_running(pid) and is_our_server(pid):
        os.kill(pid, signal.SIGTERM)
        _wait_for_exit(pid)
        print(f"local endpoint: stopped pid {pid} on port {port}")
    else:
        print(f"local endpoint: pid {pid} is not running; removing its stale pid file")
    pid_file(state_dir, port).unlink(missing_ok=True)
    return 0


def _wait_for_exit(pid: int) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not is_running(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def status(port: int, state_dir: Path) -> int:
    pid = read_pid(state_dir, port)
    ours = f"pid {pid}" if pid and is_running(pid) else "not started by us"
    state = "answers" if answers(port) else "does not answer"
    print(f"local endpoint: {endpoint_url(port)} {state} ({ours})")
    return 0 if answers(port) else 1


def serve(port: int, state_dir: Path) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    # moto's request recorder (tools/aws_calls.py drives it) writes to its cwd unless told otherwise.
    state_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MOTO_RECORDER_FILEPATH", str(state_dir / f"recording-{port}.jsonl"))
    import moto_corrections
    from moto import server

    moto_corrections.apply_all(endpoint_url(port))
    server.main(["--host", HOST, "--port", str(port)])
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "serve"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        return serve(args.port, args.state_dir)
    commands = {"up": up, "down": down, "status": status}
    return commands[args.command](args.port, args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
