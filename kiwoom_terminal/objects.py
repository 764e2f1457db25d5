"""Typed domain objects with English names, parsed from Kiwoom's wire fields by the API layer.

Prices are int KRW (direction signs already removed), rates are float percent, codes are
bare 6-character codes (`005930`) with the venue kept separately. Objects are immutable:
once one is handed to a listener or put on a queue nobody mutates it (replace() a copy).

The two hot real-time types, `TickData` and `OrderBookData`, are NamedTuples rather than
dataclasses: they cross a process queue thousands of times a second and a NamedTuple pickles
and builds about 2.5× faster (measured: 1.4 µs vs 3.6 µs to pickle one tick).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from kiwoom_terminal.constants import (
    ConditionChange,
    Market,
    OrderAction,
    OrderEventKind,
    OrderType,
    Side,
    Venue,
)

# --- Real-time pushes -------------------------------------------------------------------


class TickData(NamedTuple):
    """One trade (주식체결, REAL 0B)."""

    code: str
    venue: Venue
    time: str  # HHmmss KST, as the server stamps it
    price: int
    change: int  # vs previous close, signed
    change_rate: float  # percent, signed
    volume: int  # this trade's quantity; negative when seller-initiated (FID 15 sign)
    cum_volume: int
    open: int
    high: int
    low: int
    best_ask: int
    best_bid: int
    received_at: float = 0.0  # time.time() when the WebSocket worker parsed it (latency)


class OrderBookData(NamedTuple):
    """A 10-level order book (주식호가잔량, REAL 0D or ka10004). Level 1 first."""

    code: str
    venue: Venue
    time: str  # HHmmss
    ask_prices: tuple[int, ...]
    ask_qtys: tuple[int, ...]
    bid_prices: tuple[int, ...]
    bid_qtys: tuple[int, ...]
    total_ask_qty: int
    total_bid_qty: int
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class OrderEventData:
    """An order event for our account (주문체결, REAL 00): accept, fill, confirm, reject.

    `filled_qty` is cumulative for the order (FID 911); `unit_fill_qty` / `unit_fill_price`
    describe just this fill (FID 915 / 914).
    """

    order_no: str
    orig_order_no: str  # "" when none (wire "0000000")
    code: str
    name: str
    kind: OrderEventKind
    action: OrderAction
    side: Side
    order_type: OrderType | None
    order_qty: int
    order_price: int  # 0 for market orders
    unfilled_qty: int
    filled_qty: int
    filled_amount: int
    unit_fill_price: int
    unit_fill_qty: int
    fill_no: str
    fee: int
    tax: int
    reject_reason: str
    time: str  # HHmmss
    venue: Venue
    account: str = ""
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class BalanceEventData:
    """A position change after a fill (잔고, REAL 04)."""

    code: str
    name: str
    price: int
    quantity: int
    avg_price: int
    purchase_amount: int
    sellable_qty: int
    last_side: Side
    base_price: int
    account: str = ""
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class ConditionEventData:
    """A stock entering or leaving a real-time condition (REAL 02)."""

    seq: str
    code: str
    change: ConditionChange
    time: str  # HHmmss
    received_at: float = 0.0


# --- Query results ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConditionData:
    """A condition search (조건식) defined in the HTS (CNSRLST)."""

    seq: str
    name: str


@dataclass(frozen=True, slots=True)
class ConditionMatchData:
    """One stock from a one-shot condition search (CNSRREQ search_type 0)."""

    code: str
    name: str
    price: int
    change: int
    change_rate: float
    volume: int
    open: int
    high: int
    low: int


@dataclass(frozen=True, slots=True)
class StockInfoData:
    """A listed stock from the stock list (ka10099); used for code/name completion."""

    code: str
    name: str
    market: Market
    last_close: int
    listed_shares: int = 0
    nxt_enabled: bool = False
    warning: str = "0"  # orderWarning code, "0" = none
    state: str = ""

    @property
    def is_etf(self) -> bool:
        return self.market == Market.ETF


@dataclass(frozen=True, slots=True)
class QuoteData:
    """Current quote of a stock (ka10001 주식기본정보)."""

    code: str
    name: str
    price: int
    base_price: int
    change: int
    change_rate: float
    open: int
    high: int
    low: int
    upper_limit: int
    lower_limit: int
    volume: int


@dataclass(frozen=True, slots=True)
class BarData:
    """One OHLCV bar. Daily bars have `time` at 00:00; minute bars at the bar's start."""

    code: str
    time: dt.datetime
    open: int
    high: int
    low: int
    close: int
    volume: int


@dataclass(frozen=True, slots=True)
class DepositData:
    """Cash of the account (kt00001 예수금상세현황)."""

    deposit: int  # 예수금
    orderable: int  # 주문가능금액
    withdrawable: int  # 출금가능금액
    d1_deposit: int
    d2_deposit: int


@dataclass(frozen=True, slots=True)
class PositionData:
    """One holding of the account (kt00018 row)."""

    code: str
    name: str
    quantity: int
    sellable_qty: int
    avg_price: int
    price: int
    prev_close: int
    purchase_amount: int
    eval_amount: int
    pnl: int  # after estimated fees and tax, as the server reports it
    return_rate: float  # percent
    fees: int = 0
    tax: int = 0


@dataclass(frozen=True, slots=True)
class AccountBalanceData:
    """Account evaluation (kt00018): totals and every holding (all pages)."""

    total_purchase: int
    total_eval: int
    total_pnl: int
    total_return_rate: float
    estimated_assets: int
    positions: tuple[PositionData, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class OpenOrderData:
    """An order with unfilled quantity (ka10075 미체결)."""

    order_no: str
    orig_order_no: str
    code: str
    name: str
    side: Side
    action: OrderAction
    order_type: OrderType | None
    order_qty: int
    order_price: int
    unfilled_qty: int
    filled_amount: int
    time: str  # HHmmss
    venue: Venue


@dataclass(frozen=True, slots=True)
class FillData:
    """A filled (or partly filled) order of today (ka10076 체결)."""

    order_no: str
    orig_order_no: str
    code: str
    name: str
    side: Side
    order_type: OrderType | None
    order_price: int
    order_qty: int
    fill_price: int
    fill_qty: int
    unfilled_qty: int
    fee: int
    tax: int
    time: str  # HHmmss
    venue: Venue


# --- Order requests and acknowledgements ------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order (kt10000 buy / kt10001 sell). `price` is 0 for types without a price."""

    code: str
    side: Side
    quantity: int
    price: int
    order_type: OrderType = OrderType.LIMIT
    venue: Venue = Venue.KRX
    stop_price: int = 0  # only for OrderType.STOP_LIMIT


@dataclass(frozen=True, slots=True)
class ModifyRequest:
    """Amend (정정, kt10002) the latest order of a chain: new price for `quantity` shares
    (0 = all remaining), on the venue of the original order."""

    orig_order_no: str
    code: str
    quantity: int
    price: int
    venue: Venue = Venue.KRX


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Cancel (취소, kt10003) `quantity` shares (0 = all remaining) of an order."""

    orig_order_no: str
    code: str
    quantity: int = 0
    venue: Venue = Venue.KRX


@dataclass(frozen=True, slots=True)
class OrderAckData:
    """The server's acknowledgement of an order request: the new order number."""

    order_no: str
    base_orig_order_no: str = ""  # root of the modify/cancel chain, "" for new orders
    quantity: int = 0  # modified / cancelled quantity for kt10002 / kt10003
    venue: Venue = Venue.KRX
    message: str = ""
