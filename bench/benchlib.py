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
