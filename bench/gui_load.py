"""GUI under load: the terminal window open with 100 tracked stocks while the simulator
trades them at 5,000 ticks/s.

Set-up: the simulator (child process) holds 100 positions; the terminal — the real window,
`TradingEngine` and worker processes, built exactly as `python main.py` builds them
(`ui.app.build_terminal`), offscreen — adopts them (`adopt_holdings`), so the 실시간 추적
table has 100 rows whose prices move, and one of them is selected (chart, order book and
주문 panel live). Exit rules are set far away so nothing is sold during the run. Then the
simulator's crowd trades the 100 stocks at `--rate` ticks/s for `--seconds`.

Measured in the GUI process:
* CPU: process time of the GUI process (all its threads) over wall time, 100 % = one core;
  the worker processes' CPU from /proc where available.
* Event-loop stall: a 5 ms QTimer; a stall is how late a timeout fires (p99, max).
* Tick-to-cell latency: from a trade's arrival in the WebSocket worker (`TickData.
  received_at`) to the 실시간 추적 table showing it (or a newer price of that stock): the
  first refresh of the view from an engine table built after the tick (see `CellProbe`).
* Cell refresh rate: how often the table's cells are refreshed from new engine data, and
  how often each row's 현재가 actually changes (mean over the rows, 10th percentile row).

    .venv/bin/python bench/gui_load.py [--seconds 60] [--rate 5000] [--stocks 100]

Prints `name: value unit` lines, the headline (tick-to-cell p99, target: cells refreshed at
least 10 times a second, stalls < 50 ms) last; exits 0 whether or not a target is met.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchlib import load_average, percentile  # noqa: E402
from PyQt5.QtCore import QEvent, QModelIndex, QObject, QTimer  # noqa: E402
from PyQt5.QtWidgets import QApplication  # noqa: E402

from kiwoom_terminal.constants import Market  # noqa: E402
from kiwoom_terminal.messages import TickBatch, WorkerKind  # noqa: E402
from kiwoom_terminal.settings import AppSettings, replace_setting  # noqa: E402
from kiwoom_terminal.settings_store import save_to_file  # noqa: E402
from kiwoom_terminal.sim.launcher import start_simulator  # noqa: E402
from kiwoom_terminal.sim.listings import LISTINGS  # noqa: E402

STALL_TIMER_MS = 5
STALL_TARGET_MS = 50.0
REFRESH_TARGET_HZ = 10.0
SETTINGS = {
    "trading/adopt_holdings": "true",
    "trading/stop_loss_pct": "-90",
    "trading/take_profit_pct": "0",
    "trading/trailing_arm_pct": "500",
    "trading/profit_protect_trigger_pct": "0",
    "trading/exits_when_auto_off": "false",
    "sim/orders_per_second": "50",
    "sim/queries_per_second": "50",
    "general/log_level": "WARNING",
}


def wait_until(app: QApplication, predicate: Any, what: str, timeout: float = 90.0) -> None:
    """Run the event loop until `predicate()` (the engine works meanwhile)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.005)


def children_cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of other processes (Linux /proc; 0 elsewhere)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


