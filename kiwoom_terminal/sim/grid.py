"""Vectorised tick-grid snapping that gives exactly `krx.round_to_tick` for int arrays."""

from __future__ import annotations

import numpy as np

from kiwoom_terminal import krx

_BOUNDS = np.array([2_000, 5_000, 20_000, 50_000, 200_000, 500_000], dtype=np.int64)
_TICKS = np.array([1, 5, 10, 50, 100, 500, 1_000], dtype=np.int64)


def ticks_of(prices: np.ndarray, *, etf: bool = False) -> np.ndarray:
    """Tick size at each price (the row of the price itself, as `krx.tick_size`)."""
    if etf:
        return np.full(prices.shape, krx.ETF_TICK, dtype=np.int64)
    return _TICKS[np.searchsorted(_BOUNDS, prices, side="right")]


def snap(prices: np.ndarray, *, etf: bool = False) -> np.ndarray:
    """Nearest grid price for each (positive) int price; ties round down."""
    p = np.maximum(prices.astype(np.int64), 1)
    tick = ticks_of(p, etf=etf)
    down = p - p % tick
    up = p + (-p) % tick
    return np.where(p - down <= up - p, down, up)


def snap_down(prices: np.ndarray, *, etf: bool = False) -> np.ndarray:
    p = np.maximum(prices.astype(np.int64), 1)
    return p - p % ticks_of(p, etf=etf)


def snap_up(prices: np.ndarray, *, etf: bool = False) -> np.ndarray:
    p = np.maximum(prices.astype(np.int64), 1)
    return p + (-p) % ticks_of(p, etf=etf)
