"""WebSocket commands end to end — supervisor → WebSocket worker process → simulator — checked
on the server's side: REMOVE really shrinks what the session is registered for, and a one-shot
condition search follows `cont_yn` / `next_key` over every page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiwoom_terminal.constants import ConnectionState, Feed
from kiwoom_terminal.messages import (
    ConnectionStatus,
    StartCondition,
    Subscribe,
    TickBatch,
    Unsubscribe,
    WorkerKind,
)
from kiwoom_terminal.sim.launcher import SimulatorProcess
from kiwoom_terminal.workers.supervisor import WorkerSupervisor
from tests.workers.conftest import Inbox, sim_config

KEPT = "005930"
DROPPED = "000660"
OTHER = "035420"


@pytest.fixture
def ws_only(fresh_sim: SimulatorProcess) -> Iterator[tuple[WorkerSupervisor, Inbox]]:
    fresh_sim.control.pause()  # prices move only when the test moves them
    with WorkerSupervisor(sim_config(fresh_sim), kinds=(WorkerKind.WS,)) as sup:
        inbox = Inbox(sup)
        inbox.wait_for(
            lambda m: isinstance(m, ConnectionStatus) and m.state is ConnectionState.CONNECTED
        )
        yield sup, inbox


def _ok(inbox: Inbox, request_id: str) -> object:
    reply = inbox.reply(request_id)
    assert reply.ok, reply.error
    return reply.data


def _session(sim: SimulatorProcess) -> dict:
    (session,) = [s for s in sim.control.state()["sessions"] if s["logged_in"]]
    return session


def test_unsubscribe_shrinks_the_servers_registrations(
    ws_only: tuple[WorkerSupervisor, Inbox], fresh_sim: SimulatorProcess
) -> None:
    sup, inbox = ws_only
    sim = fresh_sim
    _ok(inbox, sup.send(Subscribe("1", (KEPT, DROPPED), (Feed.TRADES, Feed.ORDER_BOOK))))
    _ok(inbox, sup.send(Subscribe("2", (OTHER,), (Feed.TRADES,))))
    assert _session(sim)["registrations"] == sorted(
        [f"{KEPT}:0B", f"{KEPT}:0D", f"{DROPPED}:0B", f"{DROPPED}:0D", f"{OTHER}:0B"]
    )

    # one feed of one code, then the code's other feed, then a whole group
    _ok(inbox, sup.send(Unsubscribe("1", (DROPPED,), (Feed.ORDER_BOOK,))))
    assert f"{DROPPED}:0D" not in _session(sim)["registrations"]
    _ok(inbox, sup.send(Unsubscribe("1", (DROPPED,), (Feed.TRADES,))))
    _ok(inbox, sup.send(Unsubscribe("2")))
    session = _session(sim)
    assert session["registrations"] == [f"{KEPT}:0B", f"{KEPT}:0D"]
    assert session["groups"] == {"1": [f"{KEPT}:0B", f"{KEPT}:0D"]}
    assert session["received"]["REMOVE"] == 3

    # and the pushes follow: a trade of a removed code no longer arrives
    mark = len(inbox.messages)
    sim.control.set_price(DROPPED, sim.control.quote(DROPPED)["price"], qty=1)
    sim.control.set_price(OTHER, sim.control.quote(OTHER)["price"], qty=1)
    price = sim.control.step_price(KEPT, 2)  # pushed after the two above
    inbox.wait_for(
        lambda m: isinstance(m, TickBatch) and any(t.price == price for t in m.ticks), start=mark
    )
    codes = {t.code for batch in inbox.of_type(TickBatch, start=mark) for t in batch.ticks}
    assert codes == {KEPT}


def test_one_shot_condition_search_reads_every_page(
    ws_only: tuple[WorkerSupervisor, Inbox], fresh_sim: SimulatorProcess
) -> None:
    sup, inbox = ws_only
    sim = fresh_sim
    forced = ["005930", "000660", "035420", "005380", "051910", "006400", "035720"]
    for code in forced:
        members = sim.control.condition("4", code, "add")  # seq 4 moves only when forced
    assert sorted(members) == sorted(forced)
    sim.control.set_condition_page_size(2)  # 7 matches: pages of 2, 2, 2, 1

    matches = _ok(inbox, sup.send(StartCondition("4", realtime=False)))
    assert [m.code for m in matches] == members  # type: ignore[attr-defined]
    assert all(m.name and m.price > 0 for m in matches)  # type: ignore[attr-defined]
    assert _session(sim)["received"]["CNSRREQ"] == 4
