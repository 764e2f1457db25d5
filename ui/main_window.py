"""The terminal's main window: menus, toolbar, status bar and the docks around the panels.

The skeleton (menus, actions, toolbar, dock frames with stable objectNames) comes from
`main_window.ui`, composed as `self.ui`. This class puts the panels into the docks, arranges
the built-in default layout, binds the `[keys]` shortcuts and saves / restores the window
state (geometry, docks, column widths, the chart's splitter) in a QSettings INI file under
`window/…`. Restoring always happens before any save, so a failed start never overwrites a
good layout.

The window decides nothing about trading. User intent leaves as signals with plain values
(`order_requested(OrderRequest)`, `cancel_requested(order_no)`, …) and engine state comes in
through thin slots (`on_table_changed`, `show_order_book`, …); `main.py` wires both to the
`TradingEngine` (see docs/ENGINE_API.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from PyQt5.QtCore import QByteArray, QSettings, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QCloseEvent
from PyQt5.QtWidgets import (
    QAction,
    QDockWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QToolButton,
    QWidget,
)

from kiwoom_terminal.constants import Mode, Side
from kiwoom_terminal.engine import tables
from kiwoom_terminal.objects import OrderBookData, StockInfoData
from kiwoom_terminal.settings import AppSettings
from kiwoom_terminal.settings_store import open_qsettings
from ui.chart import ChartWidget
from ui.dialogs import CloseConfirmDialog, EmergencyDialog, KeyHelpDialog
from ui.keymap import KeyMap
from ui.loader import load_ui
from ui.log_view import LogView
from ui.order_entry import OrderEntryPanel
from ui.orderbook import OrderBookWidget
from ui.settings_panel import SettingsPanel
from ui.status_bar import TerminalStatusBar
from ui.tables import (
    ConditionsView,
    OpenOrdersView,
    RowSource,
    TableView,
    make_table_views,
)
from ui.theme import app_icon

LAYOUT_VERSION = 2  # bump when docks are added or renamed: older saved layouts are dropped
DEFAULT_SIZE = (1600, 950)
ROW_SELECT_MS = 150  # a table row must stay current this long before its stock is shown
STATE_GROUP = "window"

# Table name -> dock objectName (from main_window.ui).
TABLE_DOCKS = {
    tables.HOLDINGS.name: "dock_holdings",
    tables.TRACKING.name: "dock_tracking",
    tables.OPEN_ORDERS.name: "dock_open_orders",
    tables.FILLS.name: "dock_fills",
    tables.CONDITIONS.name: "dock_conditions",
}
# [keys] action -> dock to focus.
FOCUS_KEYS = {
    "focus_holdings": "dock_holdings",
    "focus_tracking": "dock_tracking",
    "focus_open_orders": "dock_open_orders",
    "focus_fills": "dock_fills",
    "focus_conditions": "dock_conditions",
    "focus_orderbook": "dock_orderbook",
    "focus_chart": "dock_chart",
    "focus_log": "dock_log",
}


def empty_tables(name: str) -> pd.DataFrame:
    """Table source for a window without an engine: the schema's empty frame."""
    return tables.SCHEMAS[name].empty()


