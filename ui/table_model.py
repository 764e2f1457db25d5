"""A keyed `QAbstractTableModel` over one of the engine's tables, declared by column specs.

The engine owns the table (its published rows, `engine.table_rows(name)`, or a DataFrame
indexed by the key column) and says which rows changed (`table_changed(name, keys)`, `[]` =
rows were added or removed). A `RowReader` hands the model `(key, row)` pairs: the engine's
own row dicts (`PublishedRows`, what the window uses: no DataFrame is built per refresh, and
a row the engine did not replace is skipped by identity) or the rows of a DataFrame
(`FrameRows`, for tables that only exist as frames). The model keeps one cached row per key
— the plain values, display texts and colours of the shown columns — so `data()` is a list
lookup however often the view repaints. Changes reach the view as row inserts/removals and
one targeted `dataChanged` per contiguous run of changed rows, limited to the columns that
changed; never a model reset per tick and never a column resize. Sorting (on raw values)
and text filtering go through `TableProxyModel`.
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

from kiwoom_terminal.engine.state import plain_row, plain_value
from kiwoom_terminal.engine.tables import TableSchema
from ui.qt import HORIZONTAL, ITEM_NONE, ITEM_SELECTABLE
from ui.theme import direction_colour

SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # raw value for numeric sorting
KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 2  # the row's key (e.g. order_no)

# Plain ints: data() runs for every role of every painted cell, so it avoids enum lookups.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_CHECK = int(Qt.ItemDataRole.CheckStateRole)
# Looked up once: flags runs for every cell Qt paints (see ui/qt.py, HORIZONTAL).
_CHECKABLE = ITEM_SELECTABLE | Qt.ItemFlag.ItemIsUserCheckable

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


class RowReader:
    """Where a model's rows come from.

    `read(keys)` gives `(key, raw row)` for those of `keys` that exist, or for every row in
    table order when `keys` is None; `plain(raw)` gives a raw row's values as plain Python
    scalars (None for a missing value). A reader that hands out the same raw object while a
    row is unchanged lets the model skip that row without looking at it."""

    def read(self, keys: Sequence[str] | None) -> list[tuple[Any, Any]]:
        raise NotImplementedError

    def plain(self, raw: Any) -> dict[str, Any]:
        return dict(raw)


class PublishedRows(RowReader):
    """The engine's published rows of one table (`engine.table_rows`), by its schema."""

    def __init__(
        self,
        read: Callable[[Sequence[str] | None], list[tuple[Any, Any]]],
        schema: TableSchema,
    ) -> None:
        self._read = read
        self._schema = schema

    def read(self, keys: Sequence[str] | None) -> list[tuple[Any, Any]]:
        return self._read(keys)

    def plain(self, raw: Any) -> dict[str, Any]:
        return plain_row(self._schema, raw)


class FrameRows(RowReader):
    """The rows of a DataFrame indexed by its key column (`source()` gives the current
    one), every column read as plain values (colour rules may look at columns that are
    not shown)."""

    def __init__(self, source: Callable[[], pd.DataFrame]) -> None:
        self._source = source

    def read(self, keys: Sequence[str] | None) -> list[tuple[Any, Any]]:
        frame = self._source()
        if keys is None:
            keys = [str(k) for k in frame.index]
        positions = frame.index.get_indexer(pd.Index(keys, dtype=object))
        found = positions >= 0  # a key the frame lost between signals: the next sync drops it
        keys_found = [k for k, ok in zip(keys, found) if ok]
        take = positions[found]
        columns: dict[str, list[Any]] = {}
        for name in frame.columns:
            columns[str(name)] = _plain_list(frame[name].to_numpy()[take])
        names = list(columns)
        return [
            (key, {name: columns[name][i] for name in names}) for i, key in enumerate(keys_found)
        ]

    def plain(self, raw: Any) -> dict[str, Any]:
        return raw  # already plain: built fresh by read()


class _CachedRow:
    """What the model shows for one key; rebuilt only when the engine reports a change."""

    __slots__ = ("brushes", "colours", "key", "raw", "sort", "texts", "values")

    def __init__(
        self, key: str, raw: Any, values: dict[str, Any], columns: Sequence[ColumnSpec]
    ) -> None:
        self.key = key
        self.raw = raw  # the reader's row these values came from (identity = unchanged)
        self.values = values
        self.texts: list[str | None] = []
        self.sort: list[Any] = []
        self.colours: list[float | None] = []
        self.brushes: list[QBrush | None] = []
        for spec in columns:
            raw = values.get(spec.key)
            if spec.checkable:
                self.texts.append(None)  # the check box says it
            else:
                self.texts.append(spec.formatter(raw) if raw is not None else "")
            self.sort.append(_sort_value(raw))
            sign = spec.colour(values) if spec.colour is not None else None
            self.colours.append(sign)
            self.brushes.append(None if sign is None else _brush(sign))


def _brush(sign: float) -> QBrush:
    key = 1 if sign > 0 else -1 if sign < 0 else 0
    brush = _BRUSHES.get(key)
    if brush is None:
        brush = _BRUSHES[key] = QBrush(direction_colour(key))
    return brush


_BRUSHES: dict[int, QBrush] = {}


