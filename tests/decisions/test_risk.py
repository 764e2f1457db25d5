"""Risk limits before every order; cancels always pass; the daily loss limit."""

from __future__ import annotations

import pytest

from kiwoom_terminal.constants import OrderAction, Side
from kiwoom_terminal.decisions.risk import (
    RiskCode,
    RiskLimits,
    RiskOrder,
    RiskState,
    check_risk,
    daily_loss_breached,
)
from kiwoom_terminal.settings import RiskSettings, TradingSettings

LIMITS = RiskLimits(
    max_positions=5, max_order_value=5_000_000, max_orders_per_minute=3, daily_loss_limit=300_000
)
BUY = RiskOrder("005930", Side.BUY, 100, 50_000, opens_position=True)
SELL = RiskOrder("005930", Side.SELL, 1_000, 50_000)
NOW = 10_000.0


def test_everything_within_limits_passes() -> None:
    v = check_risk(BUY, RiskState(), LIMITS, NOW)
    assert v.allowed and v.code is RiskCode.OK and not v.disable_auto_trade


def test_cancels_always_pass() -> None:
    bad = RiskState(
        positions=99,
        pending=frozenset({("005930", Side.BUY)}),
        order_times=(NOW,) * 10,
        realized_pnl=-10_000_000,
    )
    cancel = RiskOrder("005930", Side.BUY, 10**9, 10**6, action=OrderAction.CANCEL)
    assert check_risk(cancel, bad, LIMITS, NOW).allowed


def test_max_positions_only_for_buys_opening_a_position() -> None:
    full = RiskState(positions=5)
    v = check_risk(BUY, full, LIMITS, NOW)
    assert not v.allowed and v.code is RiskCode.MAX_POSITIONS and "5개" in v.message
    add = RiskOrder("005930", Side.BUY, 10, 50_000, opens_position=False)
    assert check_risk(add, full, LIMITS, NOW).allowed
    assert check_risk(SELL, full, LIMITS, NOW).allowed
    assert check_risk(BUY, RiskState(positions=4), LIMITS, NOW).allowed


def test_max_order_value_boundary_and_sells_exempt() -> None:
    exact = RiskOrder("000660", Side.BUY, 100, 50_000)  # 5,000,000
    assert check_risk(exact, RiskState(), LIMITS, NOW).allowed
    over = RiskOrder("000660", Side.BUY, 100, 50_001)
    v = check_risk(over, RiskState(), LIMITS, NOW)
    assert v.code is RiskCode.MAX_ORDER_VALUE and "5,000,100원" in v.message
    assert check_risk(SELL, RiskState(), LIMITS, NOW).allowed  # 50,000,000 sell
    modify = RiskOrder("000660", Side.BUY, 100, 60_000, action=OrderAction.MODIFY)
    assert check_risk(modify, RiskState(), LIMITS, NOW).code is RiskCode.MAX_ORDER_VALUE


def test_orders_per_minute_is_a_sliding_window() -> None:
    state = RiskState()
    for t in (NOW - 59.0, NOW - 30.0, NOW - 1.0):
        state = state.with_order_sent(t)
    v = check_risk(SELL, state, LIMITS, NOW)
    assert v.code is RiskCode.RATE_LIMIT and "3건" in v.message
    # One second later the oldest is exactly 60 s old and no longer counts.
    assert check_risk(SELL, state, LIMITS, NOW + 1.0).allowed
    # Sending prunes times older than the window.
    assert state.with_order_sent(NOW + 100).order_times == (NOW + 100,)
    modify = RiskOrder("005930", Side.SELL, 10, 50_000, action=OrderAction.MODIFY)
    assert check_risk(modify, state, LIMITS, NOW).code is RiskCode.RATE_LIMIT


def test_duplicate_guard_same_code_and_side() -> None:
    state = RiskState(pending=frozenset({("005930", Side.BUY)}))
    v = check_risk(BUY, state, LIMITS, NOW)
    assert v.code is RiskCode.DUPLICATE and "미체결" in v.message
    assert check_risk(SELL, state, LIMITS, NOW).allowed
    assert check_risk(RiskOrder("000660", Side.BUY, 1, 1_000), state, LIMITS, NOW).allowed
    modify = RiskOrder("005930", Side.BUY, 10, 50_000, action=OrderAction.MODIFY)
    assert check_risk(modify, state, LIMITS, NOW).allowed


@pytest.mark.parametrize(("pnl", "hit"), [(-299_999, False), (-300_000, True), (-400_000, True)])
def test_daily_loss_limit_turns_auto_trade_off(pnl: int, hit: bool) -> None:
    state = RiskState(realized_pnl=pnl + 50_000, unrealized_pnl=-50_000)
    v = check_risk(BUY, state, LIMITS, NOW)
    assert v.allowed is not hit and v.disable_auto_trade is hit
    if hit:
        assert v.code is RiskCode.DAILY_LOSS
        assert f"{pnl:+,}원" in v.message and "자동매매를 끕니다" in v.message
        # A sell (risk-reducing) still goes out, and also tells the caller to stop.
        s = check_risk(SELL, state, LIMITS, NOW)
        assert s.allowed and s.disable_auto_trade and s.code is RiskCode.DAILY_LOSS
        assert daily_loss_breached(state, LIMITS) is not None
    else:
        assert daily_loss_breached(state, LIMITS) is None


def test_zero_limits_are_off_and_manual_orders_say_so() -> None:
    off = RiskLimits(
        max_positions=0, max_order_value=0, max_orders_per_minute=100, daily_loss_limit=0
    )
    state = RiskState(positions=50, realized_pnl=-(10**9))
    assert check_risk(
        RiskOrder("1", Side.BUY, 10**6, 10**6, opens_position=True), state, off, NOW
    ).allowed
    manual = RiskOrder("005930", Side.BUY, 1_000, 50_000, manual=True)
    v = check_risk(manual, RiskState(), LIMITS, NOW)
    assert not v.allowed and v.message.startswith("수동 주문 거부")


def test_limits_from_settings() -> None:
    limits = RiskLimits.from_settings(
        RiskSettings(max_order_value=1, max_orders_per_minute=2, daily_loss_limit=3),
        TradingSettings(max_positions=4),
    )
    assert limits == RiskLimits(4, 1, 2, 3)
