"""The scanner's pure core with an injected clock and made-up replies: what it asks for and
when, how replies merge, and which signals come out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from kiwoom_terminal.constants import Side
from kiwoom_terminal.objects import BarData
from kiwoom_terminal.scanner.scanner import Scanner, ScannerConfig
from kiwoom_terminal.scanner.signals import SignalBook, SignalStatus
from kiwoom_terminal.strategies.base import StrategyError

DAY = dt.date(2025, 10, 2)  # a Thursday, KRX business day
CODES = ["005930", "000660"]


def at(hh: int, mm: int, ss: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm, ss))


def minute_bars(code: str, closes: Sequence[int], first: dt.datetime) -> list[BarData]:
    """One bar per close, starting at `first`, newest first as ka10080 answers."""
    rows = []
    for i, close in enumerate(closes):
        t = first + dt.timedelta(minutes=i)
        rows.append(BarData(code, t, close, close + 50, close - 50, close, 1_000 + i))
    return rows[::-1]


def make(**changes: object) -> Scanner:
    config = ScannerConfig(
        **{"history_bars": 50, "requests_per_second": 2.0, "burst": 2, **changes}  # type: ignore[arg-type]
    )
    scanner = Scanner(config, SignalBook(None, today=DAY), names={"005930": "삼성전자"})
    scanner.set_codes(CODES)
    scanner.set_strategies({"sma_cross": {"fast": 2, "slow": 4}})
    return scanner


def test_target_bar_follows_the_session() -> None:
    s = make()
    assert s.target_bar(at(8, 59)) is None
    assert s.target_bar(at(9, 0, 30)) is None  # the first bar is still forming
    assert s.target_bar(at(9, 1, 0)) == at(9, 0)
    assert s.target_bar(at(10, 0, 30)) == at(9, 59)
    assert s.target_bar(at(18, 0)) == at(15, 30)  # the day's last bar
    assert s.target_bar(at(10, 0, day=dt.date(2025, 10, 4))) is None  # Saturday
    assert s.target_bar(at(10, 0, day=dt.date(2025, 10, 6))) is None  # 추석 holiday
    five = make(interval=5)
    assert five.target_bar(at(10, 4, 59)) == at(9, 55)
    assert five.target_bar(at(10, 5, 0)) == at(10, 0)


def test_requests_are_paced_stalest_first_and_one_per_code() -> None:
    codes = [f"{i:06d}" for i in range(1, 101)]
    s = make()
    s.set_codes(codes)
    t = at(10, 0, 5)
    sent: list[tuple[dt.datetime, str]] = []
    for step in range(0, 120):  # the engine's timer, every half second for a minute
        now = t + dt.timedelta(seconds=step / 2)
        sent += [(now, q.code) for q in s.due_requests(now)]
    assert [c for _, c in sent] == codes  # each code once (no reply yet), in order
    # never more than the burst at once and 2/s on average: 100 codes take ~50 s
    for i in range(len(sent)):
        window = [w for w, _ in sent if sent[i][0] <= w < sent[i][0] + dt.timedelta(seconds=1)]
        assert len(window) <= 3
    assert sent[-1][0] - sent[0][0] >= dt.timedelta(seconds=45)
    assert s.status().in_flight == 100


def test_first_fetch_asks_for_history_then_only_what_is_missing() -> None:
    s = make()
    now = at(10, 0, 5)
    first = s.due_requests(now)
    assert [(q.code, q.minutes, q.max_rows) for q in first] == [
        ("005930", 1, 50),
        ("000660", 1, 50),
    ]
    closes = [70_000 + 10 * (i % 7) for i in range(61)]  # 09:00 … 10:00 (10:00 still forming)
    result = s.on_bars(first[0].request_id, minute_bars("005930", closes, at(9, 0)), now)
    bars = s.cache.bars("005930")
    assert bars is not None and len(bars) == 50 and bars.index[-1] == at(9, 59)  # no 10:00
    assert result.new_bars == 50
    assert s.due_requests(now) == []  # up to date for 09:59 (000660 is still in flight)
    later = at(10, 3, 2)
    (again,) = [q for q in s.due_requests(later) if q.code == "005930"]
    assert again.max_rows == 3 + 2  # 10:00, 10:01, 10:02 are missing; plus two to correct


def test_a_reply_without_new_bars_is_not_repeated_until_the_next_bar() -> None:
    s = make(requests_per_second=100.0, burst=10)
    now = at(10, 0, 5)
    for q in s.due_requests(now):
        s.on_bars(q.request_id, minute_bars(q.code, [70_000] * 30, at(9, 0)), now)  # illiquid
    assert s.due_requests(now + dt.timedelta(seconds=20)) == []
    assert {q.code for q in s.due_requests(at(10, 1, 5))} == set(CODES)


def test_failures_back_off_and_lost_replies_time_out() -> None:
    s = make(request_timeout_s=30.0)
    now = at(10, 0, 5)
    a, b = s.due_requests(now)
    s.on_failure(a.request_id, now, "timeout")
    assert s.due_requests(now + dt.timedelta(seconds=4)) == []
    (retry,) = s.due_requests(now + dt.timedelta(seconds=6))
    assert retry.code == a.code
    s.on_failure(retry.request_id, now + dt.timedelta(seconds=6))
    assert s.due_requests(now + dt.timedelta(seconds=15)) == []  # second failure: 10 s
    assert s.due_requests(now + dt.timedelta(seconds=16.5))[0].code == a.code
    # b never answered: after the timeout the code is free again
    assert [q.code for q in s.due_requests(now + dt.timedelta(seconds=40))] == [b.code]
    with pytest.raises(KeyError):
        s.on_bars(b.request_id, [], now + dt.timedelta(seconds=41))


def test_a_cross_on_the_newest_bar_gives_one_signal_and_a_buy_candidate() -> None:
    s = make(route_buy_signals=True, requests_per_second=100.0, burst=10)
    # falling for an hour, then a jump at 09:59: SMA(2) crosses above SMA(4) on that bar
    closes = [80_000 - 100 * i for i in range(59)] + [79_000, 75_000]
    now = at(10, 0, 3)
    q = s.due_requests(now)[0]
    result = s.on_bars(q.request_id, minute_bars("005930", closes, at(9, 0)), now)
    assert [(x.side, x.bar_time, x.price) for x in result.signals] == [
        (Side.BUY, at(9, 59), 79_000)
    ]
    (buy,) = result.buys
    assert (buy.code, buy.name, buy.source, buy.price) == (
        "005930",
        "삼성전자",
        "sma_cross",
        79_000,
    )
    row = s.book.table().loc[buy.signal_id]
    assert (row["status"], row["strategy"], row["params"]) == (
        "routed",
        "sma_cross",
        "sma_cross(fast=2, slow=4)",
    )
    # the same bar again (a late or repeated reply, or a restart): no second signal
    q2 = s.due_requests(at(10, 1, 3))[0]
    assert (
        s.on_bars(q2.request_id, minute_bars("005930", closes, at(9, 0)), at(10, 1, 3)).signals
        == ()
    )
    # a restart with the same signals database: the scanner starts fresh, the book refuses
    fresh = Scanner(s.config, s.book)
    fresh.set_codes(["005930"])
    fresh.set_strategies({"sma_cross": {"fast": 2, "slow": 4}})
    q3 = fresh.due_requests(now)[0]
    assert fresh.on_bars(q3.request_id, minute_bars("005930", closes, at(9, 0)), now).buys == ()
    assert len(s.book.table()) == 1


def test_sell_signals_flag_and_old_or_yesterday_signals_are_dropped() -> None:
    s = make(requests_per_second=100.0, burst=10, max_signal_age_s=90)
    rising = [70_000 + 100 * i for i in range(59)] + [70_000, 70_500]  # cross below at 09:59
    now = at(10, 0, 3)
    q = s.due_requests(now)[0]
    result = s.on_bars(q.request_id, minute_bars("005930", rising, at(9, 0)), now)
    (flag,) = result.sells
    assert (flag.code, flag.strategy, flag.bar_time) == ("005930", "sma_cross", at(9, 59))
    assert result.buys == ()  # routing off by default
    assert s.book.table().iloc[0]["status"] == SignalStatus.NEW.value
    # the same path seen 3 minutes late: older than max_signal_age_s, nothing
    late = make(requests_per_second=100.0, burst=10, max_signal_age_s=90)
    q = late.due_requests(at(10, 3, 0))[0]
    assert (
        late.on_bars(q.request_id, minute_bars("005930", rising, at(9, 0)), at(10, 3, 0)).signals
        == ()
    )
    # yesterday's bars right after today's open: nothing either
    early = make(requests_per_second=100.0, burst=10)
    q = early.due_requests(at(9, 1, 2))[0]
    yesterday = minute_bars("005930", rising, dt.datetime(2025, 10, 1, 14, 30))
    assert early.on_bars(q.request_id, yesterday, at(9, 1, 2)).signals == ()


def test_bad_strategy_settings_change_nothing() -> None:
    s = make()
    with pytest.raises(StrategyError, match="fast"):
        s.set_strategies({"sma_cross": {"fast": 30, "slow": 4}})
    with pytest.raises(StrategyError, match="알 수 없는 전략"):
        s.set_strategies({"nope": {}})
    assert list(s.strategies) == ["sma_cross"]
    s.set_codes(["000660"])
    assert s.codes == ["000660"] and s.status().codes == 1
