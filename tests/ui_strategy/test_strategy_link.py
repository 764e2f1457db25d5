"""The 전략 and 백테스트 docks in the real window, wired to the real engine, workers and
simulator (ui/strategy_link.py): watchlist edits reach the scanner and its file, strategy
switches and parameters become saved settings, the signals table follows the engine, and a
backtest gets its bars from the running simulator through the engine — no second simulator.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PyQt5.QtCore import Qt

from kiwoom_terminal.constants import Side
from kiwoom_terminal.scanner.scanner import ScanResult
from kiwoom_terminal.scanner.signals import SignalData, SignalStatus
from kiwoom_terminal.settings import SettingsError
from kiwoom_terminal.settings_store import load_from_file
from tests.gui.conftest import DEADLINE_MS, gui_sim, launch_for, open_terminal
from ui.strategy_link import BACKTEST_DOCK, STRATEGY_DOCK, StrategyLink

__all__ = ["gui_sim", "open_terminal"]  # fixtures


def test_strategy_and_backtest_docks_work_against_the_engine(
    gui_sim: Any, open_terminal: Any, qtbot: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    def no_second_simulator(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the backtest must use the running simulator")

    monkeypatch.setattr("kiwoom_terminal.sim.launcher.start_simulator", no_second_simulator)
    launch = launch_for(
        gui_sim,
        tmp_path,
        scanner__enabled="true",
        scanner__strategies="sma_cross",
        scanner__check_ms="200",
        schedule__rules="",
    )
    terminal = open_terminal(launch)
    window, engine = terminal.window, terminal.engine
    runner = engine.strategy
    link = window.findChild(StrategyLink)
    assert link is not None
    panel = link.panel

    # Placed beside 조건식 / 차트, toggled from 보기.
    assert link.strategy_dock in window.tabifiedDockWidgets(window.docks["dock_conditions"])
    assert link.backtest_dock in window.tabifiedDockWidgets(window.docks["dock_chart"])
    toggles = {a.objectName() for a in window.ui.menu_view.actions()}
    assert {f"toggle_{STRATEGY_DOCK}", f"toggle_{BACKTEST_DOCK}"} <= toggles

    # Watchlist: typed in the dock → the runner's list, its file and the scanner.
    window.focus_dock(STRATEGY_DOCK)
    panel.add_edit.setText("삼성전자")
    qtbot.keyClick(panel.add_edit, Qt.Key.Key_Return)
    assert runner.watchlist.codes() == ["005930"] and runner.scanner.codes == ["005930"]
    assert "005930" in (launch.data_dir / "watchlist.json").read_text(encoding="utf-8")

    # Strategy switches and parameters → validated, applied, saved settings.
    item = panel._item("rsi")
    item.setCheckState(Qt.CheckState.Checked)
    assert engine.settings.scanner.strategies == ("sma_cross", "rsi")
    assert set(runner.scanner.strategies) == {"sma_cross", "rsi"}
    panel.select_strategy("sma_cross")
    panel.param_form.edit("fast").setText("4")
    panel.param_form.edit("slow").setText("12")
    assert panel.apply_params()
    assert runner.scanner.strategies["sma_cross"].values == {"fast": 4, "slow": 12}
    saved = load_from_file(launch.settings_path)
    assert saved.scanner.strategies == ("sma_cross", "rsi")
    assert "sma_cross fast=4 slow=12" in saved.scanner.strategy_params

    # Bad values are refused with the key and the reason; nothing changes.
    with pytest.raises(SettingsError, match="규칙 1: 'mon 9h05 sell_all'"):
        terminal.call(engine.update_setting, "schedule/rules", "mon 9h05 sell_all")
    with pytest.raises(SettingsError, match="slow"):
        terminal.call(runner.set_strategy_params, "sma_cross", {"fast": 20, "slow": 10})
    assert runner.scanner.strategies["sma_cross"].values == {"fast": 4, "slow": 12}
    assert engine.settings.schedule.rules == ()

    # The signals table follows the engine's table_changed("signals").
    now = runner.market_now()
    signal = SignalData(
        runner.day, now.replace(second=0, microsecond=0), now, "000660", "SK하이닉스",
        "sma_cross", "sma_cross(fast=4, slow=12)", Side.BUY, 182_000,
    )  # fmt: skip
    # The engine runs in a thread of its own: act on it there, as the window does.
    assert terminal.call(runner.book.add, signal)
    terminal.call(runner.apply_result, ScanResult("000660", 1, (signal,)))
    model = panel.signals_view.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=DEADLINE_MS)
    terminal.call(
        runner._mark, signal.signal_id, SignalStatus.SKIPPED, "자동매매가 꺼져 있어 매수하지 않음"
    )
    column = [c.key for c in model.columns].index("status")
    qtbot.waitUntil(lambda: model.index(0, column).data() == "건너뜀", timeout=DEADLINE_MS)

    # A backtest over today's minute bars of the running simulator, through the engine.
    control = gui_sim.control
    before = control.requests().get("ka10080", 0)
    tab = link.backtest
    tab.select_strategy("sma_cross")
    tab.codes_edit.setText("005930")
    tab.set_interval("1")
    day: dt.date = runner.day
    tab.set_dates(day, day)
    with qtbot.waitSignal(tab.run_finished, timeout=DEADLINE_MS) as finished:
        assert tab.run()
    result = finished.args[0]
    assert len(result.equity) > 10  # the simulator's session so far
    assert pd_day(result.equity.index[-1]) == day
    assert runner.bars.requests == 1
    assert control.requests().get("ka10080", 0) > before


def pd_day(stamp: Any) -> dt.date:
    return stamp.to_pydatetime().date()
