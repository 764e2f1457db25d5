"""The main window shell: docks, keys, dialogs, signals out, and the window state saved on
close and restored at the next start."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication, QDockWidget, QLabel, QSplitter, QTabBar

from kiwoom_terminal.constants import Mode, OrderType, Side
from kiwoom_terminal.engine import tables
from kiwoom_terminal.objects import OrderRequest
from kiwoom_terminal.settings import AppSettings, replace_setting
from kiwoom_terminal.settings_store import open_qsettings
from tests.ui.frames import Tables, holding, open_order, tracking
from ui.columns import HOLDINGS_COLUMNS
from ui.dialogs import CloseConfirmDialog, EmergencyDialog, KeyHelpDialog
from ui.main_window import DEFAULT_SIZE, LAYOUT_VERSION, MainWindow

DOCKS = {
    "dock_order_entry": "주문",
    "dock_orderbook": "호가",
    "dock_chart": "차트",
    "dock_holdings": "잔고",
    "dock_tracking": "실시간 추적",
    "dock_open_orders": "미체결",
    "dock_fills": "체결",
    "dock_conditions": "조건식",
    "dock_settings": "자동매매 설정",
    "dock_log": "로그",
}


def open_window(qtbot, settings: AppSettings, state_path: Path, stocks=(), data=None) -> MainWindow:
    window = MainWindow(settings, state_path, table_source=data or Tables(), stocks=stocks)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def press(qtbot, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    target = QApplication.focusWidget() or QApplication.activeWindow()
    qtbot.keyClick(target, key, modifier)


def test_window_boots_with_every_dock(qtbot, settings, state_path) -> None:
    window = open_window(qtbot, settings, state_path)
    docks = {d.objectName(): d for d in window.findChildren(QDockWidget)}
    assert {name: d.windowTitle() for name, d in docks.items()} == DOCKS
    assert all(d.widget() is not None for d in docks.values())
    assert all(d.isVisible() for d in docks.values())  # tabbed ones too (a tab each)
    assert docks["dock_chart"].widget() is window.chart
    assert docks["dock_open_orders"].widget() is window.open_orders
    menus = [a.text() for a in window.ui.menubar.actions()]
    assert menus == ["파일(&F)", "보기(&V)", "자동매매(&A)", "도움말(&H)"]
    assert window.statusBar() is window.status_bar
    window.set_mode(Mode.REAL)
    assert "실거래" in window.windowTitle()
    assert window.status_bar.mode_label.property("mode") == "real"


def test_f1_lists_the_configured_keys(qtbot, settings, state_path) -> None:
    custom = replace_setting(settings, "keys/side_buy", "Ctrl+B")
    window = open_window(qtbot, custom, state_path)
    press(qtbot, Qt.Key.Key_F1)
    dialogs = window.findChildren(KeyHelpDialog)
    assert len(dialogs) == 1
    shown = dialogs[0].shown_keys()
    assert shown["매수 선택"] == "Ctrl+B"
    assert shown["주문 전송 (주문 창 안에서)"] == "Enter"
    assert (
        shown["비상 정리: 자동매매 끄기, 전부 취소, 보유 전량 시장가 매도 (확인 후)"]
        == "Ctrl+Shift+F12"
    )
    assert len(shown) == len(window.keymap.bindings)


def test_bad_keys_are_reported_and_left_unbound(qtbot, settings, state_path) -> None:
    bad = replace_setting(settings, "keys/side_sell", "Ctrl+Nope")
    bad = replace_setting(bad, "keys/cancel_all", "F7")  # already the buy key
    bad = replace_setting(bad, "keys/auto_trade", "Return")  # would swallow Enter in 주문
    window = open_window(qtbot, bad, state_path)
    problems = window.keymap.problems
    assert any("side_sell" in p and "알 수 없는 단축키" in p for p in problems)
    assert any("cancel_all" in p and "이미 side_buy" in p for p in problems)
    assert any("auto_trade" in p and "이미 send_order" in p for p in problems)
    assert window.log_view.model.rowCount() == 3
    assert window.ui.action_cancel_all.shortcut().isEmpty()


def test_layout_is_saved_on_close_and_restored_at_start(qtbot, settings, state_path) -> None:
    first = open_window(qtbot, settings, state_path)
    first.resize(1300, 820)
    first.docks["dock_log"].close()
    first.removeDockWidget(first.docks["dock_orderbook"])
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, first.docks["dock_orderbook"])
    first.docks["dock_orderbook"].show()
    header = first.views[tables.HOLDINGS.name].table.horizontalHeader()
    header.resizeSection(1, 177)
    first.chart.splitter.setSizes([300, 200])
    sizes = first.chart.splitter.sizes()
    first.close()
    assert state_path.exists()

    second = open_window(qtbot, settings, state_path)
    assert (second.width(), second.height()) == (1300, 820)
    assert not second.docks["dock_log"].isVisible()
    assert (
        second.dockWidgetArea(second.docks["dock_orderbook"])
        == Qt.DockWidgetArea.RightDockWidgetArea
    )
    assert second.views[tables.HOLDINGS.name].table.horizontalHeader().sectionSize(1) == 177
    assert second.chart.splitter.sizes() == sizes

    second.ui.action_reset_layout.trigger()
    assert second.docks["dock_log"].isVisible()
    assert (
        second.dockWidgetArea(second.docks["dock_orderbook"])
        == Qt.DockWidgetArea.LeftDockWidgetArea
    )
    assert (
        second.views[tables.HOLDINGS.name].table.horizontalHeader().sectionSize(1)
        == HOLDINGS_COLUMNS[1].width
    )
    assert "기본 배치" in second.status_bar.notice()


def _shown_columns(view) -> list[str]:
    """Headers of the columns wholly inside the table's viewport, left to right."""
    table = view.table
    header = table.horizontalHeader()
    width = table.viewport().width()
    shown = []
    for logical in range(header.count()):
        x = header.sectionViewportPosition(logical)
        if (
            not header.isSectionHidden(logical)
            and x >= 0
            and x + header.sectionSize(logical) <= width
        ):
            shown.append(str(view.model.headerData(logical, Qt.Orientation.Horizontal)))
    return shown


