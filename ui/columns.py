"""Column specs of the five engine tables, with Korean headers as a Korean HTS shows them.

Each spec names a column of the engine's DataFrame (`kiwoom_terminal/engine/tables.py`), its
header, how the value is written (thousands separators, signed percentages, HH:MM:SS) and how
it is coloured: returns, P&L and prices against the average price are red when up and blue
when down; buy is red and sell blue.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from kiwoom_terminal.engine import tables
from ui import labels
from ui.table_model import CENTER, RIGHT, ColumnSpec, Row

# --- Formatters -------------------------------------------------------------------------


def fmt_int(value: Any) -> str:
    """1234567 -> "1,234,567"."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}"


def fmt_int_blank_zero(value: Any) -> str:
    """Like fmt_int, but 0 shows as blank (e.g. the price of a market order)."""
    return "" if not value else fmt_int(value)


def fmt_pct(value: Any) -> str:
    """3.456 -> "+3.46%", -1.2 -> "-1.20%", 0 -> "0.00%", NaN (no position) -> blank."""
    if value is None or value == "":
        return ""
    v = float(value)
    if math.isnan(v):
        return ""
    return f"{v:+,.2f}%" if v else "0.00%"


def fmt_time(value: Any) -> str:
    """ "093015" -> "09:30:15"; other text is shown as it is."""
    text = "" if value is None else str(value)
    if len(text) == 6 and text.isdigit():
        return f"{text[:2]}:{text[2:4]}:{text[4:]}"
    return text


def fmt_side(value: Any) -> str:
    return labels.label(labels.SIDE, value)


def fmt_order_type(value: Any) -> str:
    return labels.label(labels.ORDER_TYPE, value)


def fmt_status(value: Any) -> str:
    return labels.label(labels.ORDER_STATUS, value)


def fmt_purpose(value: Any) -> str:
    return labels.label(labels.PURPOSE, value)


def fmt_flag(text: str) -> Callable[[Any], str]:
    """A bool column shown as `text` when true and blank when false."""

    def formatter(value: Any) -> str:
        return text if value else ""

    return formatter


# --- Colour rules -----------------------------------------------------------------------


def sign_of(key: str) -> Callable[[Row], float | None]:
    """Colour by the sign of one column (returns, P&L)."""

    def rule(row: Row) -> float | None:
        value = row.get(key)
        if value is None or value == "":
            return None
        v = float(value)
        return None if math.isnan(v) else v

    return rule


def side_colour(row: Row) -> float | None:
    side = row.get("side")
    return 1.0 if side == "buy" else -1.0 if side == "sell" else None


def flag_colour(positive: bool) -> Callable[[Row], float | None]:
    """A fixed red (True) or blue (False) for a flag column's text."""
    sign = 1.0 if positive else -1.0

    def rule(row: Row) -> float | None:
        return sign

    return rule


# --- The five tables --------------------------------------------------------------------

# 잔고 and 실시간 추적 share a ~500 px dock with 미체결 / 체결: what a trader watches (price,
# P&L, return, trailing) comes right after the name, so it is in view without scrolling;
# the code and name are as narrow as a 6-digit code and a typical name allow.
CODE_WIDTH = 60
NAME_WIDTH = 90

# 현재가 is red / blue by its change from the previous close, as in 주문 and 호가 and every
# Korean HTS; 평가손익 and 수익률 say how it stands against the average price.
CHANGE_RATE = ColumnSpec(
    "change_rate",
    "등락률",
    fmt_pct,
    RIGHT,
    sign_of("change_rate"),
    width=62,
    tooltip="전일 종가 대비 (최근 체결)",
)

HOLDINGS_COLUMNS = (
    ColumnSpec("code", "종목코드", width=CODE_WIDTH, alignment=CENTER),
    ColumnSpec("name", "종목명", width=NAME_WIDTH),
    ColumnSpec("price", "현재가", fmt_int, RIGHT, sign_of("change_rate"), width=70),
    ColumnSpec("pnl", "평가손익", fmt_int, RIGHT, sign_of("pnl"), width=80),
    ColumnSpec("return_rate", "수익률", fmt_pct, RIGHT, sign_of("return_rate"), width=64),
    CHANGE_RATE,
    ColumnSpec("quantity", "보유수량", fmt_int, RIGHT, width=62),
    ColumnSpec("sellable_qty", "매도가능", fmt_int, RIGHT, width=62),
    ColumnSpec("avg_price", "평균단가", fmt_int, RIGHT, width=70),
    ColumnSpec("purchase_amount", "매입금액", fmt_int, RIGHT, width=88),
    ColumnSpec("eval_amount", "평가금액", fmt_int, RIGHT, width=88),
)

