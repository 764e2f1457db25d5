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

import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kiwoom_terminal import krx
from kiwoom_terminal.backtest.data import BacktestError
from kiwoom_terminal.constants import ExitReason
from kiwoom_terminal.decisions.exits import (
    ExitRules,
    PositionState,
    Trigger,
    evaluate_exit,
    quiet_band,
)
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
        try:
            rules = (
                ExitRules.from_settings(settings.trading, settings.fees)
                if b.apply_exit_rules
                else NO_EXIT_RULES
            )
        except ValueError as exc:
            raise BacktestError(f"[trading] 매도 규칙이 잘못되었습니다: {exc}") from exc
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
    """Backtest one code over validated bars (`data.prepare_bars`).

    While a position is open, each bar goes through `evaluate_exit` unless it lies inside
    `quiet_band` of the current state (then `evaluate_exit` provably does nothing and the
    bar is skipped with one or two comparisons). The Python work per trade is kept small
    (one tuple per trade, views instead of lists, no per-segment allocations) because it,
    not the bars, is what a long minute history costs; see docs/BENCHMARKS.md.
    """
    signals = strategy.signals(bars).to_numpy()
    n = len(bars)
    # memoryviews: Python ints on indexing like a list, but no 250k-element copy to build.
    close_arr = np.ascontiguousarray(bars["close"].to_numpy(dtype="int64"))
    high_arr = bars["high"].to_numpy(dtype="int64")
    low_arr = bars["low"].to_numpy(dtype="int64")
    o, h, lo = (_view(bars[k].to_numpy(dtype="int64")) for k in ("open", "high", "low"))
    c = _view(close_arr)
    sell_signal = signals == SELL
    rules = config.exit_rules
    seconds: np.ndarray | None = None
    flagged = sell_signal
    if intraday and rules.liquidation_time is not None:
        index = pd.DatetimeIndex(bars.index)
        seconds = (index.hour * 3600 + index.minute * 60 + index.second).to_numpy()
        liq = rules.liquidation_time
        flagged = sell_signal | (seconds >= liq.hour * 3600 + liq.minute * 60 + liq.second)
    # The skip test per bar in a position: a bar is quiet when floor < low and high < ceiling
    # and it is not flagged (sell signal, liquidation time). Flagged bars get a high of +inf
    # so the test stays two reads; float views compare with the float band faster than ints,
    # and with no floor (−inf: no stop-loss, not armed) one read suffices.
    high_or_flag = _view(np.where(flagged, math.inf, high_arr.astype("float64")))
    low_f = _view(low_arr.astype("float64"))
    sells = _view(sell_signal)
    next_buy = _view(_next_true(signals == BUY))
    no_floor = -math.inf
    fill = config.fill
    fees = config.fees
    etf = config.etf
    slip = fill.slippage_ticks
    entry_next_open = fill.entry == "next_open"
    exit_mode = fill.exit
    exit_next_open = exit_mode == "next_open"
    # After a decision on bar t the next entry needs a buy signal after t, except when the
    # exit filled on t itself and entries wait for the next open (then a signal on t buys
    # at t + 1, after the sale).
    resume_after_exit = 1 if exit_next_open or not entry_next_open else 0
    order_amount = config.order_amount
    strategy_reason = ExitReason.STRATEGY

    cash = config.initial_cash
    # One tuple per trade (entry_bar, entry_price, exit_bar, exit_price, quantity, cost,
    # proceeds, reason, detail); `_finish` turns the columns into arrays at once.
    rows: list[tuple[Any, ...]] = []
    add_row = rows.append
    warnings: list[str] = []
    next_signal = 0
    while True:
        signal_bar = next_buy[next_signal]  # the first buy signal at or after next_signal
        if signal_bar >= n:
            break
        if entry_next_open:
            entry_bar = signal_bar + 1
            if entry_bar >= n:
                break
            raw_entry, first_eval = o[entry_bar], entry_bar
        else:
            entry_bar = signal_bar
            raw_entry, first_eval = c[signal_bar], signal_bar + 1
        entry_price = krx.step_price(raw_entry, slip, etf=etf) if slip else raw_entry
        budget = cash if order_amount <= 0 or order_amount > cash else order_amount
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
        floor, ceiling = quiet_band(state, rules)
        decision = None
        t = first_eval
        position_bars = iter(range(first_eval, n))  # the skip loops below resume it
        while True:
            # The next bar outside the quiet band; none left: the position runs to the end.
            if floor == no_floor:
                for t in position_bars:
                    if high_or_flag[t] >= ceiling:
                        break
                else:
                    break
            else:
                for t in position_bars:
                    if floor >= low_f[t] or high_or_flag[t] >= ceiling:
                        break
                else:
                    break
            now = None
            if seconds is not None:
                now = _time_of_day(int(seconds[t]))
            # Positional: the same call as evaluate_exit(..., now=, sell_flagged=, flag_reason=);
            # `sells` is a view of a bool array, so sells[t] is a Python bool.
            state, decision = evaluate_exit(
                state,
                c[t],
                h[t],
                lo[t],
                rules,
                now,
                sells[t],  # type: ignore[arg-type]
                strategy_reason,
            )
            if decision is not None:
                break
            floor, ceiling = quiet_band(state, rules)

        if decision is None:
            exit_bar, raw_exit = n - 1, c[n - 1]
            reason, detail = END_OF_DATA, "데이터 끝: 마지막 종가로 정리"
            next_signal = n
        else:
            # `_value_` is the member's plain attribute (`.value` is a slower descriptor).
            reason, detail = decision.reason._value_, decision.detail
            if exit_next_open:
                exit_bar, raw_exit = (t + 1, o[t + 1]) if t + 1 < n else (t, c[t])
            else:
                exit_bar, raw_exit = _exit_fill(
                    exit_mode, decision.trigger, decision.level, t, o, c, etf
                )
            next_signal = t + resume_after_exit
        exit_price = max(1, krx.step_price(raw_exit, -slip, etf=etf)) if slip else raw_exit
        proceeds = fees.net_proceeds(exit_price, quantity)
        cash += proceeds
        add_row(
            (entry_bar, entry_price, exit_bar, exit_price, quantity, cost, proceeds, reason, detail)
        )

    return _finish(code, bars, close_arr, rows, config.initial_cash, tuple(warnings))


