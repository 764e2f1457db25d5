"""Fixtures for the 전략 dock and 백테스트 tab tests (pytest-qt, Qt offscreen).

`themed_app` (the terminal's font and style sheet, so screenshots show the real look and
Hangul renders) and `no_collection_during_tests` (no cycle collection inside a paint event,
which crashes Qt) are the window tests' own fixtures, shared from tests/ui/conftest.py.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.ui.conftest import no_collection_during_tests, themed_app

__all__ = ["no_collection_during_tests", "themed_app"]
