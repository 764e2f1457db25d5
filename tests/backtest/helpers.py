"""Small helpers for the backtest tests: bars from lists and a strategy with fixed signals."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from kiwoom_terminal.strategies.base import BUY, HOLD, SELL, Strategy


def bars_from(rows: Sequence[tuple[int, int, int, int]], freq: str = "B") -> pd.DataFrame:
    """(open, high, low, close) rows → a bar frame with volume 1,000 on weekdays."""
    idx = pd.date_range("2025-03-03", periods=len(rows), freq=freq, name="time")
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=idx)
    frame["volume"] = 1_000
    return frame


class FixedSignals(Strategy):
    """Not registered: buys on the bars in `buys`, sells on the bars in `sells`."""

    name = "fixed"
    title = "고정 신호 (테스트)"

    def __init__(self, buys: Sequence[int] = (), sells: Sequence[int] = ()) -> None:
        super().__init__()
        self.buys, self.sells = set(buys), set(sells)

    def compute(self, bars: pd.DataFrame) -> pd.Series:
        out = [
            BUY if i in self.buys else SELL if i in self.sells else HOLD for i in range(len(bars))
        ]
        return pd.Series(out, index=bars.index)
