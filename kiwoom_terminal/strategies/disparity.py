"""Disparity (이격도, seed 001 §4): price / moving average × 100.

Buy on the bar the disparity falls below `buy_below` (95: 5 % under the average), sell on
the bar it rises above `sell_above` (105).
"""

from __future__ import annotations

import pandas as pd

from kiwoom_terminal.strategies import indicators as ind
from kiwoom_terminal.strategies.base import Param, Strategy, StrategyError, combine, register


@register
class Disparity(Strategy):
    name = "disparity"
    title = "이격도"
    params = (
        Param("period", 20, 2, 500, "이동평균 기간 (봉)"),
        Param("buy_below", 95.0, 50.0, 100.0, "이 값 아래로 내려가면 매수 (%)", integer=False),
        Param("sell_above", 105.0, 100.0, 200.0, "이 값 위로 올라가면 매도 (%)", integer=False),
    )

    def check_params(self) -> None:
        if self.values["buy_below"] >= self.values["sell_above"]:
            raise StrategyError(f"{self.name}: buy_below 는 sell_above 보다 작아야 합니다")

    @property
    def min_bars(self) -> int:
        return self.param_int("period") + 1

    def compute(self, bars: pd.DataFrame) -> pd.Series:
        disp = ind.disparity(bars["close"], self.param_int("period"))
        buy = ind.crossed_below(disp, float(self.values["buy_below"]))
        sell = ind.crossed_above(disp, float(self.values["sell_above"]))
        return combine(buy, sell)
