"""Amend policy: wait, move toward the market on the grid, respect partial fills, give up."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kiwoom_terminal import krx
from kiwoom_terminal.constants import Side, Venue
from kiwoom_terminal.decisions.amend import (
    AmendKind,
    AmendOrder,
    AmendRules,
    decide_amend,
)
from kiwoom_terminal.objects import CancelRequest, ModifyRequest
from kiwoom_terminal.settings import AmendSettings

RULES = AmendRules(after_s=10, ticks=1, max_count=3, after_last="market")
BAND = krx.price_band(45_000)  # 58,500 / 31,500
BUY = AmendOrder("0000101", "005930", Side.BUY, Venue.NXT, 49_950, 10, 4, 0, 100.0)
SELL = AmendOrder("0000102", "005930", Side.SELL, Venue.KRX, 50_000, 10, 0, 0, 100.0)


def amend(order, now=110.0, bid=0, ask=0, band=BAND, rules=RULES):
    return decide_amend(order, now, bid, ask, band, rules)


def test_waits_until_after_s() -> None:
    a = amend(BUY, now=109.9)
    assert a.kind is AmendKind.NONE and "대기" in a.reason


def test_buy_moves_up_one_tick_across_the_row_boundary_for_the_remaining_qty() -> None:
    a = amend(BUY)
    assert a.kind is AmendKind.MODIFY
    assert (a.price, a.quantity, a.venue) == (50_000, 6, Venue.NXT)
    assert a.modify_request() == ModifyRequest("0000101", "005930", 6, 50_000, Venue.NXT)
    assert "49,950 → 50,000" in a.reason and "1/3" in a.reason
    two = amend(replace(BUY, price=49_900), rules=replace(RULES, ticks=2))
    assert two.price == 50_000


def test_sell_moves_down_across_the_boundary() -> None:
    a = amend(SELL)
    assert (a.kind, a.price, a.quantity, a.venue) == (AmendKind.MODIFY, 49_950, 10, Venue.KRX)


def test_never_past_the_opposite_best_quote() -> None:
    buy = replace(BUY, price=10_000, filled=0)
    a = amend(buy, ask=10_020, band=krx.price_band(10_000), rules=replace(RULES, ticks=5))
    assert a.price == 10_020
    sell = replace(SELL, price=10_050)
    a = amend(sell, bid=10_030, band=krx.price_band(10_000), rules=replace(RULES, ticks=5))
    assert a.price == 10_030


def test_fully_filled_in_flight_and_market_orders_are_left_alone() -> None:
    assert amend(replace(BUY, filled=10)).kind is AmendKind.NONE
    assert amend(replace(BUY, in_flight=True)).kind is AmendKind.NONE
    assert amend(replace(BUY, price=0)).kind is AmendKind.NONE


@pytest.mark.parametrize(
    ("after_last", "kind"), [("market", AmendKind.CANCEL_THEN_MARKET), ("cancel", AmendKind.CANCEL)]
)
def test_after_the_last_amend(after_last: str, kind: AmendKind) -> None:
    rules = replace(RULES, after_last=after_last)
    a = amend(replace(BUY, amend_count=3), rules=rules)
    assert a.kind is kind and a.quantity == 6 and a.venue is Venue.NXT
    assert a.cancel_request() == CancelRequest("0000101", "005930", 6, Venue.NXT)
    assert "3회" in a.reason
    with pytest.raises(ValueError):
        a.modify_request()


def test_clamped_at_the_band_gives_up_at_once() -> None:
    band = krx.price_band(71_000)  # upper 92,300
    a = amend(replace(BUY, price=92_300), band=band)
    assert a.kind is AmendKind.CANCEL_THEN_MARKET and "가격제한폭" in a.reason
    near = amend(replace(BUY, price=92_200), band=band, rules=replace(RULES, ticks=3))
    assert (near.kind, near.price) == (AmendKind.MODIFY, 92_300)
    low = amend(
        replace(SELL, price=band.lower), band=band, rules=replace(RULES, after_last="cancel")
    )
    assert low.kind is AmendKind.CANCEL


def test_each_amend_restarts_the_wait() -> None:
    # After the first amend the engine stores amend_count=1 and last_action_at=110.
    moved = replace(BUY, price=50_000, amend_count=1, last_action_at=110.0)
    assert amend(moved, now=115.0).kind is AmendKind.NONE
    a = amend(moved, now=120.0)
    assert (a.kind, a.price) == (AmendKind.MODIFY, 50_100)


def test_rules_from_settings_and_validation() -> None:
    assert AmendRules.from_settings(AmendSettings()) == AmendRules(10, 1, 3, "market")
    with pytest.raises(ValueError):
        AmendRules(after_last="later")
