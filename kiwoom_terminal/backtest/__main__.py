"""Entry point: python -m kiwoom_terminal.backtest (see cli.py)."""

import sys

from kiwoom_terminal.backtest.cli import main

if __name__ == "__main__":
    sys.exit(main())
