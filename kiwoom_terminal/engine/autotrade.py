"""The auto-trading loop: condition events → buys, tick batches → exits, open orders →
amends. Every rule is a function of `kiwoom_terminal.decisions`; this module only gathers
the plain values those functions take and hands their decisions to the order gateway.

Hot path (`on_ticks`, once per drained batch): per coalesced code, one dict lookup and, for
a managed position, one `evaluate_exit` call on its `PositionState`; nothing touches pandas.
A decision to sell goes straight to the gateway, which journals it and queues the order in
the same call.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping

from kiwoom_terminal.constants import ConditionChange, ExitReason, OrderType, Side
from kiwoom_terminal.decisions import (
    AmendKind,
    AmendOrder,
    BuyContext,
    BuyRefusal,
    ExitDecision,
    TickSummary,
    daily_loss_breached,
    decide_amend,
    evaluate_buy,
    evaluate_exit,
    sell_order_price,
)
from kiwoom_terminal.engine.context import EngineContext
from kiwoom_terminal.engine.gateway import OrderGateway
from kiwoom_terminal.engine.journal import JournalKind
from kiwoom_terminal.engine.orders import ENTRY
from kiwoom_terminal.engine.positions import TrackedPosition
from kiwoom_terminal.objects import ConditionEventData, OrderRequest

log = logging.getLogger(__name__)

SKIP_LOG_EVERY_S = 300.0  # a repeated buy skip of the same stock and reason is logged this often
# Refusals caused by the account's state rather than the stock: logged once for all stocks.
ACCOUNT_WIDE_REFUSALS = frozenset(
    {BuyRefusal.AUTO_TRADE_OFF, BuyRefusal.OUTSIDE_WINDOW, BuyRefusal.MAX_POSITIONS}
)
# A stock the engine already holds, tracks or bought today, flagged again by a condition:
# routine all day, so it is logged at DEBUG (the 로그 filter "전체" shows it; the journal
# keeps every one) and the log stays readable for what needs the trader.
ROUTINE_REFUSALS = frozenset({BuyRefusal.HELD, BuyRefusal.TRACKED, BuyRefusal.BOUGHT_TODAY})

QuoteFetcher = Callable[[str, Callable[[bool], None]], None]
# What became of one `consider_buy`: (order placed, Korean note: the request or why not).
BuyOutcome = Callable[[bool, str], None]


class AutoTrader:
    """Buy, sell and amend decisions of the auto-trading loop."""

    def __init__(self, ctx: EngineContext, gateway: OrderGateway, fetch_quote: QuoteFetcher):
        self.ctx = ctx
        self.gateway = gateway
        self.fetch_quote = fetch_quote  # (code, done(ok)) — an order-book query
        self.buy_conditions: dict[str, str] = {}  # seq → name, real-time buy conditions
        self.sell_conditions: dict[str, str] = {}
        self.exits_when_off = True
        self._awaiting_quote: dict[str, str] = {}  # code → source, buys waiting for a quote
        self._awaiting_why: dict[str, tuple[str, BuyOutcome | None]] = {}  # code → why, outcome
        # codes whose exit waits (not ready, blocked, or its order refused / never placed)
        self._held_back: set[str] = set()
        gateway.on_exit_failed = self.retry_exit  # its exit orders report back here
        # codes whose sell the gateway refused (cool-down, order-rate limit), with why: the
        # clock check retries them every second instead of waiting for the next trade
        self._refused: dict[str, str] = {}
        self._skip_logged: dict[tuple[str, str], tuple[float, int]] = {}  # → (logged at, muted)

    # --- buying ------------------------------------------------------------------------

    def on_condition_events(self, events: Iterable[ConditionEventData]) -> None:
        ctx = self.ctx
        for event in events:
            ctx.clock.observe(event.time)
            if event.change is not ConditionChange.ENTER:
                continue
            sell_name = self.sell_conditions.get(event.seq)
            if sell_name is not None:
                self._flag_sell(event.code, sell_name)
            buy_name = self.buy_conditions.get(event.seq)
            if buy_name is not None:
                self.consider_buy(event.code, buy_name)

    def consider_buy(
        self,
        code: str,
        source: str,
        *,
        quoted: bool = False,
        why: str = "",
        outcome: BuyOutcome | None = None,
    ) -> None:
        """Run `evaluate_buy` for a stock a buy condition (or a strategy signal, a scheduled
        job: `source`) flagged; fetch the order book first when no ask is known. `why` is
        the journal's reason prefix (default "<source> 편입"); `outcome(placed, note)` is
        called once with what became of it (the strategy runner marks its signal)."""
        ctx = self.ctx
        if code in self._awaiting_quote and not quoted:
            if outcome is not None:
                outcome(False, f"{code} 매수 안 함: 같은 종목의 매수가 호가를 기다리는 중입니다")
            return
        if not ctx.ready:
            reason = "계좌 확인(재조정)이 끝나기 전이라 매수하지 않습니다"
            self._skip(code, source, reason)
            if outcome is not None:
                outcome(False, reason)
            return
        market = ctx.market
        position = ctx.positions.get(code)
        awaiting = len(self._awaiting_quote) - (1 if code in self._awaiting_quote else 0)
        context = BuyContext(
            code=code,
            now=ctx.clock.time_of_day(),
            auto_trade_on=ctx.auto_trade,
            held=self._held_in_account(code),
            tracked=position is not None,
            bought_today=code in ctx.ledger.bought,
            best_ask=market.best_ask(code),
            last_price=market.last_price(code) or 0,
            band=market.band(code),
            etf=market.is_etf(code),
        )
        decision = evaluate_buy(
            context,
            ctx.rules.buy,
            ctx.risk_state(extra_positions=awaiting),
            ctx.rules.risk,
            ctx.mono(),
        )
        if not decision.ok:
            if decision.refusal is BuyRefusal.NO_PRICE and not quoted:
                self._awaiting_quote[code] = source
                self._awaiting_why[code] = (why, outcome)
                self.fetch_quote(code, lambda ok: self._quoted(code, ok))
                return
            self._awaiting_quote.pop(code, None)
            self._awaiting_why.pop(code, None)
            self._skip(code, source, decision.reason, refusal=decision.refusal)
            if outcome is not None:
                outcome(False, decision.reason)
            if decision.disable_auto_trade and self.gateway.on_auto_off is not None:
                self.gateway.on_auto_off(decision.reason)
            return
        self._awaiting_quote.pop(code, None)
        self._awaiting_why.pop(code, None)
        if code in ctx.blocked:
            reason = f"{code} 매수 안 함: 결과를 모르는 주문이 있어 계좌 확인 중"
            self._skip(code, source, reason)
            if outcome is not None:
                outcome(False, reason)
            return
        request = OrderRequest(
            code, Side.BUY, decision.quantity, decision.price, decision.order_type
        )
        order, refused = self.gateway.place(
            request,
            purpose=ENTRY,
            reason=f"{why or f'{source} 편입'} → {decision.reason}",
            source=source,
            detail={
                "condition": source,
                "best_ask": context.best_ask,
                "last_price": context.last_price,
                "sizing_price": decision.sizing_price,
                "amount": ctx.rules.buy.amount,
            },
        )
        if refused:
            self._skip(code, source, refused)
        if outcome is not None:
            outcome(order is not None and not refused, refused or decision.reason)

    def _quoted(self, code: str, ok: bool) -> None:
        source = self._awaiting_quote.get(code)
        if source is None:
            return
        why, outcome = self._awaiting_why.get(code, ("", None))
        if not ok:
            self._awaiting_quote.pop(code, None)
            self._awaiting_why.pop(code, None)
            reason = f"{code} 매수 안 함: 호가를 받지 못했습니다"
            self._skip(code, source, reason)
            if outcome is not None:
                outcome(False, reason)
            return
        self.consider_buy(code, source, quoted=True, why=why, outcome=outcome)

    def _held_in_account(self, code: str) -> bool:
        row = self.ctx.tables.get("holdings", code)
        return row is not None and int(row.get("quantity", 0)) > 0

    def _skip(self, code: str, source: str, reason: str, refusal: BuyRefusal | None = None) -> None:
        ctx = self.ctx
        ctx.journal.record(
            JournalKind.DECISION,
            code=code,
            side=Side.BUY.value,
            reason=reason,
            detail={
                "action": "skip",
                "condition": source,
                "refusal": refusal.value if refusal else "",
            },
        )
        # Conditions re-flag stocks all day: say each (stock, reason) once in a while, and a
        # reason that is about the account, not the stock (max positions, auto-trade off,
        # outside the window) once for all stocks, with how many more it stopped. The
        # journal keeps every one.
        if refusal in ACCOUNT_WIDE_REFUSALS:
            key: tuple[str, str] = ("*", refusal.value if refusal else reason)
        else:
            key = (code, refusal.value if refusal else reason)
        now = ctx.mono()
        last, suppressed = self._skip_logged.get(key, (-SKIP_LOG_EVERY_S, 0))
        if now - last >= SKIP_LOG_EVERY_S:
            self._skip_logged[key] = (now, 0)
            more = (
                f" (지난 {SKIP_LOG_EVERY_S / 60:g}분 동안 같은 이유로 {suppressed}건 더)"
                if suppressed
                else ""
            )
            ctx.log("DEBUG" if refusal in ROUTINE_REFUSALS else "INFO", reason + more)
        else:
            self._skip_logged[key] = (last, suppressed + 1)
            log.debug("%s", reason)

    # --- selling -----------------------------------------------------------------------

    def _flag_sell(self, code: str, condition: str) -> None:
        self.flag_sell(code, f"매도 조건식 {condition} 편입")

    def flag_sell(
        self, code: str, why: str, reason: ExitReason = ExitReason.SELL_CONDITION
    ) -> bool:
        """Sell a held position through the exit path on its next evaluation (now, at its
        last price): a sell condition's 편입, or — with `ExitReason.STRATEGY` — a strategy's
        sell signal or a scheduled sell. False when the code is not held."""
        position = self.ctx.positions.get(code)
        if position is None or not position.held:
            return False
        position.sell_flagged = True
        position.flag_reason = reason
        position.flag_text = why
        position.reason = why
        self.ctx.positions_dirty = True
        price = position.price or position.avg_price
        self.evaluate_position(position, price, price, price)
        return True

    def on_ticks(self, summaries: Mapping[str, TickSummary]) -> None:
        """One coalesced batch: update prices and run the exit rules of managed positions."""
        positions = self.ctx.positions
        if not positions:
            return
        for code, summary in summaries.items():
            position = positions.get(code)
            if position is None:
                continue
            position.price = summary.last
            if position.exit_state.quantity > 0:
                self.evaluate_position(position, summary.last, summary.high, summary.low)
        self.ctx.positions_dirty = True

    def on_price(self, code: str, price: int) -> None:
        """A price from a query (not a tick), e.g. after a WebSocket gap: one-price batch."""
        position = self.ctx.positions.get(code)
        if position is None or price <= 0:
            return
        position.price = price
        self.ctx.positions_dirty = True
        if position.held:
            self.evaluate_position(position, price, price, price)

    def evaluate_position(
        self, position: TrackedPosition, last: int, high: int, low: int
    ) -> ExitDecision | None:
        ctx = self.ctx
        if last <= 0:
            return None
        rules = ctx.rules.exit
        now = ctx.clock.time_of_day() if rules.liquidation_time is not None else None
        state, decision = evaluate_exit(
            position.exit_state,
            last,
            high,
            low,
            rules,
            now=now,
            sell_flagged=position.sell_flagged,
            flag_reason=position.flag_reason,
        )
        if state is not position.exit_state:
            position.exit_state = state
            ctx.positions_dirty = True
        if decision is None:
            # the reason to sell went away (the price came back): nothing left to retry
            self._held_back.discard(position.code)
            self._refused.pop(position.code, None)
            return None
        if position.sell_pending:
            return decision
        if not ctx.auto_trade and not self.exits_when_off:
            return decision
        self._sell(position, decision)
        return decision

    def _sell(self, position: TrackedPosition, decision: ExitDecision) -> None:
        ctx = self.ctx
        code = position.code
        if not ctx.ready or code in ctx.blocked:
            if code not in self._held_back:
                self._held_back.add(code)
                ctx.log("WARNING", f"{code} 매도 보류 (계좌 확인 중): {decision.detail}")
                self._journal_waiting(position, decision, "계좌 확인(재조정) 중")
            return
        self._held_back.discard(code)
        # A buy still working for this code would add shares we then do not sell.
        for order in ctx.orders.open_for(code, Side.BUY):
            self.gateway.cancel(order, f"매도 결정({decision.reason.value})으로 남은 매수 취소")
        trading = ctx.settings.trading
        order_type = trading.sell_order_type
        price = 0
        best_bid = ctx.market.best_bid(code)
        if order_type is OrderType.LIMIT:
            if best_bid > 0:
                price = sell_order_price(
                    order_type,
                    best_bid,
                    trading.sell_tick_offset,
                    ctx.market.band(code),
                    etf=ctx.market.is_etf(code),
                )
            else:
                order_type = OrderType.MARKET  # no bid known: a limit would be a guess
        state = position.exit_state
        tick = ctx.market.ticks.get(code)
        text = decision.detail
        if decision.reason is ExitReason.STRATEGY and position.flag_text:
            text = f"{position.flag_text}: {text}"  # which strategy or scheduled rule
        _, why = self.gateway.place(
            OrderRequest(code, Side.SELL, position.quantity, price, order_type),
            purpose=decision.reason.value,
            reason=text,
            source=position.source,
            detail={
                "trigger": decision.trigger.value,
                "trigger_price": decision.price,
                "level": round(decision.level, 2) if decision.level is not None else None,
                "return_pct": round(decision.return_pct, 4),
                "avg_price": state.avg_price,
                "high_since_arm": state.high_since_arm,
                "armed": state.armed,
                "protect_active": state.protect_active,
                "best_bid": best_bid,
                # Latency trail: when the worker parsed the last tick, when we decided.
                "tick_received_at": tick.received_at if tick is not None else 0.0,
                "decided_at": ctx.wall(),
            },
        )
        position.reason = text if not why else f"{text} — 보류: {why}"
        ctx.positions_dirty = True
        if why:
            # once per reason, not on every retry (the numbers in it, e.g. a countdown, vary)
            why_kind = re.sub(r"\d[\d,.]*", "#", why)
            if self._refused.get(code) != why_kind:
                ctx.log(
                    "WARNING", f"{code} 매도 주문을 보내지 못했습니다: {why} (1초마다 다시 시도)"
                )
                self._journal_waiting(position, decision, why)
            self._refused[code] = why_kind
        else:
            self._refused.pop(code, None)
            position.sell_flagged = False
            position.flag_reason = ExitReason.SELL_CONDITION
            position.flag_text = ""

    def _journal_waiting(self, position: TrackedPosition, decision: ExitDecision, why: str) -> None:
        """An exit decided but not sent yet, with why, so the journal answers "why did it
        not sell?" too (a NOTICE: the DECISION row comes when the order is sent)."""
        self.ctx.journal.record(
            JournalKind.NOTICE,
            code=position.code,
            side=Side.SELL.value,
            price=decision.price,
            quantity=position.quantity,
            reason=f"매도 대기: {decision.detail} — {why}",
            detail={"exit": decision.reason.value, "waiting": why},
        )

    def retry_exit(self, code: str) -> None:
        """An exit order of `code` was refused or never placed: look at the position again
        every second (`check_clock_rules`) instead of waiting for its next trade."""
        self._held_back.add(code)

    def check_clock_rules(self) -> None:
        """Every second: the end-of-day liquidation, flagged positions without ticks, and
        exits that were held back (reconciliation, a blocked code) or refused by the
        gateway — a stop-loss on a quiet stock must not wait for its next trade."""
        ctx = self.ctx
        liquidation = ctx.rules.exit.liquidation_time
        gone = (self._held_back | set(self._refused)) - {
            code for code, p in ctx.positions.items() if p.held
        }
        for code in gone:  # sold or dropped: a later position of the code starts afresh
            self._held_back.discard(code)
            self._refused.pop(code, None)
        for position in list(ctx.positions.values()):
            if not position.held or position.sell_pending:
                continue
            retry = position.code in self._held_back or position.code in self._refused
            if (
                position.sell_flagged
                or retry
                or (liquidation is not None and ctx.clock.time_of_day() >= liquidation)
            ):
                price = position.price or position.avg_price
                self.evaluate_position(position, price, price, price)

    def check_daily_loss(self) -> str | None:
        """The daily loss limit on the timer: the notice when it is breached, else None."""
        return daily_loss_breached(self.ctx.risk_state(), self.ctx.rules.risk)

    # --- amending ----------------------------------------------------------------------

    def check_amends(self) -> None:
        """Every second: amend, cancel or re-send the engine's unfilled orders."""
        ctx = self.ctx
        rules = ctx.rules.amend
        now = ctx.mono()
        for order in list(ctx.orders.open_orders()):
            if not order.automatic or not order.order_no or order.code in ctx.blocked:
                continue
            if order.amend_failures >= 3:
                continue
            action = decide_amend(
                AmendOrder(
                    order.order_no,
                    order.code,
                    order.side,
                    order.venue,
                    order.price if order.order_type is not OrderType.MARKET else 0,
                    order.quantity,
                    order.filled,
                    order.amend_count,
                    order.last_action_at,
                    in_flight=bool(order.in_flight),
                    etf=ctx.market.is_etf(order.code),
                ),
                now,
                ctx.market.best_bid(order.code),
                ctx.market.best_ask(order.code),
                ctx.market.band(order.code),
                rules,
            )
            if action.kind is AmendKind.MODIFY:
                self.gateway.modify(order, action.price, action.quantity, action.reason)
            elif action.kind in (AmendKind.CANCEL, AmendKind.CANCEL_THEN_MARKET):
                self.gateway.cancel(
                    order,
                    action.reason,
                    quantity=action.quantity,
                    then_market=action.kind is AmendKind.CANCEL_THEN_MARKET,
                )

    # --- manual and emergency ----------------------------------------------------------

    def flatten(self) -> list[str]:
        """Emergency: cancel every open order, sell every holding at market. Returns the
        Korean lines of what could not be done."""
        ctx = self.ctx
        problems: list[str] = []
        for order in list(ctx.orders.open_orders()):
            is_sell = order.side is Side.SELL
            cancelled = self.gateway.cancel(order, "긴급 청산: 미체결 취소", then_market=is_sell)
            if not cancelled and order.order_no:
                problems.append(f"주문 {order.order_no} 취소 실패")
        holdings = {
            code: int(row.get("quantity", 0)) for code, row in ctx.tables.rows("holdings").items()
        }
        for code, position in ctx.positions.items():
            if position.held and code not in holdings:
                holdings[code] = position.quantity
        for code, quantity in holdings.items():
            if quantity <= 0 or ctx.orders.open_for(code, Side.SELL):
                continue  # a sell being cancelled above is re-sent at market by its cancel
            _, why = self.gateway.place(
                OrderRequest(code, Side.SELL, quantity, 0, OrderType.MARKET),
                purpose=ExitReason.EMERGENCY.value,
                reason="긴급 청산: 보유 전량 시장가 매도",
                manual=True,
                check_limits=False,
            )
            if why:
                problems.append(why)
        return problems
