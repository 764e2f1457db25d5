"""Pure trading decisions shared by the live engine, the backtester and the tests.

Plain values in, frozen values out; no Qt, no I/O, no clock reads (callers pass `now`).

- `exits`: `evaluate_exit` (stop-loss, take-profit, trailing stop, profit protect, sell flag,
  end-of-day liquidation) on a coalesced tick batch or a bar.
- `entries`: `evaluate_buy` with every guard of an automatic buy, sizing and price.
- `pricing`: limit prices on the KRX grid inside the band, sizing by amount.
- `amend`: `decide_amend` for orders that do not fill.
- `risk`: `check_risk` before every order, the daily loss limit.
- `ticks`: `coalesce_ticks` per code for one drained batch.
"""

from kiwoom_terminal.decisions.amend import (
    AmendAction,
    AmendKind,
    AmendOrder,
    AmendRules,
    decide_amend,
)
from kiwoom_terminal.decisions.entries import (
    BuyContext,
    BuyDecision,
    BuyRefusal,
    BuyRules,
    evaluate_buy,
)
from kiwoom_terminal.decisions.exits import (
    ExitDecision,
    ExitRules,
    PositionState,
    Trigger,
    evaluate_exit,
    position_return_pct,
    quiet_band,
)
from kiwoom_terminal.decisions.pricing import (
    buy_order_price,
    clamp_to_band,
    offset_price,
    sell_order_price,
    size_by_amount,
)
from kiwoom_terminal.decisions.risk import (
    RiskCode,
    RiskLimits,
    RiskOrder,
    RiskState,
    RiskVerdict,
    check_risk,
    daily_loss_breached,
)
from kiwoom_terminal.decisions.ticks import TickSummary, coalesce_ticks

__all__ = [
    "AmendAction",
    "AmendKind",
    "AmendOrder",
    "AmendRules",
    "BuyContext",
    "BuyDecision",
    "BuyRefusal",
    "BuyRules",
    "ExitDecision",
    "ExitRules",
    "PositionState",
    "RiskCode",
    "RiskLimits",
    "RiskOrder",
    "RiskState",
    "RiskVerdict",
    "TickSummary",
    "Trigger",
    "buy_order_price",
    "check_risk",
    "clamp_to_band",
    "coalesce_ticks",
    "daily_loss_breached",
    "decide_amend",
    "evaluate_buy",
    "evaluate_exit",
    "offset_price",
    "position_return_pct",
    "quiet_band",
    "sell_order_price",
    "size_by_amount",
]
