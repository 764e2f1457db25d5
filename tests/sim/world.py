"""An in-process simulated market + account for unit tests of the matching and accounting
logic (no sockets). Integration tests use the real server through tests/conftest.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kiwoom_terminal.sim.account import Account
from kiwoom_terminal.sim.book import OwnFill
from kiwoom_terminal.sim.clock import SimClock
from kiwoom_terminal.sim.days import BusinessDays
from kiwoom_terminal.sim.listings import BY_CODE
from kiwoom_terminal.sim.market import Market, Stock

DAY = dt.date(2026, 11, 20)  # a Friday and a KRX business day
CODES = ("005930", "000660", "069500")


@dataclass
class Capture:
    """Collects what the market and the account report."""

    account: Account | None = None
    events: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    trades: list[tuple[str, int, int, bool]] = field(default_factory=list)

    def on_trade(self, stock: Stock, qty: int, buy: bool) -> None:
        self.trades.append((stock.code, stock.price, qty, buy))

    def on_own_fill(self, fill: OwnFill) -> None:
        assert self.account is not None
        self.account.on_own_fill(fill)

    def on_account_event(self, type_code: str, code: str, values: dict[str, str]) -> None:
        self.events.append((type_code, values))

    def states(self) -> list[tuple[str, str, str]]:
        """(order no, 913 state, 902 unfilled) of the 00 events so far."""
        return [(v["9203"], v["913"], v["902"]) for t, v in self.events if t == "00"]


@dataclass
class World:
    clock: SimClock
    market: Market
    account: Account
    sink: Capture

    def stock(self, code: str = "005930") -> Stock:
        stock = self.market.stocks[code]
        return stock


def make_world(*, start: dt.time = dt.time(9, 0), seed: int = 5, cash: int = 10_000_000) -> World:
    days = BusinessDays(DAY)
    clock = SimClock(days, speed=0, start=dt.datetime.combine(DAY, start))
    sink = Capture()
    market = Market(clock, days, seed, listings=tuple(BY_CODE[c] for c in CODES), sink=sink)
    account = Account(market, cash=cash, sink=sink)
    sink.account = account
    market.before_roll.append(account.expire_day)
    return World(clock, market, account, sink)


def quiet_stock(world: World, code: str = "005930", price: int = 70_000, crowd: int = 100) -> Stock:
    """Pause a stock's random walk, fix its crowd size and put it at `price`."""
    stock = world.stock(code)
    stock.paused = True
    stock.book.crowd_qty = crowd
    world.market.set_price(stock, price)
    return stock
