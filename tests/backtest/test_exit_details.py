"""Every trade says why it was sold in one complete Korean sentence (regression: a profit
protect exit once repeated its rule text with a literal "{ret}" in front)."""

from __future__ import annotations

from kiwoom_terminal.backtest import BacktestConfig, FillModel, run_code
from kiwoom_terminal.backtest.synthetic import random_walk_bars
from kiwoom_terminal.decisions import ExitRules
from kiwoom_terminal.strategies.base import get_strategy

LABELS = {
    "stop_loss": "손절",
    "take_profit": "익절",
    "trailing_stop": "트레일링 스탑",
    "profit_protect": "이익보존",
    "strategy": "매도 신호",
    "end_of_data": "데이터 끝",
}


def test_exit_details_are_single_complete_sentences() -> None:
    rules = ExitRules(
        stop_loss_pct=-2.0,
        take_profit_pct=4.0,
        trailing_arm_pct=1.0,
        trailing_drop_pct=0.8,
        protect_trigger_pct=0.8,
        protect_floor_pct=0.2,
        protect_hysteresis_pct=0.1,
    )
    bars = random_walk_bars(20_000, seed=9, volatility_ticks=4)
    config = BacktestConfig(fill=FillModel("next_open", "trigger", 0), exit_rules=rules)
    trades = run_code("X", bars, get_strategy("sma_cross", fast=5, slow=20), config).trades
    assert set(trades["reason"]) >= {"stop_loss", "trailing_stop", "profit_protect", "strategy"}
    for reason, detail in zip(trades["reason"], trades["detail"]):
        assert "{" not in detail and "}" not in detail, detail
        assert detail.count(LABELS[reason]) == 1, detail
        if reason != "end_of_data":
            assert detail.count("[가격 ") == 1 and detail.endswith("]"), detail
