"""A scripted day from a scenario file (tests/data/scenarios/trailing_stop_day.json) through
the real simulator, real workers and the engine: the stock enters the buy condition at 3 s,
rises 5 % by 15 s and falls to 1.5 % under its top by 20 s, so the trailing stop (armed at
+3 %, drop 1.5 %) sells it. The simulated clock moves only when the test advances it
(`--speed 0`), so the day plays the same on any machine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiwoom_terminal.engine.engine import TradingEngine
from kiwoom_terminal.engine.journal import JournalKind
from kiwoom_terminal.sim.launcher import SimulatorProcess, start_simulator
from kiwoom_terminal.workers.supervisor import WorkerSupervisor
from tests.engine.conftest import (
    DEADLINE_MS,
    bought,
    journal_entries,
    position,
    settings_with,
    worker_config,
)

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "trailing_stop_day.json"
CODE = "006400"


@pytest.fixture
def scenario_sim() -> Iterator[SimulatorProcess]:
    sim = start_simulator(
        "--scenario", str(SCENARIO), "--speed", "0", "--faults", "rate=200,global_rate=400",
        "--log-level", "WARNING",
    )  # fmt: skip
    try:
        yield sim
    finally:
        sim.stop()


def test_scenario_day_buy_arm_and_trailing_stop(
    scenario_sim: SimulatorProcess, tmp_path: Path, qtbot
) -> None:
    control = scenario_sim.control
    engine = TradingEngine(
        settings_with(), WorkerSupervisor(worker_config(scenario_sim)), tmp_path / "data"
    )
    try:
        engine.start(auto_trade=True)
        qtbot.waitUntil(lambda: engine.status.ready, timeout=DEADLINE_MS)
        qtbot.waitUntil(lambda: bool(engine.autotrader.buy_conditions), timeout=DEADLINE_MS)
        control.advance(3)  # 편입
        qtbot.waitUntil(lambda: bought(engine, CODE), timeout=DEADLINE_MS)
        avg = position(engine, CODE).avg_price
        assert 249_000 <= avg <= 251_000
        control.advance(12)  # to the top, +5 %
        qtbot.waitUntil(lambda: position(engine, CODE).exit_state.armed, timeout=DEADLINE_MS)
        qtbot.waitUntil(
            lambda: position(engine, CODE).exit_state.high_since_arm == 262_500,
            timeout=DEADLINE_MS,
        )
        control.advance(5)  # 1.5 % under the top
        qtbot.waitUntil(lambda: position(engine, CODE) is None, timeout=DEADLINE_MS)
        decisions = journal_entries(engine, CODE, JournalKind.DECISION)
    finally:
        engine.shutdown()
    orders = [o for o in control.account()["orders"] if o["code"] == CODE and o["kind"] == "new"]
    assert [o["side"] for o in orders] == ["buy", "sell"]
    assert not [p for p in control.account()["positions"] if p["code"] == CODE]
    sell = [d for d in decisions if d.side == "sell"]
    assert len(sell) == 1 and sell[0].detail["purpose"] == "trailing_stop"
    assert sell[0].detail["high_since_arm"] == 262_500 and "트레일링" in sell[0].reason
