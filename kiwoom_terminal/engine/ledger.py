"""The trading day's running record: which codes were bought (re-buy block), the realised
P/L (daily loss limit), and when orders were sent (orders-per-minute limit).

Snapshotted with the rest of the engine state and reset when the trading day changes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from kiwoom_terminal import krx
from kiwoom_terminal.decisions import RiskState
from kiwoom_terminal.decisions.risk import WINDOW_S


@dataclass
class DayLedger:
    """One trading day (`day` = YYYYMMDD, KST)."""

    day: str
    bought: set[str] = field(default_factory=set)
    realized_pnl: int = 0
    fees_paid: int = 0
    order_times: deque[float] = field(default_factory=deque)  # monotonic seconds

    def order_sent(self, now_mono: float) -> None:
        """Count one new or modify order for the per-minute limit."""
        self.order_times.append(now_mono)
        while self.order_times and now_mono - self.order_times[0] >= WINDOW_S:
            self.order_times.popleft()

    def book_fill(
        self,
        *,
        is_buy: bool,
        price: int,
        quantity: int,
        avg_price: int,
        fee: int,
        tax: int,
        fees: krx.FeeSchedule,
    ) -> int:
        """Book one fill; returns the P/L it realised (sells: proceeds after fee and tax
        minus the cost at the average price with its buy commission; buys: 0). Server fee
        and tax are used when the event carries them, else the fee schedule's."""
        amount = price * quantity
        if is_buy:
            self.fees_paid += fee or fees.commission(amount)
            return 0
        sell_fee = fee or fees.commission(amount)
        sell_tax = tax or fees.tax(amount, True)
        cost_amount = avg_price * quantity
        pnl = amount - sell_fee - sell_tax - cost_amount - fees.commission(cost_amount)
        self.realized_pnl += pnl
        self.fees_paid += sell_fee + sell_tax
        return pnl

    def risk_state(
        self,
        *,
        positions: int,
        pending: frozenset[Any],
        unrealized_pnl: int,
        now_mono: float,
    ) -> RiskState:
        recent = tuple(t for t in self.order_times if now_mono - t < WINDOW_S)
        return RiskState(positions, pending, recent, self.realized_pnl, unrealized_pnl)

    def to_record(
        self, now_mono: float | None = None, now_wall: float | None = None
    ) -> dict[str, Any]:
        """Plain values for the snapshot. With both clocks, the last minute's orders go in
        as epoch times (monotonic times mean nothing to the next process after a reboot),
        so a restart does not reset the orders-per-minute limit."""
        record: dict[str, Any] = {
            "day": self.day,
            "bought": sorted(self.bought),
            "realized_pnl": self.realized_pnl,
            "fees_paid": self.fees_paid,
        }
        if now_mono is not None and now_wall is not None:
            record["order_walls"] = [now_wall - (now_mono - t) for t in self.order_times]
        return record

    @classmethod
    def from_record(
        cls, record: dict[str, Any], now_mono: float | None = None, now_wall: float | None = None
    ) -> DayLedger:
        ledger = cls(
            day=str(record["day"]),
            bought=set(record.get("bought", ())),
            realized_pnl=int(record.get("realized_pnl", 0)),
            fees_paid=int(record.get("fees_paid", 0)),
        )
        if now_mono is not None and now_wall is not None:
            for wall in sorted(record.get("order_walls", ())):
                age = now_wall - float(wall)
                if 0 <= age < WINDOW_S:  # still inside the limit's minute
                    ledger.order_times.append(now_mono - age)
        return ledger
