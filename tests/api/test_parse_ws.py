"""REAL pushes and condition-search replies against recorded frames."""

import pytest

from kiwoom_terminal.api import parse_ws
from kiwoom_terminal.constants import (
    ConditionChange,
    OrderAction,
    OrderEventKind,
    OrderType,
    Side,
    Venue,
)
from tests.api.recorded import recorded


def _entries(name: str) -> list[dict]:
    return recorded(name)["data"]


def test_trade_tick_0B() -> None:
    first, nxt = _entries("real_0B")
    t = parse_ws.tick(first["item"], first["values"], 1.5)
    assert (t.code, t.venue, t.time) == ("005930", Venue.KRX, "165208")
    assert (t.price, t.change, t.change_rate) == (20800, -50, pytest.approx(-0.24))
    assert (t.volume, t.cum_volume) == (82, 30379732)
    assert (t.open, t.high, t.low, t.best_ask, t.best_bid) == (20850, 21150, 20450, 20800, 20700)
    assert t.received_at == 1.5
    # `values` wrapped in a list (§12) and an NXT item; seller-initiated volume is negative
    t2 = parse_ws.tick(nxt["item"], parse_ws.unwrap_values(nxt["values"]), 0.0)
    assert (t2.code, t2.venue, t2.price, t2.volume) == ("000660", Venue.NXT, 201500, -3)


def test_order_book_0D() -> None:
    (entry,) = _entries("real_0D")
    b = parse_ws.order_book(entry["item"], entry["values"], 0.0)
    assert b.ask_prices[0] == 71500 and b.ask_prices[-1] == 72400
    assert b.bid_prices[:5] == (71400, 71300, 71200, 71100, 71000)
    assert b.ask_qtys[0] == 1000 and b.bid_qtys[9] == 2009
    assert (b.total_ask_qty, b.total_bid_qty) == (812345, 990012)


def test_order_event_00_accepted() -> None:
    (entry,) = _entries("real_00_accepted")
    e = parse_ws.order_event(entry["item"], entry["values"], 0.0)
    assert (e.order_no, e.orig_order_no, e.code) == ("0000018", "", "005930")
    assert (e.kind, e.action, e.side, e.order_type) == (
        OrderEventKind.ACCEPTED,
        OrderAction.NEW,
        Side.BUY,
        OrderType.MARKET,
    )
    assert (e.order_qty, e.order_price, e.unfilled_qty, e.filled_qty) == (1, 0, 1, 0)
    assert (e.reject_reason, e.venue, e.account) == ("", Venue.KRX, "1111111111")


def test_order_event_00_fill_with_A_prefixed_code() -> None:
    (entry,) = _entries("real_00_fill")
    e = parse_ws.order_event(entry["item"], entry["values"], 0.0)
    assert e.code == "000660"  # A000660 → bare (§0.2 #7)
    assert (e.kind, e.action, e.side) == (OrderEventKind.FILLED, OrderAction.MODIFY, Side.SELL)
    assert (e.filled_qty, e.unfilled_qty, e.filled_amount) == (6, 4, 1206000)
    assert (e.unit_fill_price, e.unit_fill_qty, e.fill_no) == (201000, 2, "101")
    assert (e.fee, e.tax, e.venue, e.orig_order_no) == (180, 2412, Venue.NXT, "0000070")


def test_balance_event_04() -> None:
    (entry,) = _entries("real_04")
    b = parse_ws.balance_event(entry["item"], entry["values"], 0.0)
    assert (b.code, b.price, b.quantity, b.avg_price) == ("005930", 60150, 102, 154116)
    assert (b.purchase_amount, b.sellable_qty, b.last_side, b.base_price) == (
        15719834,
        102,
        Side.BUY,
        60300,
    )


def test_condition_events_02() -> None:
    enter, leave = _entries("real_02")
    e1 = parse_ws.condition_event(enter["item"], enter["values"], 0.0)
    e2 = parse_ws.condition_event(leave["item"], leave["values"], 0.0)
    assert (e1.seq, e1.code, e1.change, e1.time) == ("4", "005930", ConditionChange.ENTER, "152028")
    assert (e2.seq, e2.code, e2.change) == ("4", "000660", ConditionChange.EXIT)


@pytest.mark.parametrize("name", ["cnsrlst_arrays", "cnsrlst_objects"])
def test_condition_list_accepts_both_shapes(name: str) -> None:
    conditions = parse_ws.condition_list(recorded(name)["data"])
    assert [(c.seq, c.name) for c in conditions][:2] == [("0", "조건1"), ("1", "조건2")]


def test_one_shot_condition_matches() -> None:
    samsung, hynix = parse_ws.condition_matches(recorded("cnsrreq_oneshot")["data"])
    assert (samsung.code, samsung.price, samsung.change) == ("005930", 75000, -100)
    assert samsung.change_rate == pytest.approx(-0.13)  # ×1000 per spec
    assert (samsung.volume, samsung.open, samsung.high, samsung.low) == (
        10386116,
        75100,
        75600,
        74700,
    )
    assert (hynix.price, hynix.change_rate) == (201500, pytest.approx(0.75))  # "+000201500"


def test_realtime_condition_initial_codes() -> None:
    assert parse_ws.condition_codes(recorded("cnsrreq_realtime")["data"]) == ["005930", "000660"]


def test_unknown_order_state_is_an_error() -> None:
    (entry,) = _entries("real_00_accepted")
    with pytest.raises(ValueError, match="913"):
        parse_ws.order_event(entry["item"], dict(entry["values"], **{"913": "???"}), 0.0)
