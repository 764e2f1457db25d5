"""A spawn target for tests/workers/test_no_qt.py: runs a real worker entry point in the
spawned child and, when the worker has stopped, reports which Qt modules the child loaded.

Only the standard library is imported here, so whatever Qt the child holds came from the
worker (or from what spawn carried over from the parent)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

QT_ROOTS = frozenset({"PyQt5", "PyQt6", "PySide2", "PySide6", "pyqtgraph"})


def loaded_qt() -> list[str]:
    """Names of loaded modules that belong to a Qt binding (or pyqtgraph)."""
    return sorted(name for name in sys.modules if name.split(".", 1)[0] in QT_ROOTS)


def run_worker_and_report(entry: str, *args: Any) -> None:
    """Run `module:function` (a worker's process entry point) with `args` — config,
    requests, results, token store — until it returns on Shutdown, then put
    `("loaded-qt", entry, [...])` on its result queue."""
    module, function = entry.split(":")
    getattr(importlib.import_module(module), function)(*args)
    results = args[2]
    results.put(("loaded-qt", entry, loaded_qt()))
