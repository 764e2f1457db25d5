"""The market clock, the day ledger, and snapshot save/restore of the engine state."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from kiwoom_terminal import krx
from kiwoom_terminal.constants import Mode, OrderAction, OrderStatus, OrderType, Side, Venue
from kiwoom_terminal.decisions import PositionState
from kiwoom_terminal.engine.clock import MarketClock
from kiwoom_terminal.engine.context import EngineContext, Rules
from kiwoom_terminal.engine.gateway import OrderGateway
from kiwoom_terminal.engine.journal import Journal
from kiwoom_terminal.engine.ledger import DayLedger
from kiwoom_terminal.engine.orders import ManagedOrder
from kiwoom_terminal.engine.positions import TrackedPosition
from kiwoom_terminal.engine.recovery import Recovery
from kiwoom_terminal.engine.snapshot import SnapshotStore
from kiwoom_terminal.krx import KST
from kiwoom_terminal.messages import (
    AccountSnapshot,
    ErrorInfo,
    ErrorKind,
    OrderOutcome,
    OrderReply,
)
from kiwoom_terminal.objects import (
    AccountBalanceData,
    FillData,
    OpenOrderData,
    OrderAckData,
    OrderRequest,
    PositionData,
)
from kiwoom_terminal.settings import AppSettings

WALL = dt.datetime(2026, 1, 5, 14, 0, 0, tzinfo=KST)


class FakeMono:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_sim_clock_follows_server_stamps() -> None:
    mono = FakeMono()
    clock = MarketClock(Mode.SIM, wall=lambda: WALL, monotonic=mono)
    assert not clock.synced and clock.time_of_day() == dt.time(14, 0)  # no stamp yet: wall
    clock.observe("100000")
    mono.t += 2.5
    assert clock.time_of_day() == dt.time(10, 0, 2, 500000)
    clock.observe("100001")  # a stamp of a second already running: keep the finer estimate
    assert clock.time_of_day() == dt.time(10, 0, 2, 500000)
    clock.observe("100010")  # the server is ahead (a faster simulator clock): follow
    assert clock.time_of_day() == dt.time(10, 0, 10)
    clock.observe("090000")  # far behind: a new simulated day
    assert clock.time_of_day() == dt.time(9, 0)
    clock.observe("bad")
    assert clock.time_of_day() == dt.time(9, 0)


def test_mock_and_real_use_the_wall_clock() -> None:
    clock = MarketClock(Mode.REAL, wall=lambda: WALL)
    clock.observe("100000")
    assert clock.synced and clock.time_of_day() == dt.time(14, 0)
    # … but remember the server's own stamp (the bound for matching unknown orders, which
    # must not depend on this PC's clock being right)
    assert clock.last_stamp == "100000"
    clock.observe("bad")
    assert clock.last_stamp == "100000"


def test_ledger_realised_pnl_and_order_window() -> None:
    fees = krx.FeeSchedule()
    ledger = DayLedger("20260105")
    assert (
        ledger.book_fill(
            is_buy=True, price=10_000, quantity=100, avg_price=10_000, fee=0, tax=0, fees=fees
        )
        == 0
    )
    pnl = ledger.book_fill(
        is_buy=False, price=9_700, quantity=100, avg_price=10_000, fee=0, tax=0, fees=fees
    )
    assert pnl == 970_000 - fees.commission(970_000) - fees.tax(
        970_000, True
    ) - 1_000_000 - fees.commission(1_000_000)
    assert ledger.realized_pnl == pnl < 0
    for t in (0.0, 10.0, 59.0, 61.0):
        ledger.order_sent(t)
    state = ledger.risk_state(positions=1, pending=frozenset(), unrealized_pnl=-500, now_mono=65.0)
    assert state.orders_in_window(65.0) == 3 and state.day_pnl == pnl - 500
    restored = DayLedger.from_record(ledger.to_record())
    assert restored.realized_pnl == pnl and restored.day == "20260105"


def _context(tmp_path: Path, day: str) -> EngineContext:
    settings = AppSettings()
    return EngineContext(
        settings=settings,
        rules=Rules.from_settings(settings),
        journal=Journal(tmp_path / f"journal-{day}.sqlite3"),
        clock=MarketClock(Mode.MOCK),
        send=lambda request: request.request_id,
        ledger=DayLedger(day),
    )


def test_snapshot_round_trip_keeps_trailing_state_and_same_day_orders(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "data")
    ctx = _context(tmp_path, "20260105")
    ctx.ready = True
    ctx.positions["005930"] = TrackedPosition(
        "005930",
        "삼성전자",
        PositionState(70_000, 10, True, 73_400, True),
        price=72_800,
        source="조건1",
    )
    ctx.ledger.bought.update({"005930", "000660"})
    ctx.ledger.realized_pnl = -12_345
    gateway = OrderGateway(ctx)
    order, _ = gateway.place(
        OrderRequest("035720", Side.BUY, 3, 40_000), purpose="entry", reason="매수"
    )
    assert order is not None  # no reply yet: its outcome is unknown after a crash
    Recovery(ctx, gateway, store).save()

    same_day = _context(tmp_path, "20260105")
    lines = Recovery(same_day, OrderGateway(same_day), store).restore()
    position = same_day.positions["005930"]
    assert position.exit_state == PositionState(70_000, 10, True, 73_400, True)
    assert position.source == "조건1" and position.price == 72_800
    assert same_day.ledger.bought == {"005930", "000660", "035720"}  # a buy sent counts
    assert same_day.ledger.realized_pnl == -12_345
    restored_order = same_day.orders.by_request[order.request_id]
    assert restored_order.status is OrderStatus.UNKNOWN  # sent, never answered
    assert restored_order.request == OrderRequest("035720", Side.BUY, 3, 40_000, OrderType.LIMIT)
    assert same_day.positions["035720"].buy_pending
    assert any("73,400" in line for line in lines)

    next_day = _context(tmp_path, "20260106")
    Recovery(next_day, OrderGateway(next_day), store).restore()
    assert set(next_day.positions) == {"005930"}  # yesterday's unfilled buy is gone
    assert next_day.positions["005930"].exit_state.high_since_arm == 73_400
    assert next_day.ledger.bought == set() and list(next_day.orders.open_orders()) == []


def test_corrupt_snapshot_falls_back_to_the_previous_one(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "data")
    ctx = _context(tmp_path, "20260105")
    ctx.positions["005930"] = TrackedPosition("005930", "", PositionState(70_000, 10, True, 73_000))
    recovery = Recovery(ctx, OrderGateway(ctx), store)
    recovery.save()
    ctx.positions["005930"].exit_state = PositionState(70_000, 10, True, 75_000)
    recovery.save()
    store.current.write_bytes(b"\x80garbage")
    fresh = _context(tmp_path, "20260105")
    lines = Recovery(fresh, OrderGateway(fresh), store).restore()
    assert fresh.positions["005930"].exit_state.high_since_arm == 73_000
    assert any("이전 스냅샷" in line for line in lines)


def test_orders_sent_after_the_last_snapshot_come_back_from_the_journal(tmp_path: Path) -> None:
    """kill -9 between two snapshots: the orders the journal holds are not forgotten."""
    store = SnapshotStore(tmp_path / "data")
    ctx = _context(tmp_path, "20260105")
    ctx.ready = True
    gateway = OrderGateway(ctx)
    Recovery(ctx, gateway, store).save()  # the last snapshot before the crash
    unanswered, _ = gateway.place(
        OrderRequest("035720", Side.BUY, 3, 40_000), purpose="entry", reason="매수", source="조건1"
    )
    acked, _ = gateway.place(
        OrderRequest("000660", Side.BUY, 2, 190_000), purpose="entry", reason=""
    )
    refused, _ = gateway.place(
        OrderRequest("005380", Side.BUY, 1, 200_000), purpose="entry", reason=""
    )
    assert unanswered and acked and refused
    gateway.on_reply(
        OrderReply(acked.request_id, OrderOutcome.ACCEPTED, OrderAckData("0000007"), None, 1)
    )
    error = ErrorInfo(ErrorKind.REJECTED, "RC4003", "호가단위 오류")
    gateway.on_reply(OrderReply(refused.request_id, OrderOutcome.REJECTED, None, error, 1))
    # kill -9 here, before the next snapshot; then a restart:
    sent: list[object] = []
    again = _context(tmp_path, "20260105")
    again.send = lambda request: sent.append(request) or request.request_id
    recovery = Recovery(again, OrderGateway(again), store)
    lines = recovery.restore()

    orders = again.orders.by_request
    assert orders[unanswered.request_id].status is OrderStatus.UNKNOWN
    assert orders[unanswered.request_id].purpose == "entry"
    assert again.positions["035720"].buy_pending and again.positions["035720"].source == "조건1"
    assert orders[acked.request_id].status is OrderStatus.ACCEPTED
    assert again.orders.by_no["0000007"] is orders[acked.request_id]
    assert refused.request_id not in orders and "005380" not in again.positions
    assert {"035720", "000660"} <= again.ledger.bought  # the re-buy block holds
    assert sum("복원(저널)" in line for line in lines) == 2

    # The account shows the unanswered buy filled and the acknowledged one resting (stamped
    # now by the server's clock, which in mock mode is the wall clock: after the send).
    now = dt.datetime.now(KST).strftime("%H%M%S")
    account = AccountSnapshot(
        [OpenOrderData("0000007", "", "000660", "", Side.BUY, OrderAction.NEW,
                       OrderType.LIMIT, 2, 190_000, 2, 0, now, Venue.KRX)],
        [FillData("0000006", "", "035720", "", Side.BUY, OrderType.LIMIT, 40_000, 3, 40_000,
                  3, 0, 0, 0, now, Venue.KRX)],
        AccountBalanceData(0, 0, 0, 0.0, 0, (
            PositionData("035720", "", 3, 3, 40_000, 40_000, 40_000, 120_000, 120_000, 0, 0.0),
        )),
        time.time(),
    )  # fmt: skip
    recovery.apply(account, "시작")
    bought = again.positions["035720"]
    assert bought.quantity == 3 and bought.exit_state.avg_price == 40_000 and not bought.buy_pending
    assert orders[unanswered.request_id].order_no == "0000006"
    assert orders[unanswered.request_id].status is OrderStatus.FILLED
    assert orders[acked.request_id].is_open and again.positions["000660"].buy_pending
    assert sent == []  # nothing is sent again


def test_restored_orders_restart_their_amend_clock(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "data")
    ctx = _context(tmp_path, "20260105")
    ctx.ready = True
    gateway = OrderGateway(ctx)
    order, _ = gateway.place(
        OrderRequest("035720", Side.BUY, 3, 40_000), purpose="entry", reason=""
    )
    assert order is not None
    order.last_action_at = 123.0  # the old process's monotonic clock (before a reboot)
    Recovery(ctx, gateway, store).save()
    again = _context(tmp_path, "20260105")
    again.mono = lambda: 5.0  # this boot's clock
    Recovery(again, OrderGateway(again), store).restore()
    assert again.orders.by_request[order.request_id].last_action_at == 5.0


def test_the_orders_per_minute_window_survives_a_restart(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "data")
    ctx = _context(tmp_path, "20260105")
    ctx.mono = lambda: 500.0  # this boot's monotonic clock …
    ctx.wall = lambda: 1_800_000_000.0
    for t in (430.0, 470.0, 495.0):  # orders 70, 30 and 5 s ago
        ctx.ledger.order_sent(t)
    Recovery(ctx, OrderGateway(ctx), store).save()
    again = _context(tmp_path, "20260105")
    again.mono = lambda: 12.0  # … and the next one's, after a reboot 10 s later
    again.wall = lambda: 1_800_000_010.0
    Recovery(again, OrderGateway(again), store).restore()
    # the two orders still inside the minute count (40 and 15 s ago); the 80 s one does not
    assert list(again.ledger.order_times) == [12.0 - 40.0, 12.0 - 15.0]


def _trading(tmp_path: Path) -> tuple[EngineContext, OrderGateway, Recovery]:
    """A ready engine context (no workers) with its gateway and recovery."""
    ctx = _context(tmp_path, "20260105")
    ctx.ready = True
    gateway = OrderGateway(ctx)
    return ctx, gateway, Recovery(ctx, gateway, SnapshotStore(tmp_path / "data"))


def _acked_buy(
    gateway: OrderGateway, code: str, quantity: int, price: int, order_no: str, purpose: str
) -> ManagedOrder:
    """A limit buy placed through the gateway and acknowledged as `order_no`."""
    order, why = gateway.place(
        OrderRequest(code, Side.BUY, quantity, price), purpose=purpose, reason="편입"
    )
    assert order is not None, why
    gateway.on_reply(
        OrderReply(order.request_id, OrderOutcome.ACCEPTED, OrderAckData(order_no, "", quantity))
    )
    return order


def test_reconciling_a_snapshot_older_than_an_acknowledgement_keeps_the_order_ours(
    tmp_path: Path,
) -> None:
    """Seen in the running terminal: a reconciliation's account snapshot already listed our
    new buy, but the engine read the buy's acknowledgement only after the snapshot was taken.
    The order was adopted a second time as an external order, the fill went to that copy,
    and the amend timer kept amending our (filled) copy: RC4033 three times."""
    ctx, gateway, recovery = _trading(tmp_path)
    taken = time.time()  # the TR worker took the snapshot …
    # … and the engine read the acknowledgement after it
    order = _acked_buy(gateway, "098460", 66, 15_120, "0000001", "entry")
    order.answered_at = taken + 0.05
    now = dt.datetime.now(KST).strftime("%H%M%S")
    account = AccountSnapshot(
        [OpenOrderData("0000001", "", "098460", "", Side.BUY, OrderAction.NEW,
                       OrderType.LIMIT, 66, 15_120, 66, 0, now, Venue.KRX)],
        [],
        AccountBalanceData(0, 0, 0, 0.0, 0, ()),
        taken,
    )  # fmt: skip
    recovery.apply(account, "재구독")
    assert ctx.orders.by_no["0000001"] is order  # still our buy, not an external copy
    assert [o.request_id for o in ctx.orders.open_orders()] == [order.request_id]
    assert order.purpose == "entry" and ctx.positions["098460"].buy_pending


def _amended_without_an_answer(
    ctx: EngineContext,
    gateway: OrderGateway,
    code: str,
    quantity: int,
    price: int,
    new_price: int,
    order_no: str,
) -> ManagedOrder:
    """A buy of "조건1", acknowledged as `order_no`, whose amend to `new_price` came back
    with an unknown outcome (a 500: carried out or not)."""
    buy = _acked_buy(gateway, code, quantity, price, order_no, "조건1")
    assert gateway.modify(buy, new_price, quantity, "정정 1/3")
    (command_id,) = list(ctx.orders.commands)
    gateway.on_reply(
        OrderReply(command_id, OrderOutcome.UNKNOWN, None, ErrorInfo(ErrorKind.SERVER, "", "5xx"))
    )
    return buy


def test_an_amend_with_an_unknown_outcome_that_filled_keeps_the_position_managed(
    tmp_path: Path,
) -> None:
    """Seen with the simulator's ghost_rate fault: the amend of a resting buy came back as a
    500 although the server had carried it out, and its new order filled at once. The
    reconciliation took the original for cancelled, dropped the pending position and
    reported the 17 shares as a holding the engine does not manage — no stop-loss, no
    trailing stop. Now the new order is adopted as the original's successor, its fill is
    booked and the position stays managed."""
    ctx, gateway, recovery = _trading(tmp_path)
    asked: list[str] = []
    ctx.request_reconcile = asked.append
    buy = _amended_without_an_answer(ctx, gateway, "005935", 17, 58_100, 58_200, "0000001")
    now = dt.datetime.now(KST).strftime("%H%M%S")
    account = AccountSnapshot(
        [],
        [FillData("0000009", "0000001", "005935", "삼성전자우", Side.BUY, OrderType.LIMIT,
                  58_200, 17, 58_200, 17, 0, 0, 0, now, Venue.KRX)],
        AccountBalanceData(0, 0, 0, 0.0, 0, (
            PositionData("005935", "삼성전자우", 17, 17, 58_200, 58_200, 58_200, 989_400,
                         989_400, 0, 0.0),
        )),
        time.time(),
    )  # fmt: skip
    recovery.apply(account, "정정 결과 불명")
    position = ctx.positions["005935"]
    assert position.source == "조건1" and position.held and not position.buy_pending
    assert position.quantity == 17 and position.exit_state.avg_price == 58_200
    successor = ctx.orders.by_no["0000009"]
    assert successor.purpose == "조건1" and successor.status is OrderStatus.FILLED
    assert successor.filled == 17 and successor.orig_order_no == "0000001"
    assert buy.status is OrderStatus.REPLACED
    assert "005935" in ctx.ledger.bought
    fills = [e for e in ctx.journal.entries(order_no="0000009") if e.kind.value == "fill"]
    assert [(f.quantity, f.price) for f in fills] == [(17, 58_200)]
    # the 체결 table shows the account's fill time, not a blank
    assert [row["time"] for row in ctx.tables.rows("fills").values()] == [now]
    assert ctx.orders.open_orders() == []


def test_an_amend_with_an_unknown_outcome_still_open_is_reported_as_our_modify(
    tmp_path: Path,
) -> None:
    """Seen with the ghost_rate fault: an amend carried out but answered 500, its new order
    still resting. It was adopted correctly (our purpose, amends counted on), but the log
    called it "알 수 없던 미체결 주문", as if it were someone else's order."""
    ctx, gateway, recovery = _trading(tmp_path)
    logs: list[str] = []
    ctx.log = lambda level, text: logs.append(text)
    ctx.request_reconcile = lambda why: None
    buy = _amended_without_an_answer(ctx, gateway, "042700", 11, 90_300, 90_400, "0000003")
    now = dt.datetime.now(KST).strftime("%H%M%S")
    account = AccountSnapshot(
        [OpenOrderData("0000010", "0000003", "042700", "한미반도체", Side.BUY,
                       OrderAction.MODIFY, OrderType.LIMIT, 11, 90_400, 11, 0, now, Venue.KRX)],
        [],
        AccountBalanceData(0, 0, 0, 0.0, 0, ()),
        time.time(),
    )  # fmt: skip
    recovery.apply(account, "정정 결과 불명")
    successor = ctx.orders.by_no["0000010"]
    assert successor.purpose == "조건1" and successor.is_open and successor.remaining == 11
    assert buy.status is OrderStatus.REPLACED
    assert any(
        "주문 0000003의 정정 주문 0000010 (042700 매수 11주)을 이어받았습니다" in t for t in logs
    )
    assert not any("알 수 없던 미체결 주문" in t for t in logs), logs


def test_a_fill_found_by_reconciliation_keeps_the_accounts_fill_time(tmp_path: Path) -> None:
    """A fill whose event was lost (WebSocket drop) and which the reconciliation found: the
    체결 row shows when the account says it filled, not a blank time."""
    ctx, gateway, recovery = _trading(tmp_path)
    buy = _acked_buy(gateway, "028300", 16, 60_300, "0000002", "조건1")
    account = AccountSnapshot(
        [],
        [FillData("0000002", "", "028300", "HLB", Side.BUY, OrderType.LIMIT, 60_300, 16,
                  60_300, 16, 0, 0, 0, "100031", Venue.KRX)],
        AccountBalanceData(0, 0, 0, 0.0, 0, (
            PositionData("028300", "HLB", 16, 16, 60_300, 60_300, 60_300, 964_800, 964_800,
                         0, 0.0),
        )),
        time.time() + 1.0,
    )  # fmt: skip
    recovery.apply(account, "재구독")
    assert buy.status is OrderStatus.FILLED and buy.filled == 16
    assert [row["time"] for row in ctx.tables.rows("fills").values()] == ["100031"]
