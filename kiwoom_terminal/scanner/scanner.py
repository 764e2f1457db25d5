"""The minute scanner: keeps the watchlist's minute bars current and runs the enabled
strategies on every newly completed bar.

Pure logic driven by the engine (no Qt, no queues, no clock of its own):

1. From a timer, the engine asks `due_requests(now)` for the ka10080 queries
   (`messages.MinuteBarsQuery`) to put on the general-TR queue. A code is due when its
   newest cached bar is older than the newest completed bar at `now`. Requests are paced by
   a token bucket (`requests_per_second`, setting) so a 100-code watchlist is spread over
   the minute instead of bursting into the worker's rate limiter ahead of the engine's own
   queries; the stalest code goes first, one request per code at a time, and a code whose
   request failed waits (5 s, doubling up to 2 min) before it is asked again.
2. With each reply the engine calls `on_bars(request_id, bars, now)`: the bars are merged
   into a `MinuteBarCache` (completed bars only) and every enabled strategy runs over the
   code's bars. A BUY or SELL on a bar completed since the strategy last looked at the code,
   on today's trading day and at most `max_signal_age_s` old, becomes a `SignalData` in the
   `SignalBook` (deduplicated per bar, code, strategy and side, across restarts).
3. The result lists the new signals, and — when `route_buy_signals` is on — a
   `BuyCandidate` per new BUY for the engine's buy path (the same guards and risk checks as
   a condition 편입, `source` = the strategy name), and — when `route_sell_signals` is on — a
   `SellFlag` per new SELL, which the engine applies to positions that strategy opened (the
   flag the exit rules take as `sell_flagged`, as the backtester does).

Strategies see the bars the cache holds (`history_bars`, setting): indicators with long
memory (EMA, Wilder's RSI) can differ slightly from a backtest over a longer history.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kiwoom_terminal import krx
from kiwoom_terminal.constants import Side
from kiwoom_terminal.messages import MinuteBarsQuery
from kiwoom_terminal.objects import BarData
from kiwoom_terminal.scanner.bars import MinuteBarCache
from kiwoom_terminal.scanner.signals import SignalBook, SignalData, SignalStatus
from kiwoom_terminal.settings import AppSettings
from kiwoom_terminal.strategies.base import BUY, SELL, Strategy, StrategyError, get_strategy

log = logging.getLogger(__name__)

MINUTE_INTERVALS = (1, 3, 5, 10, 15, 30, 45, 60)
FIRST_RETRY_S = 5.0
MAX_RETRY_S = 120.0
PAGE_ROWS = 900  # ka10080 rows per page: a first fetch of up to this many is one request


@dataclass(frozen=True)
class ScannerConfig:
    """How the scanner fetches and judges (from `[scanner]`, see `from_settings`)."""

    interval: int = 1  # bar minutes; one scan per completed bar
    history_bars: int = 400  # bars kept per code (and asked for on the first fetch)
    requests_per_second: float = 1.0  # pacing of the scanner's ka10080 requests
    burst: int = 2  # requests that may go out back to back after a quiet spell
    request_timeout_s: float = 60.0  # a reply not back by then frees the code again
    max_signal_age_s: float = (
        120.0  # a signal found later than this after its bar closed is dropped
    )
    route_buy_signals: bool = False
    route_sell_signals: bool = True
    session: krx.SessionSchedule = field(default_factory=krx.SessionSchedule)

    def __post_init__(self) -> None:
        if self.interval not in MINUTE_INTERVALS:
            raise ValueError(
                f"분봉 주기 {self.interval} 은(는) 쓸 수 없습니다 "
                f"(가능: {', '.join(map(str, MINUTE_INTERVALS))})"
            )
        if self.history_bars < 2 or self.requests_per_second <= 0 or self.burst < 1:
            raise ValueError("history_bars ≥ 2, requests_per_second > 0, burst ≥ 1 이어야 합니다")

    @classmethod
    def from_settings(cls, settings: AppSettings) -> ScannerConfig:
        """From `[scanner]` and the session times of `[session]`."""
        sc, sess = settings.scanner, settings.session
        return cls(
            interval=sc.interval,
            history_bars=sc.history_bars,
            requests_per_second=sc.requests_per_second,
            max_signal_age_s=float(sc.max_signal_age_s),
            route_buy_signals=sc.route_buy_signals,
            route_sell_signals=sc.route_sell_signals,
            session=krx.SessionSchedule(
                pre_open=sess.pre_open,
                continuous=sess.continuous,
                closing_auction=sess.closing_auction,
                close=sess.close,
                after_hours=sess.after_hours,
                end=sess.end,
            ),
        )


@dataclass(frozen=True)
class BuyCandidate:
    """A strategy's BUY for the engine's buy path (`consider_buy(code, source)`)."""

    code: str
    name: str
    source: str  # the strategy name (shown in the tracking table's source column)
    signal_id: str
    price: int  # close of the signal bar
    bar_time: dt.datetime


@dataclass(frozen=True)
class SellFlag:
    """A strategy's SELL: positions opened by `strategy` in `code` should be sold (the exit
    rules' sell flag with reason `strategy`)."""

    code: str
    strategy: str
    signal_id: str
    price: int
    bar_time: dt.datetime


