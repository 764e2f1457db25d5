"""Plumbing shared by the three worker processes: logging with redaction, exiting when the
parent dies, and the small state reporters that put status messages on the result queue."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
from typing import Any

from kiwoom_terminal.api.errors import KiwoomError
from kiwoom_terminal.messages import ErrorInfo, ErrorKind, ThrottleStatus, WorkerKind
from kiwoom_terminal.secrets import install_redaction, redact

log = logging.getLogger(__name__)


def setup_worker(kind: WorkerKind, level: str) -> None:
    """Configure logging (stderr, secrets masked) and start the parent watchdog."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format=f"%(asctime)s {kind.value}[%(process)d] %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install_redaction()
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


def error_info(exc: BaseException) -> ErrorInfo:
    """ErrorInfo for any exception (ours carry a Korean message; others are bugs)."""
    if isinstance(exc, KiwoomError):
        return exc.to_info()
    log.exception("internal error", exc_info=exc)
    return ErrorInfo(ErrorKind.INTERNAL, "", redact(f"내부 오류: {type(exc).__name__}: {exc}"))


class ThrottleReporter:
    """Turns limiter state changes into ThrottleStatus messages."""

    def __init__(self, kind: WorkerKind, results: Any) -> None:
        self._kind = kind
        self._results = results

    def __call__(self, active: bool, delay: float) -> None:
        self._results.put(ThrottleStatus(self._kind, active, round(delay, 3)))
