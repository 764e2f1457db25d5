"""Typed Kiwoom TRs: request bodies built from our types, replies parsed into domain objects.

`TrClient` wraps a RestClient. Query methods may be retried by the caller (they are
idempotent); the three order methods send exactly once and raise on any failure — what to
do next (resend only after a 1700, reconcile after anything ambiguous) is the order
worker's decision, not this module's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from kiwoom_terminal.api import parse_rest, values, wire
from kiwoom_terminal.api.errors import RequestError
from kiwoom_terminal.api.rest import RestClient
from kiwoom_terminal.constants import Market, OrderAction, OrderType, Side, Venue
from kiwoom_terminal.krx import now_kst
from kiwoom_terminal.objects import (
    AccountBalanceData,
    BarData,
    CancelRequest,
    DepositData,
    FillData,
    ModifyRequest,
    OpenOrderData,
    OrderAckData,
    OrderBookData,
    OrderRequest,
    QuoteData,
    StockInfoData,
)

MINUTE_SCOPES = (1, 3, 5, 10, 15, 30, 45, 60)
_SIDE_FILTER = {None: "0", Side.SELL: "1", Side.BUY: "2"}


def _code(code: str) -> str:
    try:
        return values.check_code(code)
    except ValueError as exc:
        raise RequestError(str(exc)) from exc


class TrClient:
    """Queries and orders of the terminal, one method per TR."""

    def __init__(self, rest: RestClient, *, today: Callable[[], dt.date] | None = None) -> None:
        self.rest = rest
        self._today = today or (lambda: now_kst().date())

    # --- Market data ----------------------------------------------------------------

    def quote(self, code: str, venue: Venue = Venue.KRX) -> QuoteData:
        """ka10001 주식기본정보."""
        reply = self.rest.call(wire.QUOTE, {"stk_cd": values.wire_code(_code(code), venue)})
        return parse_rest.quote(reply.body)

    def order_book(self, code: str, venue: Venue = Venue.KRX) -> OrderBookData:
        """ka10004 주식호가."""
        code = _code(code)
        reply = self.rest.call(wire.ORDER_BOOK, {"stk_cd": values.wire_code(code, venue)})
        return parse_rest.order_book(reply.body, code, venue)

    def daily_bars(
        self,
        code: str,
        *,
        end_date: dt.date | None = None,
        max_rows: int = 600,
        adjusted: bool = True,
        venue: Venue = Venue.KRX,
    ) -> list[BarData]:
        """ka10081 daily bars, newest first, following pages up to `max_rows`."""
        code = _code(code)
        if max_rows < 1:
            raise RequestError(f"max_rows 는 1 이상이어야 합니다: {max_rows}")
        body = {
            "stk_cd": values.wire_code(code, venue),
            "base_dt": (end_date or self._today()).strftime("%Y%m%d"),
            "upd_stkpc_tp": "1" if adjusted else "0",
        }
        _, rows = self.rest.call_pages(
            wire.DAILY_BARS, body, "stk_dt_pole_chart_qry", max_rows=max_rows
        )
        return parse_rest.daily_bars(rows, code)

    def minute_bars(
        self,
        code: str,
        *,
        minutes: int = 1,
        end_date: dt.date | None = None,
        max_rows: int = 900,
        adjusted: bool = True,
        venue: Venue = Venue.KRX,
    ) -> list[BarData]:
        """ka10080 minute bars, newest first, following pages up to `max_rows`."""
        code = _code(code)
        if minutes not in MINUTE_SCOPES:
            raise RequestError(f"분봉 단위는 {MINUTE_SCOPES} 중 하나여야 합니다: {minutes}")
        if max_rows < 1:
            raise RequestError(f"max_rows 는 1 이상이어야 합니다: {max_rows}")
        body = {
            "stk_cd": values.wire_code(code, venue),
            "tic_scope": str(minutes),
            "upd_stkpc_tp": "1" if adjusted else "0",
        }
        if end_date is not None:
            body["base_dt"] = end_date.strftime("%Y%m%d")
        _, rows = self.rest.call_pages(
            wire.MINUTE_BARS, body, "stk_min_pole_chart_qry", max_rows=max_rows
        )
        return parse_rest.minute_bars(rows, code)

    def stock_list(self, market: Market) -> list[StockInfoData]:
        """ka10099 every stock of a market (all pages)."""
        code = wire.MRKT_TP.get(market)
        if code is None:
            raise RequestError(f"종목 목록을 조회할 수 없는 시장입니다: {market.value}")
        _, rows = self.rest.call_pages(wire.STOCK_LIST, {"mrkt_tp": code}, "list")
        return parse_rest.stock_list(rows, market)

    def stock_info(self, code: str) -> StockInfoData:
        """ka10100 one stock's listing data."""
        reply = self.rest.call(wire.STOCK_INFO, {"stk_cd": _code(code)})
        return parse_rest.stock_info(reply.body)

    # --- Account --------------------------------------------------------------------

    def account_number(self) -> str:
        """ka00001 the account behind the token."""
        return parse_rest.account_number(self.rest.call(wire.ACCOUNT_NUMBER, {}).body)

    def deposit(self) -> DepositData:
        """kt00001 (estimated, qry_tp 3)."""
        return parse_rest.deposit(self.rest.call(wire.DEPOSIT, {"qry_tp": "3"}).body)

    def balance(self, venue: Venue = Venue.KRX) -> AccountBalanceData:
        """kt00018 aggregate holdings, all pages."""
        body = {"qry_tp": "1", "dmst_stex_tp": wire.DMST_STEX_TP[_not_sor(venue)]}
        first, rows = self.rest.call_pages(wire.BALANCE, body, "acnt_evlt_remn_indv_tot")
        return parse_rest.balance(first, rows)

    def open_orders(
        self, code: str = "", side: Side | None = None, venue: Venue | None = None
    ) -> list[OpenOrderData]:
        """ka10075 unfilled orders, all pages."""
        body = {
            "all_stk_tp": "1" if code else "0",
            "trde_tp": _SIDE_FILTER[side],
            "stk_cd": _code(code) if code else "",
            "stex_tp": "0" if venue is None else wire.STEX_TP[venue],
        }
        _, rows = self.rest.call_pages(wire.OPEN_ORDERS, body, "oso")
        return parse_rest.open_orders(rows)

    def fills(
        self, code: str = "", side: Side | None = None, venue: Venue | None = None
    ) -> list[FillData]:
        """ka10076 today's fills, all pages."""
        body = {
            "stk_cd": _code(code) if code else "",
            "qry_tp": "1" if code else "0",
            "sell_tp": _SIDE_FILTER[side],
            "ord_no": "",
            "stex_tp": "0" if venue is None else wire.STEX_TP[venue],
        }
        _, rows = self.rest.call_pages(wire.FILLS, body, "cntr")
        return parse_rest.fills(rows)

    # --- Orders (sent once; never retried here) -------------------------------------

    def place_order(self, order: OrderRequest) -> OrderAckData:
        """kt10000 buy / kt10001 sell."""
        api_id, body = order_body(order)
        reply = self.rest.call(api_id, body, reissue_retry=False)
        return parse_rest.order_ack(reply.body, api_id, order.venue, OrderAction.NEW)

    def modify_order(self, modify: ModifyRequest) -> OrderAckData:
        """kt10002 정정."""
        api_id, body = modify_body(modify)
        reply = self.rest.call(api_id, body, reissue_retry=False)
        return parse_rest.order_ack(reply.body, api_id, modify.venue, OrderAction.MODIFY)

    def cancel_order(self, cancel: CancelRequest) -> OrderAckData:
        """kt10003 취소."""
        api_id, body = cancel_body(cancel)
        reply = self.rest.call(api_id, body, reissue_retry=False)
        return parse_rest.order_ack(reply.body, api_id, cancel.venue, OrderAction.CANCEL)


