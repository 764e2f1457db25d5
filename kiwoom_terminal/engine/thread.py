"""`EngineThread`: the `TradingEngine` in a thread of its own, beside the window.

Why: with the window open the engine shared the GUI thread with every repaint. Under a busy
feed a whole-window update takes up to 17 ms, and a trailing-stop tick that arrived during
one waited for it: the window-open p99 from tick to sell order was 7–11 ms, against 2–4 ms
headless (docs/BENCHMARKS.md, ninth and tenth rounds). In a thread of its own the engine's
wake-up notifiers and timers are served by its own event loop while the GUI thread paints;
the GIL is handed over within `wakeup.GIL_SWITCH_INTERVAL_S`.

The rules (docs/ENGINE_API.md, "Threads"):

* The engine is *constructed* in its thread (`EngineThread(factory)`). PyQt5 runs a slot
  that is not a `pyqtSlot` — a plain method, a lambda — in the thread where `connect()` was
  called, and that does not follow `moveToThread`: an engine built on the GUI thread and
  moved would keep draining on its timers in the GUI thread, beside its own thread.
* Every call that changes engine state goes through `call()`, which runs it in the engine's
  thread and returns its result or raises its exception in the caller's (a blocking queued
  call). The engine never waits for the GUI thread, so this cannot deadlock; the caller
  waits at most for the engine's current drain.
* The window reads only what the engine publishes for it: table frames (`TableStore`, built
  under a lock), settings (immutable, replaced on change), `status` (off the engine's thread:
  the last one emitted) and single-key lookups of immutable values (last price, band, stock
  info, orderable cash).
* Engine signals reach the window queued (Qt's automatic connection between threads).
* `stop()` shuts the engine down in its thread, hands the object back to the thread that
  made the `EngineThread` and ends the thread; later calls run directly.

Headless (`main.py --headless`) and the engine tests keep the engine in the main thread:
there is nothing to paint there.

CPU priority: the window's thread keeps its normal priority. Lowering it (nice +5 on Linux,
tried in the tenth round) made sells slower on a busy machine: the window's thread holds the
GIL while it runs Python, and a lowered thread that another program preempts keeps holding
it, so the engine's thread waited for a thread that was not even running — priority
inversion through the GIL (docs/BENCHMARKS.md, *Eleventh round*). What helps instead is
less Python in the window's thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from PyQt5.QtCore import QObject, Qt, QThread, pyqtSignal, pyqtSlot

T = TypeVar("T", bound=QObject)

THREAD_NAME = "engine"


def direct_call(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """`call()` for an engine in the caller's own thread (tests, headless)."""
    return fn(*args, **kwargs)


class _Job:
    """One call to run in the engine's thread, with its outcome."""

    __slots__ = ("fn", "args", "kwargs", "result", "error")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # handed to the caller, raised in its thread
            self.error = exc


class _PythonThread(QThread):
    """A QThread whose event loop runs inside a Python `run()`.

    Why: a plain QThread runs its event loop in C++, outside Python, so PyQt5 makes a
    Python thread state for every slot or timer callback it delivers there and destroys it
    after — for the engine, on every drain: a 16 KiB mmap/munmap and a gettid, and any
    `threading.local` lost between callbacks. With `run()` in Python the thread keeps one
    thread state for its whole life, and each callback only takes the GIL.
    """

    def run(self) -> None:
        self.exec_()


class _Runner(QObject):
    """Lives in the engine's thread; runs the jobs delivered to it."""

    @pyqtSlot(object)
    def run(self, job: _Job) -> None:
        job.run()


class EngineThread(QObject, Generic[T]):
    """A QThread running one engine built by `factory` (see the module docstring)."""

    _deliver = pyqtSignal(object)

    def __init__(self, factory: Callable[[], T], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._home = QThread.currentThread()
        self._thread = _PythonThread()
        self._thread.setObjectName(THREAD_NAME)
        self._runner = _Runner()
        self._runner.moveToThread(self._thread)
        # Blocking: the emitting thread waits until the runner has run the job.
        self._deliver.connect(self._runner.run, Qt.ConnectionType.BlockingQueuedConnection)  # type: ignore[call-arg]
        self._thread.start()
        try:
            self.engine: T = self.call(factory)
        except BaseException:
            self._thread.quit()
            self._thread.wait()
            raise

    @property
    def thread_running(self) -> bool:
        return self._thread.isRunning()

    def in_engine_thread(self) -> bool:
        return QThread.currentThread() is self._thread

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)` in the engine's thread and return its result (or raise
        its exception here). Runs directly when already there, or once the thread ended."""
        if self.in_engine_thread() or not self._thread.isRunning():
            return fn(*args, **kwargs)
        job = _Job(fn, args, kwargs)
        self._deliver.emit(job)
        if job.error is not None:
            raise job.error
        return job.result

    def stop(self) -> None:
        """Run the engine's `shutdown()` in its thread, move the engine back to this
        object's thread and end the thread. Safe to call twice."""
        if not self._thread.isRunning():
            return
        try:
            self.call(self._finish_here)
        finally:
            self._thread.quit()
            self._thread.wait()

    def _finish_here(self) -> None:
        try:
            cast(Any, self.engine).shutdown()
        finally:
            # Destroyed later by Python on the home thread, where it then lives; its
            # stopped timers are not restarted anywhere.
            self.engine.moveToThread(self._home)
