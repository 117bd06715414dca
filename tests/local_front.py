"""The local API front (tools/local_api.py serve) in a subprocess, for tests."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import local_api
from free_port import free_port

FRONT = Path(__file__).resolve().parent.parent / "tools" / "local_api.py"


class Front:
    """``local_api.py serve`` on a free port, stopped by its own pid; ``selection`` names the API
    (``--api-name NAME`` or ``--api-id ID``) and any other option of ``serve``."""

    def __init__(self, endpoint_url: str, log_path: Path, *selection: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        command = [sys.executable, str(FRONT), "serve", "--port", str(self.port), "--endpoint-url", endpoint_url]
        self.process = subprocess.Popen([*command, *selection], stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not local_api.answers(self.port):
            assert self.process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text()