class StallMeter(QObject):
    """A 5 ms timer; how late each timeout fires is the event loop's stall."""

    def __init__(self) -> None:
        super().__init__()
        self.lateness_ms: list[float] = []
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(STALL_TIMER_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.lateness_ms.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness_ms.append(max(0.0, (now - self._last) * 1000.0 - STALL_TIMER_MS))
        self._last = now


class CellProbe(QObject):
    """Tick arrivals (wrapping the supervisor's poll) against the 실시간 추적 table.

    A tick is included in the engine's table when the engine flushes `tracking` after
    having polled it (the engine handles ticks as it polls them); it is on screen when the
    view next refreshes from that table (`TableView.flush`: the model serves the new values
    and the viewport repaints on the next paint event). Its latency is that refresh time
    minus `received_at`. A tick whose price is superseded before the refresh counts as
    shown by the newer price, as a user sees it.
    """

    def __init__(self, engine: Any, view: Any) -> None:
        super().__init__()
        self.view = view
        self.model = view.model
        self.price_column = self.model.column_of("price")
        self.pending: list[float] = []  # received_at of ticks polled, not yet in a table
        self.included: list[float] = []  # in the engine's table, not yet on screen
        self.latencies_ms: list[float] = []
        self.queue_ms: list[float] = []  # worker parse → the engine polls it
        self.changes: dict[str, int] = defaultdict(int)
        self.view_refreshes = 0
        self.ticks = 0
        self.paints = 0
        self.recording = False
        self.lock = threading.Lock()
        supervisor = engine.supervisor
        original_poll = supervisor.poll

        def poll(kind: Any = None, max_items: int | None = None) -> list[Any]:
            # Runs in the engine's thread (engine/thread.py); the window's thread takes
            # `pending` over when the table arrives, so both hold the lock.
            messages = original_poll(kind, max_items)
            if self.recording:
                for message in messages:
                    if isinstance(message, TickBatch):
                        now = time.time()
                        with self.lock:
                            self.pending.extend(t.received_at for t in message.ticks)
                        self.queue_ms.extend((now - t.received_at) * 1000.0 for t in message.ticks)
                        self.ticks += len(message.ticks)
            return messages

        supervisor.poll = poll
        # The tables reach the view through `window.on_table_changed` (EngineLink); wrap it
        # so the ticks are marked as included before the view refreshes from them.
        window = view.window()
        original_changed = window.on_table_changed

        def on_table_changed(name: str, keys: Any) -> None:
            self._on_table_changed(name, keys)
            original_changed(name, keys)

        window.on_table_changed = on_table_changed
        original_flush = view.flush

        def flush() -> None:
            original_flush()
            if self.recording and self.included:
                now = time.time()
                self.latencies_ms.extend((now - r) * 1000.0 for r in self.included)
                self.included.clear()
                self.view_refreshes += 1

        view.flush = flush  # the view's throttle looks `flush` up when it runs
        self.model.dataChanged.connect(self._on_changed)
        view.table.viewport().installEventFilter(self)

    def _on_table_changed(self, name: str, _keys: Any) -> None:
        # Ticks polled after the engine built this table but before its signal arrived here
        # count as included: at most one drain early, a fraction of a millisecond.
        if name == "tracking":
            with self.lock:
                pending, self.pending = self.pending, []
            self.included.extend(pending)

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if self.recording and event is not None and event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False

    def _on_changed(self, top: QModelIndex, bottom: QModelIndex, _roles: Any) -> None:
        if self.recording and top.column() <= self.price_column <= bottom.column():
            for row in range(top.row(), bottom.row() + 1):
                self.changes[self.model.key_at(row)] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured run length")
    parser.add_argument("--rate", type=int, default=5000, help="crowd ticks per second")
    parser.add_argument("--stocks", type=int, default=100, help="tracked stocks")
    args = parser.parse_args()

    from kiwoom_terminal.engine.launch import prepare
    from ui.app import build_terminal, create_application

    app = create_application()
    work = Path(tempfile.mkdtemp(prefix="gui_load-"))
    sim = start_simulator(
        "--seed", "5", "--faults", "rate=500,global_rate=1000", "--log-level", "WARNING"
    )
    terminal = None
    try:
        control = sim.control
        control.set_tick_rate(0)
        codes = [x.code for x in LISTINGS if x.market is not Market.ETF][: args.stocks]
        control.set_account(
            cash=1_000_000_000,
            holdings=[
                {"code": c, "qty": 10, "avg_price": int(control.quote(c)["base"])} for c in codes
            ],
        )
        settings = AppSettings()
        for key, value in SETTINGS.items():
            settings = replace_setting(settings, key, value)
        save_to_file(settings, work / "settings.ini")
        launch = prepare(  # what main.py does with --settings … --rest-url … --ws-url …
            argparse.Namespace(
                settings=work / "settings.ini",
                data_dir=work / "data",
                mode=None,
                rest_url=sim.rest_url,
                ws_url=sim.ws_url,
                confirm_real=False,
            )
        )
        terminal = build_terminal(
            launch.settings,
            launch.worker_config,
            launch.data_dir,
            settings_path=None,
            state_path=work / "window-state.ini",
        )
        window, engine = terminal.window, terminal.engine
        tracking = window.views["tracking"]
        probe = CellProbe(engine, tracking)
        terminal.start()
        window.docks["dock_tracking"].raise_()  # the measured table is the one on screen
        wait_until(app, lambda: engine.status.ready, "the start-up reconciliation")
        wait_until(
            app, lambda: tracking.model.rowCount() >= len(codes), f"{len(codes)} tracked rows"
        )
        wait_until(app, lambda: window.order_entry.known_stocks() > 0, "the stock list")
        window.order_entry.select_stock(codes[0], move_focus=False)
        control.set_tick_rate(args.rate)
        settle = time.monotonic() + 3.0
        wait_until(app, lambda: time.monotonic() > settle, "the feed to settle")

        stall = StallMeter()
        workers = [p for p in (engine.supervisor.pid(k) for k in WorkerKind) if p]
        entries0 = sum(int(s["entries"]) for s in control.state()["sessions"])
        cpu0, wall0, child0 = time.process_time(), time.perf_counter(), children_cpu_s(workers)
        probe.recording = True
        stall.start()
        end = time.monotonic() + args.seconds
        wait_until(app, lambda: time.monotonic() > end, "the run", timeout=args.seconds + 30)
        stall.stop()
        probe.recording = False
        wall = time.perf_counter() - wall0
        cpu = (time.process_time() - cpu0) / wall * 100.0
        child = (children_cpu_s(workers) - child0) / wall * 100.0
        entries = sum(int(s["entries"]) for s in control.state()["sessions"]) - entries0

        rates = sorted(probe.changes.get(c, 0) / wall for c in codes)
        print(f"stocks_tracked: {tracking.model.rowCount()} rows")
        print(f"feed_rate: {entries / wall:.0f} entries/s")
        print(f"ticks_received_by_gui: {probe.ticks / wall:.0f} ticks/s")
        print(f"gui_process_cpu: {cpu:.0f} %")
        print(f"worker_processes_cpu: {child:.0f} %")
        print(f"event_loop_stall_p50: {percentile(stall.lateness_ms, 50):.1f} ms")
        print(f"event_loop_stall_p99: {percentile(stall.lateness_ms, 99):.1f} ms")
        print(f"event_loop_stall_max: {max(stall.lateness_ms, default=float('nan')):.1f} ms")
        refreshes = probe.view_refreshes / wall
        print(f"tracking_view_repaints: {probe.paints / wall:.1f} per s")
        print(f"price_cell_changes: {sum(rates) / len(rates):.1f} per s per stock (mean)")
        print(f"price_cell_changes_p10_stock: {percentile(rates, 10):.1f} per s")
        print(f"cell_refresh_rate: {refreshes:.1f} per s")
        print(f"worker_to_engine_p50: {percentile(probe.queue_ms, 50):.1f} ms")
        print(f"worker_to_engine_p99: {percentile(probe.queue_ms, 99):.1f} ms")
        print(f"tick_to_cell_p50: {percentile(probe.latencies_ms, 50):.0f} ms")
        load = load_average()
        print(f"load_average: {load:.1f} runnable processes (2 cores)")
        stalled = percentile(stall.lateness_ms, 99) >= STALL_TARGET_MS
        slow = refreshes < REFRESH_TARGET_HZ
        if stalled or slow:
            print(
                f"targets_missed: {'stall ' if stalled else ''}{'refresh' if slow else ''}".strip()
                + " (stall p99 < 50 ms, ≥ 10 refreshes/s)"
            )
        print(f"tick_to_cell_p99: {percentile(probe.latencies_ms, 99):.0f} ms")
    finally:
        if terminal is not None:
            terminal.close()
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
