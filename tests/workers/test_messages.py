"""Messages are picklable, carry ids, and failed replies follow the order-safety rules."""

import datetime as dt
import pickle

import pytest

from kiwoom_terminal import messages as m
from kiwoom_terminal.constants import ConnectionState, Feed, Market, Side, Venue
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
