"""Checks the 주문 panel makes before it lets a manual order go: plain Python, no Qt.

Every problem names the field it belongs to, so the panel can show it next to that field,
and says in Korean what is wrong and how to fix it. The engine checks again on its side
(trading hours, connection, risk limits); these checks stop obvious typing mistakes —
unknown codes, zero quantities, off-grid or out-of-band prices — and fat fingers (too many
shares, too much money, a price far from the market) before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiwoom_terminal import krx
from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.objects import StockInfoData
from kiwoom_terminal.settings import AppSettings

STOCK = "stock"
PRICE = "price"
QUANTITY = "quantity"


@dataclass(frozen=True)
class OrderDraft:
    """What the panel's fields hold right now."""

    code_text: str
    side: Side
    order_type: OrderType
    price: int
    quantity: int


@dataclass(frozen=True)
class MarketContext:
    """What the panel knows about the stock: listing info, last trade and base price."""

    stock: StockInfoData | None
    last_price: int | None = None
    base_price: int | None = None  # 기준가 for the ±30 % band (yesterday's close)


@dataclass(frozen=True)
class Problem:
    field: str  # STOCK, PRICE or QUANTITY
    message: str


def check_order(draft: OrderDraft, market: MarketContext, settings: AppSettings) -> list[Problem]:
    """Every problem with `draft`, empty when it may be sent."""
    problems: list[Problem] = []
    stock = market.stock
    if stock is None:
        text = draft.code_text.strip()
        message = (
            "종목을 입력하세요 (종목코드 6자리 또는 종목명)"
            if not text
            else f"'{text}' 종목을 찾을 수 없습니다. 종목코드 6자리나 종목명을 확인하세요"
        )
        problems.append(Problem(STOCK, message))

    if draft.quantity <= 0:
        problems.append(Problem(QUANTITY, "수량을 1주 이상 입력하세요"))
    else:
        limit = settings.order_entry.max_quantity
        if limit and draft.quantity > limit:
            problems.append(
                Problem(
                    QUANTITY,
                    f"수량 {draft.quantity:,}주가 한도 {limit:,}주를 넘습니다 "
                    "(설정 [order_entry] max_quantity)",
                )
            )

    priced = draft.order_type.needs_price
    if priced:
        problems += _check_price(draft, market)

    # Order value: the limit price, or for market orders the last (else base) price.
    unit = draft.price if priced else (market.last_price or market.base_price or 0)
    value_limit = settings.risk.max_order_value
    if value_limit and draft.quantity > 0 and unit > 0 and unit * draft.quantity > value_limit:
        problems.append(
            Problem(
                QUANTITY,
                f"주문 금액 {unit * draft.quantity:,}원이 한도 {value_limit:,}원을 넘습니다 "
                "(설정 [risk] max_order_value)",
            )
        )
    return problems


def _check_price(draft: OrderDraft, market: MarketContext) -> list[Problem]:
    price = draft.price
    if price <= 0:
        return [Problem(PRICE, "지정가 주문은 가격을 입력하세요 (시장가는 가격 없이 주문)")]
    etf = market.stock.is_etf if market.stock else False
    if not krx.is_on_grid(price, etf=etf):
        below = krx.round_down_to_tick(price, etf=etf)
        above = krx.round_up_to_tick(price, etf=etf)
        return [
            Problem(
                PRICE,
                f"{price:,}원은 호가 단위({krx.tick_size(price, etf=etf):,}원)에 맞지 않습니다. "
                f"{below:,}원 또는 {above:,}원으로 입력하세요",
            )
        ]
    if market.base_price:
        band = krx.price_band(market.base_price, etf=etf)
        if not band.contains(price):
            return [
                Problem(
                    PRICE,
                    f"{price:,}원은 오늘 가격제한폭 밖입니다 "
                    f"(하한가 {band.lower:,}원 ~ 상한가 {band.upper:,}원)",
                )
            ]
    return []


def check_distance(
    draft: OrderDraft, market: MarketContext, settings: AppSettings
) -> Problem | None:
    """Fat-finger check of a limit price against the last trade, or None when fine."""
    limit = settings.order_entry.max_price_distance_pct
    last = market.last_price
    if not limit or not last or not draft.order_type.needs_price or draft.price <= 0:
        return None
    distance = abs(draft.price - last) / last * 100
    if distance <= limit:
        return None
    direction = "높습니다" if draft.price > last else "낮습니다"
    return Problem(
        PRICE,
        f"가격 {draft.price:,}원이 현재가 {last:,}원보다 {distance:.1f}% {direction} "
        f"(한도 {limit:g}%, 설정 [order_entry] max_price_distance_pct)",
    )


def check_all(draft: OrderDraft, market: MarketContext, settings: AppSettings) -> list[Problem]:
    """`check_order` plus the distance fat-finger check (once the price itself is valid)."""
    problems = check_order(draft, market, settings)
    if not any(p.field == PRICE for p in problems):
        far = check_distance(draft, market, settings)
        if far is not None:
            problems.append(far)
    return problems


def max_quantity_by_cash(
    cash: int, price: int, commission_rate: float, *, quantity_limit: int = 0
) -> int:
    """Most shares `cash` buys at `price` with commission (capped by `quantity_limit`)."""
    if cash <= 0 or price <= 0:
        return 0
    qty = int(cash // (price * (1 + commission_rate)))
    fees = krx.FeeSchedule(commission_rate=commission_rate)
    while qty > 0 and fees.total_cost(price, qty) > cash:
        qty -= 1
    if quantity_limit:
        qty = min(qty, quantity_limit)
    return qty
