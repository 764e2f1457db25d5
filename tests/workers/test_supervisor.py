"""The three worker processes under the supervisor, against a fresh simulator: orders with
their 00/04 events, real-time conditions, dropped WebSockets, kill -9 of each worker."""

from __future__ import annotations

import dataclasses
import os
import select
import signal
import time
from collections.abc import Iterator

import pytest

from kiwoom_terminal.constants import (
    ConditionChange,
    ConnectionState,
    Feed,
    OrderAction,
    OrderEventKind,
    OrderType,
    Side,
)
from kiwoom_terminal.messages import (
    BalanceEvents,
    CancelOrderRequest,
    ConditionEvents,
    ConnectionStatus,
    ErrorKind,
    ListConditions,
    ModifyOrderRequest,
    OrderEvents,
    OrderOutcome,
    OrderReply,
    PlaceOrderRequest,
    QuoteQuery,
    Resubscribed,
    StartCondition,
    StopCondition,
    Subscribe,
    TickBatch,
    TrReply,
    WorkerDied,
    WorkerKind,
    WsReply,
)
from kiwoom_terminal.objects import CancelRequest, ModifyRequest, OrderRequest
from kiwoom_terminal.sim.launcher import SimulatorProcess
from kiwoom_terminal.sim.listings import LISTINGS
from kiwoom_terminal.workers import result_pipe
from kiwoom_terminal.workers import supervisor as supervisor_module
from kiwoom_terminal.workers.supervisor import WorkerSupervisor
from tests.workers.conftest import Inbox, sim_config, wait_until

CODE = "005930"


@pytest.fixture
def running(
    fresh_sim: SimulatorProcess,
) -> Iterator[tuple[WorkerSupervisor, Inbox, SimulatorProcess]]:
    fresh_sim.control.pause()
    fresh_sim.control.set_price(CODE, 70_000, pause=True)
    with WorkerSupervisor(sim_config(fresh_sim)) as sup:
        inbox = Inbox(sup)
        for kind in WorkerKind:
            inbox.wait_for(
                lambda m, k=kind: (
                    isinstance(m, ConnectionStatus)
                    and m.worker is k
                    and m.state is ConnectionState.CONNECTED
                    or (
                        k is WorkerKind.WS
                        and isinstance(m, ConnectionStatus)
                        and m.worker is k
                        and m.state is ConnectionState.STARTING
                    )
                )
            )
        yield sup, inbox, fresh_sim


def _ok(inbox: Inbox, request_id: str) -> object:
    reply = inbox.reply(request_id)
    assert reply.ok, reply.error
    return reply.data


def _order(inbox: Inbox, sup: WorkerSupervisor, command: object) -> OrderReply:
    reply = inbox.reply(sup.send(command))  # type: ignore[arg-type]
    assert isinstance(reply, OrderReply)
    return reply


def _events(inbox: Inbox, order_no: str) -> list:
    return [
        e for batch in inbox.of_type(OrderEvents) for e in batch.events if e.order_no == order_no
    ]


