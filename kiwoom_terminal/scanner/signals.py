"""The signals table: what the strategies said about the watchlist, one row per signal.

A signal is kept at most once per bar, code, strategy and side: the scanner may see the
same bar again after a restart or a late reply, and the user must not see — nor the engine
buy on — the same signal twice. (A later bar's signal is a new one: a strategy may say SELL
at the open, before anything was bought, and SELL again in the afternoon; a second BUY of
the day meets the engine's re-buy block.)
Rows live in a DataFrame for the 전략 dock (schema `SIGNALS`, English keys like the engine's
tables) and in SQLite in the user data folder, whose UNIQUE key makes the rule hold across
restarts: `SignalBook.add` is an `INSERT OR IGNORE`, so a signal that was already stored,
by this run or an earlier one, is reported as a duplicate and nothing else happens.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pandas as pd

from kiwoom_terminal.constants import Side
from kiwoom_terminal.engine.tables import TableSchema


class SignalStatus(str, Enum):
    """What became of a signal. Stable codes (stored in SQLite); the dock shows Korean."""

    NEW = "new"  # shown only (buy routing off, or a sell signal)
    ROUTED = "routed"  # handed to the engine's buy path as a buy candidate
    BOUGHT = "bought"  # the engine placed the buy order
    SKIPPED = "skipped"  # the engine's guards or risk checks refused it (see `note`)
    SOLD = "sold"  # a sell signal: the engine flagged the position(s) for selling


# 전략 신호: one row per (bar, code, strategy, side).
SIGNALS = TableSchema(
    "signals",
    "signal_id",
    (
        ("signal_id", "object"),  # "<day>:<code>:<strategy>:<side>:<bar HHMM>"
        ("day", "object"),  # trading day, YYYYMMDD
        ("bar_time", "object"),  # start of the signal bar, YYYY-MM-DD HH:MM
        ("detected_at", "object"),  # when the scanner saw it, HH:MM:SS (market clock)
        ("code", "object"),
        ("name", "object"),
        ("strategy", "object"),  # registered strategy name
        ("params", "object"),  # strategy.describe(), e.g. "sma_cross(fast=5, slow=20)"
        ("side", "object"),  # Side value
        ("price", "int64"),  # close of the signal bar
        ("status", "object"),  # SignalStatus value
        ("note", "object"),  # Korean: why it was skipped, which order, …
    ),
)


@dataclass(frozen=True)
class SignalData:
    """One strategy signal on one completed bar."""

    day: dt.date
    bar_time: dt.datetime
    detected_at: dt.datetime
    code: str
    name: str
    strategy: str
    params: str
    side: Side
    price: int
    status: SignalStatus = SignalStatus.NEW
    note: str = ""

    @property
    def signal_id(self) -> str:
        """The one key of a signal everywhere (table rows, logs, the engine's source)."""
        return signal_id(self.day, self.code, self.strategy, self.side, self.bar_time)

    def row(self) -> dict[str, object]:
        """The table row of this signal."""
        return {
            "signal_id": self.signal_id,
            "day": self.day.strftime("%Y%m%d"),
            "bar_time": self.bar_time.strftime("%Y-%m-%d %H:%M"),
            "detected_at": self.detected_at.strftime("%H:%M:%S"),
            "code": self.code,
            "name": self.name,
            "strategy": self.strategy,
            "params": self.params,
            "side": self.side.value,
            "price": self.price,
            "status": self.status.value,
            "note": self.note,
        }


def signal_id(day: dt.date, code: str, strategy: str, side: Side, bar_time: dt.datetime) -> str:
    return f"{day:%Y%m%d}:{code}:{strategy}:{side.value}:{bar_time:%H%M}"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS signals (
    signal_id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    bar_time TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    strategy TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '',
    side TEXT NOT NULL,
    price INTEGER NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (day, code, strategy, side, bar_time)
);
CREATE INDEX IF NOT EXISTS signals_day ON signals (day);
"""
SCHEMA_VERSION = 2  # 1: one signal per day, code, strategy and side (ids without the bar)
_COLUMNS = SIGNALS.column_names


class SignalBook:
    """The signals of the last `keep_days` days: a DataFrame for the views, SQLite on disk.

    `path=None` keeps everything in memory (tests, the backtest tab). Change it only from
    the thread that owns the scanner (the engine's). `table()` may be read from any thread
    (the window's): the frame is replaced on every change, never changed in place.
    """

    def __init__(
        self, path: Path | None, *, today: dt.date, keep_days: int = 5, dedup: str = "day"
    ) -> None:
        self.path = path
        # "day": one signal per day, code, strategy and side; "bar": one per bar of those
        # (`[scanner] signal_dedup`; the engine sets it again when the settings change).
        self.dedup = dedup
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(":memory:" if path is None else str(path))
        self._migrate()
        self._db.executescript(_SCHEMA)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        since = (today - dt.timedelta(days=keep_days)).strftime("%Y%m%d")
        with self._db:  # old rows are history nobody shows any more
            self._db.execute("DELETE FROM signals WHERE day < ?", (since,))
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM signals ORDER BY day, detected_at"
        ).fetchall()
        frame = pd.DataFrame(rows, columns=list(_COLUMNS)) if rows else SIGNALS.empty()
        self._frame = frame.astype(dict(SIGNALS.columns)).set_index("signal_id", drop=False)

    def _migrate(self) -> None:
        """A version-1 file (no bar in the key) is rebuilt with the current key; its rows
        keep their values and get their new ids."""
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        exists = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'signals'"
        ).fetchone()
        if exists and version < SCHEMA_VERSION:
            columns = ", ".join(_COLUMNS[1:])
            with self._db:
                self._db.execute("ALTER TABLE signals RENAME TO signals_v1")
                self._db.execute("DROP INDEX IF EXISTS signals_day")
                self._db.executescript(_SCHEMA)
                self._db.execute(
                    f"INSERT OR IGNORE INTO signals (signal_id, {columns}) "
                    "SELECT day || ':' || code || ':' || strategy || ':' || side || ':' || "
                    f"substr(bar_time, 12, 2) || substr(bar_time, 15, 2), {columns} "
                    "FROM signals_v1"
                )
                self._db.execute("DROP TABLE signals_v1")
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def table(self) -> pd.DataFrame:
        """The signals, oldest first, indexed by signal_id. Read-only for callers."""
        return self._frame

    def __contains__(self, key: str) -> bool:
        return key in self._frame.index

    def add(self, signal: SignalData) -> bool:
        """Store a signal; False (and nothing changes) when its day (`dedup="day"`) or its
        bar (`dedup="bar"`), code, strategy and side already has one."""
        row = signal.row()
        with self._db:
            if (
                self.dedup == "day"
                and self._db.execute(
                    "SELECT 1 FROM signals WHERE day = ? AND code = ? AND strategy = ? AND side = ?",
                    (row["day"], row["code"], row["strategy"], row["side"]),
                ).fetchone()
            ):
                return False
            cursor = self._db.execute(
                f"INSERT OR IGNORE INTO signals ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
                [row[c] for c in _COLUMNS],
            )
        if cursor.rowcount == 0:
            return False
        new = pd.DataFrame([row], columns=list(_COLUMNS)).astype(dict(SIGNALS.columns))
        new = new.set_index("signal_id", drop=False)
        self._frame = new if self._frame.empty else pd.concat([self._frame, new])
        return True

    def set_status(self, key: str, status: SignalStatus, note: str = "") -> None:
        """Record what became of a signal (the engine reports it); unknown keys raise
        KeyError."""
        if key not in self._frame.index:
            raise KeyError(key)
        with self._db:
            self._db.execute(
                "UPDATE signals SET status = ?, note = ? WHERE signal_id = ?",
                (status.value, note, key),
            )
        frame = self._frame.copy()  # replaced, not changed in place: see the class docstring
        frame.loc[key, ["status", "note"]] = [status.value, note]
        self._frame = frame

    def of_day(self, day: dt.date) -> pd.DataFrame:
        return self._frame[self._frame["day"] == day.strftime("%Y%m%d")]

    def keys(self) -> Iterable[str]:
        return self._frame.index
