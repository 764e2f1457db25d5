"""Risk limits checked before every order, automatic and manual alike.

`check_risk(order, state, limits, now)` answers whether one order may go out. The caller owns
`RiskState` (a snapshot of positions, pending orders, the recent order times and today's
P/L) and records each order it really sends with `RiskState.with_order_sent`.

Which limit applies to what:

| limit | new buy | new sell | modify (정정) | cancel |
|---|---|---|---|---|
| maximum positions | only when it opens a new position | – | – | – |
| maximum value per order | yes | – (bounded by the holding) | buy modifies | – |
| maximum orders per minute (sliding 60 s) | yes | yes | yes | – |
| duplicate guard (same code and side pending) | yes | yes | – | – |
| daily loss limit | blocks, turns auto-trade off | passes, turns auto-trade off | buy blocked | – |

Cancels always pass. Sells are never blocked by the value or loss limits because they
reduce risk: a stop-loss must go out even on the worst day.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from kiwoom_terminal.constants import OrderAction, Side
from kiwoom_terminal.settings import RiskSettings, TradingSettings

WINDOW_S = 60.0


class RiskCode(str, Enum):
    """Why a risk check answered as it did; stable codes for logs and tests."""

    OK = "ok"
    MAX_POSITIONS = "max_positions"
    MAX_ORDER_VALUE = "max_order_value"
    RATE_LIMIT = "orders_per_minute"
    DUPLICATE = "duplicate"
    DAILY_LOSS = "daily_loss"


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The limits, from `[risk]` and `[trading] max_positions`. 0 switches a limit off."""

    max_positions: int = 5
    max_order_value: int = 5_000_000
    max_orders_per_minute: int = 30
    daily_loss_limit: int = 300_000

    @classmethod
    def from_settings(cls, risk: RiskSettings, trading: TradingSettings) -> RiskLimits:
        return cls(
            max_positions=trading.max_positions,
            max_order_value=risk.max_order_value,
            max_orders_per_minute=risk.max_orders_per_minute,
            daily_loss_limit=risk.daily_loss_limit,
        )


@dataclass(frozen=True, slots=True)
class RiskOrder:
    """The order to check. `price` is the limit price, or for a market order the price it
    is expected to fill at (best quote); `quantity` is what the order covers (the remaining
    quantity for a modify). `opens_position` is True for a buy of a code not yet held."""

    code: str
    side: Side
    quantity: int
    price: int
    action: OrderAction = OrderAction.NEW
    opens_position: bool = False
    manual: bool = False

    @property
    def value(self) -> int:
        return self.quantity * self.price


@dataclass(frozen=True, slots=True)
class RiskState:
    """A snapshot of what the limits depend on.

    `positions` counts held codes plus codes with a pending buy that opens a position;
    `pending` holds (code, side) of every order still open; `order_times` the send times of
    recent new and modify orders (any one clock, seconds); P/L is today's, in KRW.
    """

    positions: int = 0
    pending: frozenset[tuple[str, Side]] = frozenset()
    order_times: tuple[float, ...] = ()
    realized_pnl: int = 0
    unrealized_pnl: int = 0

    def with_order_sent(self, now: float) -> RiskState:
        """The state after sending one order at `now`; times older than 60 s are dropped."""
        recent = tuple(t for t in self.order_times if now - t < WINDOW_S)
        return RiskState(
            self.positions, self.pending, (*recent, now), self.realized_pnl, self.unrealized_pnl
        )

    def orders_in_window(self, now: float) -> int:
        return sum(1 for t in self.order_times if now - t < WINDOW_S)

    @property
    def day_pnl(self) -> int:
        return self.realized_pnl + self.unrealized_pnl


@dataclass(frozen=True, slots=True)
class RiskVerdict:
    """The answer: may the order go out (`allowed`), why (`code`, Korean `message`), and
    whether the caller must switch auto-trade off now (`disable_auto_trade`)."""

    allowed: bool
    code: RiskCode
    message: str
    disable_auto_trade: bool = False


_OK = RiskVerdict(True, RiskCode.OK, "")


def daily_loss_breached(state: RiskState, limits: RiskLimits) -> str | None:
    """The Korean notice to show when today's P/L is at or past the loss limit, else None.

    Realised plus unrealised P/L ≤ −limit counts as reached. The engine also calls this from
    its timer so auto-trade goes off even when no order is being checked.
    """
    if limits.daily_loss_limit <= 0 or state.day_pnl > -limits.daily_loss_limit:
        return None
    return (
        f"일일 손실 한도 도달: 오늘 손익 {state.day_pnl:+,}원 ≤ -{limits.daily_loss_limit:,}원. "
        "자동매매를 끕니다 (보유 종목 매도와 취소는 계속 가능합니다)."
    )


def check_risk(order: RiskOrder, state: RiskState, limits: RiskLimits, now: float) -> RiskVerdict:
    """Whether `order` may be sent now; see the module docstring for which limit applies."""
    if order.action is OrderAction.CANCEL:
        return _OK
    is_buy = order.side is Side.BUY
    is_new = order.action is OrderAction.NEW
    who = "수동 주문" if order.manual else "자동 주문"
    side_text = "매수" if is_buy else "매도"

    loss_notice = daily_loss_breached(state, limits)
    if loss_notice is not None and is_buy:
        return RiskVerdict(False, RiskCode.DAILY_LOSS, f"{who} 거부 — {loss_notice}", True)

    if (
        is_buy
        and is_new
        and order.opens_position
        and limits.max_positions > 0
        and state.positions >= limits.max_positions
    ):
        return RiskVerdict(
            False,
            RiskCode.MAX_POSITIONS,
            f"{who} 거부 ({order.code}): 최대 보유 종목 수 {limits.max_positions}개에 도달했습니다 "
            f"(현재 {state.positions}개, 매수 대기 포함)",
        )

    if is_buy and limits.max_order_value > 0 and order.value > limits.max_order_value:
        return RiskVerdict(
            False,
            RiskCode.MAX_ORDER_VALUE,
            f"{who} 거부 ({order.code}): 주문 금액 {order.value:,}원이 1건 한도 "
            f"{limits.max_order_value:,}원을 넘습니다 (수량이나 가격을 줄이세요)",
        )

    if is_new and (order.code, order.side) in state.pending:
        return RiskVerdict(
            False,
            RiskCode.DUPLICATE,
            f"{who} 거부 ({order.code}): 같은 종목의 {side_text} 주문이 이미 미체결 상태입니다 "
            "(먼저 체결되거나 취소되어야 합니다)",
        )

    sent = state.orders_in_window(now)
    if sent >= limits.max_orders_per_minute:
        return RiskVerdict(
            False,
            RiskCode.RATE_LIMIT,
            f"{who} 거부 ({order.code}): 최근 1분 동안 {sent}건을 보내 분당 한도 "
            f"{limits.max_orders_per_minute}건에 도달했습니다 (잠시 후 다시 시도하세요)",
        )

    if loss_notice is not None:  # a sell on a loss-limit day: it goes out, auto-trade stops
        return RiskVerdict(True, RiskCode.DAILY_LOSS, loss_notice, True)
    return _OK
