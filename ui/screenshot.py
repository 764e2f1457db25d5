"""`--screenshot PATH --quit-after SECONDS`: let the terminal run, save the window, quit.

Used by the tests (the run must exit 0 and write a PNG) and for the README's picture. On
the embedded simulator the run is a showcase: auto-trade is on with a buy condition that
fires within seconds, the simulator's clock runs faster so prices move and exits happen,
buys rest one tick under the best ask so 미체결 has rows for a while, and once the first
stock is bought the chart, order book and 주문 panel switch to it, so every dock has data
when the picture is taken. The user's settings file is not touched
(the showcase settings exist only in this process).

Without `--screenshot`, `--quit-after` just closes the window after that many seconds, the
same way as the user would (layout saved, engine shut down).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, QTimer
from PyQt5.QtWidgets import QApplication

from kiwoom_terminal.engine.engine import TradingEngine
from kiwoom_terminal.settings import AppSettings, replace_setting
from ui.main_window import MainWindow

log = logging.getLogger(__name__)

# The simulator's condition names (kiwoom_terminal/sim/conditions.py): one that many stocks
# meet soon after the open, so the showcase buys within seconds.
SHOWCASE_BUY_CONDITIONS = "당일 고가 근접,상승률 1% 이상"
SHOWCASE_SPEED = 6.0  # simulated seconds per second: prices move, stops and amends happen
SHOWCASE_SETTINGS = {
    "trading/buy_tick_offset": "-1",  # rest a tick under the ask: 미체결 shows the wait
    "amend/after_s": "6",  # then the amend timer moves them (정정 count in 미체결)
    "trading/max_positions": "6",
}
FALLBACK_CODE = "005930"  # shown when nothing was bought before half of the run


def showcase_settings(settings: AppSettings) -> AppSettings:
    """The user's settings with a buy condition (when none is set) and resting buys."""
    if not settings.trading.buy_conditions:
        settings = replace_setting(settings, "trading/buy_conditions", SHOWCASE_BUY_CONDITIONS)
    for key, raw in SHOWCASE_SETTINGS.items():
        settings = replace_setting(settings, key, raw)
    return settings


class ScreenshotRun(QObject):
    """Closes the window after `seconds`; with a `path`, first saves it as a PNG.

    `exit_code` is 0 when everything asked for was done, 1 when the picture could not be
    written.
    """

    def __init__(
        self,
        window: MainWindow,
        engine: TradingEngine,
        path: Path | None,
        seconds: float,
        sim_control: Any = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.engine = engine
        self.path = path
        self.seconds = seconds
        self.exit_code = 0
        self._started = time.monotonic()
        self._finish_timer = QTimer(self)
        self._finish_timer.setSingleShot(True)
        self._finish_timer.timeout.connect(self.finish)
        self._finish_timer.start(int(seconds * 1000))
        self._picker = QTimer(self)
        self._picker.timeout.connect(self._pick_stock)
        if path is not None:
            self._picker.start(250)
            if sim_control is not None:
                sim_control.set_speed(SHOWCASE_SPEED)

    def _pick_stock(self) -> None:
        """Show the first stock bought (a well-known one until then, from half-way)."""
        entry = self.window.order_entry
        holdings = self.engine.table("holdings")
        if len(holdings):
            code = str(holdings.index[0])
            if entry.select_stock(code, move_focus=False):
                entry.qty_spin.setValue(10)
                self._picker.stop()
        elif entry.stock is None and time.monotonic() - self._started > self.seconds / 2:
            entry.select_stock(FALLBACK_CODE, move_focus=False)

    def finish(self) -> None:
        self._picker.stop()
        if self.path is not None:
            self.exit_code = 0 if self.save(self.path) else 1
        self.window.close()

    def save(self, path: Path) -> bool:
        """Draw every pending change, grab the window and write it as PNG."""
        window = self.window
        window.flush_tables()
        window.chart.flush()
        QApplication.processEvents()
        path.parent.mkdir(parents=True, exist_ok=True)
        ok = bool(window.grab().save(str(path), "PNG"))
        if ok:
            log.info("화면을 저장했습니다: %s", path)
        else:
            log.error("화면을 저장하지 못했습니다: %s", path)
        return ok
