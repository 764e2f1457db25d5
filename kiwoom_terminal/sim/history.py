"""Seeded price history of one stock: daily bars before today and minute bars of past days.

Daily bars are generated backwards from today's base price (the previous close), so the
newest bar closes exactly at the base. Minute bars of a past day are a Brownian bridge from
that day's open to its close, shaped so that they aggregate to the day's OHLCV exactly. The
same seed gives the same history; nothing depends on wall-clock time.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np

from kiwoom_terminal.constants import Market
from kiwoom_terminal.sim import grid
from kiwoom_terminal.sim.listings import Listing

HISTORY_DAYS = 800  # daily bars kept before today (ka10081 pages hold 600)


def code_key(code: str) -> int:
    """A stable integer per code for seeding (codes may contain letters)."""
    return zlib.crc32(code.encode("ascii"))


@dataclass(frozen=True, slots=True)
class StockProfile:
    """Seeded per-stock character: how volatile and how heavily traded it is."""

    daily_sigma: float  # typical daily log-return std-dev
    avg_volume: int  # typical daily volume, shares

    @classmethod
    def make(cls, listing: Listing, seed: int) -> StockProfile:
        rng = np.random.default_rng([seed, code_key(listing.code), 1])
        if listing.market is Market.ETF:
            sigma = 0.025 if ("레버리지" in listing.name or "2X" in listing.name) else 0.011
            turnover = 0.02
        elif listing.market is Market.KOSDAQ:
            sigma, turnover = 0.032, 0.012
        else:
            sigma, turnover = 0.019, 0.003
        sigma *= float(np.exp(rng.normal(0.0, 0.25)))
        turnover *= float(np.exp(rng.normal(0.0, 0.5)))
        volume = max(20_000, min(int(listing.shares * turnover), 40_000_000))
        return cls(daily_sigma=sigma, avg_volume=volume)


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One day of one stock. `value` is in KRW."""

    day: dt.date
    open: int
    high: int
    low: int
    close: int
    volume: int
    value: int


def daily_history(
    listing: Listing, profile: StockProfile, base: int, days: list[dt.date], seed: int
) -> list[DailyBar]:
    """Bars for `days` (oldest first) ending with a close equal to `base`."""
    n = len(days)
    if n == 0:
        return []
    etf = listing.is_etf
    rng = np.random.default_rng([seed, code_key(listing.code), 2])
    sigma = profile.daily_sigma
    returns = rng.normal(0.0, sigma, n)
    # closes[i] = base / exp(sum of returns after day i): walk back from the newest close.
    back = np.concatenate(([0.0], np.cumsum(returns[:0:-1])))[::-1]
    closes_f = base * np.exp(-back)
    prev_f = np.concatenate(([closes_f[0] * np.exp(-returns[0])], closes_f[:-1]))
    opens_f = prev_f * np.exp(rng.normal(0.0, 0.35 * sigma, n))
    hi_f = np.maximum(opens_f, closes_f) * np.exp(np.abs(rng.normal(0.0, 0.45 * sigma, n)))
    lo_f = np.minimum(opens_f, closes_f) * np.exp(-np.abs(rng.normal(0.0, 0.45 * sigma, n)))
    closes = grid.snap(np.rint(closes_f), etf=etf)
    closes[-1] = base
    opens = grid.snap(np.rint(opens_f), etf=etf)
    highs = np.maximum(grid.snap_up(np.ceil(hi_f), etf=etf), np.maximum(opens, closes))
    lows = np.minimum(grid.snap_down(np.floor(lo_f), etf=etf), np.minimum(opens, closes))
    move = np.abs(returns) / sigma
    volumes = (profile.avg_volume * np.exp(rng.normal(-0.08, 0.4, n)) * (0.7 + 0.3 * move)).astype(
        np.int64
    ) + 1
    typical = (opens + highs + lows + closes) / 4.0
    values = (volumes * typical).astype(np.int64)
    return [
        DailyBar(*row)
        for row in zip(
            days,
            opens.tolist(),
            highs.tolist(),
            lows.tolist(),
            closes.tolist(),
            volumes.tolist(),
            values.tolist(),
        )
    ]


# Minute bars of a past day: 09:00 … 15:19 continuous, then the 15:30 closing auction.
PAST_DAY_MINUTES: tuple[int, ...] = (*range(380), 390)


def past_minute_bars(
    listing: Listing, bar: DailyBar, seed: int
) -> list[tuple[int, int, int, int, int, int]]:
    """(minute after 09:00, open, high, low, close, volume) for one past day, oldest first.

    Aggregates exactly to the day's open, high, low, close and volume.
    """
    etf = listing.is_etf
    n = len(PAST_DAY_MINUTES)
    rng = np.random.default_rng([seed, code_key(listing.code), bar.day.toordinal(), 3])
    steps = rng.normal(0.0, 1.0, n)
    walk = np.concatenate(([0.0], np.cumsum(steps)))
    k = np.arange(n + 1) / n
    bridge = walk - k * walk[-1]
    span = max(bar.high - bar.low, 1)
    scale = span / max(np.ptp(bridge), 1e-9) * 0.8
    path = bar.open + (bar.close - bar.open) * k + bridge * scale
    path = np.clip(path, bar.low, bar.high)
    pts = grid.snap(np.rint(path), etf=etf)
    pts = np.clip(pts, bar.low, bar.high)
    pts[0], pts[-1] = bar.open, bar.close
    opens, closes = pts[:-1].copy(), pts[1:].copy()
    wiggle = np.abs(rng.normal(0.0, 0.15, n)) * span
    highs = np.minimum(grid.snap_up(np.maximum(opens, closes) + wiggle, etf=etf), bar.high)
    lows = np.maximum(grid.snap_down(np.minimum(opens, closes) - wiggle, etf=etf), bar.low)
    highs[int(rng.integers(0, n))] = bar.high
    lows[int(rng.integers(0, n))] = bar.low
    highs = np.maximum(highs, np.maximum(opens, closes))
    lows = np.minimum(lows, np.minimum(opens, closes))
    x = np.linspace(-1.0, 1.0, n)
    weights = (1.0 + 1.5 * x * x) * np.exp(rng.normal(0.0, 0.5, n))
    vols = np.floor(weights / weights.sum() * bar.volume).astype(np.int64)
    vols[-1] += bar.volume - int(vols.sum())
    return [
        (
            PAST_DAY_MINUTES[i],
            int(opens[i]),
            int(highs[i]),
            int(lows[i]),
            int(closes[i]),
            int(vols[i]),
        )
        for i in range(n)
    ]
