"""reconcile.py: restored / believed state against an account snapshot (no servers)."""

from __future__ import annotations

from kiwoom_terminal.constants import OrderAction, OrderStatus, OrderType, Side, Venue
from kiwoom_terminal.engine.orders import EXTERNAL, OrderManager
from kiwoom_terminal.engine.reconcile import (
    KnownOrder,
    ManagedView,
    Resolution,
    UnknownRequest,
    plan_orders,
    plan_positions,
)
from kiwoom_terminal.messages import AccountSnapshot
from kiwoom_terminal.objects import (
    AccountBalanceData,
    FillData,
    OpenOrderData,
    OrderRequest,
    PositionData,
)


def _open(
    no: str, code: str, side: Side, qty: int, unfilled: int, price: int = 70_000, orig: str = ""
) -> OpenOrderData:
    return OpenOrderData(
        no, orig, code, "", side, OrderAction.MODIFY if orig else OrderAction.NEW,
        OrderType.LIMIT, qty, price, unfilled, 0, "100000", Venue.KRX,
    )  # fmt: skip


def _fill(no: str, code: str, side: Side, qty: int, filled: int, price: int = 70_000) -> FillData:
    return FillData(
        no, "", code, "", side, OrderType.LIMIT, price, qty, price, filled, qty - filled,
        0, 0, "100000", Venue.KRX,
    )  # fmt: skip


def _position(code: str, qty: int, avg: int) -> PositionData:
    return PositionData(code, "", qty, qty, avg, avg, avg, avg * qty, avg * qty, 0, 0.0)


def _snapshot(open_orders=(), fills=(), positions=(), taken_at: float = 100.0) -> AccountSnapshot:
    return AccountSnapshot(
        list(open_orders),
        list(fills),
        AccountBalanceData(0, 0, 0, 0.0, 0, tuple(positions)),
        taken_at,
    )


def test_known_orders_get_their_progress() -> None:
    snapshot = _snapshot(
        open_orders=[_open("0000001", "005930", Side.BUY, 10, 4)],
        fills=[
            _fill("0000001", "005930", Side.BUY, 10, 6),
            _fill("0000002", "000660", Side.SELL, 5, 5, 190_000),
        ],
    )
    known = [
        KnownOrder("0000001", "005930", Side.BUY, 10, 2),
        KnownOrder("0000002", "000660", Side.SELL, 5, 0),  # filled while we were away
        KnownOrder("0000003", "035720", Side.BUY, 7, 0),  # gone without fills: cancelled
    ]
    plan = plan_orders(known, [], snapshot)
    assert plan.progress["0000001"].filled == 6 and plan.progress["0000001"].open
    assert plan.progress["0000001"].remaining == 4
    assert plan.progress["0000002"].filled == 5 and not plan.progress["0000002"].open
    assert plan.progress["0000002"].fill_price == 190_000
    assert plan.progress["0000003"].filled == 0 and not plan.progress["0000003"].open
    assert plan.adopt == []


def test_unknown_requests_resolved_by_candidates() -> None:
    buy = OrderRequest("005930", Side.BUY, 10, 70_000)
    sell = OrderRequest("000660", Side.SELL, 5, 0, OrderType.MARKET)
    lost = OrderRequest("035720", Side.BUY, 3, 40_000)
    snapshot = _snapshot(
        open_orders=[_open("0000010", "005930", Side.BUY, 10, 10)],
        fills=[_fill("0000011", "000660", Side.SELL, 5, 5, 189_000)],
        taken_at=200.0,
    )
    plan = plan_orders(
        [],
        [
            UnknownRequest("r1", buy, 150.0),
            UnknownRequest("r2", sell, 150.0),
            UnknownRequest("r3", lost, 150.0),  # snapshot taken after: not placed
            UnknownRequest("r4", lost, 250.0),  # snapshot older than the send: look again
        ],
        snapshot,
    )
    assert plan.requests["r1"].resolution is Resolution.ADOPT
    assert plan.requests["r1"].order_no == "0000010" and plan.requests["r1"].progress.open
    assert plan.requests["r2"].resolution is Resolution.ADOPT
    assert plan.requests["r2"].progress.filled == 5 and not plan.requests["r2"].progress.open
    assert plan.requests["r3"].resolution is Resolution.NOT_PLACED
    assert plan.requests["r4"].resolution is Resolution.STALE
    assert plan.adopt == []  # 0000010 was claimed by r1, not adopted as someone else's


def test_two_matching_orders_are_ambiguous_and_unknown_open_orders_are_adopted() -> None:
    buy = OrderRequest("005930", Side.BUY, 10, 70_000)
    snapshot = _snapshot(
        open_orders=[
            _open("0000020", "005930", Side.BUY, 10, 10),
            _open("0000021", "005930", Side.BUY, 10, 10),
            _open("0000022", "000660", Side.SELL, 3, 3, 190_000, orig="0000009"),
        ]
    )
    plan = plan_orders([], [UnknownRequest("r1", buy, 1.0)], snapshot)
    assert plan.requests["r1"].resolution is Resolution.AMBIGUOUS
    assert plan.requests["r1"].candidates == ("0000020", "0000021")
    assert [o.order_no for o in plan.adopt] == ["0000020", "0000021", "0000022"]


