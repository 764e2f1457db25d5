"""The table docks: 잔고, 실시간 추적, 미체결, 체결 and 조건식 over the engine's DataFrames.

Each view is a filter box above a sortable `QTableView` of a `DataFrameTableModel`. Views
only turn clicks and keys into signals with plain values (a key, an order number); the
engine decides what happens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from PyQt5.QtCore import QByteArray, QEvent, QModelIndex, QObject, Qt, pyqtSignal
from PyQt5.QtGui import QBrush, QKeyEvent, QPalette
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kiwoom_terminal.engine import tables
from ui import columns as cols
from ui.keymap import KeyMap
from ui.live_table import LiveTableView
from ui.qt import hheader, selection, vheader
from ui.table_model import (
    KEY_ROLE,
    ColumnSpec,
    DataFrameTableModel,
    PublishedRows,
    RowReader,
    TableProxyModel,
)
from ui.theme import direction_colour
from ui.throttle import Throttle

FrameSource = Callable[[], pd.DataFrame]
# (table name, keys or None for all) -> (key, row) pairs: `TradingEngine.table_rows`.
RowSource = Callable[[str, Sequence[str] | None], list[tuple[Any, Any]]]

# Engine changes are shown at most this often: a table redraw costs ~10-20 ms for a full
# screen of cells, so redrawing on every drain at 5k ticks/s would stall the window. The
# engine itself rebuilds prices every `[timers] price_refresh_ms` (100); a little under it
# here, so the view never halves the engine's rate by missing a beat.
REFRESH_MS = 80


# Looked up once, not for every painted cell (a PyQt enum member through its class is two
# attribute lookups, under the GIL the engine's thread waits for).
_SELECTED = QStyle.StateFlag.State_Selected
_FOREGROUND_ROLE = int(Qt.ItemDataRole.ForegroundRole)
_TEXT = QPalette.ColorRole.Text
_HIGHLIGHTED_TEXT = QPalette.ColorRole.HighlightedText


class KeepColourDelegate(QStyledItemDelegate):
    """Keeps the red / blue text of a cell when its row is selected (Qt would paint the
    selection's text colour instead and hide the direction).

    Set only on the columns that have a colour rule (`configure_table`): this Python
    override runs for every cell Qt paints, holding the GIL the engine's thread needs, and
    the other columns are painted by Qt's own delegate without a call into Python."""

    def initStyleOption(self, option: QStyleOptionViewItem | None, index: QModelIndex) -> None:
        super().initStyleOption(option, index)
        if option is None or not option.state & _SELECTED:
            return  # only selected cells need it; this runs for every painted cell
        brush = index.data(_FOREGROUND_ROLE)
        colour = brush.color() if isinstance(brush, QBrush) else option.palette.color(_TEXT)
        option.palette.setColor(_HIGHLIGHTED_TEXT, colour)


def configure_table(table: QTableView, specs: Sequence[ColumnSpec]) -> None:
    """Dense HTS look: no row numbers, fixed row height, default widths applied once."""
    keep_colour = KeepColourDelegate(table)
    for column, spec in enumerate(specs):
        if spec.colour is not None:
            table.setItemDelegateForColumn(column, keep_colour)
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    vertical = vheader(table)
    vertical.setVisible(False)
    vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vertical.setDefaultSectionSize(table.fontMetrics().height() + 6)
    header = hheader(table)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    header.setHighlightSections(False)
    header.setSectionsMovable(True)
    header.setMinimumSectionSize(28)
    for i, spec in enumerate(specs):
        header.resizeSection(i, spec.width)


class TableView(QWidget):
    """A filter box over a sortable table of one engine table (by name)."""

    row_activated = pyqtSignal(str)  # row key; Enter or double-click on a row
    code_selected = pyqtSignal(str)  # stock code of the row the user moved to (click, arrows)

    def __init__(
        self,
        name: str,
        specs: Sequence[ColumnSpec],
        source: RowReader | FrameSource,
        *,
        filter_placeholder: str = "검색: 종목코드, 종목명 …",
        refresh_ms: int = REFRESH_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self._pending_keys: set[str] = set()
        self._pending_sync = False
        # Looked up when it runs, so a wrapped `flush` (bench/gui_load.py) is what runs.
        self._throttle = Throttle(max(refresh_ms, 0), lambda: self.flush(), self)
        self.setObjectName(f"{name}_view")
        self.model = DataFrameTableModel(specs, source, self)
        self.proxy = TableProxyModel(self)
        self.proxy.setSourceModel(self.model)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName(f"{name}_filter")
        self.filter_edit.setPlaceholderText(filter_placeholder)
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)

        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "hint")

        self.table = LiveTableView(self)
        self.table.setObjectName(f"{name}_table")
        self.table.setModel(self.proxy)
        configure_table(self.table, specs)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # arrival order until asked
        self.table.activated.connect(self._on_activated)
        selection(self.table).currentRowChanged.connect(self._on_current_row)
        self._default_header = hheader(self.table).saveState()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(4)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.model.rowsInserted.connect(self._update_count)
        self.model.rowsRemoved.connect(self._update_count)
        self._update_count()

    # --- Engine-facing ------------------------------------------------------------------

    def apply_change(self, keys: Sequence[Any]) -> None:
        """Slot for `table_changed(name, keys)`: shows the change at once when the last
        refresh is `refresh_ms` old, else gathers it for the refresh due then — at most
        1000 / `refresh_ms` refreshes a second, and no delay added while changes come
        slower than that."""
        if keys:
            self._pending_keys.update(str(k) for k in keys)
        else:
            self._pending_sync = True
        self._throttle.request()

    def flush(self) -> None:
        """Show the gathered changes now: one re-sync or one targeted update."""
        self._throttle.ran()
        if self._pending_sync:
            self.model.sync_rows()  # also refreshes every row that stayed
        elif self._pending_keys:
            self.model.update_rows(sorted(self._pending_keys))
        self._pending_sync = False
        self._pending_keys.clear()

    # --- Selection and focus ------------------------------------------------------------

    def selected_keys(self) -> list[str]:
        """Keys of the selected rows, top to bottom as shown."""
        rows = sorted({i.row() for i in selection(self.table).selectedRows()})
        return [str(self.proxy.index(r, 0).data(KEY_ROLE)) for r in rows]

    def current_key(self) -> str | None:
        index = self.table.currentIndex()
        return str(index.data(KEY_ROLE)) if index.isValid() else None

    def code_of(self, key: str) -> str | None:
        """The stock code of a row (tables without a code column give None)."""
        values = self.model.row_values(key)
        code = values.get("code") if values else None
        return str(code) if code else None

    def focus_table(self) -> None:
        """Give the table the keyboard focus with a current row (for keyboard use)."""
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if not self.table.currentIndex().isValid() and self.proxy.rowCount() > 0:
            self.table.setCurrentIndex(self.proxy.index(0, 0))

    # --- Header state (column widths, order, sort) --------------------------------------

    def header_state(self) -> QByteArray:
        return hheader(self.table).saveState()

    def column_keys(self) -> str:
        """The columns in their built-in order ("code,name,…"), saved with the header state:
        the state stores widths by column position, so it only fits the same columns."""
        return ",".join(spec.key for spec in self.model.columns)

    def restore_header_state(self, state: QByteArray, columns: str | None = None) -> bool:
        """Restore widths and order saved by `header_state`; False (and defaults) if the
        saved state no longer fits: `columns` (the `column_keys()` saved with it, when
        given) differ from today's, e.g. after a release reordered them."""
        header = hheader(self.table)
        if (
            state.isEmpty()
            or (columns is not None and columns != self.column_keys())
            or not header.restoreState(state)
            or header.count() != len(self.model.columns)
        ):
            self.reset_header()
            return False
        return True

    def reset_header(self) -> None:
        hheader(self.table).restoreState(self._default_header)

    def _on_activated(self, index: QModelIndex) -> None:
        key = index.data(KEY_ROLE)
        if key is not None:
            self.row_activated.emit(str(key))

    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        # Only the user's moves: a row removed under the cursor also moves the current row.
        if not current.isValid() or not self.table.hasFocus():
            return
        key = current.data(KEY_ROLE)
        code = self.code_of(str(key)) if key is not None else None
        if code:
            self.code_selected.emit(code)

    def _update_count(self) -> None:
        self.count_label.setText(f"{self.model.rowCount():,}건")