@pytest.mark.parametrize("size", [DEFAULT_SIZE, (1366, 700)], ids=["default", "laptop"])
def test_pnl_and_return_are_in_view_without_scrolling(qtbot, settings, state_path, size) -> None:
    data = Tables()
    codes = [f"{i:06d}" for i in range(1, 16)]  # enough rows for a vertical scroll bar
    data.set(tables.HOLDINGS, [holding(c, "에코프로비엠", 10, 70_000, 71_000) for c in codes])
    data.set(tables.TRACKING, [tracking(c, "에코프로비엠", 71_000, 70_000) for c in codes])
    window = open_window(qtbot, settings, state_path, data=data)
    assert (window.width(), window.height()) == DEFAULT_SIZE  # nothing saved: built-in size
    window.resize(*size)
    for name in (tables.HOLDINGS.name, tables.TRACKING.name):
        window.on_table_changed(name, [])
    window.flush_tables()
    QApplication.processEvents()
    holdings = _shown_columns(window.views[tables.HOLDINGS.name])
    assert holdings[:5] == ["종목코드", "종목명", "현재가", "평가손익", "수익률"]
    assert _shown_columns(window.views[tables.TRACKING.name])[:5] == [
        "종목코드",
        "종목명",
        "현재가",
        "수익률",
        "트레일링",
    ]


def test_header_state_of_other_columns_is_not_applied(qtbot, settings, state_path) -> None:
    first = open_window(qtbot, settings, state_path)
    first.views[tables.HOLDINGS.name].table.horizontalHeader().resizeSection(3, 150)
    first.close()
    qs = open_qsettings(state_path)
    assert qs.value("window/header_columns/holdings") == ",".join(
        spec.key for spec in HOLDINGS_COLUMNS
    )
    qs.setValue("window/header_columns/holdings", "code,name,quantity")  # an older release's
    qs.sync()
    second = open_window(qtbot, settings, state_path)
    header = second.views[tables.HOLDINGS.name].table.horizontalHeader()
    assert header.sectionSize(3) == HOLDINGS_COLUMNS[3].width


def test_an_old_layout_version_is_ignored(qtbot, settings, state_path) -> None:
    window = open_window(qtbot, settings, state_path)
    window.docks["dock_log"].close()
    window.close()
    qs = open_qsettings(state_path)
    qs.setValue("window/layout_version", LAYOUT_VERSION + 1)
    qs.sync()
    again = open_window(qtbot, settings, state_path)
    assert again.docks["dock_log"].isVisible()  # built-in layout, not the saved one


def test_nothing_is_saved_before_the_layout_was_restored(qtbot, settings, state_path) -> None:
    window = open_window(qtbot, settings, state_path)
    window._restored = False  # as if the restore had not run (e.g. it failed half-way)
    assert window.save_layout() is False
    assert not state_path.exists()
    window._restored = True
    assert window.save_layout() is True
    assert state_path.exists()


