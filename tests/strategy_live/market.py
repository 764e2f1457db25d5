"""`ScriptedMarket`: drives a frozen-clock simulator minute by minute against a live engine,
waiting on state (never on time) so the run is the same on a loaded machine.

The simulator's clock only moves when `go_to` advances it; the engine learns the new time
from a trade printed on a "clock stock" it watches (the engine's selected stock), so the
watched codes' own bars get no print they did not ask for. Each step waits until the engine
has acted on everything it knows: the scanner has the newest completed bar of every
watchlist code, no scanner or job query and no order is outstanding, and every held
position's ticks are registered at the server (so the next print reaches the exit rules).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kiwoom_terminal import krx
from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.engine.engine import TradingEngine
from kiwoom_terminal.objects import OrderRequest
from kiwoom_terminal.sim.control import SimControl

DEADLINE_MS = 20_000
CLOCK_STOCK = "005935"  # 삼성전자우: printed only to tell the engine the time
SESSION_END = dt.time(15, 20)  # the continuous simulator clock's day ends here


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y%m%d%H%M%S")


class ScriptedMarket:
    """Frozen-clock scenario driver (module docstring)."""

    def __init__(self, control: SimControl, engine: TradingEngine, qtbot: Any) -> None:
        self.control = control
        self.engine = engine
        self.qtbot = qtbot
        self._clock_price = int(control.quote(CLOCK_STOCK)["base"])
        self._clock_up = False
        engine.select_stock(CLOCK_STOCK)
        self.wait_registered(CLOCK_STOCK)
        self.go_to(self.now().time())  # the engine learns the time; start-up jobs run

    # --- time ------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The simulator's clock."""
        return self.sim_time(self.control)

    @staticmethod
    def sim_time(control: SimControl) -> dt.datetime:
        return _parse(control.advance(0))

    def go_to(self, when: dt.time, *, next_day: bool = False) -> dt.datetime:
        """Move the simulator's clock to `when` today — or on the next simulated day, whose
        session the continuous clock opens after 15:20 — (never backwards), print the clock
        stock so the engine knows, and wait until the engine acted on it (`settle`)."""
        now = self.now()
        if next_day:
            to_close = dt.datetime.combine(now.date(), SESSION_END) - now
            into_day = dt.datetime.combine(now.date(), when) - dt.datetime.combine(
                now.date(), dt.time(9, 0)
            )
            now = _parse(self.control.advance((to_close + into_day).total_seconds()))
            self._clock_price = int(self.control.quote(CLOCK_STOCK)["base"])  # a new base
        else:
            target = dt.datetime.combine(now.date(), when)
            if target > now:
                now = _parse(self.control.advance((target - now).total_seconds()))
        self._clock_up = not self._clock_up
        price = krx.step_price(self._clock_price, 1) if self._clock_up else self._clock_price
        self.control.set_price(CLOCK_STOCK, price, pause=True)
        clock = self.engine.ctx.clock
        days = clock.new_days + (1 if next_day else 0)
        self.qtbot.waitUntil(
            lambda: clock.synced and clock.new_days >= days and clock.time_of_day() >= now.time(),
            timeout=DEADLINE_MS,
        )
        turns = self.engine.strategy.turns  # then one whole turn of the runner at this time
        self.qtbot.waitUntil(lambda: self.engine.strategy.turns >= turns + 2, timeout=DEADLINE_MS)
        self.settle()
        return now

    # --- prices ----------------------------------------------------------------------------

    def print_trade(self, code: str, price: int) -> int:
        """A trade of `code` at `price` now; when the engine holds the code, wait until its
        tick was processed (exit rules run), then settle."""
        position = self.engine.ctx.positions.get(code)
        watched = position is not None and position.held
        if watched:
            assert self.engine.ctx.market.last_price(code) != price, (
                "consecutive prints of a held code must differ (the wait tells them apart)"
            )
        printed = self.control.set_price(code, price, pause=True)
        assert printed == price, f"{code}: {price} is not a grid price inside the band"
        if watched:
            self.qtbot.waitUntil(
                lambda: self.engine.ctx.market.last_price(code) == price, timeout=DEADLINE_MS
            )
        self.settle()
        return printed

    def buy_now(self, code: str, quantity: int = 1) -> None:
        """A manual market buy; waits until the engine holds it (and its ticks arrive)."""
        self.engine.submit_manual_order(OrderRequest(code, Side.BUY, quantity, 0, OrderType.MARKET))
        self.qtbot.waitUntil(lambda: self.held(code) == quantity, timeout=DEADLINE_MS)
        self.settle()

    def held(self, code: str) -> int:
        position = self.engine.ctx.positions.get(code)
        return position.quantity if position is not None else 0

    # --- waiting ---------------------------------------------------------------------------

    def registered(self, code: str) -> bool:
        wanted = f"{code}:0B"
        return any(wanted in s["registrations"] for s in self.control.state()["sessions"])

    def wait_registered(self, code: str) -> None:
        self.qtbot.waitUntil(lambda: self.registered(code), timeout=DEADLINE_MS)

    def unsettled(self) -> str:
        """What the engine is still doing ("" when it has acted on everything it knows)."""
        engine = self.engine
        ctx = engine.ctx
        runner = engine.strategy
        if not runner.idle():
            return "scanner / job queries outstanding"
        if engine.autotrader._awaiting_quote:
            return "a buy waits for its order book"
        if any(True for _ in ctx.orders.open_orders()):
            return "open orders"
        if any(p.buy_pending or p.sell_pending for p in ctx.positions.values()):
            return "pending positions"
        scanner = runner.scanner
        if ctx.settings.scanner.enabled and scanner.codes and scanner.strategies:
            target = scanner.target_bar(runner.market_now())
            status = scanner.status()
            if target is not None and (
                status.target_bar != target or status.up_to_date < status.codes
            ):
                return f"scanner behind: {status}"
        unregistered = [c for c, p in ctx.positions.items() if p.held and not self.registered(c)]
        return f"ticks of {unregistered} not registered" if unregistered else ""

    def settle(self) -> None:
        last = [""]

        def check() -> bool:
            last[0] = self.unsettled()
            return not last[0]

        try:
            self.qtbot.waitUntil(check, timeout=DEADLINE_MS)
        except Exception as exc:
            raise AssertionError(f"the engine did not settle: {last[0]}") from exc
