"""Chaikin oscillator zero-line cross (seed 001 §4: 오실레이터 0선 상향 돌파 → 매수).

The oscillator is EMA(fast) − EMA(slow) of the accumulation/distribution line. Buy when it
crosses above 0, sell when it crosses below 0.
"""

from __future__ import annotations

import pandas as pd

from kiwoom_terminal.strategies import indicators as ind
from kiwoom_terminal.strategies.base import Param, Strategy, StrategyError, combine, register


@register
class Chaikin(Strategy):
    name = "chaikin"
    title = "차이킨 오실레이터"
    params = (
        Param("fast", 3, 1, 50, "빠른 EMA 기간"),
        Param("slow", 10, 2, 200, "느린 EMA 기간"),
    )

    def check_params(self) -> None:
        if self.values["fast"] >= self.values["slow"]:
            raise StrategyError(f"{self.name}: fast 는 slow 보다 작아야 합니다")

    @property
    def min_bars(self) -> int:
        return self.param_int("slow") + 1

    def compute(self, bars: pd.DataFrame) -> pd.Series:
        osc = ind.chaikin_oscillator(
            bars["high"],
            bars["low"],
            bars["close"],
            bars["volume"],
            self.param_int("fast"),
            self.param_int("slow"),
        )
        return combine(ind.crossed_above(osc, 0.0), ind.crossed_below(osc, 0.0))
