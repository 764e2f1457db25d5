"""Worker processes import no Qt (they run headless, spawned, on every platform): checked by
importing the worker modules in a plain interpreter, and inside real spawned workers that
served a request while their parent had Qt loaded, as the GUI process does."""

from __future__ import annotations

import multiprocessing
import queue
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kiwoom_terminal.api.token import SharedTokenStore
from kiwoom_terminal.messages import (
    CancelOrderRequest,
    ListConditions,
    OrderOutcome,
    OrderReply,
    QuoteQuery,
    Shutdown,
    TrReply,
    WsReply,
)
from kiwoom_terminal.objects import CancelRequest
from kiwoom_terminal.sim.launcher import SimulatorProcess
from tests.workers import spawn_probe
from tests.workers.conftest import sim_config

REPO = Path(__file__).resolve().parents[2]
ENTRIES = {  # the supervisor's process targets (workers/supervisor.py _TARGETS)
    "tr": "kiwoom_terminal.workers.tr_worker:run_tr_worker",
    "order": "kiwoom_terminal.workers.order_worker:run_order_worker",
    "ws": "kiwoom_terminal.workers.ws_worker:run_ws_worker",
}


def test_worker_modules_do_not_import_qt() -> None:
    code = (
        "import sys\n"
        "import kiwoom_terminal.workers.supervisor, kiwoom_terminal.workers.tr_worker\n"
        "import kiwoom_terminal.workers.order_worker, kiwoom_terminal.workers.ws_worker\n"
        "import kiwoom_terminal.messages, kiwoom_terminal.api.ws, kiwoom_terminal.api.trs\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PyQt5', 'pyqtgraph', 'pandas'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def _first(results: Any, predicate: Callable[[Any], bool], timeout: float = 30.0) -> Any:
    """The first message on `results` that satisfies `predicate` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no matching message from the worker")
        try:
            message = results.get(timeout=remaining)
        except queue.Empty:
            continue
        if predicate(message):
            return message


def test_spawned_workers_hold_no_qt_after_serving(api_sim: SimulatorProcess) -> None:
    pytest.importorskip("PyQt5.QtCore")  # the parent has Qt loaded, like the GUI process
    assert spawn_probe.loaded_qt()
    ctx = multiprocessing.get_context("spawn")  # what the supervisor uses on every platform
    config = sim_config(api_sim)
    store = SharedTokenStore(ctx)
    workers: dict[str, tuple[Any, Any, Any]] = {}
    try:
        for name, entry in ENTRIES.items():
            requests, results = ctx.Queue(), ctx.Queue()
            process = ctx.Process(
                target=spawn_probe.run_worker_and_report,
                args=(entry, config, requests, results, store),
                daemon=True,
            )
            process.start()
            workers[name] = (process, requests, results)
        # one real request each, so whatever serving imports lazily is loaded as well
        workers["tr"][1].put(QuoteQuery("005930"))
        workers["order"][1].put(CancelOrderRequest(CancelRequest("9999999", "005930")))
        workers["ws"][1].put(ListConditions())
        quote = _first(workers["tr"][2], lambda m: isinstance(m, TrReply))
        assert quote.ok and quote.data.price > 0, quote.error
        cancel = _first(workers["order"][2], lambda m: isinstance(m, OrderReply))
        assert cancel.outcome is OrderOutcome.REJECTED  # no such order: answered by the server
        conditions = _first(workers["ws"][2], lambda m: isinstance(m, WsReply))
        assert conditions.ok and conditions.data, conditions.error
        for _, requests, _ in workers.values():
            requests.put(Shutdown())
        reports = {
            name: _first(results, lambda m: isinstance(m, tuple) and m[0] == "loaded-qt")
            for name, (_, _, results) in workers.items()
        }
        assert {name: report[2] for name, report in reports.items()} == {
            name: [] for name in ENTRIES
        }
        for process, _, _ in workers.values():
            process.join(10)
            assert process.exitcode == 0
    finally:
        for process, _, _ in workers.values():
            if process.is_alive():
                process.kill()
                process.join(5)
