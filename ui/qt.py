"""Small typed helpers over PyQt5 calls whose stubs say "may be None" (headers, popups,
styles) or type flag combinations as int, so the widget code stays readable under mypy."""

from __future__ import annotations

from typing import Any

from PyQt5.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, Qt
from PyQt5.QtWidgets import QAbstractItemView, QCompleter, QHeaderView, QTableView, QWidget

ALIGN_LEFT = Qt.Alignment(Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignVCenter
ALIGN_RIGHT = Qt.Alignment(Qt.AlignmentFlag.AlignRight) | Qt.AlignmentFlag.AlignVCenter
ALIGN_CENTER = Qt.Alignment(Qt.AlignmentFlag.AlignCenter)

ITEM_NONE = Qt.ItemFlags(Qt.ItemFlag.NoItemFlags)
ITEM_SELECTABLE = Qt.ItemFlags(Qt.ItemFlag.ItemIsEnabled) | Qt.ItemFlag.ItemIsSelectable

# Looked up once, not per call: headerData runs for every header section Qt paints, in the
# window's thread, under the GIL the engine's thread waits for.
HORIZONTAL = Qt.Orientation.Horizontal
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)


class ReadOnlyTableModel(QAbstractTableModel):
    """Base of the small fixed-column models (log, order book): `headers` names the columns;
    cells are selectable, never editable. Subclasses give rowCount() and data()."""

    headers: tuple[str, ...] = ()

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == HORIZONTAL and role == _DISPLAY and 0 <= section < len(self.headers):
            return self.headers[section]
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlags:
        return ITEM_SELECTABLE if index.isValid() else ITEM_NONE


def hheader(view: QTableView) -> QHeaderView:
    header = view.horizontalHeader()
    assert header is not None  # a QTableView always has one
    return header


def vheader(view: QTableView) -> QHeaderView:
    header = view.verticalHeader()
    assert header is not None
    return header


def selection(view: QAbstractItemView) -> QItemSelectionModel:
    model = view.selectionModel()
    assert model is not None  # set by setModel()
    return model


def popup(completer: QCompleter) -> QAbstractItemView:
    view = completer.popup()
    assert view is not None  # QCompleter creates its list on first use
    return view


def repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property used by a selector changed."""
    style = widget.style()
    if style is not None:
        style.unpolish(widget)
        style.polish(widget)
    widget.update()
