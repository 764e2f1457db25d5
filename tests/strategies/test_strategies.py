"""Strategies: registry, parameters, and signals on series built to trigger them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kiwoom_terminal.strategies.base import (
    BUY,
    HOLD,
    SELL,
    StrategyError,
    all_strategies,
    get_strategy,
)


def frame(close, *, high=None, low=None, volume=None) -> pd.DataFrame:
    close = np.asarray(close, dtype="int64")
    idx = pd.date_range("2025-01-02", periods=len(close), freq="B")
    return pd.DataFrame(
        {
            "open": close,
            "high": close if high is None else np.asarray(high),
            "low": close if low is None else np.asarray(low),
            "close": close,
            "volume": np.full(len(close), 1_000) if volume is None else np.asarray(volume),
        },
        index=idx,
    )


def where(sig: pd.Series, value: int) -> list[int]:
    return [i for i, v in enumerate(sig.tolist()) if v == value]


def test_registry_lists_every_strategy_with_valid_defaults() -> None:
    names = set(all_strategies())
    assert {
        "sma_cross",
        "momentum",
        "disparity",
        "bollinger",
        "rsi",
        "chaikin",
        "mean_reversion",
    } <= names
    for name, cls in all_strategies().items():
        strategy = cls()
        assert strategy.title and strategy.min_bars >= 2
        for p in cls.params:
            assert p.minimum <= p.default <= p.maximum, (name, p.name)
        sig = strategy.signals(frame(10_000 + np.arange(80) % 7 * 50))
        assert sig.dtype == "int8" and set(sig.unique()) <= {BUY, SELL, HOLD}


def test_bad_names_and_parameters_are_refused_clearly() -> None:
    with pytest.raises(StrategyError, match="알 수 없는 전략 'nope'"):
        get_strategy("nope")
    with pytest.raises(StrategyError, match="허용 범위"):
        get_strategy("sma_cross", fast=1)
    with pytest.raises(StrategyError, match="정수"):
        get_strategy("sma_cross", fast=2.5)
    with pytest.raises(StrategyError, match="slow"):
        get_strategy("sma_cross", fast=30, slow=30)
    with pytest.raises(StrategyError, match="알 수 없는 파라미터"):
        get_strategy("rsi", speed=3)
    with pytest.raises(StrategyError, match="비어"):
        get_strategy("sma_cross").signals(frame([]))
    assert get_strategy("sma_cross", fast="5", slow=20).describe() == "sma_cross(fast=5, slow=20)"


def test_sma_cross_signals_on_the_crossing_bars() -> None:
    close = [100] * 5 + [110] * 3 + [90] * 4
    sig = get_strategy("sma_cross", fast=2, slow=4).signals(frame(close))
    # fast (2) overtakes slow (4) at bar 5 (105 > 102.5 after 100 <= 100); bar 8 has
    # fast 100 < slow 105 after 110 > 107.5 at bar 7.
    assert where(sig, BUY) == [5] and where(sig, SELL) == [8]


def test_momentum_buys_when_positive_in_an_uptrend_and_sells_when_negative() -> None:
    close = [100] * 6 + [101, 102, 103, 104, 105] + [100, 95, 90]
    sig = get_strategy("momentum", period=2, trend=4).signals(frame(close))
    # bar 6: momentum 101 - 100 > 0 and 101 above the 4-bar mean 100.25 (first time)
    assert where(sig, BUY) == [6]
    # bar 11: momentum 100 - 104 = -4 after +2 at bar 10
    assert where(sig, SELL) == [11]


def test_disparity_thresholds() -> None:
    close = [100] * 4 + [90, 100, 100, 100, 100, 112]
    sig = get_strategy("disparity", period=4).signals(frame(close))
    # bar 4: 90 / 97.5 = 92.3 < 95 -> buy; bar 9: 112 / 103 = 108.7 > 105 -> sell
    assert where(sig, BUY) == [4] and where(sig, SELL) == [9]


def test_bollinger_touch_and_rebound() -> None:
    close = [100, 101, 100, 101, 100, 101, 90, 95, 96]
    low = list(close)
    low[6] = 89
    sig = get_strategy("bollinger", period=5, k=1.5).signals(frame(close, low=low, high=close))
    # bar 6 drops to 90 (low 89, well under the lower band); bar 7 closes 95 > 90 and above
    # its lower band: a rebound.
    assert where(sig, BUY) == [7]


def test_rsi_needs_the_turn_and_the_volume() -> None:
    close = [100, 99, 98, 97, 96, 95, 94, 96]
    quiet = [1_000] * 8
    loud = [1_000] * 7 + [3_000]
    s = get_strategy("rsi", period=3, volume_period=3)
    assert where(s.signals(frame(close, volume=loud)), BUY) == [7]
    assert where(s.signals(frame(close, volume=quiet)), BUY) == []  # volume filter
    # 1.5 x WMA(1000,1000,1000) = 1,500: exactly at the line is not above it.
    edge = [1_000] * 7 + [1_500]
    assert where(s.signals(frame(close, volume=edge)), BUY) == []


def test_chaikin_zero_line_cross() -> None:
    close = [100] * 12 + [101, 102, 103]
    # Flat bars close mid-range (A/D adds 0, oscillator 0); from bar 12 each bar closes at
    # its high, A/D rises and the fast EMA pulls above the slow one: a cross above 0.
    high = [c + 2 for c in close[:12]] + close[12:]
    low = [c - 2 for c in close]
    sig = get_strategy("chaikin").signals(frame(close, high=high, low=low))
    assert where(sig, BUY) == [12]


def test_mean_reversion_z_score() -> None:
    close = [100, 101, 100, 101, 100, 101, 100, 90]
    sig = get_strategy("mean_reversion", window=5, threshold=1.5).signals(frame(close))
    assert where(sig, BUY) == [7]
