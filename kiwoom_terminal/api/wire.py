"""Kiwoom wire vocabulary: hosts, TR codes and their paths, order-type and venue codes, REG
types. The one place where our enums meet Kiwoom's codes (kiwoom-api.md §1, §7.2, §8.3)."""

from __future__ import annotations

from kiwoom_terminal.constants import (
    Feed,
    Market,
    Mode,
    OrderAction,
    OrderEventKind,
    OrderType,
    Side,
    Venue,
)

# --- Hosts (§1.1). The simulator's URLs come from its launcher instead. -----------------

REST_URLS = {Mode.REAL: "https://api.kiwoom.com", Mode.MOCK: "https://mockapi.kiwoom.com"}
WS_URLS = {
    Mode.REAL: "wss://api.kiwoom.com:10000/api/dostk/websocket",
    Mode.MOCK: "wss://mockapi.kiwoom.com:10000/api/dostk/websocket",
}

# --- TR codes and paths (§1.2) ----------------------------------------------------------

TOKEN_ISSUE = "au10001"
TOKEN_REVOKE = "au10002"
ACCOUNT_NUMBER = "ka00001"
QUOTE = "ka10001"
ORDER_BOOK = "ka10004"
QUOTE_BOARD = "ka10007"
DAILY_PRICES = "ka10086"
MINUTE_BARS = "ka10080"
DAILY_BARS = "ka10081"
STOCK_LIST = "ka10099"
STOCK_INFO = "ka10100"
OPEN_ORDERS = "ka10075"
FILLS = "ka10076"
DEPOSIT = "kt00001"
BALANCE = "kt00018"
BUY = "kt10000"
SELL = "kt10001"
MODIFY = "kt10002"
CANCEL = "kt10003"

TR_PATHS: dict[str, str] = {
    TOKEN_ISSUE: "/oauth2/token",
    TOKEN_REVOKE: "/oauth2/revoke",
    QUOTE: "/api/dostk/stkinfo",
    STOCK_LIST: "/api/dostk/stkinfo",
    STOCK_INFO: "/api/dostk/stkinfo",
    ORDER_BOOK: "/api/dostk/mrkcond",
    QUOTE_BOARD: "/api/dostk/mrkcond",
    DAILY_PRICES: "/api/dostk/mrkcond",
    MINUTE_BARS: "/api/dostk/chart",
    DAILY_BARS: "/api/dostk/chart",
    ACCOUNT_NUMBER: "/api/dostk/acnt",
    OPEN_ORDERS: "/api/dostk/acnt",
    FILLS: "/api/dostk/acnt",
    DEPOSIT: "/api/dostk/acnt",
    BALANCE: "/api/dostk/acnt",
    "kt00004": "/api/dostk/acnt",
    "kt00005": "/api/dostk/acnt",
    "kt00007": "/api/dostk/acnt",
    "kt00009": "/api/dostk/acnt",
    BUY: "/api/dostk/ordr",
    SELL: "/api/dostk/ordr",
    MODIFY: "/api/dostk/ordr",
    CANCEL: "/api/dostk/ordr",
}

# Token-specific codes the official client answers by re-issuing the token once (§4.2).
REISSUE_CODES = frozenset({"8005", "8031", "8103"})

# The account TRs orders are reconciled against (§6). A malformed success reply of one of
# them must not read as "no open orders / no holdings / no fills" (the engine could then
# send an order twice), so for these the client insists on the documented envelope:
# `return_code` present, the list key present on every page (`[]` when empty), paging that
# ends (RestClient raises BadReplyError otherwise). Every official example and observed
# reply carries both (§4.1, §6; kt00001 sends `stk_entr_prst: []`, an untraded code still
# gets its list with a blank row, §3), and kiwoom-api.md does not list their absence as an
# unknown. Other TRs stay lenient (a missing return_code reads as success, a missing list as
# empty). `RestClient(strict_trs=...)` changes the set should a server prove different.
STRICT_REPLY_TRS = frozenset({DEPOSIT, BALANCE, OPEN_ORDERS, FILLS})

# --- Order types (§7.2) -----------------------------------------------------------------

TRDE_TP: dict[OrderType, str] = {
    OrderType.LIMIT: "0",
    OrderType.MARKET: "3",
    OrderType.CONDITIONAL_LIMIT: "5",
    OrderType.BEST_LIMIT: "6",
    OrderType.PRIORITY_LIMIT: "7",
    OrderType.LIMIT_IOC: "10",
    OrderType.MARKET_IOC: "13",
    OrderType.BEST_IOC: "16",
    OrderType.LIMIT_FOK: "20",
    OrderType.MARKET_FOK: "23",
    OrderType.BEST_FOK: "26",
    OrderType.STOP_LIMIT: "28",
    OrderType.MIDPOINT: "29",
    OrderType.MIDPOINT_IOC: "30",
    OrderType.MIDPOINT_FOK: "31",
    OrderType.PRE_OPEN_OFF_HOURS: "61",
    OrderType.AFTER_HOURS_SINGLE: "62",
    OrderType.POST_CLOSE_OFF_HOURS: "81",
}

