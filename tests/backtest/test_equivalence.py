"""The backtester's exits are the live rule function: replaying the same bars as tick
batches through `evaluate_exit` (as the engine will) gives the same decisions."""

from __future__ import annotations

from kiwoom_terminal.backtest import BacktestConfig, FillModel, run_code
from kiwoom_terminal.backtest.synthetic import random_walk_bars
from kiwoom_terminal.constants import ExitReason
from kiwoom_terminal.decisions import ExitRules, PositionState, evaluate_exit
from kiwoom_terminal.strategies.base import BUY, SELL, get_strategy


def test_backtest_exits_match_a_batch_by_batch_replay() -> None:
    bars = random_walk_bars(20_000, seed=9, volatility_ticks=4)
    rules = ExitRules(
        stop_loss_pct=-2.0,
        take_profit_pct=4.0,
        trailing_arm_pct=1.0,
        trailing_drop_pct=0.8,
        protect_trigger_pct=0.8,
        protect_floor_pct=0.2,
        protect_hysteresis_pct=0.1,
    )
    strategy = get_strategy("sma_cross", fast=5, slow=20)
    cfg = BacktestConfig(fill=FillModel("next_open", "close", 0), exit_rules=rules)
    run = run_code("X", bars, strategy, cfg, intraday=True)
    assert len(run.trades) > 100
    assert set(run.trades["reason"]) >= {"stop_loss", "trailing_stop", "profit_protect"}

    # Replay: one batch per bar (last = close, high, low), like the engine's tick batches.
    sig = strategy.signals(bars).tolist()
    o, h, lo, c = (bars[k].tolist() for k in ("open", "high", "low", "close"))
    replay, i, n = [], 0, len(bars)
    while i < n - 1:
        if sig[i] != BUY:
            i += 1
            continue
        entry = i + 1
        state, t = PositionState(o[entry], 1), entry
        while t < n:
            state, decision = evaluate_exit(
                state,
                c[t],
                h[t],
                lo[t],
                rules,
                sell_flagged=sig[t] == SELL,
                flag_reason=ExitReason.STRATEGY,
            )
            if decision is not None:
                replay.append((entry, t, decision.reason.value, c[t]))
                break
            t += 1
        else:
            replay.append((entry, n - 1, "end_of_data", c[n - 1]))
        i = t
    got = list(
        run.trades[["entry_bar", "exit_bar", "reason", "exit_price"]].itertuples(
            index=False, name=None
        )
    )
    assert got == replay
