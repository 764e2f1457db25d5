"""The WebSocket worker's result channel: ticks and events reach the engine's thread
without a feeder thread in the worker and without a reader thread in the terminal.

With a `multiprocessing.Queue` a batch holding a trailing stop's trigger tick took two
thread hand-overs on its way: the worker's feeder thread had to be woken and win the GIL
from its event loop (busy parsing the next frames), and the supervisor's reader thread had
to be woken, unpickle it, wake the engine through a socket and give the GIL back. Traced in
bench/tick_to_order.py at 5k ticks/s the two cost 0.35–0.5 ms at the median and 1–2 ms at
the 99th percentile. `ResultPipe` drops both:

* **Writing (worker).** `put` pickles the message and writes it in the caller's thread,
  with one `os.write` of header and payload to a non-blocking pipe. If the pipe is full, or
  takes only part of it, the rest goes to a backlog that a writer thread sends in order as
  the terminal reads; once something is in the backlog later messages queue behind it, so
  messages always arrive whole and in the order they were put. `put` never blocks. At the
  worker's exit the backlog is written out first (as a Queue's feeder is joined).
* **Reading (terminal).** The pipe's reading end is non-blocking too: `read_ready()` reads
  whatever bytes are there and returns the messages that are complete, keeping a partial
  one for the next call. It never blocks — not even on half a message left by a worker
  killed in the middle of a write — so the engine's own thread calls it, woken by a
  `QSocketNotifier` on `fileno()` (see `WorkerSupervisor.wakeup_filenos()`).
* **Windows** has neither non-blocking pipes nor notifiers on them: there every message goes
  through the writer thread and the supervisor reads with `get(timeout=…)` on a reader
  thread, exactly as with a Queue (`DIRECT` is False).

Frames are those of `multiprocessing.connection.Connection.send_bytes` (a 4-byte big-endian
length, then the pickle), so `get` reads them with the Connection's `recv_bytes`;
tests/workers/test_result_pipe.py checks both readers. Only the writing end is pickled into
the worker (spawn).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import errno
import logging
import os
import queue
import select
import struct
import threading
import time
from collections.abc import Callable
from multiprocessing import context, util
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.reduction import ForkingPickler
from typing import Any

log = logging.getLogger(__name__)

DIRECT = os.name == "posix"  # non-blocking pipes: direct writes and reads (not Windows)
_MAX_FRAME = 0x7FFFFFFF  # Connection uses another header beyond this; never reached here
_FLUSH_AT_EXIT_S = 5.0
_READ_SIZE = 1 << 16  # one read from the pipe; a shorter read means it was emptied


class _ReadKeepingTheGil:
    """`os.read` for a non-blocking fd, through libc without releasing the GIL (POSIX).

    Why: the engine reads the WebSocket worker's pipe at the start of every drain, the one
    system call between a trigger tick's wake-up and its sell order (the journal's intent
    line is a memory copy). `os.read` releases the GIL around the call; the window's thread
    takes it, and the engine then waits up to the switch interval (0.5 ms) to get it back
    — for a read that takes microseconds and, the fd being non-blocking, can never wait.
    ctypes' `PyDLL` calls a C function with the GIL held."""

    def __init__(self) -> None:
        libc = ctypes.PyDLL(None, use_errno=True)
        self._read = libc.read
        self._read.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)
        self._read.restype = ctypes.c_ssize_t
        self._buffer = ctypes.create_string_buffer(_READ_SIZE)

    def __call__(self, fd: int, size: int) -> bytes:
        """Up to `size` bytes (at most `_READ_SIZE`); b"" at end of file; BlockingIOError
        when nothing waits."""
        size = min(size, _READ_SIZE)
        while True:
            count = self._read(fd, self._buffer, size)
            if count >= 0:
                return ctypes.string_at(self._buffer, count)
            error = ctypes.get_errno()
            if error == errno.EINTR:
                continue
            if error in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise BlockingIOError(error, os.strerror(error))
            raise OSError(error, os.strerror(error))


def _gil_keeping_read() -> Callable[[int, int], bytes]:
    """The way `read_ready` reads its non-blocking pipe: `_ReadKeepingTheGil` where libc's
    read can be found, `os.read` otherwise (and on Windows, where pipes are not read so)."""
    if not DIRECT:
        return os.read
    try:
        return _ReadKeepingTheGil()
    except (OSError, AttributeError):  # no libc to load, or no `read` in it
        return os.read


