"""The launcher's up/down/status lifecycle (tools/local_endpoint.py)."""

import subprocess
import sys

import local_endpoint
import pytest
from free_port import free_port


@pytest.fixture
def port_and_state(tmp_path):
    port = free_port()
    yield port, tmp_path
    local_endpoint.down(port, tmp_path)


def test_up_starts_a_server_and_down_stops_it_by_pid(port_and_state, capsys):
    port, state = port_and_state
    assert local_endpoint.up(port, state) == 0
    pid = local_endpoint.read_pid(state, port)
    assert pid is not None and local_endpoint.is_running(pid)
    assert local_endpoint.answers(port)

    assert local_endpoint.down(port, state) == 0
    assert not local_endpoint.is_running(pid)
    assert not local_endpoint.answers(port)
    assert local_endpoint.read_pid(state, port) is None
    assert f"stopped pid {pid}" in capsys.readouterr().out


def test_up_leaves_an_answering_endpoint_alone(port_and_state, capsys):
    port, state = port_and_state
    local_endpoint.up(port, state)
    first_pid = local_endpoint.read_pid(state, port)
    assert local_endpoint.up(port, state) == 0
    assert local_endpoint.read_pid(state, port) == first_pid
    assert "already answers" in capsys.readouterr().out


def test_down_never_kills_a_process_it_did_not_start(tmp_path):
    port = free_port()
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        local_endpoint.pid_file(tmp_path, port).write_text(f"{stranger.pid}\n")
        assert local_endpoint.down(port, tmp_path) == 0
        assert stranger.poll() is None
        assert not local_endpoint.pid_file(tmp_path, port).exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_status_fails_when_nothing_answers(tmp_path):
    assert local_endpoint.status(free_port(), tmp_path) == 1


def test_server_binds_loopback_only(port_and_state):
    port, state = port_and_state
    local_endpoint.up(port, state)
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=False)
    if listening.returncode != 0:
        pytest.skip("ss is not available to list listening sockets")
    addresses = {line.split()[3].rsplit(":", 1)[0] for line in listening.stdout.splitlines() if line.strip()}
    assert addresses == {"127.0.0.1"}
