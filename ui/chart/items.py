"""pyqtgraph items of the chart: cached candle / volume bars and the two axes."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QPointF, QRectF
from PyQt5.QtGui import QPainter, QPicture
from PyQt5.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ui.chart.series import DAY, BarSeries
from ui.theme import DOWN, UP

BODY_HALF_WIDTH = 0.34
BLOCK = 64  # bars per cached picture (finished bars only; the live bar is drawn alone)


class BarItem(pg.GraphicsObject):
    """Candles (or volume bars) from a BarSeries.

    The finished bars are cached as pictures of `BLOCK` bars each and only the blocks in
    the exposed rectangle are played; the live (last) bar, which changes with every tick
    batch, is drawn on its own. A repaint is then a handful of calls into Qt, not one
    Python call per bar in view: the chart repaints up to ten times a second, in the
    thread whose GIL the engine's thread needs."""

    def __init__(self, series: BarSeries, *, volume: bool = False) -> None:
        super().__init__()
        self.series = series
        self.volume = volume
        self._blocks: dict[int, tuple[int, QPicture]] = {}  # block -> (end, exclusive; picture)
        self._bounds = QRectF()
        self._up_pen = pg.mkPen(UP, width=1)
        self._down_pen = pg.mkPen(DOWN, width=1)
        self._up_brush = pg.mkBrush(UP)
        self._down_brush = pg.mkBrush(DOWN)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.refresh()

    def refresh(self, from_index: int | None = None) -> None:
        """Forget cached drawings (all, or those holding a bar from `from_index` on) and
        recompute bounds."""
        if from_index is None:
            self._blocks.clear()
        else:
            for block in [b for b, (end, _) in self._blocks.items() if end > from_index]:
                del self._blocks[block]
        s = self.series
        self.prepareGeometryChange()
        if len(s):
            if self.volume:
                top = float(np.nanmax(s.volume)) or 1.0
                self._bounds = QRectF(-0.5, 0.0, len(s), top)
            else:
                low = float(np.nanmin(s.low))
                high = float(np.nanmax(s.high))
                self._bounds = QRectF(-0.5, low, len(s), max(high - low, 1.0))
        else:
            self._bounds = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)

    def cached_blocks(self) -> list[int]:
        """The blocks drawn so far (for tests)."""
        return sorted(self._blocks)

    def paint(
        self,
        painter: QPainter | None,
        option: QStyleOptionGraphicsItem | None,
        widget: QWidget | None = None,
    ) -> None:
        n = len(self.series)
        if painter is None or not n:
            return
        exposed = option.exposedRect if option is not None else self._bounds
        first = max(0, int(math.floor(exposed.left())))
        last = min(n - 1, int(math.ceil(exposed.right())))
        live = n - 1
        if first < live:
            for block in range(first // BLOCK, min(last, live - 1) // BLOCK + 1):
                end = min((block + 1) * BLOCK, live)
                cached = self._blocks.get(block)
                if cached is None or cached[0] != end:  # new, or bars were added to it
                    cached = self._blocks[block] = (end, self._picture(block * BLOCK, end))
                cached[1].play(painter)
        if first <= live <= last:
            self._draw(painter, live)

    def _picture(self, start: int, end: int) -> QPicture:
        picture = QPicture()
        painter = QPainter(picture)
        for i in range(start, end):
            self._draw(painter, i)
        painter.end()
        return picture

    def _draw(self, p: QPainter, i: int) -> None:
        s = self.series
        o, h, lo, c = s.open[i], s.high[i], s.low[i], s.close[i]
        up = c >= o
        p.setPen(self._up_pen if up else self._down_pen)
        p.setBrush(self._up_brush if up else self._down_brush)
        if self.volume:
            p.drawRect(QRectF(i - BODY_HALF_WIDTH, 0.0, 2 * BODY_HALF_WIDTH, s.volume[i]))
        else:
            if h > lo:
                p.drawLine(QPointF(i, lo), QPointF(i, h))
            if o == c:
                p.drawLine(QPointF(i - BODY_HALF_WIDTH, o), QPointF(i + BODY_HALF_WIDTH, o))
            else:
                p.drawRect(QRectF(i - BODY_HALF_WIDTH, min(o, c), 2 * BODY_HALF_WIDTH, abs(c - o)))


class TimeAxis(pg.AxisItem):
    """Bottom axis labelling bar indexes with their dates (daily) or times (minute)."""

    def __init__(self, series: BarSeries, orientation: str = "bottom") -> None:
        super().__init__(orientation)
        self.series = series
        self.interval = DAY

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = []
        n = len(self.series)
        fmt = "%y-%m-%d" if self.interval == DAY else "%H:%M"
        for v in values:
            i = int(round(v))
            out.append(self.series.time_at(i).strftime(fmt) if 0 <= i < n else "")
        return out


class NumberAxis(pg.AxisItem):
    """Right axis with thousands separators (prices) or Korean units 만 / 억 (volumes)."""

    def __init__(self, *, korean_units: bool = False) -> None:
        super().__init__("right")
        self.korean_units = korean_units

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [self._format(v * scale) for v in values]

    def _format(self, v: float) -> str:
        if self.korean_units:
            if abs(v) >= 100_000_000:
                return f"{v / 100_000_000:,.1f}억".replace(".0억", "억")
            if abs(v) >= 10_000:
                return f"{v / 10_000:,.1f}만".replace(".0만", "만")
        return f"{v:,.0f}"
