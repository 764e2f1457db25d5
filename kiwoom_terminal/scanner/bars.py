"""An incremental per-code cache of completed minute bars, fed by ka10080 replies.

Replies overlap (each refresh asks for a few bars more than are new, to correct the last
one) and include the bar still forming; the cache keeps only completed bars — a bar
labelled t (its start, as Kiwoom labels minute bars) is complete once the market clock is
at t + interval — and lets the newest reply win for any bar it repeats. Each code keeps at
most `max_bars` bars, oldest dropped first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from kiwoom_terminal.backtest.server import bars_to_frame
from kiwoom_terminal.objects import BarData


class MinuteBarCache:
    """Completed `interval`-minute bars per code (DataFrames in the backtester's shape)."""

    def __init__(self, interval: int, max_bars: int) -> None:
        if interval <= 0 or max_bars <= 0:
            raise ValueError("interval and max_bars must be positive")
        self.interval = interval
        self.max_bars = max_bars
        self._span = dt.timedelta(minutes=interval)
        self._frames: dict[str, pd.DataFrame] = {}

    def bars(self, code: str) -> pd.DataFrame | None:
        """The cached bars of `code`, oldest first, or None before its first reply."""
        return self._frames.get(code)

    def newest(self, code: str) -> dt.datetime | None:
        """Start time of the newest completed bar cached for `code`."""
        frame = self._frames.get(code)
        if frame is None or frame.empty:
            return None
        return pd.Timestamp(frame.index[-1]).to_pydatetime()

    def codes(self) -> list[str]:
        return list(self._frames)

    def drop(self, code: str) -> None:
        self._frames.pop(code, None)

    def merge(self, code: str, rows: Sequence[BarData], now: dt.datetime) -> int:
        """Add a reply's bars (any order) completed by `now`; returns how many bars are new
        (later than the newest cached one). Bars already cached are replaced by the reply's
        values."""
        done = [b for b in rows if b.time + self._span <= now and b.code in ("", code)]
        old = self._frames.get(code)
        newest = None if old is None or old.empty else old.index[-1]
        fresh = bars_to_frame(done)
        if old is None or old.empty:
            merged = fresh
        elif fresh.empty:
            merged = old
        else:
            merged = pd.concat([old, fresh])
            merged = merged[~merged.index.duplicated(keep="last")].sort_index()
        if len(merged) > self.max_bars:
            merged = merged.iloc[-self.max_bars :]
        self._frames[code] = merged
        if newest is None:
            return len(merged)
        return int((merged.index > newest).sum())
