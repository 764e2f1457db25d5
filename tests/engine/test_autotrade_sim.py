"""The auto-trading loop end to end: real workers, the real simulator, scripted prices.

Each test pins a stock's price (its random walk paused), forces it into the buy condition
and moves the price through the control API. Assertions are on what the simulator
received (orders per kind, the account) and on the engine's journal and state. Every test
uses its own stock so the shared simulator's account never mixes them.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from kiwoom_terminal.constants import ExitReason, OrderStatus, Side
from kiwoom_terminal.decisions import BuyRefusal
from kiwoom_terminal.engine.journal import JournalKind
from kiwoom_terminal.messages import TickBatch, WorkerKind
from tests.engine.conftest import (
    DEADLINE_MS,
    MANUAL_CONDITION,
    at_least,
    at_most,
    bought,
    buy_via_condition,
    held_quantity,
    journal_entries,
    orders_for,
    pin,
    position,
    settings_with,
)


def _sold(control: Any, code: str) -> bool:
    return held_quantity(control, code) == 0 and all(
        o["remaining"] == 0 for o in orders_for(control, code)
    )


def _sell_decision(engine: Any, code: str) -> Any:
    sells = [d for d in journal_entries(engine, code, JournalKind.DECISION) if d.side == "sell"]
    assert len(sells) == 1, sells
    return sells[0]


def _sell_and_wait(engine: Any, control: Any, qtbot: Any, code: str, price: int) -> None:
    control.set_price(code, price, pause=True)
    qtbot.waitUntil(lambda: _sold(control, code), timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: position(engine, code) is None, timeout=DEADLINE_MS)
    assert len([o for o in orders_for(control, code) if o["side"] == "sell"]) == 1


def test_buy_arm_trailing_and_sell_with_reasons(make_engine, control, qtbot) -> None:
    code = "005930"
    engine = make_engine()
    pos = buy_via_condition(engine, control, qtbot, code)
    avg = pos.avg_price
    assert pos.quantity == held_quantity(control, code) > 0
    high = at_least(avg, 4.0)
    control.set_price(code, high, pause=True)
    qtbot.waitUntil(lambda: position(engine, code).exit_state.armed, timeout=DEADLINE_MS)
    assert position(engine, code).exit_state.high_since_arm == high
    assert not position(engine, code).sell_pending
    _sell_and_wait(engine, control, qtbot, code, at_most(high, -1.6))
    decisions = journal_entries(engine, code, JournalKind.DECISION)
    assert [d.side for d in decisions] == [Side.BUY.value, Side.SELL.value]
    sell = decisions[-1]
    assert sell.detail["purpose"] == ExitReason.TRAILING_STOP.value
    assert sell.detail["high_since_arm"] == high
    assert "트레일링" in sell.reason
    kinds = [e.kind for e in journal_entries(engine, code)]
    # The request is journaled before the acknowledgement and the fills.
    assert kinds.index(JournalKind.ORDER_REQUEST) < kinds.index(JournalKind.ORDER_ACK)
    assert kinds.count(JournalKind.FILL) >= 2
    assert "005930" in engine.ctx.ledger.bought


def test_stop_loss(make_engine, control, qtbot) -> None:
    code = "000270"
    engine = make_engine()
    avg = buy_via_condition(engine, control, qtbot, code).avg_price
    control.set_price(code, at_least(avg, -2.5), pause=True)  # not yet
    _sell_and_wait(engine, control, qtbot, code, at_most(avg, -3.0))
    sell = _sell_decision(engine, code)
    assert sell.detail["purpose"] == ExitReason.STOP_LOSS.value
    assert sell.detail["return_pct"] <= -3.0


def test_take_profit(make_engine, control, qtbot) -> None:
    code = "035720"
    engine = make_engine(settings_with(trading__trailing_arm_pct="20"))
    avg = buy_via_condition(engine, control, qtbot, code).avg_price
    # The tables carry the change from the previous close (등락률; 현재가's colour).
    base = int(control.quote(code)["base"])
    up = at_least(avg, 1.0)
    control.set_price(code, up, pause=True)
    expected = round((up - base) * 100 / base, 2)

    def change(table: str) -> float:
        frame = engine.table(table)
        return float(frame.loc[code, "change_rate"]) if code in frame.index else float("nan")

    qtbot.waitUntil(
        lambda: (
            change("holdings") == pytest.approx(expected, abs=0.01)
            and change("tracking") == pytest.approx(expected, abs=0.01)
        ),
        timeout=DEADLINE_MS,
    )
    _sell_and_wait(engine, control, qtbot, code, at_least(avg, 10.0))
    sell = _sell_decision(engine, code)
    assert sell.detail["purpose"] == ExitReason.TAKE_PROFIT.value
    assert sell.detail["return_pct"] >= 10.0


def test_profit_protect_ignores_noise_inside_the_band(make_engine, control, qtbot) -> None:
    code = "316140"  # ~17,000 KRW: 10 KRW ticks, fine enough for a 0.2 % band
    settings = settings_with(
        trading__trailing_arm_pct="8",
        trading__profit_protect_trigger_pct="2",
        trading__profit_protect_floor_pct="0.5",
        trading__profit_protect_hysteresis_pct="0.2",
    )
    engine = make_engine(settings)
    avg = buy_via_condition(engine, control, qtbot, code).avg_price
    control.set_price(code, at_least(avg, 2.05), pause=True)
    qtbot.waitUntil(lambda: position(engine, code).exit_state.protect_active, timeout=DEADLINE_MS)
    noise = [at_least(avg, 0.35), at_most(avg, 0.65), at_least(avg, 0.35)]
    for price in noise:  # below the floor (0.5 %) but above the sell line (0.3 %)
        assert 0.3 < (price - avg) * 100 / avg < 0.7
        control.set_price(code, price, pause=True)
        qtbot.waitUntil(lambda p=price: position(engine, code).price == p, timeout=DEADLINE_MS)
    assert not position(engine, code).sell_pending
    assert orders_for(control, code, "new")[-1]["side"] == "buy"
    _sell_and_wait(engine, control, qtbot, code, at_most(avg, 0.3))
    sell = _sell_decision(engine, code)
    assert sell.detail["purpose"] == ExitReason.PROFIT_PROTECT.value
    assert "이익보존" in sell.reason


def _wait_ticks_buffered(engine: Any, code: str, price: int, timeout: float = 10.0) -> None:
    """Without running the Qt loop (so the engine cannot drain), wait until the worker has
    delivered the tick at `price`: both scripted ticks then reach the engine in one drain.
    Peeks at the supervisor's buffer, first moving what waits in the WebSocket worker's
    pipe into it (test only; there is no event to wait on)."""
    sup = engine.supervisor
    slot = sup._slots[WorkerKind.WS]
    buffer = slot.buffer
    deadline = time.monotonic() + timeout
    while True:
        with sup._lock:
            sup._read_direct(slot)
        delivered = [
            t.price
            for m in list(buffer)
            if isinstance(m, TickBatch)
            for t in m.ticks
            if t.code == code
        ]
        if price in delivered:
            return
        assert time.monotonic() < deadline, f"tick {price} not delivered: {delivered}"
        time.sleep(0.005)


def test_spike_inside_one_batch_arms_trailing(make_engine, control, qtbot) -> None:
    code = "066570"
    engine = make_engine()
    avg = buy_via_condition(engine, control, qtbot, code).avg_price
    spike = at_least(avg, 3.5)
    back = at_most(avg, 2.6)  # below the arm level, above the trailing stop of the spike
    assert back > spike * 0.985
    summaries: list[dict[str, Any]] = []
    engine.ticks.connect(summaries.append)
    control.set_price(code, spike, pause=True)
    control.set_price(code, back, pause=True)
    _wait_ticks_buffered(engine, code, back)
    qtbot.waitUntil(lambda: position(engine, code).price == back, timeout=DEADLINE_MS)
    batch = [s[code] for s in summaries if code in s]
    assert batch[0].high == spike and batch[0].last == back  # one coalesced batch
    state = position(engine, code).exit_state
    assert state.armed and state.high_since_arm == spike
    # The tracking table follows within `price_refresh_ms`, not only on the 1 s refresh.
    qtbot.waitUntil(
        lambda: engine.table("tracking").loc[code, "price"] == back, timeout=DEADLINE_MS
    )
    row = engine.table("tracking").loc[code]
    assert bool(row["trailing_armed"]) and row["high_since_arm"] == spike
    assert not position(engine, code).sell_pending
    _sell_and_wait(engine, control, qtbot, code, at_most(spike, -1.6))
    assert _sell_decision(engine, code).detail["purpose"] == ExitReason.TRAILING_STOP.value


def test_unfilled_limit_is_amended_then_filled(make_engine, control, qtbot) -> None:
    code = "105560"
    settings = settings_with(
        trading__buy_tick_offset="-2",
        amend__after_s="1",
        amend__ticks="1",
        amend__max_count="5",
        timers__amend_check_ms="200",
    )
    engine = make_engine(settings)
    pos = buy_via_condition(engine, control, qtbot, code)
    modifies = orders_for(control, code, "modify")
    assert modifies, "the buy filled without an amend"
    original = orders_for(control, code, "new")[0]
    assert original["filled"] == 0
    assert pos.quantity == original["qty"] == held_quantity(control, code)
    amends = journal_entries(engine, code, JournalKind.AMEND)
    assert len(amends) == len(modifies)
    prices = [a.price for a in amends]
    assert prices == sorted(prices) and prices[0] > original["price"]  # toward the market
    last = engine.ctx.orders.by_no[modifies[-1]["order_no"]]
    assert last.status is OrderStatus.FILLED and last.amend_count == len(modifies)


def test_partial_fill_amended_for_the_remainder_only(make_engine, control, qtbot) -> None:
    code = "055550"
    settings = settings_with(
        trading__buy_tick_offset="-2",
        amend__after_s="3600",
        amend__ticks="2",
        timers__amend_check_ms="200",
    )
    engine = make_engine(settings)
    pin(control, code)
    control.condition(MANUAL_CONDITION, code, "add")
    qtbot.waitUntil(lambda: len(orders_for(control, code, "new")) == 1, timeout=DEADLINE_MS)
    order = orders_for(control, code, "new")[0]
    book = control.book(code)
    ahead = sum(total for price, total, _ in book["bids"] if price >= order["price"])
    ahead -= order["qty"]  # our own order is in its level's total
    partial = order["qty"] // 3
    control.trade(code, "sell", ahead + partial, order["price"])
    managed = engine.ctx.orders.by_no
    qtbot.waitUntil(
        lambda: order["order_no"] in managed and managed[order["order_no"]].filled == partial,
        timeout=DEADLINE_MS,
    )
    assert position(engine, code).quantity == partial
    engine.update_setting("amend/after_s", "1")
    qtbot.waitUntil(
        lambda: (
            position(engine, code).quantity == order["qty"]
            and not position(engine, code).buy_pending
        ),
        timeout=DEADLINE_MS,
    )
    modify = orders_for(control, code, "modify")[0]
    assert modify["qty"] == order["qty"] - partial  # only the remainder moved
    assert managed[order["order_no"]].status is OrderStatus.REPLACED
    assert held_quantity(control, code) == order["qty"]


def test_rebuy_blocked_after_selling(make_engine, control, qtbot) -> None:
    code = "017670"
    engine = make_engine()
    avg = buy_via_condition(engine, control, qtbot, code).avg_price
    _sell_and_wait(engine, control, qtbot, code, at_least(avg, 10.0))
    control.condition(MANUAL_CONDITION, code, "remove")
    control.condition(MANUAL_CONDITION, code, "add")

    def skipped() -> bool:
        return any(
            d.detail.get("refusal") == BuyRefusal.BOUGHT_TODAY.value
            for d in journal_entries(engine, code, JournalKind.DECISION)
        )

    qtbot.waitUntil(skipped, timeout=DEADLINE_MS)
    assert len(orders_for(control, code, "new")) == 2  # one buy, one sell
    assert position(engine, code) is None


def test_daily_loss_limit_turns_auto_trade_off(make_engine, control, qtbot) -> None:
    code = "030200"
    engine = make_engine(settings_with(risk__daily_loss_limit="10000"))
    notices: list[str] = []
    engine.notice.connect(notices.append)
    avg = buy_via_condition(engine, control, qtbot, code).avg_price
    _sell_and_wait(engine, control, qtbot, code, at_most(avg, -3.5))
    qtbot.waitUntil(lambda: not engine.status.auto_trade, timeout=DEADLINE_MS)
    assert any("일일 손실 한도" in n for n in notices)
    assert engine.ctx.ledger.realized_pnl < -10_000
    assert any(e.kind is JournalKind.RISK for e in engine.journal.entries())
    # The buy condition is no longer watched: a new 편입 cannot buy.
    qtbot.waitUntil(lambda: not engine.autotrader.buy_conditions, timeout=DEADLINE_MS)
    qtbot.waitUntil(
        lambda: all(not s["conditions"] for s in control.state()["sessions"]),
        timeout=DEADLINE_MS,
    )
    assert not bool(engine.table("conditions").loc[MANUAL_CONDITION, "running"])


def test_websocket_drop_during_a_position_still_sells(make_engine, control, qtbot) -> None:
    code = "003550"
    engine = make_engine()
    avg = buy_via_condition(engine, control, qtbot, code).avg_price
    assert control.drop_websockets() >= 1
    control.set_price(code, at_most(avg, -3.5), pause=True)  # likely while reconnecting
    qtbot.waitUntil(lambda: _sold(control, code), timeout=DEADLINE_MS)
    qtbot.waitUntil(
        lambda: any(
            "실시간 재연결" in e.reason
            for e in engine.journal.entries(kinds=[JournalKind.RECONCILE])
        ),
        timeout=DEADLINE_MS,
    )
    assert _sell_decision(engine, code).detail["purpose"] == ExitReason.STOP_LOSS.value
    assert len([o for o in orders_for(control, code) if o["side"] == "sell"]) == 1


def test_a_killed_websocket_worker_is_watched_again_and_its_ticks_still_sell(
    make_engine, control, qtbot
) -> None:
    """kill -9 of the WebSocket worker during a position: its replacement brings a new
    result pipe, the engine watches that one (the old one is closed, never watched again)
    and the stop-loss on the new worker's ticks still sells."""
    code = "009150"
    engine = make_engine()
    avg = buy_via_condition(engine, control, qtbot, code).avg_price
    sup = engine.supervisor
    before = engine._wake_fds
    assert before == sup.wakeup_filenos() and len(engine._wakeups) == len(before)
    pid = sup.pid(WorkerKind.WS)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(
        lambda: sup.pid(WorkerKind.WS) != pid and engine._wake_fds != before,
        timeout=DEADLINE_MS,
    )
    assert engine._wake_fds == sup.wakeup_filenos()
    assert len(engine._wakeups) == len(engine._wake_fds)
    qtbot.waitUntil(
        lambda: engine.status.ready and code not in engine.ctx.blocked, timeout=DEADLINE_MS
    )
    _sell_and_wait(engine, control, qtbot, code, at_most(avg, -3.0))
    assert _sell_decision(engine, code).detail["purpose"] == ExitReason.STOP_LOSS.value


