"""Matching an UNKNOWN order against an account snapshot."""

from kiwoom_terminal.constants import OrderAction, OrderType, Side, Venue
from kiwoom_terminal.messages import AccountSnapshot
from kiwoom_terminal.objects import AccountBalanceData, FillData, OpenOrderData, OrderRequest
from kiwoom_terminal.workers.reconcile import order_candidates


def _open(
    no: str,
    qty: int = 10,
    unfilled: int = 10,
    price: int = 70000,
    action: OrderAction = OrderAction.NEW,
) -> OpenOrderData:
    return OpenOrderData(
        no,
        "",
        "005930",
        "삼성전자",
        Side.BUY,
        action,
        OrderType.LIMIT,
        qty,
        price,
        unfilled,
        0,
        "090000",
        Venue.KRX,
    )


def _fill(no: str, qty: int = 10, filled: int = 10, price: int = 70000, orig: str = "") -> FillData:
    return FillData(
        no,
        orig,
        "005930",
        "삼성전자",
        Side.BUY,
        OrderType.LIMIT,
        price,
        qty,
        price,
        filled,
        qty - filled,
        0,
        0,
        "090001",
        Venue.KRX,
    )


def _snapshot(open_orders: list[OpenOrderData], fills: list[FillData]) -> AccountSnapshot:
    return AccountSnapshot(open_orders, fills, AccountBalanceData(0, 0, 0, 0.0, 0), 0.0)


ORDER = OrderRequest("005930", Side.BUY, 10, 70000)


def test_unknown_order_found_among_open_orders_and_fills() -> None:
    snap = _snapshot([_open("0000005", unfilled=4)], [_fill("0000005", filled=6), _fill("0000003")])
    found = order_candidates(ORDER, snap, known_order_nos={"0000003"})
    assert [(c.order_no, c.filled_qty, c.unfilled_qty, c.source) for c in found] == [
        ("0000005", 6, 4, "open")
    ]


def test_no_candidate_when_nothing_matches() -> None:
    snap = _snapshot(
        [_open("0000007", price=70100), _open("0000008", action=OrderAction.MODIFY)],
        [_fill("0000009", orig="0000001")],
    )
    assert order_candidates(ORDER, snap, set()) == []


def test_fully_filled_order_is_found_in_fills() -> None:
    found = order_candidates(ORDER, _snapshot([], [_fill("0000011")]), set())
    assert [(c.order_no, c.source, c.filled_qty) for c in found] == [("0000011", "fill", 10)]


def test_market_orders_match_without_price() -> None:
    market = OrderRequest("005930", Side.BUY, 10, 0, OrderType.MARKET)
    found = order_candidates(market, _snapshot([], [_fill("0000012", price=70300)]), set())
    assert [c.order_no for c in found] == ["0000012"]
