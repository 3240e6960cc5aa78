"""`commhub serve` as an operator runs it: a real process, a real port, /healthz."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_healthz(tmp_path: Path) -> None:
    env = {**os.environ, "COMMHUB_DATA_DIR": str(tmp_path / "var"), "COMMHUB_DATABASE_URL": ""}
    command = [sys.executable, "-m", "commhub"]
    subprocess.run([*command, "init"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE
    )
    try:
        body = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                    body = json.load(reply)
            except OSError:
                time.sleep(0.2)
        assert body is not None, "commhub serve did not answer within 20 s"
        assert body["status"] == "ok"
        assert body["database"]["backend"] == "sqlite"
    finally:
        server.terminate()
        server.wait(timeout=10)
        assert server.stderr is not None
        server.stderr.close()
