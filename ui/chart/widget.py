"""The 차트 dock: pyqtgraph candles with volume underneath for the selected stock.

History arrives as a DataFrame (`open high low close volume` on a DatetimeIndex, daily or
1-minute); the current bar is then updated live from tick summaries. Bars are drawn by
`BarItem`s that cache the finished bars as pictures of 64 bars and play only those in view,
drawing the live bar on its own, so a live update redraws one bar and several years of daily
bars pan smoothly. Lines (moving averages, Bollinger bands) clip to the view and downsample.
Redraws are batched by a timer (10 a second), not done per tick.

Korean HTS colours: rising candles and buy markers red, falling ones and sell markers blue.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PyQt5.QtCore import QEvent, QObject, QPointF, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QColor, QPalette
from PyQt5.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kiwoom_terminal import krx
from kiwoom_terminal.constants import Side
from kiwoom_terminal.settings import AppSettings
from ui.chart.items import BarItem, NumberAxis, TimeAxis
from ui.chart.series import (
    DAY,
    INTERVAL_LABELS,
    MINUTE,
    BarSeries,
    FillMarker,
    empty_bars,
    rolling_mean,
    rolling_std,
)
from ui.theme import DOWN, UP

REDRAW_MS = 100  # live updates are drawn at most 10 times a second
MA_COLOURS = ("#e0399a", "#f08c00", "#2b9348", "#6c757d", "#7048e8", "#0c8599")
BACKGROUND = "#ffffff"
AXIS_COLOUR = "#5c6570"
GRID_ALPHA = 0.12
LEVEL_REACH = 0.5  # position lines this far (× the bars' range) outside the bars are fitted in
# The exit levels and the side of them at which each fires: a stop fires at or below its
# price (이하), a take-profit at or above (이상). The average price is no trigger.
LEVEL_NAMES = {
    "avg_price": ("평균단가", ""),
    "stop_loss": ("손절", "이하"),
    "take_profit": ("익절", "이상"),
    "trailing_stop": ("트레일링", "이하"),
}


class ChartWidget(QWidget):
    """Candles + volume with MAs, Bollinger bands, fill markers, price levels, crosshair."""

    interval_changed = pyqtSignal(str)  # "day" / "minute": the view wants that history

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chart")
        self.settings = settings
        self.code = ""
        self.etf = False  # ETFs trade on a flat 5원 grid (the levels' prices are on it)
        self.interval = settings.chart.interval if settings.chart.interval in (DAY, MINUTE) else DAY
        self.series = BarSeries()
        self.fills: list[FillMarker] = []
        self.ma_periods = _periods(settings.chart.ma_periods)
        self._dirty_from: int | None = None
        self._cross_index: int | None = None  # bar under the crosshair; None: not shown
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self.flush)
        self._build()
        self.set_ma_visible(settings.chart.show_ma)
        self.set_bollinger_visible(settings.chart.show_bollinger)

    # --- Construction -------------------------------------------------------------------

    def _build(self) -> None:
        pg.setConfigOptions(antialias=False, foreground=AXIS_COLOUR, background=BACKGROUND)
        self.title = QLabel(self)
        self.title.setObjectName("chart_title")
        self.readout = QLabel(self)
        self.readout.setObjectName("chart_readout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.interval_group = QButtonGroup(self)
        self.interval_buttons: dict[str, QToolButton] = {}
        for interval in (DAY, MINUTE):
            button = QToolButton(self)
            button.setText(INTERVAL_LABELS[interval])
            button.setCheckable(True)
            button.setChecked(interval == self.interval)
            button.clicked.connect(lambda _=False, i=interval: self.request_interval(i))
            self.interval_group.addButton(button)
            self.interval_buttons[interval] = button
        self.ma_button = QToolButton(self)
        self.ma_button.setText("이동평균")
        self.ma_button.setCheckable(True)
        self.ma_button.toggled.connect(self.set_ma_visible)
        self.bb_button = QToolButton(self)
        self.bb_button.setText("볼린저")
        self.bb_button.setCheckable(True)
        self.bb_button.toggled.connect(self.set_bollinger_visible)

        bar = QHBoxLayout()
        bar.setSpacing(2)
        bar.addWidget(self.title)
        for button in self.interval_buttons.values():
            bar.addWidget(button)
        bar.addWidget(self.ma_button)
        bar.addWidget(self.bb_button)
        bar.addSpacing(8)
        bar.addWidget(self.readout, 1)

        self.time_axis = TimeAxis(self.series)
        self.price_widget = pg.PlotWidget(
            axisItems={"bottom": self.time_axis, "right": NumberAxis()}
        )
        self.price_widget.setObjectName("price_plot")
        self.volume_axis = TimeAxis(self.series)
        self.volume_widget = pg.PlotWidget(
            axisItems={"bottom": self.volume_axis, "right": NumberAxis(korean_units=True)}
        )
        self.volume_widget.setObjectName("volume_plot")
        self.price_plot = self.price_widget.getPlotItem()
        self.volume_plot = self.volume_widget.getPlotItem()
        for plot in (self.price_plot, self.volume_plot):
            plot.showAxis("right")
            plot.hideAxis("left")
            plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)
            plot.setMouseEnabled(x=True, y=False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.getAxis("right").setWidth(64)
            plot.getAxis("right").enableAutoSIPrefix(False)
        self.price_plot.hideAxis("bottom")
        self.volume_plot.setXLink(self.price_plot)
        self.volume_plot.getAxis("right").setStyle(showValues=True)
        self.volume_widget.setMinimumHeight(50)

        self.candles = BarItem(self.series)
        self.volumes = BarItem(self.series, volume=True)
        self.price_plot.addItem(self.candles)
        self.volume_plot.addItem(self.volumes)

        self.ma_lines: list[pg.PlotDataItem] = []
        for i, period in enumerate(self.ma_periods):
            line = pg.PlotDataItem(
                pen=pg.mkPen(MA_COLOURS[i % len(MA_COLOURS)], width=1), name=f"MA{period}"
            )
            _line_options(line)
            self.price_plot.addItem(line)
            self.ma_lines.append(line)
        # Which line is which period: "MA5 MA20 MA60" at the top left, each in its line's
        # colour. Text only (no line samples), so it stays narrow and clear of the level labels.
        self.ma_legend_entries = [
            (f"MA{period}", MA_COLOURS[i % len(MA_COLOURS)])
            for i, period in enumerate(self.ma_periods)
        ]
        self.ma_legend = pg.LabelItem(
            "&nbsp;".join(
                f"<span style='color:{colour}; font-weight:bold'>{text}</span>"
                for text, colour in self.ma_legend_entries
            ),
            size="8pt",
            justify="left",
        )
        self.ma_legend.setParentItem(self.price_plot.getViewBox())
        self.ma_legend.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(4, 0))
        self.ma_legend.setZValue(40)
        # An opaque-ish backing: a guide line (익절, 손절) running through the top of the
        # chart must not cross the legend's text.
        backing = self.ma_legend.palette()
        backing.setColor(QPalette.ColorRole.Window, QColor(255, 255, 255, 220))
        self.ma_legend.setPalette(backing)
        self.ma_legend.setAutoFillBackground(True)
        bb_pen = pg.mkPen("#8d6e63", width=1, style=Qt.PenStyle.DashLine)
        self.bb_mid = pg.PlotDataItem(pen=pg.mkPen("#8d6e63", width=1))
        self.bb_upper = pg.PlotDataItem(pen=bb_pen)
        self.bb_lower = pg.PlotDataItem(pen=bb_pen)
        for line in (self.bb_mid, self.bb_upper, self.bb_lower):
            _line_options(line)
        self.bb_fill = pg.FillBetweenItem(
            self.bb_upper, self.bb_lower, brush=pg.mkBrush(141, 110, 99, 28)
        )
        for item in (self.bb_fill, self.bb_mid, self.bb_upper, self.bb_lower):
            self.price_plot.addItem(item)

        self.fill_scatter = pg.ScatterPlotItem(size=11, pxMode=True)
        self.fill_scatter.setZValue(20)
        self.price_plot.addItem(self.fill_scatter)

        self.level_lines: dict[str, pg.InfiniteLine] = {}
        self._levels: tuple[float | None, ...] | None = None  # as last set (set_levels)
        for name, colour, style, position in (
            ("avg_price", "#333333", Qt.PenStyle.SolidLine, 0.24),
            ("stop_loss", DOWN.name(), Qt.PenStyle.DashLine, 0.41),
            ("take_profit", UP.name(), Qt.PenStyle.DashLine, 0.41),
            ("trailing_stop", "#f08c00", Qt.PenStyle.DashDotLine, 0.58),
        ):
            label, side = LEVEL_NAMES[name]
            line = pg.InfiniteLine(
                angle=0,
                movable=False,
                pen=pg.mkPen(colour, width=1, style=style),
                label=f"{label} {{value:,.0f}}{' ' + side if side else ''}",
                labelOpts={
                    # Left of the live bar and right of the MA legend (top left), staggered
                    # so close levels do not overlap, and centred on the line so a level at
                    # the edge of the view stays legible.
                    "position": position,
                    "color": colour,
                    "fill": pg.mkBrush(255, 255, 255, 225),
                    "anchors": [(0, 0.5), (0, 0.5)],
                },
            )
            line.setZValue(15)
            line.hide()
            self.price_plot.addItem(line, ignoreBounds=True)
            self.level_lines[name] = line

        cross_pen = pg.mkPen("#8a94a3", width=1, style=Qt.PenStyle.DotLine)
        self.cross_v = pg.InfiniteLine(angle=90, movable=False, pen=cross_pen)
        self.cross_h = pg.InfiniteLine(angle=0, movable=False, pen=cross_pen)
        self.cross_v_volume = pg.InfiniteLine(angle=90, movable=False, pen=cross_pen)
        for line, plot in (
            (self.cross_v, self.price_plot),
            (self.cross_h, self.price_plot),
            (self.cross_v_volume, self.volume_plot),
        ):
            line.setZValue(30)
            line.hide()
            plot.addItem(line, ignoreBounds=True)
        self._mouse_proxy = pg.SignalProxy(
            self.price_widget.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved
        )
        self._volume_mouse_proxy = pg.SignalProxy(
            self.volume_widget.scene().sigMouseMoved, rateLimit=60, slot=self._on_volume_mouse_moved
        )
        self.price_plot.getViewBox().sigXRangeChanged.connect(self._fit_y)
        # The crosshair goes when the mouse leaves the plots, and the readout returns to the
        # live bar.
        self.price_widget.installEventFilter(self)
        self.volume_widget.installEventFilter(self)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("chart_splitter")
        self.splitter.addWidget(self.price_widget)
        self.splitter.addWidget(self.volume_widget)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([400, 100])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        self._update_title()

    # --- Data in ------------------------------------------------------------------------

    def set_stock(self, code: str, name: str = "", *, etf: bool = False) -> None:
        """Switch to a stock: clears bars, fills and levels until its history arrives."""
        self.code = code
        self._name = name
        self.etf = etf
        self.fills = []
        self.series.load(empty_bars())
        self.set_levels()
        self._full_redraw()
        self._update_title()

    def set_bars(self, frame: pd.DataFrame, interval: str | None = None) -> None:
        """Show history (`open high low close volume` on a DatetimeIndex)."""
        if interval is not None and interval in (DAY, MINUTE):
            self._set_interval(interval)
        missing = {"open", "high", "low", "close", "volume"} - set(frame.columns)
        if missing:
            raise ValueError(
                f"bars need columns open high low close volume; missing {sorted(missing)}"
            )
        self.series.load(frame)
        self._full_redraw()
        self.show_last(self.settings.chart.visible_bars)

    def apply_tick(
        self, last: int, high: int, low: int, cum_volume: int, when: dt.datetime
    ) -> None:
        """Fold a tick batch (last, batch high/low, day's cumulative volume) into the live bar.

        Drawn by the redraw timer, at most 10 times a second.
        """
        if last <= 0:
            return
        if self.interval == DAY:
            bucket = dt.datetime.combine(when.date(), dt.time())
        else:
            bucket = when.replace(second=0, microsecond=0)
        following = self._following()
        result = self.series.apply_tick(bucket, last, high or last, low or last, cum_volume)
        if result == "stale":
            return
        n = len(self.series)
        start = n - 1
        self._dirty_from = start if self._dirty_from is None else min(self._dirty_from, start)
        if result == "append" and following:
            view = self.price_plot.getViewBox()
            x0, x1 = view.viewRange()[0]
            view.setXRange(x0 + 1, x1 + 1, padding=0)
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def add_fill(self, side: Side, price: int, when: dt.datetime) -> None:
        """Mark one of our fills: buy ▲ red, sell ▼ blue, at the fill price."""
        self.fills.append(FillMarker(side, price, when))
        self._update_fill_markers()

    def set_fills(self, fills: list[tuple[Side, int, dt.datetime]]) -> None:
        """Replace the markers with (side, price, time) of every fill of the stock."""
        self.fills = [FillMarker(side, price, when) for side, price, when in fills]
        self._update_fill_markers()

    def set_levels(
        self,
        avg_price: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        trailing_stop: float | None = None,
    ) -> None:
        """Horizontal lines for the position's prices; None hides a line.

        The exit levels come from the rules as exact prices (68,870.3); each line is drawn
        at the first KRX grid price at which its rule fires (`level_price`) and labelled
        with it and the side, e.g. "손절 68,800 이하". The average price is drawn as it is.
        The same levels again change nothing (they are set on every tracking change).
        """
        levels = (avg_price, stop_loss, take_profit, trailing_stop)
        if levels == self._levels:
            return
        self._levels = levels
        for name, value in (
            ("avg_price", avg_price),
            ("stop_loss", stop_loss),
            ("take_profit", take_profit),
            ("trailing_stop", trailing_stop),
        ):
            line = self.level_lines[name]
            if value is None or value <= 0:
                line.hide()
            else:
                line.show()  # before setValue: a hidden line's label does not update
                line.setValue(float(self.level_price(name, value)))
        self._fit_y()

    def level_price(self, name: str, value: float) -> float:
        """Where the `name` line is drawn: a stop (fires when the price ≤ `value`) at the
        highest grid price at or below it, a take-profit (fires when ≥) at the lowest grid
        price at or above it; the average price unchanged."""
        side = LEVEL_NAMES[name][1]
        if side == "이하":
            return krx.round_down_to_tick(max(int(math.floor(value)), 1), etf=self.etf)
        if side == "이상":
            return krx.round_up_to_tick(max(int(math.ceil(value)), 1), etf=self.etf)
        return value

    def set_ma_visible(self, visible: bool) -> None:
        self.ma_button.setChecked(visible)
        for line in self.ma_lines:
            line.setVisible(visible)
        self.ma_legend.setVisible(visible and bool(self.ma_lines))
        if visible:
            self._update_indicators()

    def set_bollinger_visible(self, visible: bool) -> None:
        self.bb_button.setChecked(visible)
        for item in (self.bb_fill, self.bb_mid, self.bb_upper, self.bb_lower):
            item.setVisible(visible)
        if visible:
            self._update_indicators()

    def request_interval(self, interval: str) -> None:
        """Switch to daily / minute bars and ask for that history."""
        if interval == self.interval and len(self.series):
            return
        self._set_interval(interval)
        self.series.load(empty_bars())
        self._full_redraw()
        self.interval_changed.emit(interval)

    def show_last(self, bars: int) -> None:
        """Scroll so the last `bars` bars fill the view."""
        n = len(self.series)
        if not n:
            return
        self.price_plot.getViewBox().setXRange(max(-0.5, n - bars), n + 1.5, padding=0)
        self._fit_y()

    def flush(self) -> None:
        """Draw pending live updates (called by the redraw timer)."""
        self._redraw_timer.stop()
        if self._dirty_from is None:
            return
        start = self._dirty_from
        self._dirty_from = None
        self.candles.refresh(start)
        self.volumes.refresh(start)
        self._update_indicators()
        self._update_fill_markers()
        self._update_limits()
        self._fit_y()
        self._update_readout()

    # --- Reading ------------------------------------------------------------------------

    def readout_text(self, i: int) -> str:
        """The OHLCV line for bar `i` (rich text)."""
        s = self.series
        if not 0 <= i < len(s):
            return ""
        fmt = "%Y-%m-%d" if self.interval == DAY else "%Y-%m-%d %H:%M"
        prev = s.close[i - 1] if i > 0 else s.open[i]
        colour = (UP if s.close[i] > prev else DOWN if s.close[i] < prev else QColor("#222")).name()
        change = (s.close[i] - prev) / prev * 100 if prev else 0.0
        return (
            f"{s.time_at(i).strftime(fmt)} &nbsp;시 <b>{s.open[i]:,.0f}</b> "
            f"고 <b>{s.high[i]:,.0f}</b> 저 <b>{s.low[i]:,.0f}</b> "
            f"종 <b style='color:{colour}'>{s.close[i]:,.0f} ({change:+.2f}%)</b> "
            f"&nbsp;거래량 <b>{s.volume[i]:,.0f}</b>"
        )

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if (
            event is not None
            and event.type() == QEvent.Type.Leave
            and watched in (self.price_widget, self.volume_widget)
        ):
            self.hide_cross()
        return False

    def hide_cross(self) -> None:
        """Remove the crosshair; the readout shows the live (last) bar again."""
        self._cross_index = None
        for line in (self.cross_v, self.cross_h, self.cross_v_volume):
            line.hide()
        self._update_readout()

    def visible_range(self) -> tuple[float, float]:
        x0, x1 = self.price_plot.getViewBox().viewRange()[0]
        return float(x0), float(x1)

    # --- Internals ----------------------------------------------------------------------

    def _set_interval(self, interval: str) -> None:
        self.interval = interval
        self.time_axis.interval = interval
        self.volume_axis.interval = interval
        self.interval_buttons[interval].setChecked(True)
        self._update_title()

    def _update_title(self) -> None:
        name = getattr(self, "_name", "")
        label = f"<b>{name}</b> {self.code}" if self.code else "종목 없음"
        self.title.setText(f"{label} · {INTERVAL_LABELS[self.interval]}")

    def _full_redraw(self) -> None:
        self._dirty_from = None
        self.candles.refresh()
        self.volumes.refresh()
        self._update_indicators()
        self._update_fill_markers()
        self._update_limits()
        self.hide_cross()  # the bars changed under it; the readout shows the last one

    def _following(self) -> bool:
        """True when the view shows the live (last) bar, so new bars scroll into view."""
        n = len(self.series)
        if not n:
            return False
        x1 = self.visible_range()[1]
        return x1 >= n - 1.5

    def _update_limits(self) -> None:
        n = max(len(self.series), 1)
        self.price_plot.getViewBox().setLimits(xMin=-5, xMax=n + 20, minXRange=5)

    def _update_indicators(self) -> None:
        s = self.series
        n = len(s)
        x = np.arange(n, dtype=float)
        close = s.close
        if self.ma_button.isChecked():
            for period, line in zip(self.ma_periods, self.ma_lines):
                if n >= period:
                    line.setData(x, rolling_mean(close, period))
                else:
                    line.setData([], [])
        if self.bb_button.isChecked():
            period = self.settings.chart.bollinger_period
            if n >= period:
                mid = rolling_mean(close, period)
                std = rolling_std(close, period)
                k = self.settings.chart.bollinger_k
                start = period - 1  # the fill cannot span NaNs: draw from the first full window
                self.bb_mid.setData(x[start:], mid[start:])
                self.bb_upper.setData(x[start:], (mid + k * std)[start:])
                self.bb_lower.setData(x[start:], (mid - k * std)[start:])
            else:
                for line in (self.bb_mid, self.bb_upper, self.bb_lower):
                    line.setData([], [])

    def _update_fill_markers(self) -> None:
        spots = []
        for fill in self.fills:
            i = self.series.index_at(fill.time)
            if i is None:
                continue
            buy = fill.side == Side.BUY
            spots.append(
                {
                    "pos": (i, fill.price),
                    "symbol": "t1" if buy else "t",
                    "brush": pg.mkBrush(UP if buy else DOWN),
                    "pen": pg.mkPen("#ffffff", width=1),
                    "data": fill,
                }
            )
        self.fill_scatter.setData(spots)

    def _fit_y(self, *_args: object) -> None:
        """Fit the price and volume axes to the bars in view (x zoom / pan only)."""
        s = self.series
        n = len(s)
        if not n:
            return
        x0, x1 = self.visible_range()
        lo = max(0, int(math.floor(x0)))
        hi = min(n, int(math.ceil(x1)) + 1)
        if lo >= hi:
            return
        low = float(np.nanmin(s.low[lo:hi]))
        high = float(np.nanmax(s.high[lo:hi]))
        # Position lines close to the bars are brought into view; far ones (a +10 %
        # take-profit over a quiet minute chart) would squash the candles, so they are not.
        reach = max(high - low, high * 0.01) * LEVEL_REACH
        for line in self.level_lines.values():
            value = float(line.value())
            if line.isVisible() and low - reach <= value <= high + reach:
                low, high = min(low, value), max(high, value)
        pad = max((high - low) * 0.06, 1.0)
        self.price_plot.getViewBox().setYRange(low - pad, high + pad, padding=0)
        top = float(np.nanmax(s.volume[lo:hi])) or 1.0
        volume_view = self.volume_plot.getViewBox()
        shown = float(volume_view.viewRange()[1][1])
        # The live bar's volume grows with every tick batch; refitting on each would redraw
        # the volume axis ten times a second. Refit when the bars no longer fit, or fill
        # under half of the height.
        if not top * 1.02 <= shown <= top * 2.0:
            volume_view.setYRange(0, top * 1.25, padding=0)

    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        if not self.price_plot.sceneBoundingRect().contains(pos):
            return
        point = self.price_plot.getViewBox().mapSceneToView(pos)
        self._show_cross(point.x(), point.y())

    def _on_volume_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        if not self.volume_plot.sceneBoundingRect().contains(pos):
            return
        point = self.volume_plot.getViewBox().mapSceneToView(pos)
        self._show_cross(point.x(), None)

    def _show_cross(self, x: float, y: float | None) -> None:
        n = len(self.series)
        if not n:
            return
        i = min(max(int(round(x)), 0), n - 1)
        self.cross_v.setValue(i)
        self.cross_v_volume.setValue(i)
        self.cross_v.show()
        self.cross_v_volume.show()
        if y is not None:
            self.cross_h.setValue(y)
            self.cross_h.show()
        self._cross_index = i
        self._update_readout()

    def _update_readout(self) -> None:
        """The OHLCV line: the bar under the crosshair, else the live bar, whose close is
        the last trade (as in 주문 / 호가 / 잔고)."""
        n = len(self.series)
        i = self._cross_index if self._cross_index is not None else n - 1
        self.readout.setText(self.readout_text(min(i, n - 1)))


def _line_options(line: pg.PlotDataItem) -> None:
    line.setClipToView(True)
    line.setDownsampling(auto=True, method="peak")
    line.setZValue(10)
    line.opts["connect"] = "finite"


def _periods(texts: tuple[str, ...]) -> list[int]:
    out = []
    for text in texts:
        try:
            value = int(text)
        except ValueError:
            continue  # a typo in [chart] ma_periods drops that line, nothing else
        if value >= 2:
            out.append(value)
    return out[: len(MA_COLOURS)]
