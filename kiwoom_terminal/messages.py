"""Typed, picklable messages between the engine (GUI process) and the three worker processes.

This module is the process boundary. Everything that crosses a queue is defined here, built
only from `objects.py` / `constants.py` types, frozen, and free of exceptions, sockets or
other live objects (errors travel as `ErrorInfo`). Once put on a queue nobody mutates a
message, lists inside included.

Queues (names as in seed 002; the supervisor owns them, see `workers/supervisor.py`):

| queue | direction | carries |
|---|---|---|
| `tr_req_queue` | engine → general-TR worker | `TrQuery` subclasses, `Shutdown` |
| `tr_result_queue` | general-TR worker → engine | `TrReply`, `ConnectionStatus`, `ThrottleStatus` |
| `order_tr_req_queue` | engine → order-TR worker | `OrderCommand` subclasses, `Shutdown` |
| `order_tr_result_queue` | order-TR worker → engine | `OrderReply`, `ConnectionStatus`, `ThrottleStatus` |
| `websocket_req_queue` | engine → WebSocket worker | `WsCommand` subclasses, `Shutdown` |
| `websocket_result_queue` | WebSocket worker → engine | `WsReply`, `TickBatch`, `OrderBookBatch`, `OrderEvents`, `BalanceEvents`, `ConditionEvents`, `ConnectionStatus`, `Resubscribed` |

`order_tr_req_queue` is a `workers/channel.RequestChannel` (same `put` / `get` / `empty`), so
an order skips the Queue's feeder thread; the others are `multiprocessing.Queue`s.

Every request carries `request_id` (made for you when omitted) and its one reply echoes it:
`TrReply` for queries, `OrderReply` for order commands, `WsReply` for WebSocket commands.
When a worker dies, the supervisor answers every request it had not answered with a failed
reply (`ErrorKind.WORKER_DIED`; orders with outcome `UNKNOWN`, because they may have been
sent) and reports `WorkerDied`. Real-time data never answers a request: it arrives as
batches, at most one message per type per flush (a few milliseconds), never one per tick.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kiwoom_terminal.constants import ConnectionState, Feed, Market, OrderType, Side, Venue
from kiwoom_terminal.objects import (
    AccountBalanceData,
    BalanceEventData,
    CancelRequest,
    ConditionEventData,
    FillData,
    ModifyRequest,
    OpenOrderData,
    OrderAckData,
    OrderBookData,
    OrderEventData,
    OrderRequest,
    TickData,
)

_ID_PREFIX = uuid.uuid4().hex[:6]
_ID_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """A request id unique across processes and restarts (`<pid>-<random>-<n>`)."""
    return f"{os.getpid()}-{_ID_PREFIX}-{next(_ID_COUNTER)}"


class WorkerKind(str, Enum):
    """The three worker processes."""

    TR = "tr"  # general TR: queries
    ORDER = "order"  # order TR: kt10000–kt10003
    WS = "websocket"  # WebSocket: real-time data and condition search


class ErrorKind(str, Enum):
    """What went wrong, so the engine can decide what happens next without parsing text."""

    RATE_LIMITED = "rate_limited"  # 1700/1701/1702: not processed; retry later is safe
    AUTH = "auth"  # token or key problem (80xx); check the keys / mode
    INPUT = "input"  # 15xx or our own validation: fix the request
    NOT_FOUND = "not_found"  # 1901–1903: unknown stock or market
    REJECTED = "rejected"  # business rejection (return_code 20, RC… / 8000xx)
    UNSUPPORTED = "unsupported"  # not offered on this server (8104, RC9000, RC7006)
    SERVER = "server"  # HTTP 5xx, 1999, other server faults
    BAD_REPLY = "bad_reply"  # non-JSON or malformed body (e.g. a maintenance page)
    NETWORK = "network"  # connection failed or dropped
    TIMEOUT = "timeout"  # no reply within the timeout
    DISCONNECTED = "disconnected"  # WebSocket not connected (or kicked)
    WORKER_DIED = "worker_died"  # the worker process ended before replying
    SHUTDOWN = "shutdown"  # the terminal is stopping
    INTERNAL = "internal"  # a bug in the terminal; logged with a traceback


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """A picklable error: `kind` for decisions, Kiwoom's `code` (`1700`, `8005`, `RC4058`,
    `""`), and a Korean `message` for the user. `retry_after` (s) is set for RATE_LIMITED."""

    kind: ErrorKind
    code: str
    message: str
    retry_after: float = 0.0

    def __str__(self) -> str:
        return f"{self.message} [{self.kind.value}{':' + self.code if self.code else ''}]"


# --- Requests ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """Base of every request; `request_id` is echoed by the reply."""

    request_id: str = field(default_factory=new_request_id, kw_only=True)


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Ask a worker to finish its current request and exit. No reply."""


