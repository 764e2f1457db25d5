"""BarSeries on its own (no Qt): loading, folding tick batches, finding bars by time."""

import datetime as dt

import pandas as pd

from ui.chart import BarSeries

T0 = dt.datetime(2025, 3, 4, 9, 0)


def series() -> BarSeries:
    s = BarSeries()
    index = pd.DatetimeIndex([T0, T0 + dt.timedelta(minutes=1), T0])  # unsorted, duplicate
    s.load(
        pd.DataFrame(
            {
                "open": [1.0, 2, 9],
                "high": [1.0, 3, 9],
                "low": [1.0, 1, 9],
                "close": [1.0, 2, 9],
                "volume": [10.0, 20, 90],
            },
            index=index,
        )
    )
    return s


def test_load_sorts_and_keeps_the_last_duplicate() -> None:
    s = series()
    assert len(s) == 2
    assert list(s.close) == [9.0, 2.0]
    assert s.time_at(1) == T0 + dt.timedelta(minutes=1)


def test_fold_update_append_stale() -> None:
    s = series()
    minute = T0 + dt.timedelta(minutes=1)
    assert s.apply_tick(minute, 4, 5, 1, cum_volume=1_000) == "update"
    assert (s.high[-1], s.low[-1], s.close[-1], s.volume[-1]) == (5, 1, 4, 20)
    assert s.apply_tick(minute, 4, 4, 4, cum_volume=1_050) == "update"
    assert s.volume[-1] == 70
    assert s.apply_tick(minute + dt.timedelta(minutes=1), 6, 6, 6, cum_volume=1_060) == "append"
    assert (len(s), s.open[-1], s.volume[-1]) == (3, 6, 10)
    assert s.apply_tick(T0, 1, 1, 1, cum_volume=1) == "stale"
    assert len(s) == 3


def test_index_at_finds_the_bar_containing_a_moment() -> None:
    s = series()
    assert s.index_at(T0 + dt.timedelta(seconds=59)) == 0
    assert s.index_at(T0 + dt.timedelta(minutes=5)) == 1
    assert s.index_at(T0 - dt.timedelta(seconds=1)) is None


def test_rolling_mean_and_std_match_pandas() -> None:
    """The chart's averages and Bollinger σ are pandas' rolling figures, NaN in warm-up."""
    import numpy as np
    import pandas as pd

    from ui.chart.series import rolling_mean, rolling_std

    rng = np.random.default_rng(7)
    close = (70_000 + rng.integers(-500, 500, 300).cumsum() * 10).astype(float)
    close[40:60] = 71_000.0  # a flat stretch: σ exactly 0, no negative variance
    series = pd.Series(close)
    for period in (1, 5, 20, 60, 120):
        expected_mean = series.rolling(period).mean().to_numpy()
        expected_std = series.rolling(period).std(ddof=0).to_numpy()
        np.testing.assert_allclose(rolling_mean(close, period), expected_mean, rtol=1e-12)
        np.testing.assert_allclose(rolling_std(close, period), expected_std, atol=1e-6)
        assert np.isnan(rolling_mean(close, period)[: period - 1]).all()
    assert (rolling_std(close, 20)[59:60] == 0).all()
    assert np.isnan(rolling_mean(close[:3], 5)).all() and len(rolling_mean(close[:3], 5)) == 3
