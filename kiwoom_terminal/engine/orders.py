"""The order manager: every order of the engine from request to its last fill.

It maps request ids to order numbers, follows modify (정정) and cancel (취소) chains, keeps
each order's `OrderStatus`, filled and remaining quantity, amend count and purpose
(`"entry"`, an `ExitReason` value, `"manual"` or `"external"`), and turns worker replies and
REAL 00 order events into a short list of `OrderUpdate`s the engine acts on (a fill to book,
an order that closed, an outcome that is UNKNOWN, a market order to send after a cancel).

It sends nothing and has no Qt; the engine owns the queues, the journal and the clock.

Order-safety rules that live here:

* A reply outcome UNKNOWN (timeout, 5xx, worker died) leaves the order open as UNKNOWN: its
  code is blocked for new orders until reconciliation (`apply_plan`) resolves it.
* REAL 00 events can overtake the REST reply that carries the order number. Events for an
  order number nobody knows yet are kept (`orphans`) and replayed when the reply arrives;
  those still unclaimed after `ORPHAN_TTL_S` ask for a reconciliation instead.
* Fills are counted from the cumulative filled quantity of each event, so a repeated event
  can never book a fill twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kiwoom_terminal.constants import (
    OrderAction,
    OrderEventKind,
    OrderStatus,
    OrderType,
    Side,
    Venue,
)
from kiwoom_terminal.engine.reconcile import KnownOrder, OrderPlan, Resolution, UnknownRequest
from kiwoom_terminal.messages import OrderOutcome, OrderReply
from kiwoom_terminal.objects import OpenOrderData, OrderEventData, OrderRequest

log = logging.getLogger(__name__)

ORPHAN_TTL_S = 10.0  # how long an event for an unknown order number waits for its reply
# An account order stamped this much before our send can still be ours (clock estimates and
# server stamps differ by a second or two); one stamped earlier than that cannot.
UNKNOWN_MATCH_SLACK_S = 10
ENTRY = "entry"
MANUAL = "manual"
EXTERNAL = "external"  # found in the account, not placed by this engine (HTS, other app)


@dataclass(slots=True)
class ManagedOrder:
    """One order as the engine tracks it. Times: `sent_at` / `answered_at` epoch (for
    reconciliation: an account snapshot taken after `answered_at` must show the order),
    `last_action_at` monotonic (accepted or last amended; for the amend policy)."""

    request_id: str
    code: str
    side: Side
    order_type: OrderType
    price: int
    quantity: int
    venue: Venue = Venue.KRX
    purpose: str = MANUAL
    name: str = ""
    order_no: str = ""
    orig_order_no: str = ""
    filled: int = 0
    filled_amount: int = 0
    amend_count: int = 0
    status: OrderStatus = OrderStatus.SUBMITTING
    time: str = ""
    sent_at: float = 0.0
    answered_at: float = 0.0  # epoch when the order number (or an UNKNOWN outcome) came back
    last_action_at: float = 0.0
    in_flight: str = ""  # request id of a modify / cancel awaiting its reply
    amend_failures: int = 0
    request: OrderRequest | None = None
    sent_server_time: str = ""  # HHmmss of the server's clock when sent ("" = not known)

    @property
    def remaining(self) -> int:
        return max(0, self.quantity - self.filled) if self.status.is_open else 0

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def automatic(self) -> bool:
        return self.purpose not in (MANUAL, EXTERNAL)

    @property
    def key(self) -> str:
        """Row key of the open-orders table: the order number, or the request id until the
        server has given one."""
        return self.order_no or self.request_id

    def row(self) -> dict[str, Any]:
        return {
            "order_no": self.key,
            "orig_order_no": self.orig_order_no,
            "time": self.time,
            "code": self.code,
            "name": self.name,
            "side": self.side.value,
            "order_type": self.order_type.value,
            "price": int(self.price),
            "quantity": int(self.quantity),
            "remaining": int(self.remaining),
            "filled": int(self.filled),
            "amend_count": int(self.amend_count),
            "venue": self.venue.value,
            "status": self.status.value,
            "purpose": self.purpose,
        }

    def to_record(self) -> dict[str, Any]:
        record = {k: getattr(self, k) for k in self.__slots__}
        record["side"] = self.side.value
        record["order_type"] = self.order_type.value
        record["venue"] = self.venue.value
        record["status"] = self.status.value
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ManagedOrder:
        values = dict(record)
        values["side"] = Side(values["side"])
        values["order_type"] = OrderType(values["order_type"])
        values["venue"] = Venue(values["venue"])
        values["status"] = OrderStatus(values["status"])
        values["in_flight"] = ""  # a reply to a previous process never comes
        return cls(**values)


@dataclass(frozen=True, slots=True)
class _Command:
    """A modify / cancel in flight: its target, and for a cancel whether the cancelled
    quantity is then re-sent at market."""

    action: OrderAction
    target: ManagedOrder
    price: int = 0
    quantity: int = 0
    then_market: bool = False


# --- What the engine is told ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fill:
    """A fill of ours: `quantity` shares at `price` (this fill only)."""

    order: ManagedOrder
    quantity: int
    price: int
    fill_id: str
    time: str
    fee: int = 0
    tax: int = 0
    found_by_reconcile: bool = False


@dataclass(frozen=True, slots=True)
class Accepted:
    order: ManagedOrder


@dataclass(frozen=True, slots=True)
class Closed:
    """The order will not fill any more: FILLED, CANCELLED, REPLACED or REJECTED.
    `not_placed`: REJECTED because it never reached the book (the server said it did not
    process it, or an order of unknown outcome is not in the account), not on its merits."""

    order: ManagedOrder
    reason: str = ""
    not_placed: bool = False


@dataclass(frozen=True, slots=True)
class Unknown:
    """A command's outcome is unknown: block `order.code`, reconcile."""

    order: ManagedOrder
    reason: str


