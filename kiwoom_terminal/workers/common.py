"""Plumbing shared by the three worker processes: logging with redaction, exiting when the
parent dies, and the small state reporters that put status messages on the result queue."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from typing import Any

from kiwoom_terminal.api.errors import KiwoomError
from kiwoom_terminal.api.ratelimit import THROTTLE_THRESHOLD_S, RateLimiter
from kiwoom_terminal.messages import ErrorInfo, ErrorKind, ThrottleStatus, WorkerKind
from kiwoom_terminal.secrets import install_redaction, redact

log = logging.getLogger(__name__)

WORKER_SWITCH_INTERVAL_S = 0.0005


def setup_worker(kind: WorkerKind, level: str) -> None:
    """Configure logging (stderr, secrets masked) and start the parent watchdog."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format=f"%(asctime)s {kind.value}[%(process)d] %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install_redaction()
    # Ctrl+C in a terminal reaches the whole process group; the parent decides how to stop
    # (it asks each worker to finish), so a worker must not die mid-order on SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Results leave through the result Queue's feeder thread, which needs the GIL while the
    # main thread may be busy (the WebSocket worker parsing a burst of ticks). CPython hands
    # the GIL over only after the switch interval, 5 ms by default: a batch with a trigger
    # tick could wait that long. 0.5 ms, as in the engine (engine/wakeup.py).
    sys.setswitchinterval(min(sys.getswitchinterval(), WORKER_SWITCH_INTERVAL_S))
    # Everything imported so far lives as long as the process: frozen, the garbage
    # collector stops re-scanning it (a full collection would stall a result ~10 ms).
    gc.freeze()
    watch_parent()


def watch_parent() -> None:
    """Exit this process as soon as the parent process ends (even by kill -9), so a crashed
    terminal never leaves workers behind. Works with spawn on every platform."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)  # no clean-up: the parent is gone, nobody reads our queues

    threading.Thread(target=wait, name="parent-watch", daemon=True).start()


def read_request(requests: Any) -> Any:
    """The next message from the terminal; when its end of the pipe has closed (the terminal
    died, even by kill -9, or is gone) the worker exits at once, as the parent watcher would:
    no traceback, no clean-up, nobody reads our queues any more."""
    try:
        return requests.get()
    except (EOFError, OSError):
        os._exit(0)


def error_info(exc: BaseException) -> ErrorInfo:
    """ErrorInfo for any exception (ours carry a Korean message; others are bugs)."""
    if isinstance(exc, KiwoomError):
        return exc.to_info()
    log.exception("internal error", exc_info=exc)
    return ErrorInfo(ErrorKind.INTERNAL, "", redact(f"내부 오류: {type(exc).__name__}: {exc}"))


class ThrottleTracker:
    """Reports the "throttling" state of a worker as ThrottleStatus messages.

    Throttling means the rate limiter is what holds requests back: a call had to wait long
    (`on_wait`, called by the limiter as the wait starts), or calls are being spaced out
    while more requests wait in the worker's queue (`after_request`).
    """

    def __init__(self, kind: WorkerKind, results: Any) -> None:
        self._kind = kind
        self._results = results
        self.active = False

    def on_wait(self, long_wait: bool, delay: float) -> None:
        if long_wait:
            self._set(True, delay)

    def after_request(self, limiter: RateLimiter, backlog: bool) -> None:
        delay = limiter.last_delay
        self._set(delay >= THROTTLE_THRESHOLD_S or (delay > 0.0 and backlog), delay)

    def _set(self, active: bool, delay: float) -> None:
        if active != self.active:
            self.active = active
            self._results.put(ThrottleStatus(self._kind, active, round(delay, 3)))
