"""Server-backed bars: the disk cache (unit, with a fake chart client) and the command line
against the real simulator (a subprocess on free ports)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from kiwoom_terminal import krx
from kiwoom_terminal.backtest.cli import main
from kiwoom_terminal.backtest.data import BacktestError
from kiwoom_terminal.backtest.server import BarCache, ServerSource, bars_to_frame
from kiwoom_terminal.backtest.synthetic import random_walk_bars
from kiwoom_terminal.constants import Mode
from kiwoom_terminal.objects import BarData

TODAY = dt.date(2025, 6, 30)


class FakeCharts:
    """Serves a fixed daily history newest first, like ka10081, and counts requests."""

    def __init__(self) -> None:
        frame = random_walk_bars(200, seed=4, interval="day", start="2024-09-02")
        self.rows = [
            BarData("005930", t.to_pydatetime(), *map(int, r))
            for t, r in zip(frame.index, frame.itertuples(index=False))
        ][::-1]
        self.calls: list[tuple[dt.date | None, int]] = []

    def daily_bars(self, code: str, *, end_date=None, max_rows=600) -> list[BarData]:
        self.calls.append((end_date, max_rows))
        rows = [r for r in self.rows if end_date is None or r.time.date() <= end_date]
        return rows[:max_rows]

    def minute_bars(self, code, *, minutes=1, end_date=None, max_rows=900):
        raise AssertionError("not used")


def source(tmp_path: Path, charts: FakeCharts, today: dt.date = TODAY) -> ServerSource:
    return ServerSource(charts, Mode.MOCK, BarCache(tmp_path), today=lambda: today)


def test_a_past_range_is_fetched_once_then_read_from_disk(tmp_path: Path) -> None:
    charts = FakeCharts()
    first = source(tmp_path, charts).load(
        "005930", dt.date(2025, 1, 1), dt.date(2025, 3, 31), "day"
    )
    assert len(charts.calls) == 1
    assert charts.calls[0][0] == dt.date(2025, 3, 31) and charts.calls[0][1] >= 64
    assert first.index[0] >= pd.Timestamp("2025-01-01") and first.index[-1] <= pd.Timestamp(
        "2025-03-31"
    )
    again = source(tmp_path, charts).load(
        "005930", dt.date(2025, 2, 1), dt.date(2025, 3, 15), "day"
    )
    assert len(charts.calls) == 1  # served from the cache file
    pd.testing.assert_frame_equal(again, first.loc["2025-02-01":"2025-03-15"])
    assert (tmp_path / "mock" / "005930_day.pkl").exists()


def test_ranges_reaching_today_or_beyond_the_cache_are_fetched(tmp_path: Path) -> None:
    charts = FakeCharts()
    src = source(tmp_path, charts)
    src.load("005930", dt.date(2025, 1, 1), dt.date(2025, 3, 31), "day")
    src.load("005930", dt.date(2025, 3, 1), TODAY, "day")  # includes today: never from disk
    src.load("005930", dt.date(2025, 3, 1), TODAY, "day")
    assert len(charts.calls) == 3
    # The overlapping ranges merged: Jan..yesterday is now covered.
    src.load("005930", dt.date(2025, 1, 2), dt.date(2025, 6, 27), "day")
    assert len(charts.calls) == 3
    entry = BarCache(tmp_path).read(Mode.MOCK, "005930", "day")
    assert (
        entry is not None
        and entry[1] == dt.date(2025, 1, 1)
        and entry[2] == TODAY - dt.timedelta(days=1)
    )


def test_damaged_cache_file_is_ignored(tmp_path: Path) -> None:
    charts = FakeCharts()
    path = tmp_path / "mock" / "005930_day.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    frame = source(tmp_path, charts).load("005930", dt.date(2025, 1, 1), dt.date(2025, 2, 1), "day")
    assert len(frame) > 10 and len(charts.calls) == 1


def test_server_errors_become_backtest_errors(tmp_path: Path) -> None:
    from kiwoom_terminal.api.errors import RequestError

    class Broken(FakeCharts):
        def daily_bars(self, code, *, end_date=None, max_rows=600):
            raise RequestError("종목코드가 잘못되었습니다")

    with pytest.raises(BacktestError, match="서버에서 봉 데이터를 받지 못했습니다"):
        source(tmp_path, Broken()).load("99999X", dt.date(2025, 1, 1), dt.date(2025, 2, 1), "day")


def test_bars_to_frame_sorts_and_types() -> None:
    rows = [
        BarData("1", dt.datetime(2025, 1, 3), 3, 3, 3, 3, 1),
        BarData("1", dt.datetime(2025, 1, 2), 2, 2, 2, 2, 1),
    ]
    frame = bars_to_frame(rows)
    assert frame["close"].tolist() == [2, 3] and str(frame["close"].dtype) == "int64"
    assert bars_to_frame([]).empty


def test_cli_against_the_simulator_then_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    end = krx.previous_business_day(krx.now_kst().date()) - dt.timedelta(days=7)
    start = end - dt.timedelta(days=200)
    args = [
        "--strategy",
        "sma_cross",
        "--param",
        "fast=5",
        "--param",
        "slow=20",
        "--codes",
        "005930,000660",
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
        "--mode",
        "sim",
        "--trades",
    ]
    assert main(args) == 0
    first = capsys.readouterr()
    assert "거래 수 (trades):" in first.out, first.err
    cached = sorted(p.name for p in (tmp_path / "cache").rglob("*_day.pkl"))
    assert cached == ["000660_day.pkl", "005930_day.pkl"]

    import kiwoom_terminal.sim.launcher as launcher

    def no_simulator(*args: object, **kwargs: object) -> None:
        raise AssertionError("the second run must be served from the cache")

    monkeypatch.setattr(launcher, "start_simulator", no_simulator)
    assert main(args) == 0
    assert capsys.readouterr().out == first.out