def test_orders_events_ticks_and_conditions(
    running: tuple[WorkerSupervisor, Inbox, SimulatorProcess],
) -> None:
    sup, inbox, sim = running
    _ok(inbox, sup.send(Subscribe("1", (CODE,), (Feed.TRADES, Feed.ORDER_BOOK))))
    _ok(inbox, sup.send(Subscribe("0", (), (Feed.ORDERS, Feed.BALANCE))))
    sim.control.set_price(CODE, 70_500)
    tick = inbox.wait_for(
        lambda m: isinstance(m, TickBatch) and any(t.price == 70_500 for t in m.ticks)
    )
    assert all(t.code == CODE for t in tick.ticks)

    # limit buy below the market → accepted, then modified, then cancelled
    placed = _order(inbox, sup, PlaceOrderRequest(OrderRequest(CODE, Side.BUY, 10, 69_000)))
    assert placed.outcome is OrderOutcome.ACCEPTED and placed.ack is not None
    first = placed.ack.order_no
    inbox.wait_for(
        lambda m: isinstance(m, OrderEvents) and any(e.order_no == first for e in m.events)
    )
    assert _events(inbox, first)[0].kind is OrderEventKind.ACCEPTED
    modified = _order(inbox, sup, ModifyOrderRequest(ModifyRequest(first, CODE, 0, 69_500)))
    assert modified.ack is not None and modified.ack.base_orig_order_no == first
    second = modified.ack.order_no
    inbox.wait_for(
        lambda m: (
            isinstance(m, OrderEvents)
            and any(e.order_no == second and e.kind is OrderEventKind.CONFIRMED for e in m.events)
        )
    )
    modify_events = _events(inbox, second)
    assert modify_events[0].action is OrderAction.MODIFY and modify_events[0].orig_order_no == first
    cancelled = _order(inbox, sup, CancelOrderRequest(CancelRequest(second, CODE)))
    assert cancelled.outcome is OrderOutcome.ACCEPTED and cancelled.ack is not None

    # market buy → fills (00) and a position change (04)
    bought = _order(
        inbox, sup, PlaceOrderRequest(OrderRequest(CODE, Side.BUY, 5, 0, OrderType.MARKET))
    )
    assert bought.ack is not None
    number = bought.ack.order_no
    inbox.wait_for(
        lambda m: (
            isinstance(m, OrderEvents)
            and any(
                e.order_no == number and e.unfilled_qty == 0 and e.kind is OrderEventKind.FILLED
                for e in m.events
            )
        )
    )
    fills = [e for e in _events(inbox, number) if e.kind is OrderEventKind.FILLED]
    assert sum(e.unit_fill_qty for e in fills) == 5 and fills[-1].filled_qty == 5
    balance = inbox.wait_for(
        lambda m: (
            isinstance(m, BalanceEvents)
            and any(e.code == CODE and e.quantity == 5 for e in m.events)
        )
    )
    assert balance.events[-1].sellable_qty == 5
    held = {p["code"]: p["qty"] for p in sim.control.account()["positions"]}
    assert held == {CODE: 5}
    counts = sim.control.requests()
    assert (counts["kt10000"], counts["kt10002"], counts["kt10003"]) == (2, 1, 1)

    # conditions: list, real-time entries and exits, stop, one-shot
    conditions = _ok(inbox, sup.send(ListConditions()))
    assert "4" in {c.seq for c in conditions}  # type: ignore[attr-defined]
    assert _ok(inbox, sup.send(StartCondition("4"))) == []
    mark = len(inbox.messages)
    sim.control.condition("4", "000660", "add")
    entered = inbox.wait_for(lambda m: isinstance(m, ConditionEvents), start=mark)
    assert [(e.seq, e.code, e.change) for e in entered.events] == [
        ("4", "000660", ConditionChange.ENTER)
    ]
    sim.control.condition("4", "000660", "remove")
    left = inbox.wait_for(lambda m: isinstance(m, ConditionEvents), start=len(inbox.messages))
    assert [(e.code, e.change) for e in left.events] == [("000660", ConditionChange.EXIT)]
    matches = _ok(inbox, sup.send(StartCondition("4", realtime=False)))
    assert matches == []
    _ok(inbox, sup.send(StopCondition("4")))
    mark = len(inbox.messages)
    sim.control.condition("4", "000660", "add")
    sim.control.set_price(CODE, 70_600)  # a tick queued after any condition push
    inbox.wait_for(
        lambda m: isinstance(m, TickBatch) and any(t.price == 70_600 for t in m.ticks), start=mark
    )
    assert not inbox.of_type(ConditionEvents, start=mark)


