"""Comparing what the engine believes with what the account says (pure, unit-tested).

The engine reconciles at start (restored snapshot vs the account), after the WebSocket says
`Resubscribed` (events may have been lost during the drop), and after an order with an
UNKNOWN outcome (timeout, 5xx, dead worker). It fetches an `AccountSnapshot` (open orders,
today's fills, holdings — ka10075, ka10076, kt00018) and asks this module what changed:

* `plan_orders`: for every order the engine knows, its filled and remaining quantity now
  (an order missing from the open list has finished: filled, or the rest cancelled); for
  every UNKNOWN request, whether it was placed (exactly one matching order the engine does
  not know → adopt it), not placed (none, and the snapshot was taken after the send →
  safe to forget), still unclear (the snapshot is older than the send → ask again) or
  ambiguous (several matches → report to the user); and the open orders nobody knows,
  to adopt.
* `plan_positions`: which managed positions are still held (quantity and average from the
  account; the caller keeps their trailing state), which were sold while the terminal was
  down (dropped), which pending buys filled meanwhile, and holdings the engine does not
  manage (reported).

Nothing here sends or mutates anything; `OrderManager.apply_plan` and the engine do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from kiwoom_terminal.constants import OrderAction, Side
from kiwoom_terminal.messages import AccountSnapshot
from kiwoom_terminal.objects import OpenOrderData, OrderRequest, PositionData
from kiwoom_terminal.workers.reconcile import order_candidates

# --- Orders --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownOrder:
    """An order the engine holds an order number for (what it believes now)."""

    order_no: str
    code: str
    side: Side
    quantity: int
    filled: int


@dataclass(frozen=True, slots=True)
class UnknownRequest:
    """A new order whose outcome is UNKNOWN: the request and when it was sent (epoch s)."""

    request_id: str
    order: OrderRequest
    sent_at: float
    not_before: str = ""  # HHmmss: account orders stamped earlier were placed before it


@dataclass(frozen=True, slots=True)
class OrderProgress:
    """An order's state in the account: cumulative `filled`, `remaining`, whether it is
    still `open`, and the last fill price and time (HHmmss) seen (0 / "" when none)."""

    filled: int
    remaining: int
    open: bool
    fill_price: int = 0
    fill_time: str = ""


class Resolution(str, Enum):
    ADOPT = "adopt"  # exactly one matching order: it was placed, under `order_no`
    NOT_PLACED = "not_placed"  # no match in a snapshot taken after the send
    STALE = "stale"  # the snapshot predates the send: take another one
    AMBIGUOUS = "ambiguous"  # several matches: the user must look


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    resolution: Resolution
    order_no: str = ""
    progress: OrderProgress | None = None
    candidates: tuple[str, ...] = ()


@dataclass
class OrderPlan:
    """What `plan_orders` found (see the module docstring). `adopt` also holds, with
    `unfilled_qty` 0, a modify of ours that the server carried out and that filled before
    we heard of it (its new number is only in the fills); `successor_fills` gives the filled
    quantity and price of each such order and of every open successor of ours."""

    progress: dict[str, OrderProgress] = field(default_factory=dict)
    requests: dict[str, RequestOutcome] = field(default_factory=dict)
    adopt: list[OpenOrderData] = field(default_factory=list)
    successor_fills: dict[str, OrderProgress] = field(default_factory=dict)


def _fill_progress(snapshot: AccountSnapshot) -> dict[str, OrderProgress]:
    """Per order number, the most filled state any fill row reports (ka10076 rows may be
    per fill or cumulative; order quantity − unfilled is cumulative either way)."""
    out: dict[str, OrderProgress] = {}
    for fill in snapshot.fills:
        filled = max(0, fill.order_qty - fill.unfilled_qty)
        if fill.order_qty <= 0:
            filled = fill.fill_qty
        prev = out.get(fill.order_no)
        if prev is None or filled > prev.filled:
            out[fill.order_no] = OrderProgress(
                filled, fill.unfilled_qty, False, fill.fill_price, fill.time
            )
    return out


def _progress(
    filled: int, remaining: int, open_: bool, fill: OrderProgress | None
) -> OrderProgress:
    """An order's progress with the last fill price and time of `fill` (none: 0 / "")."""
    if fill is None:
        return OrderProgress(filled, remaining, open_)
    return OrderProgress(filled, remaining, open_, fill.fill_price, fill.fill_time)