@dataclass(frozen=True)
class ScanResult:
    """What one reply produced."""

    code: str
    new_bars: int
    signals: tuple[SignalData, ...] = ()
    buys: tuple[BuyCandidate, ...] = ()
    sells: tuple[SellFlag, ...] = ()


@dataclass(frozen=True)
class ScannerStatus:
    """For the 전략 dock's status line."""

    codes: int
    up_to_date: int
    in_flight: int
    strategies: tuple[str, ...]
    target_bar: dt.datetime | None


@dataclass
class _Pending:
    code: str
    sent_at: dt.datetime
    target: dt.datetime


class Scanner:
    """Watchlist codes × enabled strategies → signals. Use from one thread (the engine's)."""

    def __init__(
        self,
        config: ScannerConfig,
        book: SignalBook,
        *,
        names: Mapping[str, str] | None = None,
        is_business_day: Callable[[dt.date], bool] = krx.is_business_day,
    ) -> None:
        self.config = config
        self.book = book
        self.cache = MinuteBarCache(config.interval, config.history_bars)
        self._names: dict[str, str] = dict(names or {})
        self._codes: list[str] = []
        self._strategies: dict[str, Strategy] = {}
        self._is_business_day = is_business_day
        self._pending: dict[str, _Pending] = {}  # request_id → code and target bar
        # code → the target bar its last reply answered: an illiquid code with no new bar
        # (or the quiet closing auction) is not asked again until the target moves on.
        self._answered: dict[str, dt.datetime] = {}
        self._retry_at: dict[str, dt.datetime] = {}
        self._failures: dict[str, int] = {}
        self._evaluated: dict[tuple[str, str], dt.datetime] = {}  # (code, strategy) → bar
        self._tokens = float(config.burst)
        self._tokens_at: dt.datetime | None = None
        self._target: dt.datetime | None = None

    # --- configuration -------------------------------------------------------------------

    def set_codes(self, codes: Sequence[str], names: Mapping[str, str] | None = None) -> None:
        """The watchlist changed: scan these codes (cached bars of removed codes are
        dropped)."""
        self._codes = list(dict.fromkeys(codes))
        if names:
            self._names.update(names)
        keep = set(self._codes)
        for code in self.cache.codes():
            if code not in keep:
                self.cache.drop(code)

    def set_strategies(self, specs: Mapping[str, Mapping[str, float]]) -> None:
        """Run these strategies (name → parameters). Every spec is validated first; on a
        StrategyError nothing changes. A strategy whose parameters changed looks at the
        next completed bar only (not at history it judged with other parameters)."""
        built = {name: get_strategy(name, **dict(params)) for name, params in specs.items()}
        for name, strategy in built.items():
            old = self._strategies.get(name)
            if old is None or old.values != strategy.values:
                for key in [k for k in self._evaluated if k[1] == name]:
                    del self._evaluated[key]
        self._strategies = built

    @property
    def strategies(self) -> dict[str, Strategy]:
        return dict(self._strategies)

    @property
    def codes(self) -> list[str]:
        return list(self._codes)

    # --- when to fetch -------------------------------------------------------------------

    def target_bar(self, now: dt.datetime) -> dt.datetime | None:
        """Start of the newest bar completed by `now` on a trading day's regular session,
        or None outside the session (nothing to fetch)."""
        sess = self.config.session
        if not self._is_business_day(now.date()):
            return None
        opened = dt.datetime.combine(now.date(), sess.continuous)
        closed = dt.datetime.combine(now.date(), sess.close)
        span = dt.timedelta(minutes=self.config.interval)
        if now < opened + span:
            return None
        minutes = int((min(now, closed + span) - opened).total_seconds() // 60)
        label = opened + dt.timedelta(minutes=minutes - minutes % self.config.interval) - span
        return min(label, closed)

    def due_requests(self, now: dt.datetime, limit: int | None = None) -> list[MinuteBarsQuery]:
        """ka10080 queries to send now (possibly none), stalest code first, paced; at most
        `limit` of them (the engine's cap on the scanner's share of the TR queue)."""
        self._refill(now)
        timeout = dt.timedelta(seconds=self.config.request_timeout_s)
        for request_id, pending in list(self._pending.items()):
            if now - pending.sent_at > timeout:
                log.warning("scanner: no reply for %s within %.0f s", pending.code, timeout.seconds)
                del self._pending[request_id]
        target = self.target_bar(now)
        self._target = target
        if target is None or not self._strategies or not self._codes:
            return []
        busy = {p.code for p in self._pending.values()}
        stale: list[tuple[dt.datetime, int, str]] = []
        for order, code in enumerate(self._codes):
            if code in busy or self._retry_at.get(code, now) > now:
                continue
            answered = self._answered.get(code)
            if answered is not None and answered >= target:
                continue
            newest = self.cache.newest(code)
            if newest is None or newest < target:
                stale.append((newest or dt.datetime.min, order, code))
        stale.sort()
        queries: list[MinuteBarsQuery] = []
        for newest, _, code in stale:
            if self._tokens < 1 or (limit is not None and len(queries) >= limit):
                break
            self._tokens -= 1
            query = MinuteBarsQuery(
                code, minutes=self.config.interval, max_rows=self._rows(newest, target)
            )
            self._pending[query.request_id] = _Pending(code, now, target)
            queries.append(query)
        return queries

    def _rows(self, newest: dt.datetime, target: dt.datetime) -> int:
        """Rows to ask for: the history on a first fetch (or a new day), else the missing
        bars plus two to correct the last one."""
        if newest == dt.datetime.min or newest.date() != target.date():
            return self.config.history_bars
        missing = int((target - newest).total_seconds() // 60) // self.config.interval
        return max(3, min(missing + 2, self.config.history_bars))

    def _refill(self, now: dt.datetime) -> None:
        if self._tokens_at is not None:
            elapsed = max(0.0, (now - self._tokens_at).total_seconds())
            self._tokens = min(
                float(self.config.burst), self._tokens + elapsed * self.config.requests_per_second
            )
        self._tokens_at = now

    # --- replies ---------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Requests sent and not answered (nor timed out) yet."""
        return len(self._pending)

    def is_mine(self, request_id: str) -> bool:
        """True for a request this scanner sent and is waiting for."""
        return request_id in self._pending

    def on_failure(self, request_id: str, now: dt.datetime, message: str = "") -> None:
        """The query failed: the code is retried after a back-off."""
        pending = self._pending.pop(request_id, None)
        if pending is None:
            return
        count = self._failures.get(pending.code, 0) + 1
        self._failures[pending.code] = count
        wait = min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** (count - 1))
        self._retry_at[pending.code] = now + dt.timedelta(seconds=wait)
        log.warning("scanner: %s 분봉 조회 실패 (%s); %.0f초 후 다시", pending.code, message, wait)

    def on_bars(self, request_id: str, rows: Sequence[BarData], now: dt.datetime) -> ScanResult:
        """Merge a reply and run the strategies; unknown request ids raise KeyError."""
        pending = self._pending.pop(request_id)
        code = pending.code
        self._failures.pop(code, None)
        self._retry_at.pop(code, None)
        self._answered[code] = pending.target
        if code not in self._codes:  # removed from the watchlist while the request ran
            return ScanResult(code, 0)
        new = self.cache.merge(code, rows, now)
        signals, buys, sells = self.evaluate(code, now)
        return ScanResult(code, new, tuple(signals), tuple(buys), tuple(sells))

    def evaluate(
        self, code: str, now: dt.datetime
    ) -> tuple[list[SignalData], list[BuyCandidate], list[SellFlag]]:
        """Run every enabled strategy on the code's cached bars; new signals are stored."""
        bars = self.cache.bars(code)
        signals: list[SignalData] = []
        buys: list[BuyCandidate] = []
        sells: list[SellFlag] = []
        if bars is None or bars.empty:
            return signals, buys, sells
        span = dt.timedelta(minutes=self.config.interval)
        max_age = dt.timedelta(seconds=self.config.max_signal_age_s)
        today = now.date()
        newest = bars.index[-1].to_pydatetime()
        for name, strategy in self._strategies.items():
            seen = self._evaluated.get((code, name))
            self._evaluated[(code, name)] = newest
            if seen is not None and seen >= newest:
                continue
            if len(bars) < strategy.min_bars:
                continue
            try:
                values = strategy.signals(bars)
            except StrategyError as exc:  # e.g. bars the strategy cannot use
                log.warning("scanner: %s on %s: %s", name, code, exc)
                continue
            fresh = values.index > seen if seen is not None else values.index >= values.index[0]
            hits = values[fresh & (values != 0)]
            for stamp, value in hits.items():
                bar_time = stamp.to_pydatetime()
                if bar_time.date() != today or now - (bar_time + span) > max_age:
                    continue  # yesterday's, or too late to act on
                side = Side.BUY if value == BUY else Side.SELL if value == SELL else None
                if side is None:
                    continue
                signal = SignalData(
                    day=today,
                    bar_time=bar_time,
                    detected_at=now,
                    code=code,
                    name=self._names.get(code, ""),
                    strategy=name,
                    params=strategy.describe(),
                    side=side,
                    price=int(bars.at[stamp, "close"]),
                )
                routed = side is Side.BUY and self.config.route_buy_signals
                if routed:
                    signal = dataclasses.replace(signal, status=SignalStatus.ROUTED)
                if not self.book.add(signal):
                    continue  # this bar, code, strategy and side already had its signal
                signals.append(signal)
                if routed:
                    buys.append(
                        BuyCandidate(
                            code, signal.name, name, signal.signal_id, signal.price, bar_time
                        )
                    )
                elif side is Side.SELL and self.config.route_sell_signals:
                    sells.append(SellFlag(code, name, signal.signal_id, signal.price, bar_time))
        return signals, buys, sells

    # --- status --------------------------------------------------------------------------

    def status(self) -> ScannerStatus:
        target = self._target
        fresh = sum(
            1
            for code in self._codes
            if target is not None
            and (
                (self.cache.newest(code) or dt.datetime.min) >= target
                or self._answered.get(code, dt.datetime.min) >= target
            )
        )
        return ScannerStatus(
            codes=len(self._codes),
            up_to_date=fresh,
            in_flight=len(self._pending),
            strategies=tuple(self._strategies),
            target_bar=target,
        )
