"""REST parsers against the recorded replies in tests/data/kiwoom/."""

import datetime as dt

import pytest

from kiwoom_terminal.api import parse_rest
from kiwoom_terminal.api.errors import BadReplyError
from kiwoom_terminal.constants import Market, OrderAction, OrderType, Side, Venue
from tests.api.recorded import recorded


def test_quote_ka10001() -> None:
    q = parse_rest.quote(recorded("ka10001"))
    assert (q.code, q.name) == ("005930", "삼성전자")
    assert q.price == 71400 and q.base_price == 71000
    assert (q.change, q.change_rate) == (400, pytest.approx(0.56))
    assert (q.open, q.high, q.low) == (70900, 71800, 70500)  # "-70900": below base, still positive
    assert (q.upper_limit, q.lower_limit) == (92300, 49700)
    assert q.volume == 12873261


def test_order_book_ka10004_levels_in_order() -> None:
    book = parse_rest.order_book(recorded("ka10004"), "005930", Venue.KRX)
    assert book.time == "101530"
    assert book.ask_prices[:3] == (71500, 71600, 71700)
    assert book.bid_prices[:6] == (71400, 71300, 71200, 71100, 71000, 70900)
    assert book.ask_qtys[0] == 48211 and book.bid_qtys[0] == 102933
    assert len(book.ask_prices) == len(book.bid_qtys) == 10
    assert (book.total_ask_qty, book.total_bid_qty) == (812345, 990012)


def test_daily_bars_ka10081_newest_first() -> None:
    body = recorded("ka10081")
    bars = parse_rest.daily_bars(body["stk_dt_pole_chart_qry"], "005930")
    assert [b.time for b in bars] == [dt.datetime(2025, 9, 8), dt.datetime(2025, 9, 5)]
    first = bars[0]
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        69800,
        70500,
        69600,
        70100,
        9263135,
    )


def test_blank_row_of_an_untraded_code_is_skipped() -> None:
    body = recorded("ka10081_blank_row")
    assert parse_rest.daily_bars(body["stk_dt_pole_chart_qry"], "005930") == []


def test_minute_bars_ka10080_signed_prices() -> None:
    body = recorded("ka10080")
    bars = parse_rest.minute_bars(body["stk_min_pole_chart_qry"], "005930")
    assert bars[0].time == dt.datetime(2025, 9, 17, 13, 20)
    assert (bars[0].open, bars[0].high, bars[0].low, bars[0].close) == (78850, 78900, 78800, 78800)
    assert bars[1].close == 79400 and bars[1].open == 79500


def test_stock_list_ka10099() -> None:
    stocks = parse_rest.stock_list(recorded("ka10099")["list"], Market.KOSPI)
    samsung, sk_pref = stocks
    assert (samsung.code, samsung.name, samsung.last_close) == ("005930", "삼성전자", 71000)
    assert samsung.listed_shares == 5969782550 and samsung.nxt_enabled
    assert sk_pref.code == "03473K" and not sk_pref.nxt_enabled and sk_pref.warning == "3"
    assert sk_pref.market is Market.KOSPI


def test_balance_kt00018_padded_and_negative() -> None:
    body = recorded("kt00018")
    bal = parse_rest.balance(body, body["acnt_evlt_remn_indv_tot"])
    assert bal.total_purchase == 373500 and bal.total_pnl == -196888
    assert bal.total_return_rate == pytest.approx(-52.71)
    assert bal.estimated_assets == 1012632507
    (pos,) = bal.positions
    assert (pos.code, pos.quantity, pos.sellable_qty) == ("005930", 3, 3)
    assert (pos.avg_price, pos.price, pos.prev_close) == (124500, 59000, 45400)
    assert (pos.pnl, pos.fees, pos.tax) == (-196888, 70, 318)


def test_deposit_kt00001() -> None:
    d = parse_rest.deposit(recorded("kt00001"))
    assert (d.deposit, d.orderable, d.withdrawable) == (10000000, 9982550, 9982550)
    assert (d.d1_deposit, d.d2_deposit) == (10000000, 9982550)


def test_open_orders_ka10075() -> None:
    new, modified = parse_rest.open_orders(recorded("ka10075")["oso"])
    assert (new.order_no, new.orig_order_no, new.code) == ("0000069", "", "005930")
    assert (new.side, new.action, new.order_type) == (Side.BUY, OrderAction.NEW, OrderType.LIMIT)
    assert (new.order_qty, new.order_price, new.unfilled_qty, new.time) == (1, 70000, 1, "154113")
    assert new.venue is Venue.KRX
    assert (modified.side, modified.action, modified.orig_order_no) == (
        Side.SELL,
        OrderAction.MODIFY,
        "0000070",
    )
    assert (modified.unfilled_qty, modified.filled_amount, modified.venue) == (
        4,
        1206000,
        Venue.NXT,
    )


def test_fills_ka10076() -> None:
    (fill,) = parse_rest.fills(recorded("ka10076")["cntr"])
    assert (fill.order_no, fill.side, fill.order_type) == ("0000050", Side.BUY, OrderType.MARKET)
    assert (fill.fill_price, fill.fill_qty, fill.unfilled_qty, fill.fee) == (70100, 3, 0, 30)


def test_order_acks() -> None:
    ack = parse_rest.order_ack(recorded("kt10000"), "kt10000", Venue.KRX, OrderAction.NEW)
    assert (ack.order_no, ack.base_orig_order_no, ack.venue) == ("0121751", "", Venue.KRX)
    mod = parse_rest.order_ack(recorded("kt10002"), "kt10002", Venue.KRX, OrderAction.MODIFY)
    assert (mod.order_no, mod.base_orig_order_no, mod.quantity) == ("0000140", "0000139", 1)
    cancel = parse_rest.order_ack(recorded("kt10003"), "kt10003", Venue.KRX, OrderAction.CANCEL)
    assert (cancel.order_no, cancel.base_orig_order_no, cancel.quantity) == (
        "0000141",
        "0000139",
        1,
    )


def test_an_ack_without_order_number_is_a_bad_reply() -> None:
    with pytest.raises(BadReplyError, match="주문번호"):
        parse_rest.order_ack(
            {"return_code": 0, "return_msg": "ok"}, "kt10000", Venue.KRX, OrderAction.NEW
        )


def test_unparseable_field_names_the_field() -> None:
    body = dict(recorded("ka10001"), cur_prc="7만원")
    with pytest.raises(BadReplyError, match="cur_prc"):
        parse_rest.quote(body)
