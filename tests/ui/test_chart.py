"""The chart: history, live current bar from tick summaries, indicators, markers, levels,
crosshair readout, zoom / pan and drawing only the visible bars."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyqtgraph as pg
import pytest
from PyQt5.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt5.QtGui import QColor, QMouseEvent, QWheelEvent
from PyQt5.QtWidgets import QApplication

from kiwoom_terminal.constants import Side
from kiwoom_terminal.settings import replace_setting
from ui.chart import ChartWidget
from ui.chart.items import BLOCK
from ui.theme import UP


def minute_bars(n: int = 390, start: str = "2025-03-04 09:00") -> pd.DataFrame:
    rng = np.random.default_rng(7)
    index = pd.date_range(start, periods=n, freq="min")
    close = 71_000 + np.cumsum(rng.normal(0, 50, n)).round(-2)
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + 100,
            "low": np.minimum(open_, close) - 100,
            "close": close,
            "volume": rng.integers(1_000, 9_000, n),
        },
        index=index,
    )


@pytest.fixture
def chart(qtbot, settings) -> ChartWidget:
    widget = ChartWidget(replace_setting(settings, "chart/show_bollinger", "true"))
    qtbot.addWidget(widget)
    widget.resize(900, 520)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_stock("005930", "삼성전자")
    widget.set_bars(minute_bars(), "minute")
    return widget


def test_history_loads_and_shows_the_last_bars(chart) -> None:
    assert len(chart.series) == 390
    assert chart.interval == "minute"
    x0, x1 = chart.visible_range()
    assert x1 >= 389 and x0 == pytest.approx(390 - 120, abs=1)  # [chart] visible_bars
    assert "삼성전자" in chart.title.text() and "1분봉" in chart.title.text()


def test_ticks_update_the_live_bar_then_start_the_next(chart) -> None:
    s = chart.series
    last_time = s.time_at(len(s) - 1)
    close = int(s.close[-1])
    cum = 2_000_000
    # Same minute: high / low from the batch, close = last, volume from cumulative volume.
    chart.apply_tick(
        close + 300, close + 500, close - 400, cum, last_time + dt.timedelta(seconds=20)
    )
    assert len(s) == 390
    assert s.close[-1] == close + 300
    assert s.high[-1] >= close + 500 and s.low[-1] <= close - 400
    first_volume = s.volume[-1]
    chart.apply_tick(
        close + 200, close + 200, close + 200, cum + 700, last_time + dt.timedelta(seconds=40)
    )
    assert s.volume[-1] == first_volume + 700
    # Next minute: a new bar whose volume counts from the previous cumulative volume.
    chart.apply_tick(
        close + 100, close + 100, close + 100, cum + 1_000, last_time + dt.timedelta(seconds=65)
    )
    assert len(s) == 391
    assert (s.open[-1], s.close[-1], s.volume[-1]) == (close + 100, close + 100, 300)
    # A late batch from an older minute is ignored.
    chart.apply_tick(1, 1, 1, 1, last_time)
    assert len(s) == 391 and s.low.min() > 1
    chart.flush()
    assert chart.visible_range()[1] >= 390  # the view followed the new bar


def test_daily_view_updates_today(qtbot, settings) -> None:
    widget = ChartWidget(settings)
    qtbot.addWidget(widget)
    days = pd.bdate_range(end="2025-03-04", periods=600)  # a few years of daily bars
    frame = pd.DataFrame(
        {"open": 100.0, "high": 110.0, "low": 90.0, "close": 105.0, "volume": 1_000.0}, index=days
    )
    widget.set_bars(frame, "day")
    widget.apply_tick(120, 120, 95, 5_000, dt.datetime(2025, 3, 4, 10, 0))
    assert len(widget.series) == 600
    assert (widget.series.high[-1], widget.series.close[-1]) == (120, 120)
    widget.apply_tick(100, 100, 100, 10, dt.datetime(2025, 3, 5, 9, 0))
    assert len(widget.series) == 601


def test_only_visible_bars_are_drawn_and_cached(chart) -> None:
    chart.grab()
    blocks = chart.candles.cached_blocks()
    x0, _x1 = chart.visible_range()
    assert blocks and blocks[0] == max(0, int(x0)) // BLOCK  # nothing left of the view
    assert blocks[-1] == 388 // BLOCK  # 390 bars: the last finished one is bar 388
    assert len(blocks) <= 3  # about 120 bars in view


def test_candles_follow_live_updates_and_new_bars(chart) -> None:
    """Cached blocks hold finished bars only: the live bar redraws on every update, and a
    new bar moves the old live one into its block."""
    s = chart.series
    n = len(s)
    chart.show_last(40)

    def pixel_colour(bar: int, price: float) -> QColor:
        image = chart.price_widget.grab().toImage()
        view = chart.price_plot.getViewBox()
        point = view.mapViewToScene(QPointF(bar, price))
        local = chart.price_widget.mapFromScene(point)
        return image.pixelColor(local.x(), local.y())

    top = float(s.high.max()) + 500
    last_time = s.time_at(n - 1)
    chart.apply_tick(top, top, float(s.low[n - 1]), 1, last_time)  # live bar jumps up
    chart.flush()
    chart.price_plot.getViewBox().setYRange(float(s.low.min()), top + 100, padding=0)
    assert pixel_colour(n - 1, top - 50).name() == UP.name()  # its wick/body is drawn there
    chart.apply_tick(top, top, top, 2, last_time + dt.timedelta(minutes=1))  # a new bar
    chart.flush()
    assert len(s) == n + 1
    chart.price_widget.grab()
    assert chart.candles.cached_blocks()[-1] == (n - 1) // BLOCK
    assert pixel_colour(n - 1, top - 50).name() == UP.name()  # now from its block


def test_moving_averages_and_bollinger_toggle(chart) -> None:
    ma5 = chart.ma_lines[0]
    _, y = ma5.getData()
    closes = chart.series.close
    assert y[-1] == pytest.approx(closes[-5:].mean())
    _, upper = chart.bb_upper.getData()
    _, lower = chart.bb_lower.getData()
    assert upper[-1] > closes[-20:].mean() > lower[-1]
    chart.bb_button.click()
    assert not chart.bb_upper.isVisible()
    chart.ma_button.click()
    assert not any(line.isVisible() for line in chart.ma_lines)
    chart.ma_button.click()
    assert all(line.isVisible() for line in chart.ma_lines)


def test_fill_markers_and_price_levels(chart) -> None:
    when = chart.series.time_at(300) + dt.timedelta(seconds=30)
    chart.add_fill(Side.BUY, 71_200, when)
    chart.add_fill(Side.SELL, 71_500, chart.series.time_at(350))
    points = chart.fill_scatter.points()
    assert [(p.pos().x(), p.pos().y(), p.symbol()) for p in points] == [
        (300, 71_200, "t1"),
        (350, 71_500, "t"),
    ]
    chart.set_levels(avg_price=71_000, stop_loss=68_870, take_profit=None, trailing_stop=72_000)
    lines = chart.level_lines
    assert lines["avg_price"].isVisible() and lines["avg_price"].value() == 71_000
    assert lines["stop_loss"].value() == 68_800  # the grid price where the stop fires
    assert not lines["take_profit"].isVisible()
    assert lines["trailing_stop"].label.toPlainText() == "트레일링 72,000 이하"


def test_level_labels_are_tick_prices_with_the_side_that_fires(chart) -> None:
    # As the exit rules give them: exact prices with a tolerance, off the KRX grid.
    chart.set_levels(
        avg_price=70_333.33,
        stop_loss=68_950.000001,
        take_profit=73_149.99,
        trailing_stop=49_990.4,
    )
    text = {name: line.label.toPlainText() for name, line in chart.level_lines.items()}
    assert text == {
        "avg_price": "평균단가 70,333",
        "stop_loss": "손절 68,900 이하",  # 100원 ticks: 68,950 is no price
        "take_profit": "익절 73,200 이상",
        "trailing_stop": "트레일링 49,950 이하",  # 50원 ticks below 50,000
    }
    assert chart.level_lines["take_profit"].value() == 73_200
    chart.set_stock("069500", "KODEX 200", etf=True)  # ETFs: a flat 5원 grid
    chart.set_levels(stop_loss=35_123.5, take_profit=36_001.2)
    assert chart.level_lines["stop_loss"].label.toPlainText() == "손절 35,120 이하"
    assert chart.level_lines["take_profit"].label.toPlainText() == "익절 36,005 이상"


def test_moving_averages_have_a_legend_in_their_colours(chart) -> None:
    legend = chart.ma_legend
    entries = chart.ma_legend_entries
    assert [text for text, _ in entries] == ["MA5", "MA20", "MA60"]  # [chart] ma_periods
    for (text, colour), line in zip(entries, chart.ma_lines):
        assert pg.mkColor(colour) == line.opts["pen"].color()
        assert f"color:{colour}; font-weight:bold'>{text}</span>" in legend.text
    assert legend.item.toPlainText().split() == ["MA5", "MA20", "MA60"]
    assert legend.isVisible()
    # backed, so a guide line through the top of the chart does not cross the text
    assert legend.autoFillBackground() and legend.palette().window().color().alpha() > 128
    # Levels at the top of the view (where the legend is) keep their labels legible, also
    # in the narrower chart of a 1366×768 laptop.
    top = float(chart.series.high[-120:].max())
    chart.set_levels(avg_price=top, take_profit=top, trailing_stop=top)
    for width in (900, 600):
        chart.resize(width, 520)
        QApplication.processEvents()
        box = legend.sceneBoundingRect()
        assert 0 < box.width() < 200
        for name in ("avg_price", "take_profit", "trailing_stop"):
            label = chart.level_lines[name].label.sceneBoundingRect()
            assert not box.intersects(label), (width, name)
    chart.ma_button.click()
    assert not legend.isVisible()
    chart.ma_button.click()
    assert legend.isVisible()


def test_crosshair_readout_shows_ohlcv(chart) -> None:
    i = 370
    view = chart.price_plot.getViewBox()
    scene_pos = view.mapViewToScene(QPointF(i, chart.series.close[i]))
    chart._on_mouse_moved((scene_pos,))
    text = chart.readout.text()
    assert chart.series.time_at(i).strftime("%H:%M") in text
    assert f"{chart.series.high[i]:,.0f}" in text
    assert f"거래량 <b>{chart.series.volume[i]:,.0f}</b>" in text
    assert chart.cross_v.value() == i


def test_readout_follows_the_live_bar_unless_the_crosshair_is_on_another(chart) -> None:
    s = chart.series
    last = len(s) - 1
    close = int(s.close[-1])
    assert f"{close:,.0f}" in chart.readout.text()
    live = close + 1_300  # a price no bar of the history closed at
    chart.apply_tick(live, live, live, 5_000_000, s.time_at(last) + dt.timedelta(seconds=30))
    chart.flush()
    text = chart.readout.text()
    assert f"종 <b style='color:{UP.name()}'>{live:,.0f} (" in text
    assert s.time_at(last).strftime("%H:%M") in text

    # With the crosshair on an older bar the readout stays on that bar while ticks arrive.
    i = 300
    chart._on_mouse_moved((chart.price_plot.getViewBox().mapViewToScene(QPointF(i, live)),))
    hovered = chart.readout_text(i)
    assert chart.readout.text() == hovered
    chart.apply_tick(live + 100, live + 100, live, 5_000_100, s.time_at(last))
    chart.flush()
    assert chart.readout.text() == hovered

    # The mouse leaves the chart: the crosshair goes and the readout shows the live bar.
    QApplication.sendEvent(chart.price_widget, QEvent(QEvent.Type.Leave))
    assert not chart.cross_v.isVisible()
    assert f"{live + 100:,.0f} (" in chart.readout.text()


def _mouse(viewport, kind: QEvent.Type, pos: QPoint, buttons) -> None:
    """QTest's mouseMove carries no buttons in Qt 5; a drag needs them, so send events."""
    event = QMouseEvent(
        kind,
        QPointF(pos),
        QPointF(viewport.mapToGlobal(pos)),
        Qt.MouseButton.LeftButton,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def test_wheel_zooms_and_drag_pans_x_only(qtbot, chart) -> None:
    viewport = chart.price_widget.viewport()
    before = chart.visible_range()
    y_before = chart.price_plot.getViewBox().viewRange()[1]
    centre = viewport.rect().center()
    wheel = QWheelEvent(
        QPointF(centre),
        QPointF(viewport.mapToGlobal(centre)),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    zoomed = chart.visible_range()
    assert zoomed[1] - zoomed[0] < before[1] - before[0]
    left = Qt.MouseButton.LeftButton
    _mouse(viewport, QEvent.Type.MouseButtonPress, centre, left)
    for dx in (10, 30, 60, 120):
        _mouse(viewport, QEvent.Type.MouseMove, centre + QPoint(dx, 0), left)
    _mouse(
        viewport, QEvent.Type.MouseButtonRelease, centre + QPoint(120, 0), Qt.MouseButton.NoButton
    )
    panned = chart.visible_range()
    assert panned[0] < zoomed[0] - 5  # dragging right shows older bars
    assert panned[1] - panned[0] == pytest.approx(zoomed[1] - zoomed[0], rel=0.01)
    # y is never dragged or wheeled; it is fitted to the bars in view.
    assert chart.price_plot.getViewBox().state["mouseEnabled"] == [True, False]
    lo, hi = max(0, int(panned[0])), int(panned[1]) + 1
    y0, y1 = chart.price_plot.getViewBox().viewRange()[1]
    assert y0 <= chart.series.low[lo:hi].min() and y1 >= chart.series.high[lo:hi].max()
    assert (y0, y1) != tuple(y_before)


def test_interval_button_asks_for_history(qtbot, chart) -> None:
    with qtbot.waitSignal(chart.interval_changed) as asked:
        chart.interval_buttons["day"].click()
    assert asked.args == ["day"]
    assert len(chart.series) == 0 and chart.interval == "day"


def test_bars_without_ohlcv_columns_are_refused(chart) -> None:
    with pytest.raises(ValueError, match="volume"):
        chart.set_bars(pd.DataFrame({"open": [1.0], "close": [1.0]}))


def test_volume_axis_refits_only_when_the_bars_outgrow_it(chart) -> None:
    """A live bar's growing volume does not refit (and redraw) the volume axis on every
    update, only when it no longer fits; and it always fits."""
    s = chart.series
    n = len(s)
    view = chart.volume_plot.getViewBox()
    peak = float(np.nanmax(s.volume[n - 120 :]))
    when = s.time_at(n - 1)
    price = float(s.close[n - 1])
    cum = 50_000_000

    def tick(cumulative: float) -> float:
        chart.apply_tick(price, price, price, int(cumulative), when)
        chart.flush()
        assert view.viewRange()[1][1] >= s.volume[n - 1]  # the live bar always fits
        return float(view.viewRange()[1][1])

    tick(cum)  # the day's volume so far: the bar's own volume is what comes after
    top = tick(cum + 2 * peak)  # now the largest bar in view: refit to it
    assert top >= s.volume[n - 1] > peak
    assert tick(cum + 2 * peak + 10) == top  # ten more shares: same range, no redraw
    assert tick(cum + 10 * peak) > top  # outgrown: refit
