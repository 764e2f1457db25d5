"""kill -9 of the terminal mid-position, then a restart: nothing is bought or sold twice and
the trailing stop's highest price since arming comes back from the snapshot.

The terminal runs as it does for a user, `python main.py --headless --auto-trade`, attached
to a simulator this test started (`--rest-url/--ws-url`), with its own settings file and
data folder. Everything is observed from outside: the simulator's account and orders, the
snapshot file and the journal database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from kiwoom_terminal.engine.journal import Journal, JournalKind
from kiwoom_terminal.engine.snapshot import SnapshotStore
from kiwoom_terminal.settings import AppSettings
from kiwoom_terminal.settings_store import save_to_file
from kiwoom_terminal.sim.launcher import SimulatorProcess, start_simulator
from tests.engine.conftest import FAST_SIM, MANUAL_CONDITION, at_least, at_most, settings_with

REPO = Path(__file__).resolve().parents[2]
CODE = "000660"


# The log of the terminal started last (start_terminal): a timeout shows its end, so a
# failure explains itself without the test folder (pytest keeps only the last three).
_last_log: list[Path] = []


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll outside state (another process's files, the simulator) with a deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}{_log_tail()}")
        time.sleep(0.05)


def _log_tail(lines: int = 40) -> str:
    if not _last_log or not _last_log[-1].exists():
        return ""
    tail = _last_log[-1].read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "\n--- terminal log (last lines) ---\n" + "\n".join(tail)


@pytest.fixture
def sim() -> Iterator[SimulatorProcess]:
    process = start_simulator(*FAST_SIM)
    try:
        yield process
    finally:
        process.stop()


class Setup(NamedTuple):
    """Where one test's terminal keeps its files."""

    settings: Path
    data: Path
    log: Path
    journal: Path


def set_up(sim: SimulatorProcess, tmp_path: Path, settings: AppSettings) -> tuple[Setup, int]:
    """Write the terminal's settings file and pin CODE at its base price (returned)."""
    paths = Setup(
        tmp_path / "settings.ini",
        tmp_path / "data",
        tmp_path / "terminal.log",
        tmp_path / "data" / "journal.sqlite3",
    )
    save_to_file(settings, paths.settings)
    control = sim.control
    return paths, control.set_price(CODE, int(control.quote(CODE)["base"]), pause=True)