class ResultPipe:
    """One-way worker → terminal channel of picklable messages (see the module)."""

    def __init__(self, ctx: BaseContext) -> None:
        reader, writer = ctx.Pipe(duplex=False)
        self._reader: Connection | None = reader
        self._writer: Connection = writer
        self._pending = bytearray()  # terminal side: bytes of a message not complete yet
        self._read: Callable[[int, int], bytes] | None = (
            None  # os.read's stand-in, made at first use
        )
        self._ready: collections.deque[Any] = collections.deque()  # parsed, not taken yet
        if DIRECT:
            os.set_blocking(reader.fileno(), False)
        self._init_writing()

    def _init_writing(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._backlog: collections.deque[memoryview] = collections.deque()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._nonblocking = False
        self.direct_puts = 0  # for tests and benchmarks: writes that skipped the thread

    # --- writing (worker) -------------------------------------------------------------

    def put(self, message: Any) -> None:
        """Send `message`; never blocks (what the pipe cannot take now is sent later)."""
        payload = ForkingPickler.dumps(message)
        if len(payload) > _MAX_FRAME:
            raise ValueError("message too large for the result pipe")
        frame = struct.pack("!i", len(payload)) + bytes(payload)
        with self._lock:
            if self._closed:
                raise ValueError("the result pipe is closed")
            written = 0
            if DIRECT and not self._backlog:
                if not self._nonblocking:
                    os.set_blocking(self._writer.fileno(), False)
                    self._nonblocking = True
                with contextlib.suppress(BlockingIOError):
                    written = os.write(self._writer.fileno(), frame)
                if written == len(frame):
                    self.direct_puts += 1
                    return
            self._backlog.append(memoryview(frame)[written:])
            if self._thread is None:
                self._start_thread()
            self._wake.notify()

    def _start_thread(self) -> None:
        """The writer thread, and its join at the worker's exit (caller holds the lock)."""
        self._thread = threading.Thread(
            target=self._write_backlog, name="result-pipe-writer", daemon=True
        )
        self._thread.start()
        util.Finalize(self, ResultPipe._flush_at_exit, (self,), exitpriority=-5)

    def _write_backlog(self) -> None:
        """Writer thread: sends the backlog in order, waiting while the pipe is full."""
        fd = self._writer.fileno()
        while True:
            with self._lock:
                while not self._backlog and not self._closed:
                    self._wake.wait()
                if not self._backlog:
                    return  # closed and nothing left
                data = self._backlog[0]
            try:
                sent = self._write_some(fd, data)
            except OSError:
                return  # the terminal is gone: nobody reads any more
            with self._lock:
                if sent == len(data):
                    self._backlog.popleft()
                else:
                    self._backlog[0] = data[sent:]

    def _write_some(self, fd: int, data: memoryview) -> int:
        """Write part of `data` (outside the lock); waits for room when non-blocking."""
        if self._nonblocking:
            poller = select.poll()
            poller.register(fd, select.POLLOUT)
            poller.poll()
            try:
                return os.write(fd, data)
            except BlockingIOError:
                return 0
        # Windows: only whole frames reach the backlog; send_bytes writes its own header.
        self._writer.send_bytes(data[4:])
        return len(data)

    def _flush_at_exit(self) -> None:
        """At the worker's exit: let the writer thread send what is left, then stop it."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(_FLUSH_AT_EXIT_S)

    # --- reading (terminal) -----------------------------------------------------------

    def fileno(self) -> int:
        """The reading end, for a notifier (POSIX)."""
        if self._reader is None:
            raise ValueError("a worker cannot read its result pipe")
        return self._reader.fileno()

    def read_ready(self) -> list[Any]:
        """Every complete message that has arrived, oldest first; never blocks (POSIX).
        A message not complete yet stays for the next call."""
        if self._reader is None:
            raise ValueError("a worker cannot read its result pipe")
        fd = self._reader.fileno()
        pending = self._pending
        read = self._read
        if read is None:
            # Only a non-blocking fd may be read with the GIL held: a read that waited would
            # stop every thread of the terminal.
            read = self._read = os.read if os.get_blocking(fd) else _gil_keeping_read()
        while True:
            try:
                chunk = read(fd, _READ_SIZE)
            except BlockingIOError:
                break
            if not chunk:
                break  # every writing end closed
            pending += chunk
            if len(chunk) < _READ_SIZE:
                # A short read took all the pipe held: asking again would only fail with
                # EAGAIN, a system call and an exception on every drain. What arrives
                # meanwhile makes the pipe readable again and wakes the engine anew.
                break
        messages: list[Any] = list(self._ready)
        self._ready.clear()
        start = 0
        while len(pending) - start >= 4:
            (size,) = struct.unpack_from("!i", pending, start)
            header = 4
            if size == -1:  # Connection's header for a frame of 2 GiB or more
                if len(pending) - start < 12:
                    break
                (size,) = struct.unpack_from("!Q", pending, start + 4)
                header = 12
            end = start + header + size
            if end > len(pending):
                break
            try:
                messages.append(ForkingPickler.loads(pending[start + header : end]))
            except Exception:  # one message that cannot be unpickled: report, keep going
                log.exception("unreadable message in a result pipe")
            start = end
        del pending[:start]
        return messages

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """The next message, like Queue.get (queue.Empty after `timeout`): the reader
        thread's way on Windows; on POSIX (tests, tools) it waits on `read_ready`."""
        reader = self._reader
        if reader is None:
            raise ValueError("a worker cannot read its result pipe")
        if not DIRECT:
            if not reader.poll(timeout if block else 0.0):
                raise queue.Empty
            return ForkingPickler.loads(reader.recv_bytes())
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready:
            self._ready.extend(self.read_ready())
            if self._ready:
                break
            left = None if deadline is None else deadline - time.monotonic()
            if not block or (left is not None and left <= 0):
                raise queue.Empty
            poller = select.poll()
            poller.register(reader.fileno(), select.POLLIN)
            poller.poll(None if left is None else max(1, int(left * 1000)))
        return self._ready.popleft()

    def empty(self) -> bool:
        if self._reader is None:
            return True
        return not self._ready and not self._reader.poll()

    def cancel_join_thread(self) -> None:
        """Like Queue.cancel_join_thread (nothing to do on the terminal's side)."""

    def close(self) -> None:
        """Close the terminal's ends (a dead worker's pipe is replaced, never reused)."""
        for conn in (self._reader, self._writer):
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.close()

    # --- pickling into the worker -----------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        context.assert_spawning(self)
        return {"writer": self._writer}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._reader = None
        self._writer = state["writer"]
        self._init_writing()
