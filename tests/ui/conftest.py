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
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PyQt5.QtWidgets import QApplication

from kiwoom_terminal.constants import Market
from kiwoom_terminal.objects import StockInfoData
from kiwoom_terminal.settings import AppSettings
from ui.theme import apply_theme


@pytest.fixture(scope="session", autouse=True)
def themed_app(qapp: QApplication) -> QApplication:
    apply_theme(qapp)
    return qapp


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
