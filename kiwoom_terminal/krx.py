"""KRX market rules shared by the simulator, the terminal and the backtester.

Tick grid (kiwoom-api.md §11.1), daily price band (§11.2), session phases by time of day
(§11.3), fees and transaction tax, and exchange business days. Everything is plain Python on
integer KRW so the same rules run in the GUI process, the workers and the simulator.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import json
import logging
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

KST = ZoneInfo("Asia/Seoul")

# (exclusive upper bound, tick) for stocks since 2023-01-25; prices at or above the last
# bound use STOCK_TOP_TICK.
_STOCK_TICKS: tuple[tuple[int, int], ...] = (
    (2_000, 1),
    (5_000, 5),
    (20_000, 10),
    (50_000, 50),
    (200_000, 100),
    (500_000, 500),
)
STOCK_TOP_TICK = 1_000
ETF_TICK = 5  # ETF / ETN / ELW trade on a flat 5 KRW grid.

BAND_RATE_PERCENT = 30  # daily band ±30 % of the base price


def now_kst() -> dt.datetime:
    """The current wall-clock time in Korea, timezone-aware."""
    return dt.datetime.now(KST)


def tick_size(price: int, *, etf: bool = False) -> int:
    """Tick (호가단위) that applies at `price`; prices on a boundary use the upper row."""
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    if etf:
        return ETF_TICK
    for bound, tick in _STOCK_TICKS:
        if price < bound:
            return tick
    return STOCK_TOP_TICK


def is_on_grid(price: int, *, etf: bool = False) -> bool:
    """True when `price` is a valid limit price on the tick grid."""
    return price > 0 and price % tick_size(price, etf=etf) == 0


def round_down_to_tick(price: int, *, etf: bool = False) -> int:
    """Largest grid price ≤ `price` (uses the tick of `price` itself)."""
    tick = tick_size(price, etf=etf)
    return price - price % tick


def round_up_to_tick(price: int, *, etf: bool = False) -> int:
    """Smallest grid price ≥ `price`.

    Every row boundary is a multiple of all smaller ticks, so rounding up with the tick of
    `price` lands on the grid even when it reaches the next row.
    """
    tick = tick_size(price, etf=etf)
    return price + (-price) % tick


def round_to_tick(price: int, *, etf: bool = False) -> int:
    """Nearest grid price; a tie rounds down (the cheaper price)."""
    down = round_down_to_tick(price, etf=etf)
    up = round_up_to_tick(price, etf=etf)
    return down if price - down <= up - price else up


def step_price(price: int, ticks: int, *, etf: bool = False) -> int:
    """Move `ticks` steps along the grid from `price` (negative = down).

    An off-grid start first snaps to the grid in the direction of travel, which counts as
    the first step. Crossing a row boundary uses each row's own tick, so 49,950 → 50,000 →
    50,100 going up and 50,000 → 49,950 going down. Never goes below the smallest tick.
    """
    p = price
    for _ in range(abs(ticks)):
        if ticks > 0:
            up = round_up_to_tick(p, etf=etf)
            p = up if up != p else p + tick_size(p, etf=etf)
        else:
            down = round_down_to_tick(p, etf=etf)
            if down != p:
                p = down
            elif p - 1 >= 1:
                # One step below a row boundary uses the smaller row's tick.
                p -= tick_size(p - 1, etf=etf)
    return p


def ticks_between(low: int, high: int, *, etf: bool = False) -> int:
    """Number of grid steps from grid price `low` up to grid price `high` (≥ 0)."""
    if high < low:
        return -ticks_between(high, low, etf=etf)
    n = 0
    p = low
    while p < high:
        p = step_price(p, 1, etf=etf)
        n += 1
    return n


@dataclass(frozen=True)
class PriceBand:
    """Daily upper / lower limit (상한가 / 하한가) derived from a base price (기준가)."""

    base: int
    upper: int
    lower: int

    def contains(self, price: int) -> bool:
        return self.lower <= price <= self.upper


def price_band(base_price: int, *, etf: bool = False) -> PriceBand:
    """Upper = base × 1.3 rounded down to the grid; lower = base × 0.7 rounded up.

    >>> price_band(71_000)
    PriceBand(base=71000, upper=92300, lower=49700)
    """
    if base_price <= 0:
        raise ValueError(f"base price must be positive, got {base_price}")
    upper_raw = base_price * (100 + BAND_RATE_PERCENT) // 100
    lower_raw = -((-base_price * (100 - BAND_RATE_PERCENT)) // 100)  # ceiling
    return PriceBand(
        base=base_price,
        upper=round_down_to_tick(upper_raw, etf=etf),
        lower=round_up_to_tick(max(lower_raw, 1), etf=etf),
    )


def sign_code(price: int, base_price: int, band: PriceBand | None = None) -> str:
    """대비기호 for `price` vs `base_price`: 1 upper limit, 2 up, 3 unchanged, 4 lower limit, 5 down."""
    band = band or price_band(base_price)
    if price >= band.upper:
        return "1"
    if price <= band.lower:
        return "4"
    if price > base_price:
        return "2"
    if price < base_price:
        return "5"
    return "3"


# --- Sessions ---------------------------------------------------------------------------


class SessionPhase(str, Enum):
    """Phase of the KRX trading day. Values are stable codes (written to logs and pickles)."""

    CLOSED = "closed"  # night, weekend or exchange holiday
    PRE_OPEN = "pre_open"  # 08:30–09:00 opening call auction (orders queue)
    CONTINUOUS = "continuous"  # 09:00–15:20 regular continuous trading
    CLOSING_AUCTION = "closing_auction"  # 15:20–15:30 closing call auction
    POST_CLOSE = "post_close"  # 15:30–16:00 (15:40–16:00 off-hours at the closing price)
    AFTER_HOURS = "after_hours"  # 16:00–18:00 after-hours single price


REGULAR_ORDER_PHASES = frozenset(
    {SessionPhase.PRE_OPEN, SessionPhase.CONTINUOUS, SessionPhase.CLOSING_AUCTION}
)


def _hm(text: str) -> dt.time:
    return dt.datetime.strptime(text, "%H:%M").time()


@dataclass(frozen=True)
class SessionSchedule:
    """KRX session boundaries (KST). 2025 schedule by default; kept in settings because KRX
    announced extended sessions for 2026 (kiwoom-api.md §0.2 item 12)."""

    pre_open: dt.time = dt.time(8, 30)
    continuous: dt.time = dt.time(9, 0)
    closing_auction: dt.time = dt.time(15, 20)
    close: dt.time = dt.time(15, 30)
    after_hours: dt.time = dt.time(16, 0)
    end: dt.time = dt.time(18, 0)

    @classmethod
    def from_strings(cls, **times: str) -> SessionSchedule:
        """Build from "HH:MM" strings, e.g. from settings; unknown names raise TypeError."""
        return cls(**{name: _hm(value) for name, value in times.items()})

    def phase_at(self, time_of_day: dt.time) -> SessionPhase:
        """Phase for a time of day on a business day."""
        t = time_of_day.replace(tzinfo=None)
        if t < self.pre_open or t >= self.end:
            return SessionPhase.CLOSED
        if t < self.continuous:
            return SessionPhase.PRE_OPEN
        if t < self.closing_auction:
            return SessionPhase.CONTINUOUS
        if t < self.close:
            return SessionPhase.CLOSING_AUCTION
        if t < self.after_hours:
            return SessionPhase.POST_CLOSE
        return SessionPhase.AFTER_HOURS


DEFAULT_SCHEDULE = SessionSchedule()


def session_phase(
    moment: dt.datetime, schedule: SessionSchedule = DEFAULT_SCHEDULE
) -> SessionPhase:
    """Phase at `moment` (naive datetimes are taken as KST), holidays included."""
    local = moment.astimezone(KST) if moment.tzinfo else moment.replace(tzinfo=KST)
    if not is_business_day(local.date()):
        return SessionPhase.CLOSED
    return schedule.phase_at(local.time())


# --- Business days ----------------------------------------------------------------------


@dataclass(frozen=True)
class KrxHolidays:
    """The weekdays KRX does not trade (holidays) between `first` and `last`, the range
    exchange_calendars' XKRX calendar covers (about twenty years back, a year ahead)."""

    first: dt.date
    last: dt.date
    closed: frozenset[dt.date]