def test_after_the_last_amend_the_rest_is_sent_at_market(make_engine, control, qtbot) -> None:
    code = "086790"
    settings = settings_with(
        trading__buy_tick_offset="-4",
        amend__after_s="1",
        amend__ticks="1",
        amend__max_count="1",
        amend__after_last="market",
        timers__amend_check_ms="200",
    )
    engine = make_engine(settings)
    pos = buy_via_condition(engine, control, qtbot, code)
    new_orders = orders_for(control, code, "new")
    assert [o["trde_tp"] for o in new_orders] == ["0", "3"]  # the limit, then the market re-send
    assert len(orders_for(control, code, "modify")) == 1
    cancels = orders_for(control, code, "cancel")
    assert len(cancels) == 1 and cancels[0]["qty"] == new_orders[0]["qty"]
    assert pos.quantity == new_orders[0]["qty"] == held_quantity(control, code)
    reasons = [e.reason for e in journal_entries(engine, code, JournalKind.CANCEL)]
    assert any("시장가" in r for r in reasons)


def test_emergency_flatten_cancels_and_sells_everything(make_engine, control, qtbot) -> None:
    held, resting = "000810", "032830"
    engine = make_engine(settings_with(trading__buy_tick_offset="-5", amend__after_s="3600"))
    control.set_price(held, int(control.quote(held)["base"]), pause=True)
    control.set_account(holdings=[{"code": held, "qty": 3, "avg_price": 300_000}])
    engine.request_reconcile("test")
    qtbot.waitUntil(
        lambda: engine.ctx.tables.get("holdings", held) is not None, timeout=DEADLINE_MS
    )
    pin(control, resting)
    control.condition(MANUAL_CONDITION, resting, "add")
    qtbot.waitUntil(
        lambda: any(o.order_no for o in engine.ctx.orders.open_for(resting)), timeout=DEADLINE_MS
    )
    engine.emergency_flatten()
    assert not engine.status.auto_trade
    qtbot.waitUntil(lambda: held_quantity(control, held) == 0, timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: not engine.ctx.orders.open_orders(), timeout=DEADLINE_MS)
    assert all(o["remaining"] == 0 for o in orders_for(control, resting))
    assert held_quantity(control, resting) == 0
    sells = [o for o in orders_for(control, held, "new") if o["side"] == "sell"]
    assert len(sells) == 1 and sells[0]["trde_tp"] == "3" and sells[0]["qty"] == 3


