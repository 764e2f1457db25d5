"""The scanner against the real simulator through the real general-TR worker process: a
price path scripted on the simulator's frozen clock makes SMA(2) cross above SMA(4) on one
code's newest completed minute bar, and exactly that signal comes out — once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from kiwoom_terminal import krx
from kiwoom_terminal.constants import ConnectionState, Side
from kiwoom_terminal.messages import ConnectionStatus, TrReply, WorkerKind
from kiwoom_terminal.scanner.scanner import Scanner, ScannerConfig, ScanResult
from kiwoom_terminal.scanner.signals import SignalBook
from kiwoom_terminal.sim.launcher import SimulatorProcess, start_simulator
from kiwoom_terminal.workers.supervisor import WorkerSupervisor
from tests.workers.conftest import Inbox, sim_config

SCRIPTED = "005930"
QUIET = "000660"


@pytest.fixture
def frozen_sim() -> Iterator[SimulatorProcess]:
    """A simulator whose clock stands still at 10:00 until the test advances it."""
    sim = start_simulator(
        "--seed", "5", "--speed", "0", "--start", "10:00", "--log-level", "WARNING"
    )
    try:
        sim.control.pause()  # no random moves: every trade below is ours
        yield sim
    finally:
        sim.stop()


def sim_now(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y%m%d%H%M%S")


def scan(
    scanner: Scanner, sup: WorkerSupervisor, inbox: Inbox, now: dt.datetime
) -> list[ScanResult]:
    """One scan cycle as the engine will run it: due queries on the TR queue, replies back."""
    results = []
    for query in scanner.due_requests(now):
        sup.send(query)
        reply = inbox.reply(query.request_id, timeout=30)
        assert isinstance(reply, TrReply) and reply.ok, reply
        results.append(scanner.on_bars(reply.request_id, reply.data, now))
    return results


def test_scripted_cross_gives_one_buy_signal(
    frozen_sim: SimulatorProcess, tmp_path: object
) -> None:
    control = frozen_sim.control
    base = int(control.quote(SCRIPTED)["price"])
    # Ten falling minutes from 10:00, then a jump at 10:10 (each minute: one trade, then +60 s)
    path = [krx.round_to_tick(int(base * (0.99 - 0.002 * i))) for i in range(10)]
    path.append(krx.round_to_tick(int(base * 1.02)))
    stamp = ""
    for price in path:
        control.set_price(SCRIPTED, price, pause=True)
        stamp = control.advance(60)
    now = sim_now(stamp) + dt.timedelta(seconds=5)  # 10:11:05 → bar 10:10 is complete
    control.advance(5)
    assert now.time() == dt.time(10, 11, 5)

    book = SignalBook(None, today=now.date())
    config = ScannerConfig(history_bars=120, requests_per_second=20.0, burst=5)
    scanner = Scanner(config, book, names={SCRIPTED: "삼성전자"}, is_business_day=lambda d: True)
    scanner.set_codes([SCRIPTED, QUIET])
    scanner.set_strategies({"sma_cross": {"fast": 2, "slow": 4}})

    before = control.requests().get("ka10080", 0)
    with WorkerSupervisor(sim_config(frozen_sim), kinds=(WorkerKind.TR,)) as sup:
        inbox = Inbox(sup)
        inbox.wait_for(
            lambda m: isinstance(m, ConnectionStatus) and m.state is ConnectionState.CONNECTED
        )
        results = scan(scanner, sup, inbox, now)
        assert sorted(r.code for r in results) == [QUIET, SCRIPTED]
        bars = scanner.cache.bars(SCRIPTED)
        assert bars is not None and bars.index[-1] == dt.datetime.combine(
            now.date(), dt.time(10, 10)
        )
        assert bars["close"].iloc[-11:].tolist() == path  # our minutes, as the server reports them
        assert len(bars) == 120  # history from 09:00 and the day before
        signals = [s for r in results for s in r.signals]
        assert [(s.code, s.side, s.bar_time.time(), s.price) for s in signals] == [
            (SCRIPTED, Side.BUY, dt.time(10, 10), path[-1])
        ]
        assert len(book.table()) == 1

        # Next minute: no cross; a small incremental request per code, no new signal.
        control.set_price(SCRIPTED, path[-1], pause=True)
        later = sim_now(control.advance(60)) + dt.timedelta(seconds=5)
        control.advance(5)
        queries_seen = len(inbox.messages)
        results = scan(scanner, sup, inbox, later)
        assert [r.new_bars for r in results if r.code == SCRIPTED] == [1]
        assert all(not r.signals for r in results)
        assert len(inbox.messages) > queries_seen
    assert control.requests()["ka10080"] - before == 4  # two codes × two scans, no page extra
