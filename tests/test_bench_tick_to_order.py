"""bench/tick_to_order.py still works end to end: one short round against a real simulator
and a real headless terminal, sells that reach the server, figures in the `name: value
unit` format with the headline last, and no round folder left behind in the temp folder.

No timing is judged here (the script reports; docs/BENCHMARKS.md records the figures).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

from kiwoom_terminal.sim.http import _RX_TIMESTAMPS

REPO = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^([a-z0-9_]+): (\S+)(?: (.+))?$")


def run_bench(temp: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """Run the script with `args` and `temp` as its temporary folder; its output lines and
    the figures by name, every line checked to be `name: value unit`."""
    env = dict(os.environ, TMPDIR=str(temp), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "tick_to_order.py"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    figures = {}
    for line in lines:
        match = LINE.match(line)
        assert match, f"not a `name: value unit` line: {line!r}"
        figures[match.group(1)] = match.group(2)
    return lines, figures


def test_one_short_round_sells_and_cleans_up(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    samples = tmp_path / "samples.json"
    lines, figures = run_bench(
        temp, "--trials", "3", "--rates", "5000", "--rounds", "1", "--samples", str(samples)
    )
    assert lines[-1].startswith("tick_to_order_p99_at_5k: ")
    assert figures["trials_5k"] == "3"
    # The simulator stands in for a server elsewhere: it runs on the CPU the terminal leaves.
    assert figures["simulator_cpu_priority"] == "low"
    assert figures["terminal_mode"] == "headless"
    # How much CPU time the hypervisor took during the run, read from /proc/stat on Linux.
    stolen = float(figures["cpu_time_stolen"])
    assert 0.0 <= stolen <= 100.0 if Path("/proc/stat").is_file() else math.isnan(stolen)
    stamped = "3" if _RX_TIMESTAMPS else "0"  # the kernel's arrival stamp where it exists
    assert figures["arrivals_stamped_by_kernel_5k"] == stamped
    # The clock starts when the trigger's frame is written, after the simulator queued it.
    assert figures["tick_sends_stamped_5k"] == "3"
    latency = float(figures["tick_to_order_p99_at_5k"])
    assert math.isfinite(latency) and latency > 0
    # Every sell's latency and its split, the trigger's wall-clock time last.
    pooled = json.loads(samples.read_text())[""]["5000"]
    latencies, stages = pooled[0], pooled[1]
    assert len(latencies) == 3 and all(x > 0 for x in latencies)
    assert all(len(split) == 7 and split[6] > 1.7e9 for split in stages)
    assert all(0 < split[5] < 1000 for split in stages)  # queued before it was sent (ms)
    # The rounds' folders (settings, journal, the terminal's log) are removed.
    assert sorted(p.name for p in temp.iterdir()) == []


def test_a_short_round_with_the_window_open(tmp_path: Path) -> None:
    # `--window`: the terminal as a user double-clicks it (offscreen here), the engine in
    # the thread that redraws the views. Its sells still reach the server.
    temp = tmp_path / "tmp"
    temp.mkdir()
    _, figures = run_bench(temp, "--window", "--trials", "2", "--rates", "5000", "--rounds", "1")
    assert figures["terminal_mode"] == "window"
    assert figures["trials_5k"] == "2"
    latency = float(figures["tick_to_order_p99_at_5k"])
    assert math.isfinite(latency) and latency > 0
    # No round folder left (Qt may leave its own `runtime-*` folder without XDG_RUNTIME_DIR).
    assert [p.name for p in temp.iterdir() if p.name.startswith("tick_to_order")] == []
