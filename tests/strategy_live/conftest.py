"""Fixtures for the strategy wiring tests: a simulator with a frozen clock that the tests
move minute by minute, real worker processes, and `TradingEngine`s with the scanner and the
schedule switched on.

* `frozen_sim` — one simulator per module, started at 09:00 with `--speed 0` (nothing moves
  unless a test advances the clock) and every stock paused (no random walk, no crowd
  trades): the only prints are the ones a test makes and the engine's own fills.
* `strategy_engine(**raw)` — a started engine (own data folder unless given), waiting for the
  start-up reconciliation; shut down at the end of the test.
* `market` — a `ScriptedMarket` over the simulator and the engine (tests/strategy_live/market.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiwoom_terminal.engine.engine import TradingEngine
from kiwoom_terminal.settings import AppSettings
from kiwoom_terminal.sim.launcher import SimulatorProcess, start_simulator
from kiwoom_terminal.workers.supervisor import WorkerSupervisor
from tests.engine.conftest import settings_from, worker_config

FROZEN_SIM = (
    "--seed",
    "5",
    "--speed",
    "0",
    "--start",
    "09:00",
    "--faults",
    "rate=200,global_rate=400",
    "--log-level",
    "WARNING",
)
DEADLINE_MS = 20_000

# The rules every scenario here is written against.
STRATEGY_SETTINGS: dict[str, str] = {
    "trading/buy_conditions": "",
    "trading/sell_conditions": "",
    "trading/buy_amount": "1000000",
    "trading/max_positions": "5",
    "trading/buy_order_type": "limit",
    "trading/buy_tick_offset": "0",
    "trading/sell_order_type": "market",
    "trading/stop_loss_pct": "-3",
    "trading/take_profit_pct": "10",
    "trading/trailing_arm_pct": "3",
    "trading/trailing_drop_pct": "1.5",
    "trading/profit_protect_trigger_pct": "0",
    "trading/liquidation_enabled": "false",
    "trading/trading_start": "00:00",
    "trading/trading_end": "23:59",
    "risk/daily_loss_limit": "0",
    "risk/max_orders_per_minute": "60",
    "amend/after_s": "60",
    "scanner/enabled": "true",
    "scanner/interval": "1",
    "scanner/strategies": "sma_cross",
    "scanner/strategy_params": "sma_cross fast=2 slow=3",
    "scanner/history_bars": "60",
    "scanner/requests_per_second": "20",
    "scanner/max_in_flight": "4",
    "scanner/check_ms": "100",
    # Per bar, as the backtester trades: a second BUY of the day reaches the engine's guards
    # (the re-buy block) and an afternoon SELL is not hidden by a morning one.
    "scanner/signal_dedup": "bar",
    "scanner/route_buy_signals": "true",
    "scanner/route_sell_signals": "true",
    "schedule/rules": "",
    "timers/snapshot_ms": "500",
}


def strategy_settings(**raw: str) -> AppSettings:
    """Default settings + STRATEGY_SETTINGS + `raw` (keys with `__` for `/`)."""
    return settings_from(STRATEGY_SETTINGS, **raw)


@pytest.fixture(scope="module")
def frozen_sim() -> Iterator[SimulatorProcess]:
    sim = start_simulator(*FROZEN_SIM)
    try:
        sim.control.pause()
        yield sim
    finally:
        sim.stop()


EngineFactory = Callable[..., TradingEngine]


@pytest.fixture
def strategy_engine(
    frozen_sim: SimulatorProcess, tmp_path: Path, qtbot: Any
) -> Iterator[EngineFactory]:
    engines: list[TradingEngine] = []

    def make(
        *,
        watchlist: tuple[str, ...] = (),
        auto_trade: bool = True,
        data_dir: Path | None = None,
        **raw: str,
    ) -> TradingEngine:
        folder = data_dir or tmp_path / f"data{len(engines)}"
        engine = TradingEngine(
            strategy_settings(**raw), WorkerSupervisor(worker_config(frozen_sim)), folder
        )
        engines.append(engine)
        for code in watchlist:
            if code not in engine.strategy.watchlist:
                engine.strategy.watchlist.add(code)
        engine.strategy.on_watchlist_edited()
        engine.start(auto_trade=auto_trade)
        qtbot.waitUntil(lambda: engine.status.ready, timeout=DEADLINE_MS)
        return engine

    yield make
    for engine in engines:
        engine.shutdown()
