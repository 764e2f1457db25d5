"""RSI turn with a volume filter (seed 001 §4).

Buy on bar t when the RSI was oversold on bar t−1 (< `oversold`, 30), turns up on bar t
(RSI rises) and bar t's volume is above `volume_mult` (1.5) × the weighted moving average
(weights 1…n, newest heaviest) of the `volume_period` bars before it. Sell is the mirror:
overbought (> 70) on bar t−1, RSI falls on bar t, with the same volume filter. The volume
average excludes bar t so a spike does not raise its own bar.
"""

from __future__ import annotations

import pandas as pd

from kiwoom_terminal.strategies import indicators as ind
from kiwoom_terminal.strategies.base import Param, Strategy, StrategyError, combine, register


@register
class RsiVolume(Strategy):
    name = "rsi"
    title = "RSI + 거래량"
    params = (
        Param("period", 14, 2, 100, "RSI 기간 (Wilder)"),
        Param("oversold", 30.0, 1.0, 50.0, "과매도 기준", integer=False),
        Param("overbought", 70.0, 50.0, 99.0, "과매수 기준", integer=False),
        Param("volume_period", 20, 1, 200, "거래량 가중평균 기간 (봉)"),
        Param("volume_mult", 1.5, 0.0, 10.0, "거래량이 가중평균의 몇 배 이상일 때", integer=False),
    )

    def check_params(self) -> None:
        if self.values["oversold"] >= self.values["overbought"]:
            raise StrategyError(f"{self.name}: oversold 는 overbought 보다 작아야 합니다")

    @property
    def min_bars(self) -> int:
        return max(self.param_int("period"), self.param_int("volume_period")) + 2

    def compute(self, bars: pd.DataFrame) -> pd.Series:
        r = ind.rsi(bars["close"], self.param_int("period"))
        volume = bars["volume"].astype("float64")
        baseline = ind.wma(volume, self.param_int("volume_period")).shift(1)
        loud = volume > baseline * float(self.values["volume_mult"])
        prev = r.shift(1)
        buy = (prev < float(self.values["oversold"])) & (r > prev) & loud
        sell = (prev > float(self.values["overbought"])) & (r < prev) & loud
        return combine(buy, sell)
