"""The engine's DataFrames with change tracking: at most one build per table per flush, and
the exact keys of the rows that changed for `table_changed`.

Rows are staged as plain dicts (`set_row`, `update_row`, `remove`, `sync`) while the engine
handles a drain; `flush()` then compares each staged row with the row last published and
reports per table either the changed keys or `[]` when rows were added or removed (the views
re-sync their rows then). The DataFrame of a changed table is built from its rows when it is
next read (`frame()`: a view refreshing, a snapshot), not in the flush: a flush runs right
after a drain — right after an order left — and without a window (`--headless`) nobody
reads most tables between two flushes. Nothing here touches pandas per tick or per row.

Frames are replaced, never mutated in place, so a view that still holds the previous frame
keeps reading consistent data. The window's table views do not need frames at all: they read
the published rows themselves (`published_rows`, `engine.table_rows`), as the same dicts
until a row changes, so a view skips an unchanged row by identity and the GUI thread builds
no DataFrame per refresh (it did, ~10 a second, holding the GIL the engine needs).

Threads: with the window open the engine runs in a thread of its own (`engine/thread.py`)
and the views read frames from the GUI thread. Staging and flushing happen in the engine's
thread only; `frame()` may be called from any thread. A lock guards the published rows and
the frames: a reader copies the published rows under it (published rows are never changed
in place, only replaced) and builds the frame outside it, so the engine's flush never waits
for a build.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kiwoom_terminal.engine.tables import ALL_TABLES, TableSchema

Row = dict[str, Any]
_REMOVED = None


class TableStore:
    """The five engine tables (`tables.ALL_TABLES`), each as published rows plus a frame."""

    def __init__(self, schemas: Iterable[TableSchema] = ALL_TABLES) -> None:
        self.schemas: dict[str, TableSchema] = {s.name: s for s in schemas}
        self._rows: dict[str, dict[Any, Row]] = {name: {} for name in self.schemas}
        self._empty: dict[str, pd.DataFrame] = {n: s.empty() for n, s in self.schemas.items()}
        # Per table: (version of the published rows it was built from, frame).
        self._frames: dict[str, tuple[int, pd.DataFrame]] = {
            n: (0, f) for n, f in self._empty.items()
        }
        self._version: dict[str, int] = dict.fromkeys(self.schemas, 0)  # bumped per flush
        self._lock = threading.Lock()  # published rows, versions and frames (docstring)
        self._staged: dict[str, dict[Any, Row | None]] = {name: {} for name in self.schemas}

    # --- reading -----------------------------------------------------------------------

    def frame(self, name: str) -> pd.DataFrame:
        """The table as last flushed (indexed by its key column), built now if it changed.
        Safe from any thread (module docstring)."""
        self._check_name(name)
        with self._lock:
            version = self._version[name]
            built_version, frame = self._frames[name]
            if built_version == version:
                return frame
            rows = dict(self._rows[name])
        # An empty table shares one empty frame (frames are never mutated).
        frame = _build(self.schemas[name], rows) if rows else self._empty[name]
        with self._lock:
            stored_version, stored = self._frames[name]
            if stored_version > version:  # another reader built a newer one meanwhile
                return stored
            self._frames[name] = (version, frame)
            return frame

    def published_rows(self, name: str, keys: Iterable[Any] | None = None) -> list[tuple[Any, Row]]:
        """`(key, row)` of the rows as last flushed, in frame order — all of them, or those
        of `keys` that exist. Safe from any thread. The rows are the published dicts
        themselves: never change one (see `plain_row` for display values); a row that did
        not change since the last call is the same object."""
        self._check_name(name)
        with self._lock:
            published = self._rows[name]
            if keys is None:
                return list(published.items())
            return [(key, published[key]) for key in keys if key in published]

    def _check_name(self, name: str) -> None:
        if name not in self.schemas:
            known = ", ".join(self.schemas)
            raise KeyError(f"unknown table {name!r} (known: {known})")

    def rows(self, name: str) -> dict[Any, Row]:
        """Current rows, staged changes included (a copy; for tests and snapshots)."""
        rows = dict(self._rows[name])
        for key, row in self._staged[name].items():
            if row is _REMOVED:
                rows.pop(key, None)
            else:
                rows[key] = row
        return rows

    def get(self, name: str, key: Any) -> Row | None:
        staged = self._staged[name]
        if key in staged:
            return staged[key]
        return self._rows[name].get(key)

    # --- staging -----------------------------------------------------------------------

    def set_row(self, name: str, key: Any, row: Mapping[str, Any]) -> None:
        """Stage a whole row (missing columns get the schema's empty value)."""
        schema = self.schemas[name]
        full = {column: row.get(column, _empty(dtype)) for column, dtype in schema.columns}
        full[schema.key] = key
        self._staged[name][key] = full

    def update_row(self, name: str, key: Any, **changes: Any) -> None:
        """Stage changes to some columns of an existing row (ignored when it has none)."""
        current = self.get(name, key)
        if current is None:
            return
        merged = dict(current)
        merged.update(changes)
        self._staged[name][key] = merged

    def remove(self, name: str, key: Any) -> None:
        if self.get(name, key) is not None:
            self._staged[name][key] = _REMOVED

    def sync(self, name: str, rows: Mapping[Any, Mapping[str, Any]]) -> None:
        """Stage the table to hold exactly `rows` (key → row)."""
        for key in list(self.rows(name)):
            if key not in rows:
                self.remove(name, key)
        for key, row in rows.items():
            self.set_row(name, key, row)

    def clear(self, name: str) -> None:
        self.sync(name, {})

    # --- publishing --------------------------------------------------------------------

    def flush(self) -> list[tuple[str, list[Any]]]:
        """Apply staged rows and return `(name, keys)` per changed table, `keys == []` when
        rows were added or removed; the frame of a changed table is rebuilt when read."""
        changes: list[tuple[str, list[Any]]] = []
        for name, staged in self._staged.items():
            if not staged:
                continue
            self._staged[name] = {}
            with self._lock:
                change = self._publish(name, staged)
            if change is not None:
                changes.append((name, change))
        return changes

    def _publish(self, name: str, staged: dict[Any, Row | None]) -> list[Any] | None:
        """Apply one table's staged rows (under the lock); its change, None when none."""
        published = self._rows[name]
        structural = False
        changed: list[Any] = []
        for key, row in staged.items():
            old = published.get(key)
            if row is _REMOVED:
                if old is not None:
                    del published[key]
                    structural = True
            elif old is None:
                published[key] = row
                structural = True
            elif old != row:
                published[key] = row
                changed.append(key)
        if not structural and not changed:
            return None
        self._version[name] += 1
        return [] if structural else changed


def plain_row(schema: TableSchema, row: Mapping[str, Any]) -> dict[str, Any]:
    """A published row as the values its frame would hold, as plain Python scalars: ints
    in int64 columns, floats in float64 ones (NaN as None), bools in bool ones, and None
    for a missing value in an object column. What the views format and sort."""
    out: dict[str, Any] = {}
    for column, dtype in schema.columns:
        value = row[column]
        kind = type(value)
        if dtype == "int64":
            out[column] = value if kind is int else _whole(column, value)
        elif dtype == "float64":
            number = value if kind is float else float(value)
            out[column] = None if number != number else number
        elif dtype == "bool":
            out[column] = value if kind is bool else bool(value)
        elif kind is str or kind is int:
            out[column] = value
        else:
            out[column] = plain_value(value)
    return out


def _whole(column: str, value: Any) -> int:
    """An int64 column's value as int; like the frame build, a fraction is refused."""
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"column {column!r} holds {value!r}, not a whole number")
    return int(value)


