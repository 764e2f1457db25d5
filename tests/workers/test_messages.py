"""Messages are picklable, carry ids, and failed replies follow the order-safety rules."""

import datetime as dt
import pickle

import pytest

from kiwoom_terminal import messages as m
from kiwoom_terminal.constants import ConnectionState, Feed, Market, OrderType, Side, Venue
from kiwoom_terminal.objects import CancelRequest, ModifyRequest, OrderRequest, TickData


def _every_request() -> list[m.Request]:
    return [
        m.QuoteQuery("005930"),
        m.OrderBookQuery("005930", Venue.NXT),
        m.DailyBarsQuery("005930", end_date=dt.date(2025, 9, 8), max_rows=100),
        m.MinuteBarsQuery("005930", minutes=5),
        m.StockListQuery(Market.KOSDAQ),
        m.StockInfoQuery("005930"),
        m.AccountNumberQuery(),
        m.DepositQuery(),
        m.BalanceQuery(),
        m.OpenOrdersQuery(side=Side.BUY),
        m.FillsQuery(code="005930"),
        m.AccountSnapshotQuery(),
        m.PlaceOrderRequest(OrderRequest("005930", Side.BUY, 1, 70000)),
        m.ModifyOrderRequest(ModifyRequest("0000001", "005930", 0, 70100)),
        m.CancelOrderRequest(CancelRequest("0000001", "005930")),
        m.Subscribe("1", ("005930",), (Feed.TRADES, Feed.ORDER_BOOK)),
        m.Unsubscribe("1"),
        m.ListConditions(),
        m.StartCondition("4"),
        m.StopCondition("4"),
    ]


def test_every_request_round_trips_through_pickle_with_a_unique_id() -> None:
    requests = _every_request()
    ids = {r.request_id for r in requests}
    assert len(ids) == len(requests)
    for request in requests:
        copy = pickle.loads(pickle.dumps(request))
        assert copy == request and copy.request_id == request.request_id


def test_order_commands_pickle_flat_and_keep_every_field() -> None:
    """Order commands travel as one tuple of str and int (their `__reduce__`): no field may
    be lost or turned into something else on the way to the order worker."""
    commands = [
        m.PlaceOrderRequest(
            OrderRequest("005930", Side.SELL, 7, 70100, OrderType.STOP_LIMIT, Venue.NXT, 69900),
            request_id="place-1",
        ),
        m.PlaceOrderRequest(OrderRequest("000660", Side.BUY, 3, 0, OrderType.MARKET)),
        m.ModifyOrderRequest(ModifyRequest("0000042", "005930", 5, 70200, Venue.NXT)),
        m.CancelOrderRequest(CancelRequest("0000043", "000660", 2, Venue.SOR)),
    ]
    for command in commands:
        data = pickle.dumps(command, pickle.HIGHEST_PROTOCOL)
        assert b"kiwoom_terminal.constants" not in data  # no enum or dataclass state inside
        copy = pickle.loads(data)
        assert copy == command and type(copy) is type(command)
        assert copy.request_id == command.request_id
        inner, copied = _inner(command), _inner(copy)
        for name in inner.__dataclass_fields__:  # enums stay enums, ints stay ints
            assert type(getattr(copied, name)) is type(getattr(inner, name)), name


def _inner(command: m.OrderCommand) -> object:
    if isinstance(command, m.PlaceOrderRequest):
        return command.order
    if isinstance(command, m.ModifyOrderRequest):
        return command.modify
    assert isinstance(command, m.CancelOrderRequest)
    return command.cancel


def test_requests_are_routed_to_their_worker() -> None:
    kinds = [m.worker_for(r) for r in _every_request()]
    assert kinds.count(m.WorkerKind.TR) == 12
    assert kinds.count(m.WorkerKind.ORDER) == 3
    assert kinds.count(m.WorkerKind.WS) == 5
    with pytest.raises(TypeError):
        m.worker_for(m.Shutdown())  # type: ignore[arg-type]


def test_messages_are_frozen() -> None:
    q = m.QuoteQuery("005930")
    with pytest.raises(AttributeError):
        q.code = "000660"  # type: ignore[misc]


def test_events_pickle() -> None:
    tick = TickData(
        "005930", Venue.KRX, "090000", 70000, 100, 0.14, 5, 10, 69900, 70000, 69800, 70100, 70000
    )
    for event in (
        m.TickBatch([tick], 1.0),
        m.ConnectionStatus(m.WorkerKind.WS, ConnectionState.KICKED, "다른 곳에서 접속"),
        m.Resubscribed(("1",), {"4": ("005930",)}, 2),
        m.WorkerDied(m.WorkerKind.ORDER, -9, ("a", "b"), True),
        m.ThrottleStatus(m.WorkerKind.TR, True, 0.4),
    ):
        assert pickle.loads(pickle.dumps(event)) == event


def test_failed_replies_follow_order_safety() -> None:
    order = m.PlaceOrderRequest(OrderRequest("005930", Side.BUY, 1, 70000))
    died = m.ErrorInfo(m.ErrorKind.WORKER_DIED, "", "중단")
    reply = m.failed_reply(order, died)
    assert isinstance(reply, m.OrderReply) and reply.outcome is m.OrderOutcome.UNKNOWN
    assert reply.request_id == order.request_id
    limited = m.failed_reply(order, m.ErrorInfo(m.ErrorKind.RATE_LIMITED, "1700", "한도"))
    assert limited.outcome is m.OrderOutcome.NOT_PROCESSED  # type: ignore[union-attr]
    query = m.failed_reply(m.QuoteQuery("005930"), died)
    assert isinstance(query, m.TrReply) and not query.ok and query.error == died
    ws = m.failed_reply(m.ListConditions(), died)
    assert isinstance(ws, m.WsReply) and not ws.ok
