"""`EngineThread` (kiwoom_terminal/engine/thread.py) with real Qt threads and timers, and the
engine state the window reads from its own thread while the engine changes it.

The terminal itself runs its engine this way in every GUI test (tests/gui/, through
`ui.app.build_terminal`); these tests pin down the mechanism on its own: where slots run,
what `call()` returns and raises, and how `stop()` ends.
"""

from __future__ import annotations

import os
import threading
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PyQt5.QtCore import QObject, QThread, QTimer, pyqtSignal

from kiwoom_terminal.engine.state import TableStore
from kiwoom_terminal.engine.thread import THREAD_NAME, EngineThread
from kiwoom_terminal.scanner.signals import SignalBook
from kiwoom_terminal.scanner.watchlist import Watchlist

DEADLINE_MS = 10_000


def here() -> str:
    return QThread.currentThread().objectName() or threading.current_thread().name


class Busy(QObject):
    """Stands in for the engine: timers connected in `__init__` to a plain method and to a
    lambda (neither a pyqtSlot), started by `start()`, stopped by `shutdown()`."""

    ticked = pyqtSignal(str)

    def __init__(self) -> None:
        super().__init__()
        self.built_in = here()
        self.seen: dict[str, str] = {}
        self.shut_in = ""
        self.timer = QTimer(self)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.on_timer)
        self.other = QTimer(self)
        self.other.setInterval(5)
        self.other.timeout.connect(lambda: self.seen.setdefault("lambda", here()))

    def start(self, *, factor: int) -> int:
        self.timer.start()
        self.other.start()
        return 21 * factor

    def on_timer(self) -> None:
        self.seen.setdefault("method", here())
        self.ticked.emit(here())

    def refuse(self) -> None:
        raise ValueError("잘못된 입력")

    def shutdown(self) -> None:
        self.timer.stop()
        self.other.stop()
        self.shut_in = here()


@pytest.fixture
def busy_thread(qapp: Any) -> Any:
    QThread.currentThread().setObjectName("gui")
    engine_thread = EngineThread(Busy)
    yield engine_thread
    engine_thread.stop()


def test_the_engine_is_built_and_its_timers_fire_in_its_own_thread(qtbot, busy_thread) -> None:
    busy = busy_thread.engine
    assert busy.built_in == THREAD_NAME
    assert busy.thread() is not QThread.currentThread()
    with qtbot.waitSignal(busy.ticked, timeout=DEADLINE_MS) as ticked:
        assert busy_thread.call(busy.start, factor=2) == 42
    # Plain methods and lambdas connected in __init__ run where the engine lives — which
    # they would not if it had been built here and moved (PyQt5 keeps such slots in the
    # thread that connected them).
    assert ticked.args == [THREAD_NAME]
    qtbot.waitUntil(lambda: len(busy.seen) == 2, timeout=DEADLINE_MS)
    assert busy.seen == {"method": THREAD_NAME, "lambda": THREAD_NAME}


def test_a_signal_reaches_a_receiver_here_in_this_thread(qtbot, busy_thread) -> None:
    busy = busy_thread.engine
    received: list[str] = []

    class Receiver(QObject):
        def on_tick(self, where: str) -> None:
            received.append(f"{where}->{here()}")

    receiver = Receiver()
    busy.ticked.connect(receiver.on_tick)
    busy_thread.call(busy.start, factor=1)
    qtbot.waitUntil(lambda: bool(received), timeout=DEADLINE_MS)
    assert received[0] == f"{THREAD_NAME}->gui"


