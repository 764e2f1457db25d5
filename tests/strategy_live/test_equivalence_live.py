"""Issue #6: "A scenario replayed through the simulator and the live engine and the same
scenario through the backtester produce the same trades."

The scenario (frozen simulator clock, every stock paused, one trade print per minute per
stock, prices relative to each stock's base): three watchlist stocks fall for four minutes
and turn up in the fifth, so `sma_cross(fast=2, slow=3)` says BUY on the 09:04 bar for all
three. The live engine — real workers, the scanner on its timer, the buy path with every
guard — buys each in the first seconds of 09:05. Then:

* A gaps 3.1 % below its entry at 09:06 → stop-loss;
* B climbs 3.4 % (the trailing stop arms), makes a new high, and falls 1.5 % from it at 09:09
  → trailing stop;
* C drifts sideways until the fast average crosses below the slow one on the 09:08 bar →
  the strategy's SELL; the engine sells the position the strategy opened.

Afterwards the day's minute bars are fetched from the same simulator through the engine's
TR path (`EngineBars`, as the 백테스트 tab does) and the backtester runs the same strategy
with the same exit rules and this fill model, which is how the live engine fills here:

| live engine | backtester |
|---|---|
| buys right after the signal bar closes, with a limit at the best ask; nothing else trades before it, so its own fill is the next bar's first trade | entry `next_open`: the next bar's open, no slippage |
| sells at market into the best bid, which the simulator keeps at the last trade | exit `trigger`, no slippage: a stop or trailing stop that gapped through its level fills at that bar's open (the first trade after the level broke) |
| a strategy SELL is known when its bar closes; the engine sells in the first seconds of the next bar at the bid (= that bar's close) | exit at the signal bar's close, booked on the signal bar |

So trades must agree in number, code, entry bar and price, quantity, exit bar (the live
fill of a strategy exit is one bar after its signal bar), exit price and reason. The last
part shows the comparison can fail: with a take-profit of 3 % the backtester's exits
diverge from what the live engine did.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
from typing import Any

import pandas as pd

from kiwoom_terminal import krx
from kiwoom_terminal.backtest import BacktestConfig, FillModel
from kiwoom_terminal.backtest.runner import run_backtest
from kiwoom_terminal.backtest.server import ServerSource
from kiwoom_terminal.constants import Mode, Side
from kiwoom_terminal.decisions import ExitRules
from kiwoom_terminal.engine.status import OwnFill
from kiwoom_terminal.strategies.base import get_strategy
from tests.strategy_live.conftest import DEADLINE_MS
from tests.strategy_live.market import ScriptedMarket

A, B, C = "005930", "000270", "003550"  # 삼성전자, 기아, LG: one tick = 100 KRW at these prices
# Minute → price in ticks from ANCHOR ticks below the stock's base price (yesterday's close);
# None = no scripted print that minute. The day opens 2.9 % below yesterday's close: the
# scanner's history includes yesterday's bars (the backtester here sees today only), and
# from this far below no cross of the 2/3-bar averages can involve yesterday.
ANCHOR = -20
PATHS: dict[str, list[int | None]] = {
    #  09:00 :01 :02 :03 :04 | :05 = the engine's buy | :06 :07 :08 :09
    A: [0, -2, -4, -6, 0, None, -22],  # :06 gaps 3.3 % below the entry → stop-loss
    B: [0, -2, -4, -6, 0, None, 9, 34, 39, 23],  # armed at :07 (+3.3 %), high :08, -1.54 % at :09
    C: [0, -2, -4, -6, 0, None, 5, 8, 1],  # SMA2 crosses below SMA3 on the :08 bar (±0 %)
}
LAST_MINUTE = 10  # one more bar so the 09:09 bar completes and everything settles


@dataclasses.dataclass(frozen=True)
class Trade:
    code: str
    entry_bar: dt.datetime
    entry_price: int
    quantity: int
    exit_bar: dt.datetime
    exit_price: int
    reason: str


def test_live_engine_and_backtester_make_the_same_trades(
    frozen_sim: Any, strategy_engine: Any, qtbot: Any
) -> None:
    control = frozen_sim.control
    engine = strategy_engine(watchlist=(A, B, C))
    fills: list[OwnFill] = []
    engine.fill.connect(fills.append)
    market = ScriptedMarket(control, engine, qtbot)
    base = {code: int(control.quote(code)["base"]) for code in PATHS}
    for code in PATHS:
        control.set_crowd(code, 5_000)  # deep book: every order fills at the touch
    day = market.now().date()

    for minute in range(LAST_MINUTE + 1):
        market.go_to(dt.time(9, minute, 1))
        for code, path in PATHS.items():
            ticks = path[minute] if minute < len(path) else None
            if ticks is not None:
                market.print_trade(code, krx.step_price(base[code], ANCHOR + ticks))
    market.go_to(dt.time(9, LAST_MINUTE + 1, 1))
    assert not engine.ctx.positions, "every position should be closed by the scenario"

    live = live_trades(fills, engine)
    assert [t.code for t in live] == [A, B, C]
    assert [t.reason for t in live] == ["stop_loss", "trailing_stop", "strategy"]

    settings = engine.settings
    strategy = get_strategy("sma_cross", fast=2, slow=3)
    config = BacktestConfig(
        initial_cash=100_000_000,
        order_amount=settings.trading.buy_amount,
        fill=FillModel(entry="next_open", exit="trigger", slippage_ticks=0),
        exit_rules=ExitRules.from_settings(settings.trading, settings.fees),
        fees=krx.FeeSchedule(settings.fees.commission_rate, settings.fees.tax_rate),
    )
    source = ServerSource(engine.strategy.bars, Mode.SIM, None, today=lambda: day)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(
            run_backtest, source, list(PATHS), strategy, config, start=day, end=day, interval="1"
        )
        qtbot.waitUntil(future.done, timeout=DEADLINE_MS)
        result = future.result()
    assert engine.strategy.bars.requests == len(PATHS)  # through the engine, one query a code
    assert backtest_trades(result.trades) == live

    # The comparison can fail: a backtester whose exit rules diverged from the live ones.
    diverged = dataclasses.replace(
        config, exit_rules=dataclasses.replace(config.exit_rules, take_profit_pct=3.0)
    )
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(
            run_backtest, source, list(PATHS), strategy, diverged, start=day, end=day, interval="1"
        )
        qtbot.waitUntil(future.done, timeout=DEADLINE_MS)
        other = backtest_trades(future.result().trades)
    assert other != live
    assert [t.reason for t in other] == ["stop_loss", "take_profit", "strategy"]


def live_trades(fills: list[OwnFill], engine: Any) -> list[Trade]:
    """Round trips from the engine's own fills (one buy, one sell per code here)."""
    day = engine.strategy.day
    trades = []
    for code in sorted({f.code for f in fills}, key=list(PATHS).index):
        buys = [f for f in fills if f.code == code and f.side is Side.BUY]
        sells = [f for f in fills if f.code == code and f.side is Side.SELL]
        assert len(buys) == 1 and len(sells) == 1, f"{code}: {buys} {sells}"
        buy, sell = buys[0], sells[0]
        assert buy.quantity == sell.quantity
        reason = sell.purpose
        exit_bar = _bar(day, sell.time)
        if reason == "strategy":  # decided on the bar before (its SELL) — see the docstring
            exit_bar -= dt.timedelta(minutes=1)
        trades.append(
            Trade(code, _bar(day, buy.time), buy.price, buy.quantity, exit_bar, sell.price, reason)
        )
    return trades


def backtest_trades(frame: pd.DataFrame) -> list[Trade]:
    trades = [
        Trade(
            str(row.code),
            pd.Timestamp(row.entry_time).to_pydatetime(),
            int(row.entry_price),
            int(row.quantity),
            pd.Timestamp(row.exit_time).to_pydatetime(),
            int(row.exit_price),
            str(row.reason),
        )
        for row in frame.itertuples()
    ]
    return sorted(trades, key=lambda t: (t.entry_bar, list(PATHS).index(t.code)))


def _bar(day: dt.date, hhmmss: str) -> dt.datetime:
    """The start of the one-minute bar a server HHmmss stamp falls in."""
    return dt.datetime.combine(day, dt.time(int(hhmmss[:2]), int(hhmmss[2:4])))
