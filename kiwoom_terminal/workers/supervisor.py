"""The supervisor: starts the three worker processes, routes requests to them, collects
their replies and events, restarts a worker that died, and shuts everything down.

Plain Python (no Qt), used from the GUI process:

    with WorkerSupervisor(config) as sup:         # start(); stop() on exit, also on errors
        request_id = sup.send(QuoteQuery("005930"))
        ...
        for message in sup.poll(WorkerKind.TR):    # from the engine's timers, or when
            ...                                    # one of sup.wakeup_filenos() is readable

Queues are those of seed 002 (`tr_req_queue` / `tr_result_queue`, `order_tr_req_queue` /
`order_tr_result_queue`, `websocket_req_queue` / `websocket_result_queue`), but the engine
does not touch them: `send()` picks the queue and remembers the request as pending, and a
reader thread per result queue moves messages into an in-process buffer that `poll()`
drains. The exception is `websocket_result_queue` on POSIX: a `ResultPipe`
(result_pipe.py) that `poll()` reads itself, without blocking — ticks and fills reach the
engine with no thread hand-over in this process (0.35–0.5 ms at the median in
bench/tick_to_order.py, and 1–2 ms at the 99th percentile, for the two hand-overs it saves).
Why the indirection:

* A worker killed while reading or writing a queue can leave the queue's lock held or half a
  message in the pipe. A dead worker's queues are therefore replaced, never reused; the old
  result queue is drained (replies that completed before the death still count) by its
  reader thread, which is abandoned if it blocks on a torn message — the GUI thread can
  never hang on it. A `ResultPipe` is read without blocking: a torn message stays
  incomplete and is dropped with the pipe.
* Pending requests are failed in one place: when a worker dies every request it had not
  answered gets a failed reply (`ErrorKind.WORKER_DIED`; orders with outcome UNKNOWN since
  they may have been sent), followed by `WorkerDied`, on the same stream as normal replies.
  Requests still sitting in the old request queue are never read again, so an order is
  never sent by the new worker after being reported failed.
* Waking the engine works on every platform: `wakeup_filenos()` are a socket that is
  readable whenever a message waits in any buffer (Windows has sockets too, unlike a pipe
  fd), plus on POSIX the WebSocket worker's result pipe; use a QSocketNotifier on each, and
  read the tuple again after each `poll()` (a replaced worker has a new pipe). The "a
  wake-up is owed" flag and the buffers change together under the lock, and `poll()`
  clears the socket only when it leaves every buffer empty: a `poll(WorkerKind.TR)` from
  the TR timer must not swallow the wake-up of ticks waiting in the WebSocket buffer (they
  would wait for the next 10 ms timer — a trailing stop's sell 7-10 ms late in
  bench/tick_to_order.py).

Dead workers are noticed at once by a monitor thread waiting on the process sentinels and
restarted immediately (well within 2 s), with back-off only when a worker keeps crashing.
A restarted WebSocket worker gets the subscriptions and real-time conditions the engine had
set up and restores them on its first LOGIN (it then sends `Resubscribed`).

Shutdown (`stop()`, also run by `atexit` and the context manager) asks each worker to
finish, then terminates and finally kills what is left; workers also exit by themselves if
the GUI process dies (they watch its sentinel), so no orphan processes remain.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from kiwoom_terminal.api.token import SharedTokenStore
from kiwoom_terminal.constants import ConnectionState
from kiwoom_terminal.messages import (
    ConnectionStatus,
    ErrorInfo,
    ErrorKind,
    OrderOutcome,
    OrderReply,
    Request,
    Shutdown,
    WorkerDied,
    WorkerKind,
    WsCommand,
    WsReply,
    failed_reply,
    worker_for,
)
from kiwoom_terminal.workers.channel import RequestChannel
from kiwoom_terminal.workers.config import WorkerConfig
from kiwoom_terminal.workers.order_worker import run_order_worker
from kiwoom_terminal.workers.pending import PendingRequests
from kiwoom_terminal.workers.registry import Subscriptions, kept_by_worker
from kiwoom_terminal.workers.result_pipe import DIRECT as RESULT_PIPE_DIRECT
from kiwoom_terminal.workers.result_pipe import ResultPipe
from kiwoom_terminal.workers.tr_worker import run_tr_worker
from kiwoom_terminal.workers.ws_worker import run_ws_worker

log = logging.getLogger(__name__)

_TARGETS: dict[WorkerKind, Callable[..., None]] = {
    WorkerKind.TR: run_tr_worker,
    WorkerKind.ORDER: run_order_worker,
    WorkerKind.WS: run_ws_worker,
}
_NAMES = {
    WorkerKind.TR: "tr-worker",
    WorkerKind.ORDER: "order-worker",
    WorkerKind.WS: "websocket-worker",
}
_LABELS = {WorkerKind.TR: "조회", WorkerKind.ORDER: "주문", WorkerKind.WS: "실시간(웹소켓)"}

READ_TIMEOUT_S = 0.2  # reader threads look at their stop flag this often
DRAIN_GRACE_S = 1.0  # how long a dead worker's result queue may take to drain


@dataclass
class _Slot:
    """One worker: its process, its current queues, the reader thread and its buffer."""

    kind: WorkerKind
    generation: int = 0
    process: Any = None
    requests: Any = None
    results: Any = None
    reader: threading.Thread | None = None
    direct: bool = False  # results read by poll() itself (a ResultPipe, POSIX), no thread
    reader_stop: threading.Event = field(default_factory=threading.Event)
    buffer: collections.deque[Any] = field(default_factory=collections.deque)
    crashes: collections.deque[float] = field(default_factory=collections.deque)
    restart_at: float = 0.0
    # "running": process started; "handling": its death is being handled (by one thread);
    # "waiting": dead and handled, a new process starts at `restart_at`.
    phase: str = "running"
    restarts: int = 0


class WorkerSupervisor:
    """Owns the spawn context, the queues and the three worker processes."""

    def __init__(
        self,
        config: WorkerConfig,
        *,
        kinds: tuple[WorkerKind, ...] = tuple(WorkerKind),
        monitor: bool = True,
        stop_timeout_s: float = 3.0,
    ) -> None:
        self.config = config
        self._ctx = multiprocessing.get_context("spawn")
        self._token_store = SharedTokenStore(self._ctx)
        # Set by the engine while it handles worker results (where it decides and sends
        # orders); the WebSocket worker gives its core back while it is set (ws_worker.py).
        self.engine_busy: Any = self._ctx.RawValue("b", 0)
        self._slots = {kind: _Slot(kind) for kind in kinds}
        self._lock = threading.RLock()
        self._pending = PendingRequests()
        self._subscriptions = Subscriptions()
        self._monitor_enabled = monitor
        self._monitor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._started = False
        self._stop_timeout = stop_timeout_s
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._wake_flag = False
        # AF_UNIX (POSIX): a sent byte is readable when send() returns (_clear_wakeup)
        self._wake_is_local = self._wake_r.family == getattr(socket, "AF_UNIX", None)
        self._retired: list[Any] = []  # result pipes of replaced workers, closed by poll()
        self._atexit_registered = False

    # --- Life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start every worker and the monitor thread. Idempotent."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._stopping.clear()
            for slot in self._slots.values():
                self._spawn(slot)
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        if self._monitor_enabled:
            self._monitor = threading.Thread(
                target=self._monitor_loop, name="worker-monitor", daemon=True
            )
            self._monitor.start()

    def stop(self) -> None:
        """Stop every worker: Shutdown message, then terminate, then kill. Fails whatever
        is still pending with ErrorKind.SHUTDOWN. Safe to call twice."""
        with self._lock:
            if not self._started:
                return
            self._started = False
            self._stopping.set()
        if self._monitor is not None and self._monitor is not threading.current_thread():
            self._monitor.join(2.0)
        self._monitor = None
        slots = list(self._slots.values())
        for slot in slots:
            with contextlib.suppress(Exception):
                slot.requests.put(Shutdown())
        deadline = time.monotonic() + self._stop_timeout
        for slot in slots:
            while slot.direct and slot.process.is_alive() and time.monotonic() < deadline:
                # Keep reading its pipe as a reader thread would: a worker flushes what
                # it still holds before it exits, and a full pipe would hold it up.
                with self._lock:
                    self._read_direct(slot)
                slot.process.join(0.02)
            slot.process.join(max(0.0, deadline - time.monotonic()))
        for slot in slots:
            if slot.process.is_alive():
                log.warning("%s did not stop in time; terminating", _NAMES[slot.kind])
                slot.process.terminate()
                slot.process.join(1.0)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(1.0)
        error = ErrorInfo(
            ErrorKind.SHUTDOWN, "", "프로그램을 종료하는 중이라 요청이 취소되었습니다"
        )
        for slot in slots:
            self._stop_reader(slot, drain=True)
            replies = self._pending.fail_all(slot.kind, error)
            with self._lock:
                slot.buffer.extend(replies)
                slot.buffer.append(
                    ConnectionStatus(slot.kind, ConnectionState.STOPPED, "프로세스 종료")
                )
                self._notify()
            self._close_queues(slot)
        if self._atexit_registered:
            atexit.unregister(self.stop)
            self._atexit_registered = False

    def close(self) -> None:
        """stop() and release the wake-up sockets and the pipes of replaced workers."""
        self.stop()
        with self._lock:
            self._close_retired()
        for sock in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> WorkerSupervisor:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- Requests and results --------------------------------------------------------

    def send(self, request: Request) -> str:
        """Queue `request` for its worker and remember it as pending; returns its id.

        Raises RuntimeError when the supervisor is not running."""
        kind = worker_for(request)
        with self._lock:
            if not self._started:
                raise RuntimeError("작업 프로세스가 실행 중이 아닙니다")
            slot = self._slots.get(kind)
            if slot is None:
                raise RuntimeError(f"{_LABELS[kind]} 프로세스가 없습니다")
            if slot.phase == "waiting":  # crashed repeatedly; restart postponed
                wait = max(0.0, slot.restart_at - time.monotonic())
                error = ErrorInfo(
                    ErrorKind.WORKER_DIED,
                    "",
                    f"{_LABELS[kind]} 프로세스가 반복해서 중단되어 {wait:.0f}초 뒤 다시 시작합니다. 요청을 보내지 않았습니다.",
                )
                reply = failed_reply(request, error)
                if isinstance(reply, OrderReply):  # certainly not sent
                    reply = OrderReply(request.request_id, OrderOutcome.NOT_PROCESSED, None, error)
                slot.buffer.append(reply)
                self._notify()
                return request.request_id
            self._pending.add(request)
            slot.requests.put(request)
        return request.request_id

    def poll(
        self,
        kind: WorkerKind | Iterable[WorkerKind] | None = None,
        max_items: int | None = None,
    ) -> list[Any]:
        """Messages received so far (replies, events, failures), for one worker, several
        (in the order given: the engine's drain takes the WebSocket worker's first) or all;
        each worker's oldest first. Never blocks. Several kinds in one call take the lock,
        and clear the wake-up, once."""
        if kind is None:
            kinds: list[WorkerKind] = list(self._slots)
        elif isinstance(kind, WorkerKind):
            kinds = [kind]
        else:
            kinds = list(kind)
        out: list[Any] = []
        with self._lock:
            self._close_retired()
            for k in kinds:
                slot = self._slots.get(k)
                if slot is None:
                    continue
                self._read_direct(slot)
                buffer = slot.buffer
                while buffer and (max_items is None or len(out) < max_items):
                    out.append(buffer.popleft())
            if not any(slot.buffer for slot in self._slots.values()):
                self._clear_wakeup()  # nothing waits anywhere: no wake-up is owed
        return out

    def backlog(self, kind: WorkerKind) -> int:
        """Messages received but not yet polled."""
        return len(self._slots[kind].buffer)

    def pending_ids(self, kind: WorkerKind | None = None) -> list[str]:
        return self._pending.ids(kind)

    def wakeup_filenos(self) -> tuple[int, ...]:
        """The fds that become readable when new messages wait: the wake-up socket, and the
        result pipe of every direct slot (POSIX: the WebSocket worker's). Watch all of them
        (a QSocketNotifier each) and call poll() when one fires; the tuple changes when a
        worker is replaced, so read it again after each poll()."""
        with self._lock:
            pipes = tuple(
                slot.results.fileno()
                for slot in self._slots.values()
                if slot.direct and slot.results is not None
            )
        return (self._wake_r.fileno(), *pipes)

    # --- Introspection (status bar, tests) ----------------------------------------

    def pid(self, kind: WorkerKind) -> int | None:
        process = self._slots[kind].process
        return None if process is None else process.pid

    def is_alive(self, kind: WorkerKind) -> bool:
        process = self._slots[kind].process
        return process is not None and process.is_alive()

    def restarts(self, kind: WorkerKind) -> int:
        return self._slots[kind].restarts

    @property
    def subscriptions(self) -> Subscriptions:
        """What a restarted WebSocket worker will restore (a copy)."""
        with self._lock:
            return self._subscriptions.copy()

    # Seed 002 queue names (current queues; replaced when a worker is restarted).

    @property
    def tr_req_queue(self) -> Any:
        return self._slots[WorkerKind.TR].requests

    @property
    def tr_result_queue(self) -> Any:
        return self._slots[WorkerKind.TR].results

    @property
    def order_tr_req_queue(self) -> Any:
        return self._slots[WorkerKind.ORDER].requests

    @property
    def order_tr_result_queue(self) -> Any:
        return self._slots[WorkerKind.ORDER].results

    @property
    def websocket_req_queue(self) -> Any:
        return self._slots[WorkerKind.WS].requests

    @property
    def websocket_result_queue(self) -> Any:
        return self._slots[WorkerKind.WS].results

    # --- Health ----------------------------------------------------------------------

    def check(self) -> list[WorkerDied]:
        """Handle workers that died since the last look (restart them, fail their pending
        requests). The monitor thread does this by itself; call it from a timer when the
        supervisor was created with monitor=False. Returns the WorkerDied events produced
        (they are also delivered through poll())."""
        died: list[WorkerDied] = []
        for slot in list(self._slots.values()):
            event = self._check_slot(slot)
            if event is not None:
                died.append(event)
        return died

    def restart(self, kind: WorkerKind) -> None:
        """Stop one worker and start a new one (e.g. after R10001 once the user closed the
        other program). Pending requests of that worker fail like after a crash."""
        slot = self._slots[kind]
        with self._lock:
            process = slot.process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(2.0)
            if process.is_alive():
                process.kill()
                process.join(2.0)
        self._check_slot(slot)

    def _monitor_loop(self) -> None:
        while not self._stopping.is_set():
            sentinels = []
            with self._lock:
                for slot in self._slots.values():
                    if slot.process is not None and slot.phase == "running":
                        sentinels.append(slot.process.sentinel)
            if sentinels:
                multiprocessing.connection.wait(sentinels, timeout=0.25)
            else:
                self._stopping.wait(0.25)
            if self._stopping.is_set():
                return
            try:
                self.check()
            except Exception:  # the monitor must survive anything
                log.exception("worker monitor error")

    def _check_slot(self, slot: _Slot) -> WorkerDied | None:
        with self._lock:
            if self._stopping.is_set() or not self._started or slot.process is None:
                return None
            if slot.phase == "waiting":  # died earlier, restart postponed (crash loop)
                if time.monotonic() >= slot.restart_at:
                    self._spawn(slot)
                return None
            if slot.phase == "handling" or slot.process.is_alive():
                return None
            slot.phase = "handling"  # claimed: nobody else handles this death
            process = slot.process
        # Without the lock: the reader thread needs it to deliver what is still queued.
        self._stop_reader(slot, drain=True)
        with self._lock:
            return self._handle_death(slot, process)

    def _handle_death(self, slot: _Slot, process: Any) -> WorkerDied:
        """A worker ended on its own and its result queue is drained: fail what is still
        pending, report it, and start a new process with fresh queues (caller holds the
        lock)."""
        exitcode = process.exitcode
        self._token_store.release_if_owner(process.pid or 0)
        log.error("%s (pid %s) died with exit code %s", _NAMES[slot.kind], process.pid, exitcode)
        label = _LABELS[slot.kind]
        error = ErrorInfo(
            ErrorKind.WORKER_DIED,
            "",
            f"{label} 프로세스가 중단되어 요청이 처리되지 않았을 수 있습니다. 다시 시작합니다.",
        )
        replies = self._pending.fail_all(slot.kind, error)
        self._close_queues(slot)
        now = time.monotonic()
        slot.crashes.append(now)
        while slot.crashes and now - slot.crashes[0] > 60.0:
            slot.crashes.popleft()
        # Restart at once; back off only when a worker keeps crashing (bug or bad config).
        backoff = 0.0 if len(slot.crashes) <= 3 else min(30.0, 2.0 ** (len(slot.crashes) - 3))
        slot.restart_at = now + backoff
        slot.phase = "waiting"
        event = WorkerDied(slot.kind, exitcode, tuple(r.request_id for r in replies), True)
        slot.buffer.extend(replies)
        slot.buffer.append(
            ConnectionStatus(
                slot.kind,
                ConnectionState.DEAD,
                f"{label} 프로세스가 중단되었습니다 (종료 코드 {exitcode})",
            )
        )
        slot.buffer.append(event)
        self._notify()
        if backoff == 0.0 and not self._stopping.is_set():
            self._spawn(slot)
        return event

    def _spawn(self, slot: _Slot) -> None:
        """Start a process for `slot` with new queues (caller holds the lock)."""
        slot.generation += 1
        if slot.process is not None:
            slot.restarts += 1
        # Orders skip the Queue's feeder thread (channel.py); queries and WebSocket
        # commands are not latency-critical.
        slot.requests = (
            RequestChannel(self._ctx) if slot.kind is WorkerKind.ORDER else self._ctx.Queue()
        )
        # The WebSocket worker's stream (ticks, fills) skips both the feeder thread and the
        # reader thread (result_pipe.py); replies to queries and orders keep a Queue.
        direct = slot.kind is WorkerKind.WS
        slot.results = ResultPipe(self._ctx) if direct else self._ctx.Queue()
        slot.direct = direct and RESULT_PIPE_DIRECT
        process = self._ctx.Process(
            target=_TARGETS[slot.kind],
            args=self._worker_args(slot),
            name=_NAMES[slot.kind],
            daemon=True,
        )
        process.start()
        slot.process = process
        slot.phase = "running"
        slot.reader_stop = threading.Event()
        slot.reader = None  # a direct slot's pipe is read by poll() in the caller's thread
        if not slot.direct:
            slot.reader = threading.Thread(
                target=self._read_results,
                args=(slot, slot.results, slot.generation, slot.reader_stop),
                name=f"{_NAMES[slot.kind]}-reader",
                daemon=True,
            )
            slot.reader.start()
        log.info(
            "%s started (pid %s, generation %d)", _NAMES[slot.kind], process.pid, slot.generation
        )

    def _worker_args(self, slot: _Slot) -> tuple[Any, ...]:
        """The arguments of a worker's entry point (`_TARGETS`); all picklable by spawn."""
        args: tuple[Any, ...] = (self.config, slot.requests, slot.results, self._token_store)
        if slot.kind is WorkerKind.WS:
            args += (self._subscriptions.copy(), self.engine_busy)
        return args

    def _read_results(
        self, slot: _Slot, results: Any, generation: int, stop: threading.Event
    ) -> None:
        """Reader thread: result queue → buffer. Drops messages once its queue generation
        is no longer current (a replaced queue)."""
        while True:
            try:
                message = results.get(timeout=READ_TIMEOUT_S)
            except queue.Empty:
                if stop.is_set():
                    return
                continue
            except (EOFError, OSError, ValueError):
                return
            except Exception:  # a message that cannot be unpickled: report, keep going
                log.exception("unreadable message from %s", _NAMES[slot.kind])
                continue
            with self._lock:
                if slot.generation != generation:
                    return
                self._deliver(slot, message)
                self._notify()

    def _deliver(self, slot: _Slot, message: Any) -> None:
        """One message from a worker into its buffer (caller holds the lock)."""
        request = self._pending.resolve(message)
        if request is not None and isinstance(slot.requests, RequestChannel):
            slot.requests.answered(request.request_id)
        if (
            request is not None
            and isinstance(request, WsCommand)
            and isinstance(message, WsReply)
            and kept_by_worker(request, message)
        ):
            # also a Subscribe that timed out: the worker keeps it and restores it after a
            # reconnect, so a restarted worker must restore it as well
            self._subscriptions.apply(request)
        slot.buffer.append(message)

    def _read_direct(self, slot: _Slot) -> None:
        """What has arrived in a direct slot's pipe, into its buffer (caller holds the
        lock); never blocks."""
        if not slot.direct or slot.results is None:
            return
        try:
            messages = slot.results.read_ready()
        except (OSError, ValueError):
            return  # closed: the worker's death is being handled
        for message in messages:
            self._deliver(slot, message)

    def _stop_reader(self, slot: _Slot, *, drain: bool) -> None:
        """Stop the reader thread; with `drain`, it first reads what is already queued."""
        if slot.direct:
            if drain:
                with self._lock:
                    self._read_direct(slot)  # whole messages only: a torn one is dropped
            return
        reader = slot.reader
        if reader is None:
            return
        slot.reader_stop.set()
        if reader is not threading.current_thread():
            reader.join(DRAIN_GRACE_S if drain else 0.5)
            if reader.is_alive():
                log.warning(
                    "reader of %s is stuck (torn message?); abandoning it", _NAMES[slot.kind]
                )
        slot.reader = None

    def _close_queues(self, slot: _Slot) -> None:
        for q in (slot.requests, slot.results):
            if q is None:
                continue
            if slot.direct and q is slot.results:
                # The engine may still watch this pipe's fd: it is closed by the next
                # poll(), after which the engine re-reads wakeup_filenos() before its event
                # loop runs again (a closed fd's number could be reused meanwhile).
                self._retired.append(q)
                continue
            with contextlib.suppress(Exception):
                q.cancel_join_thread()  # never block interpreter exit on a dead reader
                q.close()

    def _close_retired(self) -> None:
        """Close the pipes of replaced direct slots (caller holds the lock)."""
        while self._retired:
            with contextlib.suppress(Exception):
                self._retired.pop().close()

    def _notify(self) -> None:
        """A message was just buffered (caller holds the lock): make the wake-up socket
        readable unless it already is owed."""
        if self._wake_flag:
            return  # a byte is in the socket (or on its way); poll() clears both together
        self._wake_flag = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _clear_wakeup(self) -> None:
        """Every buffer is empty (caller holds the lock): no wake-up is owed any more. A
        byte is sent only when the flag goes up, so one read takes all that waits; reading
        on until the socket raises cost an exception on every drain of every batch.

        With the flag down there is nothing to read on POSIX: the socket pair is AF_UNIX,
        where `send` (under the same lock) has put the byte in before it returns, so the
        read that lowered the flag took it, and another read would only fail with EAGAIN —
        a system call and an exception on most drains. On Windows the pair is TCP and a
        byte may arrive after the read that should have taken it: there it always reads."""
        owed = self._wake_flag
        self._wake_flag = False
        if not owed and self._wake_is_local:
            return
        with contextlib.suppress(OSError):
            self._wake_r.recv(4096)