TRACKING_COLUMNS = (
    ColumnSpec("code", "종목코드", width=CODE_WIDTH, alignment=CENTER),
    ColumnSpec("name", "종목명", width=NAME_WIDTH),
    ColumnSpec("price", "현재가", fmt_int, RIGHT, sign_of("change_rate"), width=70),
    ColumnSpec("return_rate", "수익률", fmt_pct, RIGHT, sign_of("return_rate"), width=64),
    ColumnSpec(
        "trailing_armed",
        "트레일링",
        fmt_flag("발동"),
        CENTER,
        flag_colour(True),
        width=60,
        tooltip="트레일링 스탑이 발동되었는지",
    ),
    CHANGE_RATE,
    # Blank until something is bought: a tracked stock without a position has no 매입가
    ColumnSpec("avg_price", "매입가", fmt_int_blank_zero, RIGHT, width=70),
    ColumnSpec("quantity", "수량", fmt_int_blank_zero, RIGHT, width=56),
    ColumnSpec(
        "high_since_arm",
        "발동후고가",
        fmt_int_blank_zero,
        RIGHT,
        width=76,
        tooltip="트레일링 스탑 발동 후 최고가",
    ),
    ColumnSpec("protect_active", "이익보존", fmt_flag("보존"), CENTER, width=58),
    ColumnSpec("buy_pending", "매수주문", fmt_flag("매수중"), CENTER, flag_colour(True), width=58),
    ColumnSpec(
        "sell_pending", "매도주문", fmt_flag("매도중"), CENTER, flag_colour(False), width=58
    ),
    ColumnSpec("source", "편입경로", width=96),
    ColumnSpec("entered_at", "매수시각", fmt_time, CENTER, width=64),
    ColumnSpec("reason", "최근 판단", width=240, tooltip="마지막 매매 판단과 그 이유"),
)

OPEN_ORDERS_COLUMNS = (
    ColumnSpec("order_no", "주문번호", width=70, alignment=CENTER),
    ColumnSpec("orig_order_no", "원주문번호", width=70, alignment=CENTER),
    ColumnSpec("time", "주문시각", fmt_time, CENTER, width=64),
    ColumnSpec("code", "종목코드", width=62, alignment=CENTER),
    ColumnSpec("name", "종목명", width=104),
    ColumnSpec("side", "구분", fmt_side, CENTER, side_colour, width=44),
    ColumnSpec("order_type", "유형", fmt_order_type, CENTER, width=70),
    ColumnSpec("price", "주문가", fmt_int_blank_zero, RIGHT, width=74),
    ColumnSpec("quantity", "주문수량", fmt_int, RIGHT, width=62),
    ColumnSpec("remaining", "미체결", fmt_int, RIGHT, width=62),
    ColumnSpec("filled", "체결량", fmt_int, RIGHT, width=62),
    ColumnSpec("amend_count", "정정", fmt_int, RIGHT, width=40, tooltip="자동 정정 횟수"),
    ColumnSpec("venue", "거래소", width=48, alignment=CENTER),
    ColumnSpec("status", "상태", fmt_status, CENTER, width=62),
    ColumnSpec("purpose", "목적", fmt_purpose, CENTER, width=62),
)

FILLS_COLUMNS = (
    ColumnSpec("time", "체결시각", fmt_time, CENTER, width=64),
    ColumnSpec("order_no", "주문번호", width=70, alignment=CENTER),
    ColumnSpec("code", "종목코드", width=62, alignment=CENTER),
    ColumnSpec("name", "종목명", width=104),
    ColumnSpec("side", "구분", fmt_side, CENTER, side_colour, width=44),
    ColumnSpec("price", "체결가", fmt_int, RIGHT, width=74),
    ColumnSpec("quantity", "체결수량", fmt_int, RIGHT, width=62),
    ColumnSpec("amount", "체결금액", fmt_int, RIGHT, width=92),
    ColumnSpec("fee", "수수료", fmt_int, RIGHT, width=58),
    ColumnSpec("tax", "세금", fmt_int, RIGHT, width=58),
)

CONDITIONS_COLUMNS = (
    ColumnSpec("seq", "번호", width=34, alignment=CENTER),
    ColumnSpec("name", "조건식명", width=134),
    ColumnSpec(
        "buy_enabled", "매수", alignment=CENTER, width=40, checkable=True, tooltip="자동매수에 사용"
    ),
    ColumnSpec(
        "sell_enabled",
        "매도",
        alignment=CENTER,
        width=40,
        checkable=True,
        tooltip="자동매도에 사용",
    ),
    ColumnSpec("running", "실시간", fmt_flag("●"), CENTER, flag_colour(True), width=44),
    ColumnSpec("matches", "편입", fmt_int, RIGHT, width=44, tooltip="현재 편입 종목 수"),
)

COLUMNS: dict[str, tuple[ColumnSpec, ...]] = {
    tables.HOLDINGS.name: HOLDINGS_COLUMNS,
    tables.TRACKING.name: TRACKING_COLUMNS,
    tables.OPEN_ORDERS.name: OPEN_ORDERS_COLUMNS,
    tables.FILLS.name: FILLS_COLUMNS,
    tables.CONDITIONS.name: CONDITIONS_COLUMNS,
}
