"""The WebSocket client's session rules against the real simulator (kiwoom-api.md §8):
SYSTEM frames that end a session (R10002 / R10004) make the client close and reconnect,
R10001 stops it for good, and PING / SYSTEM frames before the LOGIN reply are handled
while it waits for that reply.

The client runs on an asyncio loop in the test process; the simulator is a child process
on free ports. SYSTEM frames are sent with the control API's `send_system`, which leaves
the connection open: only the client's own reaction can end the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from kiwoom_terminal.api.ws import KiwoomWebSocket, WsClientConfig
from kiwoom_terminal.constants import ConnectionState
from kiwoom_terminal.sim.launcher import SimulatorProcess
from tests.conftest import SimFactory, issue_token

CODE = "005930"
QUICK = WsClientConfig(min_backoff_s=0.1, max_backoff_s=1.0, stable_after_s=1.0)
# PINGs of the simulator's own heartbeat must not be counted as the preamble's PING.
NO_HEARTBEAT = ("--ws-ping-interval", "600")


class Recorder:
    """A RealtimeSink that records states and resubscriptions and wakes `wait`."""

    def __init__(self) -> None:
        self.states: list[tuple[ConnectionState, str]] = []
        self.resubscribed: list[tuple[tuple[str, ...], dict[str, tuple[str, ...]], int]] = []
        self._changed = asyncio.Event()

    def on_state(self, state: ConnectionState, detail: str) -> None:
        self.states.append((state, detail))
        self._changed.set()

    def on_resubscribed(
        self, groups: tuple[str, ...], conditions: dict[str, tuple[str, ...]], reconnects: int
    ) -> None:
        self.resubscribed.append((groups, dict(conditions), reconnects))
        self._changed.set()

    def __getattr__(self, name: str) -> Callable[..., None]:  # pushes are not looked at
        return lambda *args: None

    @property
    def state(self) -> ConnectionState | None:
        return self.states[-1][0] if self.states else None

    async def wait(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"not reached within {timeout:.0f} s; states: {self.states}")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)


async def _sessions(sim: SimulatorProcess) -> list[dict[str, Any]]:
    """The simulator's WebSocket sessions (the control call blocks: run it off the loop)."""
    state = await asyncio.to_thread(sim.control.state)
    return list(state["sessions"])


