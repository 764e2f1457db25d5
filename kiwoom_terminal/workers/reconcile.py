"""Finding out what became of an order whose outcome is UNKNOWN.

After a timeout, a 5xx or a dead order worker the terminal must not resend blindly. It takes
an `AccountSnapshot` (AccountSnapshotQuery: open orders, today's fills, holdings) and asks
`order_candidates()` which orders of the account could be the one it sent: same code, side,
quantity and (for priced orders) price, and an order number it does not know yet. One
candidate → adopt it; none → the order was not placed (resending is safe once the snapshot
was taken after the send); several → ask the user.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiwoom_terminal.constants import OrderAction
from kiwoom_terminal.messages import AccountSnapshot
from kiwoom_terminal.objects import FillData, OpenOrderData, OrderRequest


@dataclass(frozen=True)
class OrderCandidate:
    """An order of the account that may be the one with the UNKNOWN outcome."""

    order_no: str
    filled_qty: int
    unfilled_qty: int
    source: str  # "open" (ka10075) or "fill" (ka10076)


def order_candidates(
    order: OrderRequest,
    snapshot: AccountSnapshot,
    known_order_nos: set[str],
    not_before: str = "",
) -> list[OrderCandidate]:
    """Orders in `snapshot` that match `order` and are not in `known_order_nos`, by order
    number (a partly filled order appears in both lists and is reported once). With
    `not_before` (HHmmss), rows stamped earlier are skipped: placed before `order` was sent,
    they cannot be it."""
    found: dict[str, OrderCandidate] = {}
    for row in snapshot.open_orders:
        if not_before and row.time and row.time[:6] < not_before:
            continue
        if row.order_no not in known_order_nos and _matches_open(order, row):
            found[row.order_no] = OrderCandidate(
                row.order_no, row.order_qty - row.unfilled_qty, row.unfilled_qty, "open"
            )
    for fill in snapshot.fills:
        if fill.order_no in known_order_nos or fill.order_no in found:
            continue
        if not_before and fill.time and fill.time[:6] < not_before:
            continue
        if _matches_fill(order, fill):
            found[fill.order_no] = OrderCandidate(
                fill.order_no, fill.fill_qty, fill.unfilled_qty, "fill"
            )
    return sorted(found.values(), key=lambda c: c.order_no)


def _matches_open(order: OrderRequest, row: OpenOrderData) -> bool:
    if row.action is not OrderAction.NEW:
        return False
    if (row.code, row.side, row.order_qty) != (order.code, order.side, order.quantity):
        return False
    return not order.order_type.needs_price or row.order_price == order.price


def _matches_fill(order: OrderRequest, fill: FillData) -> bool:
    if fill.orig_order_no:
        return False  # a modify / cancel leg, not a new order
    if (fill.code, fill.side, fill.order_qty) != (order.code, order.side, order.quantity):
        return False
    return not order.order_type.needs_price or fill.order_price == order.price