# Labels used in ka10075/ka10076 `trde_tp`, kt00007 and FID 906.
ORDER_TYPE_LABELS: dict[str, OrderType] = {
    "보통": OrderType.LIMIT,
    "지정가": OrderType.LIMIT,
    "시장가": OrderType.MARKET,
    "조건부지정가": OrderType.CONDITIONAL_LIMIT,
    "최유리지정가": OrderType.BEST_LIMIT,
    "최우선지정가": OrderType.PRIORITY_LIMIT,
    "보통(IOC)": OrderType.LIMIT_IOC,
    "시장가(IOC)": OrderType.MARKET_IOC,
    "최유리(IOC)": OrderType.BEST_IOC,
    "보통(FOK)": OrderType.LIMIT_FOK,
    "시장가(FOK)": OrderType.MARKET_FOK,
    "최유리(FOK)": OrderType.BEST_FOK,
    "스톱지정가": OrderType.STOP_LIMIT,
    "중간가": OrderType.MIDPOINT,
    "중간가(IOC)": OrderType.MIDPOINT_IOC,
    "중간가(FOK)": OrderType.MIDPOINT_FOK,
    "장전시간외": OrderType.PRE_OPEN_OFF_HOURS,
    "장시작전시간외": OrderType.PRE_OPEN_OFF_HOURS,
    "시간외단일가": OrderType.AFTER_HOURS_SINGLE,
    "장후시간외": OrderType.POST_CLOSE_OFF_HOURS,
    "장마감후시간외": OrderType.POST_CLOSE_OFF_HOURS,
}
# Codes seen in place of labels by some servers are accepted too.
ORDER_TYPE_LABELS.update({code: order_type for order_type, code in TRDE_TP.items()})


def order_type_from_label(label: str) -> OrderType | None:
    """Our OrderType for a label (`보통`, `시장가(IOC)`, …) or code; None when unknown
    (e.g. `시간외대량`)."""
    return ORDER_TYPE_LABELS.get(label.strip())


# --- Venues (§1.4, §6.4, §9.3) ----------------------------------------------------------

DMST_STEX_TP = {Venue.KRX: "KRX", Venue.NXT: "NXT", Venue.SOR: "SOR"}
VENUE_FROM_DMST = {v: k for k, v in DMST_STEX_TP.items()}
# ka10075 / ka10076 `stex_tp`: 0 통합, 1 KRX, 2 NXT; FID 2134 uses the same digits.
STEX_TP = {Venue.SOR: "0", Venue.KRX: "1", Venue.NXT: "2"}
VENUE_FROM_STEX = {"0": Venue.SOR, "1": Venue.KRX, "2": Venue.NXT}


def venue_from_wire(text: str, default: Venue = Venue.KRX) -> Venue:
    """Venue from any of its wire forms (`KRX`, `1`, `NXT`, `2`, `SOR`, `0`, `통합`)."""
    value = text.strip().upper()
    if value in VENUE_FROM_DMST:
        return VENUE_FROM_DMST[value]
    if value in VENUE_FROM_STEX:
        return VENUE_FROM_STEX[value]
    if value in ("통합", "AL"):
        return Venue.SOR
    return default


# --- Markets (ka10099 mrkt_tp, §5.7) ---------------------------------------------------

MRKT_TP = {Market.KOSPI: "0", Market.KOSDAQ: "10", Market.ETF: "8"}
MARKET_FROM_CODE = {"0": Market.KOSPI, "10": Market.KOSDAQ, "8": Market.ETF}

# --- Sides and actions (§6.4 io_tp_nm, §9.3 FID 905/907) ------------------------------


def side_from_wire(text: str) -> Side:
    """Side from `+매수` / `-매도정정` / `매수취소` / FID 907 `1`/`2` / `현금매도` …"""
    value = text.strip()
    if value == "1" or "매도" in value:
        return Side.SELL
    if value == "2" or "매수" in value:
        return Side.BUY
    raise ValueError(f"unknown side: {text!r}")


def action_from_wire(text: str) -> OrderAction:
    """New / modify / cancel from `+매수`, `-매도정정`, `매수취소` (§9.3 FID 905)."""
    if "취소" in text:
        return OrderAction.CANCEL
    if "정정" in text:
        return OrderAction.MODIFY
    return OrderAction.NEW


ORDER_EVENT_KINDS = {
    "접수": OrderEventKind.ACCEPTED,
    "체결": OrderEventKind.FILLED,
    "확인": OrderEventKind.CONFIRMED,
    "취소": OrderEventKind.CANCELLED,
    "거부": OrderEventKind.REJECTED,
}

# --- WebSocket REAL types (§8.3) --------------------------------------------------------

FEED_TYPES: dict[Feed, str] = {
    Feed.TRADES: "0B",
    Feed.ORDER_BOOK: "0D",
    Feed.ORDERS: "00",
    Feed.BALANCE: "04",
}
ACCOUNT_FEEDS = frozenset({Feed.ORDERS, Feed.BALANCE})  # REG item `[""]`
REAL_TRADE = "0B"
REAL_BOOK = "0D"
REAL_ORDER = "00"
REAL_BALANCE = "04"
REAL_CONDITION = "02"

# SYSTEM frame codes (§8.1, §8.2)
SYSTEM_KICKED = "R10001"  # another session logged in with the same app key
SYSTEM_HEARTBEAT = "R10002"  # our PING echoes stopped arriving
SYSTEM_NO_LOGIN = "R10004"  # no LOGIN after connecting
