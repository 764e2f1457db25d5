"""SMA cross: buy when the fast average crosses above the slow one, sell when it crosses below.

The classic trend-following baseline; the backtest benchmark runs it with a trailing stop.
"""

from __future__ import annotations

import pandas as pd

from kiwoom_terminal.strategies import indicators as ind
from kiwoom_terminal.strategies.base import Param, Strategy, StrategyError, combine, register


@register
class SmaCross(Strategy):
    name = "sma_cross"
    title = "이동평균 교차"
    params = (
        Param("fast", 10, 2, 200, "단기 이동평균 기간 (봉)"),
        Param("slow", 30, 3, 500, "장기 이동평균 기간 (봉)"),
    )

    def check_params(self) -> None:
        if self.values["fast"] >= self.values["slow"]:
            raise StrategyError(
                f"{self.name}: fast({self.values['fast']:g}) 는 slow({self.values['slow']:g}) "
                "보다 작아야 합니다"
            )

    @property
    def min_bars(self) -> int:
        return self.param_int("slow") + 1

    def compute(self, bars: pd.DataFrame) -> pd.Series:
        close = bars["close"]
        fast = ind.sma(close, self.param_int("fast"))
        slow = ind.sma(close, self.param_int("slow"))
        return combine(ind.crossed_above(fast, slow), ind.crossed_below(fast, slow))