def test_emergency_key_asks_first_and_enter_cancels(qtbot, settings, state_path) -> None:
    data = Tables()
    data.set(tables.HOLDINGS, [holding("005930", "삼성전자", 10, 70_000, 71_000)])
    window = open_window(qtbot, settings, state_path, data=data)
    fired: list[bool] = []
    window.emergency_requested.connect(lambda: fired.append(True))

    def open_dialog() -> EmergencyDialog:
        window.activateWindow()  # the offscreen platform has no window manager to do it
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        press(
            qtbot,
            Qt.Key.Key_F12,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), EmergencyDialog))
        active = QApplication.activeWindow()
        assert isinstance(active, EmergencyDialog)
        return active

    def closed() -> None:
        qtbot.waitUntil(
            lambda: not any(d.isVisible() for d in window.findChildren(EmergencyDialog))
        )

    dialog = open_dialog()
    assert "보유 종목 <b>1개</b>" in dialog.text.text()
    # 취소 is the default and has the focus; the execute button shows its own key.
    assert dialog.cancel_button.isDefault() and dialog.cancel_button.hasFocus()
    assert not dialog.confirm_button.isDefault() and not dialog.confirm_button.autoDefault()
    assert dialog.confirm_button.text() == "비상 정리 실행 (Alt+Y)"
    press(qtbot, Qt.Key.Key_Escape)
    closed()
    assert fired == []

    # The habitual Enter (the order-send key) cancels instead of selling everything.
    dialog = open_dialog()
    press(qtbot, Qt.Key.Key_Return)
    closed()
    assert dialog.result() == EmergencyDialog.DialogCode.Rejected
    assert fired == []

    # Even with the execute button focused by Tab, Enter does not run it.
    dialog = open_dialog()
    dialog.confirm_button.setFocus(Qt.FocusReason.TabFocusReason)
    press(qtbot, Qt.Key.Key_Enter)
    closed()
    assert fired == []

    # Alt+Y is the deliberate confirmation.
    open_dialog()
    press(qtbot, Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: fired == [True])
    closed()


def test_emergency_runs_on_a_click_of_the_execute_button(qtbot, settings, state_path) -> None:
    window = open_window(qtbot, settings, state_path)
    fired: list[bool] = []
    window.emergency_requested.connect(lambda: fired.append(True))
    dialog = window.ask_emergency()
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert fired == [True]


