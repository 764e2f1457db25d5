"""The 차트 dock: candles with volume, indicators, markers and levels (see widget.py)."""

from ui.chart.series import DAY, MINUTE, BarSeries, FillMarker
from ui.chart.widget import ChartWidget

__all__ = ["DAY", "MINUTE", "BarSeries", "ChartWidget", "FillMarker"]
