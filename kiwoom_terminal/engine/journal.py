"""The trade journal: every decision, order request, acknowledgement, fill, amend and cancel,
with its reason and the prices behind it, in SQLite (stdlib `sqlite3`).

The database uses WAL with `synchronous=NORMAL`: a commit is a plain write to the log and
survives a killed process; only a power cut could lose the last commits, and the start-up
reconciliation with the account covers that. Automatic checkpoints are off, because a
checkpoint fsyncs and could land inside an order's commit (milliseconds); the engine calls
`checkpoint()` from its snapshot timer instead.

Orders are written *ahead*: the engine records an order request (and the decision behind
it) before handing it to the order worker, so even a crash between the two leaves a trace
to reconcile against. A SQLite commit costs 0.1-0.4 ms (eight page writes and five file
locks), which is time a trailing-stop sell would wait. So `written_ahead(entries)` first
writes the entries as one line at the start of the intent file beside the database
(`journal.sqlite3-intent`), and the order goes out after it. The file is mapped in memory
(`_IntentFile`), so the line is a copy into pages the file already has — no system call,
so the engine's thread keeps the GIL on its way to the order (a `write()` would hand it to
the window's thread, 0.13 ms at the median) — and as durable against a killed process as
the WAL commit: the pages belong to the file, not to the process. The entries
are committed to SQLite as soon as the order is handed over, in the same engine turn; the
next order's line overwrites theirs. Any other use of the journal commits pending entries
first, so ids stay in the order things happened. A journal opened as the writer (the
engine's) folds in the line a crash left, skipping entries the database already holds
(the usual case: the line's entries were committed before the terminal stopped). Readers
(`writer=False`: the command line, tests watching a running terminal) never touch the
intent file.

Read it from the command line to answer "why did it sell?":
    python -m kiwoom_terminal.engine.journal [--mode real] [--day YYYYMMDD] [--code 005930] [--db PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import mmap
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from kiwoom_terminal.krx import KST

log = logging.getLogger(__name__)

INTENT_SUFFIX = "-intent"  # the write-ahead file beside the database (module docstring)
INTENT_MAP_BYTES = 1 << 16  # the intent file's mapped size; a longer line is written instead
_INSERT = (
    "INSERT INTO journal (at, day, kind, code, side, order_no, request_id, price,"
    " quantity, reason, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


class JournalKind(str, Enum):
    """What a journal entry records. Stable codes (stored in the database)."""

    DECISION = "decision"  # a buy/sell/skip decision and its reason
    ORDER_REQUEST = "order_request"  # written before the order is sent
    ORDER_ACK = "order_ack"  # the server accepted it (order number)
    ORDER_REJECT = "order_reject"  # refused by the server, the risk checks or validation
    ORDER_UNKNOWN = "order_unknown"  # timeout / 5xx: outcome unknown until reconciled
    ORDER_EVENT = "order_event"  # a REAL 00 event (accepted, confirmed, cancelled, rejected)
    FILL = "fill"
    AMEND = "amend"
    CANCEL = "cancel"
    RISK = "risk"  # a risk limit blocked an order or turned auto-trade off
    RECONCILE = "reconcile"  # differences found between our state and the account
    NOTICE = "notice"  # anything else worth keeping (start, stop, auto-trade on/off)


@dataclass(frozen=True)
class JournalEntry:
    """One row of the journal."""

    id: int
    at: dt.datetime
    kind: JournalKind
    code: str
    side: str
    order_no: str
    request_id: str
    price: int
    quantity: int
    reason: str
    detail: dict[str, Any]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,          -- ISO time, KST
    day TEXT NOT NULL,         -- YYYYMMDD, KST
    kind TEXT NOT NULL,
    code TEXT NOT NULL DEFAULT '',
    side TEXT NOT NULL DEFAULT '',
    order_no TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT '',
    price INTEGER NOT NULL DEFAULT 0,
    quantity INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS journal_day_code ON journal (day, code);
CREATE INDEX IF NOT EXISTS journal_order ON journal (order_no);
CREATE INDEX IF NOT EXISTS journal_request ON journal (request_id);
"""