def start_terminal(sim: SimulatorProcess, settings: Path, data: Path, log: Path) -> Any:
    _last_log.append(log)
    env = dict(os.environ, PYTHONUNBUFFERED="1", QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [
            sys.executable,
            str(REPO / "main.py"),
            "--headless",
            "--settings",
            str(settings),
            "--data-dir",
            str(data),
            "--rest-url",
            sim.rest_url,
            "--ws-url",
            sim.ws_url,
            "--auto-trade",
        ],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def reconciles(journal_path: Path) -> int:
    if not journal_path.exists():
        return 0
    journal = Journal(journal_path, writer=False)  # the terminal may be running
    try:
        return sum(
            1
            for e in journal.entries(kinds=[JournalKind.RECONCILE])
            if e.reason.startswith("계좌 재조정")
        )
    finally:
        journal.close()


def conditions_running(sim: SimulatorProcess) -> bool:
    return any(MANUAL_CONDITION in s["conditions"] for s in sim.control.state()["sessions"])


def snapshot_position(data: Path) -> dict[str, Any] | None:
    payload = SnapshotStore(data).load().payload
    if payload is None:
        return None
    for record in payload["positions"]:
        if record["code"] == CODE:
            return dict(record)
    return None


def account_qty(sim: SimulatorProcess) -> int:
    return sum(p["qty"] for p in sim.control.account()["positions"] if p["code"] == CODE)


def new_orders(sim: SimulatorProcess, side: str) -> list[dict[str, Any]]:
    return [
        o
        for o in sim.control.account()["orders"]
        if o["code"] == CODE and o["kind"] == "new" and o["side"] == side
    ]


def buy_and_arm(sim: SimulatorProcess, data: Path, journal_path: Path) -> tuple[int, int, int]:
    """In the first terminal: force the buy condition once it runs, wait for the fill, pin a
    new high 4 % over the average and wait until the snapshot holds the armed trailing stop.
    Returns (quantity, average price, high)."""
    control = sim.control
    wait_for(lambda: reconciles(journal_path) >= 1 and conditions_running(sim), "first start")
    control.condition(MANUAL_CONDITION, CODE, "add")
    wait_for(lambda: account_qty(sim) > 0, "the buy to fill")
    quantity = account_qty(sim)
    avg = int(control.account()["positions"][0]["avg_price"])
    high = at_least(avg, 4.0)
    control.set_price(CODE, high, pause=True)
    wait_for(
        lambda: (snapshot_position(data) or {}).get("high_since_arm") == high,
        "the armed trailing stop in the snapshot",
    )
    return quantity, avg, high


def test_kill_9_mid_position_then_restart(sim: SimulatorProcess, tmp_path: Path) -> None:
    (settings_path, data, log, journal_path), base = set_up(sim, tmp_path, settings_with())
    control = sim.control

    first = start_terminal(sim, settings_path, data, log)
    try:
        quantity, avg, high = buy_and_arm(sim, data, journal_path)
        assert avg >= base
        first.kill()  # SIGKILL: no clean-up, no final snapshot
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode != 0

    second = start_terminal(sim, settings_path, data, log)
    try:
        wait_for(lambda: reconciles(journal_path) >= 2 and conditions_running(sim), "the restart")
        # A fresh 편입 of the held stock must not buy again.
        control.condition(MANUAL_CONDITION, CODE, "remove")
        control.condition(MANUAL_CONDITION, CODE, "add")
        # Below the restored trailing stop (high × 0.985) but under the arm level too: only
        # the restored high can sell here.
        low = at_most(high, -1.6)
        assert low < avg * 1.03
        control.set_price(CODE, low, pause=True)
        wait_for(lambda: account_qty(sim) == 0, "the trailing-stop sell after the restart")
        journal = Journal(journal_path, writer=False)  # the terminal is running
        try:

            def decided() -> list[Any]:
                return [
                    e
                    for e in journal.entries(code=CODE, kinds=[JournalKind.DECISION])
                    if e.detail.get("refusal") == "held" or e.detail.get("refusal") == "tracked"
                ]

            wait_for(lambda: bool(decided()), "the skipped re-buy in the journal")
            sells = [
                e
                for e in journal.entries(code=CODE, kinds=[JournalKind.DECISION])
                if e.side == "sell"
            ]
        finally:
            journal.close()
    finally:
        second.terminate()
        second.wait(20)
    assert len(new_orders(sim, "buy")) == 1
    assert len(new_orders(sim, "sell")) == 1
    assert new_orders(sim, "sell")[0]["qty"] == quantity
    assert len(sells) == 1
    assert sells[0].detail["purpose"] == "trailing_stop"
    assert sells[0].detail["high_since_arm"] == high
    assert second.returncode == 0, log.read_text(errors="replace")[-3000:]
    assert "Traceback" not in log.read_text(errors="replace")


def test_kill_9_between_two_snapshots_keeps_the_new_position_managed(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """The buy is sent and filled after the last snapshot (taken when the engine got ready;
    the next one is an hour away), then kill -9: the restart finds the order in the journal,
    so the position is managed — its stop-loss sells it — and is not bought again."""
    settings = settings_with(timers__snapshot_ms="3600000")
    (settings_path, data, log, journal_path), _ = set_up(sim, tmp_path, settings)
    control = sim.control

    first = start_terminal(sim, settings_path, data, log)
    try:
        wait_for(lambda: reconciles(journal_path) >= 1 and conditions_running(sim), "first start")
        wait_for(lambda: SnapshotStore(data).load().payload is not None, "the start-up snapshot")
        assert snapshot_position(data) is None
        control.condition(MANUAL_CONDITION, CODE, "add")
        wait_for(lambda: account_qty(sim) > 0, "the buy to fill")
        first.kill()
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert snapshot_position(data) is None  # the snapshot never saw this position
    quantity = account_qty(sim)
    avg = int(control.account()["positions"][0]["avg_price"])

    second = start_terminal(sim, settings_path, data, log)
    try:
        wait_for(lambda: reconciles(journal_path) >= 2 and conditions_running(sim), "the restart")
        control.condition(MANUAL_CONDITION, CODE, "remove")
        control.condition(MANUAL_CONDITION, CODE, "add")
        control.set_price(CODE, at_most(avg, -4.0), pause=True)  # under the -3 % stop-loss
        wait_for(lambda: account_qty(sim) == 0, "the stop-loss sell after the restart")
    finally:
        second.terminate()
        second.wait(20)
    assert len(new_orders(sim, "buy")) == 1
    assert [o["qty"] for o in new_orders(sim, "sell")] == [quantity]
    assert "복원(저널)" in log.read_text(errors="replace")
    assert second.returncode == 0, log.read_text(errors="replace")[-3000:]


def test_kill_9_with_a_sell_resting_then_restart_never_sells_twice(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """The trailing stop's limit sell rests unfilled when the terminal is killed; after the
    restart a further fall must not send a second sell, and the first one still fills."""
    settings = settings_with(trading__sell_order_type="limit", trading__sell_tick_offset="5")
    (settings_path, data, log, journal_path), _ = set_up(sim, tmp_path, settings)
    control = sim.control

    first = start_terminal(sim, settings_path, data, log)
    try:
        quantity, _, high = buy_and_arm(sim, data, journal_path)
        control.set_price(CODE, at_most(high, -1.6), pause=True)  # the trailing stop fires
        wait_for(lambda: len(new_orders(sim, "sell")) == 1, "the limit sell")
        (resting,) = new_orders(sim, "sell")
        assert resting["remaining"] == quantity  # 5 ticks over the bid: it waits
        first.kill()
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()

    second = start_terminal(sim, settings_path, data, log)
    try:
        wait_for(lambda: reconciles(journal_path) >= 2 and conditions_running(sim), "the restart")
        lower = at_most(high, -2.5)  # still under the stop: only sell_pending holds it back
        control.set_price(CODE, lower, pause=True)
        wait_for(lambda: (snapshot_position(data) or {}).get("price") == lower, "the new low seen")
        assert len(new_orders(sim, "sell")) == 1
        control.set_price(CODE, int(resting["price"]), pause=True)  # buyers reach the limit
        wait_for(lambda: account_qty(sim) == 0, "the resting sell to fill")
        wait_for(lambda: snapshot_position(data) is None, "the position closed")
    finally:
        second.terminate()
        second.wait(20)
    assert len(new_orders(sim, "buy")) == 1
    assert len(new_orders(sim, "sell")) == 1
    assert second.returncode == 0, log.read_text(errors="replace")[-3000:]
