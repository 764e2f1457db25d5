"""The whole window — every dock, the 전략 and 백테스트 panels included — fits a common
1366×768 laptop screen, and 기본 배치로 복원 puts the strategy docks back in their tabs.

Regression: the backtest form asked for 613×531, and tabbed into the chart column it made
the window at least 1207×894, taller than the screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt5.QtWidgets import QApplication

from kiwoom_terminal.constants import Mode
from kiwoom_terminal.secrets import Credentials
from kiwoom_terminal.settings import AppSettings
from kiwoom_terminal.workers.config import WorkerConfig
from ui.app import build_terminal

# 1366×768 less a taskbar and the window frame.
USABLE_WIDTH, USABLE_HEIGHT = 1366, 700


def test_full_window_fits_a_laptop_screen_and_resets_strategy_docks(
    qtbot: Any, tmp_path: Path
) -> None:
    config = WorkerConfig(
        Mode.SIM, "http://127.0.0.1:9", "ws://127.0.0.1:9", Credentials("k" * 8, "s" * 8)
    )
    terminal = build_terminal(
        AppSettings(), config, tmp_path, settings_path=None, state_path=tmp_path / "window.ini"
    )
    window = terminal.window
    try:
        window.show()
        qtbot.waitExposed(window)
        hint = window.minimumSizeHint()
        assert hint.width() <= USABLE_WIDTH and hint.height() <= USABLE_HEIGHT, hint
        window.resize(USABLE_WIDTH, USABLE_HEIGHT)
        QApplication.processEvents()
        assert (window.width(), window.height()) == (USABLE_WIDTH, USABLE_HEIGHT)

        for name in ("dock_strategy", "dock_backtest"):
            window.docks[name].setFloating(True)
        window.reset_layout()
        QApplication.processEvents()
        assert not window.docks["dock_strategy"].isFloating()
        assert window.docks["dock_backtest"] in window.tabifiedDockWidgets(
            window.docks["dock_chart"]
        )
        assert window.docks["dock_strategy"] in window.tabifiedDockWidgets(
            window.docks["dock_conditions"]
        )
    finally:
        terminal.close()
