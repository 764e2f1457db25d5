"""The 전략 dock: the watchlist (관심종목), the strategies with their on/off switch and
parameters, and the signals the scanner found.

The dock edits the `Watchlist` object it is given (a plain object the engine shares) and
reports every change as a signal with plain values; switching strategies and their
parameters is only *asked for* (`strategy_toggled`, `params_changed`): the engine applies it
and the dock shows what it was told. Parameter editors are generated from each strategy's
`Param`s (`ParamForm`, also used by the 백테스트 tab) and say next to the field what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd
from PyQt5.QtCore import QEvent, QObject, QStringListModel, Qt, pyqtSignal
from PyQt5.QtGui import QKeyEvent
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiwoom_terminal.objects import StockInfoData
from kiwoom_terminal.scanner.scanner import ScannerStatus
from kiwoom_terminal.scanner.signals import SignalStatus
from kiwoom_terminal.scanner.watchlist import MANUAL, Watchlist, WatchlistError
from kiwoom_terminal.strategies.base import Strategy, StrategyError, all_strategies
from ui import columns as cols
from ui.qt import repolish
from ui.table_model import CENTER, RIGHT, ColumnSpec
from ui.tables import TableView

NAME_ROLE = int(Qt.ItemDataRole.UserRole) + 1

SIGNAL_STATUS = {
    SignalStatus.NEW.value: "신호",
    SignalStatus.ROUTED.value: "매수 요청",
    SignalStatus.BOUGHT.value: "매수 주문",
    SignalStatus.SKIPPED.value: "건너뜀",
    SignalStatus.SOLD.value: "매도 요청",
}

WATCHLIST_COLUMNS = (
    ColumnSpec("code", "종목코드", width=62, alignment=CENTER),
    ColumnSpec("name", "종목명", width=110),
    ColumnSpec(
        "source", "출처", lambda v: "직접 추가" if v == MANUAL else f"조건식: {v}", width=120
    ),
    ColumnSpec("added_at", "추가 시각", lambda v: str(v).replace("T", " ")[:16], width=110),
)

SIGNAL_COLUMNS = (
    ColumnSpec("detected_at", "시각", width=72, alignment=CENTER),
    ColumnSpec("bar_time", "봉", lambda v: str(v)[11:16], width=46, alignment=CENTER),
    ColumnSpec("code", "종목코드", width=62, alignment=CENTER),
    ColumnSpec("name", "종목명", width=96),
    ColumnSpec("strategy", "전략", width=90),
    ColumnSpec("side", "구분", cols.fmt_side, CENTER, cols.side_colour, width=40),
    ColumnSpec("price", "가격", cols.fmt_int, RIGHT, width=70),
    ColumnSpec("status", "상태", lambda v: SIGNAL_STATUS.get(str(v), str(v)), CENTER, width=66),
    ColumnSpec("note", "비고", width=160),
    ColumnSpec("params", "파라미터", width=160),
)


def watchlist_frame(watchlist: Watchlist) -> pd.DataFrame:
    """The watchlist as a frame keyed by code, for the table model."""
    rows = [
        {"code": i.code, "name": i.name, "source": i.source, "added_at": i.added_at}
        for i in watchlist.items()
    ]
    frame = pd.DataFrame(rows, columns=["code", "name", "source", "added_at"], dtype=object)
    return frame.set_index("code", drop=False)


class ParamForm(QWidget):
    """Editors for one strategy's parameters, generated from its `Param`s.

    Each field shows its meaning and range; a wrong value (not a number, not an integer,
    out of range) is marked and explained next to the field, and checks across fields
    (e.g. fast < slow) below them. `strategy()` is the validated instance or None.
    """

    edited = pyqtSignal()  # any field changed
    submitted = pyqtSignal()  # Enter in a field

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cls: type[Strategy] | None = None
        self._edits: dict[str, QLineEdit] = {}
        self._errors: dict[str, QLabel] = {}  # the note beside each field: range or problem
        self._hints: dict[str, str] = {}
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(3)
        self.title = QLabel(self)
        self.title.setObjectName("param_title")
        self.form_error = QLabel(self)
        self.form_error.setProperty("role", "error")
        self.form_error.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(self._grid)
        layout.addWidget(self.form_error)
        layout.addStretch(1)

    @property
    def strategy_class(self) -> type[Strategy] | None:
        return self._cls

    def set_strategy(self, cls: type[Strategy], values: Mapping[str, float] | None = None) -> None:
        """Show `cls`'s parameters with `values` (defaults for the missing ones)."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # gone from the screen now, deleted when the loop gets to it
                widget.setParent(None)
                widget.deleteLater()
        self._cls = cls
        self._edits.clear()
        self._errors.clear()
        self._hints.clear()
        self.title.setText(f"{cls.title} ({cls.name})")
        values = values or {}
        for row, param in enumerate(cls.params):
            label = QLabel(param.meaning, self)
            label.setToolTip(param.name)
            label.setWordWrap(True)
            edit = QLineEdit(self)
            edit.setObjectName(f"param_{param.name}")
            edit.setText(_number(values.get(param.name, param.default)))
            hint = f"{param.minimum:g}–{param.maximum:g}" + (" 정수" if param.integer else "")
            edit.setToolTip(f"{param.name}: {hint}, 기본값 {param.default:g}")
            edit.setFixedWidth(72)
            edit.textEdited.connect(self._on_edited)
            edit.returnPressed.connect(self.submitted)
            note = QLabel(hint, self)
            note.setProperty("role", "hint")
            note.setWordWrap(True)
            self._grid.addWidget(label, row, 0)
            self._grid.addWidget(edit, row, 1)
            self._grid.addWidget(note, row, 2)
            self._edits[param.name] = edit
            self._errors[param.name] = note
            self._hints[param.name] = hint
        self._grid.setColumnStretch(0, 3)
        self._grid.setColumnStretch(2, 2)
        self.form_error.clear()

    def set_values(self, values: Mapping[str, float]) -> None:
        for name, value in values.items():
            if name in self._edits:
                self._edits[name].setText(_number(value))
        self.strategy()

    def reset_defaults(self) -> None:
        if self._cls is not None:
            self.set_values({p.name: p.default for p in self._cls.params})

    def edit(self, name: str) -> QLineEdit:
        return self._edits[name]

    def error_text(self, name: str) -> str:
        """The problem shown beside a field ("" when the value is fine)."""
        note = self._errors[name]
        return note.text() if note.property("role") == "error" else ""

    def strategy(self) -> Strategy | None:
        """The strategy with the typed values, or None with every problem shown."""
        if self._cls is None:
            return None
        values: dict[str, float] = {}
        ok = True
        for param in self._cls.params:
            edit = self._edits[param.name]
            try:
                values[param.name] = param.validate(edit.text().strip())
                self._mark(param.name, "")
            except StrategyError as exc:
                ok = False
                self._mark(param.name, str(exc).split(": ", 1)[-1])
        self.form_error.clear()
        if not ok:
            return None
        try:
            return self._cls(**values)
        except StrategyError as exc:
            self.form_error.setText(str(exc))
            return None

    def _mark(self, name: str, message: str) -> None:
        edit = self._edits[name]
        edit.setProperty("invalid", bool(message))
        repolish(edit)
        note = self._errors[name]
        note.setText(message or self._hints[name])
        note.setProperty("role", "error" if message else "hint")
        repolish(note)

    def _on_edited(self) -> None:
        self.strategy()
        self.edited.emit()