def test_polling_one_worker_keeps_the_wake_up_of_the_others(
    running: tuple[WorkerSupervisor, Inbox, SimulatorProcess],
) -> None:
    """The engine's 100 ms TR timer polls only the TR worker: WebSocket messages that wait
    meanwhile must keep a wake-up fd readable, or the engine sees them only on its next
    10 ms timer (a lost wake-up made trailing-stop sells 7-10 ms late). On POSIX they wait
    in the WebSocket worker's own pipe, which is one of the wake-up fds."""
    sup, inbox, _ = running
    inbox.pump()  # start from empty buffers
    fds = sup.wakeup_filenos()
    socket_fd, pipes = fds[0], fds[1:]

    def readable() -> list[int]:
        return select.select(fds, [], [], 0)[0]

    def websocket_waits() -> bool:
        return sup.backlog(WorkerKind.WS) > 0 or any(fd in readable() for fd in pipes)

    assert readable() == []
    quote = sup.send(QuoteQuery(CODE))
    conditions = sup.send(ListConditions())
    wait_until(lambda: sup.backlog(WorkerKind.TR) > 0 and websocket_waits(), interval=0.01)
    tr_messages = sup.poll(WorkerKind.TR)
    assert [m.request_id for m in tr_messages if isinstance(m, TrReply)] == [quote]
    # the WebSocket reply still waits, so a wake-up fd must still say so
    assert readable() != []
    # several workers in one call, as the engine's drain polls them
    rest = sup.poll((WorkerKind.WS, WorkerKind.ORDER, WorkerKind.TR))
    assert [m.request_id for m in rest if isinstance(m, WsReply)] == [conditions]
    # every buffer and pipe is empty now: nothing is owed
    assert sup.backlog(WorkerKind.WS) == sup.backlog(WorkerKind.TR) == 0
    assert readable() == [] and socket_fd == sup.wakeup_filenos()[0]


def test_websocket_results_through_a_reader_thread_as_on_windows(
    fresh_sim: SimulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows has no non-blocking pipes: the supervisor reads the WebSocket worker's pipe
    on a reader thread (`get`, `recv_bytes`) that wakes the engine through the wake-up
    socket, the only wake-up fd. Forced here on the terminal's side (the worker still
    writes its frames directly; both framings are the same), so Linux runs that path."""
    monkeypatch.setattr(result_pipe, "DIRECT", False)
    monkeypatch.setattr(supervisor_module, "RESULT_PIPE_DIRECT", False)
    fresh_sim.control.pause()
    fresh_sim.control.set_price(CODE, 70_000, pause=True)
    with WorkerSupervisor(sim_config(fresh_sim)) as sup:
        inbox = Inbox(sup)
        assert len(sup.wakeup_filenos()) == 1  # the socket alone: no pipe to watch
        _ok(inbox, sup.send(Subscribe("1", (CODE,), (Feed.TRADES,))))
        wait_until(lambda: _registered(fresh_sim, CODE))
        fresh_sim.control.set_price(CODE, 70_300)
        tick = inbox.wait_for(
            lambda m: isinstance(m, TickBatch) and any(t.price == 70_300 for t in m.ticks)
        )
        assert all(t.code == CODE for t in tick.ticks)
        before = {s["id"] for s in fresh_sim.control.state()["sessions"]}
        os.kill(sup.pid(WorkerKind.WS) or 0, signal.SIGKILL)  # a new worker, a new pipe
        inbox.wait_for(lambda m: isinstance(m, WorkerDied) and m.worker is WorkerKind.WS)
        wait_until(lambda: _registered(fresh_sim, CODE, not_in=before))  # the new session
        fresh_sim.control.set_price(CODE, 70_600)
        inbox.wait_for(
            lambda m: isinstance(m, TickBatch) and any(t.price == 70_600 for t in m.ticks)
        )
        assert len(sup.wakeup_filenos()) == 1


def _registered(sim: SimulatorProcess, code: str, not_in: set[str] | None = None) -> bool:
    """A WebSocket session of the simulator (not one of `not_in`) has `code`'s trades."""
    return any(
        f"{code}:0B" in s["registrations"] and s["id"] not in (not_in or set())
        for s in sim.control.state()["sessions"]
    )


