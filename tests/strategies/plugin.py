"""`one_file_strategy`: a strategy added the documented way — one new module in the
strategies package with a `@register`ed subclass, nothing else edited — and removed again
afterwards so other tests see the real registry.

The module is written to a temporary folder that is appended to the package's `__path__`
for the duration: `all_strategies()` finds it with the same module scan that finds the
shipped strategies, so the test goes through the real discovery, not a direct registration.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import kiwoom_terminal.strategies as package
from kiwoom_terminal.strategies import base

NAME = "zz_probe"  # sorts last in every list
MODULE = f"{package.__name__}.{NAME}"

SOURCE = '''"""Buy after `n` rising closes in a row, sell on a falling close (a test strategy)."""

from __future__ import annotations

import pandas as pd

from kiwoom_terminal.strategies.base import Param, Strategy, combine, register


@register
class Probe(Strategy):
    name = "zz_probe"
    title = "시험 전략"
    params = (Param("n", 3, 1, 10, "연속 상승 봉 수"),)

    def compute(self, bars: pd.DataFrame) -> pd.Series:
        change = bars["close"].diff()
        n = self.param_int("n")
        streak = (change > 0).astype("int64").rolling(n).sum() == n
        return combine(streak & ~streak.shift(1, fill_value=False), change < 0)
'''


@contextlib.contextmanager
def one_file_strategy(folder: Path) -> Iterator[str]:
    """Install the probe strategy as `folder/zz_probe.py` inside the package; yields its
    name. On exit the folder leaves the package path and the strategy the registry."""
    (folder / f"{NAME}.py").write_text(SOURCE, encoding="utf-8")
    original = package.__path__
    package.__path__ = [*original, str(folder)]
    try:
        yield NAME
    finally:
        package.__path__ = original
        base._REGISTRY.pop(NAME, None)
        sys.modules.pop(MODULE, None)
