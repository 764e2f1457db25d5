"""The scanner and the schedule wired into the live engine (real workers, real simulator
with a frozen clock the tests move; tests/strategy_live/market.py):

* a strategy signal leads to exactly one buy, through the engine's guards: a second BUY of
  the same stock later that day meets the re-buy block, a BUY while `max_positions` is
  reached is refused — and the signals table says why;
* with auto-trading off a BUY signal orders nothing and its row says so; a scheduled
  `auto_on` makes the next one buy;
* a scheduled `sell_all` sells every position once; with `source=` only that source's, and
  without it also the holdings the engine does not manage; `sell strategy=X` sells the
  holdings whose latest bar gives X's SELL;
* the scheduled daily reset clears the re-buy block on the next trading day;
* a restart does not fire again a rule that already fired today.

The tests share one simulator and run in file order (the last one moves it to the next
simulated day); each uses its own stocks.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from kiwoom_terminal import krx
from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.engine.journal import JournalKind
from kiwoom_terminal.objects import OrderRequest
from tests.engine.conftest import orders_for, pin
from tests.strategy_live.market import DEADLINE_MS, ScriptedMarket

ANCHOR = -20  # open well below yesterday's close (see test_equivalence_live.py)


def _minute_after(now: dt.datetime, minutes: int) -> dt.time:
    """The start of the minute `minutes` after the current one."""
    start = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=minutes)
    return start.time()


def _buy_orders(control: Any, code: str) -> list[dict[str, Any]]:
    return [o for o in orders_for(control, code, "new") if o["side"] == "buy"]


def _sell_orders(control: Any, code: str) -> list[dict[str, Any]]:
    return [o for o in orders_for(control, code, "new") if o["side"] == "sell"]


def test_a_signal_buys_once_through_the_rebuy_block_and_the_position_limit(
    frozen_sim: Any, strategy_engine: Any, qtbot: Any
) -> None:
    x, y = "005930", "000270"
    control = frozen_sim.control
    engine = strategy_engine(watchlist=(x, y), trading__max_positions="1")
    market = ScriptedMarket(control, engine, qtbot)
    base = {code: int(control.quote(code)["base"]) for code in (x, y)}
    for code in (x, y):
        control.set_crowd(code, 5_000)
    start = market.now()
    # Ticks from ANCHOR below the base per minute; sma_cross(2, 3) says BUY on X's bar 4,
    # Y's bar 5 and X's bar 9.
    paths: dict[str, list[int | None]] = {
        x: [0, -2, -4, -6, 0, None, -22, -24, -26, -20],  # bar 6: stop-loss; bar 9: BUY again
        y: [0, 0, -2, -4, -6, 0],  # BUY on bar 5, while X is held and the limit is 1
    }
    for step in range(11):
        market.go_to(_minute_after(start, step + 1).replace(second=1))
        for code, path in paths.items():
            if step < len(path) and path[step] is not None:
                market.print_trade(code, krx.step_price(base[code], ANCHOR + path[step]))

    assert len(_buy_orders(control, x)) == 1  # bought on the first BUY only
    assert len(_sell_orders(control, x)) == 1  # the stop-loss
    assert _buy_orders(control, y) == []  # refused: max_positions
    signals = engine.table("signals")
    buys = signals[(signals["side"] == "buy") & signals["code"].isin([x, y])]
    outcome = {(r.code, r.status): r.note for r in buys.itertuples()}
    assert len(buys) == 3, buys[["code", "bar_time", "status", "note"]]
    assert (x, "bought") in outcome
    assert "최대 보유 종목 수" in outcome[(y, "skipped")]
    assert "재매수 금지" in outcome[(x, "skipped")]
    skips = [
        e
        for e in engine.journal.entries(code=y, kinds=[JournalKind.DECISION])
        if e.detail.get("action") == "skip"
    ]
    assert skips and skips[-1].detail["condition"] == "sma_cross"


def test_a_scheduled_sell_all_sells_every_position_once(
    frozen_sim: Any, strategy_engine: Any, qtbot: Any
) -> None:
    codes = ("003550", "005830")
    control = frozen_sim.control
    at = _minute_after(ScriptedMarket.sim_time(control), 2)
    engine = strategy_engine(schedule__rules=f"daily {at:%H:%M} sell_all", scanner__enabled="false")
    market = ScriptedMarket(control, engine, qtbot)
    for code in codes:
        market.buy_now(code, 3)
    market.go_to(at.replace(second=1))
    for code in codes:
        assert market.held(code) == 0
        sells = _sell_orders(control, code)
        assert len(sells) == 1 and sells[0]["qty"] == 3 and sells[0]["filled"] == 3
    decisions = [
        e
        for code in codes
        for e in engine.journal.entries(code=code, kinds=[JournalKind.DECISION])
        if e.side == Side.SELL.value
    ]
    assert len(decisions) == 2
    assert all(
        "예약 전량 매도" in e.reason and e.detail["purpose"] == "strategy" for e in decisions
    )
    market.go_to(_minute_after(market.now(), 1).replace(second=1))  # a minute later: nothing
    assert [len(_sell_orders(control, code)) for code in codes] == [1, 1]
    assert [job.action.value for job, _ in engine.strategy.jobs.done] == ["sell_all"]


def test_sell_all_with_a_source_sells_only_that_source_and_a_plain_one_sells_the_rest(
    frozen_sim: Any, strategy_engine: Any, qtbot: Any
) -> None:
    """`sell_all source=schedule` sells the position the schedule bought and nothing else;
    a plain `sell_all` then sells the manual position by the exit path and a holding the
    engine does not manage (in the account before the start) at market, whole quantity,
    through the order gateway."""
    manual, scheduled, outside = "105560", "086790", "055550"
    control = frozen_sim.control
    leftovers = {p["code"] for p in control.account()["positions"]}  # earlier tests' holdings
    assert leftovers.isdisjoint({manual, scheduled, outside})
    outside_price = pin(control, outside)
    control.set_account(holdings=[{"code": outside, "qty": 4, "avg_price": outside_price}])
    now = ScriptedMarket.sim_time(control)
    buy_at, by_source, everything = (_minute_after(now, k) for k in (1, 2, 3))
    engine = strategy_engine(
        scanner__enabled="false",
        schedule__rules=(
            f"daily {buy_at:%H:%M} buy codes={scheduled},"
            f"daily {by_source:%H:%M} sell_all source=schedule,"
            f"daily {everything:%H:%M} sell_all"
        ),
    )
    assert outside not in engine.ctx.positions  # not managed: adopt_holdings is off
    assert engine.ctx.tables.get("holdings", outside)["quantity"] == 4
    market = ScriptedMarket(control, engine, qtbot)
    market.buy_now(manual, 2)
    market.go_to(buy_at.replace(second=1))
    qtbot.waitUntil(lambda: market.held(scheduled) > 0, timeout=DEADLINE_MS)
    market.settle()
    assert engine.ctx.positions[manual].source == "manual"
    assert engine.ctx.positions[scheduled].source == "schedule"

    market.go_to(by_source.replace(second=1))
    assert market.held(scheduled) == 0 and len(_sell_orders(control, scheduled)) == 1
    assert market.held(manual) == 2 and _sell_orders(control, manual) == []
    assert _sell_orders(control, outside) == []  # only without a source

    market.go_to(everything.replace(second=1))
    assert market.held(manual) == 0
    sells = _sell_orders(control, manual)
    assert len(sells) == 1 and sells[0]["qty"] == 2 and sells[0]["filled"] == 2
    sells = _sell_orders(control, outside)
    assert len(sells) == 1 and sells[0]["qty"] == 4 and sells[0]["filled"] == 4
    assert sells[0]["trde_tp"] == "3"  # market
    assert outside not in {p["code"] for p in control.account()["positions"]}
    qtbot.waitUntil(lambda: engine.ctx.tables.get("holdings", outside) is None, timeout=DEADLINE_MS)
    assert outside not in engine.ctx.positions
    decisions = engine.journal.entries(code=outside, kinds=[JournalKind.DECISION])
    assert len(decisions) == 1 and "관리하지 않던 보유 종목" in decisions[0].reason
    assert [len(_sell_orders(control, c)) for c in (manual, scheduled)] == [1, 1]
    assert [(job.action.value, summary) for job, summary in engine.strategy.jobs.done] == [
        ("buy", "1종목 매수 요청"),
        ("sell_all", "매도 요청 1종목"),
        ("sell_all", f"매도 요청 {2 + len(leftovers)}종목"),
    ]


def test_a_scheduled_sell_by_strategy_sells_the_holdings_its_latest_bar_says(
    frozen_sim: Any, strategy_engine: Any, qtbot: Any
) -> None:
    """`sell strategy=sma_cross` judges the latest completed bar of every held position
    (fetched for the job: the scanner is off) and sells those whose bar gives the SELL,
    through the exit path — whatever opened the position (here: manual buys)."""
    p, q = "066570", "033780"
    control = frozen_sim.control
    start = ScriptedMarket.sim_time(control)
    at = _minute_after(start, 6)  # bars at minutes 1..5; the fifth completes at 6
    engine = strategy_engine(
        scanner__enabled="false", schedule__rules=f"daily {at:%H:%M} sell strategy=sma_cross"
    )
    market = ScriptedMarket(control, engine, qtbot)
    base = {code: int(control.quote(code)["base"]) for code in (p, q)}
    for code in (p, q):  # bought a few ticks under the scripted bars (no exit rule fires)
        market.print_trade(code, krx.step_price(base[code], ANCHOR - 5))
        market.buy_now(code, 1)
    # sma_cross(2, 3) on P's last bar: fast (7 + 1) / 2 = 4 < slow (5 + 7 + 1) / 3 = 4.33
    # after 6 > 5 on the bar before: the SELL. Q keeps rising: none. The first print is
    # above the fill, whose tick the engine may or may not have seen yet.
    paths = {p: [1, 3, 5, 7, 1], q: [1, 3, 5, 7, 9]}
    for step in range(5):
        market.go_to(_minute_after(start, step + 1).replace(second=1))
        for code, path in paths.items():
            market.print_trade(code, krx.step_price(base[code], ANCHOR + path[step]))
    assert _sell_orders(control, p) == [] and _sell_orders(control, q) == []
    market.go_to(at.replace(second=1))
    qtbot.waitUntil(lambda: market.held(p) == 0, timeout=DEADLINE_MS)
    market.settle()
    sells = _sell_orders(control, p)
    assert len(sells) == 1 and sells[0]["qty"] == 1 and sells[0]["filled"] == 1
    assert _sell_orders(control, q) == [] and market.held(q) == 1
    (job, summary), *_ = engine.strategy.jobs.done
    assert job.action.value == "sell" and summary == f"2종목 확인, 매도 신호 1 ({p})"
    decisions = [
        e
        for e in engine.journal.entries(code=p, kinds=[JournalKind.DECISION])
        if e.side == Side.SELL.value
    ]
    assert len(decisions) == 1 and "예약 매도" in decisions[0].reason
    assert decisions[0].detail["purpose"] == "strategy"
    signals = engine.table("signals")
    row = signals[signals["code"] == p].iloc[0]
    assert (row["side"], row["status"], row["note"]) == ("sell", "sold", "보유 종목 매도 요청")
    assert row["bar_time"] == f"{start.date()} {_minute_after(start, 5):%H:%M}"
    assert signals[signals["code"] == q].empty


def test_a_buy_signal_with_auto_trade_off_is_noted_not_bought_until_auto_on(
    frozen_sim: Any, strategy_engine: Any, qtbot: Any
) -> None:
    """With auto-trading off a routed BUY signal sends nothing and its row says why; the
    scheduled `auto_on` switches auto-trading on, and the next BUY signal is bought (the
    skipped one is not replayed)."""
    a, b = "271560", "021240"
    control = frozen_sim.control
    start = ScriptedMarket.sim_time(control)
    on_at = _minute_after(start, 7)
    engine = strategy_engine(
        watchlist=(a, b), auto_trade=False, schedule__rules=f"daily {on_at:%H:%M} auto_on"
    )
    assert not engine.status.auto_trade
    market = ScriptedMarket(control, engine, qtbot)
    base = {code: int(control.quote(code)["base"]) for code in (a, b)}
    # Step k prints at minute k + 1. sma_cross(2, 3) says BUY on A's bar at minute 5 (found
    # when it completes at 6, auto-trading still off) and on B's bar at minute 8 (found at
    # 9, after auto_on at 7).
    paths: dict[str, list[int | None]] = {
        a: [0, -2, -4, -6, 0],
        b: [None, None, None, 0, -2, -4, -6, 0],
    }
    for step in range(9):
        market.go_to(_minute_after(start, step + 1).replace(second=1))
        for code, path in paths.items():
            if step < len(path) and path[step] is not None:
                market.print_trade(code, krx.step_price(base[code], ANCHOR + path[step]))
        if step == 5:  # minute 6: A's signal was found and routed with auto-trading off
            assert not engine.status.auto_trade
            signals = engine.table("signals")
            row = signals[(signals["code"] == a) & (signals["side"] == "buy")]
            assert len(row) == 1, signals[["code", "bar_time", "status", "note"]]
            assert (row.iloc[0]["status"], row.iloc[0]["note"]) == (
                "skipped",
                "자동매매가 꺼져 있어 매수하지 않음",
            )
            assert row.iloc[0]["bar_time"] == f"{start.date()} {_minute_after(start, 5):%H:%M}"
            assert _buy_orders(control, a) == [] and a not in engine.ctx.positions
            skips = engine.journal.entries(code=a, kinds=[JournalKind.DECISION])
            assert len(skips) == 1 and skips[0].detail["action"] == "skip"
            assert "자동매매가 꺼져 있어 매수하지 않음" in skips[0].reason
        if step == 6:  # minute 7: auto_on fired
            assert engine.status.auto_trade
    qtbot.waitUntil(lambda: market.held(b) > 0, timeout=DEADLINE_MS)
    market.settle()
    assert len(_buy_orders(control, b)) == 1 and engine.ctx.positions[b].source == "sma_cross"
    assert _buy_orders(control, a) == []  # the skipped signal stays skipped
    assert [(job.action.value, summary) for job, summary in engine.strategy.jobs.done] == [
        ("auto_on", "자동매매 켬")
    ]
    signals = engine.table("signals")
    assert signals[(signals["code"] == b) & (signals["side"] == "buy")]["status"].tolist() == [
        "bought"
    ]


def test_a_restart_does_not_fire_a_rule_again_the_same_day(
    frozen_sim: Any, strategy_engine: Any, qtbot: Any, tmp_path: Path
) -> None:
    control = frozen_sim.control
    at = _minute_after(ScriptedMarket.sim_time(control), 1)
    folder = tmp_path / "restart"
    rules = {"schedule__rules": f"daily {at:%H:%M} auto_off", "scanner__enabled": "false"}
    first = strategy_engine(data_dir=folder, **rules)
    market = ScriptedMarket(control, first, qtbot)
    market.go_to(at.replace(second=1))
    assert not first.status.auto_trade  # fired
    first.shutdown()
    state = json.loads((folder / "schedule.json").read_text(encoding="utf-8"))
    assert state["handled"] == {f"daily {at:%H:%M} auto_off": f"{market.now():%Y-%m-%d}T{at}"}

    second = strategy_engine(data_dir=folder, **rules)  # auto-trade on again at start
    market = ScriptedMarket(control, second, qtbot)
    market.go_to(at.replace(second=40))  # still inside the late grace: it would fire
    qtbot.waitUntil(lambda: second.strategy.idle(), timeout=DEADLINE_MS)
    assert second.status.auto_trade
    fired = [
        e for e in second.journal.entries(kinds=[JournalKind.NOTICE]) if "예약 작업" in e.reason
    ]
    assert len(fired) == 1  # the first engine's (same journal file)


def test_the_watchlist_follows_a_condition(
    frozen_sim: Any, strategy_engine: Any, qtbot: Any
) -> None:
    """A real-time condition's members (start reply, 편입 / 이탈 events) keep a synced
    watchlist current in `replace` mode, without touching stocks added by hand; a condition
    that does not run in real time is synced with a one-shot search."""
    a, b, c, d = "035420", "035720", "051910", "068270"
    control = frozen_sim.control
    control.condition("4", a, "add")
    engine = strategy_engine(
        trading__sell_conditions="4",  # runs in real time (sells only what it holds: nothing)
        scanner__sync_condition="수동 편입 (시뮬레이터)",
        scanner__sync_mode="replace",
        scanner__enabled="false",
    )
    watchlist = engine.strategy.watchlist
    runner = engine.strategy
    changes: list[list[str]] = []
    runner.watchlist_changed.connect(changes.append)
    qtbot.waitUntil(lambda: a in watchlist, timeout=DEADLINE_MS)  # the start reply's members
    runner.add_to_watchlist(c)  # by hand
    control.condition("4", b, "add")
    qtbot.waitUntil(lambda: b in watchlist, timeout=DEADLINE_MS)
    control.condition("4", a, "remove")
    qtbot.waitUntil(lambda: a not in watchlist, timeout=DEADLINE_MS)
    assert watchlist.codes() == [c, b]
    assert watchlist.get(b).source == "수동 편입 (시뮬레이터)" and watchlist.get(c).is_manual
    assert changes[-1] == [c, b] and runner.scanner.codes == [c, b]

    control.condition("6", d, "add")  # 상승률 5% 이상: not running in real time
    runner.sync_watchlist("6", replace=False)
    qtbot.waitUntil(lambda: d in watchlist, timeout=DEADLINE_MS)
    assert watchlist.get(d).source == "상승률 5% 이상"
    control.condition("4", b, "clear")
    control.condition("6", d, "clear")


def test_a_scheduled_buy_by_strategy_buys_what_the_latest_bar_says(
    frozen_sim: Any, strategy_engine: Any, qtbot: Any
) -> None:
    """`buy strategy=sma_cross` at a set time judges the latest completed bar of every
    watchlist code (fetched for the job: the scanner is off) and buys the BUYs through the
    engine's buy path."""
    p, q = "009150", "004020"
    control = frozen_sim.control
    start = ScriptedMarket.sim_time(control)
    at = _minute_after(start, 6)  # bars at minutes 1..5; the fifth completes at 6
    engine = strategy_engine(
        watchlist=(p, q),
        scanner__enabled="false",
        schedule__rules=f"daily {at:%H:%M} buy strategy=sma_cross",
    )
    market = ScriptedMarket(control, engine, qtbot)
    base = {code: int(control.quote(code)["base"]) for code in (p, q)}
    paths = {p: [0, -2, -4, -6, 0], q: [0, -2, -4, -6, -8]}  # P's last bar crosses up
    for step in range(5):
        market.go_to(_minute_after(start, step + 1).replace(second=1))
        for code, path in paths.items():
            market.print_trade(code, krx.step_price(base[code], ANCHOR + path[step]))
    assert engine.ctx.positions == {}
    market.go_to(at.replace(second=1))
    qtbot.waitUntil(lambda: market.held(p) > 0, timeout=DEADLINE_MS)
    market.settle()
    assert len(_buy_orders(control, p)) == 1 and _buy_orders(control, q) == []
    assert engine.ctx.positions[p].source == "sma_cross"
    (job, summary), *_ = engine.strategy.jobs.done
    assert job.action.value == "buy" and summary == f"2종목 확인, 매수 신호 1 ({p})"
    signals = engine.table("signals")
    row = signals[signals["code"] == p].iloc[0]
    assert (row["side"], row["status"]) == ("buy", "bought")
    assert row["bar_time"] == f"{start.date()} {_minute_after(start, 5):%H:%M}"


