"""The order request channel: the engine's orders reach the order worker without waiting
for a feeder thread.

A `multiprocessing.Queue` hands every `put` to a feeder thread that pickles and writes it
later. In the engine that thread has to be woken and then win the GIL from a busy Qt thread:
0.3 ms at the median and 2-5 ms at the 90th percentile of bench/tick_to_order.py, for every
sell a trailing stop decides. This channel writes in the caller's thread instead (a pickle
and one pipe write, tens of microseconds), whenever that cannot block:

* the supervisor tells the channel when a request has been answered (`answered`); a worker
  reads a request before it answers it, so the requests not answered yet bound what can
  still sit in the pipe;
* while that bound plus the new request stays under `DIRECT_LIMIT` bytes — less than any
  platform's pipe buffer (64 KiB on Linux, multiprocessing's 8 KiB on Windows) — the write
  cannot block and happens at once;
* otherwise (a burst of queued orders, a stuck worker) the request goes to a backlog that a
  writer thread sends in order, like the Queue's feeder. Once something is in the backlog,
  later requests queue behind it, so requests always arrive in the order they were put.

The worker side reads like a Queue (`get`, `empty`). Only the reading end is pickled into
the worker (spawn), like a Queue's pipe.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import threading
from multiprocessing import context
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.reduction import ForkingPickler
from typing import Any

DIRECT_LIMIT = 4096  # bytes that may be unread in the pipe when writing without a thread
_yield = getattr(os, "sched_yield", None)  # POSIX; Windows boosts a woken thread itself


class RequestChannel:
    """One-way parent → worker channel of picklable messages (see the module docstring)."""

    def __init__(self, ctx: BaseContext) -> None:
        reader, writer = ctx.Pipe(duplex=False)
        self._reader: Connection = reader
        self._writer: Connection | _NoWriter = writer
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._backlog: collections.deque[bytes] = collections.deque()
        self._unanswered: dict[str, int] = {}  # request id -> bytes written or queued
        self._unanswered_bytes = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self.direct_puts = 0  # for tests and benchmarks: how many writes skipped the thread

    # --- writing (parent) -------------------------------------------------------------

    def put(self, message: Any) -> None:
        """Send `message` (its `request_id`, when it has one, until `answered`)."""
        # Plain pickle, not ForkingPickler: requests carry no handles or connections (see
        # messages.py), and ForkingPickler copies its dispatch table on every call.
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        key = getattr(message, "request_id", None)
        with self._lock:
            if self._closed:
                raise ValueError("the channel is closed")
            size = len(data)
            unread = self._unanswered_bytes
            if isinstance(key, str):
                self._unanswered[key] = self._unanswered.get(key, 0) + size
            self._unanswered_bytes += size  # messages without an id stay counted: safe
            if not self._backlog and unread + size <= DIRECT_LIMIT:
                self._writer.send_bytes(data)  # fits in the pipe's buffer: cannot block
                self.direct_puts += 1
                direct = True
            else:
                direct = False
                self._backlog.append(data)
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._write_backlog, name="order-channel-writer", daemon=True
                    )
                    self._thread.start()
                self._wake.notify()
        if direct and _yield is not None:
            # The write woke the worker, most likely on this CPU (the kernel places a woken
            # reader near its waker). With every core busy it would wait for the rest of our
            # time slice — 2 ms of table rebuilding measured with `perf sched` — before it
            # could send the order; yielding lets it run first.
            _yield()

    def answered(self, request_id: str) -> None:
        """The worker answered `request_id`: it is no longer in the pipe."""
        with self._lock:
            size = self._unanswered.pop(request_id, 0)
            self._unanswered_bytes -= size

    def _write_backlog(self) -> None:
        """Writer thread: sends the backlog in order; may block while the worker is busy."""
        while True:
            with self._lock:
                while not self._backlog and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                data = self._backlog[0]
            try:
                self._writer.send_bytes(data)  # outside the lock: this can block
            except (OSError, ValueError):
                return  # closed under us: the worker is gone, its requests are failed
            with self._lock:
                self._backlog.popleft()

    def cancel_join_thread(self) -> None:
        """Like Queue.cancel_join_thread: the writer thread is a daemon and never joined."""

    def close(self) -> None:
        """Stop writing; what is still in the backlog is dropped (the supervisor fails the
        requests of a worker whose channel it closes)."""
        with self._lock:
            self._closed = True
            self._backlog.clear()
            self._wake.notify_all()
        for conn in (self._writer, self._reader):
            with contextlib.suppress(OSError):
                conn.close()

    # --- reading (worker) -------------------------------------------------------------

    def get(self) -> Any:
        """The next message; blocks until one arrives."""
        return ForkingPickler.loads(self._reader.recv_bytes())

    def empty(self) -> bool:
        return not self._reader.poll()

    # --- pickling into the worker -----------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        context.assert_spawning(self)
        return {"reader": self._reader}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._reader = state["reader"]
        self._writer = _NoWriter()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._backlog = collections.deque()
        self._unanswered = {}
        self._unanswered_bytes = 0
        self._thread = None
        self._closed = False
        self.direct_puts = 0


class _NoWriter:
    """The worker's copy of a channel only reads."""

    def send_bytes(self, data: bytes) -> None:
        raise ValueError("a worker cannot write to its request channel")

    def close(self) -> None:
        pass