def _view(values: np.ndarray) -> memoryview:
    """A zero-copy view that indexes to Python ints / bools."""
    return np.ascontiguousarray(values).data


def _next_true(mask: np.ndarray) -> np.ndarray:
    """`out[t]` = the first index ≥ t where `mask` is true, or len(mask); len(mask) + 1
    entries, so `out[len(mask)]` is valid too."""
    n = len(mask)
    where = np.flatnonzero(mask)
    # Each true index b covers the bars after the previous true index up to b itself.
    bounds = np.concatenate(([0], where + 1, [n + 1]))
    return np.repeat(np.append(where, n), np.diff(bounds)).astype("int64", copy=False)


@functools.lru_cache(maxsize=4096)
def _time_of_day(sec: int) -> dt.time:
    """Seconds after midnight as a time (minute bars repeat the same few hundred)."""
    return dt.time(sec // 3600, sec // 60 % 60, sec % 60)


def _finish(
    code: str,
    bars: pd.DataFrame,
    closes: np.ndarray,
    rows: list[tuple[Any, ...]],
    initial_cash: int,
    warnings: tuple[str, ...],
) -> CodeRun:
    """Trades table, equity per bar and exposure from the loop's rows (vectorised)."""
    n = len(bars)
    k = len(rows)
    if k:
        columns = list(zip(*rows))
        entry_bar, entry_price, exit_bar, exit_price, quantity, cost, proceeds = (
            np.asarray(columns[i], dtype="int64") for i in range(7)
        )
        reasons, details = list(columns[7]), list(columns[8])
    else:
        entry_bar = entry_price = exit_bar = exit_price = quantity = cost = proceeds = np.zeros(
            0, dtype="int64"
        )
        reasons, details = [], []
    pnl = proceeds - cost
    # Cash and shares are constant between trade events: shares are held at the close of
    # bars entry_bar .. exit_bar − 1 (sold during exit_bar; an exit on the entry bar itself
    # never holds at a close), cash drops by the cost on the entry bar and rises by the
    # proceeds on the exit bar. Events are in bar order (one position at a time), so each
    # level is repeated over the bars up to the next event.
    bounds = np.empty(2 * k + 2, dtype="int64")
    bounds[0], bounds[-1] = 0, n
    bounds[1:-1:2], bounds[2:-1:2] = entry_bar, exit_bar
    cash_steps = np.empty(2 * k + 1, dtype="int64")
    cash_steps[0] = 0
    cash_steps[1::2], cash_steps[2::2] = -cost, proceeds
    cash_level = initial_cash + np.cumsum(cash_steps)
    held_level = np.zeros(2 * k + 1, dtype="int64")
    held_level[1::2] = quantity
    counts = np.diff(bounds)
    held = np.repeat(held_level, counts)
    equity = np.repeat(cash_level.astype("float64"), counts) + held * closes
    index = bars.index
    trades = pd.DataFrame(
        {
            "code": [code] * k,
            "entry_time": index[entry_bar],
            "entry_price": entry_price,
            "exit_time": index[exit_bar],
            "exit_price": exit_price,
            "quantity": quantity,
            "pnl": pnl,
            "return_pct": pnl * 100 / np.maximum(cost, 1),
            "fees": (cost - entry_price * quantity) + (exit_price * quantity - proceeds),
            "reason": reasons,
            "detail": details,
            "entry_bar": entry_bar,
            "exit_bar": exit_bar,
        },
        columns=list(TRADE_COLUMNS),
    )
    exposure = float((exit_bar - entry_bar).sum()) / n if n else 0.0
    return CodeRun(code, trades, pd.Series(equity, index=index), exposure, warnings)


def _exit_fill(
    mode: str,
    trigger: Trigger,
    level: float | None,
    t: int,
    o: Sequence[int],
    c: Sequence[int],
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
