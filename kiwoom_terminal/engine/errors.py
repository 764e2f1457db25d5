"""Errors the engine raises to its callers (the window, the headless runner, tests)."""

from __future__ import annotations


class OrderInputError(ValueError):
    """A manual order was refused before anything was sent: bad input (grid, band,
    quantity), outside trading hours, the order worker not connected, a risk limit, or the
    stock blocked while an order with an unknown outcome is reconciled. The message is Korean
    and says what was wrong and how to fix it."""