def test_stopping_reads_the_websocket_pipe_so_the_worker_exits_by_itself(
    running: tuple[WorkerSupervisor, Inbox, SimulatorProcess], caplog: pytest.LogCaptureFixture
) -> None:
    """Nobody polls for a while under a busy feed, so the WebSocket worker's pipe is full
    when the terminal stops: stop() keeps reading it while the worker flushes what it holds
    and exits, so it ends by itself instead of being terminated after the timeout."""
    sup, inbox, sim = running
    codes = tuple(x.code for x in LISTINGS[:40])
    _ok(inbox, sup.send(Subscribe("1", codes, (Feed.TRADES, Feed.ORDER_BOOK))))
    sim.control.resume()
    sim.control.set_tick_rate(5000)
    process = sup._slots[WorkerKind.WS].process
    time.sleep(1.0)  # the scenario: an engine that does not poll for a second
    sup.stop()
    assert process.exitcode == 0, process.exitcode
    assert "did not stop in time" not in caplog.text


def test_dropped_websocket_resubscribes_once_and_resumes(
    running: tuple[WorkerSupervisor, Inbox, SimulatorProcess],
) -> None:
    sup, inbox, sim = running
    _ok(inbox, sup.send(Subscribe("1", (CODE, "000660"), (Feed.TRADES,))))
    _ok(inbox, sup.send(StartCondition("4")))
    sim.control.condition("4", CODE, "add")
    inbox.wait_for(lambda m: isinstance(m, ConditionEvents))
    sim.control.set_faults(ws_drop=1.5)
    for round_no in (1, 2):
        mark = len(inbox.messages)
        resub = inbox.wait_for(
            lambda m: isinstance(m, Resubscribed) and m.reconnects >= 1, start=mark
        )
        assert resub.groups == ("1",) and resub.conditions == {"4": (CODE,)}  # current members
        start = inbox.messages.index(resub)
        price = sim.control.set_price(CODE, 70_000 + 100 * round_no)
        inbox.wait_for(
            lambda m, p=price: isinstance(m, TickBatch) and any(t.price == p for t in m.ticks),
            start=start,
        )
    sim.control.set_faults(ws_drop=0)
    wait_until(lambda: sum(1 for s in sim.control.state()["sessions"] if s["logged_in"]) == 1)
    (session,) = [s for s in sim.control.state()["sessions"] if s["logged_in"]]
    assert session["registrations"] == sorted([f"{CODE}:0B", "000660:0B"])
    assert session["conditions"] == ["4"]
    # nothing registered twice on the session that survived the drops
    assert session["reg_counts"] == {f"1|{CODE}|0B": 1, "1|000660|0B": 1}
    states = [m.state for m in inbox.of_type(ConnectionStatus) if m.worker is WorkerKind.WS]
    assert ConnectionState.RECONNECTING in states and states[-1] is ConnectionState.CONNECTED


