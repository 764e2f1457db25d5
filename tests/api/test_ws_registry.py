"""The WebSocket client's registry and REG frames (pure logic, no server)."""

import asyncio

from kiwoom_terminal.api.ws import KiwoomWebSocket, WsClientConfig
from kiwoom_terminal.api.ws_registry import entries
from kiwoom_terminal.constants import ConnectionState, Feed, Venue
from kiwoom_terminal.messages import StartCondition, StopCondition, Subscribe, Unsubscribe
from kiwoom_terminal.workers.registry import Subscriptions


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