# General-TR queries (tr_req_queue → TrReply.data as documented per class) --------------


@dataclass(frozen=True, slots=True)
class TrQuery(Request):
    """Base of general-TR queries. Queries are idempotent, so the worker retries them with
    back-off on rate limits, 5xx and network errors before failing the reply."""


@dataclass(frozen=True, slots=True)
class QuoteQuery(TrQuery):
    """Current quote (ka10001). Reply data: `QuoteData`."""

    code: str
    venue: Venue = Venue.KRX


@dataclass(frozen=True, slots=True)
class OrderBookQuery(TrQuery):
    """10-level order book snapshot (ka10004). Reply data: `OrderBookData`."""

    code: str
    venue: Venue = Venue.KRX


@dataclass(frozen=True, slots=True)
class DailyBarsQuery(TrQuery):
    """Daily bars up to `end_date` (default: today), newest first, following pages until
    `max_rows` (ka10081). Reply data: `list[BarData]`."""

    code: str
    end_date: dt.date | None = None
    max_rows: int = 600
    adjusted: bool = True
    venue: Venue = Venue.KRX


@dataclass(frozen=True, slots=True)
class MinuteBarsQuery(TrQuery):
    """`minutes`-minute bars (1, 3, 5, 10, 15, 30, 45, 60), newest first, up to `max_rows`
    (ka10080); `end_date` starts from that day. Reply data: `list[BarData]`."""

    code: str
    minutes: int = 1
    end_date: dt.date | None = None
    max_rows: int = 900
    adjusted: bool = True
    venue: Venue = Venue.KRX


@dataclass(frozen=True, slots=True)
class StockListQuery(TrQuery):
    """Every listed stock of a market, all pages (ka10099). Reply data:
    `list[StockInfoData]`."""

    market: Market = Market.KOSPI


@dataclass(frozen=True, slots=True)
class StockInfoQuery(TrQuery):
    """One stock's listing data (ka10100). Reply data: `StockInfoData`."""

    code: str


@dataclass(frozen=True, slots=True)
class AccountNumberQuery(TrQuery):
    """The account behind the app key (ka00001). Reply data: `str` (10 digits)."""


@dataclass(frozen=True, slots=True)
class DepositQuery(TrQuery):
    """Cash and orderable amount (kt00001, estimated). Reply data: `DepositData`."""


@dataclass(frozen=True, slots=True)
class BalanceQuery(TrQuery):
    """Holdings and totals, all pages (kt00018). Reply data: `AccountBalanceData`."""

    venue: Venue = Venue.KRX


@dataclass(frozen=True, slots=True)
class OpenOrdersQuery(TrQuery):
    """Orders with unfilled quantity (ka10075), all pages; empty `code` = every stock,
    `side`/`venue` None = both / every venue. Reply data: `list[OpenOrderData]`."""

    code: str = ""
    side: Side | None = None
    venue: Venue | None = None


@dataclass(frozen=True, slots=True)
class FillsQuery(TrQuery):
    """Today's fills (ka10076), all pages; filters as in OpenOrdersQuery. Reply data:
    `list[FillData]`."""

    code: str = ""
    side: Side | None = None
    venue: Venue | None = None


