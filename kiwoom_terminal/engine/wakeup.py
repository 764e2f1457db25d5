"""Waking the engine as soon as a worker result arrives, instead of on its next timer.

The supervisor's reader threads write one byte to a socket when a result buffer goes from
empty to non-empty, and on POSIX the WebSocket worker writes its ticks and events straight
into a pipe of its own (`WorkerSupervisor.wakeup_filenos()`: the socket, then that pipe). A
`QSocketNotifier` on each runs the engine's drain in the Qt thread within microseconds,
which is what gets a trailing stop from its trigger tick to the order queue in well under a
millisecond; the 10 ms / 100 ms QTimers of the design stay as a safety net (and are the
only path if a notifier cannot be created).

Windows: the supervisor uses a socket pair rather than a pipe precisely because Windows'
select() — which Qt's notifier uses there — only watches sockets, so the notifier works on
every platform (and there the WebSocket worker's results go through a reader thread too).
If creating it fails anyway, `Wakeup.active` is False and the engine falls back to the
timers alone (logged once).

The GIL: results reach the supervisor's buffer through a reader thread, and an order leaves
through the order queue's feeder thread. Both need the GIL while the Qt thread may be busy
(a drain at 20k ticks/s, a table rebuild). CPython lets a waiting thread in only after the
switch interval, 5 ms by default, which alone would exceed the tick-to-order budget; the
engine therefore shortens it for its process (`shorten_gil_switch_interval`, 0.5 ms).
Measured in bench/tick_to_order.py; the cost is a little more switching overhead.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from PyQt5.QtCore import QObject, QSocketNotifier

log = logging.getLogger(__name__)

GIL_SWITCH_INTERVAL_S = 0.0005


def shorten_gil_switch_interval(seconds: float = GIL_SWITCH_INTERVAL_S) -> None:
    """Let the supervisor's reader and feeder threads run within `seconds` of becoming
    ready even while the Qt thread is busy (see the module docstring)."""
    if sys.getswitchinterval() > seconds:
        sys.setswitchinterval(seconds)


class Wakeup(QObject):
    """Calls `callback` in the Qt thread whenever `fileno` becomes readable. The callback
    must drain the source (the supervisor's `poll()` empties the socket)."""

    def __init__(self, fileno: int, callback: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self._callback = callback
        self._notifier: QSocketNotifier | None = None
        try:
            notifier = QSocketNotifier(fileno, QSocketNotifier.Type.Read, self)  # type: ignore[arg-type]
        except Exception:  # pragma: no cover - depends on the platform's event dispatcher
            log.warning("wake-up notifier unavailable; results are drained on the timers only")
            return
        notifier.activated.connect(self._on_activated)
        notifier.setEnabled(True)
        self._notifier = notifier

    @property
    def active(self) -> bool:
        return self._notifier is not None and self._notifier.isEnabled()

    def _on_activated(self, _socket: int) -> None:
        self._callback()

    def close(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
