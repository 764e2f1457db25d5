"""Statistics of a backtest from its equity curve and trades.

- total return: final equity / initial equity − 1.
- annual return: the total return compounded per year over the calendar span of the data
  (365.25 days a year); not shown for spans under 30 days, where it means little.
- maximum drawdown: the deepest fall of equity from its running peak, in percent (≤ 0).
- Sharpe: mean / standard deviation of daily equity returns × √252 (risk-free rate 0);
  minute curves are taken at each day's last bar first.
- win rate: trades with a positive P/L (after fees and tax) / all trades.
- profit factor: gross profit / gross loss (∞ with no losing trade).
- exposure: the share of bars that end holding a position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from kiwoom_terminal.backtest.data import epoch_seconds


@dataclass(frozen=True)
class Stats:
    """Headline figures; percentages are in percent, money in KRW."""

    start: str
    end: str
    initial_equity: int
    final_equity: int
    total_return_pct: float
    annual_return_pct: float
    max_drawdown_pct: float
    sharpe: float
    trades: int
    win_rate_pct: float
    profit_factor: float
    avg_trade_pct: float
    best_trade_pct: float
    worst_trade_pct: float
    exposure_pct: float
    fees_and_tax: int

    def rows(self) -> list[tuple[str, str, str]]:
        """(field name, Korean label, value with unit) per figure, for tables and reports."""
        out = []
        for f in fields(self):
            label, unit = _LABELS[f.name]
            value = getattr(self, f.name)
            if isinstance(value, float):
                text = "-" if math.isnan(value) else ("∞" if math.isinf(value) else f"{value:,.2f}")
            elif isinstance(value, int):
                text = f"{value:,}"
            else:
                text = str(value)
            suffix = f" {unit}" if unit and text != "-" else ""
            out.append((f.name, label, f"{text}{suffix}"))
        return out

    def lines(self) -> list[str]:
        """One `label (name): value unit` line per figure, with Korean labels."""
        return [f"{label} ({name}): {text}" for name, label, text in self.rows()]


_LABELS = {
    "start": ("시작", ""),
    "end": ("끝", ""),
    "initial_equity": ("시작 자금", "원"),
    "final_equity": ("최종 자산", "원"),
    "total_return_pct": ("총수익률", "%"),
    "annual_return_pct": ("연환산 수익률", "%"),
    "max_drawdown_pct": ("최대 낙폭", "%"),
    "sharpe": ("샤프 지수", ""),
    "trades": ("거래 수", "회"),
    "win_rate_pct": ("승률", "%"),
    "profit_factor": ("손익비", ""),
    "avg_trade_pct": ("평균 거래 수익률", "%"),
    "best_trade_pct": ("최고 거래 수익률", "%"),
    "worst_trade_pct": ("최저 거래 수익률", "%"),
    "exposure_pct": ("보유 비율", "%"),
    "fees_and_tax": ("수수료+세금", "원"),
}


def drawdown(equity: pd.Series) -> pd.Series:
    """Fall from the running peak as a fraction (0 at a new high, −0.25 at 25 % below)."""
    values = equity.to_numpy(dtype="float64")
    out = np.maximum.accumulate(values)
    np.divide(values, out, out=out)
    out -= 1
    return pd.Series(out, index=equity.index)


def daily_returns(equity: pd.Series) -> np.ndarray:
    """Returns from one day's last equity to the next day's (minute curves included)."""
    if len(equity) < 2:
        return np.zeros(0)
    index = pd.DatetimeIndex(equity.index)
    day = epoch_seconds(index) // 86_400
    last_of_day = np.flatnonzero(np.append(day[1:] != day[:-1], True))
    closes = equity.to_numpy(dtype="float64")[last_of_day]
    return closes[1:] / closes[:-1] - 1


def compute_stats(
    equity: pd.Series,
    trades: pd.DataFrame,
    initial: int,
    exposure: float,
    dd: pd.Series | None = None,
) -> Stats:
    """Stats for an equity curve (indexed by bar time) and its trades table; `dd` is its
    drawdown series when the caller has it already."""
    final = float(equity.iloc[-1]) if len(equity) else float(initial)
    total = final / initial - 1
    span_days = (equity.index[-1] - equity.index[0]).total_seconds() / 86_400 if len(equity) else 0
    if span_days >= 30 and final > 0:
        annual = (final / initial) ** (365.25 / span_days) - 1
    else:
        annual = math.nan
    if dd is None:
        dd = drawdown(equity)
    max_dd = float(dd.min()) if len(dd) else 0.0
    rets = daily_returns(equity)
    sd = float(rets.std(ddof=1)) if len(rets) > 1 else 0.0
    sharpe = float(rets.mean()) / sd * math.sqrt(252) if sd > 0 else math.nan
    pnl = trades["pnl"].to_numpy(dtype="float64") if len(trades) else np.zeros(0)
    pct = trades["return_pct"].to_numpy(dtype="float64") if len(trades) else np.zeros(0)
    wins, losses = pnl[pnl > 0].sum(), -pnl[pnl < 0].sum()
    if len(pnl) == 0:
        pf = math.nan
    elif losses == 0:
        pf = math.inf if wins > 0 else math.nan
    else:
        pf = wins / losses
    fees = int(trades["fees"].sum()) if len(trades) else 0
    return Stats(
        start=_when(equity.index[0]) if len(equity) else "",
        end=_when(equity.index[-1]) if len(equity) else "",
        initial_equity=int(initial),
        final_equity=int(round(final)),
        total_return_pct=total * 100,
        annual_return_pct=annual * 100,
        max_drawdown_pct=max_dd * 100,
        sharpe=sharpe,
        trades=len(pnl),
        win_rate_pct=(pnl > 0).mean() * 100 if len(pnl) else math.nan,
        profit_factor=float(pf),
        avg_trade_pct=float(pct.mean()) if len(pct) else math.nan,
        best_trade_pct=float(pct.max()) if len(pct) else math.nan,
        worst_trade_pct=float(pct.min()) if len(pct) else math.nan,
        exposure_pct=exposure * 100,
        fees_and_tax=fees,
    )


def _when(stamp: object) -> str:
    """A bar time as text: the date alone for daily bars (midnight), else date and time."""
    ts = pd.Timestamp(stamp)
    return f"{ts:%Y-%m-%d}" if ts == ts.normalize() else f"{ts:%Y-%m-%d %H:%M}"