@dataclass(frozen=True, slots=True)
class AccountSnapshotQuery(TrQuery):
    """Open orders, today's fills and holdings fetched back to back (ka10075, ka10076,
    kt00018): what the engine needs to reconcile after an UNKNOWN order, a restart or a
    reconnect. Reply data: `AccountSnapshot`."""

    venue: Venue = Venue.KRX


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Payload of AccountSnapshotQuery. `taken_at` is the worker's wall clock (epoch s)
    when the first of the three queries was sent."""

    open_orders: list[OpenOrderData]
    fills: list[FillData]
    balance: AccountBalanceData
    taken_at: float


@dataclass(frozen=True, slots=True)
class TrReply:
    """Answer to one TrQuery: `data` as documented on the query class when `ok`, else
    None with `error` set."""

    request_id: str
    ok: bool
    data: Any = None
    error: ErrorInfo | None = None


# Order-TR commands (order_tr_req_queue → OrderReply on order_tr_result_queue) ----------


@dataclass(frozen=True, slots=True)
class OrderCommand(Request):
    """Base of order commands. Never resent automatically, except after the server said
    it did not process the request (1700); see OrderOutcome."""


# Order commands are pickled as one flat tuple of str and int (`__reduce__`) rather than
# field by field: a trailing stop's sell is pickled by the engine and read by the order
# worker on its way to the server, and the dataclass-and-enum pickle took 12 µs to write and
# 14 µs to read warm, 0.08 and 0.10 ms in place (bench/tick_to_order.py, where the code
# runs cold); the flat one takes 2 and 4 µs warm. tests/workers/test_messages.py checks the
# round trip of every field.


@dataclass(frozen=True, slots=True)
class PlaceOrderRequest(OrderCommand):
    """A new buy/sell order (kt10000 / kt10001)."""

    order: OrderRequest

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        o = self.order
        return _place_order, (
            self.request_id,
            o.code,
            o.side.value,
            o.quantity,
            o.price,
            o.order_type.value,
            o.venue.value,
            o.stop_price,
        )


@dataclass(frozen=True, slots=True)
class ModifyOrderRequest(OrderCommand):
    """Amend (정정, kt10002) the latest order of a chain."""

    modify: ModifyRequest

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        m = self.modify
        return _modify_order, (
            self.request_id,
            m.orig_order_no,
            m.code,
            m.quantity,
            m.price,
            m.venue.value,
        )


@dataclass(frozen=True, slots=True)
class CancelOrderRequest(OrderCommand):
    """Cancel (취소, kt10003) all or part of an order."""

    cancel: CancelRequest

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        c = self.cancel
        return _cancel_order, (
            self.request_id,
            c.orig_order_no,
            c.code,
            c.quantity,
            c.venue.value,
        )


def _place_order(
    request_id: str,
    code: str,
    side: str,
    quantity: int,
    price: int,
    order_type: str,
    venue: str,
    stop_price: int,
) -> PlaceOrderRequest:
    """Unpickles a PlaceOrderRequest (its `__reduce__`)."""
    order = OrderRequest(
        code, Side(side), quantity, price, OrderType(order_type), Venue(venue), stop_price
    )
    return PlaceOrderRequest(order, request_id=request_id)


def _modify_order(
    request_id: str, orig_order_no: str, code: str, quantity: int, price: int, venue: str
) -> ModifyOrderRequest:
    """Unpickles a ModifyOrderRequest (its `__reduce__`)."""
    modify = ModifyRequest(orig_order_no, code, quantity, price, Venue(venue))
    return ModifyOrderRequest(modify, request_id=request_id)


def _cancel_order(
    request_id: str, orig_order_no: str, code: str, quantity: int, venue: str
) -> CancelOrderRequest:
    """Unpickles a CancelOrderRequest (its `__reduce__`)."""
    return CancelOrderRequest(
        CancelRequest(orig_order_no, code, quantity, Venue(venue)), request_id=request_id
    )


class OrderOutcome(str, Enum):
    """What became of an order command. Only UNKNOWN needs reconciliation."""

    ACCEPTED = "accepted"  # the server gave an order number (ack)
    REJECTED = "rejected"  # refused (invalid input, business rule, bad keys): final
    NOT_PROCESSED = "not_processed"  # certainly not placed (1700 after retries, token
    # rejected, connection refused): sending it again is safe
    UNKNOWN = "unknown"  # timeout, 5xx, bad reply, worker died: it may or may not have been
    # placed. Reconcile with open orders / fills (AccountSnapshotQuery) before acting again.


@dataclass(frozen=True, slots=True)
class OrderReply:
    """Answer to one OrderCommand. `ack` is set only when ACCEPTED. `attempts` counts HTTP
    sends (more than one only after 1700 rejections)."""

    request_id: str
    outcome: OrderOutcome
    ack: OrderAckData | None = None
    error: ErrorInfo | None = None
    attempts: int = 0


# WebSocket commands (websocket_req_queue → WsReply on websocket_result_queue) ----------


@dataclass(frozen=True, slots=True)
class WsCommand(Request):
    """Base of WebSocket commands. Registrations and real-time conditions are remembered by
    the worker and restored after every reconnect (then `Resubscribed` is sent)."""


@dataclass(frozen=True, slots=True)
class Subscribe(WsCommand):
    """Register real-time `feeds` for bare `codes` on `venue` in group `group` (REG).
    `refresh=False` first drops what the group had. ORDERS / BALANCE feeds are for the
    whole account and ignore `codes`. Reply data: None."""

    group: str
    codes: tuple[str, ...]
    feeds: tuple[Feed, ...]
    venue: Venue = Venue.KRX
    refresh: bool = True


@dataclass(frozen=True, slots=True)
class Unsubscribe(WsCommand):
    """Remove `feeds` of `codes` from group `group` (REMOVE); empty `codes` and `feeds` =
    the whole group. Reply data: None."""

    group: str
    codes: tuple[str, ...] = ()
    feeds: tuple[Feed, ...] = ()
    venue: Venue = Venue.KRX


@dataclass(frozen=True, slots=True)
class ListConditions(WsCommand):
    """The user's conditions (CNSRLST). Reply data: `list[ConditionData]`."""


