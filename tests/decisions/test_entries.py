"""Automatic buys: every guard with its own reason, sizing, and the grid price."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from kiwoom_terminal import krx
from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.decisions.entries import BuyContext, BuyRefusal, BuyRules, evaluate_buy
from kiwoom_terminal.decisions.pricing import (
    buy_order_price,
    offset_price,
    sell_order_price,
    size_by_amount,
)
from kiwoom_terminal.decisions.risk import RiskCode, RiskLimits, RiskState
from kiwoom_terminal.settings import TradingSettings

RULES = BuyRules()
LIMITS = RiskLimits()
EMPTY = RiskState()
CTX = BuyContext(
    code="005930",
    now=dt.time(10, 0),
    auto_trade_on=True,
    held=False,
    tracked=False,
    bought_today=False,
    best_ask=10_000,
    last_price=9_990,
    band=krx.price_band(10_000),
)


def buy(ctx=CTX, rules=RULES, state=EMPTY, limits=LIMITS, now=1_000.0):
    return evaluate_buy(ctx, rules, state, limits, now)


def test_a_plain_buy_sizes_by_amount_with_commission_reserved() -> None:
    d = buy()
    assert d.ok and d.refusal is None
    # 100 shares would cost 1,000,000 + 150 commission > 1,000,000: 99 shares.
    assert (d.quantity, d.price, d.order_type) == (99, 10_000, OrderType.LIMIT)
    assert "99주" in d.reason and "10,000" in d.reason


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"auto_trade_on": False}, BuyRefusal.AUTO_TRADE_OFF),
        ({"now": dt.time(8, 59, 59)}, BuyRefusal.OUTSIDE_WINDOW),
        ({"now": dt.time(15, 15)}, BuyRefusal.OUTSIDE_WINDOW),
        ({"held": True}, BuyRefusal.HELD),
        ({"tracked": True}, BuyRefusal.TRACKED),
        ({"bought_today": True}, BuyRefusal.BOUGHT_TODAY),
        ({"best_ask": 0}, BuyRefusal.NO_PRICE),
        ({"best_ask": 1_000_010, "band": None}, BuyRefusal.ZERO_QUANTITY),
    ],
)
def test_each_guard_refuses_with_its_own_reason(change: dict, refusal: BuyRefusal) -> None:
    d = buy(replace(CTX, **change))
    assert not d.ok and d.refusal is refusal and d.quantity == 0
    assert d.reason.startswith("005930 매수 안 함") or refusal is BuyRefusal.RISK


def test_window_start_is_inside_and_rebuy_can_be_allowed() -> None:
    assert buy(replace(CTX, now=dt.time(9, 0))).ok
    assert buy(replace(CTX, bought_today=True), rules=replace(RULES, rebuy_block=False)).ok


def test_max_positions_counts_pending_buys() -> None:
    d = buy(state=RiskState(positions=5))
    assert d.refusal is BuyRefusal.MAX_POSITIONS and "5개" in d.reason
    assert buy(state=RiskState(positions=4)).ok


def test_risk_refusal_passes_the_verdict_and_the_auto_trade_switch() -> None:
    d = buy(state=RiskState(realized_pnl=-250_000, unrealized_pnl=-50_000))
    assert d.refusal is BuyRefusal.RISK
    assert d.risk is not None and d.risk.code is RiskCode.DAILY_LOSS
    assert d.disable_auto_trade and "자동매매를 끕니다" in d.reason
    d = buy(state=RiskState(pending=frozenset({("005930", Side.BUY)})))
    assert d.refusal is BuyRefusal.RISK and d.risk.code is RiskCode.DUPLICATE
    big = replace(RULES, amount=6_000_000)
    d = buy(rules=big)
    assert d.refusal is BuyRefusal.RISK and d.risk.code is RiskCode.MAX_ORDER_VALUE


def test_limit_price_moves_along_the_grid_and_stays_in_the_band() -> None:
    ctx = replace(CTX, best_ask=49_950, band=krx.price_band(45_000))
    assert buy(ctx, rules=replace(RULES, tick_offset=1)).price == 50_000
    assert buy(ctx, rules=replace(RULES, tick_offset=2)).price == 50_100
    assert buy(ctx, rules=replace(RULES, tick_offset=-1)).price == 49_900
    at_limit = replace(CTX, best_ask=92_300, band=krx.price_band(71_000))
    assert buy(at_limit, rules=replace(RULES, tick_offset=3, amount=1_000_000)).price == 92_300


def test_market_buy_has_price_zero_and_sizes_at_the_ask_or_last() -> None:
    rules = replace(RULES, order_type=OrderType.MARKET)
    d = buy(rules=rules)
    assert d.ok and d.price == 0 and d.sizing_price == 10_000 and d.quantity == 99
    d = buy(replace(CTX, best_ask=0, last_price=20_000), rules=rules)
    assert d.ok and d.sizing_price == 20_000 and d.quantity == 49


def test_rules_from_settings() -> None:
    t = TradingSettings(buy_amount=2_000_000, buy_tick_offset=2, buy_order_type=OrderType.MARKET)
    r = BuyRules.from_settings(t)
    assert (r.amount, r.tick_offset, r.order_type) == (2_000_000, 2, OrderType.MARKET)
    assert r.window_start == dt.time(9, 0) and r.window_end == dt.time(15, 15)


def test_size_by_amount_edges() -> None:
    fees = krx.FeeSchedule()
    assert size_by_amount(1_000_000, 10_000) == 100
    assert size_by_amount(1_000_000, 10_000, fees) == 99
    assert size_by_amount(9_999, 10_000, fees) == 0
    assert size_by_amount(0, 10_000, fees) == 0
    # 66,000 × 15 = 990,000 + 140 commission: fits.
    assert size_by_amount(1_000_000, 66_000, fees) == 15
    with pytest.raises(ValueError):
        size_by_amount(1_000, 0)


def test_sell_prices() -> None:
    band = krx.price_band(50_000)
    assert sell_order_price(OrderType.MARKET, 50_000, -1, band) == 0
    assert sell_order_price(OrderType.LIMIT, 50_000, -1, band) == 49_950
    assert sell_order_price(OrderType.LIMIT, 50_000, 0, band) == 50_000
    assert sell_order_price(OrderType.LIMIT, band.lower, -2, band) == band.lower
    assert buy_order_price(OrderType.LIMIT, 4_995, 1, None) == 5_000
    assert offset_price(2_003, 0, None) == 2_005  # off-grid quote rounds to nearest
    with pytest.raises(ValueError):
        offset_price(0, 1, None)
