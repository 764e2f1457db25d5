"""Snapshots and reconciliation: what survives a restart, and how the engine lines itself up
with the account before it sends anything.

Snapshot (every `timers/snapshot_ms`, atomically, previous one kept — `snapshot.py`): the
managed positions with their trailing state (armed, highest price since arming, profit
protect), the open orders with their amend counts, the day's ledger (bought codes for the
re-buy block, realised P/L for the daily loss limit) and the engine's DataFrames.

Restore at start: positions always (trailing state included); orders, ledger and fills only
when the snapshot is from the same trading day (orders do not outlive the day). An order
that was being sent when the old process died has an unknown outcome.

Reconciliation (`apply`) with an `AccountSnapshot`, at start and after `Resubscribed`, an
UNKNOWN outcome or a rejected sell: orders and positions follow `reconcile.plan_orders` /
`plan_positions`; the engine's own fills newer than the account snapshot win over it (the
snapshot is a few hundred milliseconds old when it arrives). Afterwards the engine is
`ready` and only codes with a still-unresolved order stay blocked.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any

from kiwoom_terminal.constants import OrderStatus, OrderType, Side, Venue
from kiwoom_terminal.engine.context import EngineContext
from kiwoom_terminal.engine.gateway import OrderGateway
from kiwoom_terminal.engine.journal import JournalKind
from kiwoom_terminal.engine.ledger import DayLedger
from kiwoom_terminal.engine.orders import MANUAL
from kiwoom_terminal.engine.positions import TrackedPosition
from kiwoom_terminal.engine.reconcile import (
    ManagedView,
    Resolution,
    plan_orders,
    plan_positions,
)
from kiwoom_terminal.engine.snapshot import SnapshotStore
from kiwoom_terminal.engine.tables import FILLS
from kiwoom_terminal.krx import KST
from kiwoom_terminal.messages import AccountSnapshot
from kiwoom_terminal.objects import OrderRequest, PositionData

log = logging.getLogger(__name__)


def holding_row(position: PositionData, change_rate: float = math.nan) -> dict[str, Any]:
    """A holdings-table row from a kt00018 position (`change_rate`: the last trade's change
    from the previous close, which kt00018 does not carry)."""
    return {
        "code": position.code,
        "name": position.name,
        "quantity": position.quantity,
        "sellable_qty": position.sellable_qty,
        "avg_price": position.avg_price,
        "price": position.price,
        "change_rate": change_rate,
        "purchase_amount": position.purchase_amount,
        "eval_amount": position.eval_amount,
        "pnl": position.pnl,
        "return_rate": position.return_rate,
    }


class Recovery:
    """Saves / restores the engine state and applies account snapshots."""

    def __init__(self, ctx: EngineContext, gateway: OrderGateway, store: SnapshotStore) -> None:
        self.ctx = ctx
        self.gateway = gateway
        self.store = store
        self.adopt_holdings = False
        self.warnings: list[str] = []  # problems met by the last `restore` (corrupt file …)
        self._reported_untracked: set[str] = set()

    # --- snapshots -----------------------------------------------------------------------

    def payload(self) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "day": ctx.ledger.day,
            "mode": ctx.settings.general.mode.value,  # a sim snapshot never feeds a real account
            "journal_id": ctx.journal.last_id(),  # the journal entries after it are not in it
            "saved_at": dt.datetime.now(KST).isoformat(timespec="milliseconds"),
            "positions": [p.to_record() for p in ctx.positions.values()],
            "orders": ctx.orders.records(),
            "ledger": ctx.ledger.to_record(ctx.mono(), ctx.wall()),
            "tables": {name: ctx.tables.frame(name) for name in ctx.tables.schemas},
        }

    def save(self) -> dt.datetime:
        self.store.save(self.payload())
        return dt.datetime.now(KST)

    def restore(self) -> list[str]:
        """Load the newest readable snapshot into the context; returns warnings/report."""
        ctx = self.ctx
        loaded = self.store.load()
        self.warnings = list(loaded.warnings)  # the engine shows these as warnings
        lines = list(loaded.warnings)
        payload = loaded.payload
        mode = ctx.settings.general.mode.value
        if payload is not None and payload.get("mode", mode) != mode:
            message = (
                f"스냅샷이 다른 모드({payload.get('mode')})의 것이라 복원하지 않습니다: "
                f"그 계좌의 포지션·주문은 {mode} 계좌와 무관합니다"
            )
            self.warnings.append(message)
            lines.append(message)
            return lines  # nor the journal: its entries of today may be the other mode's too
        if payload is None:
            # No snapshot at all: every order journaled today is unknown to this state.
            return lines + self.replay_journal(after_id=self._day_start_id())
        same_day = payload.get("day") == ctx.ledger.day
        for record in payload.get("positions", []):
            position = TrackedPosition.from_record(record)
            if not same_day and not position.held:
                continue  # yesterday's unfilled buy: orders do not outlive the day
            if not same_day:
                position.buy_pending = position.sell_pending = False
            ctx.positions[position.code] = position
            state = position.exit_state
            trailing = f", 트레일링 발동 (고점 {state.high_since_arm:,})" if state.armed else ""
            lines.append(
                f"복원: {position.code} {position.name} {state.quantity:,}주 "
                f"평균 {state.avg_price:,}{trailing}"
            )
        if same_day:
            ctx.ledger = DayLedger.from_record(
                payload.get("ledger", {"day": ctx.ledger.day}), ctx.mono(), ctx.wall()
            )
            ctx.orders.restore(payload.get("orders", []), now_mono=ctx.mono())
            for table in (FILLS.name, "holdings"):
                # 잔고 until the account is read again: the cost of a holding the engine
                # does not manage, for the P/L of its sell that reconciliation may find
                frame = payload.get("tables", {}).get(table)
                if frame is not None:
                    for key, row in frame.to_dict("index").items():
                        ctx.tables.set_row(table, key, row)
            if "journal_id" in payload:
                lines += self.replay_journal(after_id=int(payload["journal_id"]))
        else:
            # The newest readable snapshot is from another day (the first seconds of the
            # day, or every save of today failed): all of today's orders are unknown to it.
            lines += self.replay_journal(after_id=self._day_start_id())
        ctx.positions_dirty = True
        lines.append(
            f"스냅샷({loaded.source}, {payload.get('saved_at', '?')}) 복원: 추적 {len(ctx.positions)}종목, "
            f"미체결 {sum(1 for _ in ctx.orders.open_orders())}건"
        )
        ctx.journal.record(
            JournalKind.RECONCILE,
            reason="스냅샷 복원",
            detail={"lines": lines, "source": loaded.source},
        )
        return lines

    def _day_start_id(self) -> int:
        """The id just before today's first journal entry."""
        return self.ctx.journal.first_id_of_day(self.ctx.ledger.day) - 1

    def replay_journal(self, *, after_id: int) -> list[str]:
        """New orders the journal recorded after entry `after_id` (the newest one when the
        snapshot was taken) that the snapshot cannot know: the process died between two
        snapshots. Each is registered again as the gateway registered it — position pending, re-buy block —
        with its order number if the server's acknowledgement was journaled, else with an
        UNKNOWN outcome, so the start-up reconciliation finds it in the account (fills
        included) instead of the engine forgetting it or buying again. Orders the journal
        saw rejected stay out. Returns report lines.

        The engine takes a snapshot as soon as its first reconciliation is done, before it
        may send anything, so every order of the day lies after some snapshot of the day."""
        ctx = self.ctx
        entries = ctx.journal.entries(
            after_id=after_id,
            kinds=(JournalKind.ORDER_REQUEST, JournalKind.ORDER_ACK, JournalKind.ORDER_REJECT),
        )
        acks = {e.request_id: e for e in entries if e.kind is JournalKind.ORDER_ACK}
        rejected = {e.request_id for e in entries if e.kind is JournalKind.ORDER_REJECT}
        lines: list[str] = []
        for entry in entries:
            if entry.kind is not JournalKind.ORDER_REQUEST or not entry.request_id:
                continue
            if entry.request_id in ctx.orders.by_request or entry.request_id in rejected:
                continue
            detail = entry.detail
            try:
                request = OrderRequest(
                    entry.code,
                    Side(entry.side),
                    entry.quantity,
                    entry.price,
                    OrderType(detail.get("order_type", OrderType.LIMIT.value)),
                    Venue(detail.get("venue", Venue.KRX.value)),
                )
            except ValueError:
                log.warning("journal order request %s not understood", entry.request_id)
                continue
            order = self.gateway.register_sent(
                entry.request_id,
                request,
                purpose=str(detail.get("purpose") or MANUAL),
                source=str(detail.get("source") or ""),
                reason=entry.reason,
                sent_at=entry.at.timestamp(),
                server_time=str(detail.get("server_time") or ""),
                cost_basis=int(detail.get("cost_basis") or 0),
            )
            ack = acks.get(entry.request_id)
            if ack is not None and ack.order_no:
                order.order_no = ack.order_no
                order.status = OrderStatus.ACCEPTED
                order.answered_at = ack.at.timestamp()
                ctx.orders.by_no[ack.order_no] = order
                ctx.orders.dirty.add(order.key)
                state = f"주문번호 {ack.order_no}"
            else:
                order.status = OrderStatus.UNKNOWN  # sent, answer never seen: ask the account
                state = "결과 확인 필요"
            side = request.side.text
            lines.append(
                f"복원(저널): 마지막 스냅샷 뒤에 보낸 {entry.code} {side} "
                f"{request.quantity:,}주 ({state})"
            )
        return lines

    # --- reconciliation ------------------------------------------------------------------

    def _claimed_order_nos(self) -> set[str]:
        """Order numbers today's journal already ties to a request (acknowledged, adopted by
        an earlier reconciliation, or filled): not candidates for an order whose outcome is
        unknown — a request that never reached the server must not take over the morning's
        filled order of the same stock and size."""
        entries = self.ctx.journal.entries(
            day=self.ctx.ledger.day,
            kinds=(JournalKind.ORDER_ACK, JournalKind.FILL),
        )
        return {e.order_no for e in entries if e.order_no}

    def apply(self, snapshot: AccountSnapshot, why: str) -> bool:
        """Line the engine up with `snapshot`. Returns True when another reconciliation is
        needed (an order's fate is still open: replies in flight or a stale snapshot)."""
        ctx = self.ctx
        taken = snapshot.taken_at
        orders = ctx.orders
        known = orders.known_orders(answered_before=taken)
        unknown = orders.unknown_requests()
        # `ours`: an order acknowledged after the snapshot was taken is not in `known` (the
        # snapshot may predate it) but is still ours, not an open order to adopt as external.
        plan = plan_orders(
            known,
            unknown,
            snapshot,
            self._claimed_order_nos() if unknown else (),
            ours=orders.by_no.keys(),
        )
        again = any(o.resolution is Resolution.STALE for o in plan.requests.values())
        busy = {o.code for o in orders.open_orders() if o.status is OrderStatus.SUBMITTING}
        busy |= {c.target.code for c in orders.commands.values()}
        if any(row.code in busy for row in plan.adopt):
            # An order of ours may still be waiting for its reply: not someone else's.
            plan.adopt = [row for row in plan.adopt if row.code not in busy]
            again = True
        names = {p.code: p.name for p in snapshot.balance.positions}
        updates, report = orders.apply_plan(plan, ctx.mono(), names)
        for request_id, outcome in plan.requests.items():
            adopted = orders.by_request.get(request_id)
            if outcome.resolution is Resolution.ADOPT and adopted is not None:
                # Tie the number to the request in the journal, as an acknowledgement does:
                # a later restart then knows this order is taken.
                self.gateway.journal_order(JournalKind.ORDER_ACK, adopted, "재조정으로 확인")
        self.gateway.apply(updates)

        open_buys = {o.code for o in orders.open_orders() if o.side is Side.BUY}
        managed = [
            ManagedView(p.code, p.quantity, p.avg_price, p.buy_pending)
            for p in ctx.positions.values()
        ]
        pplan = plan_positions(managed, snapshot, open_buys)
        fresh = {code for code, at in ctx.last_fill_at.items() if at > taken}
        for code, (quantity, avg) in pplan.keep.items():
            position = ctx.positions[code]
            if code in fresh or (quantity, avg) == (position.quantity, position.avg_price):
                continue
            report.append(
                f"{code} 보유 수량/평균가를 계좌에 맞춤: {position.quantity:,}주 "
                f"{position.avg_price:,} → {quantity:,}주 {avg:,}"
            )
            position.exit_state = position.exit_state.with_position(avg, quantity)
            if not position.entered_at and code in pplan.filled_meanwhile:
                position.entered_at = "재조정"
        for code, reason in pplan.dropped.items():
            if code in fresh or code not in ctx.positions:
                continue
            del ctx.positions[code]
            report.append(reason)
        new_untracked = [p for p in pplan.untracked if p.code not in self._reported_untracked]
        for position_data in new_untracked:
            self._reported_untracked.add(position_data.code)
            if self.adopt_holdings:
                ctx.positions[position_data.code] = TrackedPosition(
                    position_data.code,
                    position_data.name,
                    price=position_data.price,
                    source="account",
                )
                ctx.positions[position_data.code].exit_state = ctx.positions[
                    position_data.code
                ].exit_state.with_position(position_data.avg_price, position_data.quantity)
                report.append(f"계좌 보유 {position_data.code} {position_data.name}을 추적에 추가")
        if new_untracked and not self.adopt_holdings:
            report.append(
                "자동매매가 관리하지 않는 보유 종목: "
                + ", ".join(f"{p.code} {p.name} {p.quantity:,}주" for p in new_untracked)
            )
        holdings = {
            p.code: holding_row(p, ctx.market.change_rate(p.code))
            for p in snapshot.balance.positions
            if p.quantity > 0
        }
        for code in fresh:  # our newer fills: keep the row the balance events built
            row = ctx.tables.get("holdings", code)
            if row is not None:
                holdings[code] = row
            else:
                holdings.pop(code, None)
        ctx.tables.sync("holdings", holdings)
        for code in list(ctx.positions):
            ctx.refresh_pending(code)
            managed_position = ctx.positions[code]
            if managed_position.idle:
                del ctx.positions[code]
            elif not managed_position.name:
                managed_position.name = ctx.name(code)
        ctx.positions_dirty = True
        ctx.blocked = orders.unknown_codes()
        was_ready = ctx.ready
        ctx.ready = True
        ctx.journal.record(
            JournalKind.RECONCILE,
            reason=f"계좌 재조정 ({why})",
            detail={
                "lines": report,
                "open_orders": len(snapshot.open_orders),
                "holdings": len(holdings),
                "blocked": sorted(ctx.blocked),
            },
        )
        for line in report:
            ctx.log("INFO", f"재조정: {line}")
        if not was_ready:
            ctx.log("INFO", "계좌 확인 완료: 이제 주문할 수 있습니다")
        return again
