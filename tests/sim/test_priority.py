"""`--cpu-priority low`: the simulator runs only on CPU time that other processes leave
(sim/priority.py), every thread of it, and still serves; by default it runs like any other
process. bench/tick_to_order.py relies on the first, the embedded simulator on the second."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiwoom_terminal.sim.__main__ import build_parser
from kiwoom_terminal.sim.launcher import REPO_ROOT, start_simulator

SCHED_OTHER, SCHED_IDLE = 0, 5  # Linux policy numbers, as /proc reports them

linux_only = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")


def thread_policies(pid: int) -> dict[int, int]:
    """Scheduling policy of every thread of `pid` (field 41 of /proc/PID/task/TID/stat)."""
    policies = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        policies[int(task.name)] = int(fields[41 - 3])  # fields[0] is field 3, the state
    return policies


@linux_only
def test_low_priority_simulator_is_sched_idle_in_every_thread_and_serves() -> None:
    with start_simulator("--seed", "3", "--log-level", "WARNING", "--cpu-priority", "low") as sim:
        assert sim.control.state()["seed"] == 3  # it serves (an HTTP round trip)
        assert os.sched_getscheduler(sim.pid) == os.SCHED_IDLE
        policies = thread_policies(sim.pid)
        # The stdin watcher (--exit-on-stdin-eof) is started after the priority was lowered.
        assert len(policies) >= 2
        assert set(policies.values()) == {SCHED_IDLE}


@linux_only
def test_the_simulator_runs_at_normal_priority_by_default() -> None:
    with start_simulator("--seed", "3", "--log-level", "WARNING") as sim:
        assert sim.control.state()["seed"] == 3
        assert set(thread_policies(sim.pid).values()) == {SCHED_OTHER}
        assert os.sched_getscheduler(sim.pid) == os.SCHED_OTHER


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX nice")
def test_without_sched_idle_the_priority_falls_back_to_nice_19() -> None:
    # A platform without SCHED_IDLE (macOS, the BSDs), imitated in a child process so that
    # this test process keeps its own priority.
    code = (
        "import os\n"
        "if hasattr(os, 'SCHED_IDLE'): del os.SCHED_IDLE\n"
        "from kiwoom_terminal.sim.priority import lower_cpu_priority\n"
        "print(lower_cpu_priority(), os.nice(0), sep='|')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "nice 19|19"


def test_an_unknown_priority_is_refused_with_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--cpu-priority", "fast"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--cpu-priority" in err and "'fast'" in err and "'low'" in err
