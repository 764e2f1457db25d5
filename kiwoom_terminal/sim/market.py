"""The simulated KRX market: every listed stock's day, its book, and the trades it prints.

`Market.advance()` is called from the server loop: it runs each stock's seeded price path
up to the simulated clock, re-centres the crowd in the book when the fair price moves
(filling our crossed orders), and prints the path's volume as trades. `crowd_ticks()` adds
random crowd trades against the book for stocks somebody watches, at a rate the feed sets.
Our orders go through `match` / `rest` / `withdraw` (called by the account). Every trade is
reported to the sink (0B pushes) and every fill of ours too (00 / 04 events).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kiwoom_terminal import krx
from kiwoom_terminal.krx import SessionPhase
from kiwoom_terminal.sim.book import DEPTH, Book, MatchResult, OwnFill
from kiwoom_terminal.sim.clock import DAY_SECONDS, ClockMode, SimClock
from kiwoom_terminal.sim.days import BusinessDays
from kiwoom_terminal.sim.formats import rate, signed, signed_price
from kiwoom_terminal.sim.history import (
    HISTORY_DAYS,
    DailyBar,
    StockProfile,
    code_key,
    daily_history,
    past_minute_bars,
)
from kiwoom_terminal.sim.listings import LISTINGS, Listing
from kiwoom_terminal.sim.process import DayProcess

KRX_DAY_SECONDS = 23_400  # 09:00–15:30 in krx mode (the closing auction included)
PATH_PHASES = frozenset({SessionPhase.CONTINUOUS, SessionPhase.CLOSING_AUCTION})
# Crowd trade sizes relative to the mean: a fixed lognormal table (cheaper than drawing
# lognormvariate for every one of tens of thousands of ticks a second).
_SIZE_COUNT = 4096
_SIZES = [
    math.exp(g)
    for g in (lambda r: [r.gauss(-0.5, 1.0) for _ in range(_SIZE_COUNT)])(random.Random(7))
]


class MarketSink(Protocol):
    """Receives what the market does (implemented by the server)."""

    def on_trade(self, stock: Stock, qty: int, buy: bool) -> None: ...

    def on_own_fill(self, fill: OwnFill) -> None: ...


class NullSink:
    def on_trade(self, stock: Stock, qty: int, buy: bool) -> None:
        pass

    def on_own_fill(self, fill: OwnFill) -> None:
        pass


@dataclass(slots=True)
class Script:
    """A scripted price path: (session second, price) keyframes, linear in between."""

    keyframes: list[tuple[int, int]]
    then: str = "hold"  # after the last keyframe: "hold" (stay paused) or "resume"

    def price_at(self, sec: int) -> int:
        frames = self.keyframes
        if sec <= frames[0][0]:
            return frames[0][1]
        for (t0, p0), (t1, p1) in zip(frames, frames[1:]):
            if sec <= t1:
                return round(p0 + (p1 - p0) * (sec - t0) / (t1 - t0)) if t1 > t0 else p1
        return frames[-1][1]

    @property
    def end(self) -> int:
        return self.keyframes[-1][0]


class Stock:
    """One stock's state for the simulated day."""

    def __init__(
        self,
        listing: Listing,
        profile: StockProfile,
        history: list[DailyBar],
        day: dt.date,
        seed: int,
        day_seconds: int,
    ) -> None:
        self.listing = listing
        self.code = listing.code
        self.name = listing.name
        self.etf = listing.is_etf
        self.profile = profile
        self.history = history  # oldest first, ends with the previous business day
        self.day = day
        self.base = history[-1].close if history else listing.base_price
        self.band = krx.price_band(self.base, etf=self.etf)
        self.prev_volume = history[-1].volume if history else 0
        self.prev_value = history[-1].value if history else 0
        self.process = DayProcess(
            listing.code, profile, self.band, day, seed, day_seconds, etf=self.etf
        )
        self.book = Book(self.band, etf=self.etf)
        self.rng = random.Random(seed * 1_000_003 + code_key(listing.code))
        self.base_qty = max(100, profile.avg_volume // 300)
        self.fair = self.process.price
        self.price = self.base  # last trade; the base price until the first trade
        self.open = self.high = self.low = 0
        self.open_time = self.high_time = self.low_time = ""
        self.upper_time = self.lower_time = ""
        self.cum_volume = 0
        self.cum_value = 0
        self.buy_volume = self.sell_volume = 0
        self.buy_count = self.sell_count = 0
        self.last_qty = 0  # signed: + buyer-initiated
        self.last_time = ""
        self.bars: dict[int, list[int]] = {}  # minute -> [open, high, low, close, volume, acc]
        self.paused = False
        self.script: Script | None = None
        self.recentred_sec = -1
        self._quote_cache: dict[int, tuple[str, str, str, str]] = {}
        self.feed_cache: dict[str, object] = {}  # pieces of the 0B values (realtime.py)
        self.last_tick_at = 0.0  # time.time() when the last 0B entry was queued for clients
        # While set (the control API's price moves), each 0B entry is followed to the socket
        # and `last_tick_sent_at` is when its frame was written (0.0 until then).
        self.stamp_sends = False
        self.last_tick_sent_at = 0.0
        # 250-day extremes of the history (today is added when asked): fixed for the day.
        recent = history[-249:]
        top = max(recent, key=lambda b: b.high) if recent else None
        bottom = min(recent, key=lambda b: b.low) if recent else None
        self._high_250 = (top.high, top.day) if top else (self.base, day)
        self._low_250 = (bottom.low, bottom.day) if bottom else (self.base, day)

    # --- derived values ------------------------------------------------------------------

    @property
    def change(self) -> int:
        return self.price - self.base

    @property
    def change_rate(self) -> float:
        return (self.price - self.base) / self.base * 100.0

    def high_250(self) -> tuple[int, dt.date]:
        """250-day high including today, and its date."""
        if self.high and self.high >= self._high_250[0]:
            return self.high, self.day
        return self._high_250

    def low_250(self) -> tuple[int, dt.date]:
        """250-day low including today, and its date."""
        if self.low and self.low <= self._low_250[0]:
            return self.low, self.day
        return self._low_250

    def today_bar(self) -> DailyBar:
        price = self.price
        return DailyBar(
            self.day,
            self.open or price,
            self.high or price,
            self.low or price,
            price,
            self.cum_volume,
            self.cum_value,
        )

    def vps_now(self) -> float:
        """The path's expected volume per simulated second right now."""
        idx = min(self.process.sec, self.process.day_seconds - 1)
        return float(self.process.vps * self.process.volume_mult[idx])

    # --- trades --------------------------------------------------------------------------

    def quote_strings(self, price: int) -> tuple[str, str, str, str]:
        """(signed price, signed change, change rate, sign code) of a price, cached: the
        feed formats the same few prices over and over."""
        cached = self._quote_cache.get(price)
        if cached is None:
            base = self.base
            cached = (
                signed_price(price, base),
                signed(price - base),
                rate((price - base) / base * 100.0),
                krx.sign_code(price, base, self.band),
            )
            if len(self._quote_cache) > 4096:
                self._quote_cache.clear()
            self._quote_cache[price] = cached
        return cached

    def record_trade(self, price: int, qty: int, buy: bool, t: str, sec: int) -> None:
        """Update last price, OHLC, volume and the minute bar for one printed trade at
        time `t` (HHmmss), `sec` seconds into the session."""
        self.price = price
        if not self.open:
            self.open = self.high = self.low = price
            self.open_time = self.high_time = self.low_time = t
        elif price > self.high:
            self.high, self.high_time = price, t
        elif price < self.low:
            self.low, self.low_time = price, t
        if price >= self.band.upper and not self.upper_time:
            self.upper_time = t
        if price <= self.band.lower and not self.lower_time:
            self.lower_time = t
        self.cum_volume += qty
        self.cum_value += price * qty
        if buy:
            self.buy_volume += qty
            self.buy_count += 1
            self.last_qty = qty
        else:
            self.sell_volume += qty
            self.sell_count += 1
            self.last_qty = -qty
        self.last_time = t
        minute = max(sec, 0) // 60
        bar = self.bars.get(minute)
        if bar is None:
            self.bars[minute] = [price, price, price, price, qty, self.cum_volume]
        else:
            if price > bar[1]:
                bar[1] = price
            elif price < bar[2]:
                bar[2] = price
            bar[3] = price
            bar[4] += qty
            bar[5] = self.cum_volume

    def prestart(self, seconds: int, open_dt: dt.datetime) -> None:
        """Trade the path from the open up to `seconds` into the session (the part of the
        day before the simulator started): minute bars, OHLC, volume and value."""
        prices, volumes = self.process.run(seconds)
        self.fair = int(prices[-1])
        minutes = -(-seconds // 60)
        padded_p = np.resize(prices, minutes * 60).reshape(minutes, 60)
        flat_v = np.zeros(minutes * 60, dtype=np.int64)
        flat_v[:seconds] = volumes
        padded_v = flat_v.reshape(minutes, 60)
        # Bars come from the seconds that traded (a thin stock has silent seconds).
        tr = padded_v > 0
        highs = np.where(tr, padded_p, -1).max(axis=1)
        lows = np.where(tr, padded_p, np.iinfo(np.int64).max).min(axis=1)
        rows = np.arange(minutes)
        opens = padded_p[rows, tr.argmax(axis=1)]
        closes = padded_p[rows, 59 - tr[:, ::-1].argmax(axis=1)]
        minute_volumes = padded_v.sum(axis=1)
        acc = np.cumsum(minute_volumes)
        for m, row in enumerate(
            zip(
                opens.tolist(),
                highs.tolist(),
                lows.tolist(),
                closes.tolist(),
                minute_volumes.tolist(),
                acc.tolist(),
            )
        ):
            if row[4] > 0:
                self.bars[m] = list(row)
        traded = volumes > 0
        if not traded.any():
            return
        first = int(np.argmax(traded))
        hi_i = int(np.argmax(np.where(traded, prices, -1)))
        lo_i = int(np.argmin(np.where(traded, prices, np.iinfo(np.int64).max)))

        def at(i: int) -> str:
            return (open_dt + dt.timedelta(seconds=i)).strftime("%H%M%S")

        self.open, self.open_time = int(prices[first]), at(first)
        self.high, self.high_time = int(prices[hi_i]), at(hi_i)
        self.low, self.low_time = int(prices[lo_i]), at(lo_i)
        self.cum_volume = int(volumes.sum())
        self.cum_value = int((prices * volumes).sum())
        self.buy_volume = int(self.cum_volume * self.rng.uniform(0.45, 0.55))
        self.sell_volume = self.cum_volume - self.buy_volume
        self.buy_count = self.sell_count = int(traded.sum()) // 2
        last = seconds - 1 - int(np.argmax(traded[::-1]))
        self.price = int(prices[last])
        self.last_qty = int(volumes[last])
        self.last_time = at(last)
        if self.high >= self.band.upper:
            self.upper_time = self.high_time
        if self.low <= self.band.lower:
            self.lower_time = self.low_time


class Market:
    """All stocks, the simulated day they are in, and the trades they print."""

    def __init__(
        self,
        clock: SimClock,
        days: BusinessDays,
        seed: int,
        *,
        listings: tuple[Listing, ...] = LISTINGS,
        sink: MarketSink | None = None,
    ) -> None:
        self.clock = clock
        self.days = days
        self.seed = seed
        self.listings = listings
        self.sink: MarketSink = sink or NullSink()
        self.day_seconds = DAY_SECONDS if clock.mode is ClockMode.CONTINUOUS else KRX_DAY_SECONDS
        self.paused_all = False
        self.before_roll: list[Callable[[], None]] = []  # e.g. the account expiring orders
        self.active: dict[str, float] = {}  # code -> crowd ticks per real second
        self.profiles = {li.code: StockProfile.make(li, seed) for li in listings}
        self._past_bars: dict[tuple[str, dt.date], list[tuple[int, int, int, int, int, int]]] = {}
        self.stocks: dict[str, Stock] = {}
        now = clock.now()
        self.day = days.latest(now.date())
        self.open_dt = clock.session_open(self.day)
        hist_days = days.before(self.day, HISTORY_DAYS)[::-1]
        for li in listings:
            profile = self.profiles[li.code]
            history = daily_history(li, profile, li.base_price, hist_days, seed)
            self.stocks[li.code] = Stock(li, profile, history, self.day, seed, self.day_seconds)
        self._prestart(now)

    # --- lookup --------------------------------------------------------------------------

    def get(self, code: str) -> Stock | None:
        """The stock for a code; venue suffixes (`_NX`, `_AL`) are ignored."""
        return self.stocks.get(code.split("_", 1)[0])

    def session_second(self, now: dt.datetime) -> int:
        return int((now - self.open_dt).total_seconds())

    # --- the day -------------------------------------------------------------------------

    def _prestart(self, now: dt.datetime) -> None:
        sec = self.session_second(now) if now.date() == self.day else self.day_seconds
        sec = min(sec, self.day_seconds)
        for stock in self.stocks.values():
            if sec > 0:
                stock.prestart(sec, self.open_dt)
            stock.book.recenter(stock.fair, stock.rng, stock.base_qty)
            stock.recentred_sec = sec

    def roll_day(self, day: dt.date) -> None:
        """Close the current day into history and open `day` (base = today's close)."""
        for callback in self.before_roll:
            callback()
        hist_days = self.days.before(day, HISTORY_DAYS)
        for code, old in list(self.stocks.items()):
            bars = [
                (m, b[0], b[1], b[2], b[3], b[4]) for m, b in sorted(old.bars.items()) if b[4] > 0
            ]
            self._past_bars[(code, old.day)] = bars
            history = [*old.history, old.today_bar()][-len(hist_days) :]
            stock = Stock(old.listing, old.profile, history, day, self.seed, self.day_seconds)
            stock.paused = old.paused
            self.stocks[code] = stock
        self.day = day
        self.open_dt = self.clock.session_open(day)
        for stock in self.stocks.values():
            stock.book.recenter(stock.fair, stock.rng, stock.base_qty)

    def minute_bars_of(self, code: str, day: dt.date) -> list[tuple[int, int, int, int, int, int]]:
        """(minute after 09:00, o, h, l, c, volume) of a past day, oldest first."""
        key = (code, day)
        bars = self._past_bars.get(key)
        if bars is None:
            stock = self.stocks[code]
            bar = next((b for b in reversed(stock.history) if b.day == day), None)
            bars = [] if bar is None else past_minute_bars(stock.listing, bar, self.seed)
            if len(self._past_bars) > 2_000:
                self._past_bars.clear()
            self._past_bars[key] = bars
        return bars

    # --- time passing --------------------------------------------------------------------

    def advance(self) -> dt.datetime:
        """Run every stock's path up to the clock; returns the simulated time used."""
        now, sec, due = self.due_paths()
        self.step_paths(due, sec, now)
        return now

    def due_paths(self) -> tuple[dt.datetime, int, list[Stock]]:
        """The clock now, its session second and the stocks whose path is behind it (the
        day rolled over first if needed). `step_paths` moves them; the server loop does that
        a few stocks at a time."""
        now = self.clock.now()
        today = self.days.latest(now.date())
        if today != self.day:
            self.roll_day(today)
        if self.clock.phase(now) not in PATH_PHASES:
            return now, 0, []
        sec = min(self.session_second(now), self.day_seconds)
        return now, sec, [s for s in self.stocks.values() if sec > s.process.sec]

    def step_paths(self, stocks: list[Stock], sec: int, now: dt.datetime) -> None:
        """Run `stocks`' paths up to session second `sec` (those still behind it)."""
        for stock in stocks:
            if sec > stock.process.sec:
                self._step(stock, sec, now)

    def _step(self, stock: Stock, sec: int, now: dt.datetime) -> None:
        start = stock.process.sec
        n = sec - start
        script = stock.script
        frozen = self.paused_all or stock.paused or script is not None
        new, hi, lo, volume = stock.process.step(n, frozen=frozen)
        if script is not None:
            scripted = [self._scripted(stock, script, s) for s in range(start + 1, sec + 1)]
            new, hi, lo = scripted[-1], max(scripted), min(scripted)
            stock.process.set_price(new)
            if sec >= script.end:
                stock.script = None
                stock.paused = script.then != "resume"
        elif frozen:
            return  # paused: no price moves and no prints
        old = stock.fair
        active = stock.code in self.active and script is None
        if new != old or hi != old or lo != old:
            for extreme in (hi, lo):
                if extreme not in (old, new):
                    self.recenter(stock, extreme, now, jitter=False)
            self.recenter(stock, new, now)
            qty = volume if not active else max(1, volume // max(n, 1))
            self.print_trade(stock, new, max(qty, 1), new >= old, now)
        elif not active and volume > 0:
            self.print_trade(stock, new, volume, stock.rng.random() < 0.5, now)
        if active and sec - stock.recentred_sec >= 1:
            self.recenter(stock, stock.fair, now)

    def _scripted(self, stock: Stock, script: Script, sec: int) -> int:
        p = krx.round_to_tick(max(1, script.price_at(sec)), etf=stock.etf)
        return min(max(p, stock.band.lower), stock.band.upper)

    # --- book and trades -----------------------------------------------------------------

    def recenter(self, stock: Stock, fair: int, now: dt.datetime, *, jitter: bool = True) -> None:
        """Move the crowd to `fair`; our crossed orders fill and print."""
        fills = stock.book.recenter(fair, stock.rng, stock.base_qty, jitter=jitter)
        stock.fair = min(max(fair, stock.band.lower), stock.band.upper)
        stock.recentred_sec = stock.process.sec
        for fill in fills:
            self.print_trade(stock, fill.price, fill.qty, fill.price >= stock.price, now)
            self.sink.on_own_fill(fill)

    def print_trade(self, stock: Stock, price: int, qty: int, buy: bool, now: dt.datetime) -> None:
        stock.record_trade(price, qty, buy, now.strftime("%H%M%S"), self.session_second(now))
        self.sink.on_trade(stock, qty, buy)

    def set_price(self, stock: Stock, price: int, qty: int = 1) -> int:
        """Move a stock to `price` now (snapped to the grid, inside the band) and print it."""
        now = self.clock.now()
        price = krx.round_to_tick(max(1, price), etf=stock.etf)
        price = min(max(price, stock.band.lower), stock.band.upper)
        stock.process.set_price(price)
        old = stock.fair
        self.recenter(stock, price, now, jitter=False)
        self.print_trade(stock, price, max(1, qty), price >= old, now)
        return price

    def crowd_trade(
        self, stock: Stock, buy: bool, qty: int, limit: int | None = None
    ) -> MatchResult:
        """A crowd order hits the book (marketable part only); prints and fills ours."""
        now = self.clock.now()
        result = stock.book.take(buy, qty, limit)
        for price, q in result.trades:
            self.print_trade(stock, price, q, buy, now)
        for fill in result.resting_fills:
            self.sink.on_own_fill(fill)
        return result

    def crowd_ticks(self, budget: dict[str, int]) -> int:
        """Random crowd trades: `budget` maps code -> number of ticks. Returns trades done."""
        done = 0
        if self.paused_all or self.clock.phase() not in PATH_PHASES:
            return 0
        now = self.clock.now()
        sec = self.session_second(now)
        t = now.strftime("%H%M%S")
        speed = max(self.clock.speed, 0.001)
        for code, count in budget.items():
            stock = self.stocks.get(code)
            if stock is None or stock.paused or stock.script is not None:
                continue
            rate = max(self.active.get(code, 1.0), 0.001)
            mean = stock.vps_now() * speed / rate
            rng = stock.rng
            random = rng.random
            book = stock.book
            asks, bids = book.asks, book.bids
            on_trade = self.sink.on_trade
            record = stock.record_trade
            for _ in range(count):
                r = random()
                buy = r < 0.5
                qty = int(mean * _SIZES[int(random() * _SIZE_COUNT)]) or 1
                side = asks if buy else bids
                if side:
                    # Fast path (most ticks): the crowd at the touch absorbs the whole trade.
                    price = min(side) if buy else max(side)
                    level = side[price]
                    first = level.entries[0]
                    if first.order is None and first.qty > qty:
                        first.qty -= qty
                        level.total -= qty
                        book.version += 1
                        record(price, qty, buy, t, sec)
                        on_trade(stock, qty, buy)
                        done += 1
                        continue
                result = book.take(buy, qty)
                for price, q in result.trades:
                    stock.record_trade(price, q, buy, t, sec)
                    self.sink.on_trade(stock, q, buy)
                    done += 1
                for fill in result.resting_fills:
                    self.sink.on_own_fill(fill)
            if len(book.asks) < DEPTH or len(book.bids) < DEPTH:
                self.recenter(stock, stock.fair, now, jitter=False)  # the crowd comes back
        return done

    # --- our orders ----------------------------------------------------------------------

    def match(self, stock: Stock, buy: bool, qty: int, limit: int | None) -> MatchResult:
        """Our aggressive order against the book; the trades print, resting fills report."""
        return self.crowd_trade(stock, buy, qty, limit)

    def rest(self, stock: Stock, order: object, buy: bool, price: int, qty: int) -> None:
        stock.book.add(order, buy, price, qty)

    def withdraw(self, stock: Stock, order_no: str, qty: int) -> int:
        return stock.book.reduce(order_no, qty)
