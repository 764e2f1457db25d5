"""`JobRunner`: what the engine does when a scheduled rule fires (`scanner/schedule.py`).

| action | done through |
|---|---|
| `buy strategy=X [codes=…]` | the latest completed minute bar of each watchlist code (or `codes`) is judged by X; a BUY goes to `AutoTrader.consider_buy` (every guard, risk check and the journal) with `source` = X |
| `buy codes=…` | `consider_buy` of each code, `source` = `schedule` |
| `sell strategy=X [codes=…]` | held positions whose latest bar gives X's SELL are flagged and sold by the exit path (`ExitReason.STRATEGY`) |
| `sell_all [source=X]` | every managed position (only those opened by X when given) is flagged and sold by the exit path; holdings the engine does not manage are sold through the order gateway (risk checks, journal) — without `source` only |
| `reset` | `engine.reset_day`: a new trading day for the re-buy block, the orders-per-minute window, the daily P/L and the rejection cool-downs (caught up late only when that state is from an earlier market day) |
| `auto_on` / `auto_off` | `engine.set_auto_trade` |

Trading jobs (`buy`, `sell`, `sell_all`) wait until the start-up reconciliation is done;
bars a job needs are fetched through the engine's TR path within the runner's cap of
queries in flight. A missed job (its time passed while the terminal could not run it) is
only reported.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from kiwoom_terminal.backtest.server import bars_to_frame
from kiwoom_terminal.constants import ExitReason, OrderType, Side
from kiwoom_terminal.engine.journal import JournalKind
from kiwoom_terminal.messages import MinuteBarsQuery, TrReply
from kiwoom_terminal.objects import BarData, OrderRequest
from kiwoom_terminal.scanner.scanner import BuyCandidate
from kiwoom_terminal.scanner.schedule import Job, JobAction
from kiwoom_terminal.scanner.signals import SignalData, SignalStatus
from kiwoom_terminal.strategies.base import BUY, SELL, Strategy, StrategyError, get_strategy

if TYPE_CHECKING:
    from kiwoom_terminal.engine.strategy_runner import StrategyRunner

log = logging.getLogger(__name__)

SCHEDULE_SOURCE = "schedule"
TRADING = frozenset({JobAction.BUY, JobAction.SELL, JobAction.SELL_ALL})


@dataclass
class _Run:
    """One job in progress: the codes still to judge and what was found."""

    job: Job
    strategy: Strategy | None
    queue: deque[str] = field(default_factory=deque)
    waiting: int = 0
    hits: list[str] = field(default_factory=list)
    checked: int = 0


class JobRunner:
    """Runs the scheduler's jobs for one engine (module docstring)."""

    def __init__(self, runner: StrategyRunner) -> None:
        self.runner = runner
        self.engine = runner.engine
        self.ctx = runner.ctx
        self._waiting: list[Job] = []  # trading jobs held until the engine is ready
        self._runs: list[_Run] = []  # jobs fetching bars
        self._requests: dict[str, tuple[_Run, str]] = {}  # request id → run, code
        self.done: list[tuple[Job, str]] = []  # (job, Korean summary), for the dock and tests

    @property
    def in_flight(self) -> int:
        return len(self._requests)

    def idle(self) -> bool:
        return not self._waiting and not self._runs and not self._requests

    def add(self, job: Job) -> None:
        rule = job.rule
        if job.missed:
            message = (
                f"예약 작업을 놓쳤습니다: {rule.label} ({job.scheduled:%m-%d %H:%M}에 실행하지 "
                "못해 늦게 실행하지 않습니다)"
            )
            self.ctx.log("WARNING", message)
            self.ctx.journal.record(JournalKind.NOTICE, reason=message, detail={"rule": rule.text})
            self.done.append((job, "놓침"))
            return
        self.ctx.journal.record(
            JournalKind.NOTICE,
            reason=f"예약 작업 실행: {rule.label}",
            detail={"rule": rule.text, "scheduled": job.scheduled.isoformat()},
        )
        self.ctx.log("INFO", f"예약 작업: {rule.label}")
        if job.action in TRADING and not self.ctx.ready:
            self._waiting.append(job)
            return
        self._start(job)

    def run_waiting(self, now: dt.datetime) -> None:
        """Every timer turn: jobs held for the reconciliation, and bar requests of running
        jobs within the runner's cap."""
        if self._waiting and self.ctx.ready:
            jobs, self._waiting = self._waiting, []
            for job in jobs:
                self._start(job)
        for run in list(self._runs):
            self._request_bars(run)

    # --- starting ------------------------------------------------------------------------

    def _start(self, job: Job) -> None:
        action = job.action
        if action is JobAction.RESET:
            self._reset(job)
        elif action is JobAction.AUTO_ON:
            self.engine.set_auto_trade(True)
            self._finish_simple(job, "자동매매 켬")
        elif action is JobAction.AUTO_OFF:
            self.engine.set_auto_trade(False)
            self._finish_simple(job, "자동매매 끔")
        elif action is JobAction.SELL_ALL:
            self._sell_all(job)
        elif action is JobAction.BUY and job.rule.strategy is None:
            for code in job.rule.codes:
                self.engine.autotrader.consider_buy(
                    code, SCHEDULE_SOURCE, why=f"예약 매수 ({job.rule.label})"
                )
            self._finish_simple(job, f"{len(job.rule.codes)}종목 매수 요청")
        else:
            self._start_scan(job)

    def _reset(self, job: Job) -> None:
        """A reset on time always starts a new day. One caught up late (the terminal was
        not running at its time — e.g. the first start of the day, or the simulator's next
        session) only when the daily state belongs to an earlier market day: a restart at
        noon must not forget what was bought in the morning."""
        runner = self.runner
        late = runner.market_now() - job.scheduled > runner.scheduler.late_grace
        day = job.scheduled.date()
        if late and runner.ledger_day >= day:
            self.ctx.log("INFO", f"예약 작업 {job.rule.label}: 오늘의 기록이라 초기화하지 않습니다")
            self._finish_simple(job, "이미 오늘의 기록")
            return
        self.engine.reset_day(f"예약 작업 {job.rule.label}")
        runner.ledger_day = max(runner.ledger_day, day)
        self._finish_simple(job, "일일 상태 초기화")

    def _finish_simple(self, job: Job, summary: str) -> None:
        self.done.append((job, summary))

    def _sell_all(self, job: Job) -> None:
        ctx = self.ctx
        source = job.rule.source
        why = f"예약 전량 매도 ({job.rule.label})"
        flagged: list[str] = []
        for code, position in list(ctx.positions.items()):
            if source is not None and position.source != source:
                continue
            if (
                position.held
                and not position.sell_pending
                and self.engine.autotrader.flag_sell(code, why, ExitReason.STRATEGY)
            ):
                flagged.append(code)
        sold_outside: list[str] = []
        if source is None:  # holdings the engine does not manage (a plain "sell everything")
            for code, row in ctx.tables.rows("holdings").items():
                quantity = int(row.get("quantity", 0))
                if code in ctx.positions or quantity <= 0 or ctx.orders.open_for(code, Side.SELL):
                    continue
                _, refused = self.engine.gateway.place(
                    OrderRequest(code, Side.SELL, quantity, 0, OrderType.MARKET),
                    purpose=ExitReason.STRATEGY.value,
                    reason=f"{why}: 자동매매가 관리하지 않던 보유 종목 시장가 매도",
                    source=SCHEDULE_SOURCE,
                )
                if refused:
                    ctx.log("WARNING", f"{code} 예약 매도를 보내지 못했습니다: {refused}")
                else:
                    sold_outside.append(code)
        summary = f"매도 요청 {len(flagged) + len(sold_outside)}종목"
        ctx.log("INFO", f"{why}: {summary}")
        self.done.append((job, summary))

    def _start_scan(self, job: Job) -> None:
        rule = job.rule
        name = rule.strategy or ""
        strategy = self.runner.scanner.strategies.get(name)
        if strategy is None:  # not switched on: its stored parameters, else the defaults
            try:
                strategy = get_strategy(name, **self.runner.strategy_params().get(name, {}))
            except StrategyError as exc:
                self.ctx.log("ERROR", f"예약 작업 {rule.label}: {exc}")
                self.done.append((job, f"전략 오류: {exc}"))
                return
        if job.action is JobAction.BUY:
            codes = list(rule.codes) or self.runner.watchlist.codes()
        else:  # sell: held positions only
            held = [c for c, p in self.ctx.positions.items() if p.held]
            codes = [c for c in (rule.codes or held) if c in held]
        run = _Run(job, strategy, deque(codes))
        if not codes:
            self._finish(run)
            return
        self._runs.append(run)
        self._request_bars(run)

    # --- bars --------------------------------------------------------------------------

    def _request_bars(self, run: _Run) -> None:
        strategy = run.strategy
        assert strategy is not None
        now = self.runner.market_now()
        scanner = self.runner.scanner
        target = scanner.target_bar(now)
        while run.queue:
            code = run.queue[0]
            cached = scanner.cache.bars(code)
            if (
                cached is not None
                and target is not None
                and (scanner.cache.newest(code) or dt.datetime.min) >= target
                and scanner.strategies.get(strategy.name) == strategy
            ):
                run.queue.popleft()  # the scanner's bars are current: judge them now
                self._judge(run, code, cached, now)
                continue
            if self.runner.free_slots() <= 0:
                return
            run.queue.popleft()
            query = MinuteBarsQuery(
                code,
                minutes=scanner.config.interval,
                max_rows=max(scanner.config.history_bars, strategy.min_bars + 2),
            )
            request_id = self.engine._request(query, functools.partial(self._on_bars, run, code))
            if request_id:
                self._requests[request_id] = (run, code)
                run.waiting += 1
            else:
                self.ctx.log("WARNING", f"{code} 분봉 조회를 보낼 수 없습니다 (예약 작업)")
        if run.waiting == 0:
            self._finish(run)

    def _on_bars(self, run: _Run, code: str, reply: TrReply) -> None:
        self._requests.pop(reply.request_id, None)
        run.waiting -= 1
        if self.runner.stopped:
            return
        now = self.runner.market_now()
        if reply.ok:
            rows: list[BarData] = list(reply.data or ())
            self.runner._learn_day(rows)
            span = dt.timedelta(minutes=self.runner.scanner.config.interval)
            done = [b for b in rows if b.time + span <= now]
            self._judge(run, code, bars_to_frame(done), now)
        else:
            self.ctx.log("WARNING", f"{code} 분봉을 받지 못했습니다 (예약 작업): {reply.error}")
        if run.waiting == 0 and not run.queue:
            self._finish(run)

    def _judge(self, run: _Run, code: str, bars: pd.DataFrame, now: dt.datetime) -> None:
        """The strategy's signal on the latest completed bar of today."""
        strategy = run.strategy
        assert strategy is not None
        run.checked += 1
        if bars.empty or pd.Timestamp(bars.index[-1]).date() != now.date():
            return  # nothing traded today yet
        if len(bars) < strategy.min_bars:
            return
        try:
            value = int(strategy.signals(bars).iloc[-1])
        except StrategyError as exc:
            self.ctx.log("WARNING", f"예약 작업 {strategy.name} {code}: {exc}")
            return
        bar_time = pd.Timestamp(bars.index[-1]).to_pydatetime()
        price = int(bars["close"].iloc[-1])
        label = run.job.rule.label
        if run.job.action is JobAction.BUY and value == BUY:
            run.hits.append(code)
            signal_id = self._record(strategy, code, Side.BUY, bar_time, price, now)
            self.runner.route_buy(
                BuyCandidate(code, self.ctx.name(code), strategy.name, signal_id, price, bar_time),
                why=f"예약 매수 ({label}): {strategy.describe()} 매수 신호 ({bar_time:%H:%M} 봉)",
            )
        elif run.job.action is JobAction.SELL and value == SELL:
            run.hits.append(code)
            signal_id = self._record(strategy, code, Side.SELL, bar_time, price, now)
            why = f"예약 매도 ({label}): {strategy.describe()} 매도 신호 ({bar_time:%H:%M} 봉)"
            if self.engine.autotrader.flag_sell(code, why, ExitReason.STRATEGY):
                self.runner._mark(signal_id, SignalStatus.SOLD, "보유 종목 매도 요청")

    def _record(
        self,
        strategy: Strategy,
        code: str,
        side: Side,
        bar_time: dt.datetime,
        price: int,
        now: dt.datetime,
    ) -> str:
        """The job's signal in the signals table (once per day, code, strategy, side)."""
        signal = SignalData(
            day=now.date(),
            bar_time=bar_time,
            detected_at=now,
            code=code,
            name=self.ctx.name(code),
            strategy=strategy.name,
            params=strategy.describe(),
            side=side,
            price=price,
            status=SignalStatus.ROUTED if side is Side.BUY else SignalStatus.NEW,
            note="예약 작업",
        )
        if self.runner.book.add(signal):
            self.engine.table_changed.emit("signals", [])
        return signal.signal_id

    def _finish(self, run: _Run) -> None:
        if run in self._runs:
            self._runs.remove(run)
        side = "매수" if run.job.action is JobAction.BUY else "매도"
        summary = f"{run.checked}종목 확인, {side} 신호 {len(run.hits)}" + (
            f" ({', '.join(run.hits)})" if run.hits else ""
        )
        self.ctx.log("INFO", f"예약 작업 {run.job.rule.label}: {summary}")
        self.done.append((run.job, summary))
