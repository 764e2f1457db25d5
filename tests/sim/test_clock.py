"""The session clock: continuous days by default, the real KRX schedule on request."""

from __future__ import annotations

import datetime as dt

import pytest

from kiwoom_terminal.krx import SessionPhase
from kiwoom_terminal.sim.account import Account
from kiwoom_terminal.sim.clock import ClockMode, SimClock
from kiwoom_terminal.sim.days import BusinessDays
from kiwoom_terminal.sim.errors import ApiError
from kiwoom_terminal.sim.listings import BY_CODE
from kiwoom_terminal.sim.market import Market
from kiwoom_terminal.sim.orders import ORDER_TYPES

FRIDAY = dt.date(2026, 11, 20)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_continuous_clock_runs_09_00_to_15_20_on_business_days_at_speed() -> None:
    t = FakeTime()
    days = BusinessDays(FRIDAY)
    clock = SimClock(days, speed=10, start=dt.datetime(2026, 11, 22, 15, 0), monotonic=t)
    assert clock.now() == dt.datetime(2026, 11, 20, 15, 0)  # a Sunday start means Friday
    t.now += 60  # 60 real seconds at 10x
    assert clock.now() == dt.datetime(2026, 11, 20, 15, 10)
    t.now += 60
    assert clock.now() == dt.datetime(2026, 11, 23, 9, 0)  # Monday
    assert clock.phase() is SessionPhase.CONTINUOUS
    clock.set_speed(0)
    t.now += 3600
    assert clock.now() == dt.datetime(2026, 11, 23, 9, 0)
    clock.advance(90)
    assert clock.now() == dt.datetime(2026, 11, 23, 9, 1, 30)
    clock.forced_phase = SessionPhase.CLOSED
    assert clock.phase() is SessionPhase.CLOSED


@pytest.mark.parametrize(
    ("start", "phase"),
    [
        (dt.datetime(2026, 11, 20, 8, 0), SessionPhase.CLOSED),
        (dt.datetime(2026, 11, 20, 8, 45), SessionPhase.PRE_OPEN),
        (dt.datetime(2026, 11, 20, 12, 0), SessionPhase.CONTINUOUS),
        (dt.datetime(2026, 11, 20, 15, 25), SessionPhase.CLOSING_AUCTION),
        (dt.datetime(2026, 11, 20, 17, 0), SessionPhase.AFTER_HOURS),
        (dt.datetime(2026, 11, 21, 12, 0), SessionPhase.CLOSED),  # Saturday
    ],
)
def test_krx_clock_follows_the_schedule(start: dt.datetime, phase: SessionPhase) -> None:
    clock = SimClock(BusinessDays(FRIDAY), mode=ClockMode.KRX, speed=0, start=start)
    assert clock.phase() is phase


@pytest.mark.parametrize(
    ("hour", "message"),
    [(7, "[2000](RC4057:모의투자 장시작전)"), (16, "[2000](RC4058:모의투자 장종료)")],
)
def test_orders_outside_the_session_are_rejected(hour: int, message: str) -> None:
    days = BusinessDays(FRIDAY)
    clock = SimClock(days, mode=ClockMode.KRX, speed=0, start=dt.datetime(2026, 11, 20, hour, 0))
    market = Market(clock, days, 1, listings=(BY_CODE["005930"],))
    account = Account(market)
    with pytest.raises(ApiError) as err:
        account.place(
            buy=True, stock=market.stocks["005930"], qty=1, price=70_000, trde_tp="0", venue="KRX"
        )
    assert err.value.return_msg == message


@pytest.mark.parametrize("trde_tp", ["10", "13", "16", "20", "23", "26"])
def test_ioc_and_fok_are_refused_in_the_closing_auction(trde_tp: str) -> None:
    """§11.3: the closing call auction (15:20–15:30) takes regular orders only."""
    days = BusinessDays(FRIDAY)
    clock = SimClock(days, mode=ClockMode.KRX, speed=0, start=dt.datetime(2026, 11, 20, 15, 25))
    market = Market(clock, days, 1, listings=(BY_CODE["005930"],))
    account = Account(market)
    stock = market.stocks["005930"]
    price = stock.price if ORDER_TYPES[trde_tp][1] else 0
    with pytest.raises(ApiError) as err:
        account.place(buy=True, stock=stock, qty=1, price=price, trde_tp=trde_tp, venue="KRX")
    assert (err.value.return_code, err.value.return_msg) == (
        20,
        "[2000](RC4036:모의투자 동시호가 시간에는 IOC/FOK 주문을 할 수 없습니다.)",
    )
    assert account.orders == {}
    regular = account.place(
        buy=True, stock=stock, qty=1, price=stock.price, trde_tp="0", venue="KRX"
    )
    assert regular.order_no == "0000001"
    clock.forced_phase = SessionPhase.CONTINUOUS  # the same order in continuous trading
    assert (
        account.place(
            buy=True, stock=stock, qty=1, price=price, trde_tp=trde_tp, venue="KRX"
        ).order_no
        == "0000002"
    )


@pytest.mark.parametrize("trde_tp", ["10", "13", "16", "20", "23", "26"])
def test_ioc_and_fok_in_the_opening_auction_follow_the_setting(trde_tp: str) -> None:
    """The opening call auction (08:30–09:00) matches at one price too: IOC / FOK refused by
    default; `ioc_in_opening_auction` (--opening-auction-ioc accept) takes them, as the
    literal reading of §11.3 would."""
    days = BusinessDays(FRIDAY)
    clock = SimClock(days, mode=ClockMode.KRX, speed=0, start=dt.datetime(2026, 11, 20, 8, 45))
    assert clock.phase() is SessionPhase.PRE_OPEN
    market = Market(clock, days, 1, listings=(BY_CODE["005930"],))
    stock = market.stocks["005930"]
    price = stock.price if ORDER_TYPES[trde_tp][1] else 0
    strict = Account(market)
    with pytest.raises(ApiError) as err:
        strict.place(buy=True, stock=stock, qty=1, price=price, trde_tp=trde_tp, venue="KRX")
    assert err.value.return_msg == (
        "[2000](RC4036:모의투자 동시호가 시간에는 IOC/FOK 주문을 할 수 없습니다.)"
    )
    assert strict.orders == {}
    assert (
        strict.place(
            buy=True, stock=stock, qty=1, price=stock.price, trde_tp="0", venue="KRX"
        ).order_no
        == "0000001"
    )
    lenient = Account(market, ioc_in_opening_auction=True)
    placed = lenient.place(buy=True, stock=stock, qty=1, price=price, trde_tp=trde_tp, venue="KRX")
    assert placed.order_no == "0000001" and set(lenient.orders) == {"0000001"}
