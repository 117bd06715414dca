"""What the project's background servers (the local endpoint, the local API front) share: pid files, liveness.

Each server keeps ``<name>-<port>.pid`` and ``.log`` in a state directory and is
stopped only by its own pid, after checking that the pid still belongs to it.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether an HTTP server answers at ``url`` (any status counts)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def state_file(state_dir: Path, name: str, port: int, suffix: str) -> Path:
    """``state_dir/<name>-<port><suffix>``, for example ``.local/endpoint-5000.pid``."""
    return state_dir / f"{name}-{port}{suffix}"


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return False


def command_line(pid: int) -> list[bytes] | None:
    """The process's arguments, or None where /proc does not tell."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return None


def is_serving(pid: int, script: str, *markers: str) -> bool:
    """Guard against a recycled pid: the process runs ``script`` with ``serve`` and every marker argument."""
    arguments = command_line(pid)
    if arguments is None:
        return is_running(pid)
    runs_script = any(argument.endswith(script.encode()) for argument in arguments)
    return runs_script and b"serve" in arguments and all(marker.encode() in arguments for marker in markers)
