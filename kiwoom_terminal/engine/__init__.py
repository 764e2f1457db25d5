"""The trading engine: state, timers, decisions wiring, snapshots, journal (issue #4).

`TradingEngine` lives in `engine.py` (it imports Qt); import it from there. This package
module stays light so the window can import `OrderInputError` and the table schemas
without pulling in the engine.
"""

from kiwoom_terminal.engine.errors import OrderInputError

__all__ = ["OrderInputError"]