async def _until_sessions(
    sim: SimulatorProcess, predicate: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Poll the simulator's sessions (nothing to wait on) until `predicate` holds."""
    deadline = time.monotonic() + 20.0
    while True:
        sessions = await _sessions(sim)
        if predicate(sessions):
            return sessions
        if time.monotonic() > deadline:
            raise TimeoutError(f"sessions never matched: {sessions}")
        await asyncio.sleep(0.05)


def _run(
    sim: SimulatorProcess,
    scenario: Callable[[KiwoomWebSocket, Recorder], Coroutine[Any, Any, None]],
) -> None:
    """Run `scenario` with a connected client; the client is stopped afterwards."""
    token = issue_token(sim.rest_url)

    async def main() -> None:
        recorder = Recorder()
        client = KiwoomWebSocket(sim.ws_url, lambda: token, lambda value: None, recorder, QUICK)
        task = asyncio.create_task(client.run())
        try:
            await recorder.wait(lambda: recorder.state is ConnectionState.CONNECTED)
            await scenario(client, recorder)
        finally:
            client.stop()
            await asyncio.wait_for(task, 10.0)

    asyncio.run(main())


@pytest.mark.parametrize("code", ["R10002", "R10004"])
def test_session_ending_system_frame_reconnects_and_reregisters(
    sim_factory: SimFactory, code: str
) -> None:
    """The simulator sends the SYSTEM frame and keeps the socket open: the client must close
    it itself, log in on a new connection and register the same stocks there once."""
    sim = sim_factory()

    async def scenario(client: KiwoomWebSocket, recorder: Recorder) -> None:
        await client.subscribe("1", [CODE], ["0B"])
        (first,) = await _sessions(sim)
        assert first["registrations"] == [f"{CODE}:0B"]
        assert await asyncio.to_thread(sim.control.send_system, code) == 1
        await recorder.wait(lambda: bool(recorder.resubscribed))
        assert recorder.resubscribed == [(("1",), {}, 1)]
        assert client.logins == 2 and client.reconnects == 1 and not client.kicked
        reconnecting = [d for s, d in recorder.states if s is ConnectionState.RECONNECTING]
        assert len(reconnecting) == 1 and code in reconnecting[0]  # says why
        assert recorder.state is ConnectionState.CONNECTED
        # the old connection is gone (closed by the client), the new one holds the REG once
        (second,) = await _until_sessions(sim, lambda s: len(s) == 1 and s[0]["id"] != first["id"])
        assert second["logged_in"]
        assert second["registrations"] == [f"{CODE}:0B"]
        assert second["reg_counts"] == {f"1|{CODE}|0B": 1}
        assert second["received"].get("LOGIN") == 1

    _run(sim, scenario)


def test_R10001_stops_the_client_without_reconnecting(sim_factory: SimFactory) -> None:
    sim = sim_factory()

    async def scenario(client: KiwoomWebSocket, recorder: Recorder) -> None:
        await client.subscribe("1", [CODE], ["0B"])
        assert await asyncio.to_thread(sim.control.send_system, "R10001") == 1
        await recorder.wait(lambda: recorder.state is ConnectionState.KICKED)
        await _until_sessions(sim, lambda s: s == [])  # the client closed it …
        assert client.kicked and client.logins == 1 and client.reconnects == 0  # … for good
        assert ConnectionState.RECONNECTING not in [s for s, _ in recorder.states]
        assert recorder.resubscribed == []

    _run(sim, scenario)


def test_ping_and_notice_before_the_login_reply(
    sim_factory: SimFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """With `ws_login_preamble` the simulator answers LOGIN with a PING, a SYSTEM notice and
    only then the LOGIN reply. The client logs in on the first try, echoes that PING, does
    not echo the SYSTEM frame, and a notice (unlike R10002 / R10004) keeps the session."""
    sim = sim_factory("--faults", "ws_login_preamble=1", *NO_HEARTBEAT)
    caplog.set_level(logging.WARNING, logger="kiwoom_terminal.api.ws")

    async def scenario(client: KiwoomWebSocket, recorder: Recorder) -> None:
        assert [s for s, _ in recorder.states] == [ConnectionState.CONNECTED]
        assert client.logins == 1 and client.reconnects == 0
        (session,) = await _until_sessions(
            sim, lambda s: len(s) == 1 and s[0]["received"].get("PING") == 1
        )
        assert set(session["received"]) == {"LOGIN", "PING"}  # the SYSTEM frame not echoed
        assert any("SIM0001" in r.getMessage() for r in caplog.records)  # the notice was read
        # A notice after LOGIN is logged, not a reason to leave: the session stays in use.
        assert await asyncio.to_thread(sim.control.send_system, "SIM0002", "공지") == 1
        await client.subscribe("1", [CODE], ["0B"])  # acked after the notice was read
        assert any("SIM0002" in r.getMessage() for r in caplog.records)
        (after,) = await _sessions(sim)
        assert after["id"] == session["id"] and after["registrations"] == [f"{CODE}:0B"]
        assert client.logins == 1 and client.reconnects == 0
        assert recorder.state is ConnectionState.CONNECTED

    _run(sim, scenario)


def test_the_back_off_restarts_only_after_a_session_that_logged_in_and_lasted() -> None:
    """A session counts as healthy from its LOGIN (and re-registration) on, for
    `stable_after_s` (5 s by default): a connection that hangs in the handshake never resets
    the back-off, and one that worked and was dropped reconnects at the shortest delay."""
    assert WsClientConfig().stable_after_s == 5.0
    client = KiwoomWebSocket(
        "ws://127.0.0.1:1/ws", lambda: "token", lambda value: None, Recorder(), WsClientConfig()
    )
    assert not client._was_healthy(1_000.0)  # never logged in, however long it took
    client._ready_at = 1_000.0
    assert not client._was_healthy(1_004.9)
    assert client._was_healthy(1_005.0)
