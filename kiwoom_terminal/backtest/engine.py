"""The backtest loop: a strategy's entries plus the live exit rules, bar by bar.

Entries come from the strategy's vectorised signals. Exits come from
`decisions.exits.evaluate_exit` — the very function the live engine calls per tick batch —
called once per bar with the bar's close, high and low, and the strategy's sell signal as
the sell flag. The loop only runs while a position is open and reads plain Python lists, so
a long minute history costs about a microsecond or two per bar in a position.

Fill model (every choice is a `FillModel` field, from `[backtest]`):

- entry: `next_open` buys at the open of the bar after the signal (the signal is only known
  at the signal bar's close); `close` buys at the signal bar's close. The exit rules start
  with the entry bar itself for `next_open`, with the next bar for `close`.
- exit: `trigger` sells where the rule fired: a stop that fired on the bar low (stop-loss,
  a trailing stop or profit protect whose level was in force before the bar) fills at the
  level rounded down to the grid, or at the open when the bar opened beyond it (a gap); a
  take-profit at the level rounded up, or the open on a gap up; a level crossed on the way
  from the bar high to the close fills at the level; a sell signal or the liquidation time
  fills at the close. `next_open` sells everything at the next bar's open; `close` at the
  decision bar's close.
- slippage: `slippage_ticks` grid steps against us on every fill (buys higher, sells lower).
- sizing: `order_amount` KRW per entry (0 = all cash), whole shares, commission reserved
  (`decisions.pricing.size_by_amount`, as the live engine sizes). One position at a time per
  code; a position still open at the last bar is sold at its close (reason `end_of_data`).
- fees: commission on both sides and transaction tax on sells (`krx.FeeSchedule`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kiwoom_terminal import krx
from kiwoom_terminal.constants import ExitReason
from kiwoom_terminal.decisions.exits import ExitRules, PositionState, Trigger, evaluate_exit
from kiwoom_terminal.decisions.pricing import size_by_amount
from kiwoom_terminal.settings import AppSettings
from kiwoom_terminal.strategies.base import BUY, SELL, Strategy

END_OF_DATA = "end_of_data"
NO_EXIT_RULES = ExitRules(
    stop_loss_pct=None, take_profit_pct=None, trailing_arm_pct=None, protect_trigger_pct=None
)
TRADE_COLUMNS = (
    "code",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "quantity",
    "pnl",
    "return_pct",
    "fees",
    "reason",
    "detail",
    "entry_bar",
    "exit_bar",
)


@dataclass(frozen=True)
class FillModel:
    """How orders fill in the backtest (see the module docstring)."""

    entry: str = "next_open"
    exit: str = "trigger"
    slippage_ticks: int = 1

    def __post_init__(self) -> None:
        from kiwoom_terminal.backtest.data import BacktestError

        if self.entry not in ("next_open", "close"):
            raise BacktestError(
                f"매수 체결 방식 '{self.entry}' 은(는) next_open 또는 close 여야 합니다"
            )
        if self.exit not in ("trigger", "next_open", "close"):
            raise BacktestError(
                f"매도 체결 방식 '{self.exit}' 은(는) trigger, next_open, close 중 하나여야 합니다"
            )
        if self.slippage_ticks < 0:
            raise BacktestError("슬리피지 틱 수는 0 이상이어야 합니다")


@dataclass(frozen=True)
class BacktestConfig:
    """Everything besides the bars and the strategy."""

    initial_cash: int = 10_000_000
    order_amount: int = 0
    fill: FillModel = field(default_factory=FillModel)
    exit_rules: ExitRules = field(default_factory=ExitRules)
    fees: krx.FeeSchedule = field(default_factory=krx.FeeSchedule)
    etf: bool = False

    @classmethod
    def from_settings(cls, settings: AppSettings) -> BacktestConfig:
        """From `[backtest]`, the exit rules of `[trading]` and the rates of `[fees]`."""
        b = settings.backtest
        rules = (
            ExitRules.from_settings(settings.trading, settings.fees)
            if b.apply_exit_rules
            else NO_EXIT_RULES
        )
        return cls(
            initial_cash=b.initial_cash,
            order_amount=b.order_amount,
            fill=FillModel(b.entry_fill, b.exit_fill, b.slippage_ticks),
            exit_rules=rules,
            fees=krx.FeeSchedule(settings.fees.commission_rate, settings.fees.tax_rate),
        )


@dataclass(frozen=True)
class CodeRun:
    """One code's raw result: trades, equity per bar, and how many bars held a position."""

    code: str
    trades: pd.DataFrame
    equity: pd.Series
    exposure: float
    warnings: tuple[str, ...] = ()