def test_cancel_keys_work_from_anywhere_in_the_window(qtbot, settings, state_path, stocks) -> None:
    data = Tables()
    data.set(
        tables.OPEN_ORDERS,
        [
            open_order("0000123", "035720", "카카오", "buy", 41_000, 50),
            open_order("0000124", "000660", "SK하이닉스", "sell", 184_000, 20),
        ],
    )
    window = open_window(qtbot, settings, state_path, stocks=stocks, data=data)
    window.on_table_changed(tables.OPEN_ORDERS.name, [])
    window.flush_tables()
    cancels: list[str] = []
    cancel_all: list[bool] = []
    window.cancel_requested.connect(cancels.append)
    window.cancel_all_requested.connect(lambda: cancel_all.append(True))

    window.order_entry.focus_stock()
    press(qtbot, Qt.Key.Key_F9)  # nothing selected yet
    assert cancels == []
    assert "취소할 미체결 주문을 선택하세요 (Ctrl+3" in window.status_bar.notice()
    press(qtbot, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # go to 미체결
    assert QApplication.focusWidget() is window.open_orders.table
    press(qtbot, Qt.Key.Key_Down)
    window.order_entry.focus_stock()  # the selection stays when focus moves away
    press(qtbot, Qt.Key.Key_F9)
    assert cancels == ["0000124"]
    press(qtbot, Qt.Key.Key_F9, Qt.KeyboardModifier.ShiftModifier)
    assert cancel_all == [True]


def test_auto_trade_button_and_key(qtbot, settings, state_path) -> None:
    window = open_window(qtbot, settings, state_path)
    asked: list[bool] = []
    window.auto_trade_requested.connect(asked.append)
    press(
        qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert asked == [True]
    assert window.ui.action_auto_trade.text() == "자동매매 ON"
    assert window.status_bar.auto_trade_label.text() == "자동매매 ON"
    window.set_auto_trade_state(False)  # the engine said no (e.g. not connected)
    assert asked == [True]
    assert not window.ui.action_auto_trade.isChecked()
    assert window.ui.action_auto_trade.text() == "자동매매 OFF"


def test_selecting_a_stock_feeds_the_book_and_chart_and_book_clicks_fill_the_price(
    qtbot, settings, state_path, stocks
) -> None:
    data = Tables()
    data.set(tables.HOLDINGS, [holding("000660", "SK하이닉스", 20, 185_000, 182_000)])
    window = open_window(qtbot, settings, state_path, stocks=stocks, data=data)
    window.on_table_changed(tables.HOLDINGS.name, [])
    window.flush_tables()
    selected: list[str] = []
    bars: list[tuple[str, str]] = []
    window.stock_selected.connect(selected.append)
    window.bars_requested.connect(lambda c, i: bars.append((c, i)))
    holdings = window.views[tables.HOLDINGS.name]
    holdings.row_activated.emit("000660")  # Enter / double-click on the 잔고 row
    assert selected == ["000660"]
    assert bars == [("000660", "day")]
    assert window.orderbook.code == "000660" and window.chart.code == "000660"
    assert window.order_entry.stock_edit.text() == "000660 SK하이닉스"
    window.orderbook.price_clicked.emit(181_500)
    assert window.order_entry.price_spin.value() == 181_500
    window.chart.interval_buttons["minute"].click()
    assert bars[-1] == ("000660", "minute")


def test_a_buy_with_keys_only_from_anywhere_in_the_window(
    qtbot, settings, state_path, stocks
) -> None:
    window = open_window(qtbot, settings, state_path, stocks=stocks)
    orders: list[object] = []
    window.order_requested.connect(orders.append)
    press(qtbot, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # start in 잔고
    assert QApplication.focusWidget() is window.views[tables.HOLDINGS.name].table
    press(qtbot, Qt.Key.Key_F2)
    qtbot.keyClicks(window.order_entry.stock_edit, "035420")
    press(qtbot, Qt.Key.Key_Return)
    press(qtbot, Qt.Key.Key_Up)  # 49,950 -> 50,000 on the grid
    press(qtbot, Qt.Key.Key_F4)
    qtbot.keyClicks(window.order_entry.qty_spin, "3")
    press(qtbot, Qt.Key.Key_F7)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.order_entry.confirm_dialog is not None)
    dialog = window.order_entry.confirm_dialog
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    press(qtbot, Qt.Key.Key_Return)
    assert orders == [OrderRequest("035420", Side.BUY, 3, 50_000, OrderType.LIMIT)]
    assert window.orderbook.code == "035420" and window.chart.code == "035420"


def test_engine_refusals_are_shown(qtbot, settings, state_path) -> None:
    window = open_window(qtbot, settings, state_path)
    window.show_order_rejected("장 운영 시간이 아닙니다")
    assert window.status_bar.notice() == "장 운영 시간이 아닙니다"
    assert window.order_entry.message_label.text() == "장 운영 시간이 아닙니다"
    window.show_notice("웹소켓 연결이 끊겼습니다. 다시 연결하는 중입니다")
    assert window.status_bar.notice().startswith("웹소켓 연결이 끊겼습니다")
    assert window.log_view.model.rowCount() == 1
    window.show_setting_error("risk/max_order_value", "엔진이 거부했습니다")
    assert window.settings_panel.error_text("risk/max_order_value") == "엔진이 거부했습니다"


def test_a_dock_added_later_joins_the_layout(qtbot, settings, state_path) -> None:
    """Other features add their panels with `add_dock`: tabbed where asked, a toggle in 보기,
    its place saved and restored, and back in the built-in layout on 기본 배치로 복원."""
    from PyQt5.QtWidgets import QLabel

    def extra_dock(window: MainWindow) -> QDockWidget:
        dock = QDockWidget("전략", window)
        dock.setObjectName("dock_extra")
        dock.setWidget(QLabel("전략 패널"))
        window.add_dock(dock, tabify_with="dock_conditions")
        return dock

    first = MainWindow(settings, state_path)
    qtbot.addWidget(first)
    dock = extra_dock(first)
    first.show()
    qtbot.waitExposed(first)
    assert first.docks["dock_extra"] is dock
    assert dock in first.tabifiedDockWidgets(first.docks["dock_conditions"])
    assert any(a.objectName() == "toggle_dock_extra" for a in first.ui.menu_view.actions())
    first.removeDockWidget(dock)
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)  # the user moves it
    dock.show()
    first.close()

    second = MainWindow(settings, state_path)
    qtbot.addWidget(second)
    moved = extra_dock(second)
    second.show()
    qtbot.waitExposed(second)
    assert second.dockWidgetArea(moved) == Qt.DockWidgetArea.RightDockWidgetArea
    assert moved not in second.tabifiedDockWidgets(second.docks["dock_conditions"])
    second.reset_layout()
    assert moved in second.tabifiedDockWidgets(second.docks["dock_conditions"])
    assert second.dockWidgetArea(moved) == second.dockWidgetArea(second.docks["dock_conditions"])
    with pytest.raises(ValueError, match="dock_extra"):
        extra_dock(second)


def test_closing_asks_first_while_auto_trade_is_on_or_orders_are_open(
    qtbot, settings, state_path
) -> None:
    data = Tables()
    data.set(tables.OPEN_ORDERS, [open_order("0000012", "005930", "삼성전자", "buy", 70_000, 5)])
    window = open_window(qtbot, settings, state_path, data=data)
    window.set_auto_trade_state(True)
    closing: list[bool] = []  # what stops a running backtest (ui/strategy_link.py)
    window.closing.connect(lambda: closing.append(True))

    def dialog() -> CloseConfirmDialog:
        qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), CloseConfirmDialog))
        active = QApplication.activeWindow()
        assert isinstance(active, CloseConfirmDialog)
        return active

    window.ui.action_quit.trigger()  # 파일 → 종료
    text = dialog().text.text()
    assert "자동매매가 <b>켜져 있습니다</b>" in text and "미체결 주문 <b>1건</b>" in text
    press(qtbot, Qt.Key.Key_Escape)  # 계속 실행
    qtbot.waitUntil(lambda: not any(d.isVisible() for d in window.findChildren(CloseConfirmDialog)))
    assert window.isVisible() and not state_path.exists()  # not closed, layout not saved
    assert closing == []  # the user stayed: nothing was shut down

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.ui.action_quit.trigger()
    dialog()
    press(qtbot, Qt.Key.Key_Return)  # 종료
    qtbot.waitUntil(lambda: not window.isVisible())
    assert state_path.exists()  # closed the normal way: layout saved
    assert closing == [True]


