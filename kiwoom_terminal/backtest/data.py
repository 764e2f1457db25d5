"""Where bars come from, and the checks every bar frame passes before a backtest runs.

A `BarSource` returns OHLCV bars of one code for a date range and an interval (`"day"` or a
number of minutes as text, e.g. `"1"`). `FrameSource` serves DataFrames held in memory
(tests, the benchmark), `CsvSource` reads CSV files, and `backtest/server.py` fetches from the
Kiwoom server (or the simulator) with a disk cache. All return the same shape: a DataFrame
indexed by an ascending DatetimeIndex (naive, KST) with int64 columns open, high, low, close,
volume.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from kiwoom_terminal import krx

BAR_COLUMNS = ("open", "high", "low", "close", "volume")
INTERVALS = ("day", "1", "3", "5", "10", "15", "30", "45", "60")


class BacktestError(ValueError):
    """Bad backtest input (unknown code or file, empty or broken bars, bad dates or
    settings). The message says what was wrong and how to fix it; nothing was run."""


class BarSource(Protocol):
    """Anything that can hand out bars for a code."""

    def load(
        self, code: str, start: dt.date | None, end: dt.date | None, interval: str
    ) -> pd.DataFrame:
        """Bars of `code` from `start` to `end` inclusive (None = open-ended)."""
        ...


def clip_range(frame: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """Rows from the start of `start` to the end of `end` (None = open-ended)."""
    if start is not None:
        frame = frame[frame.index >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame.index < pd.Timestamp(end) + pd.Timedelta(days=1)]
    return frame


class FrameSource:
    """Bars from DataFrames already in memory, by code."""

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self._frames = dict(frames)

    def load(
        self, code: str, start: dt.date | None, end: dt.date | None, interval: str
    ) -> pd.DataFrame:
        if code not in self._frames:
            raise BacktestError(
                f"{code}: 봉 데이터가 없습니다 (가진 종목: {', '.join(self._frames)})"
            )
        return clip_range(self._frames[code], start, end)


class CsvSource:
    """Bars from CSV files: one file (any code), or a folder of `<code>.csv` /
    `<code>_<interval>.csv` files. The first column (or one named date / time / datetime)
    is the bar time; the others must include open, high, low, close, volume."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise BacktestError(f"CSV 경로가 없습니다: {self.path}")

    def _file_for(self, code: str, interval: str) -> Path:
        if self.path.is_file():
            return self.path
        for name in (f"{code}_{interval}.csv", f"{code}.csv"):
            candidate = self.path / name
            if candidate.exists():
                return candidate
        raise BacktestError(
            f"{code}: {self.path} 폴더에 {code}_{interval}.csv 나 {code}.csv 파일이 없습니다"
        )

    def load(
        self, code: str, start: dt.date | None, end: dt.date | None, interval: str
    ) -> pd.DataFrame:
        file = self._file_for(code, interval)
        try:
            raw = pd.read_csv(file)
        except (OSError, ValueError) as exc:
            raise BacktestError(f"{file}: CSV 를 읽을 수 없습니다 ({exc})") from exc
        raw.columns = [str(c).strip().lower() for c in raw.columns]
        time_col = next((c for c in ("datetime", "time", "date") if c in raw.columns), None)
        time_col = time_col or str(raw.columns[0])
        try:
            index = pd.DatetimeIndex(pd.to_datetime(raw[time_col]))
        except (ValueError, TypeError) as exc:
            raise BacktestError(
                f"{file}: '{time_col}' 열을 날짜/시각으로 읽을 수 없습니다"
            ) from exc
        frame = raw.drop(columns=[time_col])
        frame.index = index
        frame.index.name = "time"
        return clip_range(frame, start, end)


