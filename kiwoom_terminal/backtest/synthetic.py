"""Seeded random-walk bars on the KRX tick grid, for tests, demos and the benchmark.

The walk moves in grid steps (a price ladder of every valid KRX price), so every open, high,
low and close is a price the exchange could print, and a row boundary such as 49,950 →
50,000 is crossed the way the tick rules say.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from kiwoom_terminal import krx


@functools.lru_cache(maxsize=2)
def price_ladder(low: int = 1_000, high: int = 2_000_000, *, etf: bool = False) -> np.ndarray:
    """Every grid price from `low` to `high`, ascending."""
    prices = [krx.round_up_to_tick(low, etf=etf)]
    while prices[-1] < high:
        prices.append(krx.step_price(prices[-1], 1, etf=etf))
    return np.asarray(prices, dtype="int64")


def random_walk_bars(
    n: int,
    *,
    seed: int = 0,
    start_price: int = 50_000,
    interval: str = "1",
    start: str = "2024-01-02",
    volatility_ticks: float = 3.0,
) -> pd.DataFrame:
    """`n` OHLCV bars of a seeded random walk on the grid.

    `interval` "day" gives one bar per weekday; a number of minutes gives bars from 09:00 to
    15:30 on weekdays. Each bar opens at the previous close (one bar in fifty gaps a few
    ticks), closes a normally distributed number of ticks away, and has wicks of 0–3 ticks.
    """
    rng = np.random.default_rng(seed)
    ladder = price_ladder()
    pos0 = int(np.searchsorted(ladder, start_price))
    gaps = np.where(rng.random(n) < 0.02, rng.integers(-8, 9, n), 0)
    moves = np.rint(rng.normal(0.0, volatility_ticks, n)).astype("int64")
    close_pos = pos0 + np.cumsum(gaps + moves)
    open_pos = np.concatenate(([pos0], close_pos[:-1])) + gaps
    top = np.maximum(open_pos, close_pos) + rng.integers(0, 4, n)
    bottom = np.minimum(open_pos, close_pos) - rng.integers(0, 4, n)
    limit = len(ladder) - 1
    o, c, h, lo = (ladder[np.clip(p, 0, limit)] for p in (open_pos, close_pos, top, bottom))
    volume = rng.integers(100, 20_000, n)
    return pd.DataFrame(
        {"open": o, "high": h, "low": lo, "close": c, "volume": volume},
        index=bar_times(n, interval, start),
    )


def bar_times(n: int, interval: str, start: str) -> pd.DatetimeIndex:
    """`n` bar start times: weekdays for "day", else 09:00–15:30 sessions on weekdays."""
    if interval == "day":
        return pd.bdate_range(start, periods=n, name="time")
    step = int(interval)
    per_day = 390 // step
    days = pd.bdate_range(start, periods=-(-n // per_day))
    offsets = pd.to_timedelta(np.arange(per_day) * step + 9 * 60, unit="min")
    times = (days.values[:, None] + offsets.values[None, :]).ravel()[:n]
    return pd.DatetimeIndex(times, name="time")
