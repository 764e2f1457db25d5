"""Amend policy: what to do with a limit order that has not filled.

The engine calls `decide_amend` for every open order on its amend timer (every second). An
order whose remaining quantity has waited `after_s` seconds since it was accepted or last
amended is moved `ticks` grid steps toward the market (a buy up, a sell down), on the venue
of the original, for its remaining quantity only. After `max_count` amends it is cancelled,
or cancelled and re-sent at market (`after_last`). A fully filled order, a market order, or
one with a modify/cancel already in flight is left alone.

The new price never passes the opposite best quote (a buy is not raised above the best ask:
that price fills already), stays on the grid, and is clamped into the day's band. When the
band stops the price from moving (a buy already at the upper limit), amending cannot help,
so the after-last policy applies at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from kiwoom_terminal import krx
from kiwoom_terminal.constants import Side, Venue
from kiwoom_terminal.decisions.pricing import clamp_to_band
from kiwoom_terminal.objects import CancelRequest, ModifyRequest
from kiwoom_terminal.settings import AmendSettings


class AmendKind(str, Enum):
    NONE = "none"
    MODIFY = "modify"  # 정정: new price for the remaining quantity
    CANCEL = "cancel"  # 취소 the remaining quantity
    CANCEL_THEN_MARKET = "cancel_then_market"  # 취소, then a market order for what was cancelled


@dataclass(frozen=True, slots=True)
class AmendRules:
    """From `[amend]`: wait `after_s`, move `ticks`, at most `max_count` times, then
    `after_last` ("cancel" or "market")."""

    after_s: float = 10
    ticks: int = 1
    max_count: int = 3
    after_last: str = "market"

    def __post_init__(self) -> None:
        if self.after_last not in ("cancel", "market"):
            raise ValueError(f"after_last 는 cancel 또는 market 이어야 합니다: {self.after_last!r}")
        if self.ticks < 1 or self.max_count < 0 or self.after_s <= 0:
            raise ValueError("정정 설정: ticks ≥ 1, max_count ≥ 0, after_s > 0 이어야 합니다")

    @classmethod
    def from_settings(cls, amend: AmendSettings) -> AmendRules:
        return cls(amend.after_s, amend.ticks, amend.max_count, amend.after_last)


@dataclass(frozen=True, slots=True)
class AmendOrder:
    """An open order as the amend policy sees it.

    `last_action_at` is when it was accepted or last amended (any one clock, seconds, the
    same as `now`); `amend_count` how many times it has been amended; `in_flight` is True
    while a modify or cancel request for it awaits its answer. `price` 0 = market order.
    """

    order_no: str
    code: str
    side: Side
    venue: Venue
    price: int
    quantity: int
    filled: int
    amend_count: int
    last_action_at: float
    in_flight: bool = False
    etf: bool = False

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled


@dataclass(frozen=True, slots=True)
class AmendAction:
    """What to do now: `kind`, the new price (MODIFY), the quantity it covers (the remaining
    quantity), the venue of the original, and a Korean reason for the journal."""

    kind: AmendKind
    order_no: str
    code: str
    quantity: int = 0
    price: int = 0
    venue: Venue = Venue.KRX
    reason: str = ""

    def modify_request(self) -> ModifyRequest:
        if self.kind is not AmendKind.MODIFY:
            raise ValueError(f"{self.kind.value} 는 정정 주문이 아닙니다")
        return ModifyRequest(self.order_no, self.code, self.quantity, self.price, self.venue)

    def cancel_request(self) -> CancelRequest:
        if self.kind not in (AmendKind.CANCEL, AmendKind.CANCEL_THEN_MARKET):
            raise ValueError(f"{self.kind.value} 는 취소 주문이 아닙니다")
        return CancelRequest(self.order_no, self.code, self.quantity, self.venue)


def _none(order: AmendOrder, reason: str) -> AmendAction:
    return AmendAction(AmendKind.NONE, order.order_no, order.code, venue=order.venue, reason=reason)


def decide_amend(
    order: AmendOrder,
    now: float,
    best_bid: int,
    best_ask: int,
    band: krx.PriceBand | None,
    rules: AmendRules,
) -> AmendAction:
    """The amend step for one open order (see the module docstring)."""
    remaining = order.remaining
    if remaining <= 0:
        return _none(order, "전량 체결됨")
    if order.in_flight:
        return _none(order, "정정/취소 응답 대기 중")
    if order.price <= 0:
        return _none(order, "시장가 주문은 정정하지 않음")
    waited = now - order.last_action_at
    if waited < rules.after_s:
        return _none(order, f"대기 {waited:.0f}/{rules.after_s:g}초")

    is_buy = order.side is Side.BUY
    new_price = 0
    if order.amend_count < rules.max_count:
        step = rules.ticks if is_buy else -rules.ticks
        new_price = krx.step_price(order.price, step, etf=order.etf)
        if is_buy and 0 < order.price < best_ask < new_price:
            new_price = best_ask
        elif not is_buy and 0 < best_bid < order.price and new_price < best_bid:
            new_price = best_bid
        new_price = clamp_to_band(new_price, band)
        if new_price != order.price:
            side_text = "매수" if is_buy else "매도"
            return AmendAction(
                AmendKind.MODIFY,
                order.order_no,
                order.code,
                remaining,
                new_price,
                order.venue,
                f"{side_text} 정정 {order.amend_count + 1}/{rules.max_count}: "
                f"{order.price:,} → {new_price:,}원, 미체결 {remaining:,}주 ({waited:.0f}초 미체결)",
            )
    why = (
        f"정정 {order.amend_count}회 후에도 미체결"
        if order.amend_count >= rules.max_count
        else f"가격제한폭 때문에 더 정정할 수 없음 ({order.price:,}원)"
    )
    if rules.after_last == "market":
        return AmendAction(
            AmendKind.CANCEL_THEN_MARKET,
            order.order_no,
            order.code,
            remaining,
            0,
            order.venue,
            f"{why}: 남은 {remaining:,}주 취소 후 시장가 재주문",
        )
    return AmendAction(
        AmendKind.CANCEL,
        order.order_no,
        order.code,
        remaining,
        0,
        order.venue,
        f"{why}: 남은 {remaining:,}주 취소",
    )
