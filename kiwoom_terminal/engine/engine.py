"""`TradingEngine`: the terminal's heart, a QObject without widgets (docs/ENGINE_API.md).

It owns the worker supervisor's result streams, the QTimers, the DataFrames and every
trading decision, and tells views what changed through Qt signals. The parts it wires:

* `gateway.OrderGateway` — every order in and out, with the safety checks and the journal;
* `autotrade.AutoTrader` — condition buys, exits per tick batch, amends (via `decisions/`);
* `recovery.Recovery` — snapshots and reconciliation with the account;
* `state.TableStore` — the DataFrames, rebuilt once per flush with the changed keys;
* `strategy_runner.StrategyRunner` (`engine.strategy`) — the watchlist scanner, the
  strategy signals (table "signals") and the scheduled jobs (issue #6).

Timers (intervals in `[timers]`): WebSocket + order results every 10 ms, TR results every
100 ms, the amend check every 1 s, the screen refresh every 1 s, the trading-hours check
every 1 s, the snapshot every 5 s. On top of them a socket notifier (`wakeup.py`) drains
results the moment they arrive, so a trailing stop does not wait for the next 10 ms tick.

Start order: restore the snapshot → start the workers → subscribe the account's order and
balance events → reconcile with the account (kt00018, ka10075, ka10076) → only then may
anything be ordered (`EngineStatus.ready`).

Threads: with the window it lives in a thread of its own, built there (`thread.py`); every
method runs in that thread, except the reads docs/ENGINE_API.md (*Threads*) lists as safe
from the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from PyQt5.QtCore import QObject, QThread, QTimer, pyqtSignal

from kiwoom_terminal import krx
from kiwoom_terminal.constants import (
    ConditionChange,
    ConnectionState,
    Feed,
    Market,
    Mode,
    OrderType,
    Side,
)
from kiwoom_terminal.decisions import coalesce_ticks
from kiwoom_terminal.engine.autotrade import AutoTrader
from kiwoom_terminal.engine.clock import MarketClock
from kiwoom_terminal.engine.context import EngineContext, Rules
from kiwoom_terminal.engine.errors import OrderInputError
from kiwoom_terminal.engine.gateway import OrderGateway
from kiwoom_terminal.engine.journal import Journal, JournalKind
from kiwoom_terminal.engine.ledger import DayLedger
from kiwoom_terminal.engine.orders import MANUAL
from kiwoom_terminal.engine.recovery import Recovery
from kiwoom_terminal.engine.snapshot import BackgroundWriter, SnapshotStore
from kiwoom_terminal.engine.status import EngineStatus
from kiwoom_terminal.engine.strategy_runner import SIGNALS_TABLE, StrategyRunner
from kiwoom_terminal.engine.wakeup import Wakeup, shorten_gil_switch_interval
from kiwoom_terminal.krx import KST
from kiwoom_terminal.messages import (
    AccountSnapshotQuery,
    BalanceEvents,
    ConditionEvents,
    ConnectionStatus,
    DailyBarsQuery,
    DepositQuery,
    ListConditions,
    MinuteBarsQuery,
    OrderBookBatch,
    OrderBookQuery,
    OrderEvents,
    OrderReply,
    QuoteQuery,
    Request,
    Resubscribed,
    StartCondition,
    StockListQuery,
    StopCondition,
    Subscribe,
    ThrottleStatus,
    TickBatch,
    TrReply,
    Unsubscribe,
    WorkerDied,
    WorkerKind,
    WsReply,
)
from kiwoom_terminal.objects import (
    BalanceEventData,
    BarData,
    ConditionData,
    DepositData,
    OrderBookData,
    OrderRequest,
    QuoteData,
    StockInfoData,
    TickData,
)
from kiwoom_terminal.settings import AppSettings, SettingsError, replace_setting

log = logging.getLogger(__name__)

TABLE_NAMES = ("holdings", "tracking", "open_orders", "fills", "conditions")
# WebSocket registration groups (1–4 characters on the wire).
GROUP_ACCOUNT = "acct"  # order and balance events of the account
GROUP_TRACKING = "trk"  # ticks of every managed position
GROUP_SELECTED = "sel"  # ticks and order book of the stock shown in the window
RECONCILE_RETRY_MS = 2000
PHASE_NAMES = {
    krx.SessionPhase.CLOSED: "장 마감/휴장",
    krx.SessionPhase.PRE_OPEN: "장전 동시호가",
    krx.SessionPhase.CONTINUOUS: "정규장",
    krx.SessionPhase.CLOSING_AUCTION: "장마감 동시호가",
    krx.SessionPhase.POST_CLOSE: "장후 시간외",
    krx.SessionPhase.AFTER_HOURS: "시간외 단일가",
}
DEPOSIT_REFRESH_S = 3.0
_FAST = (WorkerKind.WS, WorkerKind.ORDER)
_ALL = (WorkerKind.WS, WorkerKind.ORDER, WorkerKind.TR)


class TradingEngine(QObject):
    """State, timers and decisions of the terminal; see the module docstring and
    docs/ENGINE_API.md for the contract with the window."""

    table_changed = pyqtSignal(str, list)
    ticks = pyqtSignal(dict)
    order_book = pyqtSignal(object)
    bars_loaded = pyqtSignal(str, str, object)
    fill = pyqtSignal(object)
    log = pyqtSignal(str, str)
    notice = pyqtSignal(str)
    status_changed = pyqtSignal(object)
    auto_trade_changed = pyqtSignal(bool)
    settings_changed = pyqtSignal(object)
    stocks_loaded = pyqtSignal(list)

    def __init__(
        self,
        settings: AppSettings,
        supervisor: Any,
        data_dir: Path,
        *,
        settings_path: Path | None = None,
        own_supervisor: bool = True,
        fresh_account: bool = False,
        parent: QObject | None = None,
    ) -> None:
        """`supervisor` is a `WorkerSupervisor` (started by `start()` if it is not yet);
        `data_dir` holds the snapshots and the journal; `settings_path`, when given, is
        where `update_setting` saves edits. With `own_supervisor` the engine stops the
        workers in `shutdown()`. `fresh_account`: the account is new (the embedded simulator
        was just started, with its own in-memory account), so the last run's positions,
        orders and day ledger are not restored — they belonged to an account that is gone."""
        super().__init__(parent)
        self.supervisor = supervisor
        self.data_dir = Path(data_dir)
        self._fresh_account = fresh_account
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings_path = settings_path
        self._own_supervisor = own_supervisor
        self.ctx = EngineContext(
            settings=settings,
            rules=Rules.from_settings(settings),
            journal=Journal(self.data_dir / "journal.sqlite3"),
            clock=MarketClock(settings.general.mode),
            send=supervisor.send,
            ledger=DayLedger(_today()),
        )
        ctx = self.ctx
        ctx.log = self._emit_log
        ctx.notice = self._emit_notice
        ctx.fill = self.fill.emit
        ctx.request_reconcile = self.request_reconcile
        self.gateway = OrderGateway(ctx)
        self.gateway.on_auto_off = self._auto_off
        self.autotrader = AutoTrader(ctx, self.gateway, self._fetch_quote)
        self.recovery = Recovery(ctx, self.gateway, SnapshotStore(self.data_dir))
        self._apply_trading_options()
        self._callbacks: dict[str, Callable[[Any], None]] = {}
        self._connections = {k.value: ConnectionState.STARTING for k in WorkerKind}
        self._throttling: dict[str, bool] = {}
        self._conditions: dict[str, ConditionData] = {}
        self._cond_running: set[str] = set()
        self._cond_pending: set[str] = set()
        self._subscribed: set[str] = set()
        self._selected = ""
        self._reconcile_id: str | None = None
        self._reconcile_again = ""
        self._stock_lists = 0
        self._deposit: DepositData | None = None
        self._deposit_wanted = False
        self._deposit_at = 0.0
        self._last_snapshot: dt.datetime | None = None
        self._disk = BackgroundWriter()  # snapshot files and journal checkpoints
        self._disk_error: str | None = None  # set by a failed background save
        self._last_status: EngineStatus | None = None
        self._summaries: dict[str, Any] = {}
        self._activity = False
        self._started = False
        self._stopped = False
        self._wakeups: list[Wakeup] = []  # one per supervisor.wakeup_filenos()
        self._wake_fds: tuple[int, ...] = ()
        self._publish_timer = QTimer(self)
        self._publish_timer.setSingleShot(True)
        self._publish_timer.setInterval(0)
        self._publish_timer.timeout.connect(self._publish)
        self._price_timer = QTimer(self)
        self._price_timer.setSingleShot(True)
        self._price_timer.timeout.connect(self._on_price_timer)
        self._prices_pending = False
        self._prices_at = 0.0
        self._timers: dict[str, QTimer] = {}
        for name, slot in (
            ("ws_drain_ms", self._drain_fast),
            ("tr_drain_ms", self._drain_tr),
            ("amend_check_ms", self._on_amend_timer),
            ("screen_refresh_ms", self._on_refresh_timer),
            ("hours_check_ms", self._on_hours_timer),
            ("snapshot_ms", self._on_snapshot_timer),
        ):
            timer = QTimer(self)
            timer.setObjectName(name)
            timer.timeout.connect(slot)
            self._timers[name] = timer
        # Scanner, strategy signals and scheduled jobs (own timer, `[scanner] check_ms`).
        self.strategy = StrategyRunner(self)

    # --- life cycle ------------------------------------------------------------------

    def start(self, *, auto_trade: bool = False) -> None:
        """Restore, start the workers, reconcile; `auto_trade` switches it on at once (it
        orders only after the reconciliation)."""
        if self._started:
            return
        self._started = True
        ctx = self.ctx
        ctx.journal.record(
            JournalKind.NOTICE,
            reason="엔진 시작",
            detail={"mode": ctx.settings.general.mode.value, "data_dir": str(self.data_dir)},
        )
        restored = [] if self._fresh_account else self.recovery.restore()
        if self._fresh_account:
            self._emit_log(
                "INFO",
                "내장 시뮬레이터의 새 계좌로 시작합니다: 지난 실행의 포지션·주문·당일 기록은 "
                "복원하지 않습니다 (저널에는 남아 있습니다)",
            )
        for line in restored:
            warning = line in self.recovery.warnings  # e.g. a corrupt snapshot skipped
            self._emit_log("WARNING" if warning else "INFO", line)
            if warning:
                self._emit_notice(line)
        self.supervisor.start()
        self._watch_wakeups()
        shorten_gil_switch_interval()
        # What exists now (modules, Qt, pandas, the restored state) lives as long as the
        # process; frozen, the garbage collector stops re-scanning it: a full collection
        # otherwise stops this thread for ~20 ms, every few minutes under a busy feed.
        gc.freeze()
        self._apply_timer_intervals()
        for timer in self._timers.values():
            timer.start()
        self.strategy.start()
        self._send(Subscribe(GROUP_ACCOUNT, (), (Feed.ORDERS, Feed.BALANCE)))
        self._flush(full=True)  # restored rows, and ticks for restored positions
        self.request_reconcile("시작")
        self._list_conditions()
        self._request(DepositQuery(), self._on_deposit)
        for market in (Market.KOSPI, Market.KOSDAQ, Market.ETF):
            self._stock_lists += 1
            self._request(StockListQuery(market), self._on_stock_list)
        self._sync_subscriptions()
        if auto_trade:
            self.set_auto_trade(True)
        self._emit_status(force=True)

    def shutdown(self) -> None:
        """Final snapshot, stop timers and (when owned) the workers; close the journal."""
        if self._stopped:
            return
        self._stopped = True
        for timer in self._timers.values():
            timer.stop()
        self.strategy.shutdown()
        self._close_wakeups()
        if self._started:
            try:
                self._drain(_ALL)
                self._publish_timer.stop()
                self._publish()
            except Exception:  # never lose the final snapshot to a late message
                log.exception("final drain failed")
            if not self._disk.close():  # a background save must not land after the final one
                log.warning("a background snapshot did not finish in time")
            self._save_snapshot()
        self._disk.close()
        self.ctx.journal.record(JournalKind.NOTICE, reason="엔진 종료")
        if self._own_supervisor:
            self.supervisor.close()
        self.ctx.journal.close()
        self.strategy.close()

    # --- state the views read --------------------------------------------------------

    def table(self, name: str) -> pd.DataFrame:
        if name == SIGNALS_TABLE:
            return self.strategy.signals_table()
        return self.ctx.tables.frame(name)

    def table_rows(self, name: str, keys: Iterable[Any] | None = None) -> list[tuple[Any, Any]]:
        """`(key, row dict)` of one of the five engine tables (`tables.ALL_TABLES`) as last
        flushed, all rows or those of `keys`, without building its DataFrame; safe from any
        thread. The dicts are the engine's own: read them, never change them (a changed
        row is a new dict, so an unchanged one can be skipped by identity)."""
        return self.ctx.tables.published_rows(name, keys)

    @property
    def settings(self) -> AppSettings:
        return self.ctx.settings

    @property
    def status(self) -> EngineStatus:
        """The engine's status now. From another thread (the window's, when the engine runs
        in an `EngineThread`) it is the status last emitted, so nothing is read while the
        engine changes it."""
        if self._last_status is not None and QThread.currentThread() is not self.thread():
            return self._last_status
        return self._build_status()

    @property
    def journal(self) -> Journal:
        return self.ctx.journal

    def stock_info(self, code: str) -> StockInfoData | None:
        return self.ctx.market.stocks.get(code)

    def all_stocks(self) -> list[StockInfoData]:
        return list(self.ctx.market.stocks.values())

    def last_price(self, code: str) -> int | None:
        return self.ctx.market.last_price(code)

    def orderable_cash(self) -> int | None:
        """주문가능금액 from the last kt00001, None until the first reply."""
        return self._deposit.orderable if self._deposit is not None else None

    def price_band(self, code: str) -> krx.PriceBand | None:
        return self.ctx.market.band(code)

    # --- calls from the views --------------------------------------------------------

    def set_auto_trade(self, on: bool) -> None:
        ctx = self.ctx
        if ctx.auto_trade == on:
            return
        ctx.auto_trade = on
        ctx.journal.record(JournalKind.NOTICE, reason="자동매매 켜짐" if on else "자동매매 꺼짐")
        self._emit_log("INFO", "자동매매를 켰습니다" if on else "자동매매를 껐습니다")
        self._apply_condition_runs()
        self.auto_trade_changed.emit(on)
        self._emit_status(force=True)

    def submit_manual_order(self, request: OrderRequest) -> str:
        """Validate and send a manual order; raises OrderInputError (nothing sent)."""
        self._validate_manual(request)
        order, why = self.gateway.place(
            request,
            purpose=MANUAL,
            reason="수동 주문",
            source=MANUAL,
            manual=True,
        )
        if order is None:
            raise OrderInputError(why)
        self._flush(full=True)
        return order.request_id

    def cancel_order(self, order_no: str) -> None:
        """Cancel all remaining quantity of an open order (always allowed)."""
        order = self.ctx.orders.get(order_no)
        if order is None or not order.is_open:
            raise OrderInputError(f"미체결 주문 {order_no} 이(가) 없습니다")
        if not order.order_no:
            raise OrderInputError("아직 접수되지 않은 주문입니다. 주문번호를 받은 뒤 취소하세요")
        if order.in_flight:
            raise OrderInputError(f"주문 {order_no} 의 정정/취소 응답을 기다리는 중입니다")
        self.gateway.cancel(order, "수동 취소")
        self._flush(full=True)

    def cancel_all_orders(self) -> int:
        """Cancel every open order; returns how many cancels were sent."""
        sent = sum(
            1
            for order in list(self.ctx.orders.open_orders())
            if self.gateway.cancel(order, "전체 취소")
        )
        self._flush(full=True)
        return sent

    def emergency_flatten(self) -> None:
        """Auto-trade off, cancel every open order, sell every holding at market."""
        self.set_auto_trade(False)
        self.ctx.journal.record(JournalKind.NOTICE, reason="긴급 청산 요청")
        problems = self.autotrader.flatten()
        self._flush(full=True)
        if problems:
            self._emit_notice("긴급 청산 중 문제: " + "; ".join(problems))
        else:
            self._emit_notice("긴급 청산: 미체결 취소와 보유 전량 시장가 매도를 보냈습니다")

    def select_stock(self, code: str) -> None:
        """Subscribe the stock's ticks and order book, fetch its book and daily bars."""
        code = code.strip()
        if len(code) != 6 or not code.isalnum():
            self._emit_notice(f"종목코드 '{code}' 가 올바르지 않습니다 (6자리)")
            return
        self._selected = code
        self._send(
            Subscribe(GROUP_SELECTED, (code,), (Feed.TRADES, Feed.ORDER_BOOK), refresh=False)
        )
        self._request(OrderBookQuery(code), self._on_order_book_reply)
        self.load_bars(code, "day")

    def load_bars(self, code: str, interval: str) -> None:
        """Request history: "day" (ka10081) or "minute" (ka10080, 1-minute bars)."""
        if interval == "day":
            query: Any = DailyBarsQuery(code)
        elif interval == "minute":
            query = MinuteBarsQuery(code, minutes=1)
        else:
            raise ValueError(f"interval must be 'day' or 'minute', not {interval!r}")
        self._request(query, lambda reply: self._on_bars(code, interval, reply))

    def set_condition_roles(self, seq: str, buy: bool, sell: bool) -> None:
        """Choose a condition for auto-buy / auto-sell (saved in [trading] by name)."""
        condition = self._conditions.get(seq)
        if condition is None:
            raise OrderInputError(f"조건식 {seq} 이(가) 없습니다")
        trading = self.ctx.settings.trading
        buys = [n for n in trading.buy_conditions if n not in (condition.name, seq)]
        sells = [n for n in trading.sell_conditions if n not in (condition.name, seq)]
        if buy:
            buys.append(condition.name)
        if sell:
            sells.append(condition.name)
        settings = replace_setting(self.ctx.settings, "trading/buy_conditions", ",".join(buys))
        settings = replace_setting(settings, "trading/sell_conditions", ",".join(sells))
        self._set_settings(settings)
        self._refresh_condition_rows()
        self._apply_condition_runs()
        self._flush(full=True)

    def update_setting(self, key: str, raw: str) -> None:
        """Validate and apply one setting; raises SettingsError naming the key."""
        settings = replace_setting(self.ctx.settings, key, raw)
        try:
            Rules.from_settings(settings)
        except ValueError as exc:
            raise SettingsError([f"{key}: {exc}"]) from None
        if key.startswith(("scanner/", "schedule/")):  # another part's edit is not held up
            StrategyRunner.check_settings(settings)
        self._set_settings(settings)
        if key in ("trading/buy_conditions", "trading/sell_conditions"):
            self._refresh_condition_rows()
            self._apply_condition_runs()
        self._flush(full=True)

    # --- plumbing: requests ----------------------------------------------------------

    def _send(self, request: Request) -> str:
        try:
            return str(self.supervisor.send(request))
        except RuntimeError as exc:
            self._emit_log("ERROR", f"요청을 보낼 수 없습니다 ({type(request).__name__}): {exc}")
            return ""

    def is_throttled(self, worker: WorkerKind) -> bool:
        """True while that worker's rate limiter is delaying requests."""
        return self._throttling.get(worker.value, False)

    def reset_day(self, why: str) -> None:
        """Start a new trading day now (the scheduled `reset` job): re-buy block, daily
        P/L, orders-per-minute window and rejection cool-downs start empty."""
        self._new_day(self.ctx.ledger.day, why)
        self._flush(full=True)

    def _request(self, request: Request, callback: Callable[[Any], None]) -> str:
        request_id = self._send(request)
        if request_id:
            self._callbacks[request_id] = callback
        return request_id

    def request_reconcile(self, why: str) -> None:
        """Fetch an account snapshot and reconcile (coalesced while one is in flight)."""
        if self._stopped:
            return
        if self._reconcile_id is not None:
            self._reconcile_again = self._reconcile_again or why
            return
        self._reconcile_id = (
            self._request(
                AccountSnapshotQuery(), lambda reply: self._on_account_snapshot(reply, why)
            )
            or None
        )

    def _on_account_snapshot(self, reply: TrReply, why: str) -> None:
        self._reconcile_id = None
        if not reply.ok:
            message = f"계좌 확인 실패 ({why}): {reply.error}. {RECONCILE_RETRY_MS // 1000}초 후 다시 시도합니다"
            self._emit_log("WARNING", message)
            QTimer.singleShot(RECONCILE_RETRY_MS, lambda: self.request_reconcile(why))
            return
        first = not self.ctx.ready
        again = self.recovery.apply(reply.data, why)
        self._activity = True
        if first and self.ctx.ready:
            # Before anything can be sent: every order of the day then lies after a
            # snapshot of the day, and a restart replays the journal from that snapshot.
            self._save_snapshot()
        if first:
            self._apply_condition_runs()
            self._emit_status()  # ready: the window may order now (not a second later)
        self._deposit_wanted = True
        pending, self._reconcile_again = self._reconcile_again, ""
        if again or pending:
            QTimer.singleShot(300, lambda: self.request_reconcile(pending or why))

    def _catch_up_prices(self) -> None:
        """After a WebSocket gap: the current price of every held position, so an exit the
        missed ticks would have triggered still happens without waiting for the next trade."""
        for code, position in self.ctx.positions.items():
            if position.held:
                self._request(QuoteQuery(code), functools.partial(self._on_catch_up_quote, code))

    def _on_catch_up_quote(self, code: str, reply: TrReply) -> None:
        if reply.ok and isinstance(reply.data, QuoteData) and reply.data.price > 0:
            self.autotrader.on_price(code, reply.data.price)

    def _fetch_quote(self, code: str, done: Callable[[bool], None]) -> None:
        def on_reply(reply: TrReply) -> None:
            if reply.ok and isinstance(reply.data, OrderBookData):
                self.ctx.market.update_books([reply.data])
            done(reply.ok)

        if not self._request(OrderBookQuery(code), on_reply):
            done(False)

    # --- draining --------------------------------------------------------------------

    def _on_wakeup(self) -> None:
        self._drain(_ALL)

    def _watch_wakeups(self) -> None:
        """A notifier on each of the supervisor's wake-up fds; called after every poll, as
        a replaced WebSocket worker brings a new result pipe (its old fd is closed by that
        poll, before the event loop could watch it again)."""
        fds = self.supervisor.wakeup_filenos()
        if fds == self._wake_fds or self._stopped:
            return
        self._close_wakeups()
        self._wakeups = [Wakeup(fd, self._on_wakeup, self) for fd in fds]
        self._wake_fds = fds

    def _close_wakeups(self) -> None:
        for wakeup in self._wakeups:
            wakeup.close()
        self._wakeups = []
        self._wake_fds = ()

    def _drain_fast(self) -> None:
        self._drain(_FAST)

    def _drain_tr(self) -> None:
        self._drain((WorkerKind.TR,))

    def _drain(self, kinds: Iterable[WorkerKind]) -> None:
        """Handle everything the workers delivered; ticks are coalesced per run of tick
        batches, tables flushed once at the end (only when something besides prices
        changed; prices reach the tables on the screen refresh)."""
        if QThread.currentThread() is not self.thread():
            # Two threads draining at once would race on every table and order: refuse.
            # (A slot connected on another thread than the engine's runs there in PyQt5;
            # engine/thread.py builds the engine in its own thread for this reason.)
            raise RuntimeError("the engine drains only in the thread it lives in")
        # The busy byte asks the WebSocket worker to give way if it preempted this drain,
        # where exit decisions are made and orders sent (ws_worker.py).
        busy = self.supervisor.engine_busy
        busy.value = 1
        try:
            self._drain_results(kinds)
        finally:
            busy.value = 0

    def _drain_results(self, kinds: Iterable[WorkerKind]) -> None:
        messages = self.supervisor.poll(kinds)  # one lock, one wake-up clear for all
        if self._wakeups:
            self._watch_wakeups()
        if not messages:
            return
        ticks: list[TickData] = []
        for message in messages:
            if isinstance(message, TickBatch):
                ticks += message.ticks
                continue
            if ticks:
                self._process_ticks(ticks)
                ticks = []
            try:
                self._dispatch(message)
            except Exception:  # one bad message must not stop the drain
                log.exception("error handling %s", type(message).__name__)
                self._emit_log(
                    "ERROR", f"내부 오류: {type(message).__name__} 처리 실패 (로그 참조)"
                )
        if ticks:
            self._process_ticks(ticks)
        if (self._summaries or self._activity) and not self._publish_timer.isActive():
            # Views are told on the next turn of the event loop: returning to it first lets
            # the order queue's feeder thread take the GIL and send what this drain decided.
            self._publish_timer.start()

    def _publish(self) -> None:
        """After a drain: the `ticks` signal, the tables when more than prices changed, and
        new prices in the tracking / holdings tables at most every `price_refresh_ms`."""
        if self._summaries:
            summaries, self._summaries = self._summaries, {}
            self._prices_pending = True
            self.ticks.emit(summaries)
        if self._activity:
            self._activity = False
            self._refresh_prices()
            self._flush(full=True)
        elif self._prices_pending and not self._price_timer.isActive():
            wait_ms = self.ctx.settings.timers.price_refresh_ms
            elapsed_ms = (self.ctx.mono() - self._prices_at) * 1000.0
            self._price_timer.start(max(0, int(wait_ms - elapsed_ms)))

    def _on_price_timer(self) -> None:
        self._refresh_prices()
        self._flush(full=True)

    def _refresh_prices(self) -> None:
        """Holdings rows follow the last traded prices (tracking rows are rebuilt by the
        flush from the positions, whose prices the tick path already set)."""
        ctx = self.ctx
        self._prices_pending = False
        self._prices_at = ctx.mono()
        for code, row in ctx.tables.rows("holdings").items():
            price = ctx.market.last_price(code)
            if price is None:
                continue
            change = ctx.market.change_rate(code)
            if price == row.get("price") and change == row.get("change_rate"):
                continue
            quantity = int(row["quantity"])
            purchase = int(row["purchase_amount"]) or int(row["avg_price"]) * quantity
            evaluation = price * quantity
            ctx.tables.update_row(
                "holdings",
                code,
                price=price,
                change_rate=change,
                eval_amount=evaluation,
                pnl=evaluation - purchase,
                return_rate=round((evaluation - purchase) * 100 / purchase, 4) if purchase else 0.0,
            )

    def _process_ticks(self, ticks: list[TickData]) -> None:
        """The hot path: coalesce, remember quotes, run the exit rules."""
        ctx = self.ctx
        summaries = coalesce_ticks(ticks)
        ctx.market.update_ticks({t.code: t for t in ticks})
        ctx.clock.observe(ticks[-1].time)
        self.autotrader.on_ticks(summaries)
        self._summaries.update(summaries)
        if ctx.orders.dirty:
            self._activity = True

    def _dispatch(self, message: Any) -> None:
        if isinstance(message, OrderReply):
            self.gateway.on_reply(message)
            self._activity = True
        elif isinstance(message, OrderEvents):
            self.gateway.on_order_events(message.events)
            self._deposit_wanted = True
            self._activity = True
        elif isinstance(message, OrderBookBatch):
            for book in self.ctx.market.update_books(message.books).values():
                self.ctx.clock.observe(book.time)
                self.order_book.emit(book)
        elif isinstance(message, (TrReply, WsReply)):
            callback = self._callbacks.pop(message.request_id, None)
            if callback is not None:
                callback(message)
            elif not message.ok:
                self._emit_log("WARNING", f"요청 실패: {message.error}")
            self._activity = True
        elif isinstance(message, BalanceEvents):
            self._on_balance(message.events)
            self._activity = True
        elif isinstance(message, ConditionEvents):
            self._on_condition_events(message)
            self._activity = True
        elif isinstance(message, ConnectionStatus):
            self._on_connection(message)
        elif isinstance(message, ThrottleStatus):
            self._throttling[message.worker.value] = message.active
        elif isinstance(message, Resubscribed):
            if message.reconnects:
                text = f"실시간 연결 복구 (재연결 {message.reconnects}회): 계좌를 다시 확인합니다"
            else:
                text = "실시간 연결됨: 연결 전의 체결을 놓치지 않도록 계좌를 다시 확인합니다"
            self._emit_log("INFO", text)
            self._cond_running = set(message.conditions)
            for seq, codes in message.conditions.items():
                self.strategy.on_condition_members(seq, codes)
            self._refresh_condition_rows()
            self.request_reconcile("실시간 재연결" if message.reconnects else "실시간 연결")
            self._catch_up_prices()
        elif isinstance(message, WorkerDied):
            label = {"tr": "조회", "order": "주문", "websocket": "실시간"}[message.worker.value]
            text = f"{label} 프로세스가 종료되었습니다 (코드 {message.exitcode})" + (
                ", 다시 시작합니다" if message.restarting else ""
            )
            self._emit_log("ERROR", text)
            self._emit_notice(text)

    def _on_connection(self, message: ConnectionStatus) -> None:
        previous = self._connections.get(message.worker.value)
        self._connections[message.worker.value] = message.state
        if message.state in (ConnectionState.KICKED, ConnectionState.AUTH_FAILED):
            self._emit_notice(message.detail or message.state.value)
        if previous != message.state:
            level = "INFO" if message.state is ConnectionState.CONNECTED else "WARNING"
            self._emit_log(
                level, f"{message.worker.value}: {message.state.value} {message.detail}".strip()
            )
            self._emit_status()  # the status bar shows a lost connection at once

    def _on_balance(self, events: Iterable[BalanceEventData]) -> None:
        ctx = self.ctx
        for event in events:
            code = event.code
            position = ctx.positions.get(code)
            if (
                position is not None
                and event.quantity == position.quantity
                and 0 < event.avg_price != position.avg_price
            ):
                # The server's average (its own rounding and fees) once our fills agree.
                position.exit_state = position.exit_state.with_position(
                    event.avg_price, position.quantity
                )
                ctx.positions_dirty = True
            if event.quantity <= 0:
                ctx.tables.remove("holdings", code)
                continue
            price = event.price or (position.price if position is not None else 0)
            evaluation = price * event.quantity
            purchase = event.purchase_amount or event.avg_price * event.quantity
            ctx.tables.set_row(
                "holdings",
                code,
                {
                    "name": event.name or ctx.name(code),
                    "quantity": event.quantity,
                    "sellable_qty": event.sellable_qty,
                    "avg_price": event.avg_price,
                    "price": price,
                    "change_rate": ctx.market.change_rate(code),
                    "purchase_amount": purchase,
                    "eval_amount": evaluation,
                    "pnl": evaluation - purchase,
                    "return_rate": round((evaluation - purchase) * 100 / purchase, 4)
                    if purchase
                    else 0.0,
                },
            )

    # --- conditions ------------------------------------------------------------------

    def _list_conditions(self) -> None:
        self._request(ListConditions(), self._on_conditions)

    def _on_conditions(self, reply: WsReply) -> None:
        if not reply.ok:
            self._emit_log("WARNING", f"조건식 목록을 받지 못했습니다: {reply.error}")
            QTimer.singleShot(RECONCILE_RETRY_MS, self._list_conditions)
            return
        self._conditions = {c.seq: c for c in reply.data}
        self._refresh_condition_rows()
        self._apply_condition_runs()
        missing = [
            n
            for n in (
                *self.ctx.settings.trading.buy_conditions,
                *self.ctx.settings.trading.sell_conditions,
            )
            if not any(n in (c.name, c.seq) for c in self._conditions.values())
        ]
        if missing:
            self._emit_notice(
                f"설정의 조건식을 찾을 수 없습니다: {', '.join(missing)} ([trading] buy_conditions / sell_conditions)"
            )

    def _roles(self, condition: ConditionData) -> tuple[bool, bool]:
        trading = self.ctx.settings.trading
        keys = (condition.name, condition.seq)
        return (
            any(k in trading.buy_conditions for k in keys),
            any(k in trading.sell_conditions for k in keys),
        )

    def _refresh_condition_rows(self) -> None:
        tables = self.ctx.tables
        rows = {}
        for seq, condition in self._conditions.items():
            buy, sell = self._roles(condition)
            current = tables.get("conditions", seq) or {}
            rows[seq] = {
                "name": condition.name,
                "buy_enabled": buy,
                "sell_enabled": sell,
                "running": seq in self._cond_running,
                "matches": int(current.get("matches", 0)),
            }
        tables.sync("conditions", rows)
        self.autotrader.buy_conditions = {
            s: c.name
            for s, c in self._conditions.items()
            if self._roles(c)[0] and s in self._cond_running
        }
        self.autotrader.sell_conditions = {
            s: c.name
            for s, c in self._conditions.items()
            if self._roles(c)[1] and s in self._cond_running
        }

    def _apply_condition_runs(self) -> None:
        """Run the chosen conditions in real time while auto-trade is on (after the first
        reconciliation), stop them otherwise."""
        wanted: set[str] = set()
        if self.ctx.auto_trade and self.ctx.ready:
            wanted = {s for s, c in self._conditions.items() if any(self._roles(c))}
        for seq in sorted(wanted - self._cond_running - self._cond_pending):
            self._cond_pending.add(seq)
            self._request(StartCondition(seq), functools.partial(self._on_condition_started, seq))
        for seq in sorted(self._cond_running - wanted - self._cond_pending):
            self._cond_pending.add(seq)
            self._request(StopCondition(seq), functools.partial(self._on_condition_stopped, seq))

    def _on_condition_started(self, seq: str, reply: WsReply) -> None:
        self._cond_pending.discard(seq)
        name = self._conditions[seq].name if seq in self._conditions else seq
        if not reply.ok:
            self._emit_notice(f"조건식 '{name}' 실시간 등록 실패: {reply.error}")
            return
        self._cond_running.add(seq)
        self.ctx.tables.update_row("conditions", seq, matches=len(reply.data or ()))
        self._refresh_condition_rows()
        self._emit_log(
            "INFO", f"조건식 '{name}' 실시간 감시 시작 (현재 {len(reply.data or ())}종목)"
        )
        self.strategy.on_condition_members(seq, reply.data or ())
        self._apply_condition_runs()

    def _on_condition_stopped(self, seq: str, reply: WsReply) -> None:
        self._cond_pending.discard(seq)
        self._cond_running.discard(seq)
        self.strategy.on_condition_members(seq, None)
        self._refresh_condition_rows()
        self._apply_condition_runs()

    def _on_condition_events(self, message: ConditionEvents) -> None:
        tables = self.ctx.tables
        for event in message.events:
            row = tables.get("conditions", event.seq)
            if row is not None:
                step = 1 if event.change is ConditionChange.ENTER else -1
                tables.update_row(
                    "conditions", event.seq, matches=max(0, int(row["matches"]) + step)
                )
        self.autotrader.on_condition_events(message.events)
        self.strategy.on_condition_events(message.events)

    # --- other replies ---------------------------------------------------------------

    def _on_stock_list(self, reply: TrReply) -> None:
        self._stock_lists -= 1
        if reply.ok:
            self.ctx.market.add_stocks(reply.data)
            for position in self.ctx.positions.values():
                if not position.name:
                    position.name = self.ctx.market.name(position.code)
        else:
            self._emit_log("WARNING", f"종목 목록을 받지 못했습니다: {reply.error}")
        if self._stock_lists == 0:
            self.stocks_loaded.emit(self.all_stocks())

    def _on_deposit(self, reply: TrReply) -> None:
        if reply.ok:
            self._deposit = reply.data

    def _on_order_book_reply(self, reply: TrReply) -> None:
        if reply.ok and isinstance(reply.data, OrderBookData):
            self.ctx.clock.observe(reply.data.time)
            self.ctx.market.update_books([reply.data])
            self.order_book.emit(reply.data)

    def _on_bars(self, code: str, interval: str, reply: TrReply) -> None:
        if not reply.ok:
            self._emit_log("WARNING", f"{code} 차트 데이터를 받지 못했습니다: {reply.error}")
            return
        bars: list[BarData] = sorted(reply.data or [], key=lambda b: b.time)
        frame = pd.DataFrame(
            {
                "open": [b.open for b in bars],
                "high": [b.high for b in bars],
                "low": [b.low for b in bars],
                "close": [b.close for b in bars],
                "volume": [b.volume for b in bars],
            },
            index=pd.DatetimeIndex([b.time for b in bars], name="time"),
            dtype="int64",
        )
        self.bars_loaded.emit(code, interval, frame)

    # --- timers ----------------------------------------------------------------------

    def _on_amend_timer(self) -> None:
        self.autotrader.check_amends()
        self._activity = bool(self.ctx.orders.dirty) or self._activity
        self._flush(full=False)

    def _on_refresh_timer(self) -> None:
        ctx = self.ctx
        self.gateway.apply(ctx.orders.expire_orphans(ctx.mono()))
        self._refresh_prices()
        if self._deposit_wanted and ctx.mono() - self._deposit_at >= DEPOSIT_REFRESH_S:
            self._deposit_wanted = False
            self._deposit_at = ctx.mono()
            self._request(DepositQuery(), self._on_deposit)
        self._flush(full=True)
        self._emit_status()

    def _on_hours_timer(self) -> None:
        ctx = self.ctx
        today = _today()
        if today != ctx.ledger.day:
            self._new_day(today, "날짜 변경")
        self.autotrader.check_clock_rules()
        if ctx.auto_trade:
            breached = self.autotrader.check_daily_loss()
            if breached is not None:
                self._auto_off(breached)
        if ctx.orders.dirty:
            self._flush(full=True)

    def _on_snapshot_timer(self) -> None:
        """The state is captured here (pickled, ~1 ms); the journal checkpoint and the file
        with its fsyncs are written by the background writer."""
        error, self._disk_error = self._disk_error, None
        if error is not None:
            self._emit_log("ERROR", f"상태 저장 실패: {error}")
        if self._disk.busy:
            return  # the disk is slow: skip this one rather than pile up snapshots
        try:
            data = self.recovery.store.encode(self.recovery.payload())
        except Exception as exc:
            log.exception("snapshot failed")
            self._emit_log("ERROR", f"상태 저장 실패: {exc}")
            return
        journal, store = self.ctx.journal, self.recovery.store

        def write() -> None:
            try:
                journal.checkpoint_on_own_connection()
                store.write(data)
            except Exception as exc:
                log.exception("snapshot failed")
                self._disk_error = str(exc)
            else:
                self._last_snapshot = dt.datetime.now(KST)

        self._disk.submit(write)

    def _save_snapshot(self) -> None:
        """Everything at once in this thread (the final snapshot at shutdown)."""
        try:
            self.ctx.journal.checkpoint()
            self._last_snapshot = self.recovery.save()
        except Exception as exc:
            log.exception("snapshot failed")
            self._emit_log("ERROR", f"상태 저장 실패: {exc}")

    def _new_day(self, today: str, why: str) -> None:
        ctx = self.ctx
        ctx.journal.record(
            JournalKind.NOTICE, reason=f"새 거래일 {today}: 당일 기록 초기화 ({why})"
        )
        ctx.ledger = DayLedger(today)
        ctx.orders.drop_closed()
        ctx.tables.clear("fills")
        self.gateway.cooldown.clear()
        self._emit_log("INFO", f"새 거래일 {today}: 재매수 금지 목록과 당일 손익을 초기화했습니다")
        self.request_reconcile("새 거래일")

    # --- flushing, subscriptions, status ---------------------------------------------

    def _flush(self, *, full: bool) -> None:
        ctx = self.ctx
        tables = ctx.tables
        if ctx.orders.take_dirty():
            tables.sync("open_orders", {o.key: o.row() for o in ctx.orders.open_orders()})
            full = True
        if full and ctx.positions_dirty:
            ctx.positions_dirty = False
            rules = ctx.rules.exit
            change = ctx.market.change_rate
            tables.sync(
                "tracking", {code: p.row(rules, change(code)) for code, p in ctx.positions.items()}
            )
        self._sync_subscriptions()
        for name, keys in tables.flush():
            self.table_changed.emit(name, keys)

    def _sync_subscriptions(self) -> None:
        """Real-time ticks for every managed position (group "tracking")."""
        if not self._started or self._stopped:
            return
        wanted = set(self.ctx.positions)
        add = sorted(wanted - self._subscribed)
        remove = sorted(self._subscribed - wanted)
        if add and self._send(Subscribe(GROUP_TRACKING, tuple(add), (Feed.TRADES,))):
            self._subscribed.update(add)
        if remove and self._send(Unsubscribe(GROUP_TRACKING, tuple(remove), (Feed.TRADES,))):
            self._subscribed.difference_update(remove)

    def _build_status(self) -> EngineStatus:
        ctx = self.ctx
        now = ctx.clock.now() if ctx.clock.synced else None
        settings = ctx.settings
        schedule = krx.SessionSchedule(
            settings.session.pre_open,
            settings.session.continuous,
            settings.session.closing_auction,
            settings.session.close,
            settings.session.after_hours,
            settings.session.end,
        )
        if now is None:
            phase = krx.SessionPhase.CLOSED
        elif settings.general.mode is Mode.SIM:
            phase = schedule.phase_at(now.time())
        else:
            phase = krx.session_phase(now, schedule)
        risk = ctx.risk_state()
        return EngineStatus(
            mode=settings.general.mode,
            connections=dict(self._connections),
            throttling=any(self._throttling.values()),
            server_time=now,
            session_phase=phase,
            auto_trade=ctx.auto_trade,
            last_snapshot=self._last_snapshot,
            ready=ctx.ready,
            blocked_codes=tuple(sorted(ctx.blocked)),
            positions=ctx.managed_count(),
            day_pnl=risk.day_pnl,
        )

    def _emit_status(self, *, force: bool = False) -> None:
        status = self._build_status()
        if force or status != self._last_status:
            self._last_status = status
            self.status_changed.emit(status)

    def _emit_log(self, level: str, message: str) -> None:
        log.log(getattr(logging, level, logging.INFO), message)
        self.log.emit(level, message)

    def _emit_notice(self, message: str) -> None:
        log.warning("NOTICE: %s", message)
        self.notice.emit(message)

    def _auto_off(self, message: str) -> None:
        if not self.ctx.auto_trade:
            return
        self.ctx.journal.record(JournalKind.RISK, reason=message, detail={"auto_trade": False})
        self.set_auto_trade(False)
        self._emit_notice(message)

    # --- settings ----------------------------------------------------------------------

    def _set_settings(self, settings: AppSettings) -> None:
        ctx = self.ctx
        ctx.settings = settings
        ctx.rules = Rules.from_settings(settings)
        ctx.positions_dirty = True
        self._apply_trading_options()
        self._apply_timer_intervals()
        self.strategy.apply_settings(settings)
        if self.settings_path is not None:
            from kiwoom_terminal.settings_store import save_to_file

            save_to_file(settings, self.settings_path)
        self.settings_changed.emit(settings)

    def _apply_trading_options(self) -> None:
        trading = self.ctx.settings.trading
        self.autotrader.exits_when_off = trading.exits_when_auto_off
        self.recovery.adopt_holdings = trading.adopt_holdings

    def _apply_timer_intervals(self) -> None:
        timers = self.ctx.settings.timers
        for name, timer in self._timers.items():
            timer.setInterval(int(getattr(timers, name)))

    # --- manual order validation -----------------------------------------------------

    def _validate_manual(self, request: OrderRequest) -> None:
        ctx = self.ctx
        code = request.code
        if len(code) != 6 or not code.isalnum():
            raise OrderInputError(
                f"종목코드 '{code}' 가 올바르지 않습니다 (6자리 코드를 입력하세요)"
            )
        if ctx.market.stocks and code not in ctx.market.stocks:
            raise OrderInputError(f"종목코드 {code} 를 찾을 수 없습니다")
        if request.quantity <= 0:
            raise OrderInputError(f"수량 {request.quantity} 은(는) 1주 이상이어야 합니다")
        etf = ctx.market.is_etf(code)
        if request.order_type.needs_price:
            if request.price <= 0:
                raise OrderInputError("지정가 주문에는 가격을 입력하세요")
            if not krx.is_on_grid(request.price, etf=etf):
                tick = krx.tick_size(request.price, etf=etf)
                raise OrderInputError(
                    f"가격 {request.price:,}원이 호가 단위({tick:,}원)에 맞지 않습니다 "
                    f"({krx.round_down_to_tick(request.price, etf=etf):,} 또는 "
                    f"{krx.round_up_to_tick(request.price, etf=etf):,})"
                )
            band = ctx.market.band(code)
            if band is not None and not band.contains(request.price):
                raise OrderInputError(
                    f"가격 {request.price:,}원이 오늘 가격제한폭({band.lower:,}~{band.upper:,}원)을 벗어났습니다"
                )
        elif request.price != 0:
            raise OrderInputError(f"{request.order_type.value} 주문은 가격 없이 보냅니다 (가격 0)")
        status = self._build_status()
        if (
            ctx.clock.synced  # the simulator's time is unknown until its first stamp: let it judge
            and status.session_phase not in krx.REGULAR_ORDER_PHASES
            and request.order_type in (OrderType.LIMIT, OrderType.MARKET)
        ):
            raise OrderInputError(
                f"지금은 정규장 주문 시간이 아닙니다 ({PHASE_NAMES[status.session_phase]}). "
                "장 시작 후 다시 주문하세요"
            )
        if not status.connected(WorkerKind.ORDER):
            raise OrderInputError("주문 서버에 연결되어 있지 않습니다. 연결 상태를 확인하세요")
        if request.side is Side.SELL:
            row = ctx.tables.get("holdings", code)
            position = ctx.positions.get(code)
            held = max(
                int(row["quantity"]) if row else 0,
                position.quantity if position is not None else 0,
            )
            selling = sum(o.remaining for o in ctx.orders.open_for(code, Side.SELL))
            if request.quantity > held - selling:
                raise OrderInputError(
                    f"매도 가능 수량이 부족합니다: 보유 {held:,}주, 매도 중 {selling:,}주, "
                    f"주문 {request.quantity:,}주"
                )


def _today() -> str:
    return dt.datetime.now(KST).strftime("%Y%m%d")
