"""Backtester driven by the same decision functions as the live engine.

`run_backtest(source, codes, strategy, config)` runs a registered strategy's entries plus
the live exit rules (`decisions.exits.evaluate_exit`) over daily or minute bars; see
`engine.py` for the fill model and `stats.py` for what the statistics mean. The command line
is `python -m kiwoom_terminal.backtest --help`.
"""

from kiwoom_terminal.backtest.data import (
    BacktestError,
    BarSource,
    CsvSource,
    FrameSource,
    prepare_bars,
)
from kiwoom_terminal.backtest.engine import (
    END_OF_DATA,
    NO_EXIT_RULES,
    BacktestConfig,
    CodeRun,
    FillModel,
    run_code,
)
from kiwoom_terminal.backtest.runner import BacktestResult, run_backtest
from kiwoom_terminal.backtest.stats import Stats, compute_stats

__all__ = [
    "END_OF_DATA",
    "NO_EXIT_RULES",
    "BacktestConfig",
    "BacktestError",
    "BacktestResult",
    "BarSource",
    "CodeRun",
    "CsvSource",
    "FillModel",
    "FrameSource",
    "Stats",
    "compute_stats",
    "prepare_bars",
    "run_backtest",
    "run_code",
]
