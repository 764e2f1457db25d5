"""The simulator process: configuration, wiring of market / account / servers, main loop.

One asyncio event loop runs the HTTP server, the WebSocket server and the market loop.
The market loop wakes every `loop_interval` seconds (`busy_loop_interval` at high crowd
rates): it runs the price paths up to the clock and adds crowd ticks at the configured rate
for watched stocks — both in slices (`PATH_SLICE_STOCKS`, `TURN_SLICE_TICKS`) framed and
sent as they are made, with HTTP and WebSocket traffic served in between — fires scenario
events, re-evaluates conditions (one at a time, the network served in between), pushes
changed books and frames everything for the sessions. No piece of market work holds the loop much longer than half a millisecond
on the 2-core bench machine, so an order or a control request never waits for a whole turn
(bench/tick_to_order.py: a 3.5 ms condition pass or a 1.9 ms path slice in the window was
a trial's whole margin).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiwoom_terminal import krx
from kiwoom_terminal.krx import SessionPhase
from kiwoom_terminal.sim import scenario as scenario_file
from kiwoom_terminal.sim.account import Account
from kiwoom_terminal.sim.auth import Auth
from kiwoom_terminal.sim.clock import ClockMode, SimClock
from kiwoom_terminal.sim.conditions import Conditions
from kiwoom_terminal.sim.control_api import ControlApi
from kiwoom_terminal.sim.days import BusinessDays
from kiwoom_terminal.sim.faults import Faults, parse_spec
from kiwoom_terminal.sim.feed import Feed
from kiwoom_terminal.sim.http import HttpServer
from kiwoom_terminal.sim.market import Market
from kiwoom_terminal.sim.ratelimit import RateLimiter
from kiwoom_terminal.sim.rest import RestApi
from kiwoom_terminal.sim.ws import WsServer

log = logging.getLogger(__name__)

AUTO_TICKS_PER_STOCK = 5.0  # crowd ticks per second per watched stock when no rate is set
AUTO_TICKS_MAX = 500.0
TURN_SLICE_TICKS = 25  # crowd ticks printed between two looks at the network
PATH_SLICE_STOCKS = 4  # stocks whose path moves between two looks at the network
NETWORK_TURNS = 3  # event-loop turns between two slices (see _serve_network)


async def _serve_network() -> None:
    """Let the event loop serve the network between two slices of market work.

    One `sleep(0)` is not enough: bytes that arrive during a slice are seen by the next
    loop turn's select, whose callback only then wakes the connection's task, which runs
    one turn later still — with a slice between each turn, a request was read three slices
    after it arrived. NETWORK_TURNS turns let that chain finish first."""
    for _ in range(NETWORK_TURNS):
        await asyncio.sleep(0)


def _slices(budget: dict[str, int], size: int) -> list[dict[str, int]]:
    """`budget` (code -> ticks) cut into consecutive parts of about `size` ticks."""
    parts: list[dict[str, int]] = []
    part: dict[str, int] = {}
    count = 0
    for code, n in budget.items():
        part[code] = n
        count += n
        if count >= size:
            parts.append(part)
            part, count = {}, 0
    if part:
        parts.append(part)
    return parts


@dataclass
class SimConfig:
    """Everything the command line can set (see `__main__`)."""

    host: str = "127.0.0.1"
    rest_port: int = 0
    ws_port: int = 0
    seed: int = 0  # 0 = derived from the trading date
    speed: float = 1.0
    clock_mode: ClockMode = ClockMode.CONTINUOUS
    start: dt.datetime | None = None
    schedule: krx.SessionSchedule = krx.DEFAULT_SCHEDULE  # session times of the krx clock
    scenario: Path | None = None
    faults: str = ""
    app_key: str | None = None
    secret_key: str | None = None
    mock: bool = True  # answer with the mock server's texts (모의투자 …)
    tick_rate: float | None = None  # crowd ticks per second over watched stocks; None = auto
    batch: int = 20  # REAL entries per frame at most
    book_interval: float = 0.1  # seconds between 0D pushes of one stock
    loop_interval: float = 0.02
    # At a crowd rate above one slice per turn (1,250 ticks/s with the defaults) the loop
    # turns every `busy_loop_interval` instead: at 5,000 ticks/s a turn then prints 25
    # ticks, not a 100-tick burst every 20 ms that the client parses for 2 ms while a trade
    # that matters waits behind it. Idle or at the automatic rate (≤ 500 ticks/s) the loop
    # keeps 20 ms, which halves the simulator's idle CPU (8 % → 4 % of a core).
    busy_loop_interval: float = 0.005
    max_backlog: int = 2_000  # queued frames per client before 0B / 0D are dropped
    ws_ping_interval: float = 10.0
    ws_max_missed: int = 3
    ws_login_timeout: float = 10.0
    reg_cap: int = 200  # items per REG frame (kiwoom-api.md §0.2: the real cap is unknown)
    cnsr_page_size: int = 100
    max_body: int = 1024 * 1024
    cash: int = 100_000_000
    account_no: str = "8012345611"
    a_prefix_9001: bool = False  # §0.2 item 7: official example bare, some clients see A…
    ioc_in_opening_auction: bool = False  # §11.3 names the closing auction only (Account)
    commission_rate: float = krx.FeeSchedule.commission_rate
    tax_rate: float = krx.FeeSchedule.tax_rate
    condition_interval: float = 0.25  # seconds between condition evaluations


class Simulator:
    """Owns the simulated world and the two servers that expose it."""

    def __init__(self, config: SimConfig, *, monotonic: Callable[[], float] = time.monotonic):
        self.config = config
        self._mono = monotonic
        self.scenario: dict[str, Any] = (
            scenario_file.load(config.scenario) if config.scenario else {}
        )
        if not config.seed and self.scenario.get("seed"):
            config.seed = int(self.scenario["seed"])
        self.days = BusinessDays(krx.now_kst().date())
        self.clock = SimClock(
            self.days,
            mode=config.clock_mode,
            speed=config.speed,
            start=config.start,
            schedule=config.schedule,
            monotonic=monotonic,
        )
        self.seed = config.seed or int(self.clock.now().strftime("%Y%m%d"))
        self.market = Market(self.clock, self.days, self.seed)
        self.feed = Feed(
            self.market,
            batch=config.batch,
            book_interval=config.book_interval,
            max_backlog=config.max_backlog,
        )
        self.market.sink = self.feed
        self.account = Account(
            self.market,
            fees=krx.FeeSchedule(config.commission_rate, config.tax_rate),
            account_no=config.account_no,
            cash=config.cash,
            mock=config.mock,
            a_prefix_9001=config.a_prefix_9001,
            ioc_in_opening_auction=config.ioc_in_opening_auction,
            sink=self.feed,
        )
        self.feed.account = self.account
        self.market.before_roll.append(self.account.expire_day)
        self.conditions = Conditions(self.market)
        self.conditions.listeners.append(self._on_condition)
        self.faults = Faults()
        self.limiter = RateLimiter(monotonic=monotonic)
        self.auth = Auth(app_key=config.app_key, secret_key=config.secret_key, monotonic=monotonic)
        self.set_faults(parse_spec(config.faults))
        self.tick_rate = config.tick_rate
        self.rest = RestApi(self)
        self.control = ControlApi(self)
        self.http = HttpServer(self.rest.handle, max_body=config.max_body)
        self.ws = WsServer(self)
        self.auth.on_revoke.append(self.ws.on_token_revoked)
        self.background: set[asyncio.Task[Any]] = set()
        self.scheduled: list[tuple[dt.datetime, Callable[[], None]]] = []
        self._stop = asyncio.Event()
        self._tick_due = 0.0
        self._rr = 0
        self.rest_port = 0
        self.ws_port = 0
        self._apply_scenario()
        self.conditions.evaluate()

    # --- configuration -------------------------------------------------------------------

    def set_faults(self, values: Mapping[str, object]) -> None:
        self.faults.update(values)
        self.limiter.configure(self.faults.rate, self.faults.global_rate)
        self.auth.ttl = self.faults.token_ttl

    def _apply_scenario(self) -> None:
        sc = self.scenario
        if not sc:
            return
        if sc.get("faults"):
            spec = sc["faults"]
            self.set_faults(parse_spec(spec) if isinstance(spec, str) else dict(spec))
        if "tick_rate" in sc:
            self.tick_rate = None if sc["tick_rate"] is None else float(sc["tick_rate"])
        if sc.get("paused"):
            self.market.paused_all = True
        if sc.get("phase"):
            self.clock.forced_phase = SessionPhase(sc["phase"])
        account = sc.get("account") or {}
        if "cash" in account:
            self.account.cash = int(account["cash"])
        for h in account.get("holdings", []) or []:
            stock = self._scenario_stock(h.get("code"))
            self.account.set_holding(
                stock.code, int(h["qty"]), int(h.get("avg_price", stock.price))
            )
        origin = self.market.session_second(self.clock.now())
        for code, spec in (sc.get("stocks") or {}).items():
            stock = self._scenario_stock(code)
            if spec.get("crowd_qty") is not None:
                stock.book.crowd_qty = int(spec["crowd_qty"])
            if spec.get("price") is not None:
                self.market.set_price(stock, int(spec["price"]))
            if spec.get("paused"):
                stock.paused = True
            if spec.get("path"):
                frames = [(float(t), int(p)) for t, p in spec["path"]]
                self.control.install_path(stock, frames, str(spec.get("then", "hold")), origin)
        start = self.clock.now()
        for event in sc.get("conditions") or []:
            stock = self._scenario_stock(event["code"])
            at = start + dt.timedelta(seconds=float(event.get("at", 0)))
            seq, action = str(event["seq"]), str(event.get("action", "add"))
            if seq not in self.conditions.defs:
                raise scenario_file.ScenarioError(f"scenario: unknown condition seq {seq!r}")

            def fire(seq: str = seq, code: str = stock.code, action: str = action) -> None:
                self.conditions.force(seq, code, action)

            self.scheduled.append((at, fire))
        self.scheduled.sort(key=lambda item: item[0])

    def _scenario_stock(self, code: object) -> Any:
        stock = self.market.get(str(code))
        if stock is None:
            raise scenario_file.ScenarioError(f"scenario: unknown stock code {code!r}")
        return stock

    # --- running -------------------------------------------------------------------------

    async def start(self) -> None:
        self.rest_port = await self.http.start(self.config.host, self.config.rest_port)
        self.ws_port = await self.ws.start(self.config.host, self.config.ws_port)

    @property
    def rest_url(self) -> str:
        return f"http://{self.config.host}:{self.rest_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.ws_port}/api/dostk/websocket"

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Serve until `request_stop()`."""
        loop_task = asyncio.create_task(self._loop())
        drop_task = asyncio.create_task(self._drop_loop())
        try:
            await self._stop.wait()
        finally:
            loop_task.cancel()
            drop_task.cancel()
            for closing in (self.ws.close(), self.http.close()):
                try:
                    await asyncio.wait_for(closing, 3.0)
                except TimeoutError:
                    log.warning("shutdown: a server did not close in time")

    async def _loop(self) -> None:
        last = self._mono()
        last_conditions = 0.0
        while True:
            await asyncio.sleep(self._loop_interval())
            try:
                now = self._mono()
                await self._advance_paths()
                budget = self._tick(now - last)
                last = now
                parts = _slices(budget, TURN_SLICE_TICKS)
                for i, part in enumerate(parts):
                    if i:
                        # Frame what the last slice printed and let the network in: a
                        # request (an order) or a client's frames wait at most one slice,
                        # not a whole turn (several ms at thousands of ticks/s), and the
                        # feed leaves as a steady stream rather than one burst per turn.
                        self.feed.flush()
                        await _serve_network()
                    self.market.crowd_ticks(part)
                if now - last_conditions >= self.config.condition_interval:
                    last_conditions = now
                    for seq in list(self.conditions.defs):
                        self.feed.flush()
                        await _serve_network()
                        self.conditions.evaluate_seq(seq)
                self.feed.push_books(self.clock.now().strftime("%H%M%S"))
                self.feed.flush()
            except Exception:  # the market loop must survive anything
                log.exception("market loop step failed")

    def _loop_interval(self) -> float:
        """Seconds until the next market turn: shorter when a turn would print more than
        one slice of crowd ticks (see `SimConfig.busy_loop_interval`)."""
        config = self.config
        rate = self.tick_rate
        if rate is not None and rate * config.loop_interval > TURN_SLICE_TICKS:
            return min(config.loop_interval, config.busy_loop_interval)
        return config.loop_interval

    def step(self) -> None:
        """Catch the market up with the clock now (after a clock jump)."""
        self.market.advance()
        self._run_scheduled()
        self.conditions.evaluate()

    async def _advance_paths(self) -> None:
        """`market.advance()` a slice of stocks at a time, serving the network in between:
        each new simulated second moves every stock's path and book at once, ~10 ms for the
        159 stocks on the 2-core bench machine, which an order would otherwise wait out."""
        now, sec, due = self.market.due_paths()
        for i in range(0, len(due), PATH_SLICE_STOCKS):
            if i:
                self.feed.flush()
                await _serve_network()
            self.market.step_paths(due[i : i + PATH_SLICE_STOCKS], sec, now)

    def _tick(self, elapsed: float) -> dict[str, int]:
        """Run the scenario up to the clock (the paths have been advanced); returns the
        crowd ticks due now (code -> count) for the loop to print."""
        self._run_scheduled()
        active = self.market.active
        if not active:
            self._tick_due = 0.0
            return {}
        total = self.tick_rate
        if total is None:
            total = min(AUTO_TICKS_MAX, AUTO_TICKS_PER_STOCK * len(active))
        per_stock = total / len(active)
        for code in active:
            active[code] = per_stock
        # An overloaded loop does not try to catch up more than a tenth of a second of
        # ticks: the feed then runs at what the machine can do instead of spiralling. The
        # cap is at least one tick, or a slow rate (one stock at 5/s) would never print.
        self._tick_due = min(self._tick_due + total * elapsed, max(total * 0.1, 1.0))
        n = int(self._tick_due)
        if n <= 0:
            return {}
        self._tick_due -= n
        codes = list(active)
        k = len(codes)
        base, extra = divmod(n, k)
        budget = {}
        for i, code in enumerate(codes):
            count = base + (1 if (i - self._rr) % k < extra else 0)
            if count:
                budget[code] = count
        self._rr = (self._rr + extra) % k
        return budget

    def _run_scheduled(self) -> None:
        now = self.clock.now()
        while self.scheduled and self.scheduled[0][0] <= now:
            _, action = self.scheduled.pop(0)
            try:
                action()
            except Exception:
                log.exception("scenario event failed")

    async def _drop_loop(self) -> None:
        """The `ws_drop` fault: cut every WebSocket connection every N seconds."""
        waited = 0.0
        while True:
            await asyncio.sleep(0.1)
            period = self.faults.ws_drop
            if period <= 0:
                waited = 0.0
                continue
            waited += 0.1
            if waited >= period:
                waited = 0.0
                n = self.ws.drop_all()
                if n:
                    log.info("ws_drop fault: dropped %d connection(s)", n)

    def after_request(self) -> None:
        """Push what a request changed (order events, books) without waiting for the loop."""
        self.feed.push_books(self.clock.now().strftime("%H%M%S"))
        self.feed.flush()

    def _on_condition(self, seq: str, code: str, entered: bool) -> None:
        self.feed.on_condition(seq, code, entered, self.clock.now().strftime("%H%M%S"))

    def describe(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "speed": self.clock.speed,
            "clock": self.clock.mode.value,
            "time": self.clock.now().isoformat(sep=" "),
            "faults": dataclasses.asdict(self.faults),
        }