class DataFrameTableModel(QAbstractTableModel):
    """Keyed rows of one engine table. Row order is arrival order; the proxy sorts.

    `source` is a `RowReader`, or a callable giving the current DataFrame (read through
    `FrameRows`)."""

    check_toggled = pyqtSignal(str, str, bool)  # row key, column key, new checked state

    def __init__(
        self,
        columns: Sequence[ColumnSpec],
        source: RowReader | Callable[[], pd.DataFrame],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns: tuple[ColumnSpec, ...] = tuple(columns)
        self._reader = source if isinstance(source, RowReader) else FrameRows(source)
        self._rows: list[_CachedRow] = []
        self._row_of: dict[str, int] = {}
        self._column_index = {spec.key: i for i, spec in enumerate(self.columns)}
        self._alignments = [spec.alignment for spec in self.columns]

    # --- Qt model interface -------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        if role == _DISPLAY:
            return self._rows[index.row()].texts[index.column()]
        if role == _FOREGROUND:
            return self._rows[index.row()].brushes[index.column()]
        if role == _ALIGNMENT:
            return self._alignments[index.column()]
        if role == SORT_ROLE:
            return self._rows[index.row()].sort[index.column()]
        if role == KEY_ROLE:
            return self._rows[index.row()].key
        if role == _CHECK:
            spec = self.columns[index.column()]
            if not spec.checkable:
                return None
            checked = bool(self._rows[index.row()].values.get(spec.key))
            return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        if role == _TOOLTIP:
            text = self._rows[index.row()].texts[index.column()]
            return text if text and len(text) > 12 else None  # long texts may be cut off
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != HORIZONTAL or not 0 <= section < len(self.columns):
            return None
        spec = self.columns[section]
        if role == _DISPLAY:
            return spec.label
        if role == _TOOLTIP:
            return spec.tooltip or spec.label
        if role == _ALIGNMENT:
            return CENTER
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlags:
        if not index.isValid():
            return ITEM_NONE
        if self.columns[index.column()].checkable:
            return _CHECKABLE
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
        """Match the rows to the table: remove vanished keys, append new ones (table
        order), and refresh the values of the rows that stayed."""
        entries = [(str(key), raw) for key, raw in self._reader.read(None)]
        wanted = {key for key, _ in entries}
        gone = [i for i, row in enumerate(self._rows) if row.key not in wanted]
        for first, last in reversed(row_runs(gone)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            self.endRemoveRows()
        if gone:
            self._reindex()
        fresh = [(key, raw) for key, raw in entries if key not in self._row_of]
        if fresh:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(fresh) - 1)
            plain = self._reader.plain
            for key, raw in fresh:
                self._row_of[key] = len(self._rows)
                self._rows.append(_CachedRow(key, raw, plain(raw), self.columns))
            self.endInsertRows()
        added = {key for key, _ in fresh}
        stayed = [(key, raw) for key, raw in entries if key not in added]
        if stayed:
            self._refresh(stayed)

    def update_rows(self, keys: Iterable[Any]) -> None:
        """Refresh the given keys; unknown keys mean rows were added, so re-sync instead."""
        key_list = [str(k) for k in keys]
        if any(k not in self._row_of for k in key_list):
            self.sync_rows()
            return
        self._refresh([(str(key), raw) for key, raw in self._reader.read(key_list)])

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

    def column_values(self, column: str) -> list[Any]:
        """The cached raw values of one engine column, in row order."""
        return [row.values[column] for row in self._rows]

    def column_of(self, key: str) -> int:
        return self._column_index[key]

    # --- Internals ----------------------------------------------------------------------

    def _refresh(self, entries: list[tuple[str, Any]]) -> None:
        plain = self._reader.plain
        changed: dict[int, tuple[int, int]] = {}  # row -> (first column, last column)
        for key, raw in entries:
            row = self._row_of.get(key)
            if row is None:
                continue
            old = self._rows[row]
            if old.raw is raw:
                continue  # the same row object: the engine did not replace it
            values = plain(raw)
            if old.values == values:
                old.raw = raw
                continue  # the engine reported it, but nothing we show moved
            new = _CachedRow(key, raw, values, self.columns)
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
        for first, last in row_runs(sorted(changed)):
            left = min(changed[r][0] for r in range(first, last + 1) if r in changed)
            right = max(changed[r][1] for r in range(first, last + 1) if r in changed)
            self.dataChanged.emit(self.index(first, left), self.index(last, right), [])

    def _reindex(self) -> None:
        self._row_of = {row.key: i for i, row in enumerate(self._rows)}


class TableProxyModel(QSortFilterProxyModel):
    """Sorts on raw values (`SORT_ROLE`) and filters on the text of every column."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)


def _plain_list(array: np.ndarray) -> list[Any]:
    """A column slice as Python scalars (Qt sorts them; formatters expect ints), with
    missing values (NaN, NA, NaT) as None."""
    if array.dtype.kind == "f":
        values = array.tolist()
        if np.isnan(array).any():
            return [None if v != v else v for v in values]
        return values
    if array.dtype.kind in "iub":
        return array.tolist()
    return [plain_value(v) for v in array.tolist()]


def _sort_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def row_runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted row numbers grouped into (first, last) runs of consecutive rows."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out
