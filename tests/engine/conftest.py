"""Fixtures for the engine tests: a real simulator (subprocess, port 0), real worker
processes, and a `TradingEngine` driven through the simulator's control API.

* `engine_sim` — one simulator per test module (about a second to start). Tests use
  different stock codes so their orders and prices never meet; the engine under test has
  its own data folder, so its ledger and journal start empty.
* `make_engine(settings_overrides)` — a started engine with its own supervisor, stopped at
  the end of the test; it returns once the start-up reconciliation is done.
* `settings_with(**raw)` — default settings with `section/name` overrides (raw INI text).

Waiting is done on engine state through `qtbot.waitUntil` (it runs the Qt event loop, so
the engine's timers and notifier fire meanwhile) or on simulator state through
`SimControl.wait_for`; never by sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiwoom_terminal import krx
from kiwoom_terminal.api.ratelimit import RateLimit
from kiwoom_terminal.api.ws import WsClientConfig
from kiwoom_terminal.constants import Mode
from kiwoom_terminal.engine.engine import TradingEngine
from kiwoom_terminal.engine.journal import JournalEntry, JournalKind
from kiwoom_terminal.secrets import sim_credentials
from kiwoom_terminal.settings import AppSettings, replace_setting
from kiwoom_terminal.sim.control import SimControl
from kiwoom_terminal.sim.launcher import SimulatorProcess, start_simulator
from kiwoom_terminal.workers.config import WorkerConfig
from kiwoom_terminal.workers.supervisor import WorkerSupervisor

# Simulator quotas raised so tests are not slowed by them (limits are the api tests' job).
FAST_SIM = ("--seed", "3", "--faults", "rate=200,global_rate=400", "--log-level", "WARNING")
MANUAL_CONDITION = "4"  # the simulator's condition that only forcing moves
DEADLINE_MS = 20_000

# Exit and buy rules the scenarios are written against (prices are set relative to the
# average price the engine reports, so the exact fill price does not matter).
BASE_SETTINGS: dict[str, str] = {
    "trading/buy_conditions": MANUAL_CONDITION,
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
    "trading/trading_start": "00:00",
    "trading/trading_end": "23:59",
    "risk/daily_loss_limit": "0",
    "risk/max_orders_per_minute": "60",
    "amend/after_s": "30",
    "timers/snapshot_ms": "500",
}


def settings_from(base: dict[str, str], **raw: str) -> AppSettings:
    """Default settings plus `base` plus `raw` (keys with `__` for `/`)."""
    settings = AppSettings()
    merged = dict(base)
    merged.update({k.replace("__", "/"): v for k, v in raw.items()})
    for key, value in merged.items():
        settings = replace_setting(settings, key, value)
    return settings


def settings_with(**raw: str) -> AppSettings:
    """Default settings plus BASE_SETTINGS plus `raw` (keys with `__` for `/`)."""
    return settings_from(BASE_SETTINGS, **raw)


def worker_config(sim: SimulatorProcess) -> WorkerConfig:
    return WorkerConfig(
        mode=Mode.SIM,
        rest_url=sim.rest_url,
        ws_url=sim.ws_url,
        credentials=sim_credentials(),
        query_limit=RateLimit(50.0),
        order_limit=RateLimit(50.0),
        ws=WsClientConfig(min_backoff_s=0.1, max_backoff_s=0.5, stable_after_s=1.0),
        log_level="WARNING",
    )


@pytest.fixture(scope="module")
def engine_sim() -> Iterator[SimulatorProcess]:
    sim = start_simulator(*FAST_SIM)
    try:
        yield sim
    finally:
        sim.stop()


EngineFactory = Callable[..., TradingEngine]


@pytest.fixture
def make_engine(
    engine_sim: SimulatorProcess, tmp_path: Path, qtbot: Any
) -> Iterator[EngineFactory]:
    engines: list[TradingEngine] = []

    def make(
        settings: AppSettings | None = None,
        *,
        auto_trade: bool = True,
        data_dir: Path | None = None,
    ) -> TradingEngine:
        supervisor = WorkerSupervisor(worker_config(engine_sim))
        engine = TradingEngine(
            settings or settings_with(), supervisor, data_dir or tmp_path / f"data{len(engines)}"
        )
        engines.append(engine)
        engine.start(auto_trade=auto_trade)
        qtbot.waitUntil(lambda: engine.status.ready, timeout=DEADLINE_MS)
        if auto_trade:
            qtbot.waitUntil(lambda: bool(engine.autotrader.buy_conditions), timeout=DEADLINE_MS)
        return engine

    yield make
    for engine in engines:
        engine.shutdown()


@pytest.fixture
def control(engine_sim: SimulatorProcess) -> SimControl:
    return engine_sim.control


# --- helpers --------------------------------------------------------------------------


def journal_entries(engine: TradingEngine, code: str, *kinds: JournalKind) -> list[JournalEntry]:
    return engine.journal.entries(code=code, kinds=kinds or None)


def position(engine: TradingEngine, code: str) -> Any:
    return engine.ctx.positions.get(code)


def held_quantity(control: SimControl, code: str) -> int:
    for row in control.account()["positions"]:
        if row["code"] == code:
            return int(row["qty"])
    return 0


def orders_for(control: SimControl, code: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        o
        for o in control.account()["orders"]
        if o["code"] == code and (kind is None or o["kind"] == kind)
    ]


def pin(control: SimControl, code: str) -> int:
    """Stop the random walk of `code` at its base price (on the grid); returns the price."""
    price = int(control.quote(code)["base"])
    return control.set_price(code, price, pause=True)


def bought(engine: TradingEngine, code: str) -> bool:
    """The engine holds `code` and no buy of it is pending any more."""
    held = position(engine, code)
    return held is not None and held.held and not held.buy_pending


def ticks_registered(control: SimControl, code: str) -> bool:
    """The simulator pushes `code`'s trades (0B) to some session: a price set from now on
    reaches the engine."""
    suffix = f"{code}:0B"
    return any(r.endswith(suffix) for s in control.state()["sessions"] for r in s["registrations"])


def buy_via_condition(engine: TradingEngine, control: SimControl, qtbot: Any, code: str) -> Any:
    """Pin `code`, force it into the buy condition, wait for the filled position and for
    its ticks to be registered; returns the engine's position.

    The engine subscribes a position's ticks when it starts tracking it, and the fill can
    come back before the simulator has read that REG: a price set in between, with the walk
    paused, would never reach the engine."""
    pin(control, code)
    control.condition(MANUAL_CONDITION, code, "add")
    qtbot.waitUntil(lambda: bought(engine, code), timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: ticks_registered(control, code), timeout=DEADLINE_MS)
    return position(engine, code)


def at_least(avg: int, pct: float) -> int:
    """The lowest grid price whose return on `avg` is at least `pct` percent."""
    return krx.round_up_to_tick(math.ceil(avg * (100 + pct) / 100))


def at_most(avg: int, pct: float) -> int:
    """The highest grid price whose return on `avg` is at most `pct` percent."""
    return krx.round_down_to_tick(math.floor(avg * (100 + pct) / 100))
