"""The 로그 dock: engine messages with time, level and text, coloured by level.

Times are the market's (KST; in sim mode the simulator's clock once the engine is linked, see
`LogView.set_clock`), the same clock the fills and the status bar show, never the PC's local
zone. The model keeps at most `max_rows` lines; when full, the oldest tenth is dropped in one
removal so a busy log costs one signal per batch, not one per line. A proxy filters by
minimum level and by text; the view follows the newest line while it is scrolled to the end.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PyQt5.QtCore import (
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    pyqtSignal,
)
from PyQt5.QtGui import QBrush, QFont
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kiwoom_terminal.krx import KST, now_kst
from ui import labels
from ui.qt import ReadOnlyTableModel
from ui.theme import ERROR, MUTED, WARNING

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
LEVEL_ROLE = int(Qt.ItemDataRole.UserRole) + 1
HEADERS = ("시각", "구분", "내용")
DEFAULT_MAX_ROWS = 5_000


@dataclass(frozen=True, slots=True)
class LogEntry:
    time: dt.datetime
    level: str
    message: str


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)


@dataclass(frozen=True, slots=True)
class _Row:
    """A line as the view asks for it, built once when the line is added: a paint asks
    `data()` for every visible cell and role."""

    entry: LogEntry
    texts: tuple[str, str, str]
    brush: QBrush | None
    font: QFont | None
    level: int


class LogModel(ReadOnlyTableModel):
    """Capped list of log lines, newest last."""

    headers = HEADERS

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if max_rows < 10:
            raise ValueError(f"max_rows must be at least 10, got {max_rows}")
        self.max_rows = max_rows
        self.clock: Callable[[], dt.datetime] = now_kst  # stamps lines added without a time
        self._entries: deque[_Row] = deque()
        self._brushes = {
            "DEBUG": QBrush(MUTED),
            "WARNING": QBrush(WARNING),
            "ERROR": QBrush(ERROR),
            "CRITICAL": QBrush(ERROR),
        }
        self._bold = QFont()
        self._bold.setBold(True)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: QModelIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        row = self._entries[index.row()]
        if role == _DISPLAY:
            return row.texts[index.column()]
        if role == _FOREGROUND:
            return row.brush
        if role == _FONT:
            return row.font
        if role == _TOOLTIP:
            return row.entry.message if index.column() == 2 else None
        if role == LEVEL_ROLE:
            return row.level
        return None

    def _row(self, entry: LogEntry) -> _Row:
        level = entry.level
        texts = (
            entry.time.strftime("%H:%M:%S"),  # KST: see `append`
            labels.label(labels.LOG_LEVEL, level),
            entry.message,
        )
        font = self._bold if level in ("ERROR", "CRITICAL") else None
        return _Row(entry, texts, self._brushes.get(level), font, LEVELS.get(level, 20))

    def append(self, level: str, message: str, when: dt.datetime | None = None) -> None:
        """Add one line (level as in `logging`: DEBUG, INFO, WARNING, ERROR), at `when`
        (naive = KST; aware is converted to KST), else now by `clock`."""
        at = when if when is not None else self.clock()
        if at.tzinfo is not None:
            at = at.astimezone(KST)
        self.extend([LogEntry(at, level.upper(), message)])

    def extend(self, entries: list[LogEntry]) -> None:
        """Add lines in one insert; drops the oldest tenth first when the cap is reached."""
        if not entries:
            return
        entries = entries[-self.max_rows :]
        overflow = len(self._entries) + len(entries) - self.max_rows
        if overflow > 0:
            drop = min(len(self._entries), max(overflow, self.max_rows // 10))
            self.beginRemoveRows(QModelIndex(), 0, drop - 1)
            for _ in range(drop):
                self._entries.popleft()
            self.endRemoveRows()
        start = len(self._entries)
        self.beginInsertRows(QModelIndex(), start, start + len(entries) - 1)
        self._entries.extend(self._row(entry) for entry in entries)
        self.endInsertRows()

    def entry(self, row: int) -> LogEntry:
        return self._entries[row].entry


class LogFilterProxy(QSortFilterProxyModel):
    """Shows lines at or above a level whose text contains the filter string."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.min_level = 0
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(2)

    def set_min_level(self, level: int) -> None:
        self.min_level = level
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:
        model = self.sourceModel()
        if model is None:
            return False
        level = model.index(source_row, 0, source_parent).data(LEVEL_ROLE) or 0
        if level < self.min_level:
            return False
        return bool(super().filterAcceptsRow(source_row, source_parent))


class LogView(QWidget):
    """Level filter, text filter and the log table."""

    line_added = pyqtSignal()

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("log_view")
        self.model = LogModel(max_rows, self)
        self.proxy = LogFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.level_combo = QComboBox(self)
        for text, level in (("전체", 0), ("정보 이상", 20), ("경고 이상", 30), ("오류만", 40)):
            self.level_combo.addItem(text, level)
        self.level_combo.setCurrentIndex(1)
        self.level_combo.currentIndexChanged.connect(
            lambda _i: self.proxy.set_min_level(int(self.level_combo.currentData()))
        )
        self.proxy.set_min_level(20)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("검색")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView(self)
        self.table.setObjectName("log_table")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        vertical = self.table.verticalHeader()
        if vertical is not None:
            vertical.setVisible(False)
            vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            vertical.setDefaultSectionSize(self.fontMetrics().height() + 4)
        header = self.table.horizontalHeader()
        if header is not None:
            header.setStretchLastSection(True)
            header.resizeSection(0, 64)
            header.resizeSection(1, 44)
        top = QHBoxLayout()
        top.setSpacing(4)
        top.addWidget(self.level_combo)
        top.addWidget(self.filter_edit, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.proxy.rowsInserted.connect(self._follow)

    def set_clock(self, clock: Callable[[], dt.datetime]) -> None:
        """Stamp new lines with `clock` (the engine's server clock) instead of KST wall time."""
        self.model.clock = clock

    def append(self, level: str, message: str, when: dt.datetime | None = None) -> None:
        """Slot for the engine's `log(level, message)`."""
        bar = self.table.verticalScrollBar()
        at_end = bar is None or bar.value() >= bar.maximum() - 2
        self._follow_next = at_end
        self.model.append(level, message, when)
        self.line_added.emit()

    def _follow(self, *_args: object) -> None:
        if getattr(self, "_follow_next", True):
            self.table.scrollToBottom()
