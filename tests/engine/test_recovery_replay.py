"""Restart recovery from the journal, the cases a review of the first version found: no
usable snapshot of today, a wall clock stepped back, an unsent order that must not take
over the morning's order, fills found by reconciliation, the cost of an unmanaged holding,
and a snapshot of another mode."""

from __future__ import annotations

import datetime as dt
import time
import types
from pathlib import Path

from kiwoom_terminal.constants import Mode, OrderType, Side, Venue
from kiwoom_terminal.decisions import PositionState
from kiwoom_terminal.engine import recovery as recovery_module
from kiwoom_terminal.engine.clock import MarketClock
from kiwoom_terminal.engine.context import EngineContext, Rules
from kiwoom_terminal.engine.gateway import OrderGateway
from kiwoom_terminal.engine.journal import Journal
from kiwoom_terminal.engine.ledger import DayLedger
from kiwoom_terminal.engine.positions import TrackedPosition
from kiwoom_terminal.engine.recovery import Recovery
from kiwoom_terminal.engine.snapshot import SnapshotStore
from kiwoom_terminal.krx import KST
from kiwoom_terminal.messages import AccountSnapshot, OrderOutcome, OrderReply
from kiwoom_terminal.objects import (
    AccountBalanceData,
    FillData,
    OrderAckData,
    OrderRequest,
    PositionData,
)
from kiwoom_terminal.settings import AppSettings, replace_setting

TODAY = dt.datetime.now(KST).strftime("%Y%m%d")
YESTERDAY = (dt.datetime.now(KST) - dt.timedelta(days=1)).strftime("%Y%m%d")
AFTERNOON = dt.datetime.now(KST).replace(hour=14, minute=0, second=0, microsecond=0)


def _ctx(tmp_path: Path, day: str = TODAY, mode: str = "mock") -> EngineContext:
    settings = replace_setting(AppSettings(), "general/mode", mode)
    return EngineContext(
        settings=settings,
        rules=Rules.from_settings(settings),
        journal=Journal(tmp_path / "journal.sqlite3"),  # one journal, as in the engine
        clock=MarketClock(Mode(mode), wall=lambda: AFTERNOON),
        send=lambda request: request.request_id,
        ledger=DayLedger(day),
    )


def _ready(tmp_path: Path) -> tuple[SnapshotStore, EngineContext, OrderGateway]:
    """Today's engine context, ready to order, with its snapshot store and gateway."""
    ctx = _ctx(tmp_path)
    ctx.ready = True
    return SnapshotStore(tmp_path / "data"), ctx, OrderGateway(ctx)


def _buy_acked(gateway: OrderGateway, code: str, order_no: str) -> str:
    order, why = gateway.place(
        OrderRequest(code, Side.BUY, 10, 50_000), purpose="entry", reason="매수", source="조건1"
    )
    assert order is not None, why
    gateway.on_reply(
        OrderReply(order.request_id, OrderOutcome.ACCEPTED, OrderAckData(order_no), None, 1)
    )
    return order.request_id


def _account(fills=(), positions=()) -> AccountSnapshot:
    return AccountSnapshot(
        [], list(fills), AccountBalanceData(0, 0, 0, 0.0, 0, tuple(positions)), time.time()
    )


def _fill(no: str, code: str, side: Side, qty: int, price: int, at: str) -> FillData:
    return FillData(
        no, "", code, "", side, OrderType.LIMIT, price, qty, price, qty, 0, 0, 0, at, Venue.KRX
    )


def _restart(
    tmp_path: Path, store: SnapshotStore, mode: str = "mock"
) -> tuple[EngineContext, Recovery, list[str]]:
    again = _ctx(tmp_path, mode=mode)
    recovery = Recovery(again, OrderGateway(again), store)
    return again, recovery, recovery.restore()


def test_no_snapshot_of_today_replays_the_whole_day(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "data")
    yesterday = _ctx(tmp_path, YESTERDAY)
    Recovery(yesterday, OrderGateway(yesterday), store).save()
    ctx = _ctx(tmp_path)
    ctx.ready = True
    gateway = OrderGateway(ctx)
    Recovery(ctx, gateway, store).save()  # today's first-ready snapshot …
    request_id = _buy_acked(gateway, "035720", "0000007")
    store.current.write_bytes(b"\x80garbage")  # … unreadable: the fallback is yesterday's
    again, _, _ = _restart(tmp_path, store)
    assert again.orders.by_request[request_id].order_no == "0000007"
    assert "035720" in again.ledger.bought
    store.previous.unlink()  # no snapshot at all
    again, _, _ = _restart(tmp_path, store)
    assert request_id in again.orders.by_request