def test_kill_9_of_each_worker(running: tuple[WorkerSupervisor, Inbox, SimulatorProcess]) -> None:
    sup, inbox, sim = running
    _ok(inbox, sup.send(Subscribe("1", (CODE,), (Feed.TRADES,))))

    # General TR: a query in flight (the server holds replies for 3 s) is failed.
    sim.control.set_faults(delay_ms=3000)
    query = sup.send(QuoteQuery(CODE))
    wait_until(lambda: sim.control.requests().get("ka10001", 0) == 1)
    _kill(sup, WorkerKind.TR)
    failed = inbox.reply(query)
    assert isinstance(failed, TrReply) and not failed.ok and failed.error is not None
    assert failed.error.kind is ErrorKind.WORKER_DIED
    died = inbox.wait_for(lambda m: isinstance(m, WorkerDied) and m.worker is WorkerKind.TR)
    assert (
        died.failed_request_ids == (query,) and died.restarting and died.exitcode == -signal.SIGKILL
    )

    # Order TR: one order in flight, one queued behind it. Neither is ever sent again.
    sim.control.set_faults(delay_ms=0, order_delay_ms=3000)
    first = sup.send(PlaceOrderRequest(OrderRequest(CODE, Side.BUY, 1, 69_000)))
    second = sup.send(PlaceOrderRequest(OrderRequest(CODE, Side.BUY, 2, 69_000)))
    wait_until(lambda: sim.control.requests().get("kt10000", 0) == 1)
    _kill(sup, WorkerKind.ORDER)
    for request_id in (first, second):
        reply = inbox.reply(request_id)
        assert isinstance(reply, OrderReply) and reply.outcome is OrderOutcome.UNKNOWN
        assert reply.error is not None and reply.error.kind is ErrorKind.WORKER_DIED
    sim.control.set_faults(order_delay_ms=0)
    assert _ok(inbox, sup.send(QuoteQuery(CODE))) is not None  # restarted TR worker serves
    accepted = inbox.reply(sup.send(PlaceOrderRequest(OrderRequest(CODE, Side.BUY, 3, 69_000))))
    assert accepted.outcome is OrderOutcome.ACCEPTED  # restarted order worker serves
    wait_until(lambda: len(sim.control.account()["orders"]) == 2)
    assert sorted(o["qty"] for o in sim.control.account()["orders"]) == [1, 3]  # 2 never sent
    assert sim.control.requests()["kt10000"] == 2

    # WebSocket: restarted with the registrations it had; ticks resume.
    _kill(sup, WorkerKind.WS)
    mark = len(inbox.messages)
    inbox.wait_for(lambda m: isinstance(m, Resubscribed) and m.groups == ("1",), start=mark)
    sim.control.set_price(CODE, 70_300)
    inbox.wait_for(
        lambda m: isinstance(m, TickBatch) and any(t.price == 70_300 for t in m.ticks), start=mark
    )
    assert (
        sup.restarts(WorkerKind.TR)
        == sup.restarts(WorkerKind.ORDER)
        == sup.restarts(WorkerKind.WS)
        == 1
    )
    assert not sup.pending_ids()


def _kill(sup: WorkerSupervisor, kind: WorkerKind) -> None:
    """kill -9 the worker and wait until a new process runs. The issue asks for < 2 s: that
    is measured by bench/worker_restart.py (no timing thresholds in the tests)."""
    pid = sup.pid(kind)
    assert pid is not None
    started = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: sup.pid(kind) != pid and sup.is_alive(kind), timeout=20)
    print(f"{kind.value} worker restarted {time.monotonic() - started:.2f} s after kill -9")


def test_second_login_with_the_same_key_stops_the_session(
    running: tuple[WorkerSupervisor, Inbox, SimulatorProcess],
) -> None:
    """R10001: the worker reports KICKED and does not fight back; restart() reconnects."""
    sup, inbox, sim = running
    _ok(inbox, sup.send(Subscribe("1", (CODE,), (Feed.TRADES,))))
    with WorkerSupervisor(sim_config(sim), kinds=(WorkerKind.WS,)) as other:
        other_inbox = Inbox(other)
        other_inbox.wait_for(
            lambda m: isinstance(m, ConnectionStatus) and m.state is ConnectionState.CONNECTED
        )
        inbox.wait_for(
            lambda m: isinstance(m, ConnectionStatus) and m.state is ConnectionState.KICKED
        )
        failed = inbox.reply(sup.send(ListConditions()))
        assert isinstance(failed, WsReply) and failed.error is not None
        assert failed.error.kind is ErrorKind.DISCONNECTED
    sup.restart(WorkerKind.WS)
    inbox.wait_for(lambda m: isinstance(m, Resubscribed) and m.groups == ("1",))


