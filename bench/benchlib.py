"""Small helpers the benchmark scripts share (imported as `benchlib`: each script runs
as `python bench/NAME.py`, so this folder is on `sys.path`)."""

from __future__ import annotations

import os


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (0–100) of `values` by linear rank, NaN when empty. With
    few samples the top percentiles are the largest value (45 trials: p99 = the maximum)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def load_average() -> float:
    """1-minute load average (the machine may be shared: read figures with it); NaN where
    the platform has none (Windows)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("nan")


def cpu_ticks() -> tuple[int, int] | None:
    """(stolen, all) CPU time since boot in clock ticks, from /proc/stat (Linux); None
    elsewhere. Stolen time is when the hypervisor ran something else on this virtual
    machine's CPUs: a run with much of it was slowed from outside."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return fields[7], sum(fields)


def stolen_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float:
    """The share (%) of CPU time stolen between two `cpu_ticks()`; NaN when unknown."""
    if before is None or after is None or after[1] <= before[1]:
        return float("nan")
    return (after[0] - before[0]) * 100 / (after[1] - before[1])