HOLIDAY_CACHE_ENV = "KIWOOM_TERMINAL_CACHE_DIR"  # overrides the user cache folder


@functools.lru_cache(maxsize=1)
def _holidays() -> KrxHolidays | None:
    """KRX holidays, loaded once per process. Building the XKRX calendar takes about 2 s
    (its lunar-calendar holidays over twenty years) in every process that asks — the
    engine, the simulator, each worker — so the result is kept in the user cache folder,
    rebuilt each month and for each exchange_calendars version. None when the calendar is
    not available (only weekends are then treated as closed, with a warning)."""
    try:  # the version from the package metadata: no import (pandas and all) when cached
        version = importlib.metadata.version("exchange_calendars")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        log.warning("KRX holiday calendar unavailable; treating only weekends as closed")
        return None
    today = dt.datetime.now(KST).date()
    path = _holiday_cache_dir() / f"xkrx-holidays-{version}-{today:%Y%m}.json"
    cached = _read_holidays(path)
    if cached is not None:
        return cached
    try:
        import exchange_calendars

        calendar = exchange_calendars.get_calendar("XKRX")
    except Exception:  # pragma: no cover - a broken install must not stop trading
        log.warning("KRX holiday calendar unavailable; treating only weekends as closed")
        return None
    sessions = {ts.date() for ts in calendar.sessions}
    first, last = calendar.first_session.date(), calendar.last_session.date()
    closed = frozenset(
        d
        for d in (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        if d.weekday() < 5 and d not in sessions
    )
    holidays = KrxHolidays(first, last, closed)
    _write_holidays(path, holidays)
    return holidays


def _holiday_cache_dir() -> Path:
    override = os.environ.get(HOLIDAY_CACHE_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("kiwoom-terminal", "kiwoom-terminal"))


def _read_holidays(path: Path) -> KrxHolidays | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return KrxHolidays(
            dt.date.fromisoformat(data["first"]),
            dt.date.fromisoformat(data["last"]),
            frozenset(dt.date.fromisoformat(d) for d in data["closed"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none yet, or unreadable: rebuilt from the calendar


def _write_holidays(path: Path, holidays: KrxHolidays) -> None:
    """Write atomically (several processes may build it at once); a failure only costs
    the next process the 2 s again."""
    data = {
        "first": holidays.first.isoformat(),
        "last": holidays.last.isoformat(),
        "closed": sorted(d.isoformat() for d in holidays.closed),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.info("KRX holiday cache not written (%s): %s", path, exc)


def is_business_day(day: dt.date) -> bool:
    """True when KRX trades on `day`.

    Holidays come from exchange_calendars' XKRX calendar (cached, see `_holidays`). Outside
    the calendar's range (it covers about a year ahead) only weekends count as closed, with
    a warning.
    """
    if day.weekday() >= 5:
        return False
    holidays = _holidays()
    if holidays is None:
        return True
    if day < holidays.first or day > holidays.last:
        _warn_outside_calendar(day)
        return True
    return day not in holidays.closed


@functools.lru_cache(maxsize=8)
def _warn_outside_calendar(day: dt.date) -> None:
    log.warning("%s is outside the KRX holiday calendar; only weekends are treated as closed", day)


def previous_business_day(day: dt.date) -> dt.date:
    """The last business day strictly before `day`."""
    d = day - dt.timedelta(days=1)
    while not is_business_day(d):
        d -= dt.timedelta(days=1)
    return d


def latest_business_day(day: dt.date) -> dt.date:
    """`day` itself when KRX trades, else the business day before (how base_dt resolves)."""
    return day if is_business_day(day) else previous_business_day(day)


def next_business_day(day: dt.date) -> dt.date:
    """The first business day strictly after `day`."""
    d = day + dt.timedelta(days=1)
    while not is_business_day(d):
        d += dt.timedelta(days=1)
    return d


# --- Fees and tax -----------------------------------------------------------------------


@dataclass(frozen=True)
class FeeSchedule:
    """Brokerage commission and securities transaction tax, as fractions of trade value.

    Defaults: 0.015 % online commission on both sides; 0.20 % transaction tax on sells
    (the 2026 KOSPI/KOSDAQ rate). Both are settings because rates change by account and year.
    Commission is truncated to 10 KRW and tax to 1 KRW, as Kiwoom statements show.
    """

    commission_rate: float = 0.00015
    tax_rate: float = 0.0020

    def commission(self, amount: int) -> int:
        return _truncate(amount * self.commission_rate) // 10 * 10

    def tax(self, amount: int, side_is_sell: bool) -> int:
        return _truncate(amount * self.tax_rate) if side_is_sell else 0

    def net_proceeds(self, price: int, quantity: int) -> int:
        """Cash received for a sell after commission and tax."""
        amount = price * quantity
        return amount - self.commission(amount) - self.tax(amount, True)

    def total_cost(self, price: int, quantity: int) -> int:
        """Cash paid for a buy including commission."""
        amount = price * quantity
        return amount + self.commission(amount)


def _truncate(value: float) -> int:
    """Truncate a KRW amount, forgiving float error (0.00015 × 10,000,000 is 1499.99…)."""
    return int(value + 1e-6)
