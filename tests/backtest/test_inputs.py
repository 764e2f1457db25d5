"""Bad and awkward input gives clear messages; CSV files, several codes, the statistics."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kiwoom_terminal.backtest import (
    BacktestConfig,
    BacktestError,
    CsvSource,
    FrameSource,
    compute_stats,
    prepare_bars,
    run_backtest,
)
from kiwoom_terminal.strategies.base import get_strategy

from .helpers import FixedSignals, bars_from

DATA = Path(__file__).resolve().parent.parent / "data" / "backtest"
SMA = get_strategy("sma_cross")


def test_fixture_csvs_run_for_several_codes() -> None:
    result = run_backtest(
        CsvSource(DATA),
        ["005930", "000660"],
        SMA,
        start=dt.date(2024, 1, 1),
        end=dt.date(2024, 12, 31),
    )
    assert result.codes == ("005930", "000660")
    assert set(result.trades["code"]) <= {"005930", "000660"} and len(result.trades) > 0
    s = result.stats
    assert s.initial_equity == 20_000_000 and s.trades == len(result.trades)
    assert s.final_equity == pytest.approx(20_000_000 + result.trades["pnl"].sum(), abs=1)
    # The combined curve is the sum of the per-code curves.
    per_code = sum(r.equity for r in result.per_code.values())
    assert np.allclose(result.equity.to_numpy(), per_code.to_numpy())
    assert result.drawdown.max() == 0 and result.drawdown.min() * 100 == pytest.approx(
        s.max_drawdown_pct
    )


def test_date_range_is_applied() -> None:
    result = run_backtest(
        CsvSource(DATA), ["005930"], SMA, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31)
    )
    assert result.equity.index[0] >= pd.Timestamp("2024-03-01")
    assert result.equity.index[-1] <= pd.Timestamp("2024-03-31")
    assert any("첫 신호에 필요한" in w for w in result.warnings)  # 21 bars < 31


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": dt.date(2030, 1, 1), "end": dt.date(2030, 2, 1)}, "봉이 하나도 없습니다"),
        ({"start": dt.date(2024, 5, 1), "end": dt.date(2024, 4, 1)}, "늦습니다"),
        ({"interval": "2"}, "봉 주기 '2'"),
    ],
)
def test_bad_ranges_and_intervals(kwargs: dict, message: str) -> None:
    with pytest.raises(BacktestError, match=message):
        run_backtest(CsvSource(DATA), ["005930"], SMA, **kwargs)


def test_unknown_code_and_missing_files() -> None:
    with pytest.raises(BacktestError, match="035720.csv"):
        run_backtest(CsvSource(DATA), ["035720"], SMA)
    with pytest.raises(BacktestError, match="CSV 경로가 없습니다"):
        CsvSource(DATA / "nope")
    with pytest.raises(BacktestError, match="가진 종목"):
        run_backtest(FrameSource({}), ["005930"], SMA)
    with pytest.raises(BacktestError, match="종목코드"):
        run_backtest(FrameSource({}), [" "], SMA)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["volume"]), "volume 열이 없습니다"),
        (
            lambda f: f.assign(close=f["close"].astype("float").where(f.index != f.index[2])),
            "비었거나 숫자가 아닌",
        ),
        (lambda f: f.assign(high=f["low"] - 10), "잘못되었습니다"),
        (lambda f: f.assign(low=0), "잘못되었습니다"),
        (lambda f: f.assign(close=f["close"] + 0.5), "정수가 아닙니다"),
        (lambda f: pd.concat([f, f.iloc[[1]]]), "두 번"),
    ],
)
def test_broken_bars_name_the_problem(change, message: str) -> None:
    frame = change(bars_from([(10_000, 10_100, 9_900, 10_000)] * 5))
    with pytest.raises(BacktestError, match=message):
        prepare_bars(frame, "005930", "day")


def test_gaps_are_warnings_and_unsorted_bars_are_sorted() -> None:
    frame = bars_from([(10_000, 10_100, 9_900, 10_000)] * 30)
    gappy = frame.drop(frame.index[10:14])
    bars, warnings = prepare_bars(gappy.iloc[::-1], "005930", "day")
    assert bars.index.is_monotonic_increasing and len(bars) == 26
    assert len(warnings) == 1 and "4일" in warnings[0]
    minutes = bars_from([(10_000, 10_100, 9_900, 10_000)] * 60, freq="min")
    _, warnings = prepare_bars(minutes.drop(minutes.index[10:50]), "005930", "1")
    assert "30분" in warnings[0]


def test_csv_with_another_time_column_and_a_single_file(tmp_path: Path) -> None:
    frame = bars_from([(c, c + 100, c - 100, c) for c in range(10_000, 10_400, 10)])
    path = tmp_path / "bars.csv"
    frame.rename_axis("Date").reset_index().to_csv(path, index=False)
    result = run_backtest(CsvSource(path), ["ANY"], FixedSignals(buys=[1]))
    assert len(result.trades) == 1 and result.trades.iloc[0]["entry_bar"] == 2
    (tmp_path / "bad.csv").write_text("time,open\nyesterday,1\n", encoding="utf-8")
    with pytest.raises(BacktestError, match="날짜"):
        run_backtest(CsvSource(tmp_path / "bad.csv"), ["X"], SMA)


def test_stats_by_hand() -> None:
    idx = pd.date_range("2024-01-01", periods=4, freq="D")
    equity = pd.Series([100.0, 110.0, 99.0, 120.0], index=idx)
    trades = pd.DataFrame(
        {"pnl": [30, -10, -5], "return_pct": [3.0, -1.0, -0.5], "fees": [1, 1, 1]}
    )
    s = compute_stats(equity, trades, 100, exposure=0.5)
    assert s.total_return_pct == pytest.approx(20.0)
    assert s.max_drawdown_pct == pytest.approx(-10.0)  # 99 / 110 − 1
    assert s.profit_factor == pytest.approx(2.0) and s.win_rate_pct == pytest.approx(100 / 3)
    assert s.avg_trade_pct == pytest.approx(0.5) and s.best_trade_pct == 3.0
    assert s.exposure_pct == 50.0 and s.fees_and_tax == 3 and s.trades == 3
    assert math.isnan(s.annual_return_pct)  # under 30 days
    rets = np.array([0.1, -0.1, 120 / 99 - 1])
    assert s.sharpe == pytest.approx(rets.mean() / rets.std(ddof=1) * math.sqrt(252))
    empty = compute_stats(equity, trades.iloc[:0], 100, exposure=0.0)
    assert empty.trades == 0 and math.isnan(empty.profit_factor)
    assert any(line.startswith("총수익률 (total_return_pct): 20.00 %") for line in s.lines())


def _curve(start: str, end: str, first: float, last: float) -> pd.Series:
    """Daily equity growing at a constant rate from `first` on `start` to `last` on `end`."""
    idx = pd.date_range(start, end, freq="D")
    return pd.Series(first * (last / first) ** np.linspace(0, 1, len(idx)), index=idx)


@pytest.mark.parametrize(
    ("start", "end", "last", "expected"),
    [
        # 365 days is 365 / 365.25 of a year: 1.21 ^ (365.25 / 365) - 1 = 21.0158 %, not 21.
        ("2025-01-01", "2026-01-01", 121.0, 21.0158),
        # 730 days: 1.21 ^ (365.25 / 730) = 1.1 ^ (730.5 / 730) - 1 = 10.0072 %.
        ("2025-01-01", "2027-01-01", 121.0, 10.0072),
        # 2024 is a leap year, 731 days: 1.1 ^ (730.5 / 731) - 1 = 9.9928 %.
        ("2024-01-01", "2026-01-01", 121.0, 9.9928),
        # Four calendar years are 1,461 days = 4 x 365.25 exactly: 1.1 ^ 4 = 1.4641 -> 10 %.
        ("2024-01-01", "2028-01-01", 146.41, 10.0),
    ],
)
def test_annual_return_compounds_over_the_calendar_span(
    start: str, end: str, last: float, expected: float
) -> None:
    """Annual return = (final / initial) ^ (365.25 / calendar days from the first to the last
    bar) - 1: the number of bars does not matter, only the span."""
    equity = _curve(start, end, 100.0, last)
    s = compute_stats(equity, pd.DataFrame(), 100, exposure=1.0)
    assert s.total_return_pct == pytest.approx((last / 100 - 1) * 100)
    assert s.annual_return_pct == pytest.approx(expected, abs=5e-5)
    weekly = equity.iloc[sorted({*range(0, len(equity), 7), len(equity) - 1})]
    assert len(weekly) < len(equity)  # fewer bars, same span: the same figure
    again = compute_stats(weekly, pd.DataFrame(), 100, exposure=1.0)
    assert again.annual_return_pct == pytest.approx(expected, abs=5e-5)


def test_annual_return_needs_30_days() -> None:
    short = _curve("2025-01-01", "2025-01-30", 100.0, 101.0)  # a 29-day span
    assert math.isnan(compute_stats(short, pd.DataFrame(), 100, 1.0).annual_return_pct)
    month = compute_stats(
        _curve("2025-01-01", "2025-01-31", 100.0, 101.0), pd.DataFrame(), 100, 1.0
    )
    assert month.annual_return_pct == pytest.approx((1.01 ** (365.25 / 30) - 1) * 100)


def test_config_from_settings() -> None:
    from kiwoom_terminal.settings import AppSettings, BacktestSettings

    cfg = BacktestConfig.from_settings(
        AppSettings(
            backtest=BacktestSettings(exit_fill="close", slippage_ticks=2, apply_exit_rules=False)
        )
    )
    assert cfg.fill.exit == "close" and cfg.fill.slippage_ticks == 2
    assert cfg.exit_rules.stop_loss_pct is None and cfg.exit_rules.trailing_arm_pct is None
    with pytest.raises(BacktestError, match="next_open"):
        BacktestConfig.from_settings(AppSettings(backtest=BacktestSettings(entry_fill="later")))
