"""The WebSocket worker gives its core back to a busy engine (workers/ws_worker.py): once
per frame of ticks while the supervisor's busy byte is set, never while it is clear; and
the supervisor hands that byte to every WebSocket worker it spawns."""

from __future__ import annotations

import ctypes
import queue
from types import SimpleNamespace

import pytest

from kiwoom_terminal.constants import Venue
from kiwoom_terminal.messages import TickBatch, WorkerKind
from kiwoom_terminal.objects import TickData
from kiwoom_terminal.sim.launcher import SimulatorProcess
from kiwoom_terminal.workers import ws_worker
from kiwoom_terminal.workers.supervisor import WorkerSupervisor
from kiwoom_terminal.workers.ws_worker import WsWorker
from tests.workers.conftest import sim_config


def _tick(received_at: float, price: int = 70_000) -> TickData:
    return TickData(
        "005930",
        Venue.KRX,
        "090000",
        price,
        0,
        0.0,
        1,
        1,
        price,
        price,
        price,
        price,
        price,
        received_at,
    )


def test_one_yield_per_frame_while_the_engine_is_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    yields: list[float] = []
    monkeypatch.setattr(ws_worker, "_yield", lambda: yields.append(0.0))
    busy = ctypes.c_byte(0)  # stands in for the supervisor's shared RawValue
    # No connection is made until the worker's loop runs; these addresses are never used.
    config = sim_config(SimpleNamespace(rest_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9"))
    results: queue.Queue[object] = queue.Queue()
    worker = WsWorker(config, results, engine_busy=busy)

    for tick in (_tick(1.0), _tick(1.0)):  # a frame while the engine is idle
        worker.on_tick(tick)
    assert yields == []

    busy.value = 1
    for tick in (_tick(2.0), _tick(2.0), _tick(2.0)):  # one frame of three ticks
        worker.on_tick(tick)
    assert len(yields) == 1
    worker.on_tick(_tick(3.0))  # the next frame
    assert len(yields) == 2 and worker.yields_to_engine == 2

    busy.value = 0
    worker.on_tick(_tick(4.0))
    assert len(yields) == 2
    # Giving way holds nothing back: every tick still reaches the engine, in order.
    delivered = []
    while not results.empty():
        message = results.get_nowait()
        if isinstance(message, TickBatch):
            delivered += [t.received_at for t in message.ticks]
    assert delivered == [1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 4.0]


def test_the_websocket_worker_is_spawned_with_the_busy_byte(fresh_sim: SimulatorProcess) -> None:
    with WorkerSupervisor(sim_config(fresh_sim), kinds=(WorkerKind.WS,)) as sup:
        slot = sup._slots[WorkerKind.WS]
        assert slot.process is not None and slot.process.is_alive()
        args = sup._worker_args(slot)
        # run_ws_worker(config, requests, results, token_store, subscriptions, engine_busy)
        assert len(args) == 6 and args[-1] is sup.engine_busy
        assert sup.engine_busy.value == 0  # no engine is draining