@dataclass(frozen=True, slots=True)
class StartCondition(WsCommand):
    """Run condition `seq` (CNSRREQ). One-shot (`realtime=False`): reply data
    `list[ConditionMatchData]` (all pages). Real-time: reply data `list[str]` (codes
    matching now); entries/exits then arrive as ConditionEvents until StopCondition."""

    seq: str
    realtime: bool = True


@dataclass(frozen=True, slots=True)
class StopCondition(WsCommand):
    """Stop real-time condition `seq` (CNSRCLR). Reply data: None."""

    seq: str


@dataclass(frozen=True, slots=True)
class WsReply:
    """Answer to one WsCommand; `data` as documented on the command."""

    request_id: str
    ok: bool
    data: Any = None
    error: ErrorInfo | None = None


# --- Events (worker → engine, not replies) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class TickBatch:
    """Trade ticks (REAL 0B) in arrival order since the previous batch. `sent_at` is
    time.time() when the worker queued the batch."""

    ticks: list[TickData]
    sent_at: float = 0.0


@dataclass(frozen=True, slots=True)
class OrderBookBatch:
    """Order-book updates (REAL 0D) in arrival order; a code may appear more than once."""

    books: list[OrderBookData]
    sent_at: float = 0.0


@dataclass(frozen=True, slots=True)
class OrderEvents:
    """Order events of the account (REAL 00) in arrival order."""

    events: list[OrderEventData]


@dataclass(frozen=True, slots=True)
class BalanceEvents:
    """Position changes of the account (REAL 04) in arrival order."""

    events: list[BalanceEventData]


@dataclass(frozen=True, slots=True)
class ConditionEvents:
    """Stocks entering / leaving real-time conditions (REAL 02) in arrival order."""

    events: list[ConditionEventData]


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """A worker's connection state changed. `detail` is a Korean sentence for the status
    bar / log (e.g. why it reconnects). KICKED and AUTH_FAILED need the user."""

    worker: WorkerKind
    state: ConnectionState
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    """The worker's rate limiter started (`active`) or stopped delaying requests.
    `delay_s` is the wait of the request that changed the state."""

    worker: WorkerKind
    active: bool
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Resubscribed:
    """The WebSocket reconnected, logged in and restored every registration and real-time
    condition. Events between the drop and now may be missing: the engine should reconcile
    (account snapshot, quotes). `conditions` maps each real-time seq to the codes matching
    it now (from the re-run CNSRREQ)."""

    groups: tuple[str, ...]
    conditions: dict[str, tuple[str, ...]]
    reconnects: int = 0


@dataclass(frozen=True, slots=True)
class WorkerDied:
    """A worker process ended unexpectedly (`exitcode`, negative = killed by that signal).
    `failed_request_ids` were answered with failed replies; `restarting` tells whether the
    supervisor is starting a new process (False after too many crashes in a row)."""

    worker: WorkerKind
    exitcode: int | None
    failed_request_ids: tuple[str, ...]
    restarting: bool


def worker_for(request: Request) -> WorkerKind:
    """Which worker serves `request`; raises TypeError for something that is no request."""
    if isinstance(request, TrQuery):
        return WorkerKind.TR
    if isinstance(request, OrderCommand):
        return WorkerKind.ORDER
    if isinstance(request, WsCommand):
        return WorkerKind.WS
    raise TypeError(f"not a worker request: {type(request).__name__}")


def failed_reply(request: Request, error: ErrorInfo) -> TrReply | OrderReply | WsReply:
    """The failed reply for `request`. Orders become UNKNOWN (they may have been sent)
    unless the error says otherwise: REJECTED for invalid input, NOT_PROCESSED for a rate
    limit."""
    if isinstance(request, OrderCommand):
        if error.kind is ErrorKind.INPUT:
            outcome = OrderOutcome.REJECTED
        elif error.kind is ErrorKind.RATE_LIMITED:
            outcome = OrderOutcome.NOT_PROCESSED
        else:
            outcome = OrderOutcome.UNKNOWN
        return OrderReply(request.request_id, outcome, None, error)
    if isinstance(request, WsCommand):
        return WsReply(request.request_id, False, None, error)
    return TrReply(request.request_id, False, None, error)
