"""Enums shared by every layer. Values are stable codes that may be written to disk (pickles,
the journal, settings); Korean display text is mapped in `ui/`, and Kiwoom wire codes are
mapped inside `kiwoom_terminal/api/`."""

from __future__ import annotations

from enum import Enum


class Mode(str, Enum):
    """Which server the terminal talks to."""

    SIM = "sim"  # embedded simulator on 127.0.0.1 (default)
    MOCK = "mock"  # Kiwoom 모의투자 server
    REAL = "real"  # Kiwoom real server: real money


class Side(str, Enum):
    BUY = "buy"
    SELL = "sell"

    @property
    def text(self) -> str:
        """매수 / 매도, for messages and logs the user reads."""
        return "매수" if self is Side.BUY else "매도"


class Venue(str, Enum):
    """Exchange an order is routed to (dmst_stex_tp); also the venue of a quote."""

    KRX = "KRX"
    NXT = "NXT"
    SOR = "SOR"  # smart order routing (integrated, `_AL` codes)


class Market(str, Enum):
    """Listing market of a stock (ka10099 mrkt_tp)."""

    KOSPI = "kospi"
    KOSDAQ = "kosdaq"
    ETF = "etf"
    OTHER = "other"


class OrderType(str, Enum):
    """Order types (trde_tp, kiwoom-api.md §7.2); the wire codes live in the API layer."""

    LIMIT = "limit"  # 보통
    MARKET = "market"  # 시장가
    CONDITIONAL_LIMIT = "conditional_limit"  # 조건부지정가
    BEST_LIMIT = "best_limit"  # 최유리지정가
    PRIORITY_LIMIT = "priority_limit"  # 최우선지정가
    LIMIT_IOC = "limit_ioc"
    MARKET_IOC = "market_ioc"
    BEST_IOC = "best_ioc"
    LIMIT_FOK = "limit_fok"
    MARKET_FOK = "market_fok"
    BEST_FOK = "best_fok"
    STOP_LIMIT = "stop_limit"  # 스톱지정가
    MIDPOINT = "midpoint"
    MIDPOINT_IOC = "midpoint_ioc"
    MIDPOINT_FOK = "midpoint_fok"
    PRE_OPEN_OFF_HOURS = "pre_open_off_hours"  # 장전시간외
    AFTER_HOURS_SINGLE = "after_hours_single"  # 시간외단일가
    POST_CLOSE_OFF_HOURS = "post_close_off_hours"  # 장후시간외

    @property
    def needs_price(self) -> bool:
        """True when the order carries a limit price (ord_uv)."""
        return self in _PRICED_TYPES


_PRICED_TYPES = frozenset(
    {
        OrderType.LIMIT,
        OrderType.CONDITIONAL_LIMIT,
        OrderType.LIMIT_IOC,
        OrderType.LIMIT_FOK,
        OrderType.STOP_LIMIT,
        OrderType.AFTER_HOURS_SINGLE,
    }
)


class OrderAction(str, Enum):
    """What an order request or order event does to the order chain."""

    NEW = "new"
    MODIFY = "modify"  # 정정
    CANCEL = "cancel"  # 취소


class OrderStatus(str, Enum):
    """Life cycle of one order as the terminal tracks it."""

    SUBMITTING = "submitting"  # handed to the order worker; no reply yet
    ACCEPTED = "accepted"  # server gave an order number; nothing filled yet
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"  # fully cancelled, or the rest cancelled after partial fills
    REPLACED = "replaced"  # superseded by a modify (정정) that took its remaining quantity
    REJECTED = "rejected"
    UNKNOWN = "unknown"  # timeout / 5xx on the order path: reconcile before acting again

    @property
    def is_open(self) -> bool:
        return self in (
            OrderStatus.SUBMITTING,
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.UNKNOWN,
        )


class OrderEventKind(str, Enum):
    """Order-event state pushed by the server (REAL 00, FID 913)."""

    ACCEPTED = "accepted"  # 접수
    FILLED = "filled"  # 체결 (partial or full; see unfilled_qty)
    CONFIRMED = "confirmed"  # 확인 (modify / cancel confirmed)
    CANCELLED = "cancelled"  # 취소
    REJECTED = "rejected"  # 거부


class ConditionChange(str, Enum):
    """A stock entering (편입, I) or leaving (편출, D) a real-time condition."""

    ENTER = "enter"
    EXIT = "exit"


class Feed(str, Enum):
    """Real-time feeds the WebSocket worker can register (REG types)."""

    TRADES = "trades"  # 주식체결 ticks
    ORDER_BOOK = "order_book"  # 주식호가잔량 (10 levels)
    ORDERS = "orders"  # 주문체결 events of the account
    BALANCE = "balance"  # 잔고 events of the account


class ExitReason(str, Enum):
    """Why a position was (or is to be) sold. Recorded with every sell decision."""

    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    PROFIT_PROTECT = "profit_protect"
    SELL_CONDITION = "sell_condition"
    LIQUIDATION = "liquidation"  # end-of-day liquidation time
    STRATEGY = "strategy"  # a strategy's sell signal or a scheduled sell
    MANUAL = "manual"
    EMERGENCY = "emergency"


class ConnectionState(str, Enum):
    """State of a worker's connection, shown in the status bar."""

    STARTING = "starting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    THROTTLING = "throttling"  # connected but waiting on the rate limiter
    KICKED = "kicked"  # another session logged in with the same app key (R10001)
    AUTH_FAILED = "auth_failed"
    DEAD = "dead"  # the process died; the supervisor is restarting it
    STOPPED = "stopped"
