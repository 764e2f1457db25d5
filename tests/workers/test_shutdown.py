"""No orphan worker processes: not when the parent raises, not when it is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from kiwoom_terminal.sim.launcher import SimulatorProcess
from tests.workers.conftest import wait_until

REPO = Path(__file__).resolve().parents[2]

PARENT = """
import sys
from kiwoom_terminal.constants import Mode
from kiwoom_terminal.messages import WorkerKind
from kiwoom_terminal.secrets import sim_credentials
from kiwoom_terminal.workers.config import WorkerConfig
from kiwoom_terminal.workers.supervisor import WorkerSupervisor

if __name__ == "__main__":
    rest_url, ws_url, mode = sys.argv[1:4]
    sup = WorkerSupervisor(WorkerConfig(Mode.SIM, rest_url, ws_url, sim_credentials()))
    sup.start()
    print(" ".join(str(sup.pid(k)) for k in WorkerKind), flush=True)
    if mode == "raise":
        raise RuntimeError("the terminal crashed")
    sys.stdin.read()  # "wait": until the test kills us
"""


def _gone(pid: int) -> bool:
    """True when `pid` no longer runs (a zombie left for init to reap counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _start_parent(
    tmp_path: Path, sim: SimulatorProcess, mode: str
) -> tuple[subprocess.Popen[str], list[int]]:
    script = tmp_path / "parent.py"
    script.write_text(PARENT, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, str(script), sim.rest_url, sim.ws_url, mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 3 and not any(_gone(p) for p in pids)
    return proc, pids


def test_parent_exception_stops_every_worker(tmp_path: Path, api_sim: SimulatorProcess) -> None:
    proc, pids = _start_parent(tmp_path, api_sim, "raise")
    assert proc.wait(timeout=30) == 1
    wait_until(lambda: all(_gone(p) for p in pids), timeout=10)


def test_killed_parent_leaves_no_workers_behind(tmp_path: Path, api_sim: SimulatorProcess) -> None:
    proc, pids = _start_parent(tmp_path, api_sim, "wait")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    wait_until(lambda: all(_gone(p) for p in pids), timeout=10)
