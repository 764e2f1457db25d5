"""The simulator's session clock: simulated KST time, optionally faster than real time.

Two modes:

* ``continuous`` (default): every simulated day is one continuous session 09:00–15:20 on a
  KRX business day; at 15:20 the next business day opens at 09:00. The phase is always
  continuous trading, so the terminal can be used at any hour of the real day.
* ``krx``: follows the real KST wall clock (scaled by ``speed`` from the moment the
  simulator starts) and the real schedule and holidays (`krx.SessionSchedule`).

A phase can be forced at run time (e.g. ``closed`` to test "market closed" rejections).
``speed`` 0 freezes the clock; `advance` moves it by hand, which is how tests stay
deterministic. Real time comes from an injected monotonic function.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from enum import Enum

from kiwoom_terminal import krx
from kiwoom_terminal.krx import SessionPhase
from kiwoom_terminal.sim.days import BusinessDays

DAY_OPEN = dt.time(9, 0)
DAY_SECONDS = 22_800  # 09:00–15:20, the continuous session of a KRX day


class ClockMode(str, Enum):
    CONTINUOUS = "continuous"
    KRX = "krx"


class SimClock:
    """Simulated KST time (naive datetimes) and the session phase at that time."""

    def __init__(
        self,
        days: BusinessDays,
        *,
        mode: ClockMode = ClockMode.CONTINUOUS,
        speed: float = 1.0,
        start: dt.datetime | None = None,
        schedule: krx.SessionSchedule = krx.DEFAULT_SCHEDULE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self.days = days
        self.mode = mode
        self.schedule = schedule
        self._mono = monotonic
        self._speed = speed
        self._mark = monotonic()
        self.forced_phase: SessionPhase | None = None
        wall = krx.now_kst().replace(tzinfo=None, microsecond=0)
        if mode is ClockMode.CONTINUOUS:
            start = start or dt.datetime.combine(days.latest(wall.date()), dt.time(10, 0))
            day0 = days.latest(start.date())
            self._day0 = day0
            offset = (
                dt.datetime.combine(day0, start.time()) - dt.datetime.combine(day0, DAY_OPEN)
            ).total_seconds()
            self._base = min(max(offset, 0.0), DAY_SECONDS - 1.0)
        else:
            self._day0 = wall.date()
            self._start = start or wall
            self._base = 0.0

    # --- real-time scaling ---------------------------------------------------------------

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._base = self._elapsed()
        self._mark = self._mono()
        self._speed = speed

    def advance(self, seconds: float) -> None:
        """Jump forward by `seconds` of simulated time (never backwards)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._base += seconds

    def _elapsed(self) -> float:
        return self._base + (self._mono() - self._mark) * self._speed

    # --- reading -------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """Current simulated time (naive, KST)."""
        total = self._elapsed()
        if self.mode is ClockMode.CONTINUOUS:
            day_index, sec = divmod(total, DAY_SECONDS)
            day = self._day0
            for _ in range(int(day_index)):
                day = self.days.next(day)
            return dt.datetime.combine(day, DAY_OPEN) + dt.timedelta(seconds=sec)
        return self._start + dt.timedelta(seconds=total)

    def phase(self, moment: dt.datetime | None = None) -> SessionPhase:
        if self.forced_phase is not None:
            return self.forced_phase
        if self.mode is ClockMode.CONTINUOUS:
            return SessionPhase.CONTINUOUS
        moment = moment or self.now()
        if not self.days.is_business_day(moment.date()):
            return SessionPhase.CLOSED
        return self.schedule.phase_at(moment.time())

    def session_open(self, day: dt.date) -> dt.datetime:
        """When continuous trading starts on `day`."""
        if self.mode is ClockMode.CONTINUOUS:
            return dt.datetime.combine(day, DAY_OPEN)
        return dt.datetime.combine(day, self.schedule.continuous)

    def before_open(self, moment: dt.datetime) -> bool:
        """True when `moment` is earlier in the day than the pre-open auction (RC4057)."""
        return moment.time() < self.schedule.pre_open
