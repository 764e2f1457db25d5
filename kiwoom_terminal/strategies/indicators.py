"""Vectorised technical indicators on pandas Series (one value per bar, NaN during warm-up).

Definitions, so results can be checked by hand:

- `sma(x, n)`: mean of the last n values.
- `ema(x, n)`: exponential average with α = 2 / (n + 1), seeded with the first value
  (y₀ = x₀, yₜ = yₜ₋₁ + α (xₜ − yₜ₋₁)).
- `wilder(x, n)`: Wilder's smoothing, α = 1 / n, seeded with the mean of the first n values.
- `wma(x, n)`: linearly weighted average of the last n values, weights 1…n (newest heaviest).
- `rsi(close, n)`: Wilder's RSI, 100 − 100 / (1 + avg gain / avg loss) with both averages
  smoothed by `wilder`; 100 when there were no losses, 50 when the price did not move.
- `momentum(close, n)`: close − close n bars ago.
- `disparity(close, n)`: 이격도, close / sma(close, n) × 100.
- `bollinger(close, n, k)`: middle = sma, bands = middle ± k × population σ (ddof 0), as
  Bollinger defined them.
- `accumulation_distribution`: running sum of ((C − L) − (H − C)) / (H − L) × volume; a bar
  with H = L adds 0.
- `chaikin_oscillator`: ema(A/D, 3) − ema(A/D, 10).
- `zscore(close, n)`: (close − sma) / sample σ (ddof 1) over n bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def sma(values: pd.Series, n: int) -> pd.Series:
    """Simple moving average over `n` bars.

    Integer series (prices, volumes) are summed exactly in int64, so each average is the
    correctly rounded quotient with no drift over long histories; float series use pandas'
    rolling mean.
    """
    x = values.to_numpy()
    if x.dtype.kind in "iu" and len(x) and max(int(x.max()), -int(x.min())) * n < 2**62:
        x = x.astype("int64", copy=False)
        out = np.full(len(x), np.nan)
        if len(x) >= n:
            sums = np.cumsum(x)
            window = sums[n - 1 :].copy()
            window[1:] -= sums[: len(x) - n]
            out[n - 1 :] = window / n
        return pd.Series(out, index=values.index)
    return values.rolling(n, min_periods=n).mean()


def ema(values: pd.Series, n: int) -> pd.Series:
    """Exponential moving average, α = 2/(n+1), seeded with the first value."""
    return values.astype("float64").ewm(span=n, adjust=False).mean()


def wilder(values: pd.Series, n: int) -> pd.Series:
    """Wilder's smoothing (RMA): the mean of the first `n` valid values, then
    yₜ = yₜ₋₁ + (xₜ − yₜ₋₁) / n. NaN before the n-th valid value."""
    x = values.astype("float64")
    valid = x.notna().to_numpy()
    first = int(np.argmax(valid)) if valid.any() else len(x)
    seed_at = first + n - 1
    out = pd.Series(np.nan, index=x.index)
    if seed_at >= len(x):
        return out
    seeded = x.copy()
    seeded.iloc[:seed_at] = np.nan
    seeded.iloc[seed_at] = x.iloc[first : seed_at + 1].mean()
    return seeded.ewm(alpha=1 / n, adjust=False).mean()


def wma(values: pd.Series, n: int) -> pd.Series:
    """Linearly weighted moving average over `n` bars, the newest bar weighted n."""
    x = values.to_numpy(dtype="float64")
    out = np.full(len(x), np.nan)
    if len(x) >= n:
        weights = np.arange(1, n + 1, dtype="float64")
        out[n - 1 :] = np.convolve(x, weights[::-1], mode="valid") / weights.sum()
    return pd.Series(out, index=values.index)


def rsi(close: pd.Series, n: int = 14) -> pd.Series:
    """Wilder's relative strength index (0–100)."""
    delta = close.astype("float64").diff()
    gain = wilder(delta.clip(lower=0), n)
    loss = wilder((-delta).clip(lower=0), n)
    rs = gain / loss
    out = 100 - 100 / (1 + rs)
    out = out.mask((loss == 0) & (gain > 0), 100.0)
    return out.mask((loss == 0) & (gain == 0), 50.0)


def momentum(close: pd.Series, n: int) -> pd.Series:
    """Close minus the close `n` bars earlier."""
    return close.astype("float64") - close.shift(n)


def disparity(close: pd.Series, n: int) -> pd.Series:
    """이격도: close as a percentage of its `n`-bar moving average (100 = on the average)."""
    return close / sma(close, n) * 100


def bollinger(
    close: pd.Series, n: int = 20, k: float = 2.0
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(middle, upper, lower) Bollinger bands with population standard deviation."""
    x = close.astype("float64")
    middle = sma(x, n)
    sigma = x.rolling(n, min_periods=n).std(ddof=0)
    return middle, middle + k * sigma, middle - k * sigma


def accumulation_distribution(
    high: pd.Series, low: pd.Series, close: pd.Series, volume: pd.Series
) -> pd.Series:
    """Chaikin's accumulation/distribution line."""
    h, lo, c = (s.astype("float64") for s in (high, low, close))
    span = h - lo
    multiplier = ((c - lo) - (h - c)) / span.where(span != 0)
    return (multiplier.fillna(0.0) * volume.astype("float64")).cumsum()


def chaikin_oscillator(
    high: pd.Series,
    low: pd.Series,
    close: pd.Series,
    volume: pd.Series,
    fast: int = 3,
    slow: int = 10,
) -> pd.Series:
    """EMA(fast) − EMA(slow) of the A/D line; NaN for the first `slow` − 1 bars."""
    ad = accumulation_distribution(high, low, close, volume)
    osc = ema(ad, fast) - ema(ad, slow)
    osc.iloc[: slow - 1] = np.nan
    return osc


def zscore(close: pd.Series, n: int) -> pd.Series:
    """How many sample standard deviations the close is from its `n`-bar mean."""
    x = close.astype("float64")
    return (x - sma(x, n)) / x.rolling(n, min_periods=n).std(ddof=1)


def _values(x: pd.Series | float) -> np.ndarray | float:
    return x.to_numpy(dtype="float64") if isinstance(x, pd.Series) else float(x)


def _previous(x: np.ndarray | float) -> np.ndarray | float:
    if isinstance(x, float):
        return x
    prev = np.empty_like(x)
    prev[0] = np.nan
    prev[1:] = x[:-1]
    return prev


def crossed_above(a: pd.Series, b: pd.Series | float) -> pd.Series:
    """True on the bar where `a` goes from ≤ `b` to > `b` (False where either is NaN)."""
    av, bv = _values(a), _values(b)
    assert isinstance(av, np.ndarray)
    return pd.Series((av > bv) & (_previous(av) <= _previous(bv)), index=a.index)


def crossed_below(a: pd.Series, b: pd.Series | float) -> pd.Series:
    """True on the bar where `a` goes from ≥ `b` to < `b` (False where either is NaN)."""
    av, bv = _values(a), _values(b)
    assert isinstance(av, np.ndarray)
    return pd.Series((av < bv) & (_previous(av) >= _previous(bv)), index=a.index)


def became_true(condition: pd.Series) -> pd.Series:
    """True on the bar where `condition` turns from False (or unknown) to True."""
    cond = condition.fillna(False).astype(bool)
    return cond & ~cond.shift(1, fill_value=False)