def test_the_replay_follows_journal_ids_not_the_wall_clock(tmp_path: Path, monkeypatch) -> None:
    store, ctx, gateway = _ready(tmp_path)

    class Ahead(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return dt.datetime.now(tz) + dt.timedelta(seconds=2)

    monkeypatch.setattr(recovery_module, "dt", types.SimpleNamespace(datetime=Ahead))
    Recovery(ctx, gateway, store).save()  # then NTP steps the clock back 2 s
    monkeypatch.setattr(recovery_module, "dt", dt)
    request_id = _buy_acked(gateway, "035720", "0000007")
    again, _, _ = _restart(tmp_path, store)
    assert request_id in again.orders.by_request


def test_an_unsent_sell_never_takes_over_the_mornings_sell(tmp_path: Path) -> None:
    """Morning: 005930 ×10 sold (the engine's order, journaled). Afternoon: 10 bought again;
    the stop-loss sell is journaled, then kill -9 before it reached the server. The account
    has only the morning's fill of that size: it must not be taken for the new sell."""
    store, ctx, gateway = _ready(tmp_path)
    ctx.positions["005930"] = TrackedPosition(
        "005930", "", PositionState(70_000, 10), source="manual"
    )
    Recovery(ctx, gateway, store).save()
    ctx.clock.observe("140000")  # the tick that decided the stop-loss, stamped by the server
    order, why = gateway.place(
        OrderRequest("005930", Side.SELL, 10, 0, OrderType.MARKET),
        purpose="stop_loss",
        reason="손절",
    )
    assert order is not None, why
    again, recovery, _ = _restart(tmp_path, store)
    held = PositionData("005930", "", 10, 10, 70_000, 69_000, 700_000, 690_000, -10_000, 0, -1.4)
    morning = _fill("0000003", "005930", Side.SELL, 10, 72_000, "093000")  # placed at 09:30
    recovery.apply(_account([morning], [held]), "시작")
    assert again.positions["005930"].quantity == 10  # still managed: its stop-loss is armed
    assert again.ledger.realized_pnl == 0  # the morning's fill is not booked a second time
    assert again.orders.by_request[order.request_id].order_no == ""


def test_an_order_number_the_journal_gave_to_another_request_is_not_adopted(
    tmp_path: Path,
) -> None:
    """Same as above, but the other order was placed a moment before: the journal ties its
    number to the earlier request, so the unsent one does not take it."""
    store, ctx, gateway = _ready(tmp_path)
    first = _buy_acked(gateway, "035720", "0000007")
    ctx.orders.by_request[first].filled = 10  # (filled and closed before the snapshot)
    ctx.orders.by_request[first].status = ctx.orders.by_request[first].status.FILLED
    Recovery(ctx, gateway, store).save()
    second, why = gateway.place(
        OrderRequest("035720", Side.BUY, 10, 50_000), purpose="entry", reason="", source="조건1"
    )
    assert second is not None, why
    again, recovery, _ = _restart(tmp_path, store)
    same_moment = _fill("0000007", "035720", Side.BUY, 10, 50_000, "140000")
    recovery.apply(_account([same_moment]), "시작")
    assert again.orders.by_request[second.request_id].order_no == ""


def test_fills_found_by_reconciliation_do_not_count_as_newer_than_the_account(
    tmp_path: Path,
) -> None:
    store, ctx, gateway = _ready(tmp_path)
    Recovery(ctx, gateway, store).save()
    _buy_acked(gateway, "035720", "0000007")
    again, recovery, _ = _restart(tmp_path, store)
    held = PositionData("035720", "", 10, 10, 50_500, 51_000, 505_000, 510_000, 5_000, 0, 1.0)
    recovery.apply(
        _account([_fill("0000007", "035720", Side.BUY, 10, 51_000, "140001")], [held]), "시작"
    )
    position = again.positions["035720"]
    assert (position.quantity, position.avg_price) == (10, 50_500)  # the account's average
    assert again.tables.get("holdings", "035720") is not None
    # Bought and sold in the HTS while the terminal was down: not managed any more.
    sold = SnapshotStore(tmp_path / "sold")
    ctx2 = _ctx(tmp_path / "b")
    ctx2.ready = True
    gateway2 = OrderGateway(ctx2)
    Recovery(ctx2, gateway2, sold).save()
    _buy_acked(gateway2, "035720", "0000008")
    again2 = _ctx(tmp_path / "b")
    recovery2 = Recovery(again2, OrderGateway(again2), sold)
    recovery2.restore()
    recovery2.apply(_account([_fill("0000008", "035720", Side.BUY, 10, 50_000, "140001")]), "시작")
    assert "035720" not in again2.positions


def test_the_sell_of_an_unmanaged_holding_keeps_its_cost_across_a_restart(
    tmp_path: Path,
) -> None:
    store, ctx, gateway = _ready(tmp_path)
    ctx.tables.set_row(
        "holdings", "005930", {"code": "005930", "quantity": 10, "avg_price": 50_000}
    )
    ctx.tables.flush()
    Recovery(ctx, gateway, store).save()
    order, why = gateway.place(
        OrderRequest("005930", Side.SELL, 10, 45_000), purpose="manual", reason="", manual=True
    )
    assert order is not None, why
    gateway.on_reply(
        OrderReply(order.request_id, OrderOutcome.ACCEPTED, OrderAckData("0000009"), None, 1)
    )
    ctx.tables.remove("holdings", "005930")  # the balance event came first: the row is gone
    ctx.tables.flush()
    again, recovery, _ = _restart(tmp_path, store)
    again.tables.remove("holdings", "005930")  # and the restored 잔고 is no help either
    recovery.apply(_account([_fill("0000009", "005930", Side.SELL, 10, 45_000, "140002")]), "시작")
    fees = again.rules.fees
    cost = 500_000 + fees.commission(500_000)
    proceeds = 450_000 - fees.commission(450_000) - fees.tax(450_000, True)
    assert again.ledger.realized_pnl == proceeds - cost  # ≈ −51,000, not just the fees


def test_a_snapshot_of_another_mode_is_not_restored(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "data")
    sim = _ctx(tmp_path, mode="sim")
    sim.ready = True
    sim.positions["005930"] = TrackedPosition("005930", "", PositionState(70_000, 10))
    sim.ledger.bought.add("005930")
    gateway = OrderGateway(sim)
    Recovery(sim, gateway, store).save()
    _buy_acked(gateway, "035720", "0000007")  # a simulator order after the snapshot
    real, recovery, lines = _restart(tmp_path, store, mode="real")
    assert real.positions == {} and real.ledger.bought == set()
    assert not real.orders.by_request  # nor the simulator's journaled order
    assert any("다른 모드(sim)" in line for line in recovery.warnings)
    assert lines