class MainWindow(QMainWindow):
    """The desktop terminal window. See the module docstring for the division of work."""

    order_requested = pyqtSignal(object)  # OrderRequest from the 주문 panel
    cancel_requested = pyqtSignal(str)  # order_no
    cancel_all_requested = pyqtSignal()
    emergency_requested = pyqtSignal()  # confirmed by the user
    auto_trade_requested = pyqtSignal(bool)
    stock_selected = pyqtSignal(str)  # code: subscribe its ticks / order book
    bars_requested = pyqtSignal(str, str)  # code, "day" / "minute"
    condition_roles_changed = pyqtSignal(str, bool, bool)  # seq, buy, sell
    setting_changed = pyqtSignal(str, str)  # "section/name", raw value
    closing = pyqtSignal()  # the window closes for real (any confirmation given)

    def __init__(
        self,
        settings: AppSettings,
        state_path: Path,
        *,
        table_source: Callable[[str], pd.DataFrame] = empty_tables,
        row_source: RowSource | None = None,
        stocks: Iterable[StockInfoData] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ui = load_ui(self, "main_window.ui")
        self.settings = settings
        self.state_path = state_path
        self.keymap = KeyMap(settings)
        self._table_source = table_source
        self._stocks: dict[str, StockInfoData] = {}
        self._restored = False
        self._user_close = False  # set by request_close: this close was asked for by the user
        self._close_confirmed = False  # the user confirmed closing with auto-trade / orders
        self._dialogs: list[QWidget] = []
        self.setWindowIcon(app_icon())

        self.docks: dict[str, QDockWidget] = {
            d.objectName(): d for d in self.findChildren(QDockWidget)
        }
        self.views: dict[str, TableView] = make_table_views(table_source, self.keymap, row_source)
        self.order_entry = OrderEntryPanel(settings, self.keymap)
        self.orderbook = OrderBookWidget()
        self.chart = ChartWidget(settings)
        self.log_view = LogView()
        self.settings_panel = SettingsPanel(settings)
        self.status_bar = TerminalStatusBar(self)
        self.setStatusBar(self.status_bar)

        for name, view in self.views.items():
            self._dock(TABLE_DOCKS[name]).setWidget(view)
        self._dock("dock_order_entry").setWidget(self.order_entry)
        self._dock("dock_orderbook").setWidget(self.orderbook)
        self._dock("dock_chart").setWidget(self.chart)
        self._dock("dock_log").setWidget(self.log_view)
        self._dock("dock_settings").setWidget(self.settings_panel)

        self._connect()
        self._bind_keys()
        self._build_view_menu()
        self._style_toolbar()
        self.set_stocks(stocks)
        self.set_auto_trade_state(False)

        self._extra_docks: list[tuple[str, Qt.DockWidgetArea, str | None]] = []
        self._apply_default_layout()
        self._default_splitter = self.chart.splitter.saveState()
        self._default_named_splitters: dict[str, QByteArray] = {}  # set by restore_layout
        self.restore_layout()
        for problem in self.keymap.problems:
            self.show_log("WARNING", problem)

    # --- Construction -------------------------------------------------------------------

    def _dock(self, name: str) -> QDockWidget:
        return self.docks[name]

    @property
    def open_orders(self) -> OpenOrdersView:
        view = self.views[tables.OPEN_ORDERS.name]
        assert isinstance(view, OpenOrdersView)
        return view

    @property
    def conditions(self) -> ConditionsView:
        view = self.views[tables.CONDITIONS.name]
        assert isinstance(view, ConditionsView)
        return view

    def _connect(self) -> None:
        ui = self.ui
        self.order_entry.order_requested.connect(self.order_requested)
        self.order_entry.stock_selected.connect(self._on_stock_selected)
        self.orderbook.price_clicked.connect(self._on_price_clicked)
        self.chart.interval_changed.connect(self._on_interval_changed)
        self.open_orders.cancel_requested.connect(self.cancel_requested)
        self.open_orders.cancel_all_requested.connect(self.cancel_all_requested)
        self.conditions.condition_roles_changed.connect(self.condition_roles_changed)
        self.settings_panel.setting_changed.connect(self.setting_changed)
        for name in (tables.HOLDINGS.name, tables.TRACKING.name):
            self.views[name].row_activated.connect(self._on_code_activated)
        fills = self.views[tables.FILLS.name]
        fills.row_activated.connect(lambda key: self._on_code_activated(fills.code_of(key) or ""))
        self._row_code = ""
        self._row_timer = QTimer(self)
        self._row_timer.setSingleShot(True)
        self._row_timer.setInterval(ROW_SELECT_MS)
        self._row_timer.timeout.connect(self._select_row_code)
        for view in self.views.values():
            view.code_selected.connect(self._on_row_code)
        ui.action_quit.triggered.connect(self.request_close)
        ui.action_reset_layout.triggered.connect(self.reset_layout)
        ui.action_auto_trade.triggered.connect(self._on_auto_trade_triggered)
        ui.action_cancel_selected.triggered.connect(self.cancel_selected)
        ui.action_cancel_all.triggered.connect(self.cancel_all)
        ui.action_emergency.triggered.connect(self.ask_emergency)
        ui.action_key_help.triggered.connect(self.show_key_help)
        ui.action_about.triggered.connect(self._show_about)

    def _bind_keys(self) -> None:
        """Window-wide keys on the menu actions (the 주문 panel binds its own)."""
        ui = self.ui
        for action, key in (
            (ui.action_key_help, "help"),
            (ui.action_auto_trade, "auto_trade"),
            (ui.action_cancel_selected, "cancel_selected"),
            (ui.action_cancel_all, "cancel_all"),
            (ui.action_emergency, "emergency"),
        ):
            action.setShortcut(self.keymap.sequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        ui.action_quit.setShortcut("Ctrl+Q")

    def _build_view_menu(self) -> None:
        """보기: one toggle per dock, focus keys, then the layout reset."""
        menu = self.ui.menu_view
        first = menu.actions()[0] if menu.actions() else None
        focus_for = {dock: key for key, dock in FOCUS_KEYS.items()}
        go_menu = QMenu("창으로 이동(&G)", menu)
        go_menu.setObjectName("menu_focus")
        for name in (
            "dock_order_entry",
            "dock_orderbook",
            "dock_chart",
            "dock_holdings",
            "dock_tracking",
            "dock_open_orders",
            "dock_fills",
            "dock_conditions",
            "dock_settings",
            "dock_log",
        ):
            dock = self._dock(name)
            toggle = dock.toggleViewAction()
            assert toggle is not None  # every QDockWidget has one
            toggle.setObjectName(f"toggle_{name}")
            menu.insertAction(first, toggle)
            key = focus_for.get(name)
            if key:
                focus = QAction(dock.windowTitle(), self)
                focus.setObjectName(f"action_{key}")
                focus.setShortcut(self.keymap.sequence(key))
                focus.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                focus.triggered.connect(lambda _=False, n=name: self.focus_dock(n))
                go_menu.addAction(focus)
        self._toggles_end = menu.insertSeparator(first)  # add_dock() puts toggles before it
        menu.insertMenu(first, go_menu)
        menu.insertSeparator(first)

    def _style_toolbar(self) -> None:
        ui = self.ui
        ui.action_auto_trade.setIconText("자동매매 OFF")
        ui.action_cancel_all.setIconText("미체결 전부 취소")
        ui.action_emergency.setIconText("비상 정리")
        for action, name in (
            (ui.action_auto_trade, "auto_trade_button"),
            (ui.action_emergency, "emergency_button"),
        ):
            button = ui.main_toolbar.widgetForAction(action)
            if isinstance(button, QToolButton):
                button.setObjectName(name)
                style = button.style()
                if style is not None:  # the object name selects a style sheet rule
                    style.unpolish(button)
                    style.polish(button)
        for action, key in (
            (ui.action_auto_trade, "auto_trade"),
            (ui.action_cancel_all, "cancel_all"),
            (ui.action_emergency, "emergency"),
        ):
            shown = self.keymap.display(key)
            if shown:
                action.setToolTip(f"{action.toolTip()} ({shown})")

    def _apply_default_layout(self) -> None:
        """주문 / 호가 on the left; the chart over a 2 × 2 grid of 잔고, 미체결, 실시간 추적 and
        체결 in the middle (every account table in view at once, as a trader watches them);
        조건식 / 설정 and 로그 on the right."""
        d = self._dock
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d("dock_order_entry"))
        self.splitDockWidget(d("dock_order_entry"), d("dock_chart"), Qt.Orientation.Horizontal)
        self.splitDockWidget(d("dock_chart"), d("dock_conditions"), Qt.Orientation.Horizontal)
        self.splitDockWidget(d("dock_order_entry"), d("dock_orderbook"), Qt.Orientation.Vertical)
        self.splitDockWidget(d("dock_chart"), d("dock_holdings"), Qt.Orientation.Vertical)
        self.splitDockWidget(d("dock_holdings"), d("dock_open_orders"), Qt.Orientation.Horizontal)
        self.splitDockWidget(d("dock_holdings"), d("dock_tracking"), Qt.Orientation.Vertical)
        self.splitDockWidget(d("dock_open_orders"), d("dock_fills"), Qt.Orientation.Vertical)
        self.splitDockWidget(d("dock_conditions"), d("dock_log"), Qt.Orientation.Vertical)
        self.tabifyDockWidget(d("dock_conditions"), d("dock_settings"))
        d("dock_conditions").raise_()
        self.resizeDocks(
            [d("dock_order_entry"), d("dock_chart"), d("dock_conditions")],
            [290, 960, 340],
            Qt.Orientation.Horizontal,
        )
        self.resizeDocks(
            [d("dock_order_entry"), d("dock_orderbook")], [300, 570], Qt.Orientation.Vertical
        )
        self.resizeDocks(
            [d("dock_chart"), d("dock_holdings"), d("dock_tracking")],
            [430, 215, 215],
            Qt.Orientation.Vertical,
        )
        self.resizeDocks(
            [d("dock_holdings"), d("dock_open_orders")], [500, 460], Qt.Orientation.Horizontal
        )
        self.resizeDocks([d("dock_conditions"), d("dock_log")], [430, 440], Qt.Orientation.Vertical)
        for name, area, tabify_with in self._extra_docks:
            self._place_extra(name, area, tabify_with)

    def add_dock(
        self,
        dock: QDockWidget,
        *,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
        tabify_with: str | None = None,
    ) -> None:
        """Add a dock built elsewhere (another feature's panel) as if it were the window's own:
        registered in `docks`, a toggle in 보기, placed where the user's saved layout had it —
        else in `area`, tabbed behind the dock named `tabify_with` — and part of the
        built-in layout that 보기 → 기본 배치로 복원 returns to. Call it before the window is
        shown; the dock needs a stable objectName (its place is saved under it)."""
        name = dock.objectName()
        if not name:
            raise ValueError(
                "add_dock: the dock needs an objectName (its layout is saved under it)"
            )
        if name in self.docks:
            raise ValueError(f"add_dock: there is already a dock named {name!r}")
        if tabify_with is not None and tabify_with not in self.docks:
            raise ValueError(f"add_dock: no dock named {tabify_with!r} to tab it with")
        self.docks[name] = dock
        self._extra_docks.append((name, area, tabify_with))
        if not self.restoreDockWidget(dock):  # placed by the saved layout when it has it
            self._place_extra(name, area, tabify_with)
        self._restore_named_splitters(dock)
        toggle = dock.toggleViewAction()
        assert toggle is not None  # every QDockWidget has one
        toggle.setObjectName(f"toggle_{name}")
        self.ui.menu_view.insertAction(self._toggles_end, toggle)

    def _place_extra(self, name: str, area: Qt.DockWidgetArea, tabify_with: str | None) -> None:
        dock = self._dock(name)
        dock.setFloating(False)
        self.addDockWidget(area, dock)
        if tabify_with is not None:
            self.tabifyDockWidget(self._dock(tabify_with), dock)
            self._dock(tabify_with).raise_()  # the window's own panel stays in front
        dock.show()

    # --- Window state -------------------------------------------------------------------

    def _state(self) -> QSettings:
        return open_qsettings(self.state_path)

    def restore_layout(self) -> bool:
        """Geometry, docks, column widths and the chart splitter from the state file.

        Returns False (and keeps the built-in layout) when nothing usable was saved.
        """
        qs = self._state()
        geometry = _bytes(qs.value(f"{STATE_GROUP}/geometry"))
        state = _bytes(qs.value(f"{STATE_GROUP}/state"))
        version = _int(qs.value(f"{STATE_GROUP}/layout_version"))
        if geometry.isEmpty() or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        restored = False
        if version == LAYOUT_VERSION and not state.isEmpty():
            restored = self.restoreState(state, LAYOUT_VERSION)
        for name, view in self.views.items():
            view.restore_header_state(
                _bytes(qs.value(f"{STATE_GROUP}/headers/{name}")),
                str(qs.value(f"{STATE_GROUP}/header_columns/{name}", "")),
            )
        splitter = _bytes(qs.value(f"{STATE_GROUP}/splitters/chart"))
        if not splitter.isEmpty():
            self.chart.splitter.restoreState(splitter)
        self._restore_named_splitters(self)
        self._restored = True
        return restored

    def _named_splitters(self, inside: QWidget) -> dict[str, QSplitter]:
        """Splitters inside `inside` with an object name (the 백테스트 and 전략 docks'),
        whose positions are saved with the layout like the chart's."""
        return {
            split.objectName(): split
            for split in inside.findChildren(QSplitter)
            if split.objectName() and split is not self.chart.splitter
        }

    def _restore_named_splitters(self, inside: QWidget) -> None:
        """Remember each named splitter's built-in state (for 기본 배치로 복원), then apply
        the saved one."""
        qs = self._state()
        for name, split in self._named_splitters(inside).items():
            self._default_named_splitters.setdefault(name, split.saveState())
            saved = _bytes(qs.value(f"{STATE_GROUP}/splitters/{name}"))
            if not saved.isEmpty():
                split.restoreState(saved)

    def save_layout(self) -> bool:
        """Write the window state; refuses (False) until `restore_layout` has run."""
        if not self._restored:
            return False
        qs = self._state()
        qs.setValue(f"{STATE_GROUP}/layout_version", LAYOUT_VERSION)
        qs.setValue(f"{STATE_GROUP}/geometry", self.saveGeometry())
        qs.setValue(f"{STATE_GROUP}/state", self.saveState(LAYOUT_VERSION))
        for name, view in self.views.items():
            qs.setValue(f"{STATE_GROUP}/headers/{name}", view.header_state())
            qs.setValue(f"{STATE_GROUP}/header_columns/{name}", view.column_keys())
        qs.setValue(f"{STATE_GROUP}/splitters/chart", self.chart.splitter.saveState())
        for name, split in self._named_splitters(self).items():
            qs.setValue(f"{STATE_GROUP}/splitters/{name}", split.saveState())
        qs.sync()
        return qs.status() == QSettings.Status.NoError

    def reset_layout(self) -> None:
        """보기 → 기본 배치로 복원: docks, column widths and the chart split as shipped."""
        self._apply_default_layout()
        for view in self.views.values():
            view.reset_header()
        self.chart.splitter.restoreState(self._default_splitter)
        for name, split in self._named_splitters(self).items():
            default = self._default_named_splitters.get(name)
            if default is not None:
                split.restoreState(default)
        self.status_bar.show_notice("기본 배치로 되돌렸습니다", error=False)

    def request_close(self) -> None:
        """파일 → 종료 / Ctrl+Q: close as the user would, asking first when it matters."""
        self._user_close = True
        self.close()

    def closeEvent(self, event: QCloseEvent | None) -> None:
        # Only a close the user asked for (the window's X button, or request_close) asks
        # for confirmation; the program's own close (shutdown, tests) goes straight on.
        by_user = event is not None and (event.spontaneous() or self._user_close)
        self._user_close = False
        if by_user and not self._close_confirmed and self._close_needs_confirmation():
            assert event is not None  # by_user implies an event
            event.ignore()
            self.ask_close()
            return
        self.closing.emit()
        self.save_layout()
        super().closeEvent(event)

    def _close_needs_confirmation(self) -> bool:
        return self.ui.action_auto_trade.isChecked() or (
            len(self._table_source(tables.OPEN_ORDERS.name)) > 0
        )

    def ask_close(self) -> CloseConfirmDialog:
        """Open the close confirmation; on confirm the window closes for real."""
        dialog = CloseConfirmDialog(
            self.ui.action_auto_trade.isChecked(),
            len(self._table_source(tables.OPEN_ORDERS.name)),
            len(self._table_source(tables.TRACKING.name)),
            self,
        )
        dialog.accepted.connect(self._close_confirmed_by_user)
        self._keep(dialog)
        dialog.open()
        dialog.cancel_button.setFocus(Qt.FocusReason.OtherFocusReason)
        return dialog

    def _close_confirmed_by_user(self) -> None:
        self._close_confirmed = True
        self.close()

    # --- User actions -------------------------------------------------------------------

    def focus_dock(self, name: str) -> None:
        """Show, raise and focus a dock (tables get a current row for the arrow keys)."""
        dock = self._dock(name)
        dock.show()
        dock.raise_()
        widget = dock.widget()
        if isinstance(widget, TableView):
            widget.focus_table()
        elif widget is self.orderbook:
            self.orderbook.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
        elif widget is not None:
            widget.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def cancel_selected(self) -> None:
        """Cancel the orders selected in 미체결 (or tell how to select one)."""
        if not self.open_orders.cancel_selected():
            key = self.keymap.display("focus_open_orders")
            hint = f" ({key} 로 미체결 창으로 이동)" if key else ""
            self.status_bar.show_notice(f"취소할 미체결 주문을 선택하세요{hint}")

    def cancel_all(self) -> None:
        if not self.open_orders.cancel_all():
            self.status_bar.show_notice("취소할 미체결 주문이 없습니다", error=False)

    def ask_emergency(self) -> EmergencyDialog:
        """Open the emergency confirmation; `emergency_requested` fires only on confirm
        (Alt+Y or a click on the execute button: Enter cancels, see `EmergencyDialog`)."""
        holdings = len(self._table_source(tables.HOLDINGS.name))
        orders = len(self._table_source(tables.OPEN_ORDERS.name))
        dialog = EmergencyDialog(holdings, orders, self)
        dialog.accepted.connect(self.emergency_requested)
        self._keep(dialog)
        dialog.open()
        dialog.cancel_button.setFocus(Qt.FocusReason.OtherFocusReason)
        return dialog

    def show_key_help(self) -> KeyHelpDialog:
        dialog = KeyHelpDialog(self.keymap, self)
        self._keep(dialog)
        dialog.open()
        return dialog

    def _show_about(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "정보",
            "키움 트레이딩 터미널\n키움증권 REST API / WebSocket 주식 매매 터미널",
            QMessageBox.StandardButton.Ok,
            self,
        )
        self._keep(box)
        box.open()

    def _keep(self, dialog: QWidget) -> None:
        """Hold a reference to an open() dialog until it closes."""
        self._dialogs.append(dialog)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(
            lambda *_: self._dialogs.remove(dialog) if dialog in self._dialogs else None
        )

    def _on_auto_trade_triggered(self, checked: bool) -> None:
        self._show_auto_trade(checked)
        self.auto_trade_requested.emit(checked)

    def _on_stock_selected(self, code: str) -> None:
        stock = self._stocks.get(code)
        name = stock.name if stock else ""
        base = stock.last_close if stock else 0
        self.orderbook.set_stock(code, name, base)
        self.chart.set_stock(code, name, etf=stock.is_etf if stock else False)
        self.stock_selected.emit(code)
        self.bars_requested.emit(code, self.chart.interval)

    def _on_price_clicked(self, price: int) -> None:
        self.order_entry.set_price(price)
        self.order_entry.qty_spin.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_interval_changed(self, interval: str) -> None:
        if self.chart.code:
            self.bars_requested.emit(self.chart.code, interval)

    def _on_code_activated(self, code: str) -> None:
        if not self.order_entry.select_stock(code):
            self.status_bar.show_notice(f"종목 목록에 없는 종목입니다: {code}")

    def _on_row_code(self, code: str) -> None:
        """A row of another stock became current: show that stock a moment later (arrowing
        through a table subscribes only the row it stops on)."""
        self._row_code = code
        self._row_timer.start()

    def _select_row_code(self) -> None:
        code, self._row_code = self._row_code, ""
        if code:
            self.order_entry.select_stock(code, move_focus=False)

    # --- Engine-facing slots (thin) -----------------------------------------------------

    def set_stocks(self, stocks: Iterable[StockInfoData]) -> None:
        """`stocks_loaded(list)`: completion list of the 주문 panel."""
        stock_list = list(stocks)
        self._stocks = {s.code: s for s in stock_list}
        self.order_entry.set_stocks(stock_list)

    def on_table_changed(self, name: str, keys: Sequence[Any]) -> None:
        """`table_changed(name, keys)`: that table's view shows it within 100 ms."""
        view = self.views.get(name)
        if view is not None:
            view.apply_change(keys)

    def flush_tables(self) -> None:
        """Show every gathered table change now (tests, screenshots)."""
        for view in self.views.values():
            view.flush()

    def show_order_book(self, book: OrderBookData) -> None:
        self.orderbook.set_book(book)

    def show_last_price(self, code: str, price: int) -> None:
        """A new last price of a stock (from the tick batch)."""
        self.show_last_prices({code: price})

    def show_last_prices(self, prices: Mapping[str, int]) -> None:
        """New last prices of some stocks (the ticks gathered since the last showing)."""
        self.order_entry.set_last_prices(prices)
        price = prices.get(self.orderbook.code) if self.orderbook.code else None
        if price is not None:
            self.orderbook.set_last_price(price)

    def show_bars(self, code: str, interval: str, frame: pd.DataFrame) -> None:
        """`bars_loaded(code, interval, frame)`: history for the chart, if it still shows that
        stock at that interval (a late reply for another one is dropped)."""
        if code == self.chart.code and interval == self.chart.interval:
            self.chart.set_bars(frame, interval)

    def show_fill(self, code: str, side: Side, price: int, when: Any) -> None:
        """`fill(...)`: a marker on the chart when it shows that stock."""
        if code == self.chart.code:
            self.chart.add_fill(side, price, when)

    def show_account(self, orderable_cash: int | None, sellable: Mapping[str, int]) -> None:
        self.order_entry.set_account(orderable_cash, sellable)

    def show_log(self, level: str, message: str) -> None:
        self.log_view.append(level, message)

    def show_notice(self, message: str) -> None:
        """`notice(str)`: status bar now, and the log for later."""
        self.status_bar.show_notice(message)
        self.log_view.append("WARNING", message)

    def show_order_rejected(self, message: str) -> None:
        """The engine refused a manual order (OrderInputError): say why, next to the panel."""
        self.order_entry.show_rejection(message)
        self.status_bar.show_notice(message)

    def show_settings(self, settings: AppSettings) -> None:
        """`settings_changed(AppSettings)`."""
        self.settings = settings
        self.settings_panel.set_settings(settings)
        self.order_entry.set_settings(settings)

    def show_setting_error(
        self, key: str, message: str, settings: AppSettings | None = None
    ) -> None:
        """The engine refused a setting (SettingsError); `settings` are those in force."""
        self.settings_panel.show_error(key, message, settings)
        self.status_bar.show_notice(f"설정을 바꾸지 못했습니다: {message}")

    def set_mode(self, mode: Mode) -> None:
        self.status_bar.set_mode(mode)
        suffix = {Mode.SIM: "시뮬레이터", Mode.MOCK: "모의투자", Mode.REAL: "실거래"}[mode]
        self.setWindowTitle(f"키움 트레이딩 터미널 — {suffix}")

    def set_auto_trade_state(self, on: bool) -> None:
        """`auto_trade_changed(bool)`: reflect the engine's state without emitting."""
        action = self.ui.action_auto_trade
        action.blockSignals(True)
        action.setChecked(on)
        action.blockSignals(False)
        self._show_auto_trade(on)

    def _show_auto_trade(self, on: bool) -> None:
        text = "자동매매 ON" if on else "자동매매 OFF"
        self.ui.action_auto_trade.setText(text)
        self.ui.action_auto_trade.setIconText(text)
        self.status_bar.set_auto_trade(on)


def _bytes(value: object) -> QByteArray:
    if isinstance(value, QByteArray):
        return value
    if isinstance(value, (bytes, bytearray)):
        return QByteArray(bytes(value))
    return QByteArray()


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0
