"""tools/background.py: the pid and liveness helpers the two background servers share."""

import os
import subprocess
import sys
import time
from pathlib import Path

import background
from free_port import free_port


def test_nothing_answers_on_a_free_port():
    assert background.answers(f"http://127.0.0.1:{free_port()}/", timeout=0.5) is False


def test_state_files_are_named_after_the_server_and_its_port(tmp_path):
    assert background.state_file(tmp_path, "api", 3000, ".pid") == tmp_path / "api-3000.pid"


def test_a_missing_or_garbled_pid_file_reads_as_no_pid(tmp_path):
    assert background.read_pid(tmp_path / "absent.pid") is None
    (tmp_path / "bad.pid").write_text("not a pid\n")
    assert background.read_pid(tmp_path / "bad.pid") is None
    (tmp_path / "good.pid").write_text("1234\n")
    assert background.read_pid(tmp_path / "good.pid") == 1234


def wait_for_exec(pid: int, word: str) -> None:
    """Until the child has exec'd, /proc/<pid>/cmdline is still the parent's command line."""
    deadline = time.monotonic() + 10
    cmdline = Path(f"/proc/{pid}/cmdline")
    while word.encode() not in cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_process_is_serving_only_with_its_script_serve_and_markers():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "local_api.py", "serve", "3000"])
    try:
        wait_for_exec(sleeper.pid, "local_api.py")
        assert background.is_running(sleeper.pid)
        assert background.is_serving(sleeper.pid, "local_api.py", "3000")
        assert not background.is_serving(sleeper.pid, "local_api.py", "3001")
        assert not background.is_serving(sleeper.pid, "local_endpoint.py")
        assert not background.is_serving(os.getpid(), "local_api.py")
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not background.is_running(sleeper.pid)