def test_a_buy_of_unknown_outcome_is_found_in_the_account_not_sent_again(
    make_engine, control, qtbot
) -> None:
    """The server takes the buy but its reply is lost (HTTP 500): the engine blocks the
    code, reconciles, finds the order and its fill in the account and manages the position
    — one order at the server, never a second one."""
    code = "012330"
    engine = make_engine()
    pin(control, code)
    control.set_faults(ghost_rate=1)
    try:
        control.condition(MANUAL_CONDITION, code, "add")
        qtbot.waitUntil(lambda: len(orders_for(control, code)) == 1, timeout=DEADLINE_MS)
        qtbot.waitUntil(
            lambda: bool(journal_entries(engine, code, JournalKind.ORDER_UNKNOWN)),
            timeout=DEADLINE_MS,
        )
    finally:
        control.set_faults(ghost_rate=0)
    qtbot.waitUntil(
        lambda: bought(engine, code) and code not in engine.ctx.blocked, timeout=DEADLINE_MS
    )
    (order,) = orders_for(control, code)
    assert position(engine, code).quantity == held_quantity(control, code) == order["filled"]
    (managed,) = [o for o in engine.ctx.orders.by_request.values() if o.code == code]
    assert managed.order_no == order["order_no"] and managed.status is OrderStatus.FILLED
    assert managed.purpose == "entry"
    control.condition(MANUAL_CONDITION, code, "remove")
    control.condition(MANUAL_CONDITION, code, "add")  # bought today: no second buy
    qtbot.waitUntil(
        lambda: any(
            e.detail.get("refusal") for e in journal_entries(engine, code, JournalKind.DECISION)
        ),
        timeout=DEADLINE_MS,
    )
    assert len(orders_for(control, code)) == 1


