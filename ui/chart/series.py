"""Bar data of the chart: OHLCV arrays of one stock at one interval, with the live bar
folded from tick summaries. Plain numpy / pandas, no Qt, so it is tested on its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kiwoom_terminal.constants import Side

DAY = "day"
MINUTE = "minute"
INTERVAL_LABELS = {DAY: "일봉", MINUTE: "1분봉"}


@dataclass(frozen=True)
class FillMarker:
    side: Side
    price: int
    time: dt.datetime


class BarSeries:
    """OHLCV arrays of one stock at one interval; the last bar is the live one."""

    def __init__(self) -> None:
        self.times: np.ndarray = np.array([], dtype="datetime64[s]")
        self.open = np.array([], dtype=float)
        self.high = np.array([], dtype=float)
        self.low = np.array([], dtype=float)
        self.close = np.array([], dtype=float)
        self.volume = np.array([], dtype=float)
        self._bar_base_cum: float | None = None  # cumulative volume when the live bar began
        self._last_cum: float | None = None

    def __len__(self) -> int:
        return len(self.close)

    def load(self, frame: pd.DataFrame) -> None:
        """Replace everything with `frame` (sorted by time, duplicates dropped)."""
        frame = frame.sort_index()
        frame = frame[~frame.index.duplicated(keep="last")]
        index = pd.DatetimeIndex(frame.index)
        if index.tz is not None:
            index = index.tz_localize(None)
        self.times = np.array(index.to_numpy(dtype="datetime64[s]"))
        self.open = frame["open"].to_numpy(dtype=float, copy=True)
        self.high = frame["high"].to_numpy(dtype=float, copy=True)
        self.low = frame["low"].to_numpy(dtype=float, copy=True)
        self.close = frame["close"].to_numpy(dtype=float, copy=True)
        self.volume = frame["volume"].to_numpy(dtype=float, copy=True)
        self._bar_base_cum = None
        self._last_cum = None

    def apply_tick(
        self, bucket: dt.datetime, last: int, high: int, low: int, cum_volume: int
    ) -> str:
        """Fold a tick batch into the bar starting at `bucket`.

        Returns "update" (live bar changed), "append" (a new bar began) or "stale" (the
        batch is older than the live bar and is ignored). Volume is the difference of the
        day's cumulative volume from where the bar began.
        """
        stamp = np.datetime64(bucket.replace(tzinfo=None), "s")
        n = len(self)
        if n and stamp < self.times[-1]:
            return "stale"
        if n and stamp == self.times[-1]:
            if self._bar_base_cum is None:
                self._bar_base_cum = cum_volume - self.volume[-1]
            self.high[-1] = max(self.high[-1], high, last)
            self.low[-1] = min(self.low[-1], low, last)
            self.close[-1] = last
            self.volume[-1] = max(0.0, cum_volume - self._bar_base_cum)
            self._last_cum = cum_volume
            return "update"
        base = self._last_cum if self._last_cum is not None else cum_volume
        self._bar_base_cum = base
        self._last_cum = cum_volume
        self.times = np.append(self.times, stamp)
        self.open = np.append(self.open, float(last))
        self.high = np.append(self.high, float(max(high, last)))
        self.low = np.append(self.low, float(min(low, last)))
        self.close = np.append(self.close, float(last))
        self.volume = np.append(self.volume, max(0.0, float(cum_volume - base)))
        return "append"

    def index_at(self, moment: dt.datetime) -> int | None:
        """Index of the bar containing `moment` (the last bar starting at or before it)."""
        if not len(self):
            return None
        stamp = np.datetime64(moment.replace(tzinfo=None), "s")
        i = int(np.searchsorted(self.times, stamp, side="right")) - 1
        return i if i >= 0 else None

    def time_at(self, i: int) -> dt.datetime:
        return pd.Timestamp(self.times[i]).to_pydatetime()


def empty_bars() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype=float) for c in ("open", "high", "low", "close", "volume")},
        index=pd.DatetimeIndex([]),
    )


def rolling_mean(values: np.ndarray, period: int) -> np.ndarray:
    """Mean of the last `period` values at each bar, NaN before the first full window
    (pandas' `rolling(period).mean()`, without its per-call cost: the chart redraws its
    averages up to ten times a second in the thread that shares the engine's GIL)."""
    out = np.full(len(values), np.nan)
    if period > 0 and len(values) >= period:
        sums = np.cumsum(np.concatenate(([0.0], values.astype(float, copy=False))))
        out[period - 1 :] = (sums[period:] - sums[:-period]) / period
    return out


def rolling_std(values: np.ndarray, period: int) -> np.ndarray:
    """Population standard deviation (ddof 0) of the last `period` values at each bar, NaN
    before the first full window (Bollinger's σ)."""
    out = np.full(len(values), np.nan)
    if period > 0 and len(values) >= period:
        windows = np.lib.stride_tricks.sliding_window_view(values.astype(float, copy=False), period)
        out[period - 1 :] = windows.std(axis=1)
    return out
