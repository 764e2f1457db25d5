"""Fixtures for the widget tests (pytest-qt, Qt offscreen, one session QApplication).

Why each exists:
- `QT_QPA_PLATFORM=offscreen` is set before pytest-qt creates its session `qapp`, so the
  tests run on machines without a display and never flash windows.
- `themed_app` applies the terminal's font and style sheet once per session, as main.py
  will, so layout-dependent assertions and screenshots see the real look (Hangul font).
- `settings` is a fresh default `AppSettings` per test (frozen, so tests derive changes with
  `replace_setting` and cannot leak them into each other).
- `stocks` is a small stock list for code / name completion.
- `state_path` is a temporary window-state INI per test, so layout tests never touch the
  user's real files.
- `no_collection_during_tests` keeps Python's cycle collector off while a test runs and
  collects afterwards, once pytest-qt has closed the test's widgets and their deferred
  deletes have run. Widgets hold reference cycles (signal lambdas, pyqtgraph items), so a
  window whose test has returned is freed by the cycle collector at an arbitrary moment;
  when that moment is inside one of its own paint events, Qt crashes (seen as a
  segfault in GraphicsView.paintEvent). The terminal itself keeps its window alive.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PyQt5.QtCore import QEvent
from PyQt5.QtWidgets import QApplication

from kiwoom_terminal.constants import Market
from kiwoom_terminal.objects import StockInfoData
from kiwoom_terminal.settings import AppSettings
from ui.theme import apply_theme


@pytest.fixture(scope="session", autouse=True)
def themed_app(qapp: QApplication) -> QApplication:
    apply_theme(qapp)
    return qapp


@pytest.fixture(autouse=True)
def no_collection_during_tests(qapp: QApplication) -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        # pytest-qt has closed and deleteLater()'d the test's widgets by now.
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        # With collection off nothing was promoted: the test's cycles are all in the
        # youngest generation, which is quick to collect.
        gc.collect(0)
        gc.enable()


@pytest.fixture
def settings() -> AppSettings:
    return AppSettings()


@pytest.fixture
def stocks() -> list[StockInfoData]:
    return [
        StockInfoData("005930", "삼성전자", Market.KOSPI, 71_000),
        StockInfoData("000660", "SK하이닉스", Market.KOSPI, 182_000),
        StockInfoData("035420", "NAVER", Market.KOSPI, 49_950),
        StockInfoData("035720", "카카오", Market.KOSPI, 41_200),
        StockInfoData("247540", "에코프로비엠", Market.KOSDAQ, 228_500),
        StockInfoData("069500", "KODEX 200", Market.ETF, 35_120),
    ]


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "window-state.ini"
