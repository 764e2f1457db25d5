"""Fixtures for the 전략 dock and 백테스트 tab tests (pytest-qt, Qt offscreen).

Why each exists:
- `QT_QPA_PLATFORM=offscreen` before pytest-qt makes its session QApplication: no display
  needed, no windows flash.
- `themed` applies the terminal's font and style sheet (as main.py does), so the
  screenshots show the real look and Hangul renders.
- `quiet_gc` keeps the cycle collector off while a test runs and collects after pytest-qt
  closed the widgets (pyqtgraph items and signal closures form cycles; freeing them from
  inside a paint event crashes Qt — the same guard as tests/ui/conftest.py).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PyQt5.QtCore import QEvent
from PyQt5.QtWidgets import QApplication

from ui.theme import apply_theme


@pytest.fixture(scope="session", autouse=True)
def themed(qapp: QApplication) -> QApplication:
    apply_theme(qapp)
    return qapp


@pytest.fixture(autouse=True)
def quiet_gc(qapp: QApplication) -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect(0)
        gc.enable()
