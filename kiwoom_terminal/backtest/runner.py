"""Running a backtest over one code or a list, and its result.

Each code is backtested on its own with its own `initial_cash` (the same strategy, exit
rules and fill model); the combined result adds the codes' equity curves (a code's equity is
its starting cash before its first bar and its final equity after its last) and pools their
trades. Codes do not compete for cash or for the live engine's maximum number of positions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from kiwoom_terminal.backtest.data import INTERVALS, BacktestError, BarSource, prepare_bars
from kiwoom_terminal.backtest.engine import BacktestConfig, CodeRun, run_code
from kiwoom_terminal.backtest.stats import Stats, compute_stats, drawdown
from kiwoom_terminal.strategies.base import Strategy, StrategyError


@dataclass(frozen=True)
class BacktestResult:
    """Trades of every code, the combined equity and drawdown curves, the statistics, the
    per-code runs and any warnings about the data (gaps, partial coverage, skipped buys)."""

    strategy: str
    codes: tuple[str, ...]
    trades: pd.DataFrame
    equity: pd.Series
    drawdown: pd.Series
    stats: Stats
    per_code: dict[str, CodeRun]
    warnings: tuple[str, ...]


def run_backtest(
    source: BarSource,
    codes: Sequence[str],
    strategy: Strategy,
    config: BacktestConfig | None = None,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    interval: str = "day",
) -> BacktestResult:
    """Backtest `strategy` on `codes` from `source`; raises BacktestError on bad input."""
    config = config or BacktestConfig()
    codes = tuple(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not codes:
        raise BacktestError("종목코드를 하나 이상 주세요 (예: --codes 005930,000660)")
    if interval not in INTERVALS:
        raise BacktestError(
            f"봉 주기 '{interval}' 은(는) 쓸 수 없습니다 (가능: {', '.join(INTERVALS)})"
        )
    if start is not None and end is not None and start > end:
        raise BacktestError(f"시작일 {start} 이 종료일 {end} 보다 늦습니다")
    if config.initial_cash <= 0:
        raise BacktestError("시작 자금은 0보다 커야 합니다")
    runs: dict[str, CodeRun] = {}
    warnings: list[str] = []
    for code in codes:
        bars, notes = prepare_bars(
            source.load(code, start, end, interval), code, interval, start, end
        )
        if len(bars) < strategy.min_bars:
            notes.append(
                f"{code}: 봉이 {len(bars)}개뿐이라 {strategy.describe()} 의 첫 신호에 필요한 "
                f"{strategy.min_bars}개보다 적습니다 (기간을 늘리세요)"
            )
        try:
            run = run_code(code, bars, strategy, config, intraday=interval != "day")
        except StrategyError as exc:
            raise BacktestError(f"{code}: {exc}") from exc
        runs[code] = run
        warnings += notes + list(run.warnings)

    equity = _combine_equity([r.equity for r in runs.values()], config.initial_cash)
    if len(runs) == 1:
        trades = next(iter(runs.values())).trades
    else:
        trades = pd.concat([r.trades for r in runs.values()], ignore_index=True)
        trades = trades.sort_values(["entry_time", "code"], kind="stable", ignore_index=True)
    total_bars = sum(len(r.equity) for r in runs.values())
    exposure = sum(r.exposure * len(r.equity) for r in runs.values()) / max(total_bars, 1)
    initial = config.initial_cash * len(codes)
    dd = drawdown(equity)
    return BacktestResult(
        strategy=strategy.describe(),
        codes=codes,
        trades=trades,
        equity=equity,
        drawdown=dd,
        stats=compute_stats(equity, trades, initial, exposure, dd),
        per_code=runs,
        warnings=tuple(warnings),
    )


def _combine_equity(curves: list[pd.Series], initial: int) -> pd.Series:
    if len(curves) == 1:
        return curves[0]
    frame = pd.concat(curves, axis=1).sort_index().ffill().fillna(float(initial))
    return frame.sum(axis=1)
