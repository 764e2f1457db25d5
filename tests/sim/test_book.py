"""Order book: price-time priority, partial fills, crossing on re-centre (pure logic)."""

import random
from dataclasses import dataclass

from kiwoom_terminal import krx
from kiwoom_terminal.sim.book import Book


@dataclass(eq=False)
class Own:
    order_no: str


def make_book(crowd: int, fair: int = 70_000) -> Book:
    book = Book(krx.price_band(70_000))
    book.crowd_qty = crowd
    book.recenter(fair, random.Random(1), 1000)
    return book


def test_recenter_puts_best_bid_at_fair_and_ask_one_tick_above() -> None:
    book = make_book(500)
    asks, ask_qty, bids, bid_qty = book.top()
    assert bids[:3] == [70_000, 69_900, 69_800]
    assert asks[:3] == [70_100, 70_200, 70_300]
    assert len(asks) == len(bids) == 10
    assert set(ask_qty) == set(bid_qty) == {500}


def test_tick_grid_changes_across_a_row_boundary() -> None:
    book = Book(krx.price_band(50_000))
    book.crowd_qty = 10
    book.recenter(50_000, random.Random(1), 10)
    asks, _, bids, _ = book.top(3)
    assert bids == [50_000, 49_950, 49_900]
    assert asks == [50_100, 50_200, 50_300]


def test_price_time_priority_crowd_then_our_orders_in_arrival_order() -> None:
    book = make_book(300)
    first, second = Own("0000001"), Own("0000002")
    book.add(first, True, 70_000, 100)
    book.add(second, True, 70_000, 100)
    assert book.level_entries(True, 70_000) == [(None, 300), ("0000001", 100), ("0000002", 100)]
    result = book.take(False, 350)  # a crowd sell of 350 at market
    assert result.trades == [(70_000, 350)]
    assert [(f.order.order_no, f.qty) for f in result.resting_fills] == [("0000001", 50)]
    result = book.take(False, 100)
    assert [(f.order.order_no, f.qty) for f in result.resting_fills] == [
        ("0000001", 50),
        ("0000002", 50),
    ]


def test_better_price_trades_first_and_limit_stops_the_sweep() -> None:
    book = make_book(100)
    better = Own("0000009")
    book.add(better, False, 70_100, 40)  # joins the crowd's best ask, behind it
    result = book.take(True, 250, limit=70_200)
    assert result.trades == [(70_100, 140), (70_200, 100)]
    assert result.filled == 240  # nothing above the limit
    assert [(f.order.order_no, f.qty) for f in result.resting_fills] == [("0000009", 40)]
    assert book.best_ask() == 70_300


def test_market_order_walks_thin_levels_and_partially_fills_at_each() -> None:
    book = make_book(10)
    result = book.take(True, 35)
    assert result.trades == [(70_100, 10), (70_200, 10), (70_300, 10), (70_400, 5)]
    assert book.top(1)[1] == [5]


def test_reduce_keeps_queue_position_and_remove_takes_the_rest() -> None:
    book = make_book(100)
    mine = Own("0000003")
    book.add(mine, True, 70_000, 50)
    book.add(Own("0000004"), True, 70_000, 10)
    assert book.reduce("0000003", 20) == 20
    assert book.level_entries(True, 70_000)[1] == ("0000003", 30)
    assert book.remove("0000003") == 30
    assert ("0000003", 30) not in book.level_entries(True, 70_000)
    assert not book.has_own("0000003")


def test_price_moving_through_a_resting_sell_fills_it_in_full_at_its_price() -> None:
    book = make_book(100)
    ask = Own("0000005")
    book.add(ask, False, 70_300, 1_000)  # far bigger than any crowd level
    fills = book.recenter(70_500, random.Random(2), 1000)
    assert [(f.order.order_no, f.price, f.qty) for f in fills] == [("0000005", 70_300, 1_000)]
    assert not book.has_own("0000005")
    assert book.best_bid() == 70_500


def test_price_touching_a_resting_sell_fills_only_what_the_crowd_bids_there() -> None:
    book = make_book(100)
    ask = Own("0000006")
    book.add(ask, False, 70_300, 250)
    fills = book.recenter(70_300, random.Random(2), 1000)
    assert [(f.price, f.qty) for f in fills] == [(70_300, 100)]
    # The rest still offers at 70,300, so the crowd's best bid is one tick lower.
    assert book.level_entries(False, 70_300) == [("0000006", 150)]
    assert book.best_bid() == 70_200
    assert book.best_ask() == 70_300


def test_falling_price_fills_resting_buys_above_it() -> None:
    book = make_book(100)
    bid = Own("0000007")
    book.add(bid, True, 69_800, 30)
    fills = book.recenter(69_500, random.Random(3), 1000)
    assert [(f.price, f.qty) for f in fills] == [(69_800, 30)]
    assert book.best_ask() == 69_600


def test_crowd_stays_inside_the_band_at_the_upper_limit() -> None:
    band = krx.price_band(70_000)
    book = make_book(100, fair=band.upper)
    assert book.best_ask() == 0  # nobody offers above the upper limit
    assert book.best_bid() == band.upper
