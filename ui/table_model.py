"""A keyed `QAbstractTableModel` over one of the engine's DataFrames, declared by column specs.

The engine owns the DataFrame (`engine.table(name)`, indexed by the table's key column) and
says which rows changed (`table_changed(name, keys)`, `[]` = rows were added or removed).
The model keeps one cached row per key — the raw values, display texts and colours of the
shown columns — so `data()` is a list lookup however often the view repaints. Changes reach
the view as row inserts/removals and one targeted `dataChanged` per contiguous run of changed
rows, limited to the columns that changed; never a model reset per tick and never a column
resize. Sorting (on raw values) and text filtering go through `TableProxyModel`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from PyQt5.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    pyqtSignal,
)
from PyQt5.QtGui import QBrush

from ui.qt import ITEM_NONE, ITEM_SELECTABLE
from ui.theme import direction_colour

SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # raw value for numeric sorting
KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 2  # the row's key (e.g. order_no)

LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
CENTER = int(Qt.AlignmentFlag.AlignCenter)

Row = Mapping[str, Any]


def plain_text(value: Any) -> str:
    """Default formatter: the value as text, blank for None / NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


@dataclass(frozen=True)
class ColumnSpec:
    """One shown column: DataFrame key, Korean header, formatter, alignment and colour rule.

    `colour(row)` returns a sign (> 0 red, < 0 blue, 0 plain, None for no colour) computed
    from the whole row, so e.g. 현재가 can be coloured against 평균단가. `checkable` columns
    show a check box; toggling it emits `DataFrameTableModel.check_toggled` and leaves the
    data alone (the engine owns it and will report the change). `width` is the default
    column width in pixels, applied once (the user's widths are saved and restored).
    """

    key: str
    label: str
    formatter: Callable[[Any], str] = plain_text
    alignment: int = LEFT
    colour: Callable[[Row], float | None] | None = None
    width: int = 80
    checkable: bool = False
    tooltip: str = ""


class _CachedRow:
    """What the model shows for one key; rebuilt only when the engine reports a change."""

    __slots__ = ("colours", "key", "sort", "texts", "values")

    def __init__(self, key: str, values: dict[str, Any], columns: Sequence[ColumnSpec]) -> None:
        self.key = key
        self.values = values
        self.texts: list[str] = []
        self.sort: list[Any] = []
        self.colours: list[float | None] = []
        for spec in columns:
            raw = values.get(spec.key)
            self.texts.append(spec.formatter(raw) if raw is not None else "")
            self.sort.append(_sort_value(raw))
            self.colours.append(spec.colour(values) if spec.colour is not None else None)


