"""The terminal as `python main.py` builds it runs its engine in a thread of its own
(`kiwoom_terminal/engine/thread.py`, docs/ENGINE_API.md "Threads"): the real window, engine,
workers and simulator, Qt offscreen.

The other GUI tests drive this same threaded terminal through the keyboard; this one pins
down where things live, so that a change that quietly put the engine back on the window's
thread (or left its timers behind) fails here.
"""

from __future__ import annotations

from PyQt5.QtCore import QObject, QThread, QTimer

from kiwoom_terminal.engine.thread import THREAD_NAME
from tests.gui.conftest import launch_for


def test_the_window_runs_its_engine_in_a_thread_of_its_own(
    gui_sim, open_terminal, qtbot, tmp_path
) -> None:
    terminal = open_terminal(launch_for(gui_sim, tmp_path))
    engine = terminal.engine
    gui = QThread.currentThread()
    assert terminal.engine_thread is not None

    engine_thread = engine.thread()
    assert engine_thread is not gui and engine_thread.objectName() == THREAD_NAME

    def where_things_live() -> dict[str, bool]:
        here = QThread.currentThread()
        timers = engine.findChildren(QTimer)
        children = engine.findChildren(QObject)
        return {
            "called here": here is engine.thread(),
            "timers": bool(timers) and all(t.thread() is here for t in timers),
            "active timers": any(t.isActive() for t in timers),
            "children": all(c.thread() is here for c in children),
        }

    assert terminal.call(where_things_live) == {
        "called here": True,
        "timers": True,
        "active timers": True,
        "children": True,
    }
    # Read from this thread, the status is the one the engine last emitted.
    assert engine.status is engine._last_status and engine.status.ready

    terminal.close()
    assert engine.thread() is gui  # handed back once shut down
    assert not terminal.engine_thread.thread_running
    assert terminal.call(lambda: QThread.currentThread() is gui)  # later calls run here