def order_body(order: OrderRequest) -> tuple[str, dict[str, str]]:
    """(api-id, body) of a new order; RequestError (Korean) when the order is malformed."""
    code = _code(order.code)
    if order.quantity < 1:
        raise RequestError(f"주문 수량은 1주 이상이어야 합니다: {code} {order.quantity}주")
    needs_price = order.order_type.needs_price
    if needs_price and order.price <= 0:
        raise RequestError(
            f"지정가 주문에는 가격이 필요합니다: {code} {order.quantity}주 {order.price}원"
        )
    if order.order_type is OrderType.STOP_LIMIT and order.stop_price <= 0:
        raise RequestError(f"스톱지정가 주문에는 스톱 가격이 필요합니다: {code}")
    body = {
        "dmst_stex_tp": wire.DMST_STEX_TP[order.venue],
        "stk_cd": code,
        "ord_qty": str(order.quantity),
        "ord_uv": str(order.price) if needs_price else "",
        "trde_tp": wire.TRDE_TP[order.order_type],
        "cond_uv": str(order.stop_price) if order.order_type is OrderType.STOP_LIMIT else "",
    }
    return (wire.BUY if order.side is Side.BUY else wire.SELL), body


def modify_body(modify: ModifyRequest) -> tuple[str, dict[str, str]]:
    """(api-id, body) of a modify (정정)."""
    code = _code(modify.code)
    if not modify.orig_order_no.strip():
        raise RequestError(f"정정할 원주문번호가 없습니다: {code}")
    if modify.quantity < 0 or modify.price <= 0:
        raise RequestError(
            f"정정 수량/가격이 잘못되었습니다: {code} {modify.quantity}주 {modify.price}원"
        )
    return wire.MODIFY, {
        "dmst_stex_tp": wire.DMST_STEX_TP[modify.venue],
        "orig_ord_no": modify.orig_order_no.strip(),
        "stk_cd": code,
        "mdfy_qty": str(modify.quantity),
        "mdfy_uv": str(modify.price),
        "mdfy_cond_uv": "",
    }


def cancel_body(cancel: CancelRequest) -> tuple[str, dict[str, str]]:
    """(api-id, body) of a cancel (취소); quantity 0 = all remaining."""
    code = _code(cancel.code)
    if not cancel.orig_order_no.strip():
        raise RequestError(f"취소할 원주문번호가 없습니다: {code}")
    if cancel.quantity < 0:
        raise RequestError(f"취소 수량이 잘못되었습니다: {code} {cancel.quantity}주")
    return wire.CANCEL, {
        "dmst_stex_tp": wire.DMST_STEX_TP[cancel.venue],
        "orig_ord_no": cancel.orig_order_no.strip(),
        "stk_cd": code,
        "cncl_qty": str(cancel.quantity),
    }


def _not_sor(venue: Venue) -> Venue:
    """kt00018 knows only KRX and NXT."""
    return Venue.KRX if venue is Venue.SOR else venue