class DataFrameTableModel(QAbstractTableModel):
    """Keyed rows of one engine table. Row order is arrival order; the proxy sorts."""

    check_toggled = pyqtSignal(str, str, bool)  # row key, column key, new checked state

    def __init__(
        self,
        columns: Sequence[ColumnSpec],
        source: Callable[[], pd.DataFrame],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns: tuple[ColumnSpec, ...] = tuple(columns)
        self._source = source
        self._rows: list[_CachedRow] = []
        self._row_of: dict[str, int] = {}
        self._brushes: dict[float, QBrush] = {}
        self._column_index = {spec.key: i for i, spec in enumerate(self.columns)}

    # --- Qt model interface -------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = index.column()
        spec = self.columns[col]
        if role == Qt.ItemDataRole.DisplayRole:
            return None if spec.checkable else row.texts[col]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return spec.alignment
        if role == Qt.ItemDataRole.ForegroundRole:
            sign = row.colours[col]
            return None if sign is None else self._brush(sign)
        if role == SORT_ROLE:
            return row.sort[col]
        if role == KEY_ROLE:
            return row.key
        if role == Qt.ItemDataRole.CheckStateRole and spec.checkable:
            checked = bool(row.values.get(spec.key))
            return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole and len(row.texts[col]) > 12:
            return row.texts[col]  # long texts (reasons, log lines) may be cut off
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        spec = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return spec.label
        if role == Qt.ItemDataRole.ToolTipRole:
            return spec.tooltip or spec.label
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return CENTER
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlags:
        if not index.isValid():
            return ITEM_NONE
        if self.columns[index.column()].checkable:
            return ITEM_SELECTABLE | Qt.ItemFlag.ItemIsUserCheckable
        return ITEM_SELECTABLE

    def setData(self, index: QModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """A check box click asks for a change (signal); the cached value stays until the
        engine reports the new state, so the view never shows what the engine did not do."""
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole:
            return False
        spec = self.columns[index.column()]
        if not spec.checkable:
            return False
        checked = value in (Qt.CheckState.Checked, int(Qt.CheckState.Checked), True)
        self.check_toggled.emit(self._rows[index.row()].key, spec.key, checked)
        return True

    # --- Engine-facing updates ----------------------------------------------------------

    def apply_change(self, keys: Sequence[Any]) -> None:
        """Handle `table_changed(name, keys)`: `[]` re-syncs rows, else updates those keys."""
        if keys:
            self.update_rows(keys)
        else:
            self.sync_rows()

    def sync_rows(self) -> None:
        """Match the rows to the frame: remove vanished keys, append new ones (frame order),
        and refresh the values of the rows that stayed."""
        frame = self._source()
        keys = [str(k) for k in frame.index]
        wanted = set(keys)
        gone = [i for i, row in enumerate(self._rows) if row.key not in wanted]
        for first, last in reversed(_runs(gone)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            self.endRemoveRows()
        if gone:
            self._reindex()
        new_keys = [k for k in keys if k not in self._row_of]
        if new_keys:
            fresh = self._read(frame, new_keys)
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(fresh) - 1)
            for key in new_keys:
                self._row_of[key] = len(self._rows)
                self._rows.append(_CachedRow(key, fresh[key], self.columns))
            self.endInsertRows()
        added = set(new_keys)
        stayed = [k for k in keys if k not in added]
        if stayed:
            self._refresh(frame, stayed)

    def update_rows(self, keys: Iterable[Any]) -> None:
        """Refresh the given keys; unknown keys mean rows were added, so re-sync instead."""
        key_list = [str(k) for k in keys]
        if any(k not in self._row_of for k in key_list):
            self.sync_rows()
            return
        self._refresh(self._source(), key_list)

    # --- Lookups for views --------------------------------------------------------------

    def key_at(self, row: int) -> str:
        return self._rows[row].key

    def row_of(self, key: str) -> int | None:
        return self._row_of.get(key)

    def row_values(self, key: str) -> dict[str, Any] | None:
        """The cached raw values of a row (a copy), or None when the key is not shown."""
        row = self._row_of.get(key)
        return None if row is None else dict(self._rows[row].values)

    def keys(self) -> list[str]:
        return [row.key for row in self._rows]

    def column_of(self, key: str) -> int:
        return self._column_index[key]

    # --- Internals ----------------------------------------------------------------------

    def _refresh(self, frame: pd.DataFrame, keys: list[str]) -> None:
        fresh = self._read(frame, keys)
        changed: dict[int, tuple[int, int]] = {}  # row -> (first column, last column)
        for key, values in fresh.items():
            row = self._row_of[key]
            old = self._rows[row]
            new = _CachedRow(key, values, self.columns)
            cols = [
                c
                for c in range(len(self.columns))
                if old.texts[c] != new.texts[c]
                or old.colours[c] != new.colours[c]
                or old.sort[c] != new.sort[c]
            ]
            self._rows[row] = new
            if cols:
                changed[row] = (cols[0], cols[-1])
        for first, last in _runs(sorted(changed)):
            left = min(changed[r][0] for r in range(first, last + 1) if r in changed)
            right = max(changed[r][1] for r in range(first, last + 1) if r in changed)
            self.dataChanged.emit(self.index(first, left), self.index(last, right), [])

    def _read(self, frame: pd.DataFrame, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Raw values of the shown (and colour-rule) columns for `keys`, as Python scalars."""
        positions = frame.index.get_indexer(pd.Index(keys, dtype=object))
        wanted = [str(c) for c in frame.columns]
        arrays = {c: frame[c].to_numpy() for c in wanted}
        out: dict[str, dict[str, Any]] = {}
        for key, pos in zip(keys, positions):
            if pos < 0:
                continue  # the frame lost this key between signals; the next sync removes it
            out[key] = {c: _python(arrays[c][pos]) for c in wanted}
        return out

    def _reindex(self) -> None:
        self._row_of = {row.key: i for i, row in enumerate(self._rows)}

    def _brush(self, sign: float) -> QBrush:
        key = 1.0 if sign > 0 else -1.0 if sign < 0 else 0.0
        brush = self._brushes.get(key)
        if brush is None:
            brush = self._brushes[key] = QBrush(direction_colour(key))
        return brush


class TableProxyModel(QSortFilterProxyModel):
    """Sorts on raw values (`SORT_ROLE`) and filters on the text of every column."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)


def _python(value: Any) -> Any:
    """numpy scalars become Python ones (Qt sorts them; formatters expect ints)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _sort_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted row numbers grouped into (first, last) runs of consecutive rows."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out
