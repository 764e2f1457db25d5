"""Fixtures for the end-to-end GUI tests: the real window, the real `TradingEngine`, real
worker processes and the real simulator (subprocess, port 0), Qt offscreen.

Why each exists:
- `gui_sim` — one simulator per test module (a second to start); tests drive prices and
  read the account through its control API. Its quotas are raised so rate limits never slow
  a test (limits are the api tests' job).
- `launch_for(sim, tmp)` — what `main.py` prepares (`engine.launch.prepare`): settings read
  from a file in the test's folder, the worker configuration for the simulator's URLs, the
  data folder. Tests build the terminal from it with `ui.app.build_terminal`, the same
  construction `python main.py` uses, so the wiring under test is the shipped one.
- `open_terminal(launch)` — builds, shows and starts a terminal and waits until the window
  shows a reconciled engine with its stock list; every terminal is closed at the end (the
  window saves its layout, the engine shuts down and stops its workers).
- `themed_app` / `no_collection_during_tests` — as in tests/ui/conftest.py (the terminal's
  font and style; no cycle collection inside a paint event).

Waiting is done with `qtbot.waitUntil` / `waitSignal` (they run the event loop, so the
engine's timers fire meanwhile) with generous deadlines; nothing sleeps.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication

from kiwoom_terminal.engine.launch import Launch, prepare
from kiwoom_terminal.settings import AppSettings, replace_setting
from kiwoom_terminal.settings_store import save_to_file
from kiwoom_terminal.sim.launcher import SimulatorProcess, start_simulator
from tests.ui.conftest import no_collection_during_tests, themed_app
from ui.app import Terminal, build_terminal, window_state_path

__all__ = ["no_collection_during_tests", "themed_app"]

DEADLINE_MS = 30_000
SIM_ARGS = ("--seed", "3", "--faults", "rate=200,global_rate=400", "--log-level", "WARNING")
# Quotas of the terminal's own limiters raised like the simulator's.
FAST_LIMITS = {"sim/queries_per_second": "50", "sim/orders_per_second": "50"}


@pytest.fixture(scope="module")
def gui_sim() -> Iterator[SimulatorProcess]:
    sim = start_simulator(*SIM_ARGS)
    try:
        yield sim
    finally:
        sim.stop()


def write_settings(path: Path, **raw: str) -> Path:
    """A settings file: defaults, FAST_LIMITS, then `raw` (keys with `__` for `/`)."""
    settings = AppSettings()
    merged = dict(FAST_LIMITS)
    merged.update({k.replace("__", "/"): v for k, v in raw.items()})
    for key, value in merged.items():
        settings = replace_setting(settings, key, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_to_file(settings, path)
    return path


def launch_for(sim: SimulatorProcess, folder: Path, **raw: str) -> Launch:
    """`prepare()` as main.py runs it, attached to `sim`, with files under `folder`
    (the settings file is written on the first call and reused afterwards)."""
    settings = folder / "settings.ini"
    if not settings.exists():
        write_settings(settings, **raw)
    args = argparse.Namespace(
        settings=settings,
        data_dir=folder / "data",
        mode=None,
        rest_url=sim.rest_url,
        ws_url=sim.ws_url,
        confirm_real=False,
    )
    return prepare(args)


@pytest.fixture
def check_model(request: Any) -> Iterator[Callable[[Any], None]]:
    """`check_model(model)`: pytest-qt's model tester, one per model. A `ModelTester`
    follows the model it checked last, so one shared tester would check the signals of an
    earlier model against the state of a later one. Each tester keeps checking its model's
    every change until the test ends, so the models are also checked while they update."""
    from pytestqt.modeltest import ModelTester

    testers: list[Any] = []

    def check(model: Any) -> None:
        tester = ModelTester(request.config)
        testers.append(tester)
        tester.check(model, force_py=True)

    yield check
    for tester in testers:
        tester._cleanup()


OpenTerminal = Callable[..., Terminal]


@pytest.fixture
def open_terminal(qtbot: Any) -> Iterator[OpenTerminal]:
    terminals: list[Terminal] = []

    def open_(launch: Launch, *, auto_trade: bool = False) -> Terminal:
        terminal = build_terminal(
            launch.settings,
            launch.worker_config,
            launch.data_dir,
            settings_path=launch.settings_path,
            state_path=window_state_path(launch.settings_path),
        )
        terminals.append(terminal)
        terminal.start(auto_trade=auto_trade)
        window = terminal.window
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=DEADLINE_MS)
        qtbot.waitUntil(
            lambda: terminal.engine.status.ready and window.order_entry.known_stocks() > 0,
            timeout=DEADLINE_MS,
        )
        return terminal

    yield open_
    for terminal in terminals:
        terminal.close()


def press(
    qtbot: Any, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """A key press where the keyboard focus is, as the user's keyboard would deliver it.

    The event loop runs once after it, as between a user's keystrokes: the offscreen
    platform queues window activations (a completion list showing or hiding), and a later
    wait would otherwise apply them in the middle of an unrelated step.
    """
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None, "nothing has the keyboard focus"
    qtbot.keyClick(target, key, modifier)
    QApplication.processEvents()


def type_text(qtbot: Any, text: str) -> None:
    """Type `text` into the focused widget (then let the event loop run, see `press`)."""
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    qtbot.keyClicks(target, text)
    QApplication.processEvents()