def test_closing_an_idle_window_or_closing_from_code_does_not_ask(
    qtbot, settings, state_path
) -> None:
    window = open_window(qtbot, settings, state_path)
    window.ui.action_quit.trigger()  # nothing running: no question
    qtbot.waitUntil(lambda: not window.isVisible())
    busy = open_window(qtbot, settings, state_path)
    busy.set_auto_trade_state(True)
    busy.close()  # the program's own close (shutdown, tests) never blocks on a dialog
    assert not busy.isVisible()
    assert not busy.findChildren(CloseConfirmDialog)


def test_splitters_inside_added_docks_are_saved_and_reset(qtbot, settings, state_path) -> None:
    """The 백테스트 and 전략 docks come from elsewhere (`add_dock`, before the window is
    shown); a named splitter in them keeps the user's position across a restart, and
    기본 배치로 복원 resets it."""

    def window_with_splitter() -> tuple[MainWindow, QSplitter]:
        window = MainWindow(settings, state_path, table_source=Tables())
        qtbot.addWidget(window)
        dock = QDockWidget("분할 시험", window)
        dock.setObjectName("dock_test_split")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("test_split")
        split.addWidget(QLabel("왼쪽"))
        split.addWidget(QLabel("오른쪽"))
        split.setSizes([100, 300])
        dock.setWidget(split)
        window.add_dock(dock, tabify_with="dock_chart")
        window.show()
        qtbot.waitExposed(window)
        (bar,) = [b for b in window.findChildren(QTabBar) if "분할 시험" in _tabs(b)]
        bar.setCurrentIndex(_tabs(bar).index("분할 시험"))  # as a click on its tab
        qtbot.waitUntil(lambda: split.isVisible() and sum(split.sizes()) > 400)
        return window, split

    def left_share(split: QSplitter) -> float:
        sizes = split.sizes()
        return sizes[0] / sum(sizes)

    first, split = window_with_splitter()
    assert left_share(split) == pytest.approx(0.25, abs=0.02)  # as built
    split.setSizes([3 * sum(split.sizes()) // 4, sum(split.sizes()) // 4])
    first.close()

    second, again = window_with_splitter()
    assert left_share(again) == pytest.approx(0.75, abs=0.02)  # the user's split is back
    second.ui.action_reset_layout.trigger()
    assert left_share(again) == pytest.approx(0.25, abs=0.02)


def _tabs(bar: QTabBar) -> list[str]:
    return [bar.tabText(i) for i in range(bar.count())]
