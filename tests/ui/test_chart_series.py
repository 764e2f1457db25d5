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
