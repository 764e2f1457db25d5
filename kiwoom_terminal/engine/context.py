"""State shared by the engine's parts (order gateway, auto-trader, reconciliation), and the
rules derived from the settings.

`TradingEngine` builds one `EngineContext` and hands it to each part, so the parts hold no
references to each other's internals and none of them needs Qt: signals go out through the
`log` / `notice` / `fill` callables the engine plugs in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kiwoom_terminal import krx
from kiwoom_terminal.constants import Side
from kiwoom_terminal.decisions import AmendRules, BuyRules, ExitRules, RiskLimits, RiskState
from kiwoom_terminal.engine.clock import MarketClock
from kiwoom_terminal.engine.journal import Journal
from kiwoom_terminal.engine.ledger import DayLedger
from kiwoom_terminal.engine.market import MarketData
from kiwoom_terminal.engine.orders import OrderManager
from kiwoom_terminal.engine.positions import TrackedPosition
from kiwoom_terminal.engine.state import TableStore
from kiwoom_terminal.engine.status import OwnFill
from kiwoom_terminal.messages import Request
from kiwoom_terminal.settings import AppSettings


@dataclass(frozen=True)
class Rules:
    """Every decision rule, built once from the settings (and again after an edit)."""

    exit: ExitRules
    buy: BuyRules
    risk: RiskLimits
    amend: AmendRules
    fees: krx.FeeSchedule

    @classmethod
    def from_settings(cls, settings: AppSettings) -> Rules:
        return cls(
            exit=ExitRules.from_settings(settings.trading, settings.fees),
            buy=BuyRules.from_settings(settings.trading, settings.fees),
            risk=RiskLimits.from_settings(settings.risk, settings.trading),
            amend=AmendRules.from_settings(settings.amend),
            fees=krx.FeeSchedule(settings.fees.commission_rate, settings.fees.tax_rate),
        )


def _noop_log(level: str, message: str) -> None:
    return None


def _noop_notice(message: str) -> None:
    return None


def _noop_fill(fill: OwnFill) -> None:
    return None


def _noop(reason: str) -> None:
    return None


@dataclass
class EngineContext:
    """The engine's state, one instance per engine."""

    settings: AppSettings
    rules: Rules
    journal: Journal
    clock: MarketClock
    send: Callable[[Request], str]  # the supervisor's send(): puts a request on its queue
    ledger: DayLedger
    positions: dict[str, TrackedPosition] = field(default_factory=dict)
    orders: OrderManager = field(default_factory=OrderManager)
    market: MarketData = field(default_factory=MarketData)
    tables: TableStore = field(default_factory=TableStore)
    blocked: set[str] = field(default_factory=set)  # codes waiting for reconciliation
    last_fill_at: dict[str, float] = field(default_factory=dict)  # code → epoch of our last fill
    ready: bool = False  # the start-up reconciliation has finished
    auto_trade: bool = False
    positions_dirty: bool = False  # tracking rows must be rebuilt at the next flush
    log: Callable[[str, str], None] = _noop_log
    notice: Callable[[str], None] = _noop_notice
    fill: Callable[[OwnFill], None] = _noop_fill
    request_reconcile: Callable[[str], None] = _noop
    wall: Callable[[], float] = time.time
    mono: Callable[[], float] = time.monotonic

    def name(self, code: str) -> str:
        position = self.positions.get(code)
        if position is not None and position.name:
            return position.name
        return self.market.name(code)

    def managed_count(self) -> int:
        """Positions held or being bought: what the maximum-positions limit counts."""
        return self.position_totals()[0]

    def unrealized_pnl(self) -> int:
        """Open P/L of the held positions at their last prices (KRW)."""
        return self.position_totals()[1]

    def position_totals(self) -> tuple[int, int]:
        """(`managed_count()`, `unrealized_pnl()`) in one pass over the positions: the risk
        state needs both before every order, a trailing stop's sell included."""
        managed = unrealized = 0
        for p in self.positions.values():
            held = p.exit_state  # `held`, `quantity`, `avg_price` without the properties
            if held.quantity > 0:
                managed += 1
                if p.price > 0:
                    unrealized += (p.price - held.avg_price) * held.quantity
            elif p.buy_pending:
                managed += 1
        return managed, unrealized

    def risk_state(self, extra_positions: int = 0) -> RiskState:
        managed, unrealized = self.position_totals()
        return self.ledger.risk_state(
            positions=managed + extra_positions,
            pending=self.orders.pending_pairs(),
            unrealized_pnl=unrealized,
            now_mono=self.mono(),
        )

    def refresh_pending(self, code: str) -> None:
        """Set a position's buy/sell-pending flags from the open orders of its code."""
        position = self.positions.get(code)
        if position is None:
            return
        open_orders = self.orders.open_for(code)
        position.buy_pending = any(o.side is Side.BUY for o in open_orders)
        position.sell_pending = any(o.side is Side.SELL for o in open_orders)
        self.positions_dirty = True