def prepare_bars(
    frame: pd.DataFrame,
    code: str,
    interval: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Check and normalise one code's bars; returns (bars, warnings).

    Fatal problems raise BacktestError naming the code and the first bad row: missing
    columns, no bars in the range, empty or non-numeric values, prices ≤ 0, a high below
    the low or a close outside [low, high], duplicate times. Gaps (missing business days for
    daily bars, holes of more than 30 minutes inside a day for minute bars) and data that
    covers only part of the requested range are warnings.
    """
    missing = [c for c in BAR_COLUMNS if c not in frame.columns]
    if missing:
        raise BacktestError(f"{code}: 봉 데이터에 {', '.join(missing)} 열이 없습니다")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise BacktestError(f"{code}: 봉 데이터의 색인이 날짜/시각이 아닙니다")
    when = _range_text(start, end)
    if frame.empty:
        raise BacktestError(f"{code}: {when} 봉이 하나도 없습니다 (기간이나 종목코드를 확인하세요)")
    bars = frame.loc[:, list(BAR_COLUMNS)]
    if bars.index.tz is not None:
        bars = bars.tz_convert(krx.KST).tz_localize(None)
    warnings: list[str] = []
    if not bars.index.is_monotonic_increasing:
        bars = bars.sort_index()
    stamps = bars.index.asi8
    if len(stamps) > 1 and (np.diff(stamps) == 0).any():
        row = bars.index[1:][np.diff(stamps) == 0][0]
        raise BacktestError(f"{code}: 같은 시각의 봉이 두 번 있습니다 ({row})")
    if not all(dtype == np.int64 for dtype in bars.dtypes):  # CSV text, floats, objects
        bars = _to_int_bars(bars, code)
    o, h, lo, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
    # lo > 0 and lo ≤ min(open, close) ≤ max(open, close) ≤ high covers every rule (then also
    # high ≥ low); reductions first, the row-by-row mask only when something is wrong.
    body_low, body_high = np.minimum(o, c), np.maximum(o, c)
    volume = bars["volume"].to_numpy()
    if lo.min() <= 0 or (lo > body_low).any() or (body_high > h).any() or volume.min() < 0:
        broken = (lo <= 0) | (lo > body_low) | (body_high > h) | (volume < 0)
        i = int(np.argmax(broken))
        raise BacktestError(
            f"{code}: {bars.index[i]} 봉이 잘못되었습니다 (시가 {o[i]}, 고가 {h[i]}, "
            f"저가 {lo[i]}, 종가 {c[i]}: 가격은 양수이고 저가 ≤ 시가·종가 ≤ 고가여야 합니다)"
        )
    if start is not None and bars.index[0].date() > krx.next_business_day(start) + dt.timedelta(
        days=7
    ):
        warnings.append(f"{code}: 데이터가 {bars.index[0].date()} 부터만 있습니다 (요청 {start})")
    warnings += _gap_warnings(bars.index, code, interval)
    return bars, warnings


def _to_int_bars(bars: pd.DataFrame, code: str) -> pd.DataFrame:
    """Numeric int64 columns, or BacktestError naming the first empty / non-integer row."""
    numeric = bars.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna().any(axis=1)
    if bad.any():
        raise BacktestError(f"{code}: {bars.index[bad][0]} 봉에 비었거나 숫자가 아닌 값이 있습니다")
    values = numeric.to_numpy(dtype="float64")
    fractional = (values != np.round(values)).any(axis=1)
    if fractional.any():
        raise BacktestError(
            f"{code}: {bars.index[fractional][0]} 봉의 가격/거래량이 정수가 아닙니다 "
            "(원 단위 정수여야 합니다)"
        )
    return numeric.astype("int64")


def epoch_seconds(index: pd.DatetimeIndex) -> np.ndarray:
    """Whole seconds since the epoch per timestamp (naive = wall clock), whatever the index's
    unit (pandas keeps s / ms / us / ns); integer division, no converted index built."""
    unit, count = np.datetime_data(index.dtype)
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit] // count
    return index.asi8 // per_second


def _range_text(start: dt.date | None, end: dt.date | None) -> str:
    if start is None and end is None:
        return "전체 기간에"
    return f"{start or '처음'} ~ {end or '끝'} 기간에"


def _gap_warnings(index: pd.DatetimeIndex, code: str, interval: str) -> list[str]:
    if len(index) < 2:
        return []
    if interval == "day":
        have = set(index.normalize().date)
        missing = [
            d.date()
            for d in pd.date_range(index[0], index[-1], freq="B")
            if d.date() not in have and krx.is_business_day(d.date())
        ]
        if missing:
            shown = ", ".join(str(d) for d in missing[:5])
            more = f" 외 {len(missing) - 5}일" if len(missing) > 5 else ""
            return [f"{code}: 거래일 {len(missing)}일의 일봉이 빠져 있습니다 ({shown}{more})"]
        return []
    secs = epoch_seconds(index)
    day = secs // 86_400
    limit = max(2 * int(interval), 30) * 60
    holes = (day[1:] == day[:-1]) & (np.diff(secs) > limit)
    if holes.any():
        first = index[1:][holes][0]
        return [f"{code}: 장중 30분 넘게 봉이 빈 곳이 {int(holes.sum())}곳 있습니다 (처음 {first})"]
    return []
