"""Real-time fan-out: who registered what, and the REAL frames each WebSocket session gets.

The market and the account report trades, books, order events and condition changes here;
the feed turns them into REAL entries for the sessions that registered them and batches the
entries into frames (several entries per frame, as the real server does). Each session has
an outbox drained by its own sender task, so a slow client never stalls the market; when a
client falls too far behind, its 0B / 0D entries are dropped (counted), never its 00 / 04 /
02 events.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from collections import Counter, deque
from typing import Any

from kiwoom_terminal.sim.book import OwnFill
from kiwoom_terminal.sim.market import Market, Stock
from kiwoom_terminal.sim.realtime import entry_prefix, values_0b, values_0d, values_json

MARKET_TYPES = ("0B", "0D")
ACCOUNT_TYPES = ("00", "04")
_ids = itertools.count(1)
_yield = getattr(os, "sched_yield", None)  # POSIX


class Session:
    """One logged-in (or logging-in) WebSocket connection and its outgoing queue."""

    def __init__(self, ws: Any, *, batch: int = 20, max_backlog: int = 2_000) -> None:
        self.ws = ws
        self.batch = batch  # REAL entries per frame at most
        self.max_backlog = max_backlog  # queued frames before 0B / 0D are dropped
        self.id = next(_ids)
        self.app_key: str | None = None
        self.token: str | None = None
        self.logged_in = False
        self.closing = False
        self.groups: dict[str, set[tuple[str, str]]] = {}
        self.cnsr_listed = False
        self.cnsr_rt: set[str] = set()
        self.pending: list[str] = []
        self.outbox: deque[str] = deque()
        # Send stamps (see `mark`): pending entry index -> stock, then outbox frame number ->
        # stocks; frames are numbered from 0 in the order they enter the outbox.
        self.pending_marks: list[tuple[int, Stock]] = []
        self.frame_marks: dict[int, list[Stock]] = {}
        self.frames_queued = 0
        self.wake = asyncio.Event()
        self.dropped = 0
        self.frames_sent = 0
        self.entries_framed = 0
        self.ping_echoed = True
        self.missed_pings = 0
        self.reg_counts: Counter[str] = Counter()  # "grp|item|type" -> times REG'd
        self.received: Counter[str] = Counter()  # frames from the client per trnm

    def registrations(self) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        for regs in self.groups.values():
            out |= regs
        return out

    def mark(self, stock: Stock) -> None:
        """Stamp `stock.last_tick_sent_at` when the entry just queued for it is written."""
        self.pending_marks.append((len(self.pending) - 1, stock))

    def frame_pending(self) -> None:
        """Wrap pending REAL entries into frames of up to `batch` entries."""
        if not self.pending:
            return
        batch = self.batch
        entries, self.pending = self.pending, []
        marks, self.pending_marks = self.pending_marks, []
        if len(self.outbox) > self.max_backlog:
            # entries start with '{"type":"XX"': keep account and condition events
            kept = [e for e in entries if e[9:11] not in MARKET_TYPES]
            self.dropped += len(entries) - len(kept)
            entries = kept
            marks = []  # marks are on 0B entries: dropped with them
        for index, stock in marks:
            self.frame_marks.setdefault(self.frames_queued + index // batch, []).append(stock)
        self.entries_framed += len(entries)
        for i in range(0, len(entries), batch):
            self.outbox.append('{"trnm":"REAL","data":[' + ",".join(entries[i : i + batch]) + "]}")
            self.frames_queued += 1
        self.wake.set()

    def send(self, message: dict[str, Any] | str) -> None:
        """Queue a reply or SYSTEM frame after everything pushed before it."""
        self.frame_pending()
        text = (
            message
            if isinstance(message, str)
            else json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        )
        self.outbox.append(text)
        self.frames_queued += 1
        self.wake.set()

    async def sender(self) -> None:
        """Drain the outbox into the socket until the connection ends."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.outbox:
                text = self.outbox.popleft()
                marked = self.frame_marks.pop(self.frames_sent, None) if self.frame_marks else None
                if marked:
                    # Just before the write: when the tick leaves the server (if the socket
                    # is backed up, it leaves later, so a latency from here is not shorter).
                    sent_at = time.time()
                    for stock in marked:
                        stock.last_tick_sent_at = sent_at
                await self.ws.send(text)
                self.frames_sent += 1
            if _yield is not None:
                # The write woke the client, most likely onto this core, where it would
                # wait while this loop goes on printing ticks (up to a time slice) though
                # the other core may be idle. A real server runs on another machine and
                # never holds its clients back like that: let the client run first.
                _yield()

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until the outbox is empty (before closing with a SYSTEM message)."""
        deadline = time.monotonic() + timeout
        while self.outbox and time.monotonic() < deadline:
            await asyncio.sleep(0.01)


class Feed:
    """Registration index and REAL entry fan-out for all sessions."""

    def __init__(
        self,
        market: Market,
        *,
        batch: int = 20,
        book_interval: float = 0.1,
        max_backlog: int = 2_000,
    ) -> None:
        self.market = market
        self.batch = batch
        self.book_interval = book_interval
        self.max_backlog = max_backlog
        self.sessions: set[Session] = set()
        self.subs_0b: dict[str, list[tuple[Session, str]]] = {}
        self.subs_0d: dict[str, list[tuple[Session, str]]] = {}
        self.account_subs: dict[str, list[Session]] = {"00": [], "04": []}
        self.cond_subs: dict[str, list[Session]] = {}
        self._books: dict[str, tuple[int, float, dict[int, int]]] = {}
        self.account: Any = None  # set by the server (it needs the account for fills)
        self.entries_out = 0

    # --- registrations -------------------------------------------------------------------

    def rebuild(self) -> None:
        """Recompute the index after any REG / REMOVE / CNSR change or disconnect."""
        subs_0b: dict[str, list[tuple[Session, str]]] = {}
        subs_0d: dict[str, list[tuple[Session, str]]] = {}
        account: dict[str, list[Session]] = {"00": [], "04": []}
        conds: dict[str, list[Session]] = {}
        for session in self.sessions:
            if not session.logged_in:
                continue
            for item, type_code in sorted(session.registrations()):
                if type_code in ACCOUNT_TYPES:
                    if session not in account[type_code]:
                        account[type_code].append(session)
                    continue
                target = subs_0b if type_code == "0B" else subs_0d if type_code == "0D" else None
                stock = self.market.get(item) if item else None
                if target is None or stock is None:
                    continue
                target.setdefault(stock.code, []).append((session, entry_prefix(type_code, item)))
            for seq in session.cnsr_rt:
                conds.setdefault(seq, []).append(session)
        self.subs_0b, self.subs_0d, self.account_subs, self.cond_subs = (
            subs_0b,
            subs_0d,
            account,
            conds,
        )
        watched = set(subs_0b) | set(subs_0d)
        self.market.active = {code: self.market.active.get(code, 1.0) for code in watched}
        for code in list(self._books):
            if code not in subs_0d:
                del self._books[code]

    # --- market and account events -------------------------------------------------------

    def on_trade(self, stock: Stock, qty: int, buy: bool) -> None:
        subs = self.subs_0b.get(stock.code)
        if subs:
            stock.last_tick_at = time.time()
            values = values_0b(stock, qty, buy)
            for session, prefix in subs:
                session.pending.append(prefix + values)
            if stock.stamp_sends:
                stock.last_tick_sent_at = 0.0  # until a session writes it
                for session, _prefix in subs:
                    session.mark(stock)

    def on_own_fill(self, fill: OwnFill) -> None:
        if self.account is not None:
            self.account.on_own_fill(fill)

    def on_account_event(self, type_code: str, code: str, values: dict[str, str]) -> None:
        subs = self.account_subs.get(type_code)
        if subs:
            entry = entry_prefix(type_code, code) + values_json(values)
            for session in subs:
                session.pending.append(entry)

    def on_condition(self, seq: str, code: str, entered: bool, time_text: str) -> None:
        subs = self.cond_subs.get(seq)
        if not subs:
            return
        values = {
            "841": seq,
            "9001": code,
            "843": "I" if entered else "D",
            "20": time_text,
            # 907 is "2" in the official example (an entry); meaning undocumented.
            "907": "2" if entered else "1",
        }
        entry = entry_prefix("02", code) + values_json(values)
        for session in subs:
            session.pending.append(entry)

    # --- output --------------------------------------------------------------------------

    def push_books(self, time_text: str, *, force: bool = False) -> None:
        """0D for registered stocks whose book changed, at most every `book_interval`."""
        now = time.monotonic()
        for code, subs in self.subs_0d.items():
            stock = self.market.stocks[code]
            version, last, previous = self._books.get(code, (-1, 0.0, {}))
            if stock.book.version == version:
                continue
            if not force and now - last < self.book_interval:
                continue
            values, quantities = values_0d(stock, previous, time_text)
            self._books[code] = (stock.book.version, now, quantities)
            for session, prefix in subs:
                session.pending.append(prefix + values)

    def flush(self) -> None:
        """Frame everything pending and wake the senders."""
        for session in self.sessions:
            if session.pending:
                self.entries_out += len(session.pending)
                session.frame_pending()