class HoldingsView(TableView):
    """잔고 with a totals line (매입, 평가, 손익, 수익률) under the table."""

    def __init__(self, source: RowReader | FrameSource, parent: QWidget | None = None) -> None:
        super().__init__(tables.HOLDINGS.name, cols.HOLDINGS_COLUMNS, source, parent=parent)
        self.totals_label = QLabel(self)
        self.totals_label.setObjectName("holdings_totals")
        self.totals_label.setTextFormat(Qt.TextFormat.RichText)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.addWidget(self.totals_label)
        self._update_totals()

    def flush(self) -> None:
        super().flush()
        self._update_totals()

    def totals(self) -> tuple[int, int, int, float]:
        """(total purchase, total evaluation, total P&L, return %) of the shown holdings.

        Summed over the rows the model already holds as plain values: pandas sums cost
        ~10x more, on every refresh, in the thread whose GIL the engine also needs."""
        model = self.model
        purchase = sum(int(v) for v in model.column_values("purchase_amount"))
        evaluation = sum(int(v) for v in model.column_values("eval_amount"))
        pnl = sum(int(v) for v in model.column_values("pnl"))
        rate = pnl / purchase * 100 if purchase else 0.0
        return purchase, evaluation, pnl, rate

    def _update_totals(self) -> None:
        purchase, evaluation, pnl, rate = self.totals()
        colour = direction_colour(pnl).name()
        text = (
            f"총매입 <b>{purchase:,}</b> &nbsp; 총평가 <b>{evaluation:,}</b> &nbsp; "
            f"평가손익 <b style='color:{colour}'>{pnl:+,}</b> &nbsp; "
            f"수익률 <b style='color:{colour}'>{cols.fmt_pct(rate)}</b>"
        )
        if text != self.totals_label.text():  # rich text is parsed and laid out on every set
            self.totals_label.setText(text)