def test_a_stop_loss_sell_the_server_never_placed_goes_out_again_without_the_rejection_pause(
    make_engine, control, qtbot
) -> None:
    """The stop-loss sell meets a 5xx (not processed): its outcome is unknown, the account
    shows no such order, so it was never placed — not refused on its merits. The exit goes
    out again about a second later, not after the 10 s pause a real rejection earns."""
    from kiwoom_terminal.engine.gateway import NOT_PLACED_RETRY_S, REJECT_COOLDOWN_S

    code = "034730"
    engine = make_engine()
    notices: list[str] = []
    engine.notice.connect(notices.append)
    avg = buy_via_condition(engine, control, qtbot, code).avg_price
    control.set_faults(error_rate=1)  # every REST request: 5xx before processing
    try:
        control.set_price(code, at_most(avg, -3.0), pause=True)
        qtbot.waitUntil(
            lambda: bool(journal_entries(engine, code, JournalKind.ORDER_UNKNOWN)),
            timeout=DEADLINE_MS,
        )
    finally:
        control.set_faults(error_rate=0)
    qtbot.waitUntil(lambda: _sold(control, code), timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: position(engine, code) is None, timeout=DEADLINE_MS)
    # The server processed one sell only: the first never reached it.
    assert len([o for o in orders_for(control, code) if o["side"] == "sell"]) == 1
    (closed,) = [
        e for e in journal_entries(engine, code, JournalKind.ORDER_REJECT) if e.side == "sell"
    ]
    assert closed.detail.get("not_placed") is True
    requests = [
        e for e in journal_entries(engine, code, JournalKind.ORDER_REQUEST) if e.side == "sell"
    ]
    assert len(requests) == 2
    waited = (requests[1].at - closed.at).total_seconds()
    assert NOT_PLACED_RETRY_S - 0.1 <= waited < REJECT_COOLDOWN_S, waited
    assert any("주문 미접수" in n and code in n for n in notices)
    assert not any("주문 거부" in n and code in n for n in notices)