def test_login_with_a_revoked_token_reissues_once(
    running: tuple[WorkerSupervisor, Inbox, SimulatorProcess],
) -> None:
    sup, inbox, sim = running
    _ok(inbox, sup.send(Subscribe("1", (CODE,), (Feed.TRADES,))))
    issued = sim.control.requests()["au10001"]
    sim.control.expire_tokens()  # the shared token is now unknown to the server …
    mark = len(inbox.messages)
    sim.control.drop_websockets()  # … and the WebSocket must log in again with it
    inbox.wait_for(lambda m: isinstance(m, Resubscribed) and m.groups == ("1",), start=mark)
    assert sim.control.requests()["au10001"] == issued + 1  # LOGIN refused (8005) → one re-issue
    assert _ok(inbox, sup.send(QuoteQuery(CODE))) is not None  # the other workers use the new token
    assert sim.control.requests()["au10001"] == issued + 1


def test_crash_loop_backs_off_and_refuses_orders_meanwhile(api_sim: SimulatorProcess) -> None:
    with WorkerSupervisor(sim_config(api_sim), kinds=(WorkerKind.ORDER,)) as sup:
        inbox = Inbox(sup)
        for crash in range(1, 5):  # the fourth crash within a minute postpones the restart
            pid = sup.pid(WorkerKind.ORDER)
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            inbox.wait_for(lambda m: isinstance(m, WorkerDied), start=len(inbox.messages))
            if crash < 4:
                wait_until(lambda p=pid: sup.pid(WorkerKind.ORDER) != p)
        wait_until(lambda: _waiting(sup))
        assert sup.restarts(WorkerKind.ORDER) == 3
        reply = inbox.reply(sup.send(PlaceOrderRequest(OrderRequest(CODE, Side.BUY, 1, 69_000))))
        assert reply.outcome is OrderOutcome.NOT_PROCESSED  # never handed to a process
        assert reply.error is not None and reply.error.kind is ErrorKind.WORKER_DIED
        wait_until(lambda: not _waiting(sup) and sup.is_alive(WorkerKind.ORDER), timeout=30)
        assert sup.restarts(WorkerKind.ORDER) == 4


def _waiting(sup: WorkerSupervisor) -> bool:
    return sup._slots[WorkerKind.ORDER].phase == "waiting"


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs SIGSTOP to freeze the server")
def test_subscribe_that_timed_out_is_restored_by_a_restarted_worker(
    fresh_sim: SimulatorProcess,
) -> None:
    """A REG whose ack does not come in time stays in the worker's registry (it is sent
    again after a reconnect); the supervisor must record it too, or a restarted worker
    would restore a different set than the old one."""
    ws = sim_config(fresh_sim).ws
    config = sim_config(fresh_sim, ws=dataclasses.replace(ws, command_timeout_s=1.0))
    with WorkerSupervisor(config, kinds=(WorkerKind.WS,)) as sup:
        inbox = Inbox(sup)
        inbox.wait_for(
            lambda m: isinstance(m, ConnectionStatus) and m.state is ConnectionState.CONNECTED
        )
        _ok(inbox, sup.send(Subscribe("1", (CODE,), (Feed.TRADES,))))
        os.kill(fresh_sim.pid, signal.SIGSTOP)  # the server takes the REG but cannot answer
        try:
            late = inbox.reply(sup.send(Subscribe("2", ("000660",), (Feed.TRADES,))))
        finally:
            os.kill(fresh_sim.pid, signal.SIGCONT)
        assert isinstance(late, WsReply) and late.error is not None
        assert late.error.kind is ErrorKind.TIMEOUT
        mark = len(inbox.messages)
        sup.restart(WorkerKind.WS)
        restored = inbox.wait_for(lambda m: isinstance(m, Resubscribed), start=mark)
        assert restored.groups == ("1", "2")
