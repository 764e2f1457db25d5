"""Offscreen screenshots of the dock and the tab with data in them: the pictures are not
blank and the text is drawn with a Hangul font. Set KT_SCREENSHOT_DIR to keep the PNGs."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from PyQt5.QtGui import QColor, QFontInfo, QImage
from PyQt5.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from kiwoom_terminal.backtest.synthetic import random_walk_bars
from kiwoom_terminal.scanner.signals import SignalBook
from kiwoom_terminal.scanner.watchlist import Watchlist
from kiwoom_terminal.settings import AppSettings
from tests.ui_strategy.test_backtest_tab import frame_opener
from ui.backtest_tab import BacktestTab
from ui.strategy_dock import StrategyDock
from ui.theme import KOREAN_FONT_FAMILIES


def shoot(widget: QWidget, name: str, tmp_path: Path) -> QImage:
    for _ in range(3):  # pyqtgraph sizes its axes on the first paint
        QApplication.processEvents()
        widget.grab()
    folder = Path(os.environ.get("KT_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    assert widget.grab().save(str(path))
    image = QImage(str(path))
    colours = {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 7)
        for y in range(0, image.height(), 7)
    }
    assert len(colours) > 10, name  # not a blank rectangle
    return image


def test_screenshots_render_hangul(qtbot: QtBot, tmp_path: Path) -> None:
    assert QFontInfo(QApplication.font()).family() in KOREAN_FONT_FAMILIES
    wl = Watchlist(None)
    for code in ("005930", "000660"):
        wl.add(code)
    dock = StrategyDock(wl, SignalBook(None, today=dt.date(2025, 10, 2)).table, enabled=["rsi"])
    qtbot.addWidget(dock)
    dock.resize(560, 420)
    dock.show()
    shoot(dock, "strategy_dock", tmp_path)

    bars = random_walk_bars(400, seed=8, interval="day", start="2023-06-01")
    tab = BacktestTab(
        AppSettings(), opener=frame_opener({"005930": bars}), today=lambda: dt.date(2024, 12, 31)
    )
    qtbot.addWidget(tab)
    tab.resize(1360, 800)
    tab.show()
    tab.codes_edit.setText("005930")
    tab.set_dates(dt.date(2023, 6, 1), dt.date(2024, 12, 31))
    with qtbot.waitSignal(tab.run_finished, timeout=30_000):
        tab.run()
    image = shoot(tab, "backtest_tab", tmp_path)
    red = QColor("#d3192c").name()
    assert any(
        image.pixelColor(x, y).name() == red
        for x in range(image.width() // 2, image.width())
        for y in range(0, image.height() // 2, 2)
    )  # the equity curve is drawn
