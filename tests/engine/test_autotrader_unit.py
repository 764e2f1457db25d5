"""AutoTrader in-process: the buy path's guards and quote fetch, the sell condition, and
exits while auto-trade is off (decisions come from `decisions/`; this checks the wiring)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kiwoom_terminal.constants import ConditionChange, Mode, OrderType, Side, Venue
from kiwoom_terminal.decisions import BuyRefusal, ExitRules, PositionState, TickSummary
from kiwoom_terminal.engine.autotrade import AutoTrader
from kiwoom_terminal.engine.clock import MarketClock
from kiwoom_terminal.engine.context import EngineContext, Rules
from kiwoom_terminal.engine.gateway import OrderGateway
from kiwoom_terminal.engine.journal import Journal, JournalKind
from kiwoom_terminal.engine.ledger import DayLedger
from kiwoom_terminal.engine.positions import TrackedPosition
from kiwoom_terminal.krx import KST
from kiwoom_terminal.messages import (
    ErrorInfo,
    ErrorKind,
    OrderOutcome,
    OrderReply,
    PlaceOrderRequest,
)
from kiwoom_terminal.objects import ConditionEventData, OrderBookData
from kiwoom_terminal.settings import AppSettings, replace_setting


class Rig:
    def __init__(self, tmp_path: Path, **raw: str) -> None:
        settings = AppSettings()
        for key, value in {"trading/buy_conditions": "4", **raw}.items():
            settings = replace_setting(settings, key.replace("__", "/"), value)
        self.sent: list[Any] = []
        self.quotes: list[tuple[str, Any]] = []
        wall = dt.datetime(2026, 1, 5, 10, 30, tzinfo=KST)
        self.ctx = EngineContext(
            settings=settings,
            rules=Rules.from_settings(settings),
            journal=Journal(tmp_path / "journal.sqlite3"),
            clock=MarketClock(Mode.MOCK, wall=lambda: wall),
            send=lambda request: self.sent.append(request) or request.request_id,
            ledger=DayLedger("20260105"),
        )
        self.ctx.ready = True
        self.ctx.auto_trade = True
        self.gateway = OrderGateway(self.ctx)
        self.trader = AutoTrader(
            self.ctx, self.gateway, lambda code, done: self.quotes.append((code, done))
        )
        self.trader.buy_conditions = {"4": "수동"}
        self.trader.sell_conditions = {"7": "하락"}

    def enter(self, seq: str, code: str) -> None:
        self.trader.on_condition_events(
            [ConditionEventData(seq, code, ConditionChange.ENTER, "103000")]
        )

    def refusals(self, code: str) -> list[str]:
        return [
            e.detail.get("refusal", "")
            for e in self.ctx.journal.entries(code=code, kinds=[JournalKind.DECISION])
        ]


def _book(code: str, ask: int, bid: int) -> OrderBookData:
    return OrderBookData(code, Venue.KRX, "103000", (ask,), (100,), (bid,), (100,), 100, 100, 1.0)


def test_buy_fetches_the_order_book_then_buys_at_the_ask(tmp_path: Path) -> None:
    rig = Rig(tmp_path, trading__buy_amount="1000000", trading__buy_tick_offset="1")
    rig.enter("4", "005930")
    assert rig.sent == [] and [c for c, _ in rig.quotes] == ["005930"]
    rig.enter("4", "005930")  # a repeated 편입 while the quote is on its way: ignored
    assert len(rig.quotes) == 1
    rig.ctx.market.update_books([_book("005930", 70_000, 69_900)])
    rig.quotes[0][1](True)
    (request,) = rig.sent
    assert isinstance(request, PlaceOrderRequest)
    order = request.order
    assert (order.side, order.order_type, order.price) == (Side.BUY, OrderType.LIMIT, 70_100)
    assert order.quantity == 14  # 1,000,000 at 70,100 with the commission reserved
    assert rig.ctx.positions["005930"].buy_pending
    rig.enter("4", "005930")
    assert rig.refusals("005930")[-1] == BuyRefusal.TRACKED.value
    assert len(rig.sent) == 1


@pytest.mark.parametrize(
    ("raw", "refusal"),
    [
        (
            {"trading__trading_start": "11:00", "trading__trading_end": "15:00"},
            BuyRefusal.OUTSIDE_WINDOW,
        ),
        ({"trading__buy_amount": "50000"}, BuyRefusal.ZERO_QUANTITY),
        ({"trading__max_positions": "1"}, BuyRefusal.MAX_POSITIONS),
    ],
)
def test_buy_guards_skip_with_a_journaled_reason(
    tmp_path: Path, raw: dict[str, str], refusal: BuyRefusal
) -> None:
    rig = Rig(tmp_path, **raw)
    rig.ctx.positions["000660"] = TrackedPosition("000660", exit_state=PositionState(190_000, 5))
    rig.ctx.market.update_books([_book("005930", 70_000, 69_900)])
    rig.enter("4", "005930")
    assert rig.sent == []
    assert rig.refusals("005930") == [refusal.value]


def test_sell_condition_sells_a_held_position(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.ctx.positions["005930"] = TrackedPosition(
        "005930", exit_state=PositionState(70_000, 10), price=70_500
    )
    rig.enter("7", "005930")
    (request,) = rig.sent
    assert request.order.side is Side.SELL and request.order.quantity == 10
    decision = rig.ctx.journal.entries(code="005930", kinds=[JournalKind.DECISION])[-1]
    assert decision.detail["purpose"] == "sell_condition"


def test_exits_continue_with_auto_trade_off_unless_configured(tmp_path: Path) -> None:
    for keep, expected in (("true", 1), ("false", 0)):
        rig = Rig(tmp_path / keep, trading__exits_when_auto_off=keep)
        rig.trader.exits_when_off = rig.ctx.settings.trading.exits_when_auto_off
        rig.ctx.auto_trade = False
        rig.ctx.positions["005930"] = TrackedPosition(
            "005930", exit_state=PositionState(70_000, 10)
        )
        rig.trader.on_ticks({"005930": TickSummary(67_500, 67_500, 67_500, 0, "103000")})
        assert len(rig.sent) == expected


def test_account_wide_skips_are_logged_once_for_all_stocks(tmp_path: Path) -> None:
    # Regression: with max positions reached, every stock a busy condition flagged wrote
    # its own 로그 line ("매수 안 함 … 최대 보유 종목 수"), burying everything else.
    rig = Rig(tmp_path, trading__max_positions="1")
    logged: list[str] = []
    rig.ctx.log = lambda level, message: logged.append(message)
    clock = [1_000.0]
    rig.ctx.mono = lambda: clock[0]
    rig.ctx.positions["000660"] = TrackedPosition("000660", exit_state=PositionState(190_000, 5))
    codes = ["005930", "035420", "035720", "051910", "068270"]
    rig.ctx.market.update_books([_book(code, 70_000, 69_900) for code in codes])
    for code in codes:
        rig.enter("4", code)
    assert len(logged) == 1  # one line for the five stocks …
    assert all(rig.refusals(code) == [BuyRefusal.MAX_POSITIONS.value] for code in codes)
    clock[0] += 301  # … and after the quiet period, one more saying how many were muted
    rig.enter("4", "005380")
    assert len(logged) == 2 and "4건 더" in logged[1]
    assert rig.sent == []


def test_tracking_row_has_no_return_until_something_is_held() -> None:
    waiting = TrackedPosition("042700", "한미반도체", PositionState(0, 0))
    waiting.price = 90_500
    row = waiting.row(ExitRules())
    assert (row["price"], row["avg_price"], row["quantity"]) == (90_500, 0, 0)
    assert row["return_rate"] != row["return_rate"]  # NaN: shown blank, not "0.00%"
    held = TrackedPosition("042700", "한미반도체", PositionState(90_000, 10))
    held.price = 90_900
    assert held.row(ExitRules(commission_rate=0.0, tax_rate=0.0))["return_rate"] == pytest.approx(
        1.0
    )


def test_a_held_back_or_refused_exit_is_retried_every_second(tmp_path: Path) -> None:
    """A stop-loss decided while its code was blocked, or refused by the gateway, is sent
    by the next clock check once it may be, without waiting for another trade."""
    rig = Rig(tmp_path)
    for code in ("005930", "000660", "035720"):
        rig.ctx.positions[code] = TrackedPosition(code, exit_state=PositionState(70_000, 10))
    rig.ctx.blocked.add("005930")  # an order of unknown outcome: reconciling
    rig.gateway.cooldown[("000660", Side.SELL)] = rig.ctx.mono() + 60  # after a rejection
    rig.gateway.cooldown[("035720", Side.SELL)] = rig.ctx.mono() + 60
    below = TickSummary(67_500, 67_500, 67_500, 0, "103000")  # -3.6 %: under the stop-loss
    rig.trader.on_ticks({code: below for code in ("005930", "000660", "035720")})
    assert rig.sent == []
    rig.trader.check_clock_rules()
    assert rig.sent == []  # still blocked / cooling down: nothing yet
    waiting = [
        (e.code, e.detail["exit"])
        for e in rig.ctx.journal.entries(kinds=[JournalKind.NOTICE])
        if "waiting" in e.detail
    ]  # the journal says why each did not sell, once per stock, not once per retry
    assert sorted(waiting) == [(c, "stop_loss") for c in ("000660", "005930", "035720")]
    # 035720 recovers before it may be sold: the reason to sell is gone
    rig.trader.on_ticks({"035720": TickSummary(70_500, 70_500, 70_500, 0, "103001")})
    rig.ctx.blocked.discard("005930")
    rig.gateway.cooldown.clear()
    rig.trader.check_clock_rules()
    sold = sorted(r.order.code for r in rig.sent)
    assert sold == ["000660", "005930"]
    assert all(r.order.side is Side.SELL and r.order.quantity == 10 for r in rig.sent)
    rig.trader.check_clock_rules()
    assert len(rig.sent) == 2  # pending sells are not sent twice


def test_routine_skips_of_owned_stocks_are_debug_lines(tmp_path: Path) -> None:
    """A held / tracked / bought-today stock flagged again is routine: DEBUG in the 로그
    (shown under 전체), still journaled; a skip that needs the trader stays INFO."""
    rig = Rig(tmp_path, trading__max_positions="1")
    logged: list[tuple[str, str]] = []
    rig.ctx.log = lambda level, message: logged.append((level, message))
    rig.ctx.positions["000660"] = TrackedPosition("000660", exit_state=PositionState(190_000, 5))
    rig.ctx.ledger.bought.add("000660")
    rig.enter("4", "000660")
    rig.ctx.market.update_books([_book("005930", 70_000, 69_900)])
    rig.enter("4", "005930")  # max positions reached: the trader wants to know
    assert [level for level, _ in logged] == ["DEBUG", "INFO"]
    assert rig.refusals("000660") and rig.refusals("005930") == [BuyRefusal.MAX_POSITIONS.value]


class _Mono:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_waiting_exit_is_logged_and_journaled_once_not_every_second(tmp_path: Path) -> None:
    """The cool-down's text counts down ("10초 … 9초 …") and the order-rate limit's counts
    orders: neither may turn the every-second retry into a line and a row per second."""
    for raw, prepare in (
        ({}, lambda rig, mono: rig.gateway.cooldown.update({("000660", Side.SELL): mono() + 10})),
        ({"risk__max_orders_per_minute": "1"}, lambda rig, mono: rig.ctx.ledger.order_sent(mono())),
    ):
        rig = Rig(tmp_path / str(len(raw)), **raw)
        mono = _Mono()
        rig.ctx.mono = mono
        logs: list[str] = []
        rig.ctx.log = lambda level, text, logs=logs: logs.append(text)
        rig.ctx.positions["000660"] = TrackedPosition(
            "000660", exit_state=PositionState(70_000, 10)
        )
        prepare(rig, mono)
        rig.trader.on_ticks({"000660": TickSummary(67_500, 67_500, 67_500, 0, "103000")})
        for _ in range(9):  # the clock check, once a second
            mono.t += 1.0
            rig.trader.check_clock_rules()
        journal = rig.ctx.journal
        waiting = [e for e in journal.entries(kinds=[JournalKind.NOTICE]) if "waiting" in e.detail]
        assert len([t for t in logs if "매도 주문을 보내지 못했습니다" in t]) == 1
        assert len(waiting) == 1 and len(journal.entries(kinds=[JournalKind.RISK])) <= 1


def test_a_refused_or_unplaced_exit_order_is_sent_again_without_a_new_trade(
    tmp_path: Path,
) -> None:
    """A stop-loss sell of a quiet stock (no more trades) comes back REJECTED by the server,
    or NOT_PROCESSED: the exit is looked at every second and sent again once the pause is
    over — 10 s after a rejection on its merits, 1 s after an order that was never placed."""
    from kiwoom_terminal.engine.gateway import NOT_PLACED_RETRY_S, REJECT_COOLDOWN_S

    for outcome, kind, pause in (
        (OrderOutcome.REJECTED, ErrorKind.REJECTED, REJECT_COOLDOWN_S),
        (OrderOutcome.NOT_PROCESSED, ErrorKind.RATE_LIMITED, NOT_PLACED_RETRY_S),
    ):
        rig = Rig(tmp_path / outcome.value)
        mono = _Mono()
        rig.ctx.mono = mono
        rig.ctx.request_reconcile = lambda why: None
        rig.ctx.positions["000660"] = TrackedPosition(
            "000660", exit_state=PositionState(70_000, 10)
        )
        rig.trader.on_ticks({"000660": TickSummary(67_500, 67_500, 67_500, 0, "103000")})
        (first,) = rig.sent
        error = ErrorInfo(kind, "", "테스트 거절")
        rig.gateway.on_reply(OrderReply(first.request_id, outcome, None, error))
        waited = 0.0
        while len(rig.sent) == 1 and waited < 30.0:  # the clock check, once a second
            mono.t += 1.0
            waited += 1.0
            rig.trader.check_clock_rules()
        assert len(rig.sent) == 2, outcome
        assert pause <= waited <= pause + 1.0, (outcome, waited)
        second = rig.sent[1].order
        assert second.code == "000660" and second.side is Side.SELL and second.quantity == 10