def plan_orders(
    known: Iterable[KnownOrder],
    unknown: Iterable[UnknownRequest],
    snapshot: AccountSnapshot,
    claimed_elsewhere: Iterable[str] = (),
    ours: Iterable[str] = (),
) -> OrderPlan:
    """Reconcile orders with `snapshot` (see the module docstring). `claimed_elsewhere`:
    order numbers the day's journal already ties to other requests (acknowledged or
    filled earlier); an order of unknown outcome is never matched to one of them. `ours`:
    every order number the engine holds, including those it learned after the snapshot was
    taken (not in `known`, whose progress the snapshot may not show yet): never adopted as
    someone else's order, never matched to an unknown request."""
    plan = OrderPlan()
    open_by_no = {o.order_no: o for o in snapshot.open_orders}
    fills = _fill_progress(snapshot)
    known_list = list(known)
    known_nos = {k.order_no for k in known_list}
    owned = known_nos | set(claimed_elsewhere) | set(ours)  # never someone else's
    for order in known_list:
        row = open_by_no.get(order.order_no)
        fill = fills.get(order.order_no)
        if row is not None:
            filled = max(order.filled, row.order_qty - row.unfilled_qty)
            plan.progress[order.order_no] = _progress(filled, row.unfilled_qty, True, fill)
        else:
            filled = max(order.filled, fill.filled if fill is not None else 0)
            filled = min(filled, order.quantity) if order.quantity > 0 else filled
            plan.progress[order.order_no] = _progress(filled, 0, False, fill)
    claimed: set[str] = set()
    for req in unknown:
        candidates = [
            c
            for c in order_candidates(req.order, snapshot, owned, req.not_before)
            if c.order_no not in claimed
        ]
        if len(candidates) == 1:
            c = candidates[0]
            claimed.add(c.order_no)
            open_ = c.source == "open" and c.unfilled_qty > 0
            progress = _progress(
                c.filled_qty, c.unfilled_qty if open_ else 0, open_, fills.get(c.order_no)
            )
            plan.requests[req.request_id] = RequestOutcome(Resolution.ADOPT, c.order_no, progress)
        elif candidates:
            plan.requests[req.request_id] = RequestOutcome(
                Resolution.AMBIGUOUS, candidates=tuple(c.order_no for c in candidates)
            )
        elif snapshot.taken_at < req.sent_at:
            plan.requests[req.request_id] = RequestOutcome(Resolution.STALE)
        else:
            plan.requests[req.request_id] = RequestOutcome(Resolution.NOT_PLACED)
    for row in snapshot.open_orders:
        if row.order_no not in owned and row.order_no not in claimed and row.unfilled_qty > 0:
            plan.adopt.append(row)
    for row in plan.adopt:
        if row.orig_order_no in owned:
            so_far = fills.get(row.order_no)
            filled = max(row.order_qty - row.unfilled_qty, so_far.filled if so_far else 0)
            plan.successor_fills[row.order_no] = _progress(filled, row.unfilled_qty, True, so_far)
    # A modify of ours whose reply was lost (or came back as an error although the server
    # carried it out) and whose new order filled at once: it is in no open list, only in
    # the fills, under a number nobody knows with our order as its original. Without it
    # the original looks cancelled and the bought (or sold) shares nobody's.
    seen = set(open_by_no) | owned | claimed  # (every adopted row is in open_by_no)
    for fill_row in snapshot.fills:
        no = fill_row.order_no
        if no in seen or fill_row.orig_order_no not in owned:
            continue
        seen.add(no)
        done = fills[no]
        plan.adopt.append(
            OpenOrderData(
                no,
                fill_row.orig_order_no,
                fill_row.code,
                fill_row.name,
                fill_row.side,
                OrderAction.MODIFY,
                fill_row.order_type,
                max(fill_row.order_qty, done.filled),
                fill_row.order_price,
                0,
                done.filled * (done.fill_price or fill_row.order_price),
                fill_row.time,
                fill_row.venue,
            )
        )
        plan.successor_fills[no] = _progress(done.filled, 0, False, done)
    return plan


# --- Positions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManagedView:
    """A managed position as reconciliation sees it."""

    code: str
    quantity: int
    avg_price: int
    buy_pending: bool


@dataclass
class PositionPlan:
    """`keep`: code → (quantity, avg price) from the account for managed codes still held
    (the trailing state stays with the caller); `filled_meanwhile`: codes among them that
    were only a pending buy before; `dropped`: code → Korean reason for managed codes no
    longer held and with no open buy; `untracked`: holdings the engine does not manage."""

    keep: dict[str, tuple[int, int]] = field(default_factory=dict)
    filled_meanwhile: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    untracked: list[PositionData] = field(default_factory=list)


def plan_positions(
    managed: Iterable[ManagedView],
    snapshot: AccountSnapshot,
    open_buy_codes: Iterable[str] = (),
) -> PositionPlan:
    """Reconcile managed positions with the holdings in `snapshot`.

    `open_buy_codes` are codes with a buy order still open after order reconciliation: a
    managed row with nothing held but such an order stays (its buy is still working).
    """
    plan = PositionPlan()
    held: Mapping[str, PositionData] = {
        p.code: p for p in snapshot.balance.positions if p.quantity > 0
    }
    buying = set(open_buy_codes)
    managed_codes: set[str] = set()
    for view in managed:
        managed_codes.add(view.code)
        position = held.get(view.code)
        if position is not None:
            plan.keep[view.code] = (position.quantity, position.avg_price)
            if view.quantity <= 0:
                plan.filled_meanwhile.append(view.code)
        elif view.code in buying:
            continue
        elif view.quantity > 0:
            plan.dropped[view.code] = (
                f"{view.code} 보유 {view.quantity:,}주가 계좌에 없습니다 "
                "(프로그램이 꺼져 있는 동안 매도된 것으로 보고 추적을 끝냅니다)"
            )
        else:
            plan.dropped[view.code] = f"{view.code} 매수 주문이 체결되지 않고 끝났습니다"
    plan.untracked = [p for code, p in held.items() if code not in managed_codes]
    return plan
