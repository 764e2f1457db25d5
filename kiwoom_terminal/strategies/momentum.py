"""Momentum with a trend filter (seed 001 §4: 모멘텀 > 0 AND 상승 추세 → 매수).

Buy on the bar where both hold after at least one of them did not: momentum (close − close
`period` bars ago) is above 0 and the close is above its `trend`-bar average. Sell when the
momentum turns negative (crosses below 0).
"""

from __future__ import annotations

import pandas as pd

from kiwoom_terminal.strategies import indicators as ind
from kiwoom_terminal.strategies.base import Param, Strategy, combine, register


@register
class Momentum(Strategy):
    name = "momentum"
    title = "모멘텀"
    params = (
        Param("period", 10, 1, 250, "모멘텀 비교 기간 (n봉 전 종가)"),
        Param("trend", 20, 2, 500, "추세 판단 이동평균 기간 (봉)"),
    )

    @property
    def min_bars(self) -> int:
        return max(self.param_int("period"), self.param_int("trend")) + 1

    def compute(self, bars: pd.DataFrame) -> pd.Series:
        close = bars["close"]
        mom = ind.momentum(close, self.param_int("period"))
        uptrend = close > ind.sma(close, self.param_int("trend"))
        buy = ind.became_true((mom > 0) & uptrend)
        return combine(buy, ind.crossed_below(mom, 0.0))
