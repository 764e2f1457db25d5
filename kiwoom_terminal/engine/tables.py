"""Column schemas of the engine's DataFrames: the contract between the engine and the views.

The engine owns one DataFrame per table, indexed by the table's key column; the GUI's table
models declare which of these columns they show, with Korean labels and formatters. Column
keys are English and stable (they are pickled in snapshots).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class TableSchema:
    """Name, key column and (column, dtype) pairs of one engine table."""

    name: str
    key: str
    columns: tuple[tuple[str, str], ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    def empty(self) -> pd.DataFrame:
        """An empty frame with the right dtypes, indexed by the key column."""
        frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in self.columns})
        return frame.set_index(self.key, drop=False)


# 잔고: account holdings (kt00018, kept current by balance events and ticks).
HOLDINGS = TableSchema(
    "holdings",
    "code",
    (
        ("code", "object"),
        ("name", "object"),
        ("quantity", "int64"),
        ("sellable_qty", "int64"),
        ("avg_price", "int64"),
        ("price", "int64"),
        ("change_rate", "float64"),  # percent vs the previous close; NaN before a trade
        ("purchase_amount", "int64"),
        ("eval_amount", "int64"),
        ("pnl", "int64"),
        ("return_rate", "float64"),
    ),
)

# 실시간 추적: positions the engine manages, with their exit-rule state.
TRACKING = TableSchema(
    "tracking",
    "code",
    (
        ("code", "object"),
        ("name", "object"),
        ("price", "int64"),
        ("change_rate", "float64"),  # percent vs the previous close; NaN before a trade
        ("avg_price", "int64"),
        ("quantity", "int64"),
        ("return_rate", "float64"),  # percent; NaN while nothing is held (waiting to buy)
        ("trailing_armed", "bool"),
        ("high_since_arm", "int64"),  # highest price since the trailing stop armed, 0 if not
        ("protect_active", "bool"),  # profit protect reached its trigger level
        ("buy_pending", "bool"),
        ("sell_pending", "bool"),
        ("source", "object"),  # what started it: condition name, "manual", strategy name
        ("reason", "object"),  # last decision and why (e.g. "trailing_stop: -1.6% from 73,400")
        ("entered_at", "object"),  # HHmmss of the buy fill
    ),
)

# 미체결: orders with unfilled quantity.
OPEN_ORDERS = TableSchema(
    "open_orders",
    "order_no",
    (
        ("order_no", "object"),
        ("orig_order_no", "object"),
        ("time", "object"),  # HHmmss accepted
        ("code", "object"),
        ("name", "object"),
        ("side", "object"),  # Side value
        ("order_type", "object"),  # OrderType value
        ("price", "int64"),
        ("quantity", "int64"),
        ("remaining", "int64"),
        ("filled", "int64"),
        ("amend_count", "int64"),
        ("venue", "object"),  # Venue value
        ("status", "object"),  # OrderStatus value
        ("purpose", "object"),  # "entry", an ExitReason value, or "manual"
    ),
)

# 체결: today's fills, one row per fill.
FILLS = TableSchema(
    "fills",
    "fill_id",
    (
        ("fill_id", "object"),  # order_no + fill number
        ("time", "object"),
        ("order_no", "object"),
        ("code", "object"),
        ("name", "object"),
        ("side", "object"),
        ("price", "int64"),
        ("quantity", "int64"),
        ("amount", "int64"),
        ("fee", "int64"),
        ("tax", "int64"),
    ),
)

# 조건식: conditions from CNSRLST and what the user chose them for.
CONDITIONS = TableSchema(
    "conditions",
    "seq",
    (
        ("seq", "object"),
        ("name", "object"),
        ("buy_enabled", "bool"),
        ("sell_enabled", "bool"),
        ("running", "bool"),  # real-time CNSRREQ active
        ("matches", "int64"),  # current number of member stocks
    ),
)

ALL_TABLES = (HOLDINGS, TRACKING, OPEN_ORDERS, FILLS, CONDITIONS)
SCHEMAS = {schema.name: schema for schema in ALL_TABLES}
# 전략 신호 ("signals"): schema `scanner.signals.SIGNALS`; the strategy runner keeps it (with
# its SQLite file) and `engine.table("signals")` serves it like the tables above.
