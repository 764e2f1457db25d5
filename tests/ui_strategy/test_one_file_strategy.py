"""A strategy added as one file appears in the 전략 dock (switch and generated parameter
editors) and in the 백테스트 tab's strategy list, with no GUI code changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PyQt5.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiwoom_terminal.scanner.signals import SignalBook
from kiwoom_terminal.scanner.watchlist import Watchlist
from kiwoom_terminal.settings import AppSettings
from tests.strategies.plugin import one_file_strategy
from ui.backtest_tab import BacktestTab
from ui.strategy_dock import StrategyDock


def test_the_dock_and_the_backtest_tab_list_a_one_file_strategy(
    qtbot: QtBot, tmp_path: Path
) -> None:
    with one_file_strategy(tmp_path) as name:
        book = SignalBook(None, today=dt.date(2025, 10, 2))
        dock = StrategyDock(Watchlist(None), book.table, enabled=[], params={})
        qtbot.addWidget(dock)
        dock.select_strategy(name)
        assert dock.param_form.title.text() == f"시험 전략 ({name})"
        edit = dock.param_form.findChild(type(dock.add_edit), "param_n")
        assert edit is not None and edit.text() == "3"
        edit.setText("5")
        with qtbot.waitSignal(dock.params_changed) as applied:
            assert dock.apply_params()
        assert applied.args == [name, {"n": 5}]
        item = dock.strategy_list.currentItem()
        with qtbot.waitSignal(dock.strategy_toggled) as toggled:
            item.setCheckState(Qt.CheckState.Checked)
        assert toggled.args == [name, True]

        tab = BacktestTab(AppSettings())
        qtbot.addWidget(tab)
        index = tab.strategy_combo.findData(name)
        assert tab.strategy_combo.itemText(index) == f"시험 전략 ({name})"
        tab.select_strategy(name)
        strategy = tab.param_form.strategy()
        assert strategy is not None and strategy.describe() == f"{name}(n=3)"
