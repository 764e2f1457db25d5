"""The positions the engine manages (실시간 추적), as plain Python objects.

These objects, not the DataFrames, are the source of truth on the tick path: the exit rules
read and replace `exit_state` (a `decisions.PositionState`) once per coalesced batch without
touching pandas. The tracking table is rebuilt from them on the screen-refresh timer (and
whenever a row changes for another reason), so a view never costs the tick path anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from kiwoom_terminal.constants import ExitReason
from kiwoom_terminal.decisions import ExitRules, PositionState, position_return_pct


@dataclass(slots=True)
class TrackedPosition:
    """One managed position: held shares and/or a pending buy, with its exit-rule state.

    `exit_state.quantity` / `avg_price` are the shares the engine knows it holds (from its
    own fills, corrected by the account's balance events and reconciliation). A row with
    quantity 0 and `buy_pending` is a buy waiting to fill.
    """

    code: str
    name: str = ""
    exit_state: PositionState = field(default_factory=lambda: PositionState(0, 0))
    price: int = 0
    buy_pending: bool = False
    sell_pending: bool = False
    sell_flagged: bool = False  # the sell condition flagged it; sell on the next evaluation
    flag_reason: ExitReason = ExitReason.SELL_CONDITION  # STRATEGY: a strategy / schedule
    flag_text: str = ""  # who flagged it (journal text), e.g. "전략 sma_cross 매도 신호"
    source: str = ""  # condition name, "manual", "account", strategy name
    reason: str = ""  # the last decision and why
    entered_at: str = ""  # HHmmss of the first buy fill

    @property
    def quantity(self) -> int:
        return self.exit_state.quantity

    @property
    def avg_price(self) -> int:
        return self.exit_state.avg_price

    @property
    def held(self) -> bool:
        return self.exit_state.quantity > 0

    @property
    def idle(self) -> bool:
        """Nothing held and nothing pending: the row can go."""
        return self.exit_state.quantity <= 0 and not self.buy_pending and not self.sell_pending

    def add_fill(self, side_is_buy: bool, price: int, quantity: int) -> None:
        """Apply one fill of ours: a buy raises the quantity and re-averages the price, a
        sell lowers the quantity (the average stays). The exit state is kept."""
        state = self.exit_state
        if side_is_buy:
            total = state.quantity + quantity
            cost = state.avg_price * state.quantity + price * quantity
            avg = round(cost / total) if total > 0 else 0
            self.exit_state = state.with_position(avg, total)
        else:
            remaining = max(0, state.quantity - quantity)
            self.exit_state = state.with_position(state.avg_price, remaining)

    def row(self, rules: ExitRules, change_rate: float = math.nan) -> dict[str, Any]:
        """The tracking-table row (columns of `tables.TRACKING`); `change_rate` is the last
        trade's change from the previous close (the market knows it, not the position)."""
        state = self.exit_state
        price = self.price or state.avg_price
        return {
            "code": self.code,
            "name": self.name,
            "price": int(price),
            "change_rate": change_rate,
            "avg_price": int(state.avg_price),
            "quantity": int(state.quantity),
            # NaN, not 0.0, when nothing is held: the window shows a blank, not "0.00%"
            "return_rate": round(position_return_pct(rules, state.avg_price, price), 4)
            if state.quantity > 0
            else math.nan,
            "trailing_armed": bool(state.armed),
            "high_since_arm": int(state.high_since_arm),
            "protect_active": bool(state.protect_active),
            "buy_pending": self.buy_pending,
            "sell_pending": self.sell_pending,
            "source": self.source,
            "reason": self.reason,
            "entered_at": self.entered_at,
        }

    def to_record(self) -> dict[str, Any]:
        """Plain values for the snapshot (restored by `from_record`)."""
        state = self.exit_state
        return {
            "code": self.code,
            "name": self.name,
            "avg_price": state.avg_price,
            "quantity": state.quantity,
            "armed": state.armed,
            "high_since_arm": state.high_since_arm,
            "protect_active": state.protect_active,
            "price": self.price,
            "buy_pending": self.buy_pending,
            "sell_pending": self.sell_pending,
            "source": self.source,
            "reason": self.reason,
            "entered_at": self.entered_at,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> TrackedPosition:
        state = PositionState(
            int(record["avg_price"]),
            int(record["quantity"]),
            bool(record.get("armed", False)),
            int(record.get("high_since_arm", 0)),
            bool(record.get("protect_active", False)),
        )
        return cls(
            code=str(record["code"]),
            name=str(record.get("name", "")),
            exit_state=state,
            price=int(record.get("price", 0)),
            buy_pending=bool(record.get("buy_pending", False)),
            sell_pending=bool(record.get("sell_pending", False)),
            source=str(record.get("source", "")),
            reason=str(record.get("reason", "")),
            entered_at=str(record.get("entered_at", "")),
        )
