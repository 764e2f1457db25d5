"""The market clock: what time it is on the server, for the trading window, the end-of-day
liquidation and the status bar.

Kiwoom's servers run on KST wall time, so in mock and real mode the local clock in KST is
right. The embedded simulator keeps its own session clock (by default an always-open day
that starts at 10:00 whatever the real hour, possibly faster than real time), so the engine
follows the server's stamps instead: every tick, order event and condition event carries
the server's HHmmss, and between stamps the clock runs on from the latest one. Stamps up to
two seconds behind the running estimate are ignored (they have whole seconds); a stamp
further behind (a slower or frozen simulator clock, a new simulated day) is followed.

The engine observes stamps in its thread while the window reads `now()` in the GUI thread
(log lines, the status bar): a lock keeps a reader from pairing a new stamp with the old
monotonic time of the one before, which would push the clock ahead and keep it there.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

from kiwoom_terminal.constants import Mode
from kiwoom_terminal.krx import KST

_SLACK_S = 2.0  # stamps have whole seconds: ignore those this little behind
_NEW_DAY_S = 60.0  # a stamp this far below the latest one: the server started a new day


class MarketClock:
    """Server time of day (KST). `observe()` the HHmmss stamps of server messages."""

    def __init__(
        self,
        mode: Mode,
        *,
        wall: Callable[[], dt.datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.follow_server = mode is Mode.SIM
        self._lock = threading.Lock()  # stamp, its monotonic time and `_last_s` (docstring)
        self._wall = wall or (lambda: dt.datetime.now(KST))
        self._mono = monotonic
        self._stamp_s: float | None = None  # seconds since midnight of the latest stamp
        self._stamp_mono = 0.0
        self._last_s = -1.0
        self._top_stamp_s: float | None = None  # the latest stamp of the server's day
        self.new_days = 0  # times the server's clock fell back a day (sim: its next session)
        # The newest server stamp seen (HHmmss, any mode): a lower bound of the server's time
        # that does not depend on this PC's clock being right.
        self.last_stamp = ""

    def observe(self, hhmmss: str) -> None:
        """Take a server stamp (HHmmss); malformed or empty stamps are ignored."""
        if len(hhmmss) < 6 or not hhmmss[:6].isdigit():
            return
        self.last_stamp = hhmmss[:6]
        if not self.follow_server:
            return
        with self._lock:
            self._observe(int(hhmmss[0:2]) * 3600 + int(hhmmss[2:4]) * 60 + int(hhmmss[4:6]))

    def _observe(self, seconds: int) -> None:
        top = self._top_stamp_s
        if top is not None and seconds < top - _NEW_DAY_S:
            self.new_days += 1  # server stamps never go back within a day
            top = None
        self._top_stamp_s = seconds if top is None else max(top, seconds)
        now_mono = self._mono()
        current = self._estimate(now_mono)
        if current is not None and current - _SLACK_S < seconds < current:
            return  # a stamp of a second that is already running: keep the finer estimate
        self._stamp_s = float(seconds)
        self._stamp_mono = now_mono
        if current is not None and seconds < current:
            self._last_s = -1.0  # a slower server clock or a new simulated day: follow it

    def _estimate(self, now_mono: float) -> float | None:
        if self._stamp_s is None:
            return None
        return self._stamp_s + (now_mono - self._stamp_mono)

    @property
    def synced(self) -> bool:
        """True once the server's time is known (always in mock / real mode)."""
        return not self.follow_server or self._stamp_s is not None

    def now(self) -> dt.datetime:
        """The server's current time (KST, aware)."""
        wall = self._wall()
        if not self.follow_server:
            return wall
        with self._lock:
            estimate = self._estimate(self._mono())
            if estimate is None:
                return wall
            estimate = max(estimate, self._last_s)
            self._last_s = estimate
        midnight = wall.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + dt.timedelta(seconds=min(estimate, 86_399.999))

    def time_of_day(self) -> dt.time:
        return self.now().time().replace(tzinfo=None)
