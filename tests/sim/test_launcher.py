"""The launcher starts the simulator as a child and never leaves it running (main.py in
sim mode is covered by tests/engine/test_main.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from kiwoom_terminal.sim.launcher import REPO_ROOT, start_simulator


def gone(pid: int, timeout: float = 15.0) -> bool:
    """True once `pid` has exited (a zombie waiting for init to reap it counts as exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def test_start_and_stop() -> None:
    with start_simulator("--seed", "1", "--log-level", "WARNING") as sim:
        assert sim.rest_url.startswith("http://127.0.0.1:")
        assert sim.ws_url.startswith("ws://127.0.0.1:") and sim.ws_url.endswith(
            "/api/dostk/websocket"
        )
        assert sim.control.state()["seed"] == 1
        assert sim.alive()
    assert not sim.alive() and sim.proc.returncode == 0


@pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")
def test_the_child_exits_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from kiwoom_terminal.sim.launcher import start_simulator;"
            "s = start_simulator('--log-level', 'WARNING'); print(s.pid, flush=True); time.sleep(120)",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    assert gone(child), "simulator outlived the process that started it"