def test_a_corrupt_snapshot_is_shown_as_a_warning_and_a_notice(engine_sim, tmp_path, qtbot) -> None:
    from kiwoom_terminal.engine.engine import TradingEngine
    from kiwoom_terminal.engine.snapshot import SnapshotStore
    from kiwoom_terminal.workers.supervisor import WorkerSupervisor
    from tests.engine.conftest import worker_config

    data = tmp_path / "data"
    store = SnapshotStore(data)
    for _ in range(2):  # a current and a previous snapshot
        store.save({"day": "20000101", "positions": [], "orders": [], "ledger": {}, "tables": {}})
    store.current.write_bytes(b"\x80garbage")
    engine = TradingEngine(settings_with(), WorkerSupervisor(worker_config(engine_sim)), data)
    logs: list[tuple[str, str]] = []
    notices: list[str] = []
    engine.log.connect(lambda level, message: logs.append((level, message)))
    engine.notice.connect(notices.append)
    try:
        engine.start()
        qtbot.waitUntil(lambda: engine.status.ready, timeout=DEADLINE_MS)
    finally:
        engine.shutdown()
    warned = [
        m for level, m in logs if level == "WARNING" and "스냅샷 파일을 읽을 수 없습니다" in m
    ]
    assert len(warned) == 1 and "이전 스냅샷" in warned[0]
    assert warned[0] in notices


