"""The order manager and the gateway in-process (a recording `send` instead of workers):
chains, orphan events, fill counting, UNKNOWN handling, the journal-before-send rule, and
the duplicate-sell guard."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from kiwoom_terminal.constants import (
    Mode,
    OrderAction,
    OrderEventKind,
    OrderStatus,
    OrderType,
    Side,
    Venue,
)
from kiwoom_terminal.decisions import PositionState
from kiwoom_terminal.engine.clock import MarketClock
from kiwoom_terminal.engine.context import EngineContext, Rules
from kiwoom_terminal.engine.gateway import OrderGateway
from kiwoom_terminal.engine.journal import Journal, JournalKind
from kiwoom_terminal.engine.ledger import DayLedger
from kiwoom_terminal.engine.orders import Closed, Fill, OrderManager, ResendAtMarket, Unknown
from kiwoom_terminal.engine.positions import TrackedPosition
from kiwoom_terminal.messages import (
    CancelOrderRequest,
    ErrorInfo,
    ErrorKind,
    ModifyOrderRequest,
    OrderOutcome,
    OrderReply,
    PlaceOrderRequest,
)
from kiwoom_terminal.objects import OrderAckData, OrderEventData, OrderRequest
from kiwoom_terminal.settings import AppSettings


def event(
    order_no: str,
    kind: OrderEventKind,
    *,
    filled: int = 0,
    unit_qty: int = 0,
    price: int = 70_000,
    qty: int = 10,
    unfilled: int = 10,
    orig: str = "",
    action: OrderAction = OrderAction.NEW,
    side: Side = Side.BUY,
) -> OrderEventData:
    return OrderEventData(
        order_no, orig, "005930", "삼성전자", kind, action, side, OrderType.LIMIT, qty, price,
        unfilled, filled, filled * price, price if unit_qty else 0, unit_qty,
        f"F{filled}" if unit_qty else "", 0, 0, "", "100000", Venue.KRX,
    )  # fmt: skip


def accepted(request_id: str, order_no: str, quantity: int = 0) -> OrderReply:
    return OrderReply(request_id, OrderOutcome.ACCEPTED, OrderAckData(order_no, "", quantity))


def test_events_before_the_ack_are_replayed_and_fills_count_once() -> None:
    orders = OrderManager()
    order = orders.add_new(
        "r1",
        OrderRequest("005930", Side.BUY, 10, 70_000),
        purpose="entry",
        name="",
        now_mono=0,
        now_wall=0,
    )
    assert orders.on_event(event("0000001", OrderEventKind.ACCEPTED), 0) == []
    assert (
        orders.on_event(
            event("0000001", OrderEventKind.FILLED, filled=4, unit_qty=4, unfilled=6), 0
        )
        == []
    )
    updates = orders.on_reply(accepted("r1", "0000001"), 0)
    fills = [u for u in updates if isinstance(u, Fill)]
    assert [f.quantity for f in fills] == [4]
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.remaining == 6
    # The same event again (a replay after a reconnect) books nothing.
    assert (
        orders.on_event(
            event("0000001", OrderEventKind.FILLED, filled=4, unit_qty=4, unfilled=6), 0
        )
        == []
    )
    updates = orders.on_event(
        event("0000001", OrderEventKind.FILLED, filled=10, unit_qty=6, unfilled=0), 0
    )
    assert [type(u) for u in updates] == [Fill, Closed]
    assert order.status is OrderStatus.FILLED and not order.is_open


def test_modify_moves_only_the_remainder_and_cancel_can_resend_at_market() -> None:
    orders = OrderManager()
    original = orders.add_new(
        "r1",
        OrderRequest("005930", Side.SELL, 10, 71_000),
        purpose="trailing_stop",
        name="",
        now_mono=0,
        now_wall=0,
    )
    orders.on_reply(accepted("r1", "0000001"), 0)
    orders.on_event(
        event("0000001", OrderEventKind.FILLED, filled=3, unit_qty=3, unfilled=7, side=Side.SELL), 0
    )
    orders.add_modify("m1", original, 70_900, original.remaining)
    updates = orders.on_reply(accepted("m1", "0000002", 7), 5.0)
    successor = orders.by_no["0000002"]
    assert original.status is OrderStatus.REPLACED and original.filled == 3
    assert successor.quantity == 7 and successor.amend_count == 1 and successor.price == 70_900
    assert successor.purpose == "trailing_stop" and successor.orig_order_no == "0000001"
    assert any(isinstance(u, Closed) and u.order is original for u in updates)
    orders.add_cancel("c1", successor, 7, then_market=True)
    updates = orders.on_reply(accepted("c1", "0000003", 7), 6.0)
    assert successor.status is OrderStatus.CANCELLED
    resend = [u for u in updates if isinstance(u, ResendAtMarket)]
    assert len(resend) == 1 and resend[0].quantity == 7
    # The cancel leg's own events are recognised, not taken for someone else's order.
    assert (
        orders.on_event(
            event("0000003", OrderEventKind.CONFIRMED, orig="0000002", action=OrderAction.CANCEL), 7
        )
        == []
    )
    assert orders.orphans == {}


def test_unknown_outcome_stays_open_and_is_reported() -> None:
    orders = OrderManager()
    order = orders.add_new(
        "r1",
        OrderRequest("005930", Side.BUY, 10, 70_000),
        purpose="entry",
        name="",
        now_mono=0,
        now_wall=0,
    )
    reply = OrderReply(
        "r1", OrderOutcome.UNKNOWN, None, ErrorInfo(ErrorKind.TIMEOUT, "", "시간 초과")
    )
    updates = orders.on_reply(reply, 0)
    assert isinstance(updates[0], Unknown)
    assert order.status is OrderStatus.UNKNOWN and order.is_open
    assert orders.unknown_codes() == {"005930"}
    assert [u.request_id for u in orders.unknown_requests()] == ["r1"]


class Recorder:
    """Stands in for the supervisor: records each request with the journal kinds of its
    request id that a crash at the moment of sending would leave on disk (the journal's
    files are copied aside and opened the way a restarted terminal opens them)."""

    def __init__(self, crash_dir: Path) -> None:
        self.journal: Journal | None = None
        self.crash_dir = crash_dir
        self.sent: list[tuple[Any, list[JournalKind]]] = []

    def __call__(self, request: Any) -> str:
        assert self.journal is not None
        shutil.rmtree(self.crash_dir, ignore_errors=True)
        self.crash_dir.mkdir()
        for file in self.journal.path.parent.glob(self.journal.path.name + "*"):
            shutil.copy(file, self.crash_dir / file.name)
        on_disk = Journal(self.crash_dir / self.journal.path.name)
        try:
            kinds = [e.kind for e in on_disk.entries(request_id=request.request_id)]
        finally:
            on_disk.close()
        self.sent.append((request, kinds))
        return str(request.request_id)


@pytest.fixture
def gateway(tmp_path: Path) -> tuple[OrderGateway, Recorder]:
    recorder = Recorder(tmp_path / "crash")
    settings = AppSettings()
    ctx = EngineContext(
        settings=settings,
        rules=Rules.from_settings(settings),
        journal=Journal(tmp_path / "journal.sqlite3"),
        clock=MarketClock(Mode.MOCK),
        send=recorder,
        ledger=DayLedger("20260105"),
    )
    recorder.journal = ctx.journal
    ctx.ready = True
    ctx.positions["005930"] = TrackedPosition(
        "005930", "삼성전자", PositionState(70_000, 10, True, 73_000, False), price=71_000
    )
    return OrderGateway(ctx), recorder


def test_risk_state_counts_positions_and_open_pnl_like_the_tables(gateway) -> None:
    ctx = gateway[0].ctx
    ctx.positions["000660"] = TrackedPosition(
        "000660", "SK하이닉스", PositionState(200_000, 3), price=190_000
    )
    ctx.positions["035720"] = TrackedPosition("035720", "카카오", buy_pending=True)
    ctx.positions["005380"] = TrackedPosition("005380", "현대차", PositionState(250_000, 2))
    ctx.positions["051910"] = TrackedPosition("051910", "LG화학", sell_pending=True)
    state = ctx.risk_state(extra_positions=1)
    # held: 005930, 000660, 005380 (no price yet: no P/L); buying: 035720; 051910 neither
    assert state.positions == 4 + 1 == ctx.managed_count() + 1
    assert state.unrealized_pnl == 10 * 1_000 + 3 * -10_000 == ctx.unrealized_pnl()


def test_journal_is_written_before_the_order_is_sent(gateway) -> None:
    gw, recorder = gateway
    order, why = gw.place(
        OrderRequest("005930", Side.SELL, 10, 0, OrderType.MARKET),
        purpose="trailing_stop",
        reason="트레일링 스탑",
        detail={"high_since_arm": 73_000},
    )
    assert why == "" and order is not None
    request, kinds = recorder.sent[0]
    assert isinstance(request, PlaceOrderRequest)
    assert kinds == [JournalKind.DECISION, JournalKind.ORDER_REQUEST]
    assert gw.ctx.positions["005930"].sell_pending
    # … and once it is sent, the entries are in SQLite itself
    reader = Journal(gw.ctx.journal.path, writer=False)
    kinds_now = [e.kind for e in reader.entries(request_id=request.request_id)]
    reader.close()
    assert kinds_now == [JournalKind.DECISION, JournalKind.ORDER_REQUEST]


def test_amends_and_cancels_are_written_before_they_are_sent(gateway) -> None:
    gw, recorder = gateway
    order, _ = gw.place(
        OrderRequest("005930", Side.SELL, 10, 71_000), purpose="take_profit", reason="익절"
    )
    assert order is not None
    gw.on_reply(accepted(order.request_id, "0000007"))
    assert gw.modify(order, 70_900, 10, "정정 1회")
    modify, kinds = recorder.sent[-1]
    assert isinstance(modify, ModifyOrderRequest) and kinds == [JournalKind.AMEND]
    gw.ctx.orders.commands.pop(modify.request_id)
    order.in_flight = ""
    assert gw.cancel(order, "취소")
    cancel, kinds = recorder.sent[-1]
    assert isinstance(cancel, CancelOrderRequest) and kinds == [JournalKind.CANCEL]


def test_a_second_sell_is_never_sent(gateway) -> None:
    gw, recorder = gateway
    request = OrderRequest("005930", Side.SELL, 10, 0, OrderType.MARKET)
    assert gw.place(request, purpose="stop_loss", reason="손절")[0] is not None
    order, why = gw.place(request, purpose="stop_loss", reason="손절")
    assert order is None and "이미" in why
    order, why = gw.place(request, purpose="manual", reason="수동", manual=True)
    assert order is None
    assert len(recorder.sent) == 1


def test_unknown_blocks_the_code_until_reconciled_but_cancels_pass(gateway) -> None:
    gw, recorder = gateway
    asked: list[str] = []
    gw.ctx.request_reconcile = asked.append
    buy, _ = gw.place(OrderRequest("000660", Side.BUY, 1, 190_000), purpose="entry", reason="매수")
    sell, _ = gw.place(
        OrderRequest("005930", Side.SELL, 10, 71_000), purpose="take_profit", reason="익절"
    )
    assert buy is not None and sell is not None
    gw.on_reply(
        OrderReply(
            buy.request_id, OrderOutcome.UNKNOWN, None, ErrorInfo(ErrorKind.SERVER, "", "5xx")
        )
    )
    gw.on_reply(accepted(sell.request_id, "0000007"))
    assert "000660" in gw.ctx.blocked and asked
    order, why = gw.place(
        OrderRequest("000660", Side.BUY, 1, 190_000), purpose="manual", reason="", manual=True
    )
    assert order is None and "확인" in why
    gw.ctx.blocked.add("005930")
    assert gw.cancel(sell, "수동 취소")  # cancels are always allowed
    assert isinstance(recorder.sent[-1][0], CancelOrderRequest)
    assert not gw.modify(sell, 70_900, 10, "정정")  # but no amend for a blocked code
    assert not any(isinstance(r, ModifyOrderRequest) for r, _ in recorder.sent)


def test_nothing_is_sent_before_the_first_reconciliation(gateway) -> None:
    gw, recorder = gateway
    gw.ctx.ready = False
    order, why = gw.place(
        OrderRequest("000660", Side.BUY, 1, 190_000), purpose="manual", reason="", manual=True
    )
    assert order is None and "재조정" in why
    assert recorder.sent == []


def _sold(gw: OrderGateway, order_no: str, quantity: int, price: int) -> None:
    """The 00 event of `order_no` (a sell) filled in full at `price`."""
    gw.on_order_events(
        [
            event(
                order_no,
                OrderEventKind.FILLED,
                filled=quantity,
                unit_qty=quantity,
                price=price,
                unfilled=0,
                side=Side.SELL,
            )
        ]
    )


def test_sell_fill_books_realised_pnl_and_closes_the_position(gateway) -> None:
    gw, _ = gateway
    order, _ = gw.place(
        OrderRequest("005930", Side.SELL, 10, 0, OrderType.MARKET),
        purpose="stop_loss",
        reason="손절",
    )
    assert order is not None
    gw.on_reply(accepted(order.request_id, "0000009"))
    _sold(gw, "0000009", 10, 68_000)
    ctx = gw.ctx
    assert "005930" not in ctx.positions
    fees = ctx.rules.fees
    expected = (
        680_000
        - fees.commission(680_000)
        - fees.tax(680_000, True)
        - 700_000
        - fees.commission(700_000)
    )
    assert ctx.ledger.realized_pnl == expected
    assert [e.kind for e in ctx.journal.entries(code="005930", kinds=[JournalKind.FILL])] == [
        JournalKind.FILL
    ]
    assert "0000009-F10" in ctx.tables.rows("fills")


def test_selling_a_holding_the_engine_did_not_manage_books_its_real_pnl(gateway) -> None:
    """A manual sell of a holding the engine never tracked: its cost comes from the
    account's average price, so the day's P/L (and the daily loss limit) sees the loss."""
    gw, _ = gateway
    ctx = gw.ctx
    ctx.tables.set_row(
        "holdings", "000660", {"code": "000660", "quantity": 5, "avg_price": 200_000}
    )
    order, _ = gw.place(
        OrderRequest("000660", Side.SELL, 5, 0, OrderType.MARKET),
        purpose="manual",
        reason="",
        manual=True,
    )
    assert order is not None
    gw.on_reply(accepted(order.request_id, "0000011"))
    _sold(gw, "0000011", 5, 180_000)
    fees = ctx.rules.fees
    expected = (
        900_000
        - fees.commission(900_000)
        - fees.tax(900_000, True)
        - 1_000_000
        - fees.commission(1_000_000)
    )
    assert ctx.ledger.realized_pnl == expected < -100_000
