"""`Throttle`: show gathered changes at most every so many milliseconds.

Live data reaches the window far more often than the eye needs (tables after every drain,
tick batches hundreds of times a second, order books): the owner gathers what arrived and
asks the throttle to show it. The first request after a quiet spell is shown at once, so
nothing is delayed while changes come slowly; later ones wait for the interval, and every
request in between shares one showing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt5.QtCore import QObject, QTimer


class Throttle(QObject):
    """Runs `callback` for `request()` at once when it last ran `interval_ms` ago, else once
    when that much time has passed. The callback calls `ran()` first: it may also be called
    directly (tests, "show everything now"), and that restarts the interval too."""

    def __init__(
        self, interval_ms: int, callback: Callable[[], None], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.callback = callback
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timeout)

    @property
    def waiting(self) -> bool:
        """A showing is scheduled (a request came within the interval)."""
        return self._timer.isActive()

    def request(self) -> None:
        wait_s = self._last + self.interval_ms / 1000.0 - time.monotonic()
        if wait_s <= 0:
            self.callback()
        elif not self._timer.isActive():
            self._timer.start(max(1, int(wait_s * 1000)))

    def ran(self) -> None:
        """The callback is running: cancel a scheduled run, restart the interval."""
        self._timer.stop()
        self._last = time.monotonic()

    def reset(self) -> None:
        """Forget the last run: the next request is shown at once (e.g. another stock)."""
        self._timer.stop()
        self._last = 0.0

    def _on_timeout(self) -> None:
        self.callback()