class Journal:
    """Append-only trade journal in one SQLite file. Use from one thread (the engine's).

    `writer`: this is the terminal's own journal (one per data folder): it writes ahead
    through the intent file and folds in what a crash left there. Pass False to only read
    a journal that a running terminal may be writing."""

    def __init__(self, path: Path, *, writer: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)  # autocommit per statement
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._db.executescript(_SCHEMA)
        self.intent_path = self.path.with_name(self.path.name + INTENT_SUFFIX)
        self._intent: _IntentFile | None = None
        self._pending: list[tuple[Any, ...]] = []  # written ahead, not committed yet
        if writer:
            self._fold_intents()
            self._intent = _IntentFile(self.intent_path)

    def last_id(self) -> int:
        """The id of the newest entry (0 for an empty journal): a snapshot stores it, so a
        restart knows exactly which entries came after it."""
        self.commit_pending()
        row = self._db.execute("SELECT MAX(id) FROM journal").fetchone()
        return int(row[0] or 0)

    def first_id_of_day(self, day: str) -> int:
        """The id of the first entry of `day` (YYYYMMDD), or one past the newest when the
        day has none yet."""
        self.commit_pending()
        row = self._db.execute("SELECT MIN(id) FROM journal WHERE day = ?", (day,)).fetchone()
        return int(row[0]) if row[0] is not None else self.last_id() + 1

    @contextlib.contextmanager
    def written_ahead(
        self, entries: Iterable[tuple[JournalKind, dict[str, Any]]]
    ) -> Iterator[None]:
        """Make `entries` (kind, keyword arguments of `record`; each with its request id)
        durable with one write of one line to the intent file, run the block (which sends
        the order), then commit them to SQLite — whether or not the block raised."""
        rows = [_row(kind, **fields) for kind, fields in entries]
        if any(not row[6] for row in rows):
            raise ValueError("an entry written ahead needs its request id")
        if self._intent is None:  # a reader's journal: a plain commit before the block
            self._insert_rows(rows)
            yield
            return
        self.commit_pending()
        line = json.dumps(rows, ensure_ascii=False, separators=(",", ":")) + "\n"
        # Over the previous line, from the start: the file neither grows nor shrinks, so the
        # write touches no file-system metadata (an append after emptying it did, 0.1 ms).
        self._intent.write_line(line.encode("utf-8"))
        self._pending = rows
        try:
            yield
        finally:
            self.commit_pending()

    def commit_pending(self) -> None:
        """Commit the entries written ahead to SQLite. A failed commit keeps them pending
        (and in the intent file) for the next call or the next start."""
        if not self._pending:
            return
        self._insert_rows(self._pending)
        self._pending = []

    def _insert_rows(self, rows: list[tuple[Any, ...]]) -> None:
        self._db.execute("BEGIN")
        try:
            self._db.executemany(_INSERT, rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _fold_intents(self) -> None:
        """Commit the entries of the intent file's line that the database does not hold
        yet (same request id, kind and time), then empty the file."""
        try:
            data = self.intent_path.read_bytes()
        except FileNotFoundError:
            return
        line, newline, _ = data.partition(b"\n")  # what follows is an older, longer line
        line = line.rstrip(b"\0")  # the mapped file's unwritten rest (all of it: no line)
        rows: list[tuple[Any, ...]] = []
        if line.strip():
            try:
                if not newline:
                    raise ValueError("no line end")
                rows = [tuple(row) for row in json.loads(line)]
            except (ValueError, TypeError):
                log.warning(
                    "journal intent file %s unreadable (torn write), skipped", self.intent_path
                )
        missing = [
            row
            for row in rows
            if len(row) == 11
            and self._db.execute(
                "SELECT 1 FROM journal WHERE request_id = ? AND kind = ? AND at = ? LIMIT 1",
                (row[6], row[2], row[0]),
            ).fetchone()
            is None
        ]
        if missing:
            self._insert_rows(missing)
            log.warning(
                "journal: %d entries written just before the terminal stopped were added from %s",
                len(missing),
                self.intent_path.name,
            )
        with open(self.intent_path, "r+b") as intent:
            intent.truncate(0)

    def checkpoint(self) -> None:
        """Move the write-ahead log into the database file (call off the hot path)."""
        self.commit_pending()
        self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def checkpoint_on_own_connection(self) -> None:
        """The same checkpoint through a short-lived connection of the calling thread, so
        the engine can run it (and its fsync) on a background thread; SQLite lets any
        connection checkpoint a WAL database while others write."""
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

    def record(
        self,
        kind: JournalKind,
        *,
        code: str = "",
        side: str = "",
        order_no: str = "",
        request_id: str = "",
        price: int = 0,
        quantity: int = 0,
        reason: str = "",
        detail: dict[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> int:
        """Append one entry and commit it; returns its id."""
        self.commit_pending()
        row = _row(
            kind,
            code=code,
            side=side,
            order_no=order_no,
            request_id=request_id,
            price=price,
            quantity=quantity,
            reason=reason,
            detail=detail,
            at=at,
        )
        cursor = self._db.execute(_INSERT, row)
        return int(cursor.lastrowid or 0)

    def entries(
        self,
        *,
        day: str | None = None,
        code: str | None = None,
        order_no: str | None = None,
        request_id: str | None = None,
        kinds: Iterable[JournalKind] | None = None,
        limit: int | None = None,
        after_id: int | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every given filter, oldest first (newest `limit` if given);
        `after_id`: only entries written after the one with that id (ids only grow,
        whatever the wall clock does)."""
        self.commit_pending()
        where: list[str] = []
        args: list[Any] = []
        if after_id is not None:
            where.append("id > ?")
            args.append(int(after_id))
        for column, value in (
            ("day", day),
            ("code", code),
            ("order_no", order_no),
            ("request_id", request_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if kinds is not None:
            kind_list = [k.value for k in kinds]
            where.append(f"kind IN ({','.join('?' * len(kind_list))})")
            args.extend(kind_list)
        sql = "SELECT id, at, kind, code, side, order_no, request_id, price, quantity, reason, detail FROM journal"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self._db.execute(sql, args).fetchall()
        return [_entry(row) for row in reversed(rows)]

    def close(self) -> None:
        try:
            self.checkpoint()
        finally:
            self._db.close()
            if self._intent is not None:
                self._intent.close()
                self._intent = None


class _IntentFile:
    """The intent file, `INTENT_MAP_BYTES` long (zeros after the line; sparse where the
    file system allows) and mapped shared, so writing the line is a memory copy."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        try:
            if os.fstat(self._fd).st_size < INTENT_MAP_BYTES:
                os.ftruncate(self._fd, INTENT_MAP_BYTES)
            self._map = mmap.mmap(self._fd, INTENT_MAP_BYTES)
        except BaseException:
            os.close(self._fd)
            raise

    def write_line(self, data: bytes) -> None:
        """`data` (a line with its newline) at the start of the file, over the last one."""
        size = len(data)
        if size <= INTENT_MAP_BYTES:
            self._map[:size] = data
        else:  # never seen (a line is about 1 KiB); the mapped pages see the write too
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, data)

    def close(self) -> None:
        try:
            self._map.close()
        finally:
            os.close(self._fd)


def _row(
    kind: JournalKind,
    *,
    code: str = "",
    side: str = "",
    order_no: str = "",
    request_id: str = "",
    price: int = 0,
    quantity: int = 0,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> tuple[Any, ...]:
    """The column values of one entry, in `_INSERT`'s order (JSON-safe, for the intent file)."""
    moment = (at or dt.datetime.now(KST)).astimezone(KST)
    return (
        moment.isoformat(timespec="milliseconds"),
        moment.strftime("%Y%m%d"),
        kind.value,
        code,
        side,
        order_no,
        request_id,
        int(price),
        int(quantity),
        reason,
        json.dumps(detail or {}, ensure_ascii=False, default=str),
    )


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    return JournalEntry(
        id=row[0],
        at=dt.datetime.fromisoformat(row[1]),
        kind=JournalKind(row[2]),
        code=row[3],
        side=row[4],
        order_no=row[5],
        request_id=row[6],
        price=row[7],
        quantity=row[8],
        reason=row[9],
        detail=json.loads(row[10]),
    )


def format_entry(entry: JournalEntry) -> str:
    """One readable line: time, kind, code, side, price × quantity, order, reason."""
    parts = [entry.at.strftime("%H:%M:%S.%f")[:-3], f"{entry.kind.value:<13}"]
    if entry.code:
        parts.append(entry.code)
    if entry.side:
        parts.append(entry.side)
    if entry.price or entry.quantity:
        parts.append(f"{entry.price:,}원 × {entry.quantity:,}")
    if entry.order_no:
        parts.append(f"주문 {entry.order_no}")
    if entry.reason:
        parts.append(f"— {entry.reason}")
    return "  ".join(parts)


def default_journal_path(mode: str = "sim") -> Path:
    """The journal the terminal writes in `mode` without --data-dir (one folder per mode)."""
    from kiwoom_terminal.settings_store import user_data_dir

    return user_data_dir() / mode / "journal.sqlite3"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="매매 일지 보기 (why did it buy / sell?)")
    parser.add_argument(
        "--db", type=Path, default=None, help="journal file (default: user data folder)"
    )
    parser.add_argument("--day", default=dt.datetime.now(KST).strftime("%Y%m%d"), help="YYYYMMDD")
    parser.add_argument("--code", default=None, help="6-digit stock code")
    parser.add_argument(
        "--mode",
        choices=("sim", "mock", "real"),
        default="sim",
        help="whose journal without --db: the simulator's, the mock or the real account's",
    )
    args = parser.parse_args(argv)
    path = args.db or default_journal_path(args.mode)
    if not path.exists():
        print(f"매매 일지가 없습니다: {path}", file=sys.stderr)
        return 1
    journal = Journal(path, writer=False)  # the terminal may be running and writing it
    try:
        for entry in journal.entries(day=args.day, code=args.code):
            print(format_entry(entry))
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader stopped early (`| head`): not an error; keep Python's exit quiet too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        journal.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