def test_positions_kept_dropped_filled_and_untracked() -> None:
    snapshot = _snapshot(
        positions=[
            _position("005930", 12, 70_500),  # held: account numbers win
            _position("035720", 20, 40_000),  # our pending buy filled while down
            _position("373220", 1, 350_000),  # not ours
        ]
    )
    managed = [
        ManagedView("005930", 10, 70_000, False),
        ManagedView("000660", 5, 190_000, False),  # sold while down
        ManagedView("035720", 0, 0, True),
        ManagedView("051910", 0, 0, True),  # buy still open
        ManagedView("068270", 0, 0, True),  # buy ended unfilled
    ]
    plan = plan_positions(managed, snapshot, open_buy_codes=["051910"])
    assert plan.keep == {"005930": (12, 70_500), "035720": (20, 40_000)}
    assert plan.filled_meanwhile == ["035720"]
    assert set(plan.dropped) == {"000660", "068270"}
    assert "매도" in plan.dropped["000660"]
    assert [p.code for p in plan.untracked] == ["373220"]


def test_an_order_acknowledged_after_the_snapshot_is_not_adopted_as_someone_elses() -> None:
    """The account snapshot was taken after the server placed our buy but before the engine
    read its acknowledgement: the order is not `known` (its progress is not trusted to this
    snapshot), yet it is ours — neither adopted as external nor given to an unknown request."""
    snapshot = _snapshot(open_orders=[_open("0000001", "098460", Side.BUY, 66, 66)])
    lost = UnknownRequest("r9", OrderRequest("098460", Side.BUY, 66, 70_000), sent_at=50.0)
    plan = plan_orders([], [lost], snapshot, ours=["0000001"])
    assert plan.adopt == []
    assert plan.requests["r9"].resolution is Resolution.NOT_PLACED
    without = plan_orders([], [], snapshot)  # what happened before `ours`
    assert [row.order_no for row in without.adopt] == ["0000001"]


def test_a_modify_of_ours_that_filled_before_we_heard_of_it_is_planned_as_a_successor() -> None:
    """The amend's reply was lost (a 500 after the server carried it out) and its new order
    filled at once: the new number is only in the fills, with ours as its original."""
    known = [KnownOrder("0000001", "005935", Side.BUY, 17, 0)]
    successor = FillData(
        "0000009", "0000001", "005935", "삼성전자우", Side.BUY, OrderType.LIMIT, 58_200, 17,
        58_200, 17, 0, 0, 0, "100122", Venue.KRX,
    )  # fmt: skip
    someone_else = FillData(
        "0000010", "0000777", "005935", "", Side.BUY, OrderType.LIMIT, 58_200, 5,
        58_200, 5, 0, 0, 0, "100123", Venue.KRX,
    )  # fmt: skip
    plan = plan_orders(known, [], _snapshot(fills=[successor, someone_else]))
    assert not plan.progress["0000001"].open and plan.progress["0000001"].filled == 0
    (row,) = plan.adopt
    assert (row.order_no, row.orig_order_no, row.unfilled_qty, row.order_qty) == (
        "0000009",
        "0000001",
        0,
        17,
    )
    assert plan.successor_fills["0000009"].filled == 17
    assert plan.successor_fills["0000009"].fill_price == 58_200
    assert not plan.successor_fills["0000009"].open


def test_a_filled_modify_of_an_external_order_is_not_left_open() -> None:
    """The same lost-reply case for an order the engine only shows (external): its filled
    successor is recorded as done, not as an open order with nothing left."""
    orders = OrderManager()
    first = plan_orders([], [], _snapshot(open_orders=[_open("0000005", "000660", Side.BUY, 3, 3)]))
    orders.apply_plan(first, 0.0)
    assert orders.by_no["0000005"].purpose == EXTERNAL
    done = FillData(
        "0000006", "0000005", "000660", "", Side.BUY, OrderType.LIMIT, 190_500, 3,
        190_500, 3, 0, 0, 0, "100200", Venue.KRX,
    )  # fmt: skip
    second = plan_orders(
        [KnownOrder("0000005", "000660", Side.BUY, 3, 0)], [], _snapshot(fills=[done]),
        ours=list(orders.by_no),
    )  # fmt: skip
    orders.apply_plan(second, 1.0)
    assert orders.open_orders() == []
    assert orders.by_no["0000006"].status is OrderStatus.FILLED
    assert orders.by_no["0000005"].status is OrderStatus.REPLACED
