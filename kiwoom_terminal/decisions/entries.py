"""Entries: whether to buy a stock a buy condition just flagged (편입), how many, at what price.

`evaluate_buy(ctx, rules, risk_state, limits, now)` runs every guard in a fixed order and
returns a `BuyDecision`: either the order to send (quantity, price, order type) or the first
reason to refuse, as a stable `BuyRefusal` code plus a Korean line for the log. The order of
the guards is the order of `BuyRefusal`, cheapest and most common first; the risk limits come
last because they need the price and quantity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from kiwoom_terminal import krx
from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.decisions.pricing import buy_order_price, size_by_amount
from kiwoom_terminal.decisions.risk import (
    RiskLimits,
    RiskOrder,
    RiskState,
    RiskVerdict,
    check_risk,
)
from kiwoom_terminal.settings import FeeSettings, TradingSettings


class BuyRefusal(str, Enum):
    """Why an automatic buy was skipped; the value is a stable code for logs and tests."""

    AUTO_TRADE_OFF = "auto_trade_off"
    OUTSIDE_WINDOW = "outside_window"
    HELD = "held"
    TRACKED = "tracked"
    BOUGHT_TODAY = "bought_today"
    MAX_POSITIONS = "max_positions"
    NO_PRICE = "no_price"
    ZERO_QUANTITY = "zero_quantity"
    RISK = "risk"


@dataclass(frozen=True, slots=True)
class BuyRules:
    """How automatic buys are made, from `[trading]` and `[fees]`."""

    amount: int = 1_000_000
    order_type: OrderType = OrderType.LIMIT
    tick_offset: int = 0
    window_start: dt.time = dt.time(9, 0)
    window_end: dt.time = dt.time(15, 15)
    rebuy_block: bool = True
    fees: krx.FeeSchedule = krx.FeeSchedule()

    @classmethod
    def from_settings(cls, trading: TradingSettings, fees: FeeSettings | None = None) -> BuyRules:
        fees = fees or FeeSettings()
        return cls(
            amount=trading.buy_amount,
            order_type=trading.buy_order_type,
            tick_offset=trading.buy_tick_offset,
            window_start=trading.trading_start,
            window_end=trading.trading_end,
            rebuy_block=trading.rebuy_block,
            fees=krx.FeeSchedule(fees.commission_rate, fees.tax_rate),
        )


@dataclass(frozen=True, slots=True)
class BuyContext:
    """Everything the buy decision needs to know about one flagged stock, as plain values.

    `now` is the time of day (KST). `best_ask` 0 means no ask (e.g. locked at the upper limit); `last_price` is the
    fallback for sizing a market order then. `band` is the day's price band when known.
    """

    code: str
    now: dt.time
    auto_trade_on: bool
    held: bool
    tracked: bool
    bought_today: bool
    best_ask: int
    last_price: int = 0
    band: krx.PriceBand | None = None
    etf: bool = False


@dataclass(frozen=True, slots=True)
class BuyDecision:
    """`ok` with the order to send, or the refusal code and Korean reason.

    `risk` carries the risk verdict when the risk check ran; when it says
    `disable_auto_trade`, the caller switches auto-trade off and shows `reason`.
    """

    ok: bool
    refusal: BuyRefusal | None
    reason: str
    quantity: int = 0
    price: int = 0  # 0 for a market order
    order_type: OrderType = OrderType.LIMIT
    sizing_price: int = 0  # the price the quantity was sized at
    risk: RiskVerdict | None = None

    @property
    def disable_auto_trade(self) -> bool:
        return self.risk is not None and self.risk.disable_auto_trade


def _refuse(refusal: BuyRefusal, reason: str, risk: RiskVerdict | None = None) -> BuyDecision:
    return BuyDecision(False, refusal, reason, risk=risk)


def evaluate_buy(
    ctx: BuyContext,
    rules: BuyRules,
    risk_state: RiskState,
    limits: RiskLimits,
    now: float,
) -> BuyDecision:
    """Decide an automatic buy for a stock that just entered a buy condition.

    `risk_state.positions` counts held codes plus codes with a pending buy. `now` is the clock of `risk_state.order_times` (seconds) for the orders-per-minute limit.
    """
    code = ctx.code
    if not ctx.auto_trade_on:
        return _refuse(BuyRefusal.AUTO_TRADE_OFF, f"{code} 매수 안 함: 자동매매가 꺼져 있습니다")
    if not rules.window_start <= ctx.now < rules.window_end:
        return _refuse(
            BuyRefusal.OUTSIDE_WINDOW,
            f"{code} 매수 안 함: 자동매수 시간({rules.window_start:%H:%M}–"
            f"{rules.window_end:%H:%M}) 밖입니다 ({ctx.now:%H:%M:%S})",
        )
    if ctx.held:
        return _refuse(BuyRefusal.HELD, f"{code} 매수 안 함: 이미 보유 중입니다")
    if ctx.tracked:
        return _refuse(BuyRefusal.TRACKED, f"{code} 매수 안 함: 이미 추적(주문) 중입니다")
    if rules.rebuy_block and ctx.bought_today:
        return _refuse(
            BuyRefusal.BOUGHT_TODAY, f"{code} 매수 안 함: 오늘 이미 매수한 종목입니다 (재매수 금지)"
        )
    if limits.max_positions > 0 and risk_state.positions >= limits.max_positions:
        return _refuse(
            BuyRefusal.MAX_POSITIONS,
            f"{code} 매수 안 함: 최대 보유 종목 수 {limits.max_positions}개에 도달했습니다 "
            f"(보유·매수 대기 {risk_state.positions}개)",
        )
    quote = ctx.best_ask if ctx.best_ask > 0 else ctx.last_price
    if quote <= 0 or (rules.order_type is not OrderType.MARKET and ctx.best_ask <= 0):
        return _refuse(
            BuyRefusal.NO_PRICE, f"{code} 매수 안 함: 매도호가가 없습니다 (상한가이거나 시세 없음)"
        )
    price = buy_order_price(rules.order_type, quote, rules.tick_offset, ctx.band, etf=ctx.etf)
    sizing_price = price or quote
    quantity = size_by_amount(rules.amount, sizing_price, rules.fees)
    if quantity <= 0:
        return _refuse(
            BuyRefusal.ZERO_QUANTITY,
            f"{code} 매수 안 함: 매수 금액 {rules.amount:,}원으로 {sizing_price:,}원짜리 "
            "1주도 살 수 없습니다 (수량 0)",
        )
    verdict = check_risk(
        RiskOrder(code, Side.BUY, quantity, sizing_price, opens_position=True),
        risk_state,
        limits,
        now,
    )
    if not verdict.allowed:
        return _refuse(BuyRefusal.RISK, verdict.message, verdict)
    kind = "시장가" if rules.order_type is OrderType.MARKET else f"지정가 {price:,}원"
    return BuyDecision(
        True,
        None,
        f"{code} 매수: {quantity:,}주 {kind} (기준 {sizing_price:,}원, 금액 {rules.amount:,}원)",
        quantity,
        price,
        rules.order_type,
        sizing_price,
        verdict,
    )
