"""KRX business days for the simulator, computed with `krx.is_business_day` and cached.

Loading the exchange calendar costs about two seconds; the simulator needs a few years of
business days for its history, and tests start many simulators, so the list is cached on
disk per calendar version and year. A broken or missing cache is simply recomputed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import logging
import os
from importlib import metadata
from pathlib import Path

import platformdirs

from kiwoom_terminal import krx

log = logging.getLogger(__name__)

_YEARS_BACK = 5


def _cache_dir() -> Path:
    override = os.environ.get("KIWOOM_SIM_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("kiwoom-terminal"))


def _calendar_version() -> str:
    try:
        return metadata.version("exchange_calendars")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "none"


class BusinessDays:
    """Sorted KRX business days from January of five years ago to the end of next year."""

    def __init__(self, today: dt.date) -> None:
        self.first = dt.date(today.year - _YEARS_BACK, 1, 1)
        self.last = dt.date(today.year, 12, 31)
        self.days: list[dt.date] = self._load_or_compute()

    def _load_or_compute(self) -> list[dt.date]:
        path = _cache_dir() / (
            f"sim-business-days-{_calendar_version()}-{self.first:%Y%m%d}-{self.last:%Y%m%d}.json"
        )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            days = [dt.date.fromisoformat(d) for d in raw]
            if days and days == sorted(days):
                return days
        except (OSError, ValueError, TypeError):
            pass
        days = []
        d = self.first
        while d <= self.last:
            if krx.is_business_day(d):
                days.append(d)
            d += dt.timedelta(days=1)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps([x.isoformat() for x in days]), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:  # a read-only home must not stop the simulator
            log.warning("business-day cache not written: %s", exc)
        return days

    def is_business_day(self, day: dt.date) -> bool:
        if self.first <= day <= self.last:
            i = bisect.bisect_left(self.days, day)
            return i < len(self.days) and self.days[i] == day
        return krx.is_business_day(day)

    def latest(self, day: dt.date) -> dt.date:
        """`day` when it is a business day, else the one before (how base_dt resolves)."""
        if self.first < day <= self.last:
            i = bisect.bisect_right(self.days, day)
            return self.days[i - 1]
        return krx.latest_business_day(day)

    def previous(self, day: dt.date) -> dt.date:
        return self.latest(day - dt.timedelta(days=1))

    def next(self, day: dt.date) -> dt.date:
        if self.first <= day < self.last:
            i = bisect.bisect_right(self.days, day)
            if i < len(self.days):
                return self.days[i]
        return krx.next_business_day(day)

    def before(self, day: dt.date, count: int) -> list[dt.date]:
        """Up to `count` business days strictly before `day`, newest first."""
        i = bisect.bisect_left(self.days, day)
        return self.days[max(0, i - count) : i][::-1]
