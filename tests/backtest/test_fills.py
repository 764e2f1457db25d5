"""The fill model and accounting of the backtest loop, on hand-built bars."""

from __future__ import annotations

import pytest

from kiwoom_terminal import krx
from kiwoom_terminal.backtest import BacktestConfig, FillModel, run_code
from kiwoom_terminal.backtest.engine import NO_EXIT_RULES
from kiwoom_terminal.decisions import ExitRules

from .helpers import FixedSignals, bars_from

NO_FEES = krx.FeeSchedule(0.0, 0.0)
# Stop-loss -3 % only, so each test controls which rule can act.
SL_ONLY = ExitRules(take_profit_pct=None, trailing_arm_pct=None, protect_trigger_pct=None)


def config(rules=SL_ONLY, entry="next_open", exit="trigger", slip=0, fees=NO_FEES, amount=0):
    return BacktestConfig(
        initial_cash=1_000_000,
        order_amount=amount,
        fill=FillModel(entry, exit, slip),
        exit_rules=rules,
        fees=fees,
    )


def one_trade(bars, strategy, cfg):
    run = run_code("T", bars, strategy, cfg)
    assert len(run.trades) == 1
    return run, run.trades.iloc[0]


def test_entry_next_open_and_stop_at_the_level() -> None:
    bars = bars_from([
        (10_000, 10_000, 10_000, 10_000),  # 0 signal
        (10_000, 10_100, 9_900, 10_000),   # 1 entry at the open 10,000
        (9_900, 9_950, 9_650, 9_800),      # 2 low 9,650 crosses the stop 9,700
        (9_800, 9_800, 9_800, 9_800),
    ])  # fmt: skip
    run, t = one_trade(bars, FixedSignals(buys=[0]), config())
    assert (t.entry_bar, t.entry_price, t.quantity) == (1, 10_000, 100)
    assert (t.exit_bar, t.exit_price, t.reason) == (2, 9_700, "stop_loss")
    assert t.pnl == -30_000 and t.return_pct == pytest.approx(-3.0)
    # Equity: cash 0 + 100 × close while held; back to cash after the exit bar.
    assert run.equity.tolist() == [1_000_000, 1_000_000, 970_000, 970_000]
    assert run.exposure == pytest.approx(0.25)


def test_gap_through_the_stop_fills_at_the_open() -> None:
    bars = bars_from([
        (10_000, 10_000, 10_000, 10_000),
        (10_000, 10_000, 10_000, 10_000),
        (9_500, 9_600, 9_400, 9_500),  # opens below the stop
    ])  # fmt: skip
    _, t = one_trade(bars, FixedSignals(buys=[0]), config())
    assert (t.exit_bar, t.exit_price) == (2, 9_500)


def test_take_profit_fills_at_the_level_or_the_gap_open() -> None:
    rules = ExitRules(
        stop_loss_pct=None, take_profit_pct=5.0, trailing_arm_pct=None, protect_trigger_pct=None
    )
    rows = [(10_000,) * 4, (10_000,) * 4, (10_300, 10_600, 10_200, 10_400)]
    _, t = one_trade(bars_from(rows), FixedSignals(buys=[0]), config(rules))
    assert (t.exit_price, t.reason) == (10_500, "take_profit")
    rows[2] = (10_700, 10_800, 10_600, 10_700)
    _, t = one_trade(bars_from(rows), FixedSignals(buys=[0]), config(rules))
    assert t.exit_price == 10_700


def test_trailing_armed_and_crossed_inside_one_bar_fills_at_the_level() -> None:
    rules = ExitRules(
        stop_loss_pct=None,
        take_profit_pct=None,
        trailing_arm_pct=3.0,
        trailing_drop_pct=2.0,
        protect_trigger_pct=None,
    )
    bars = bars_from([
        (10_000,) * 4,
        (10_000,) * 4,
        (10_000, 10_500, 10_000, 10_200),  # arms at 10,500; close 10,200 <= 10,290
    ])  # fmt: skip
    _, t = one_trade(bars, FixedSignals(buys=[0]), config(rules))
    assert (t.exit_bar, t.exit_price, t.reason) == (2, 10_290, "trailing_stop")


def test_exit_next_open_and_close_models() -> None:
    bars = bars_from([
        (10_000,) * 4,
        (10_000,) * 4,
        (9_900, 9_950, 9_650, 9_800),
        (9_750, 9_800, 9_700, 9_750),
    ])  # fmt: skip
    _, t = one_trade(bars, FixedSignals(buys=[0]), config(exit="next_open"))
    assert (t.exit_bar, t.exit_price) == (3, 9_750)
    _, t = one_trade(bars, FixedSignals(buys=[0]), config(exit="close"))
    assert (t.exit_bar, t.exit_price) == (2, 9_800)


def test_entry_at_the_signal_close_starts_exits_on_the_next_bar() -> None:
    bars = bars_from([
        (10_000, 10_000, 9_000, 10_000),  # entry at this close; its low must not stop it
        (10_000, 10_000, 10_000, 10_000),
    ])  # fmt: skip
    _, t = one_trade(bars, FixedSignals(buys=[0]), config(entry="close"))
    assert (t.entry_bar, t.entry_price, t.reason) == (0, 10_000, "end_of_data")


def test_strategy_sell_signal_and_end_of_data() -> None:
    bars = bars_from([(10_000,) * 4] * 3 + [(10_100, 10_200, 10_000, 10_150)] * 3)
    run = run_code("T", bars, FixedSignals(buys=[0, 4], sells=[3]), config())
    assert run.trades["reason"].tolist() == ["strategy", "end_of_data"]
    assert run.trades["exit_price"].tolist() == [10_150, 10_150]
    assert run.trades["entry_bar"].tolist() == [1, 5]


def test_slippage_and_fees_by_hand() -> None:
    fees = krx.FeeSchedule()  # 0.015 % commission, 0.20 % tax
    bars = bars_from([(10_000,) * 4, (10_000,) * 4, (11_000,) * 4])
    cfg = config(rules=NO_EXIT_RULES, slip=1, fees=fees, amount=500_000)
    run = run_code("T", bars, FixedSignals(buys=[0], sells=[2]), cfg)
    t = run.trades.iloc[0]
    # Buy one tick up: 10,010; 500,000 buys 49 (49 × 10,010 = 490,490 + 70 commission).
    assert (t.entry_price, t.quantity) == (10_010, 49)
    # Sell one tick down: 10,990; 538,510 − 80 commission − 1,077 tax = 537,353.
    assert t.exit_price == 10_990
    assert t.pnl == 537_353 - 490_560
    assert t.fees == 70 + 80 + 1_077
    assert run.equity.iloc[-1] == 1_000_000 + t.pnl


def test_not_enough_cash_skips_with_a_warning() -> None:
    bars = bars_from([(10_000,) * 4] * 3)
    cfg = BacktestConfig(initial_cash=5_000, fill=FillModel(slippage_ticks=0), fees=NO_FEES)
    run = run_code("T", bars, FixedSignals(buys=[0]), cfg)
    assert run.trades.empty and "1주도" in run.warnings[0]
