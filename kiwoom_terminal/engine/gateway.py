"""The order gateway: the only place orders leave the engine, and where their results land.

Sending (`place`, `modify`, `cancel`), in this order, every time:

1. refuse before the start-up reconciliation has finished, for a code blocked by an order
   with an unknown outcome, for a sell while a sell of that code is still open, and during
   the cool-down after the server rejected an automatic order of that code and side;
2. check the risk limits (`decisions.check_risk`; cancels always pass);
3. write the decision and the request to the journal ahead of sending (`Journal.written_ahead`:
   durable before the order leaves, committed to SQLite right after it);
4. register the order (`OrderManager`) and mark the position buy / sell pending, so a
   second tick batch or condition event cannot send it again;
5. put it on the order worker's queue.

Receiving: worker replies and REAL 00 events go through the `OrderManager`, and each
resulting `OrderUpdate` is booked here: fills move the position, the day's P/L, the fills
table and the journal; closed orders clear the pending flags; an UNKNOWN outcome blocks the
code and asks for a reconciliation; a cancel for the after-last-amend policy sends the
market order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from kiwoom_terminal.constants import OrderAction, OrderStatus, OrderType, Side
from kiwoom_terminal.decisions import RiskOrder, check_risk
from kiwoom_terminal.engine.context import EngineContext
from kiwoom_terminal.engine.journal import JournalKind
from kiwoom_terminal.engine.orders import (
    EXTERNAL,
    MANUAL,
    Accepted,
    Closed,
    CommandFailed,
    Fill,
    ManagedOrder,
    NeedReconcile,
    OrderUpdate,
    ResendAtMarket,
    Unknown,
)
from kiwoom_terminal.engine.positions import TrackedPosition
from kiwoom_terminal.engine.status import OwnFill
from kiwoom_terminal.messages import (
    CancelOrderRequest,
    ModifyOrderRequest,
    OrderReply,
    PlaceOrderRequest,
    new_request_id,
)
from kiwoom_terminal.objects import (
    CancelRequest,
    ModifyRequest,
    OrderEventData,
    OrderRequest,
)

log = logging.getLogger(__name__)

REJECT_COOLDOWN_S = 10.0  # no automatic order of the same code and side after a rejection
# After an automatic order that never reached the book (server error, rate limit, worker
# down): wait this long, not REJECT_COOLDOWN_S. Nothing was refused on its merits, and a
# stop-loss held back 10 s after one 5xx costs money; the pause only keeps a tick-driven
# exit from re-sending on every tick while the server keeps failing.
NOT_PLACED_RETRY_S = 1.0
RISK_JOURNAL_EVERY_S = 60.0  # the same risk refusal of a stock is journaled at most this often


class OrderGateway:
    """Sends orders with every safety check and books what comes back (module docstring)."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.cooldown: dict[tuple[str, Side], float] = {}  # (code, side) → until (mono)
        self._cooldown_why: dict[tuple[str, Side], str] = {}  # … → why, for the refusal
        # the account's average price of a holding the engine does not manage, taken when
        # its sell is sent: the 잔고 row may be gone (balance event) before the fill is booked
        self.unmanaged_cost: dict[str, int] = {}
        self._risk_journaled: dict[tuple[str, str, str], float] = {}  # key → when (mono)
        self.on_auto_off: Callable[[str], None] | None = None  # the engine turns auto-trade off
        # An automatic sell was refused or never placed: the exit rules must look at the
        # position again (the auto-trader retries it every second, ticks or not).
        self.on_exit_failed: Callable[[str], None] | None = None

    # --- sending -----------------------------------------------------------------------

    def place(
        self,
        request: OrderRequest,
        *,
        purpose: str,
        reason: str,
        source: str = "",
        detail: dict[str, Any] | None = None,
        manual: bool = False,
        check_limits: bool = True,
    ) -> tuple[ManagedOrder | None, str]:
        """Send a new order; returns (order, "") or (None, Korean reason it was not sent)."""
        ctx = self.ctx
        code, side = request.code, request.side
        refusal = self._refusal(code, side, manual=manual)
        if refusal:
            return None, refusal
        if side is Side.SELL and ctx.orders.open_for(code, Side.SELL):
            return None, f"{code} 매도 주문이 이미 미체결 상태라 다시 보내지 않습니다"
        if check_limits:
            position = ctx.positions.get(code)
            price = request.price or self._reference_price(code, side)
            verdict = check_risk(
                RiskOrder(
                    code,
                    side,
                    request.quantity,
                    price,
                    OrderAction.NEW,
                    opens_position=side is Side.BUY and (position is None or not position.held),
                    manual=manual,
                ),
                ctx.risk_state(),
                ctx.rules.risk,
                ctx.mono(),
            )
            if not verdict.allowed:
                # An exit retried every second meets the same limit again: journal it once
                # a minute per stock, side and limit, not on every retry.
                key = (code, side.value, verdict.code.value)
                if ctx.mono() - self._risk_journaled.get(key, -RISK_JOURNAL_EVERY_S) >= (
                    RISK_JOURNAL_EVERY_S
                ):
                    self._risk_journaled[key] = ctx.mono()
                    ctx.journal.record(
                        JournalKind.RISK,
                        code=code,
                        side=side.value,
                        price=request.price,
                        quantity=request.quantity,
                        reason=verdict.message,
                        detail={"risk": verdict.code.value, "purpose": purpose},
                    )
                if verdict.disable_auto_trade and self.on_auto_off is not None:
                    self.on_auto_off(verdict.message)
                return None, verdict.message
            if verdict.disable_auto_trade and self.on_auto_off is not None:
                self.on_auto_off(verdict.message)
        request_id = new_request_id()
        # The newest server stamp seen before the order leaves (HHmmss; "" before any): an
        # order of unknown outcome is only ever matched to an account order stamped after
        # it, never to an earlier one of the same stock and size. A server stamp, not this
        # PC's clock: a PC clock running ahead must never make our own order look earlier.
        server_time = ctx.clock.last_stamp
        info = {
            "purpose": purpose,
            "order_type": request.order_type.value,
            "venue": request.venue.value,
            "source": source,
            "server_time": server_time,
            **(detail or {}),
        }
        cost = self._unmanaged_cost_now(code) if side is Side.SELL else 0
        if cost:
            info["cost_basis"] = cost  # a restart books this sell's P/L from it
        fields = {
            "code": code,
            "side": side.value,
            "request_id": request_id,
            "price": request.price,
            "quantity": request.quantity,
            "reason": reason,
            "detail": info,
        }
        entries: list[tuple[JournalKind, dict[str, Any]]] = []
        if not manual:
            # The decision row carries the price that decided (a market order has none).
            seen = int(info.get("trigger_price") or 0) or request.price
            entries.append((JournalKind.DECISION, {**fields, "price": seen}))
        entries.append((JournalKind.ORDER_REQUEST, fields))
        # Written ahead: durable before the order leaves, in SQLite right after (journal.py).
        with ctx.journal.written_ahead(entries):
            order = self.register_sent(
                request_id,
                request,
                purpose=purpose,
                source=source,
                reason=reason,
                sent_at=ctx.wall(),
                server_time=server_time,
                cost_basis=cost,
            )
            ctx.ledger.order_sent(ctx.mono())
            try:
                ctx.send(PlaceOrderRequest(request, request_id=request_id))
            except Exception as exc:  # the supervisor is stopped: nothing was sent
                order.status = OrderStatus.REJECTED
                ctx.refresh_pending(code)
                self._drop_if_idle(code)
                message = f"{code} 주문을 보내지 못했습니다: {exc}"
                ctx.journal.record(
                    JournalKind.ORDER_REJECT, code=code, request_id=request_id, reason=message
                )
                return None, message
        side_text = side.text
        kind = "시장가" if request.order_type is OrderType.MARKET else f"{request.price:,}원"
        ctx.log(
            "INFO",
            f"{side_text} 주문 {code} {ctx.name(code)} {request.quantity:,}주 {kind} — {reason}",
        )
        return order, ""

    def register_sent(
        self,
        request_id: str,
        request: OrderRequest,
        *,
        purpose: str,
        source: str,
        reason: str,
        sent_at: float,
        server_time: str = "",
        cost_basis: int = 0,
    ) -> ManagedOrder:
        """Register a new order as sent and mark its position buy / sell pending (a buy also
        starts tracking the code and counts for the re-buy block). `place` calls it just
        before the order is queued; restart recovery calls it for orders the journal holds
        but the snapshot does not."""
        ctx = self.ctx
        code = request.code
        order = ctx.orders.add_new(
            request_id,
            request,
            purpose=purpose,
            name=ctx.name(code),
            now_mono=ctx.mono(),
            now_wall=sent_at,
        )
        order.sent_server_time = server_time
        if request.side is Side.SELL:
            cost = cost_basis or self._unmanaged_cost_now(code)
            if cost:
                self.unmanaged_cost[code] = cost
        position = ctx.positions.get(code)
        if request.side is Side.BUY:
            if position is None:
                position = TrackedPosition(code, ctx.name(code), source=source or purpose)
                ctx.positions[code] = position
            position.buy_pending = True
            ctx.ledger.bought.add(code)
        elif position is not None:
            position.sell_pending = True
        if position is not None:
            position.reason = reason
        ctx.positions_dirty = True
        return order

    def _unmanaged_cost_now(self, code: str) -> int:
        """The account's average price of `code` when the engine does not manage it (no
        position, or one without a cost), else 0."""
        position = self.ctx.positions.get(code)
        if position is not None and position.avg_price:
            return 0
        held = self.ctx.tables.get("holdings", code)
        return int(held.get("avg_price") or 0) if held else 0

    def modify(self, order: ManagedOrder, price: int, quantity: int, reason: str) -> bool:
        """Amend (정정) `order` to `price` for `quantity` shares on its venue."""
        ctx = self.ctx
        if not order.order_no or order.in_flight or not order.is_open:
            return False
        refusal = self._refusal(order.code, None, manual=True)
        if refusal:
            return False
        verdict = check_risk(
            RiskOrder(order.code, order.side, quantity, price, OrderAction.MODIFY),
            ctx.risk_state(),
            ctx.rules.risk,
            ctx.mono(),
        )
        if not verdict.allowed:
            ctx.journal.record(
                JournalKind.RISK, code=order.code, order_no=order.order_no, reason=verdict.message
            )
            ctx.log("WARNING", verdict.message)
            return False
        request_id = new_request_id()
        amend = {
            "code": order.code,
            "side": order.side.value,
            "order_no": order.order_no,
            "request_id": request_id,
            "price": price,
            "quantity": quantity,
            "reason": reason,
            "detail": {"from_price": order.price, "amend_count": order.amend_count + 1},
        }
        with ctx.journal.written_ahead([(JournalKind.AMEND, amend)]):
            ctx.orders.add_modify(request_id, order, price, quantity)
            ctx.ledger.order_sent(ctx.mono())
            command = ModifyOrderRequest(
                ModifyRequest(order.order_no, order.code, quantity, price, order.venue),
                request_id=request_id,
            )
            return self._send_command(order, command, "정정", reason)

    def cancel(
        self, order: ManagedOrder, reason: str, *, quantity: int = 0, then_market: bool = False
    ) -> bool:
        """Cancel (취소) `quantity` (0 = all remaining) of `order`. Always allowed."""
        ctx = self.ctx
        if not order.order_no or order.in_flight or not order.is_open:
            return False
        request_id = new_request_id()
        quantity = quantity or order.remaining
        cancel = {
            "code": order.code,
            "side": order.side.value,
            "order_no": order.order_no,
            "request_id": request_id,
            "price": order.price,
            "quantity": quantity,
            "reason": reason,
            "detail": {"then_market": then_market},
        }
        with ctx.journal.written_ahead([(JournalKind.CANCEL, cancel)]):
            ctx.orders.add_cancel(request_id, order, quantity, then_market=then_market)
            command = CancelOrderRequest(
                CancelRequest(order.order_no, order.code, quantity, order.venue),
                request_id=request_id,
            )
            return self._send_command(order, command, "취소", reason)

    def _send_command(
        self,
        order: ManagedOrder,
        command: ModifyOrderRequest | CancelOrderRequest,
        what: str,
        reason: str,
    ) -> bool:
        """Queue a registered modify / cancel; if the supervisor cannot take it, forget the
        command again (nothing was sent) and say so."""
        ctx = self.ctx
        try:
            ctx.send(command)
        except Exception as exc:
            ctx.orders.commands.pop(command.request_id, None)
            order.in_flight = ""
            ctx.log("ERROR", f"{what} 주문을 보내지 못했습니다 ({order.order_no}): {exc}")
            return False
        ctx.log("INFO", f"{what} {order.code} 주문 {order.order_no}: {reason}")
        return True

    def _refusal(self, code: str, side: Side | None, *, manual: bool) -> str:
        ctx = self.ctx
        if not ctx.ready:
            return "계좌 확인(재조정)이 끝나기 전이라 주문하지 않습니다. 잠시 후 다시 시도하세요"
        if code in ctx.blocked:
            return (
                f"{code}: 결과를 알 수 없는 주문이 있어 계좌를 다시 확인하는 중입니다. "
                "확인이 끝난 뒤 다시 시도하세요"
            )
        if side is not None and not manual:
            until = self.cooldown.get((code, side), 0.0)
            if ctx.mono() < until:
                why = self._cooldown_why.get((code, side), "거부되어")
                return f"{code}: 직전 자동 주문이 {why} {until - ctx.mono():.0f}초 동안 쉽니다"
        return ""

    def _reference_price(self, code: str, side: Side) -> int:
        market = self.ctx.market
        quote = market.best_ask(code) if side is Side.BUY else market.best_bid(code)
        return quote or market.last_price(code) or 0

    # --- receiving ---------------------------------------------------------------------

    def on_reply(self, reply: OrderReply) -> None:
        self.apply(self.ctx.orders.on_reply(reply, self.ctx.mono()), reply=reply)

    def on_order_events(self, events: Iterable[OrderEventData]) -> None:
        ctx = self.ctx
        updates: list[OrderUpdate] = []
        for event in events:
            ctx.clock.observe(event.time)
            updates += ctx.orders.on_event(event, ctx.mono())
        self.apply(updates)

    def apply(self, updates: Iterable[OrderUpdate], reply: OrderReply | None = None) -> None:
        """Book each update (see the module docstring)."""
        for update in updates:
            if isinstance(update, Fill):
                self._book_fill(update)
            elif isinstance(update, Accepted):
                order = update.order
                self.journal_order(
                    JournalKind.ORDER_ACK,
                    order,
                    f"접수 (정정 {order.amend_count}회)" if order.amend_count else "접수",
                )
            elif isinstance(update, Closed):
                self._closed(update)
            elif isinstance(update, Unknown):
                self._unknown(update)
            elif isinstance(update, CommandFailed):
                self._command_failed(update)
            elif isinstance(update, ResendAtMarket):
                self._resend_at_market(update)
            elif isinstance(update, NeedReconcile):
                self.ctx.request_reconcile(update.reason)

    def journal_order(self, kind: JournalKind, order: ManagedOrder, reason: str) -> None:
        """A journal row describing `order` as it stands (number, request, price, size)."""
        self.ctx.journal.record(
            kind,
            code=order.code,
            side=order.side.value,
            order_no=order.order_no,
            request_id=order.request_id,
            price=order.price,
            quantity=order.quantity,
            reason=reason,
        )

    def _book_fill(self, fill: Fill) -> None:
        ctx = self.ctx
        order = fill.order
        code = order.code
        is_buy = order.side is Side.BUY
        position = ctx.positions.get(code)
        if position is None and order.purpose != EXTERNAL:
            position = TrackedPosition(code, ctx.name(code), source=order.purpose)
            ctx.positions[code] = position
        avg = position.avg_price if position is not None else 0
        if not avg and not is_buy:
            # A holding the engine did not manage (manual sell, sell_all, emergency
            # flatten): its cost is the account's average price, else the P/L of the sell
            # would be only fees and the daily loss limit would miss the real loss.
            avg = self._unmanaged_cost_now(code) or self.unmanaged_cost.get(code, 0)
        pnl = ctx.ledger.book_fill(
            is_buy=is_buy,
            price=fill.price,
            quantity=fill.quantity,
            avg_price=avg or fill.price,
            fee=fill.fee,
            tax=fill.tax,
            fees=ctx.rules.fees,
        )
        if position is not None:
            position.add_fill(is_buy, fill.price, fill.quantity)
            if is_buy and not position.entered_at:
                position.entered_at = fill.time
            if position.price <= 0:
                position.price = fill.price
        if is_buy:
            ctx.ledger.bought.add(code)
        if not fill.found_by_reconcile:
            # Our own newer fill: reconciliation keeps it over an older account snapshot.
            # A fill the reconciliation itself found is the account's, not newer than it.
            ctx.last_fill_at[code] = ctx.wall()
        ctx.positions_dirty = True
        amount = fill.price * fill.quantity
        ctx.tables.set_row(
            "fills",
            fill.fill_id,
            {
                "time": fill.time,
                "order_no": order.order_no,
                "code": code,
                "name": ctx.name(code),
                "side": order.side.value,
                "price": fill.price,
                "quantity": fill.quantity,
                "amount": amount,
                "fee": fill.fee or ctx.rules.fees.commission(amount),
                "tax": fill.tax or ctx.rules.fees.tax(amount, not is_buy),
            },
        )
        ctx.journal.record(
            JournalKind.FILL,
            code=code,
            side=order.side.value,
            order_no=order.order_no,
            request_id=order.request_id,
            price=fill.price,
            quantity=fill.quantity,
            reason=("재조정에서 확인한 체결" if fill.found_by_reconcile else "체결")
            + (f", 실현손익 {pnl:+,}원" if not is_buy else ""),
            detail={
                "purpose": order.purpose,
                "filled": order.filled,
                "remaining": order.remaining,
                "avg_price": avg,
                "realized_pnl": pnl,
            },
        )
        side_text = "매수" if is_buy else "매도"
        ctx.log(
            "INFO",
            f"{side_text} 체결 {code} {ctx.name(code)} {fill.quantity:,}주 @ {fill.price:,}"
            + (f" (실현손익 {pnl:+,}원)" if not is_buy else ""),
        )
        ctx.fill(
            OwnFill(
                code,
                ctx.name(code),
                order.side,
                fill.price,
                fill.quantity,
                fill.time,
                order.order_no,
                order.purpose,
            )
        )
        if position is not None and not position.held:
            ctx.refresh_pending(code)
            self._drop_if_idle(code)

    def _closed(self, update: Closed) -> None:
        ctx = self.ctx
        order = update.order
        code = order.code
        status = order.status
        kind = (
            JournalKind.ORDER_REJECT if status is OrderStatus.REJECTED else JournalKind.ORDER_EVENT
        )
        ctx.journal.record(
            kind,
            code=code,
            side=order.side.value,
            order_no=order.order_no,
            request_id=order.request_id,
            price=order.price,
            quantity=order.quantity,
            reason=f"{status.value}: {update.reason}",
            detail={
                "filled": order.filled,
                "purpose": order.purpose,
                **({"not_placed": True} if update.not_placed else {}),
            },
        )
        side_text = order.side.text
        automatic = order.purpose not in (MANUAL, EXTERNAL)
        if status is OrderStatus.REJECTED and update.not_placed:
            message = f"{side_text} 주문 미접수 {code} {ctx.name(code)}: {update.reason}"
            if automatic:
                message += " — 조건이 그대로면 곧 다시 주문합니다"
                self._pause(code, order.side, NOT_PLACED_RETRY_S, "접수되지 않아")
            ctx.log("WARNING", message)
            ctx.notice(message)
        elif status is OrderStatus.REJECTED:
            message = f"{side_text} 주문 거부 {code} {ctx.name(code)}: {update.reason}"
            ctx.log("WARNING", message)
            ctx.notice(message)
            if automatic:
                self._pause(code, order.side, REJECT_COOLDOWN_S, "거부되어")
                if order.side is Side.SELL:
                    # The account may disagree with what we hold: look before selling again.
                    ctx.request_reconcile(f"{code} 매도 거부")
        exit_failed = status is OrderStatus.REJECTED and automatic and order.side is Side.SELL
        if exit_failed and self.on_exit_failed is not None:
            self.on_exit_failed(code)
        ctx.refresh_pending(code)
        self._drop_if_idle(code)

    def _pause(self, code: str, side: Side, seconds: float, why: str) -> None:
        """No automatic order of `code` and `side` for `seconds` (`why` completes the
        refusal's sentence: 직전 자동 주문이 <why> …초 동안 쉽니다)."""
        self.cooldown[(code, side)] = self.ctx.mono() + seconds
        self._cooldown_why[(code, side)] = why

    def _unknown(self, update: Unknown) -> None:
        ctx = self.ctx
        order = update.order
        ctx.blocked.add(order.code)
        self.journal_order(JournalKind.ORDER_UNKNOWN, order, update.reason)
        message = (
            f"{order.code} 주문 결과를 알 수 없습니다 ({update.reason}). 계좌를 확인할 때까지 "
            "이 종목의 새 주문을 멈춥니다"
        )
        ctx.log("WARNING", message)
        ctx.notice(message)
        ctx.request_reconcile(f"{order.code} 주문 결과 불명")

    def _command_failed(self, update: CommandFailed) -> None:
        ctx = self.ctx
        order = update.order
        what = "정정" if update.action is OrderAction.MODIFY else "취소"
        ctx.journal.record(
            JournalKind.ORDER_REJECT,
            code=order.code,
            side=order.side.value,
            order_no=order.order_no,
            reason=f"{what} 거부: {update.reason}",
        )
        ctx.log("WARNING", f"{what} 거부 ({order.code} 주문 {order.order_no}): {update.reason}")
        if update.action is OrderAction.CANCEL or order.amend_failures >= 3:
            # The order may have filled or gone meanwhile: ask the account.
            ctx.request_reconcile(f"{order.code} {what} 거부")

    def _resend_at_market(self, update: ResendAtMarket) -> None:
        ctx = self.ctx
        order = update.order
        quantity = update.quantity
        if order.side is Side.SELL:
            position = ctx.positions.get(order.code)
            held = position.quantity if position is not None else 0
            quantity = min(quantity, held)
        if quantity <= 0:
            return
        _, why = self.place(
            OrderRequest(order.code, order.side, quantity, 0, OrderType.MARKET, order.venue),
            purpose=order.purpose,
            reason=f"정정 {order.amend_count}회 후에도 미체결: 남은 {quantity:,}주 시장가 재주문",
            detail={"replaces": order.order_no},
            manual=order.purpose == MANUAL,
        )
        if why:
            ctx.log("WARNING", f"시장가 재주문을 보내지 못했습니다 ({order.code}): {why}")

    def _drop_if_idle(self, code: str) -> None:
        position = self.ctx.positions.get(code)
        if position is not None and position.idle:
            del self.ctx.positions[code]
            self.ctx.positions_dirty = True
