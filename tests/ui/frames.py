"""Small engine-shaped DataFrames for widget tests (schemas from engine/tables.py)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kiwoom_terminal.engine import tables
from kiwoom_terminal.engine.tables import TableSchema


def frame(schema: TableSchema, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A frame with the schema's dtypes, indexed by its key column, as the engine keeps it."""
    if not rows:
        return schema.empty()
    f = pd.DataFrame(rows, columns=list(schema.column_names)).astype(dict(schema.columns))
    return f.set_index(schema.key, drop=False)


def holding(
    code: str, name: str, qty: int, avg: int, price: int, change_rate: float = 0.0
) -> dict[str, Any]:
    purchase = qty * avg
    evaluation = qty * price
    return dict(
        code=code,
        name=name,
        quantity=qty,
        sellable_qty=qty,
        avg_price=avg,
        price=price,
        change_rate=change_rate,
        purchase_amount=purchase,
        eval_amount=evaluation,
        pnl=evaluation - purchase,
        return_rate=(price - avg) / avg * 100,
    )


def open_order(
    order_no: str, code: str, name: str, side: str, price: int, qty: int
) -> dict[str, Any]:
    return dict(
        order_no=order_no,
        orig_order_no="",
        time="093012",
        code=code,
        name=name,
        side=side,
        order_type="limit",
        price=price,
        quantity=qty,
        remaining=qty,
        filled=0,
        amend_count=0,
        venue="KRX",
        status="accepted",
        purpose="manual",
    )


def tracking(code: str, name: str, price: int, avg: int) -> dict[str, Any]:
    return dict(
        code=code,
        name=name,
        price=price,
        avg_price=avg,
        quantity=10,
        return_rate=(price - avg) / avg * 100,
        trailing_armed=False,
        high_since_arm=0,
        protect_active=False,
        buy_pending=False,
        sell_pending=False,
        source="manual",
        reason="",
        entered_at="091500",
    )


def fill(fill_id: str, code: str, side: str, price: int, qty: int) -> dict[str, Any]:
    return dict(
        fill_id=fill_id,
        time="091502",
        order_no=fill_id.split("-")[0],
        code=code,
        name="",
        side=side,
        price=price,
        quantity=qty,
        amount=price * qty,
        fee=0,
        tax=0,
    )


def condition(seq: str, name: str, buy: bool, sell: bool) -> dict[str, Any]:
    return dict(seq=seq, name=name, buy_enabled=buy, sell_enabled=sell, running=buy, matches=3)


class Tables:
    """A mutable stand-in for `engine.table(name)`: tests replace frames and notify views."""

    def __init__(self) -> None:
        self.frames: dict[str, pd.DataFrame] = {s.name: s.empty() for s in tables.ALL_TABLES}

    def __call__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    def set(self, schema: TableSchema, rows: list[dict[str, Any]]) -> None:
        self.frames[schema.name] = frame(schema, rows)
