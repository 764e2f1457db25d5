"""Bollinger band touch-and-rebound (seed 001 §4: 하단밴드 터치 후 반등 → 매수).

Buy on bar t when bar t−1 touched the lower band (its low ≤ the lower band) and bar t
rebounds: it closes above the lower band and above the previous close. The mirror image
sells: bar t−1 touched the upper band (high ≥ upper) and bar t closes below the upper band
and below the previous close.
"""

from __future__ import annotations

import pandas as pd

from kiwoom_terminal.strategies import indicators as ind
from kiwoom_terminal.strategies.base import Param, Strategy, combine, register


@register
class Bollinger(Strategy):
    name = "bollinger"
    title = "볼린저밴드 반등"
    params = (
        Param("period", 20, 2, 500, "이동평균 기간 (봉)"),
        Param("k", 2.0, 0.5, 5.0, "밴드 폭 (표준편차의 배수)", integer=False),
    )

    @property
    def min_bars(self) -> int:
        return self.param_int("period") + 1

    def compute(self, bars: pd.DataFrame) -> pd.Series:
        close = bars["close"].astype("float64")
        _, upper, lower = ind.bollinger(close, self.param_int("period"), float(self.values["k"]))
        prev_close = close.shift(1)
        touched_low = bars["low"].shift(1) <= lower.shift(1)
        buy = touched_low & (close > lower) & (close > prev_close)
        touched_high = bars["high"].shift(1) >= upper.shift(1)
        sell = touched_high & (close < upper) & (close < prev_close)
        return combine(buy, sell)
