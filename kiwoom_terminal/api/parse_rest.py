"""REST replies → domain objects (kiwoom-api.md §5–§7).

Each function takes the JSON body (or its rows) of one TR and returns objects from
`objects.py`. A field that cannot be parsed raises BadReplyError naming the TR and field; a
missing field counts as empty (servers omit what does not apply). Blank rows (a valid but
untraded code comes back as one row of empty strings, §3) are skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from kiwoom_terminal.api import values, wire
from kiwoom_terminal.api.errors import BadReplyError
from kiwoom_terminal.constants import Market, OrderAction, Venue
from kiwoom_terminal.objects import (
    AccountBalanceData,
    BarData,
    DepositData,
    FillData,
    OpenOrderData,
    OrderAckData,
    OrderBookData,
    PositionData,
    QuoteData,
    StockInfoData,
)

T = TypeVar("T")
Row = dict[str, Any]


def _get(row: Row, key: str, fn: Callable[[str], T], api_id: str) -> T:
    raw = row.get(key, "")
    if raw is None:
        raw = ""
    try:
        return fn(str(raw))
    except (ValueError, IndexError) as exc:
        raise BadReplyError(
            f"{api_id} 응답의 {key} 값을 해석할 수 없습니다: {raw!r}", api_id=api_id
        ) from exc


def _text(row: Row, key: str) -> str:
    value = row.get(key, "")
    return "" if value is None else str(value).strip()


def quote(body: Row) -> QuoteData:
    """ka10001 주식기본정보."""
    a = wire.QUOTE
    return QuoteData(
        code=values.bare_code(_text(body, "stk_cd")),
        name=_text(body, "stk_nm"),
        price=_get(body, "cur_prc", values.price, a),
        base_price=_get(body, "base_pric", values.price, a),
        change=_get(body, "pred_pre", values.signed_int, a),
        change_rate=_get(body, "flu_rt", values.signed_float, a),
        open=_get(body, "open_pric", values.price, a),
        high=_get(body, "high_pric", values.price, a),
        low=_get(body, "low_pric", values.price, a),
        upper_limit=_get(body, "upl_pric", values.price, a),
        lower_limit=_get(body, "lst_pric", values.price, a),
        volume=_get(body, "trde_qty", values.unsigned_int, a),
    )


def order_book(body: Row, code: str, venue: Venue) -> OrderBookData:
    """ka10004 주식호가 (level 1 uses `fpr`, levels 2–10 `{n}th_pre`)."""
    a = wire.ORDER_BOOK

    def level(side: str, n: int, what: str) -> str:
        if n == 1:
            return f"{side}_fpr_{'bid' if what == 'price' else 'req'}"
        return f"{side}_{n}th_pre_{'bid' if what == 'price' else 'req'}"

    asks = tuple(_get(body, level("sel", n, "price"), values.price, a) for n in range(1, 11))
    bids = tuple(_get(body, level("buy", n, "price"), values.price, a) for n in range(1, 11))
    ask_q = tuple(_get(body, level("sel", n, "qty"), values.unsigned_int, a) for n in range(1, 11))
    bid_q = tuple(_get(body, level("buy", n, "qty"), values.unsigned_int, a) for n in range(1, 11))
    return OrderBookData(
        code=code,
        venue=venue,
        time=values.hhmmss(_text(body, "bid_req_base_tm")),
        ask_prices=asks,
        ask_qtys=ask_q,
        bid_prices=bids,
        bid_qtys=bid_q,
        total_ask_qty=_get(body, "tot_sel_req", values.unsigned_int, a),
        total_bid_qty=_get(body, "tot_buy_req", values.unsigned_int, a),
    )


def daily_bars(rows: list[Row], code: str) -> list[BarData]:
    """ka10081 rows (newest first) → bars at 00:00 of each day, same order."""
    a = wire.DAILY_BARS
    bars = []
    for row in rows:
        if not _text(row, "dt"):
            continue
        day = _get(row, "dt", values.date, a)
        bars.append(
            BarData(
                code=code,
                time=_midnight(day),
                open=_get(row, "open_pric", values.price, a),
                high=_get(row, "high_pric", values.price, a),
                low=_get(row, "low_pric", values.price, a),
                close=_get(row, "cur_prc", values.price, a),
                volume=_get(row, "trde_qty", values.unsigned_int, a),
            )
        )
    return bars


def minute_bars(rows: list[Row], code: str) -> list[BarData]:
    """ka10080 rows (newest first, prices signed vs previous close) → bars, same order."""
    a = wire.MINUTE_BARS
    bars = []
    for row in rows:
        if not _text(row, "cntr_tm"):
            continue
        bars.append(
            BarData(
                code=code,
                time=_get(row, "cntr_tm", values.datetime_minute, a),
                open=_get(row, "open_pric", values.price, a),
                high=_get(row, "high_pric", values.price, a),
                low=_get(row, "low_pric", values.price, a),
                close=_get(row, "cur_prc", values.price, a),
                volume=_get(row, "trde_qty", values.unsigned_int, a),
            )
        )
    return bars


def stock_info(row: Row, market: Market | None = None) -> StockInfoData:
    """One ka10099 list row or the ka10100 body."""
    a = wire.STOCK_LIST
    if market is None:
        market = wire.MARKET_FROM_CODE.get(_text(row, "marketCode"), Market.OTHER)
    return StockInfoData(
        code=values.bare_code(_text(row, "code")),
        name=_text(row, "name"),
        market=market,
        last_close=_get(row, "lastPrice", values.price, a),
        listed_shares=_get(row, "listCount", values.unsigned_int, a),
        nxt_enabled=_text(row, "nxtEnable").upper() == "Y",
        warning=_text(row, "orderWarning") or "0",
        state=_text(row, "state"),
    )


def stock_list(rows: list[Row], market: Market) -> list[StockInfoData]:
    """ka10099 rows of one requested market."""
    return [stock_info(row, market) for row in rows if _text(row, "code")]


def deposit(body: Row) -> DepositData:
    """kt00001 예수금상세현황 (15-wide padded amounts)."""
    a = wire.DEPOSIT
    return DepositData(
        deposit=_get(body, "entr", values.signed_int, a),
        orderable=_get(body, "ord_alow_amt", values.signed_int, a),
        withdrawable=_get(body, "pymn_alow_amt", values.signed_int, a),
        d1_deposit=_get(body, "d1_entra", values.signed_int, a),
        d2_deposit=_get(body, "d2_entra", values.signed_int, a),
    )


def balance(first: Row, rows: list[Row]) -> AccountBalanceData:
    """kt00018: totals from the first page, holdings from every page."""
    a = wire.BALANCE
    positions = []
    for row in rows:
        if not _text(row, "stk_cd"):
            continue
        positions.append(
            PositionData(
                code=values.bare_code(_text(row, "stk_cd")),
                name=_text(row, "stk_nm"),
                quantity=_get(row, "rmnd_qty", values.unsigned_int, a),
                sellable_qty=_get(row, "trde_able_qty", values.unsigned_int, a),
                avg_price=_get(row, "pur_pric", values.price, a),
                price=_get(row, "cur_prc", values.price, a),
                prev_close=_get(row, "pred_close_pric", values.price, a),
                purchase_amount=_get(row, "pur_amt", values.signed_int, a),
                eval_amount=_get(row, "evlt_amt", values.signed_int, a),
                pnl=_get(row, "evltv_prft", values.signed_int, a),
                return_rate=_get(row, "prft_rt", values.signed_float, a),
                fees=_get(row, "sum_cmsn", values.signed_int, a),
                tax=_get(row, "tax", values.signed_int, a),
            )
        )
    return AccountBalanceData(
        total_purchase=_get(first, "tot_pur_amt", values.signed_int, a),
        total_eval=_get(first, "tot_evlt_amt", values.signed_int, a),
        total_pnl=_get(first, "tot_evlt_pl", values.signed_int, a),
        total_return_rate=_get(first, "tot_prft_rt", values.signed_float, a),
        estimated_assets=_get(first, "prsm_dpst_aset_amt", values.signed_int, a),
        positions=tuple(positions),
    )


def open_orders(rows: list[Row]) -> list[OpenOrderData]:
    """ka10075 `oso` rows."""
    a = wire.OPEN_ORDERS
    result = []
    for row in rows:
        order_no = _text(row, "ord_no")
        if not order_no:
            continue
        side_text = _text(row, "io_tp_nm")
        result.append(
            OpenOrderData(
                order_no=order_no,
                orig_order_no=values.order_no(_text(row, "orig_ord_no")),
                code=values.bare_code(_text(row, "stk_cd")),
                name=_text(row, "stk_nm"),
                side=_get(row, "io_tp_nm", wire.side_from_wire, a),
                action=wire.action_from_wire(side_text),
                order_type=wire.order_type_from_label(_text(row, "trde_tp")),
                order_qty=_get(row, "ord_qty", values.unsigned_int, a),
                order_price=_get(row, "ord_pric", values.price, a),
                unfilled_qty=_get(row, "oso_qty", values.unsigned_int, a),
                filled_amount=_get(row, "cntr_tot_amt", values.unsigned_int, a),
                time=values.hhmmss(_text(row, "tm")),
                venue=wire.venue_from_wire(_text(row, "stex_tp")),
            )
        )
    return result


def fills(rows: list[Row]) -> list[FillData]:
    """ka10076 `cntr` rows."""
    a = wire.FILLS
    result = []
    for row in rows:
        if not _text(row, "ord_no"):
            continue
        result.append(
            FillData(
                order_no=_text(row, "ord_no"),
                orig_order_no=values.order_no(_text(row, "orig_ord_no")),
                code=values.bare_code(_text(row, "stk_cd")),
                name=_text(row, "stk_nm"),
                side=_get(row, "io_tp_nm", wire.side_from_wire, a),
                order_type=wire.order_type_from_label(_text(row, "trde_tp")),
                order_price=_get(row, "ord_pric", values.price, a),
                order_qty=_get(row, "ord_qty", values.unsigned_int, a),
                fill_price=_get(row, "cntr_pric", values.price, a),
                fill_qty=_get(row, "cntr_qty", values.unsigned_int, a),
                unfilled_qty=_get(row, "oso_qty", values.unsigned_int, a),
                fee=_get(row, "tdy_trde_cmsn", values.unsigned_int, a),
                tax=_get(row, "tdy_trde_tax", values.unsigned_int, a),
                time=values.hhmmss(_text(row, "ord_tm")),
                venue=wire.venue_from_wire(_text(row, "stex_tp")),
            )
        )
    return result


def order_ack(body: Row, api_id: str, venue: Venue, action: OrderAction) -> OrderAckData:
    """kt10000–kt10003 success body. An accepted order has a non-empty `ord_no` (§7.5)."""
    order_no = _text(body, "ord_no")
    if not order_no:
        raise BadReplyError(f"{api_id} 응답에 주문번호가 없습니다", api_id=api_id)
    qty_key = {OrderAction.MODIFY: "mdfy_qty", OrderAction.CANCEL: "cncl_qty"}.get(action)
    quantity = _get(body, qty_key, values.unsigned_int, api_id) if qty_key else 0
    return OrderAckData(
        order_no=order_no,
        base_orig_order_no=values.order_no(_text(body, "base_orig_ord_no")),
        quantity=quantity,
        venue=wire.venue_from_wire(_text(body, "dmst_stex_tp"), venue),
        message=_text(body, "return_msg"),
    )


def account_number(body: Row) -> str:
    """ka00001 `acctNo`."""
    number = _text(body, "acctNo")
    if not number:
        raise BadReplyError("ka00001 응답에 계좌번호가 없습니다", api_id=wire.ACCOUNT_NUMBER)
    return number


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)
