"""Run the simulator only on CPU time that the terminal leaves (`--cpu-priority low`).

A real Kiwoom server runs on another machine: whatever it spends on a tick or an order is
never taken from the terminal. The embedded simulator shares the terminal's cores instead,
and at 5,000 ticks/s it is the busiest process on them. At normal priority a terminal
process that a tick or an order wakes (the WebSocket worker, the order worker) may queue
behind the simulator for the rest of its time slice — about 1.4 ms on Linux — though the
server it stands in for would never hold it back. At low priority any woken terminal
process preempts the simulator at once, and a core that runs only the simulator counts as
free when the kernel places a woken process.

Low priority means, per platform:

* Linux: `SCHED_IDLE` (weight 3 against 1,024 for a normal process; a woken normal process
  always preempts it);
* Windows: `IDLE_PRIORITY_CLASS` (runs when no normal-class thread wants the core);
* other POSIX systems: nice 19.

The cost: on a machine that other programs keep busy the simulator gets little CPU, its
feed falls behind and replies slow down. That is why it is an option (`bench/
tick_to_order.py` uses it, to measure the terminal as if the server were elsewhere) and
not the embedded simulator's default.
"""

from __future__ import annotations

import contextlib
import os
import sys

NORMAL = "normal"
LOW = "low"
CHOICES = (NORMAL, LOW)

_IDLE_PRIORITY_CLASS = 0x00000040  # Windows, WinBase.h


def lower_cpu_priority() -> str:
    """Lower this process's CPU priority as far as an unprivileged user may, for its
    threads and those it starts later. Returns what was applied, for the log. Raises
    `OSError` when the platform refused."""
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        if not kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), _IDLE_PRIORITY_CLASS):
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
        return "IDLE_PRIORITY_CLASS"
    policy = getattr(os, "SCHED_IDLE", None)
    if policy is not None:
        try:
            # Any user may move a thread to SCHED_IDLE (sched(7)). Threads started later
            # inherit it; the ones already running (a numeric library's pool, started at
            # import) are moved one by one.
            for thread_id in _thread_ids():
                with contextlib.suppress(ProcessLookupError):  # it ended since the listing
                    os.sched_setscheduler(thread_id, policy, os.sched_param(0))
            return "SCHED_IDLE"
        except OSError:
            pass  # e.g. a seccomp profile that forbids it: fall back to nice
    os.nice(19 - os.nice(0))
    return "nice 19"


def _thread_ids() -> list[int]:
    """This process's threads (Linux: /proc/self/task), or 0 = the calling thread."""
    try:
        return [int(name) for name in os.listdir("/proc/self/task")]
    except OSError:
        return [0]