class Remembers(QObject):
    """A timer callback that counts how many of its calls saw what the first one left in a
    `threading.local`: all of them when the thread keeps one Python thread state."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()
        self.calls = 0
        self.remembered = 0
        self.timer = QTimer(self)
        self.timer.setInterval(1)
        self.timer.timeout.connect(self.on_timer)
        self.timer.start()

    def on_timer(self) -> None:
        self.calls += 1
        if getattr(self.local, "mark", False):
            self.remembered += 1
        self.local.mark = True

    def shutdown(self) -> None:
        self.timer.stop()


def test_the_engine_thread_keeps_one_python_thread_state(qtbot, qapp) -> None:
    """A plain QThread's event loop made and dropped a Python thread state around every
    callback (a drain paid for it each time); the engine's thread keeps one, so what a
    callback leaves in a thread-local is still there in the next."""
    engine_thread = EngineThread(Remembers)
    try:
        remembers = engine_thread.engine
        qtbot.waitUntil(
            lambda: engine_thread.call(lambda: remembers.calls) >= 20, timeout=DEADLINE_MS
        )
        calls, remembered = engine_thread.call(lambda: (remembers.calls, remembers.remembered))
        assert remembered == calls - 1
    finally:
        engine_thread.stop()


def test_call_raises_the_engines_exception_in_the_caller(busy_thread) -> None:
    with pytest.raises(ValueError, match="잘못된 입력"):
        busy_thread.call(busy_thread.engine.refuse)
    assert busy_thread.call(here) == THREAD_NAME  # the thread lives on


def test_stop_shuts_down_in_the_engine_thread_and_hands_the_engine_back(busy_thread) -> None:
    busy = busy_thread.engine
    busy_thread.call(busy.start, factor=1)
    busy_thread.stop()
    assert busy.shut_in == THREAD_NAME
    assert not busy_thread.thread_running
    assert busy.thread() is QThread.currentThread()
    assert busy_thread.call(here) == "gui"  # after the end, calls run directly
    busy_thread.stop()  # twice is harmless


def test_a_factory_that_fails_ends_the_thread(qapp) -> None:
    def broken() -> QObject:
        raise RuntimeError("설정 오류")

    with pytest.raises(RuntimeError, match="설정 오류"):
        EngineThread(broken)


def test_frames_read_from_another_thread_are_always_one_whole_flush() -> None:
    """The window builds frames in its thread while the engine flushes in its own: every
    frame read must be the rows of one flush (each flush sets one price on every row and
    adds or removes rows), never a mix and never an error."""
    from kiwoom_terminal.engine.tables import TRACKING

    store = TableStore((TRACKING,))
    flushes = 400
    done = threading.Event()
    problems: list[str] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        while not done.is_set():
            try:
                frame = store.frame("tracking")
            except Exception as exc:  # any error is the finding
                problems.append(repr(exc))
                return
            reads += 1
            if len(frame) and frame["price"].nunique() != 1:
                problems.append(f"mixed prices {sorted(set(frame['price']))}")
                return
            if len(frame) and len(frame) != 20 + int(frame["price"].iloc[0]) % 7:
                problems.append(f"{len(frame)} rows for price {frame['price'].iloc[0]}")
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for price in range(1, flushes + 1):
            rows = 20 + price % 7
            for i in range(rows):
                code = f"{i:06d}"
                store.set_row("tracking", code, {"code": code, "price": price})
            for i in range(rows, 27):
                store.remove("tracking", f"{i:06d}")
            store.flush()
    finally:
        done.set()
        thread.join()
    assert problems == []
    assert reads > 0
    final = store.frame("tracking")
    assert set(final["price"]) == {flushes} and len(final) == 20 + flushes % 7


def test_the_signals_frame_a_view_holds_never_changes_under_it(tmp_path) -> None:
    import datetime as dt

    from kiwoom_terminal.constants import Side
    from kiwoom_terminal.scanner.signals import SignalData, SignalStatus

    book = SignalBook(None, today=dt.date(2026, 11, 20))
    at = dt.datetime(2026, 11, 20, 9, 30)
    signal = SignalData(
        dt.date(2026, 11, 20), at, at, "005930", "삼성전자", "rsi", "rsi(14)", Side.BUY, 70_000
    )
    assert book.add(signal)
    held = book.table()
    book.set_status(signal.signal_id, SignalStatus.SKIPPED, "자동매매 꺼짐")
    assert held.loc[signal.signal_id, "status"] == "new"  # the view's frame stays whole
    assert book.table().loc[signal.signal_id, "status"] == "skipped"


def test_watchlist_edits_from_two_threads_keep_every_entry(tmp_path) -> None:
    """The 전략 dock adds from the GUI thread while a condition sync adds in the engine's."""
    path = tmp_path / "watchlist.json"
    watchlist = Watchlist(path)
    codes_a = [f"{i:06d}" for i in range(0, 200)]
    codes_b = [f"{i:06d}" for i in range(200, 400)]
    errors: list[BaseException] = []

    def sync() -> None:
        try:
            for code in codes_b:
                watchlist.sync_from_condition("급등", [code])
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=sync)
    thread.start()
    for code in codes_a:
        watchlist.add(code)
    thread.join()
    assert errors == []
    assert sorted(watchlist.codes()) == sorted(codes_a + codes_b)
    assert sorted(Watchlist(path).codes()) == sorted(codes_a + codes_b)  # the file too
