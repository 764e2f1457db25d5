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


def test_momentum_trend_filter_holds_back_a_bounce_below_the_average() -> None:
    close = [130] * 4 + [90, 91, 92, 93]
    sig = get_strategy("momentum", period=2, trend=4).signals(frame(close))
    # bar 6: momentum 92 - 90 = +2 > 0, but the close is below its 4-bar mean
    # (130 + 90 + 91 + 92) / 4 = 100.75: no buy. bar 7: momentum 93 - 91 = +2 and the close
    # is above (90 + 91 + 92 + 93) / 4 = 91.5: the first bar where both hold.
    assert where(sig, BUY) == [7]
    # bar 4: momentum 90 - 130 = -40 after 0 at bar 3
    assert where(sig, SELL) == [4]
    # Cut before bar 7: momentum is positive but the trend never agrees.
    assert where(get_strategy("momentum", period=2, trend=4).signals(frame(close[:7])), BUY) == []


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


def test_bollinger_sells_an_upper_band_touch_that_turns_down() -> None:
    close = [100, 99, 100, 99, 100, 99, 110, 105, 104]
    high = list(close)
    high[6] = 111
    sig = get_strategy("bollinger", period=5, k=1.5).signals(frame(close, high=high, low=close))
    # bar 6: bars 2-6 (100 99 100 99 110) mean 101.6, population sigma sqrt(89.2 / 5) = 4.224,
    # upper 101.6 + 1.5 x 4.224 = 107.94 <= high 111: a touch. bar 7: bars 3-7 mean 102.6,
    # sigma sqrt(93.2 / 5) = 4.317, upper 109.08 > close 105 < 110: the turn.
    assert where(sig, SELL) == [7] and where(sig, BUY) == []
    # Touch, then still rising (112 > 110, below its upper band 112.64): no sell.
    up = [*close[:7], 112]
    sig = get_strategy("bollinger", period=5, k=1.5).signals(frame(up, high=high[:8], low=up))
    assert where(sig, SELL) == []


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


# Wilder RSI(3) by hand: the first value at bar 3 is seeded with the mean gain / loss of the
# first three changes, then avg = (2 x avg + change) / 3; RSI = 100 x gain / (gain + loss).
# For closes 100 99 98 97 98 97 96 (changes -1 -1 -1 +1 -1 -1):
#   bar 3: gain 0, loss 1 -> 0;  bar 4: 1/3, 2/3 -> 33.33;  bar 5: 2/9, 7/9 -> 22.22;
#   bar 6: 4/27, 23/27 -> 14.81 (oversold).
FALLING = [100, 99, 98, 97, 98, 97, 96]
LOUD_LAST = [1_000] * 7 + [3_000]  # 3,000 > 1.5 x WMA(1000, 1000, 1000) on bar 7 only


def test_rsi_loud_bar_while_rsi_keeps_falling_is_no_buy() -> None:
    s = get_strategy("rsi", period=3, volume_period=3)
    # bar 7 at 95: gain 8/81, loss 73/81 -> 9.88 < 14.81, still falling: no turn, no buy.
    assert where(s.signals(frame([*FALLING, 95], volume=LOUD_LAST)), BUY) == []
    # The same bars turning up to 97: gain 35/81, loss 46/81 -> 43.21 > 14.81: a buy.
    assert where(s.signals(frame([*FALLING, 97], volume=LOUD_LAST)), BUY) == [7]


def test_rsi_loud_upturn_above_the_oversold_line_is_no_buy() -> None:
    # closes 100 99 98 97 98 99 98 99 (changes -1 -1 -1 +1 +1 -1 +1): RSI 0, 33.33,
    # 55.56 (gain 5/9, loss 4/9), 37.04 (10/27, 17/27), 58.02 (47/81, 34/81) at bars 3-7.
    close = [100, 99, 98, 97, 98, 99, 98, 99]
    bars = frame(close, volume=LOUD_LAST)
    # bar 7 turns up on loud volume, but from 37.04, not below 30: no buy.
    assert where(get_strategy("rsi", period=3, volume_period=3).signals(bars), BUY) == []
    # With the line at 40 the same turn is from oversold: a buy.
    s = get_strategy("rsi", period=3, volume_period=3, oversold=40)
    assert where(s.signals(bars), BUY) == [7]


def test_rsi_sells_an_overbought_turn_down_on_loud_volume() -> None:
    # The mirror image: changes +1 +1 +1 -1 +1 +1 -1 give RSI 100, 66.67, 77.78, 85.19,
    # 56.79 at bars 3-7 (100 minus the falling series' values).
    close = [100, 101, 102, 103, 102, 103, 104, 103]
    loud = [1_000] * 4 + [3_000] + [1_000] * 2 + [3_000]
    s = get_strategy("rsi", period=3, volume_period=3)
    sig = s.signals(frame(close, volume=loud))
    # bar 4: from 100 (> 70) down to 66.67, volume 3,000 > 1,500. bar 7: from 85.19 down to
    # 56.79, volume 3,000 > 1.5 x WMA(3000, 1000, 1000) = 1.5 x 8000 / 6 = 2,000.
    assert where(sig, SELL) == [4, 7] and where(sig, BUY) == []
    # bar 6 is loud too, but RSI rises there (77.78 -> 85.19) while overbought: no sell.
    rising = [1_000] * 6 + [3_000, 1_000]
    assert where(s.signals(frame(close, volume=rising)), SELL) == []
    # Quiet volume: the same turns are no sells (the volume filter applies to sells too).
    assert where(s.signals(frame(close)), SELL) == []


def test_chaikin_zero_line_cross() -> None:
    close = [100] * 12 + [101, 102, 103]
    # Flat bars close mid-range (A/D adds 0, oscillator 0); from bar 12 each bar closes at
    # its high, A/D rises and the fast EMA pulls above the slow one: a cross above 0.
    high = [c + 2 for c in close[:12]] + close[12:]
    low = [c - 2 for c in close]
    sig = get_strategy("chaikin").signals(frame(close, high=high, low=low))
    assert where(sig, BUY) == [12]


def test_chaikin_sells_on_the_cross_below_zero() -> None:
    close = [100] * 12 + [99, 98, 97]
    # The mirror image: from bar 12 each bar closes at its low, the multiplier is
    # (0 - 2) / 2 = -1, A/D falls 1,000 a bar; at bar 12 EMA3 = -500 and
    # EMA10 = -1000 x 2 / 11 = -181.8: the oscillator goes from 0 to -318.2.
    high = [c + 2 for c in close]
    low = [c - 2 for c in close[:12]] + close[12:]
    sig = get_strategy("chaikin").signals(frame(close, high=high, low=low))
    assert where(sig, SELL) == [12] and where(sig, BUY) == []


def test_mean_reversion_z_score() -> None:
    close = [100, 101, 100, 101, 100, 101, 100, 90]
    sig = get_strategy("mean_reversion", window=5, threshold=1.5).signals(frame(close))
    assert where(sig, BUY) == [7]


def test_mean_reversion_sells_above_the_upper_threshold() -> None:
    close = [100, 101, 100, 101, 100, 101, 100, 110]
    sig = get_strategy("mean_reversion", window=5, threshold=1.5).signals(frame(close))
    # bar 6: z = (100 - 100.4) / sqrt(1.2 / 4) = -0.73. bar 7: bars 3-7 mean 102.4, sample
    # sigma sqrt(73.2 / 4) = 4.278, z = 7.6 / 4.278 = 1.78 > 1.5.
    assert where(sig, SELL) == [7] and where(sig, BUY) == []