@dataclass(frozen=True, slots=True)
class CommandFailed:
    """A modify / cancel was refused or not processed (the order itself is unchanged)."""

    order: ManagedOrder
    action: OrderAction
    reason: str


@dataclass(frozen=True, slots=True)
class ResendAtMarket:
    """A cancel for the after-last-amend policy went through: send `quantity` at market."""

    order: ManagedOrder
    quantity: int


@dataclass(frozen=True, slots=True)
class NeedReconcile:
    reason: str


OrderUpdate = Fill | Accepted | Closed | Unknown | CommandFailed | ResendAtMarket | NeedReconcile


# --- The manager --------------------------------------------------------------------------


@dataclass
class _Orphan:
    event: OrderEventData
    at: float


@dataclass
class OrderManager:
    """All orders of the day, by request id and by order number."""

    by_request: dict[str, ManagedOrder] = field(default_factory=dict)
    by_no: dict[str, ManagedOrder] = field(default_factory=dict)
    live: dict[str, ManagedOrder] = field(default_factory=dict)  # open ones, pruned lazily
    commands: dict[str, _Command] = field(default_factory=dict)
    legs: set[str] = field(default_factory=set)  # order numbers of our modify/cancel legs
    orphans: dict[str, list[_Orphan]] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)  # keys whose open-orders row changed

    # --- queries -------------------------------------------------------------------------

    def open_orders(self) -> list[ManagedOrder]:
        """Orders still open (a closed order never reopens, so it leaves `live` for good)."""
        closed = [key for key, order in self.live.items() if not order.status.is_open]
        for key in closed:
            del self.live[key]
        return list(self.live.values())

    def _register(self, order: ManagedOrder) -> None:
        self.by_request[order.request_id] = order
        if order.order_no:
            self.by_no[order.order_no] = order
        if order.is_open:
            self.live[order.request_id] = order
        self.dirty.add(order.key)

    def open_for(self, code: str, side: Side | None = None) -> list[ManagedOrder]:
        return [
            o for o in self.open_orders() if o.code == code and (side is None or o.side is side)
        ]

    def pending_pairs(self) -> frozenset[tuple[str, Side]]:
        """(code, side) of every open order, for the duplicate guard."""
        return frozenset((o.code, o.side) for o in self.open_orders())

    def unknown_codes(self) -> set[str]:
        return {o.code for o in self.open_orders() if o.status is OrderStatus.UNKNOWN}

    def get(self, order_no: str) -> ManagedOrder | None:
        return self.by_no.get(order_no) or self.by_request.get(order_no)

    # --- sending -------------------------------------------------------------------------

    def add_new(
        self,
        request_id: str,
        request: OrderRequest,
        *,
        purpose: str,
        name: str,
        now_mono: float,
        now_wall: float,
    ) -> ManagedOrder:
        """Register a new order just before it is put on the queue."""
        order = ManagedOrder(
            request_id=request_id,
            code=request.code,
            side=request.side,
            order_type=request.order_type,
            price=request.price,
            quantity=request.quantity,
            venue=request.venue,
            purpose=purpose,
            name=name,
            sent_at=now_wall,
            last_action_at=now_mono,
            request=request,
        )
        self._register(order)
        return order

    def add_modify(self, request_id: str, order: ManagedOrder, price: int, quantity: int) -> None:
        order.in_flight = request_id
        self.commands[request_id] = _Command(OrderAction.MODIFY, order, price, quantity)

    def add_cancel(
        self, request_id: str, order: ManagedOrder, quantity: int, *, then_market: bool
    ) -> None:
        order.in_flight = request_id
        self.commands[request_id] = _Command(
            OrderAction.CANCEL, order, 0, quantity, then_market=then_market
        )

    # --- replies -------------------------------------------------------------------------

    def on_reply(self, reply: OrderReply, now_mono: float) -> list[OrderUpdate]:
        command = self.commands.pop(reply.request_id, None)
        if command is not None:
            return self._command_reply(command, reply, now_mono)
        order = self.by_request.get(reply.request_id)
        if order is None:
            log.warning("reply for an unknown order request %s ignored", reply.request_id)
            return []
        why = str(reply.error) if reply.error else ""
        if reply.outcome is OrderOutcome.ACCEPTED and reply.ack is not None:
            if order.status is OrderStatus.UNKNOWN and order.order_no:
                return []
            order.order_no = reply.ack.order_no
            order.answered_at = time.time()
            if order.status in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN):
                order.status = OrderStatus.ACCEPTED
            order.last_action_at = now_mono
            self.by_no[order.order_no] = order
            self.dirty.add(order.key)
            self.dirty.add(order.request_id)
            updates: list[OrderUpdate] = [Accepted(order)]
            updates += self._replay(order.order_no, now_mono)
            return updates
        if reply.outcome is OrderOutcome.UNKNOWN:
            order.status = OrderStatus.UNKNOWN
            order.answered_at = time.time()
            self.dirty.add(order.key)
            return [Unknown(order, why or "주문 결과를 알 수 없습니다")]
        order.status = OrderStatus.REJECTED
        self.dirty.add(order.key)
        if reply.outcome is OrderOutcome.NOT_PROCESSED:
            return [Closed(order, why or "서버가 주문을 처리하지 않았습니다", not_placed=True)]
        return [Closed(order, why or "주문이 거부되었습니다")]

    def _command_reply(
        self, command: _Command, reply: OrderReply, now_mono: float
    ) -> list[OrderUpdate]:
        target = command.target
        target.in_flight = ""
        why = str(reply.error) if reply.error else ""
        if reply.outcome is OrderOutcome.UNKNOWN:
            return [Unknown(target, why or "정정/취소 결과를 알 수 없습니다")]
        if reply.outcome is not OrderOutcome.ACCEPTED or reply.ack is None:
            target.amend_failures += 1
            return [CommandFailed(target, command.action, why or "거부됨")]
        ack = reply.ack
        self.legs.add(ack.order_no)
        updates: list[OrderUpdate] = []
        if command.action is OrderAction.MODIFY:
            moved = ack.quantity or command.quantity or target.remaining
            successor = ManagedOrder(
                request_id=reply.request_id,
                code=target.code,
                side=target.side,
                order_type=target.order_type,
                price=command.price,
                quantity=moved,
                venue=target.venue,
                purpose=target.purpose,
                name=target.name,
                order_no=ack.order_no,
                orig_order_no=target.order_no,
                amend_count=target.amend_count + 1,
                status=OrderStatus.ACCEPTED,
                time=target.time,
                sent_at=target.sent_at,
                answered_at=time.time(),
                last_action_at=now_mono,
            )
            # The moved quantity leaves the original; what it filled stays with it.
            target.quantity = target.filled + max(0, target.quantity - target.filled - moved)
            if target.remaining <= 0:
                target.status = OrderStatus.REPLACED
                updates.append(Closed(target, f"정정 → {ack.order_no}"))
            self._register(successor)
            self.dirty.add(target.key)
            updates.append(Accepted(successor))
            updates += self._replay(successor.order_no, now_mono)
            return updates
        # Cancel accepted: the cancelled quantity will not fill.
        cancelled = ack.quantity or command.quantity or target.remaining
        cancelled = min(cancelled, target.remaining) if target.remaining else cancelled
        target.quantity = max(target.filled, target.quantity - cancelled)
        if target.remaining <= 0:
            target.status = OrderStatus.CANCELLED
            updates.append(Closed(target, f"취소 {cancelled:,}주"))
        self.dirty.add(target.key)
        if command.then_market and cancelled > 0:
            updates.append(ResendAtMarket(target, cancelled))
        updates += self._replay(ack.order_no, now_mono)
        return updates

    # --- events --------------------------------------------------------------------------

    def on_event(self, event: OrderEventData, now_mono: float) -> list[OrderUpdate]:
        order = self.by_no.get(event.order_no)
        if order is None:
            if event.order_no in self.legs:
                return self._leg_event(event)
            self.orphans.setdefault(event.order_no, []).append(_Orphan(event, now_mono))
            return []
        return self._apply_event(order, event)

    def _leg_event(self, event: OrderEventData) -> list[OrderUpdate]:
        """An event of a cancel leg (접수 / 확인): the original is closed by the ack; a late
        confirmation for a still-open original closes it here."""
        if event.action is OrderAction.CANCEL and event.kind is OrderEventKind.CONFIRMED:
            original = self.by_no.get(event.orig_order_no)
            if original is not None and original.is_open and original.in_flight == "":
                original.quantity = original.filled
                original.status = OrderStatus.CANCELLED
                self.dirty.add(original.key)
                return [Closed(original, "취소 확인")]
        return []

    def _apply_event(self, order: ManagedOrder, event: OrderEventData) -> list[OrderUpdate]:
        updates: list[OrderUpdate] = []
        if event.time and not order.time:
            order.time = event.time
        if event.name and not order.name:
            order.name = event.name
        kind = event.kind
        if kind is OrderEventKind.REJECTED:
            if order.is_open:
                order.status = OrderStatus.REJECTED
                self.dirty.add(order.key)
                reason = event.reject_reason or "거부"
                updates.append(Closed(order, f"거부: {reason}"))
            return updates
        cumulative = event.filled_qty
        if kind is OrderEventKind.FILLED and cumulative <= 0:
            cumulative = order.filled + event.unit_fill_qty
        if cumulative > order.filled:
            quantity = cumulative - order.filled
            order.filled = cumulative
            if order.quantity < order.filled:
                order.quantity = order.filled
            order.filled_amount = event.filled_amount or order.filled_amount
            price = event.unit_fill_price or (
                event.filled_amount // cumulative if cumulative else order.price
            )
            fill_id = f"{order.order_no}-{event.fill_no or cumulative}"
            updates.append(Fill(order, quantity, price, fill_id, event.time, event.fee, event.tax))
            self.dirty.add(order.key)
        if order.status in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN):
            order.status = OrderStatus.ACCEPTED
            self.dirty.add(order.key)
        if order.is_open:
            if order.filled >= order.quantity > 0:
                order.status = OrderStatus.FILLED
                updates.append(Closed(order, "전량 체결"))
            elif order.filled > 0 and order.status is OrderStatus.ACCEPTED:
                order.status = OrderStatus.PARTIALLY_FILLED
            elif kind is OrderEventKind.CANCELLED and event.unfilled_qty == 0:
                order.quantity = order.filled
                order.status = OrderStatus.CANCELLED
                updates.append(Closed(order, "취소"))
            self.dirty.add(order.key)
        return updates

    def _replay(self, order_no: str, now_mono: float) -> list[OrderUpdate]:
        waiting = self.orphans.pop(order_no, [])
        updates: list[OrderUpdate] = []
        for orphan in waiting:
            updates += self.on_event(orphan.event, now_mono)
        return updates

    def expire_orphans(self, now_mono: float) -> list[OrderUpdate]:
        """Events whose order number no reply claimed in time: someone else's order (HTS) or
        a reply that was lost. Drop them and ask for a reconciliation."""
        expired = [
            no
            for no, items in self.orphans.items()
            if items and now_mono - items[0].at > ORPHAN_TTL_S
        ]
        for no in expired:
            del self.orphans[no]
        if not expired:
            return []
        return [NeedReconcile(f"알 수 없는 주문번호의 체결/접수 이벤트: {', '.join(expired)}")]

    # --- reconciliation ------------------------------------------------------------------

    def known_orders(self, answered_before: float) -> list[KnownOrder]:
        """Open orders with a number the server gave before `answered_before` (epoch): an
        account snapshot taken after that must show them."""
        return [
            KnownOrder(o.order_no, o.code, o.side, o.quantity, o.filled)
            for o in self.open_orders()
            if o.order_no
            and o.status is not OrderStatus.UNKNOWN
            and o.answered_at <= answered_before
        ]

    def unknown_requests(self) -> list[UnknownRequest]:
        """New orders with an UNKNOWN outcome, stamped with when that became known."""
        return [
            UnknownRequest(
                o.request_id,
                o.request,
                max(o.sent_at, o.answered_at),
                _seconds_before(o.sent_server_time, UNKNOWN_MATCH_SLACK_S),
            )
            for o in self.open_orders()
            if o.status is OrderStatus.UNKNOWN and o.request is not None and not o.order_no
        ]

    def apply_plan(
        self, plan: OrderPlan, now_mono: float, names: dict[str, str] | None = None
    ) -> tuple[list[OrderUpdate], list[str]]:
        """Bring the orders in line with `plan`; returns the updates (fills found, closed
        orders) and Korean report lines for the journal and the log."""
        updates: list[OrderUpdate] = []
        report: list[str] = []
        names = names or {}
        successors = {row.orig_order_no for row in plan.adopt if row.orig_order_no}
        # Adoptions first: the fills of a modify's new order must be booked before its
        # original is closed as replaced, or the position (a buy with nothing else open)
        # would be dropped as idle in between.
        for row in plan.adopt:
            adopted = self._adopt(row, now_mono, names)
            done = plan.successor_fills.get(row.order_no)
            finished = done is not None and not done.open  # only in the fills: never open
            if done is not None:
                if adopted.purpose != EXTERNAL:  # ours: book what it filled before now
                    adopted.filled = 0
                    updates += self._set_progress(
                        adopted, done.filled, done.fill_price, now_mono, done.fill_time
                    )
                if finished:
                    adopted.status = OrderStatus.FILLED
                    updates.append(Closed(adopted, "정정 후 체결 완료 (재조정)"))
                    report.append(
                        f"주문 {row.orig_order_no}의 정정 주문 {row.order_no} ({row.code} "
                        f"{row.side.text} {done.filled:,}주 체결)을 이어받았습니다"
                    )
                updates += self._replay(adopted.order_no, now_mono)
            if finished:
                continue
            what = f"{row.order_no} ({row.code} {row.side.text} {row.unfilled_qty:,}주)"
            if adopted.purpose != EXTERNAL and row.orig_order_no in self.by_no:
                # a modify of ours whose reply was lost: our order under its new number
                report.append(f"주문 {row.orig_order_no}의 정정 주문 {what}을 이어받았습니다")
            else:
                state = "이어받았습니다" if adopted.automatic else "외부 주문으로 표시합니다"
                report.append(f"알 수 없던 미체결 주문 {what}을 {state}")
        for order_no, progress in plan.progress.items():
            order = self.by_no.get(order_no)
            if order is None or not order.is_open:
                continue
            updates += self._set_progress(
                order, progress.filled, progress.fill_price, now_mono, progress.fill_time
            )
            if progress.open:
                order.quantity = max(order.filled + progress.remaining, order.filled)
                if order.status is OrderStatus.UNKNOWN:
                    order.status = OrderStatus.ACCEPTED
            else:
                order.quantity = order.filled if order.filled else order.quantity
                if order_no in successors:
                    order.quantity = order.filled
                    order.status = OrderStatus.REPLACED
                    why = "정정됨 (재조정)"
                elif order.filled >= order.quantity and order.filled > 0:
                    order.status = OrderStatus.FILLED
                    why = "체결 완료 (재조정)"
                else:
                    order.quantity = order.filled
                    order.status = OrderStatus.CANCELLED
                    why = "미체결 없음 → 취소된 것으로 처리 (재조정)"
                updates.append(Closed(order, why))
                report.append(f"주문 {order_no} ({order.code}) {why}")
            self.dirty.add(order.key)
        for request_id, outcome in plan.requests.items():
            order = self.by_request.get(request_id)
            if order is None:
                continue
            if outcome.resolution is Resolution.ADOPT and outcome.progress is not None:
                order.order_no = outcome.order_no
                self.by_no[order.order_no] = order
                order.status = OrderStatus.ACCEPTED
                updates += self._set_progress(
                    order,
                    outcome.progress.filled,
                    outcome.progress.fill_price,
                    now_mono,
                    outcome.progress.fill_time,
                )
                if not outcome.progress.open:
                    order.status = (
                        OrderStatus.FILLED
                        if order.filled >= order.quantity
                        else OrderStatus.CANCELLED
                    )
                    order.quantity = max(order.filled, 0) if order.filled else order.quantity
                    updates.append(Closed(order, "재조정으로 확인"))
                report.append(
                    f"결과를 몰랐던 주문 ({order.code} {order.side.text} {order.quantity:,}주)을 "
                    f"계좌에서 찾았습니다: 주문번호 {order.order_no}"
                )
                updates += self._replay(order.order_no, now_mono)
            elif outcome.resolution is Resolution.NOT_PLACED:
                order.status = OrderStatus.REJECTED
                updates.append(Closed(order, "접수되지 않음 (재조정)", not_placed=True))
                report.append(
                    f"결과를 몰랐던 주문 ({order.code} {order.side.text} {order.quantity:,}주)은 "
                    "계좌에 없습니다: 접수되지 않은 것으로 처리합니다"
                )
            elif outcome.resolution is Resolution.AMBIGUOUS:
                order.status = OrderStatus.CANCELLED
                updates.append(Closed(order, "계좌에 비슷한 주문이 여럿"))
                report.append(
                    f"결과를 몰랐던 주문 ({order.code})과 같은 주문이 계좌에 여러 건 있습니다 "
                    f"({', '.join(outcome.candidates)}): 외부 주문으로 표시하니 직접 확인하세요"
                )
            self.dirty.add(order.key)
        return updates, report

    def _set_progress(
        self, order: ManagedOrder, filled: int, price: int, now_mono: float, fill_time: str = ""
    ) -> list[OrderUpdate]:
        """Fills the account shows beyond what we booked, as one Fill at the account's last
        fill price and time (the order's own time when the account gives none)."""
        if filled <= order.filled:
            return []
        quantity = filled - order.filled
        order.filled = filled
        if order.quantity < filled:
            order.quantity = filled
        fill_price = price or order.price
        return [
            Fill(
                order,
                quantity,
                fill_price,
                f"{order.order_no}-R{filled}",
                fill_time or order.time,
                found_by_reconcile=True,
            )
        ]

    def _adopt(self, row: OpenOrderData, now_mono: float, names: dict[str, str]) -> ManagedOrder:
        parent = self.by_no.get(row.orig_order_no) if row.orig_order_no else None
        order = ManagedOrder(
            request_id=f"adopted-{row.order_no}",
            code=row.code,
            side=row.side,
            order_type=row.order_type or OrderType.LIMIT,
            price=row.order_price,
            quantity=row.order_qty,
            venue=row.venue,
            purpose=parent.purpose if parent is not None else EXTERNAL,
            name=row.name or names.get(row.code, ""),
            order_no=row.order_no,
            orig_order_no=row.orig_order_no,
            filled=max(0, row.order_qty - row.unfilled_qty),
            amend_count=parent.amend_count + 1 if parent is not None else 0,
            status=OrderStatus.ACCEPTED,
            time=row.time,
            last_action_at=now_mono,
        )
        if order.filled > 0:
            order.status = OrderStatus.PARTIALLY_FILLED
        self._register(order)
        return order

    # --- persistence and the day ---------------------------------------------------------

    def records(self) -> list[dict[str, Any]]:
        """Open orders as plain values for the snapshot."""
        return [o.to_record() for o in self.open_orders()]

    def restore(self, records: Iterable[dict[str, Any]], now_mono: float) -> None:
        """Open orders of a snapshot. Their amend clocks restart at `now_mono`: the saved
        `last_action_at` is the old process's monotonic time, meaningless after a reboot."""
        for record in records:
            order = ManagedOrder.from_record(record)
            if not order.is_open:
                continue
            order.last_action_at = now_mono
            if not order.order_no and order.status is OrderStatus.SUBMITTING:
                # Sent by the previous process without a reply: we cannot know.
                order.status = OrderStatus.UNKNOWN
            self._register(order)

    def drop_closed(self) -> None:
        """Forget closed orders (at the trading-day change)."""
        for request_id in [r for r, o in self.by_request.items() if not o.is_open]:
            order = self.by_request.pop(request_id)
            self.by_no.pop(order.order_no, None)
        self.legs.clear()

    def take_dirty(self) -> set[str]:
        dirty, self.dirty = self.dirty, set()
        return dirty


def _seconds_before(hhmmss: str, seconds: int) -> str:
    """`hhmmss` minus `seconds` (clamped at midnight); "" stays "" (no bound)."""
    if len(hhmmss) < 6 or not hhmmss[:6].isdigit():
        return ""
    total = int(hhmmss[:2]) * 3600 + int(hhmmss[2:4]) * 60 + int(hhmmss[4:6]) - seconds
    total = max(0, total)
    return f"{total // 3600:02d}{total % 3600 // 60:02d}{total % 60:02d}"
