"""Settings edited in the window and the window's layout survive closing the terminal and
starting it again (a new engine and window from the same files, as `python main.py` does);
bad values are explained next to their field and change nothing."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication

from kiwoom_terminal.messages import WorkerKind
from kiwoom_terminal.settings_store import load_from_file
from tests.gui.conftest import DEADLINE_MS, launch_for, press, type_text


def edit(qtbot, window, key: str, text: str) -> None:
    """Go to a settings field, replace its text, Enter (as the keyboard would)."""
    window.focus_dock("dock_settings")
    editor = window.settings_panel.editors[key]
    editor.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor, timeout=DEADLINE_MS)
    editor.selectAll()
    type_text(qtbot, text)
    press(qtbot, Qt.Key.Key_Return)


def test_settings_and_layout_survive_a_restart(gui_sim, open_terminal, qtbot, tmp_path) -> None:
    launch = launch_for(gui_sim, tmp_path)
    first = open_terminal(launch)
    window, engine = first.window, first.engine
    panel = window.settings_panel

    edit(qtbot, window, "trading/stop_loss_pct", "-2.5")
    assert engine.settings.trading.stop_loss_pct == -2.5
    assert load_from_file(launch.settings_path).trading.stop_loss_pct == -2.5
    assert panel.error_text("trading/stop_loss_pct") == ""

    edit(qtbot, window, "trading/profit_protect_floor_pct", "5")  # above its trigger (2 %)
    assert "시작 수익률" in panel.error_text("trading/profit_protect_floor_pct")
    assert engine.settings.trading.profit_protect_floor_pct == 0.5
    # The engine's own check (the last word) is shown the same way.
    first.link.update_setting("trading/trailing_drop_pct", "0")
    assert panel.error_text("trading/trailing_drop_pct")
    assert engine.settings.trading.trailing_drop_pct == 1.5

    window.resize(1400, 860)
    window.docks["dock_log"].close()
    window.removeDockWidget(window.docks["dock_orderbook"])
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.docks["dock_orderbook"])
    window.docks["dock_orderbook"].show()
    window.views["open_orders"].table.horizontalHeader().resizeSection(4, 151)
    first.close()
    assert not any(engine.supervisor.is_alive(kind) for kind in WorkerKind)  # no orphans

    second = open_terminal(launch_for(gui_sim, tmp_path))
    window2 = second.window
    assert second.engine.settings.trading.stop_loss_pct == -2.5
    assert window2.settings_panel.editors["trading/stop_loss_pct"].value() == -2.5
    assert second.engine.settings.trading.profit_protect_floor_pct == 0.5
    assert (window2.width(), window2.height()) == (1400, 860)
    assert not window2.docks["dock_log"].isVisible()
    assert (
        window2.dockWidgetArea(window2.docks["dock_orderbook"])
        == Qt.DockWidgetArea.RightDockWidgetArea
    )
    assert window2.views["open_orders"].table.horizontalHeader().sectionSize(4) == 151
