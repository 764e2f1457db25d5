"""Session rules that need a simulator started with special options: PING echo keeps a
session alive, wrong keys stop with AUTH_FAILED instead of retrying in a loop."""

from __future__ import annotations

from collections.abc import Callable

from kiwoom_terminal.constants import ConnectionState
from kiwoom_terminal.messages import ConnectionStatus, ErrorKind, QuoteQuery, TrReply, WorkerKind
from kiwoom_terminal.sim.launcher import SimulatorProcess
from kiwoom_terminal.workers.supervisor import WorkerSupervisor
from tests.workers.conftest import Inbox, sim_config, wait_until


def test_ping_echo_keeps_the_session(make_sim: Callable[..., SimulatorProcess]) -> None:
    """The server PINGs every 0.4 s and closes after 5 missed echoes (R10002): a client that
    did not echo would be dropped within the ≈2.4 s watched here."""
    sim = make_sim("--seed", "2", "--ws-ping-interval", "0.4", "--ws-max-missed", "5")
    with WorkerSupervisor(sim_config(sim), kinds=(WorkerKind.WS,)) as sup:
        inbox = Inbox(sup)
        inbox.wait_for(
            lambda m: isinstance(m, ConnectionStatus) and m.state is ConnectionState.CONNECTED
        )
        (session,) = [s for s in sim.control.state()["sessions"] if s["logged_in"]]
        first_frames = session["frames_sent"]
        wait_until(
            lambda: (
                [
                    s["frames_sent"]
                    for s in sim.control.state()["sessions"]
                    if s["id"] == session["id"]
                ]
                >= [first_frames + 6]
            ),  # six more PINGs went out on the same session
            timeout=20,
        )
        sessions = sim.control.state()["sessions"]
        assert [s["id"] for s in sessions if s["logged_in"]] == [session["id"]]
        inbox.pump()
        states = [m.state for m in inbox.of_type(ConnectionStatus)]
        assert ConnectionState.RECONNECTING not in states


def test_wrong_keys_report_auth_failed_without_a_storm(
    make_sim: Callable[..., SimulatorProcess],
) -> None:
    sim = make_sim("--seed", "2", "--appkey", "the-right-key", "--secretkey", "the-right-secret")
    with WorkerSupervisor(sim_config(sim), kinds=(WorkerKind.TR, WorkerKind.WS)) as sup:
        inbox = Inbox(sup)
        failed = inbox.wait_for(
            lambda m: (
                isinstance(m, ConnectionStatus)
                and m.worker is WorkerKind.TR
                and m.state is ConnectionState.AUTH_FAILED
            )
        )
        assert "8001" in failed.detail or "앱키" in failed.detail
        inbox.wait_for(
            lambda m: (
                isinstance(m, ConnectionStatus)
                and m.worker is WorkerKind.WS
                and m.state is ConnectionState.AUTH_FAILED
            )
        )
        reply = inbox.reply(sup.send(QuoteQuery("005930")))
        assert isinstance(reply, TrReply) and not reply.ok and reply.error is not None
        assert reply.error.kind is ErrorKind.AUTH
        # both workers share one back-off: a single token request so far, not one per call
        assert sim.control.requests().get("au10001", 0) == 1
        assert sim.control.requests().get("ka10001", 0) == 0