def plain_value(value: Any) -> Any:
    """A missing value (None, NA, NaT, NaN) as None, a numpy scalar as its Python value."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _empty(dtype: str) -> Any:
    if dtype == "int64":
        return 0
    if dtype == "float64":
        return 0.0
    if dtype == "bool":
        return False
    return ""


def _build(schema: TableSchema, rows: Mapping[Any, Row]) -> pd.DataFrame:
    """The frame of `rows`: one numpy array per column, the index built once.

    Building it from a pandas Series per column aligned every column on its own index and
    cost ~1 ms for 100 rows (several under load), every `price_refresh_ms`, in the thread
    that also turns ticks into orders; this takes a fifth of that. Object columns stay
    object (pandas 3 would infer its string dtype from a bare array)."""
    if not rows:
        return schema.empty()
    values = list(rows.values())
    index = pd.Index(_objects([row[schema.key] for row in values]), dtype=object, name=schema.key)
    data: dict[str, Any] = {}
    for column, dtype in schema.columns:
        items = [row[column] for row in values]
        if dtype == "object":
            data[column] = pd.Series(_objects(items), index=index, dtype=object, copy=False)
        else:
            data[column] = _numbers(items, dtype)
    return pd.DataFrame(data, index=index, copy=False)


def _objects(items: list[Any]) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _numbers(items: list[Any], dtype: str) -> np.ndarray:
    """A numeric column; anything numpy would convert loosely (floats into an int column,
    strings into bool) goes through pandas' checked conversion, as before."""
    array = np.asarray(items)
    if array.dtype.kind in _EXACT[dtype]:
        return array.astype(dtype, copy=False)
    return pd.Series(items, dtype=dtype).to_numpy()


_EXACT = {"int64": "iub", "float64": "iubf", "bool": "b"}