class OpenOrdersView(TableView):
    """미체결: double-click or the cancel key cancels the selected orders; another key
    cancels all of them."""

    cancel_requested = pyqtSignal(str)  # order_no
    cancel_all_requested = pyqtSignal()

    def __init__(
        self, source: RowReader | FrameSource, keymap: KeyMap, parent: QWidget | None = None
    ) -> None:
        super().__init__(tables.OPEN_ORDERS.name, cols.OPEN_ORDERS_COLUMNS, source, parent=parent)
        self._keymap = keymap
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.installEventFilter(self)
        hint = keymap.display("cancel_selected")
        hint_all = keymap.display("cancel_all")
        self.table.setToolTip(
            f"더블클릭 또는 {hint}: 선택 주문 취소 · {hint_all}: 전부 취소"
            if hint
            else "더블클릭: 선택 주문 취소"
        )

    def cancel_selected(self) -> list[str]:
        """Ask to cancel every selected order (or the current one); returns their numbers."""
        keys = self.selected_keys()
        if not keys:
            current = self.current_key()
            keys = [current] if current else []
        for key in keys:
            self.cancel_requested.emit(key)
        return keys

    def cancel_all(self) -> bool:
        """Ask to cancel every open order; False when there is none."""
        if self.model.rowCount() == 0:
            return False
        self.cancel_all_requested.emit()
        return True

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if (
            watched is self.table
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
        ):
            if self._keymap.matches("cancel_selected", event):
                self.cancel_selected()
                return True
            if self._keymap.matches("cancel_all", event):
                self.cancel_all()
                return True
        return super().eventFilter(watched, event)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        key = index.data(KEY_ROLE)
        if key is not None:
            self.cancel_requested.emit(str(key))


class ConditionsView(TableView):
    """조건식 with 매수 / 매도 check boxes (mouse or Space) choosing each condition's role."""

    condition_roles_changed = pyqtSignal(str, bool, bool)  # seq, buy, sell

    def __init__(self, source: RowReader | FrameSource, parent: QWidget | None = None) -> None:
        super().__init__(
            tables.CONDITIONS.name,
            cols.CONDITIONS_COLUMNS,
            source,
            filter_placeholder="검색: 조건식명 …",
            parent=parent,
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.model.check_toggled.connect(self._on_check_toggled)

    def _on_check_toggled(self, seq: str, column: str, checked: bool) -> None:
        values = self.model.row_values(seq) or {}
        buy = bool(values.get("buy_enabled"))
        sell = bool(values.get("sell_enabled"))
        if column == "buy_enabled":
            buy = checked
        elif column == "sell_enabled":
            sell = checked
        self.condition_roles_changed.emit(seq, buy, sell)


def make_table_views(
    table_source: Callable[[str], pd.DataFrame],
    keymap: KeyMap,
    row_source: RowSource | None = None,
) -> dict[str, TableView]:
    """One view per engine table: reading the engine's published rows through
    `row_source(name, keys)` when given (the running terminal), else the frames of
    `table_source(name)`."""

    def source(name: str) -> RowReader | FrameSource:
        if row_source is not None:
            schema = tables.SCHEMAS[name]
            return PublishedRows(lambda keys: row_source(name, keys), schema)
        return lambda: table_source(name)

    return {
        tables.HOLDINGS.name: HoldingsView(source(tables.HOLDINGS.name)),
        tables.TRACKING.name: TableView(
            tables.TRACKING.name, cols.TRACKING_COLUMNS, source(tables.TRACKING.name)
        ),
        tables.OPEN_ORDERS.name: OpenOrdersView(source(tables.OPEN_ORDERS.name), keymap),
        tables.FILLS.name: TableView(
            tables.FILLS.name, cols.FILLS_COLUMNS, source(tables.FILLS.name)
        ),
        tables.CONDITIONS.name: ConditionsView(source(tables.CONDITIONS.name)),
    }