class StrategyDock(QWidget):
    """Contents of the 전략 dock (the window puts it into a QDockWidget)."""

    watchlist_changed = pyqtSignal(list)  # codes, after an add / remove here
    sync_requested = pyqtSignal(str, bool)  # condition name, replace (else merge)
    strategy_toggled = pyqtSignal(str, bool)  # strategy name, on
    params_changed = pyqtSignal(str, dict)  # strategy name, validated parameters
    stock_selected = pyqtSignal(str)  # code (double-click / Enter on a watchlist or signal row)

    def __init__(
        self,
        watchlist: Watchlist,
        signals_source: Callable[[], pd.DataFrame],
        *,
        enabled: Iterable[str] = (),
        params: Mapping[str, Mapping[str, float]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("strategy_dock")
        self.watchlist = watchlist
        self._registry = all_strategies()
        self._params: dict[str, dict[str, float]] = {k: dict(v) for k, v in (params or {}).items()}
        self._enabled: set[str] = set(enabled)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_watchlist_tab(), "관심종목")
        self.tabs.addTab(self._build_strategy_tab(), "전략")
        self.signals_view = TableView(
            "signals", SIGNAL_COLUMNS, signals_source, filter_placeholder="검색: 종목, 전략 …"
        )
        self.signals_view.row_activated.connect(self._on_signal_activated)
        self.tabs.addTab(self.signals_view, "신호")
        self.status_label = QLabel("스캐너 꺼짐", self)
        self.status_label.setProperty("role", "hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status_label)
        self.signals_view.model.rowsInserted.connect(self._update_signal_tab)
        self._update_signal_tab()

    # --- 관심종목 ---------------------------------------------------------------------------

    def _build_watchlist_tab(self) -> QWidget:
        page = QWidget(self)
        self.add_edit = QLineEdit(page)
        self.add_edit.setObjectName("watch_add_edit")
        self.add_edit.setPlaceholderText("종목코드 또는 종목명")
        self.add_edit.returnPressed.connect(self._on_add)
        self._completion = QStringListModel(page)
        completer = QCompleter(self._completion, page)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add_edit.setCompleter(completer)
        add_button = QPushButton("추가", page)
        add_button.clicked.connect(self._on_add)
        remove_button = QPushButton("삭제", page)
        remove_button.setToolTip("선택한 종목을 관심종목에서 뺍니다 (Delete)")
        remove_button.clicked.connect(self._on_remove)
        self.watch_error = QLabel(page)
        self.watch_error.setProperty("role", "error")
        self.watch_error.setWordWrap(True)

        self.condition_combo = QComboBox(page)
        self.condition_combo.setObjectName("sync_condition")
        self.condition_combo.setPlaceholderText("조건식")
        self.condition_combo.setMinimumContentsLength(10)
        self.replace_check = QCheckBox("빠진 종목 제거", page)
        self.replace_check.setToolTip(
            "켜면 조건식에서 빠진 종목을 관심종목에서도 뺍니다 (직접 추가한 종목은 그대로)"
        )
        sync_button = QPushButton("조건식 동기화", page)
        sync_button.clicked.connect(self.request_sync)

        self.watch_view = TableView(
            "watchlist", WATCHLIST_COLUMNS, lambda: watchlist_frame(self.watchlist), refresh_ms=0
        )
        self.watch_view.row_activated.connect(self.stock_selected)
        self.watch_view.table.installEventFilter(self)
        self.watch_view.apply_change([])

        add_row = QHBoxLayout()
        add_row.addWidget(self.add_edit, 1)
        add_row.addWidget(add_button)
        add_row.addWidget(remove_button)
        sync_row = QHBoxLayout()
        sync_row.addWidget(self.condition_combo, 1)
        sync_row.addWidget(self.replace_check)
        sync_row.addWidget(sync_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(3)
        layout.addLayout(add_row)
        layout.addWidget(self.watch_error)
        layout.addWidget(self.watch_view, 1)
        layout.addLayout(sync_row)
        return page

    def set_stocks(self, stocks: Iterable[StockInfoData]) -> None:
        """Listed stocks for completion and validation (after the engine loaded them)."""
        stocks = list(stocks)
        self._completion.setStringList([f"{s.code} {s.name}" for s in stocks])
        self.watchlist.set_names({s.code: s.name for s in stocks})
        self.refresh_watchlist()

    def set_conditions(self, names: Iterable[str]) -> None:
        current = self.condition_combo.currentText()
        self.condition_combo.clear()
        self.condition_combo.addItems(list(names))
        if current:
            self.condition_combo.setCurrentText(current)

    def add_from_edit(self) -> bool:
        """Add what the user typed (a code, a name, or a completion "005930 삼성전자")."""
        text = self.add_edit.text().strip()
        code_part = text.split(" ", 1)[0]
        candidate = code_part if len(code_part) == 6 and " " in text else text
        try:
            self.watchlist.add(candidate)
        except WatchlistError as exc:
            self.show_watch_error(str(exc))
            return False
        self.show_watch_error("")
        self.add_edit.clear()
        self._watchlist_edited()
        return True

    def remove_selected(self) -> list[str]:
        codes = self.watch_view.selected_keys()
        if not codes:
            self.show_watch_error("지울 종목을 표에서 고르세요")
            return []
        for code in codes:
            self.watchlist.remove(code)
        self.show_watch_error("")
        self._watchlist_edited()
        return codes

    def request_sync(self) -> None:
        name = self.condition_combo.currentText().strip()
        if not name:
            self.show_watch_error("동기화할 조건식을 고르세요 (조건식 목록은 연결 후 채워집니다)")
            return
        self.show_watch_error("")
        self.sync_requested.emit(name, self.replace_check.isChecked())

    def _on_add(self) -> None:
        self.add_from_edit()

    def _on_remove(self) -> None:
        self.remove_selected()

    def refresh_watchlist(self) -> None:
        """The watchlist changed elsewhere (e.g. a condition sync by the engine)."""
        self.watch_view.apply_change([])

    def _watchlist_edited(self) -> None:
        self.refresh_watchlist()
        self.watchlist_changed.emit(self.watchlist.codes())

    def show_watch_error(self, message: str) -> None:
        self.watch_error.setText(message)
        self.watch_error.setVisible(bool(message))
        self.add_edit.setProperty("invalid", bool(message))
        repolish(self.add_edit)

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if (
            watched is self.watch_view.table
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Delete
        ):
            self.remove_selected()
            return True
        return super().eventFilter(watched, event)

    # --- 전략 ----------------------------------------------------------------------------

    def _build_strategy_tab(self) -> QWidget:
        page = QWidget(self)
        self.strategy_list = QListWidget(page)
        self.strategy_list.setObjectName("strategy_list")
        for name, cls in self._registry.items():
            item = QListWidgetItem(cls.title)
            item.setToolTip(f"{name}: {cls.__doc__ or cls.title}".strip())
            item.setData(NAME_ROLE, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if name in self._enabled else Qt.CheckState.Unchecked
            )
            self.strategy_list.addItem(item)
        self.strategy_list.currentItemChanged.connect(self._on_strategy_selected)
        self.strategy_list.itemChanged.connect(self._on_item_changed)

        self.param_form = ParamForm(page)
        self.param_form.submitted.connect(self._on_apply)
        apply_button = QPushButton("적용", page)
        apply_button.setObjectName("apply_params")
        apply_button.clicked.connect(self._on_apply)
        defaults_button = QPushButton("기본값", page)
        defaults_button.clicked.connect(self.param_form.reset_defaults)
        self.param_note = QLabel(page)
        self.param_note.setProperty("role", "hint")

        right = QWidget(page)
        buttons = QHBoxLayout()
        buttons.addWidget(self.param_note, 1)
        buttons.addWidget(defaults_button)
        buttons.addWidget(apply_button)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        right_layout.addWidget(self.param_form, 1)
        right_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal, page)
        splitter.setObjectName("strategy_list_params")  # the window saves named splitters
        splitter.addWidget(self.strategy_list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([150, 350])
        layout = QVBoxLayout(page)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(splitter)
        if self.strategy_list.count():
            self.strategy_list.setCurrentRow(0)
        return page

    def select_strategy(self, name: str) -> None:
        for row in range(self.strategy_list.count()):
            item = self.strategy_list.item(row)
            if item is not None and item.data(NAME_ROLE) == name:
                self.strategy_list.setCurrentRow(row)
                return
        raise KeyError(name)

    def set_enabled(self, name: str, on: bool) -> None:
        """Show the engine's state of a strategy (no signal is emitted)."""
        self._enabled.discard(name)
        if on:
            self._enabled.add(name)
        item = self._item(name)
        self.strategy_list.blockSignals(True)
        item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.strategy_list.blockSignals(False)

    def enabled(self) -> list[str]:
        return sorted(self._enabled)

    def params_of(self, name: str) -> dict[str, float]:
        return dict(self._params.get(name, {}))

    def apply_params(self) -> bool:
        strategy = self.param_form.strategy()
        if strategy is None:
            self.param_note.setText("")
            return False
        self._params[strategy.name] = dict(strategy.values)
        self.param_note.setText(f"적용됨: {strategy.describe()}")
        self.params_changed.emit(strategy.name, dict(strategy.values))
        return True

    def _on_apply(self) -> None:
        self.apply_params()

    def _item(self, name: str) -> QListWidgetItem:
        for row in range(self.strategy_list.count()):
            item = self.strategy_list.item(row)
            if item is not None and item.data(NAME_ROLE) == name:
                return item
        raise KeyError(name)

    def _on_strategy_selected(self, item: QListWidgetItem | None, _old: Any = None) -> None:
        if item is None:
            return
        name = str(item.data(NAME_ROLE))
        self.param_form.set_strategy(self._registry[name], self._params.get(name))
        self.param_note.setText("")

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        name = str(item.data(NAME_ROLE))
        on = item.checkState() == Qt.CheckState.Checked
        if on == (name in self._enabled):
            return
        if on:
            self._enabled.add(name)
        else:
            self._enabled.discard(name)
        self.strategy_toggled.emit(name, on)

    # --- 신호 ----------------------------------------------------------------------------

    def on_signals_changed(self, keys: list[str]) -> None:
        """Slot for the engine's signals-table change (keys, `[]` = rows added)."""
        self.signals_view.apply_change(keys)

    def show_scanner_status(self, status: ScannerStatus | None) -> None:
        if status is None:
            self.status_label.setText("스캐너 꺼짐")
            return
        target = f", 기준 봉 {status.target_bar:%H:%M}" if status.target_bar else " (장 시간 아님)"
        names = ", ".join(status.strategies) or "켜진 전략 없음"
        self.status_label.setText(
            f"스캐너: {status.codes}종목 중 {status.up_to_date}개 최신{target}, "
            f"조회 중 {status.in_flight} · {names}"
        )

    def _on_signal_activated(self, key: str) -> None:
        row = self.signals_view.model.row_values(key)
        if row is not None:
            self.stock_selected.emit(str(row["code"]))

    def _update_signal_tab(self) -> None:
        count = self.signals_view.model.rowCount()
        self.tabs.setTabText(2, f"신호 ({count})" if count else "신호")


def _number(value: float) -> str:
    return f"{value:g}"