def run_code(
    code: str,
    bars: pd.DataFrame,
    strategy: Strategy,
    config: BacktestConfig,
    *,
    intraday: bool = False,
) -> CodeRun:
    """Backtest one code over validated bars (`data.prepare_bars`)."""
    signals = strategy.signals(bars).to_numpy()
    n = len(bars)
    o = bars["open"].to_numpy(dtype="int64").tolist()
    h = bars["high"].to_numpy(dtype="int64").tolist()
    lo = bars["low"].to_numpy(dtype="int64").tolist()
    c = bars["close"].to_numpy(dtype="int64").tolist()
    sells = (signals == SELL).tolist()
    buy_bars = np.flatnonzero(signals == BUY)
    rules = config.exit_rules
    times = (
        [t.time() for t in bars.index] if intraday and rules.liquidation_time is not None else None
    )
    fill = config.fill
    fees = config.fees
    etf = config.etf
    slip = fill.slippage_ticks
    entry_next_open = fill.entry == "next_open"

    cash = config.initial_cash
    cash_delta = np.zeros(n, dtype="float64")
    qty_delta = np.zeros(n + 1, dtype="int64")
    rows: list[tuple[object, ...]] = []
    warnings: list[str] = []
    next_signal = 0
    while True:
        k = int(np.searchsorted(buy_bars, next_signal))
        if k >= len(buy_bars):
            break
        signal_bar = int(buy_bars[k])
        if entry_next_open:
            entry_bar = signal_bar + 1
            if entry_bar >= n:
                break
            raw_entry, first_eval = o[entry_bar], entry_bar
        else:
            entry_bar = signal_bar
            raw_entry, first_eval = c[signal_bar], signal_bar + 1
        entry_price = krx.step_price(raw_entry, slip, etf=etf) if slip else raw_entry
        budget = cash if config.order_amount <= 0 else min(config.order_amount, cash)
        quantity = size_by_amount(budget, entry_price, fees)
        if quantity <= 0:
            if not warnings:
                warnings.append(
                    f"{code}: {bars.index[entry_bar]} 매수 신호 — 현금 {cash:,}원으로 "
                    f"{entry_price:,}원짜리 1주도 살 수 없어 건너뜁니다"
                )
            next_signal = signal_bar + 1
            continue
        cost = fees.total_cost(entry_price, quantity)
        cash -= cost

        state = PositionState(entry_price, quantity)
        decision = None
        t = first_eval
        if times is None:
            while t < n:
                state, decision = evaluate_exit(
                    state, c[t], h[t], lo[t], rules, sell_flagged=sells[t],
                    flag_reason=ExitReason.STRATEGY,
                )  # fmt: skip
                if decision is not None:
                    break
                t += 1
        else:
            while t < n:
                state, decision = evaluate_exit(
                    state, c[t], h[t], lo[t], rules, now=times[t], sell_flagged=sells[t],
                    flag_reason=ExitReason.STRATEGY,
                )  # fmt: skip
                if decision is not None:
                    break
                t += 1

        if decision is None:
            exit_bar, raw_exit = n - 1, c[n - 1]
            reason, detail = END_OF_DATA, "데이터 끝: 마지막 종가로 정리"
            next_signal = n
        else:
            reason, detail = decision.reason.value, decision.detail
            exit_bar, raw_exit = _exit_fill(
                fill.exit, decision.trigger, decision.level, t, o, c, etf
            )
            next_signal = t + 1 if fill.exit == "next_open" or not entry_next_open else t
        exit_price = max(1, krx.step_price(raw_exit, -slip, etf=etf)) if slip else raw_exit
        proceeds = fees.net_proceeds(exit_price, quantity)
        cash += proceeds
        entry_fee = cost - entry_price * quantity
        exit_fees = exit_price * quantity - proceeds
        pnl = proceeds - cost
        rows.append(
            (
                code,
                bars.index[entry_bar],
                entry_price,
                bars.index[exit_bar],
                exit_price,
                quantity,
                pnl,
                pnl * 100 / cost,
                entry_fee + exit_fees,
                reason,
                detail,
                entry_bar,
                exit_bar,
            )
        )
        cash_delta[entry_bar] -= cost
        cash_delta[exit_bar] += proceeds
        # Held at the close of bars entry_bar .. exit_bar − 1 (sold during exit_bar), except
        # a `close` exit on the entry bar itself, which never holds overnight.
        qty_delta[entry_bar] += quantity
        qty_delta[exit_bar] -= quantity

    held = np.cumsum(qty_delta[:n])
    closes = np.asarray(c, dtype="float64")
    equity = config.initial_cash + np.cumsum(cash_delta) + held * closes
    trades = pd.DataFrame(rows, columns=list(TRADE_COLUMNS))
    exposure = float((held > 0).mean()) if n else 0.0
    return CodeRun(code, trades, pd.Series(equity, index=bars.index), exposure, tuple(warnings))


def _exit_fill(
    mode: str,
    trigger: Trigger,
    level: float | None,
    t: int,
    o: list[int],
    c: list[int],
    etf: bool,
) -> tuple[int, int]:
    """(bar, price before slippage) of an exit decided on bar `t`."""
    if mode == "next_open":
        return (t + 1, o[t + 1]) if t + 1 < len(o) else (t, c[t])
    if mode == "close" or level is None or math.isinf(level):
        return t, c[t]
    if trigger is Trigger.HIGH:
        grid = krx.round_up_to_tick(max(1, math.ceil(level)), etf=etf)
        return t, max(o[t], grid)
    grid = krx.round_down_to_tick(max(1, math.floor(level)), etf=etf)
    if trigger is Trigger.LOW:
        return t, min(o[t], grid)
    return t, max(grid, c[t])  # crossed between the high and the close
