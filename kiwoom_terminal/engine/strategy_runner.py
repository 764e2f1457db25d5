"""`StrategyRunner`: the watchlist scanner, the scheduled jobs and the watchlist's condition
sync, driven by the engine (issue #6). The engine owns one as `engine.strategy`.

Every `[scanner] check_ms` (1 s) on the market clock (`market_now`):

1. **Scheduled jobs** (`[schedule]`): `Scheduler.due(now)` hands out each rule once per day,
   also across restarts (its JSON file, written before the job runs). Trading jobs wait
   until the start-up reconciliation is done. `schedule_jobs.JobRunner` runs them.
2. **Scanner** (`[scanner] enabled`): `Scanner.due_requests` → ka10080 queries on the
   general-TR queue through the engine's request path. The scanner paces itself
   (`requests_per_second`); on top, at most `max_in_flight` scanner queries wait at a time
   and none is sent while the TR worker's rate limiter is delaying requests, so the engine's
   own queries (order book before a buy, account reconciliation) never queue behind a
   100-code scan. Replies go back to the scanner; its new signals are stored (SQLite) and
   shown (`engine.table("signals")`, `table_changed("signals", keys)`).
3. **Routing**: a BUY candidate (`route_buy_signals`) goes to `AutoTrader.consider_buy`
   with `source` = the strategy name — the same guards, risk checks, journal-before-send and
   order path as a condition 편입; the signal row then says 매수 주문 or 건너뜀 and why. A
   SELL flags the held positions that strategy opened (`AutoTrader.flag_sell`, reason
   `ExitReason.STRATEGY`): they are sold by the normal exit path.

The market day: against Kiwoom it is the KST date. The embedded simulator keeps its own
session day (the latest business day when it started, then one business day per simulated
session), which its minute bars carry: in sim mode the runner starts from the latest
business day and moves forward when the server's clock falls back (`MarketClock.new_days`:
a new simulated day) or a reply carries bars of a later day.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from PyQt5.QtCore import QObject, QTimer, pyqtSignal

from kiwoom_terminal import krx
from kiwoom_terminal.constants import ConditionChange, ExitReason, Mode, Side
from kiwoom_terminal.engine.bar_bridge import EngineBars
from kiwoom_terminal.engine.journal import JournalKind
from kiwoom_terminal.engine.schedule_jobs import JobRunner
from kiwoom_terminal.messages import StartCondition, TrReply, WorkerKind, WsReply
from kiwoom_terminal.objects import BarData, ConditionEventData
from kiwoom_terminal.scanner.scanner import (
    BuyCandidate,
    Scanner,
    ScannerConfig,
    ScanResult,
    SellFlag,
)
from kiwoom_terminal.scanner.schedule import ScheduleError, Scheduler, parse_rules
from kiwoom_terminal.scanner.signals import SignalBook, SignalStatus
from kiwoom_terminal.scanner.specs import enabled_specs, format_params, parse_params
from kiwoom_terminal.scanner.watchlist import Watchlist, WatchlistError
from kiwoom_terminal.settings import AppSettings, SettingsError

if TYPE_CHECKING:
    from kiwoom_terminal.engine.engine import TradingEngine

log = logging.getLogger(__name__)

SIGNALS_TABLE = "signals"
SYNC_EVERY_S = 300.0  # one-shot condition search for the watchlist sync this often


class StrategyRunner(QObject):
    """Scanner, scheduler and watchlist of one engine (module docstring)."""

    status_changed = pyqtSignal(object)  # ScannerStatus, or None when the scanner is off
    watchlist_changed = pyqtSignal(list)  # codes, after a sync or an edit through the runner

    def __init__(self, engine: TradingEngine) -> None:
        super().__init__(engine)
        self.engine = engine
        self.ctx = engine.ctx
        settings = self.ctx.settings
        self.sim = settings.general.mode is Mode.SIM
        self.day = krx.latest_business_day(krx.now_kst().date())
        self.ledger_day = self.day  # the market day the engine's daily state belongs to
        self._new_days = self.ctx.clock.new_days
        self.turns = 0  # timer turns with a known server time (tests wait on it)
        data_dir = engine.data_dir
        self.watchlist = Watchlist(data_dir / "watchlist.json")
        self.book = SignalBook(
            data_dir / "signals.sqlite", today=self.day, dedup=settings.scanner.signal_dedup
        )
        self.scanner = Scanner(ScannerConfig.from_settings(settings), self.book)
        self.scheduler = Scheduler([], data_dir / "schedule.json")
        self.bars = EngineBars(engine)  # the 백테스트 tab's bars, through the engine's TR path
        self.jobs = JobRunner(self)
        self._scan_requests: set[str] = set()
        self._members: dict[str, set[str]] = {}  # real-time condition seq → member codes
        self._sync_at = -SYNC_EVERY_S
        self._sync_request = ""
        self._last_status: Any = object()
        self._started = False
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setObjectName("scanner_check_ms")
        self._timer.timeout.connect(self._on_timer)
        self.apply_settings(settings, initial=True)
        self.scanner.set_codes(self.watchlist.codes())
        engine.stocks_loaded.connect(self._on_stocks_loaded)

    # --- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        self._started = True
        self._timer.start(self.ctx.settings.scanner.check_ms)

    def shutdown(self) -> None:
        """The engine stops: no more queries; late replies are ignored; waiting backtest
        calls fail now. `close()` releases the signals file afterwards."""
        self._stopped = True
        self._timer.stop()
        self.bars.close()

    def close(self) -> None:
        self.book.close()

    @property
    def stopped(self) -> bool:
        return self._stopped

    # --- the market clock --------------------------------------------------------------

    def market_now(self) -> dt.datetime:
        """The market time (naive KST) on the market day (module docstring)."""
        clock = self.ctx.clock
        if not self.sim:
            return clock.now().replace(tzinfo=None)
        while self._new_days < clock.new_days:
            self._new_days += 1
            self._set_day(krx.next_business_day(self.day), "시뮬레이터의 새 거래일")
        return dt.datetime.combine(self.day, clock.time_of_day())

    def _set_day(self, day: dt.date, why: str) -> None:
        if day <= self.day:
            return
        log.info("market day %s → %s (%s)", self.day, day, why)
        self.day = day

    def _learn_day(self, rows: Sequence[BarData]) -> None:
        """Sim mode: bars of a later day than the one assumed say the server moved on."""
        if self.sim and rows:
            newest = max(b.time for b in rows).date()
            self._set_day(newest, "분봉 응답의 날짜")

    # --- settings ----------------------------------------------------------------------

    @staticmethod
    def check_settings(settings: AppSettings) -> None:
        """Raise SettingsError (naming the key) when `[scanner]` / `[schedule]` are unusable."""
        problems: list[str] = []
        try:
            ScannerConfig.from_settings(settings)
        except ValueError as exc:
            problems.append(f"[scanner] interval: {exc}")
        try:
            enabled_specs(settings.scanner)
        except SettingsError as exc:
            problems += list(exc.problems)
        try:
            parse_rules(settings.schedule.rules)
        except ScheduleError as exc:
            problems.append(f"[schedule] rules: {exc}")
        if problems:
            raise SettingsError(problems)

    def apply_settings(self, settings: AppSettings, *, initial: bool = False) -> None:
        """Rebuild what the settings decide (scanner, strategies, schedule). A setting that
        cannot be used is reported and that part stays off; the rest works."""
        self.book.dedup = settings.scanner.signal_dedup
        config = ScannerConfig.from_settings(settings)
        if config != self.scanner.config:
            fresh = Scanner(config, self.book, names=self._names())
            fresh.set_codes(self.scanner.codes)
            self._scan_requests.clear()  # replies to the old scanner are dropped
            self.scanner = fresh
        specs: dict[str, dict[str, float]] = {}
        if settings.scanner.enabled:
            try:
                specs = enabled_specs(settings.scanner)
            except SettingsError as exc:
                self._problem(f"전략 설정을 쓸 수 없어 스캐너를 멈춥니다: {exc}")
        self.scanner.set_strategies(specs)
        rules = []
        if settings.schedule.enabled:
            try:
                rules = parse_rules(settings.schedule.rules)
            except ScheduleError as exc:
                self._problem(f"예약 작업을 쓸 수 없습니다: {exc}")
        self.scheduler = Scheduler(
            rules,
            self.engine.data_dir / "schedule.json",
            late_grace_s=settings.schedule.late_grace_s,
        )
        if self._started:
            self._timer.setInterval(settings.scanner.check_ms)
        if not initial:
            self._emit_status()

    def _problem(self, message: str) -> None:
        self.ctx.log("ERROR", message)
        self.ctx.notice(message)

    # --- watchlist and strategies (calls from the 전략 dock) ---------------------------

    def on_watchlist_edited(self, codes: Iterable[str] | None = None) -> None:
        """The watchlist object changed (the dock edits it): scan its codes."""
        self.scanner.set_codes(self.watchlist.codes(), self._names())
        self._emit_status()

    def add_to_watchlist(self, text: str) -> str:
        """Add a stock by code or name; raises WatchlistError. Returns the code."""
        item = self.watchlist.add(text)
        self.on_watchlist_edited()
        self.watchlist_changed.emit(self.watchlist.codes())
        return item.code

    def remove_from_watchlist(self, code: str) -> None:
        self.watchlist.remove(code)
        self.on_watchlist_edited()
        self.watchlist_changed.emit(self.watchlist.codes())

    def set_strategy_enabled(self, name: str, on: bool) -> None:
        """Switch a strategy on / off (saved in `[scanner] strategies`); raises
        SettingsError."""
        names = [n for n in self.ctx.settings.scanner.strategies if n != name]
        if on:
            names.append(name)
        self.engine.update_setting("scanner/strategies", ",".join(names))

    def set_strategy_params(self, name: str, params: Mapping[str, float]) -> None:
        """Store a strategy's parameters (`[scanner] strategy_params`); raises SettingsError."""
        current = parse_params(self.ctx.settings.scanner.strategy_params)
        current[name] = {k: float(v) for k, v in params.items()}
        self.engine.update_setting("scanner/strategy_params", ",".join(format_params(current)))

    def strategy_params(self) -> dict[str, dict[str, float]]:
        """Every strategy's stored parameters (those switched off included)."""
        try:
            return parse_params(self.ctx.settings.scanner.strategy_params)
        except SettingsError:
            return {}

    def signals_table(self) -> pd.DataFrame:
        return self.book.table()

    def _names(self) -> dict[str, str]:
        return {code: info.name for code, info in self.ctx.market.stocks.items()}

    def _on_stocks_loaded(self, _stocks: list[Any]) -> None:
        names = self._names()
        self.watchlist.set_names(names)
        self.scanner.set_codes(self.watchlist.codes(), names)

    # --- condition sync ----------------------------------------------------------------

    def sync_watchlist(self, condition: str, *, replace: bool) -> None:
        """Make a condition's members part of the watchlist (`Watchlist.sync_from_condition`):
        its real-time members when it runs in real time, else a one-shot CNSRREQ. Raises
        WatchlistError for an unknown condition."""
        seq, name = self._condition(condition)
        members = self._members.get(seq)
        if members is not None:
            self._apply_sync(name, members, replace)
            return
        self._sync_request = self.engine._request(
            StartCondition(seq, realtime=False),
            functools.partial(self._on_sync_reply, name, replace),
        )
        if not self._sync_request:
            raise WatchlistError("조건검색 요청을 보낼 수 없습니다 (실시간 연결을 확인하세요)")

    def _condition(self, text: str) -> tuple[str, str]:
        frame = self.engine.table("conditions")
        for seq, name in zip(frame["seq"].tolist(), frame["name"].tolist()):
            if text in (seq, name):
                return str(seq), str(name)
        known = ", ".join(str(n) for n in frame["name"].tolist()) or "아직 목록을 받지 못했습니다"
        raise WatchlistError(f"조건식 '{text}' 이(가) 없습니다 (조건식: {known})")

    def _on_sync_reply(self, name: str, replace: bool, reply: WsReply) -> None:
        self._sync_request = ""
        if self._stopped:
            return
        if not reply.ok:
            self.ctx.log("WARNING", f"관심종목 동기화 실패 (조건식 {name}): {reply.error}")
            return
        self._apply_sync(name, [m.code for m in reply.data or ()], replace)

    def _apply_sync(self, name: str, codes: Iterable[str], replace: bool) -> None:
        added, removed = self.watchlist.sync_from_condition(name, codes, replace=replace)
        if added or removed:
            self.on_watchlist_edited()
            self.watchlist_changed.emit(self.watchlist.codes())
            self.ctx.log(
                "INFO",
                f"관심종목 동기화 (조건식 {name}): 추가 {len(added)}, 제거 {len(removed)}",
            )

    def on_condition_members(self, seq: str, codes: Iterable[str] | None) -> None:
        """Engine hook: a real-time condition started (its members) or stopped (None)."""
        if codes is None:
            self._members.pop(seq, None)
            return
        self._members[seq] = {c for c in codes}
        self._follow_sync(seq)

    def on_condition_events(self, events: Iterable[ConditionEventData]) -> None:
        """Engine hook: real-time 편입 / 이탈 keep the members (and a synced watchlist) current."""
        changed: set[str] = set()
        for event in events:
            members = self._members.get(event.seq)
            if members is None:
                continue
            if event.change is ConditionChange.ENTER:
                members.add(event.code)
            else:
                members.discard(event.code)
            changed.add(event.seq)
        for seq in changed:
            self._follow_sync(seq)

    def _follow_sync(self, seq: str) -> None:
        wanted = self.ctx.settings.scanner.sync_condition
        if not wanted:
            return
        try:
            sync_seq, name = self._condition(wanted)
        except WatchlistError:
            return
        if sync_seq == seq:
            replace = self.ctx.settings.scanner.sync_mode == "replace"
            self._apply_sync(name, self._members[seq], replace)

    def _auto_sync(self) -> None:
        """`[scanner] sync_condition`: a one-shot search now and then (real-time conditions
        are followed by their events instead)."""
        scanner = self.ctx.settings.scanner
        now = self.ctx.mono()
        if not scanner.sync_condition or self._sync_request or now - self._sync_at < SYNC_EVERY_S:
            return
        if self.engine.table("conditions").empty:
            return  # the list has not arrived yet
        self._sync_at = now
        try:
            self.sync_watchlist(scanner.sync_condition, replace=scanner.sync_mode == "replace")
        except WatchlistError as exc:
            self.ctx.log("WARNING", f"[scanner] sync_condition: {exc}")

    # --- the timer ---------------------------------------------------------------------

    def _on_timer(self) -> None:
        ctx = self.ctx
        if not ctx.clock.synced:
            return  # the simulator's time is not known yet
        now = self.market_now()
        self.turns += 1
        for job in self.scheduler.due(now):
            self.jobs.add(job)
        self.jobs.run_waiting(now)
        if ctx.ready:
            self._auto_sync()
            self._scan(now)
        self._emit_status()

    def free_slots(self) -> int:
        """How many more scanner / job queries may wait on the TR queue now."""
        if self.engine.is_throttled(WorkerKind.TR):
            return 0
        busy = len(self._scan_requests) + self.jobs.in_flight
        return max(0, self.ctx.settings.scanner.max_in_flight - busy)

    def _scan(self, now: dt.datetime) -> None:
        if not self.ctx.settings.scanner.enabled:
            return
        free = self.free_slots()
        if free <= 0 and self.scanner.in_flight:
            self.scanner.due_requests(now, limit=0)  # lets timed-out requests go
            return
        for query in self.scanner.due_requests(now, limit=free):
            if self.engine._request(query, self._on_scan_reply):
                self._scan_requests.add(query.request_id)
            else:
                self.scanner.on_failure(query.request_id, now, "보낼 수 없음")

    def _on_scan_reply(self, reply: TrReply) -> None:
        if self._stopped or reply.request_id not in self._scan_requests:
            return  # the scanner was rebuilt meanwhile
        self._scan_requests.discard(reply.request_id)
        if not self.scanner.is_mine(reply.request_id):
            return  # timed out and forgotten
        if not reply.ok:
            self.scanner.on_failure(reply.request_id, self.market_now(), str(reply.error or ""))
            return
        rows: list[BarData] = list(reply.data or ())
        self._learn_day(rows)
        result = self.scanner.on_bars(reply.request_id, rows, self.market_now())
        self.apply_result(result)

    # --- what the strategies said ------------------------------------------------------

    def apply_result(self, result: ScanResult) -> None:
        """Show new signals and route their buys and sells (module docstring, step 3)."""
        for signal in result.signals:
            side = signal.side.text
            self.ctx.log(
                "INFO",
                f"전략 신호: {signal.strategy} {signal.code} {signal.name} {side} "
                f"({signal.bar_time:%H:%M} 봉, {signal.price:,}원)",
            )
        if result.signals:
            self.engine.table_changed.emit(SIGNALS_TABLE, [])
        for buy in result.buys:
            self.route_buy(buy)
        for sell in result.sells:
            self.route_sell(sell)

    def route_buy(self, buy: BuyCandidate, *, why: str = "") -> None:
        """A strategy's BUY into the engine's buy path (all guards and risk checks)."""
        why = why or f"전략 {buy.source} 매수 신호 ({buy.bar_time:%H:%M} 봉)"
        if not self.ctx.auto_trade:
            self._mark(buy.signal_id, SignalStatus.SKIPPED, "자동매매가 꺼져 있어 매수하지 않음")
            self.ctx.journal.record(
                JournalKind.DECISION,
                code=buy.code,
                side=Side.BUY.value,
                reason=f"{why}: 자동매매가 꺼져 있어 매수하지 않음",
                detail={"action": "skip", "condition": buy.source, "signal": buy.signal_id},
            )
            return
        self.engine.autotrader.consider_buy(
            buy.code,
            buy.source,
            why=why,
            outcome=functools.partial(self._buy_outcome, buy.signal_id),
        )

    def _buy_outcome(self, signal_id: str, placed: bool, note: str) -> None:
        self._mark(signal_id, SignalStatus.BOUGHT if placed else SignalStatus.SKIPPED, note)

    def route_sell(self, sell: SellFlag) -> None:
        """A strategy's SELL: sell the held positions that strategy opened."""
        position = self.ctx.positions.get(sell.code)
        if position is None or not position.held or position.source != sell.strategy:
            self._mark(sell.signal_id, SignalStatus.NEW, "이 전략으로 산 보유 종목이 없음")
            return
        why = f"전략 {sell.strategy} 매도 신호 ({sell.bar_time:%H:%M} 봉)"
        self.engine.autotrader.flag_sell(sell.code, why, ExitReason.STRATEGY)
        self._mark(sell.signal_id, SignalStatus.SOLD, "보유 종목 매도 요청")

    def _mark(self, signal_id: str, status: SignalStatus, note: str) -> None:
        if signal_id not in self.book:
            return
        self.book.set_status(signal_id, status, note)
        self.engine.table_changed.emit(SIGNALS_TABLE, [signal_id])

    # --- status ------------------------------------------------------------------------

    def _emit_status(self) -> None:
        status = self.scanner.status() if self.ctx.settings.scanner.enabled else None
        if status != self._last_status:
            self._last_status = status
            self.status_changed.emit(status)

    def idle(self) -> bool:
        """Nothing of the runner's waits on the server (tests, shutdown)."""
        return (
            not self._scan_requests
            and not self.scanner.in_flight
            and self.jobs.idle()
            and not self._sync_request
        )
