"""kiwoom-terminal: a desktop trading terminal for Korean stocks over the Kiwoom REST API.

Everything in this package is free of Qt widgets (the engine uses QtCore only; workers and
the simulator use no Qt at all). Widgets live in the top-level `ui` package.
"""

__version__ = "0.1.0"