def test_the_daily_reset_clears_the_rebuy_block_on_the_next_trading_day(
    frozen_sim: Any, strategy_engine: Any, qtbot: Any
) -> None:
    z = "006800"
    control = frozen_sim.control
    at = _minute_after(ScriptedMarket.sim_time(control), 1)
    engine = strategy_engine(
        schedule__rules=f"daily 00:00 reset,daily {at:%H:%M} buy codes={z}",
        scanner__enabled="false",
    )
    market = ScriptedMarket(control, engine, qtbot)
    market.buy_now(z, 2)
    engine.submit_manual_order(OrderRequest(z, Side.SELL, 2, 0, OrderType.MARKET))
    qtbot.waitUntil(lambda: market.held(z) == 0, timeout=DEADLINE_MS)
    market.settle()
    assert z in engine.ctx.ledger.bought

    market.go_to(at.replace(second=1))  # the buy rule fires: refused by the re-buy block
    assert len(_buy_orders(control, z)) == 1  # the manual buy only
    refused = engine.journal.entries(code=z, kinds=[JournalKind.DECISION])
    assert any("재매수 금지" in e.reason for e in refused)

    def resets() -> int:
        notices = engine.journal.entries(kinds=[JournalKind.NOTICE])
        return sum("당일 기록 초기화" in e.reason and "daily 00:00" in e.reason for e in notices)

    assert resets() == 0  # at start, today's 00:00 instance caught up late: today's state
    first_job, summary = engine.strategy.jobs.done[0]
    assert (first_job.action.value, summary) == ("reset", "이미 오늘의 기록")
    day_one = engine.strategy.day
    market.go_to(dt.time(9, 0, 30), next_day=True)  # the simulator's next trading day
    assert engine.strategy.day == krx.next_business_day(day_one)
    assert resets() == 1  # the new day's reset ran
    assert engine.ctx.ledger.bought == set()

    market.go_to(at.replace(second=1))  # the buy rule on the new day: bought
    qtbot.waitUntil(lambda: market.held(z) > 0, timeout=DEADLINE_MS)
    market.settle()
    assert len(_buy_orders(control, z)) == 1  # the simulator lists the new day's orders
    requests = engine.journal.entries(code=z, kinds=[JournalKind.ORDER_REQUEST])
    assert [e.side for e in requests] == ["buy", "sell", "buy"]
    assert engine.ctx.positions[z].source == "schedule"
