"""Indicators against hand-checked small series and slow explicit-loop references."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

from kiwoom_terminal.strategies import indicators as ind


def s(values) -> pd.Series:
    return pd.Series(values, dtype="float64")


def assert_series(actual: pd.Series, expected: list[float], tol: float = 1e-9) -> None:
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual.tolist(), expected)):
        if e is None or (isinstance(e, float) and math.isnan(e)):
            assert math.isnan(a), (i, a)
        else:
            assert a == pytest.approx(e, abs=tol), (i, a, e)


# --- slow references, written from the textbook definitions ------------------------------


def ref_ema(x: list[float], n: int) -> list[float]:
    alpha, out = 2 / (n + 1), []
    for v in x:
        out.append(v if not out else out[-1] + alpha * (v - out[-1]))
    return out


def ref_rsi(close: list[float], n: int) -> list[float | None]:
    out: list[float | None] = [None] * len(close)
    gains = [max(close[i] - close[i - 1], 0) for i in range(1, len(close))]
    losses = [max(close[i - 1] - close[i], 0) for i in range(1, len(close))]
    avg_g = avg_l = 0.0
    for i in range(len(gains)):
        if i < n - 1:
            continue
        if i == n - 1:
            avg_g, avg_l = sum(gains[:n]) / n, sum(losses[:n]) / n
        else:
            avg_g = (avg_g * (n - 1) + gains[i]) / n
            avg_l = (avg_l * (n - 1) + losses[i]) / n
        if avg_l == 0:
            out[i + 1] = 100.0 if avg_g > 0 else 50.0
        else:
            out[i + 1] = 100 - 100 / (1 + avg_g / avg_l)
    return out


def ref_window(x: list[float], n: int, fn) -> list[float | None]:
    return [None if i < n - 1 else fn(x[i - n + 1 : i + 1]) for i in range(len(x))]


def mean(w):
    return sum(w) / len(w)


def pstd(w):
    m = mean(w)
    return math.sqrt(sum((v - m) ** 2 for v in w) / len(w))


def sstd(w):
    m = mean(w)
    return math.sqrt(sum((v - m) ** 2 for v in w) / (len(w) - 1))


def ref_wma(w):
    return sum((k + 1) * v for k, v in enumerate(w)) / (len(w) * (len(w) + 1) / 2)


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    rng = random.Random(5)
    close, rows = 10_000.0, []
    for _ in range(300):
        close = max(1_000.0, close + rng.choice((-50, -20, -10, 0, 10, 20, 50)))
        high = close + rng.choice((0, 10, 30))
        low = close - rng.choice((0, 10, 30))
        rows.append((close, high, low, close, float(rng.randint(100, 5_000))))
    return pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"])


# --- hand-checked --------------------------------------------------------------------------


def test_sma_ema_wma_by_hand() -> None:
    assert_series(ind.sma(s([1, 2, 3, 4, 5]), 3), [None, None, 2, 3, 4])
    assert_series(ind.ema(s([2, 4, 6]), 3), [2, 3, 4.5])  # alpha 0.5
    assert_series(ind.wma(s([1, 2, 3, 6]), 3), [None, None, 14 / 6, 26 / 6])


def test_wilder_rsi_by_hand() -> None:
    # Deltas +1 +1 -1 +1 with n=2: gains 1,1,0,1 / losses 0,0,1,0.
    # avg after 2 deltas 1/0 -> 100; then (1+0)/2=0.5 vs 0.5 -> 50; (0.5+1)/2=0.75 vs 0.25 -> 75.
    assert_series(ind.rsi(s([10, 11, 12, 11, 12]), 2), [None, None, 100, 50, 75])
    assert_series(ind.rsi(s([5, 5, 5, 5]), 2), [None, None, 50, 50])


def test_momentum_disparity_bollinger_zscore_by_hand() -> None:
    assert_series(ind.momentum(s([10, 12, 15, 11]), 2), [None, None, 5, -1])
    assert_series(ind.disparity(s([100, 100, 100, 95]), 4), [None, None, None, 95 / 98.75 * 100])
    mid, up, lo = ind.bollinger(s([1, 2, 3, 4]), 4, 2.0)
    sigma = math.sqrt(1.25)
    assert_series(mid, [None, None, None, 2.5])
    assert_series(up, [None, None, None, 2.5 + 2 * sigma])
    assert_series(lo, [None, None, None, 2.5 - 2 * sigma])
    assert_series(ind.zscore(s([1, 2, 3]), 3), [None, None, 1.0])


def test_accumulation_distribution_and_chaikin_by_hand() -> None:
    high, low = s([12, 12, 10]), s([10, 10, 10])
    close, vol = s([12, 10, 10]), s([100, 50, 70])
    # multipliers +1, -1, and 0 for the bar with high == low.
    assert_series(ind.accumulation_distribution(high, low, close, vol), [100, 50, 50])
    osc = ind.chaikin_oscillator(high, low, close, vol, fast=1, slow=2)
    # ema1 = ad; ema2 (alpha 2/3): 100, 66.67, 55.56 -> osc NaN (warm-up), -16.67, -5.56
    assert_series(osc, [None, 50 - 200 / 3, 50 - (200 / 3 + (50 - 200 / 3) * 2 / 3)])


def test_crosses() -> None:
    a, b = s([1, 2, 3, 2, 1]), s([2, 2, 2, 2, 2])
    assert ind.crossed_above(a, b).tolist() == [False, False, True, False, False]
    assert ind.crossed_below(a, b).tolist() == [False, False, False, False, True]
    assert ind.crossed_above(a, 2.5).tolist() == [False, False, True, False, False]
    assert ind.became_true(s([0, 1, 1, 0, 1]) > 0).tolist() == [False, True, False, False, True]


# --- against the loop references on 300 random bars ---------------------------------------


def test_against_loop_references(bars: pd.DataFrame) -> None:
    close = bars["close"].tolist()
    assert_series(ind.ema(bars["close"], 10), ref_ema(close, 10), 1e-6)
    assert_series(ind.rsi(bars["close"], 14), ref_rsi(close, 14), 1e-8)
    assert_series(ind.sma(bars["close"], 20), ref_window(close, 20, mean), 1e-6)
    assert_series(
        ind.wma(bars["volume"], 20), ref_window(bars["volume"].tolist(), 20, ref_wma), 1e-6
    )
    _, up, lo = ind.bollinger(bars["close"], 20, 2.0)
    ref_up = [
        None if m is None else m + 2 * sd
        for m, sd in zip(ref_window(close, 20, mean), ref_window(close, 20, pstd))
    ]
    assert_series(up, ref_up, 1e-6)
    z = [
        None if i < 19 else (close[i] - mean(close[i - 19 : i + 1])) / sstd(close[i - 19 : i + 1])
        for i in range(len(close))
    ]
    ref_z = [None if v is None or math.isinf(v) else v for v in z]
    got = ind.zscore(bars["close"], 20)
    for g, r in zip(got.tolist(), ref_z):
        if r is not None and not math.isnan(g):
            assert g == pytest.approx(r, abs=1e-8)
    h, lows, c, v = (bars[k].tolist() for k in ("high", "low", "close", "volume"))
    ad, acc = [], 0.0
    for hi, lo_, cl, vo in zip(h, lows, c, v):
        acc += 0.0 if hi == lo_ else ((cl - lo_) - (hi - cl)) / (hi - lo_) * vo
        ad.append(acc)
    osc = [f - sl for f, sl in zip(ref_ema(ad, 3), ref_ema(ad, 10))]
    osc[:9] = [None] * 9
    assert_series(
        ind.chaikin_oscillator(bars["high"], bars["low"], bars["close"], bars["volume"]), osc, 1e-4
    )


def test_rsi_stays_in_range_and_warm_up_is_nan(bars: pd.DataFrame) -> None:
    r = ind.rsi(bars["close"], 14)
    assert r.iloc[:14].isna().all() and r.iloc[14:].notna().all()
    assert ((r.iloc[14:] >= 0) & (r.iloc[14:] <= 100)).all()
    assert np.isnan(ind.wilder(s([1, 2]), 5)).all()
