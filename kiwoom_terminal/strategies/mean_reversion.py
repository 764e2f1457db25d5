"""Mean reversion on the z-score (seed 003: 평균회귀).

z = (close − mean) / sample standard deviation over `window` bars. Buy on the bar z falls
below −`threshold`, sell on the bar it rises above +`threshold`. Seed 003 pairs it with a
−5 % stop-loss and +11 % take-profit; in this terminal those are the exit rules of
`[trading]` (the backtester applies them too).
"""

from __future__ import annotations

import pandas as pd

from kiwoom_terminal.strategies import indicators as ind
from kiwoom_terminal.strategies.base import Param, Strategy, combine, register


@register
class MeanReversion(Strategy):
    name = "mean_reversion"
    title = "평균회귀 (z-점수)"
    params = (
        Param("window", 20, 3, 500, "평균과 표준편차 기간 (봉)"),
        Param("threshold", 2.0, 0.5, 5.0, "매수/매도 z-점수 기준", integer=False),
    )

    @property
    def min_bars(self) -> int:
        return self.param_int("window") + 1

    def compute(self, bars: pd.DataFrame) -> pd.Series:
        z = ind.zscore(bars["close"], self.param_int("window"))
        t = float(self.values["threshold"])
        return combine(ind.crossed_below(z, -t), ind.crossed_above(z, t))