def test_a_fresh_simulator_account_does_not_inherit_the_last_runs_positions(
    engine_sim, tmp_path, qtbot
) -> None:
    """The embedded simulator starts with a new in-memory account every run: the last run's
    positions, orders and bought-today codes belonged to an account that is gone."""
    from kiwoom_terminal.decisions import PositionState
    from kiwoom_terminal.engine.engine import TradingEngine
    from kiwoom_terminal.engine.positions import TrackedPosition
    from kiwoom_terminal.workers.supervisor import WorkerSupervisor
    from tests.engine.conftest import worker_config

    data = tmp_path / "data"
    last_run = TradingEngine(settings_with(), WorkerSupervisor(worker_config(engine_sim)), data)
    last_run.ctx.positions["005380"] = TrackedPosition(
        "005380", "현대차", PositionState(200_000, 3, True, 210_000)
    )
    last_run.ctx.ledger.bought.add("005380")
    last_run.recovery.save()  # what a killed run leaves behind
    last_run.supervisor.close()

    engine = TradingEngine(
        settings_with(), WorkerSupervisor(worker_config(engine_sim)), data, fresh_account=True
    )
    logs: list[str] = []
    engine.log.connect(lambda level, message: logs.append(message))
    try:
        engine.start()
        qtbot.waitUntil(lambda: engine.status.ready, timeout=DEADLINE_MS)
        assert "005380" not in engine.ctx.positions
        assert "005380" not in engine.ctx.ledger.bought
    finally:
        engine.shutdown()
    assert any("새 계좌로 시작합니다" in line for line in logs)
