"""The WebSocket client's registry and REG frames (pure logic, no server)."""

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from kiwoom_terminal.api.ws import KiwoomWebSocket, WsClientConfig
from kiwoom_terminal.api.ws_registry import WsCommandError, entries
from kiwoom_terminal.constants import ConnectionState, Feed, Venue
from kiwoom_terminal.messages import (
    ErrorInfo,
    ErrorKind,
    StartCondition,
    StopCondition,
    Subscribe,
    Unsubscribe,
    WsCommand,
    WsReply,
)
from kiwoom_terminal.workers.registry import Subscriptions, kept_by_worker


class NullSink:
    def __getattr__(self, name: str):  # every on_* callback is a no-op
        return lambda *args: None


def _client(max_items: int = 100) -> KiwoomWebSocket:
    return KiwoomWebSocket(
        "ws://unused",
        lambda: "t",
        lambda v: None,
        NullSink(),
        WsClientConfig(max_items_per_reg=max_items),
    )  # type: ignore[arg-type]


def test_entries_group_items_by_type_set_and_chunk() -> None:
    data = entries(
        {"0B": {"000660", "005930", "035420"}, "0D": {"005930"}, "00": {""}}, max_items=2
    )
    assert data == [
        {"item": [""], "type": ["00"]},
        {"item": ["000660", "035420"], "type": ["0B"]},
        {"item": ["005930"], "type": ["0B", "0D"]},
    ]


def test_registry_updates_while_disconnected_without_duplicates() -> None:
    client = _client()

    async def run() -> None:
        await client.subscribe("1", ["005930", "000660"], ["0B"])
        await client.subscribe("1", ["005930"], ["0B", "0D"])  # only 005930:0D is new
        await client.subscribe("2", ["anything"], ["00", "04"])  # account feeds: item ""
        await client.unsubscribe("1", ["000660"], ["0B"])
        await client.subscribe("3", ["035420"], ["0B"])
        await client.subscribe("3", ["000270"], ["0B"], refresh=False)  # replaces group 3

    asyncio.run(run())
    assert client.groups == {
        "1": {"0B": frozenset({"005930"}), "0D": frozenset({"005930"})},
        "2": {"00": frozenset({""}), "04": frozenset({""})},
        "3": {"0B": frozenset({"000270"})},
    }
    assert client.state is ConnectionState.STARTING  # nothing was sent: not connected


def test_supervisor_subscriptions_follow_acknowledged_commands() -> None:
    subs = Subscriptions()
    subs.apply(Subscribe("1", ("005930", "000660"), (Feed.TRADES, Feed.ORDER_BOOK)))
    subs.apply(Subscribe("1", ("005930",), (Feed.TRADES,), venue=Venue.NXT))
    subs.apply(Subscribe("0", (), (Feed.ORDERS, Feed.BALANCE)))
    subs.apply(Unsubscribe("1", ("000660",), (Feed.ORDER_BOOK,)))
    subs.apply(StartCondition("4"))
    subs.apply(StartCondition("5", realtime=False))  # one-shot: nothing to restore
    subs.apply(StartCondition("6"))
    subs.apply(StopCondition("6"))
    assert subs.wire_groups() == {
        "1": {"0B": {"005930", "000660", "005930_NX"}, "0D": {"005930"}},
        "0": {"00": {""}, "04": {""}},
    }
    assert subs.conditions == {"4"}
    subs.apply(Unsubscribe("1"))
    subs.apply(Subscribe("0", ("005930",), (Feed.TRADES,), refresh=False))
    assert subs.wire_groups() == {"0": {"0B": {"005930"}}}


@pytest.mark.parametrize("kind", [ErrorKind.TIMEOUT, ErrorKind.DISCONNECTED, ErrorKind.REJECTED])
def test_supervisor_records_what_the_client_keeps_after_a_failed_command(kind: ErrorKind) -> None:
    """The supervisor's copy (restored by a restarted worker) must equal the client's own
    registry (restored after a reconnect) also when a REG / REMOVE / CNSRCLR failed: a
    Subscribe that timed out stays, one the server refused does not."""
    client = _client()
    subs = Subscriptions()
    failing = False

    async def send(frame: dict[str, Any]) -> None:
        if failing:
            raise WsCommandError(ErrorInfo(kind, "", "실패"))

    async def request(frame: dict[str, Any], **kw: Any) -> dict[str, Any]:
        await send(frame)
        return {}

    client._send = send  # type: ignore[method-assign]
    client._request = request  # type: ignore[method-assign]
    client._registry.conditions.add("4")
    subs.conditions.add("4")

    async def run(command: WsCommand, call: Coroutine[Any, Any, None]) -> None:
        try:
            await call
        except WsCommandError as exc:
            reply = WsReply(command.request_id, False, None, exc.info)
        else:
            reply = WsReply(command.request_id, True)
        if kept_by_worker(command, reply):
            subs.apply(command)

    async def scenario() -> None:
        nonlocal failing
        client._logged_in.set()
        first = Subscribe("1", ("005930", "000660"), (Feed.TRADES,))
        await run(first, client.subscribe("1", ["005930", "000660"], ["0B"]))
        failing = True
        second = Subscribe("2", ("035420",), (Feed.TRADES,))
        await run(second, client.subscribe("2", ["035420"], ["0B"]))
        gone = Unsubscribe("1", ("000660",), (Feed.TRADES,))
        await run(gone, client.unsubscribe("1", ["000660"], ["0B"]))
        await run(StopCondition("4"), client.stop_condition("4"))

    asyncio.run(scenario())
    client_groups = {g: {t: set(i) for t, i in types.items()} for g, types in client.groups.items()}
    assert subs.wire_groups() == client_groups
    assert subs.conditions == client._registry.conditions == set()
    expected = {"1": {"0B": {"005930"}}}
    if kind is not ErrorKind.REJECTED:
        expected["2"] = {"0B": {"035420"}}  # sent again after the next LOGIN
    assert client_groups == expected


def test_one_shot_and_failed_condition_starts_are_not_recorded() -> None:
    subs = Subscriptions()
    timeout = WsReply("x", False, None, ErrorInfo(ErrorKind.TIMEOUT, "", "시간 초과"))
    assert not kept_by_worker(StartCondition("4"), timeout)
    assert kept_by_worker(StartCondition("4"), WsReply("x", True, ["005930"]))
    bad_input = WsReply("x", False, None, ErrorInfo(ErrorKind.INPUT, "", "그룹 번호"))
    assert not kept_by_worker(Subscribe("12345", ("005930",), (Feed.TRADES,)), bad_input)
    assert not kept_by_worker(
        Subscribe("1", ("005930",), (Feed.TRADES,)),
        WsReply("x", False, None, ErrorInfo(ErrorKind.WORKER_DIED, "", "중단")),
    )
    assert subs.wire_groups() == {}
