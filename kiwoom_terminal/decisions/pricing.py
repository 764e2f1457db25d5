"""Order prices on the KRX grid and sizing by amount.

Limit prices are the best quote moved a number of ticks along the grid (`krx.step_price`,
so row boundaries such as 49,950 → 50,000 are crossed correctly) and clamped into the day's
price band. Market orders carry price 0, as the wire format wants.
"""

from __future__ import annotations

from kiwoom_terminal import krx
from kiwoom_terminal.constants import OrderType


def clamp_to_band(price: int, band: krx.PriceBand | None) -> int:
    """`price` limited to [lower, upper] of the day's band (unchanged without a band)."""
    if band is None:
        return price
    return min(max(price, band.lower), band.upper)


def offset_price(quote: int, ticks: int, band: krx.PriceBand | None, *, etf: bool = False) -> int:
    """`quote` moved `ticks` grid steps (+ up, − down), on the grid, inside the band."""
    if quote <= 0:
        raise ValueError(f"호가가 없습니다 (quote={quote})")
    price = krx.step_price(quote, ticks, etf=etf) if ticks else krx.round_to_tick(quote, etf=etf)
    return clamp_to_band(price, band)


def buy_order_price(
    order_type: OrderType,
    best_ask: int,
    tick_offset: int,
    band: krx.PriceBand | None,
    *,
    etf: bool = False,
) -> int:
    """Limit price for a buy: best ask ± `tick_offset` ticks in the band; 0 for market."""
    if order_type is OrderType.MARKET:
        return 0
    return offset_price(best_ask, tick_offset, band, etf=etf)


def sell_order_price(
    order_type: OrderType,
    best_bid: int,
    tick_offset: int,
    band: krx.PriceBand | None,
    *,
    etf: bool = False,
) -> int:
    """Limit price for a sell: best bid ± `tick_offset` ticks in the band; 0 for market."""
    if order_type is OrderType.MARKET:
        return 0
    return offset_price(best_bid, tick_offset, band, etf=etf)


def size_by_amount(amount: int, price: int, fees: krx.FeeSchedule | None = None) -> int:
    """Whole shares that `amount` KRW buys at `price`, commission reserved.

    The commission is reserved so the cash spent (price × quantity + commission) never
    exceeds `amount`: with 1,000,000 KRW at 10,000 the answer is 99, not 100, because
    100 shares would cost 1,000,150 with the 0.015 % commission. Pass `fees=None` to size on
    the price alone. Returns 0 when not even one share fits.
    """
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    if amount <= 0:
        return 0
    quantity = amount // price
    if fees is not None:
        # The commission is a fraction below 1 %, so at most a few shares come off.
        while quantity > 0 and fees.total_cost(price, quantity) > amount:
            quantity -= 1
    return quantity
