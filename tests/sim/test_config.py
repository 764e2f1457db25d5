"""Command-line settings reach the simulated world: fee rates in the account's arithmetic,
session times in the KRX clock and in the order rules that depend on the phase."""

from __future__ import annotations

import datetime as dt

from kiwoom_terminal import krx
from kiwoom_terminal.sim.server import TURN_SLICE_TICKS, SimConfig, Simulator
from tests.conftest import SimFactory
from tests.sim.conftest import Rest

FEES = krx.FeeSchedule(commission_rate=0.001, tax_rate=0.005)
DEFAULT_FEES = krx.FeeSchedule()
CODE = "005930"


def amount(field: str) -> int:
    return int(field)


def test_fee_flags_change_the_account_arithmetic(sim_factory: SimFactory) -> None:
    sim = sim_factory(
        "--commission-rate", "0.001", "--tax-rate", "0.005", "--cash", "10000000",
        "--faults", "rate=0,global_rate=0",
    )  # fmt: skip
    assert sim.control.state()["fees"] == {"commission_rate": 0.001, "tax_rate": 0.005}
    sim.control.set_price(CODE, 70_000, pause=True)
    sim.control.set_crowd(CODE, 1_000)
    rest = Rest(sim)
    order = {"dmst_stex_tp": "KRX", "stk_cd": CODE, "ord_qty": "10", "trde_tp": "3", "ord_uv": ""}
    rest.ok("kt10000", order)
    buy = sim.control.account()["fills"][0]
    bought = buy["price"] * 10
    buy_fee = FEES.commission(bought)
    assert buy_fee != DEFAULT_FEES.commission(bought)  # the rates really differ
    assert buy["fee"] == buy_fee
    deposit = rest.ok("kt00001", {"qry_tp": "3"})
    assert amount(deposit["entr"]) == 10_000_000 - bought - buy_fee
    balance = rest.ok("kt00018", {"qry_tp": "1", "dmst_stex_tp": "KRX"})
    (row,) = balance["acnt_evlt_remn_indv_tot"]
    evaluated = amount(row["cur_prc"]) * 10
    assert amount(row["evlt_amt"]) == evaluated
    assert amount(row["pur_cmsn"]) == buy_fee
    assert amount(row["sell_cmsn"]) == FEES.commission(evaluated)
    assert amount(row["tax"]) == FEES.tax(evaluated, True)
    assert amount(row["tax"]) != DEFAULT_FEES.tax(evaluated, True)
    assert amount(row["evltv_prft"]) == (
        evaluated - bought - buy_fee - FEES.commission(evaluated) - FEES.tax(evaluated, True)
    )
    rest.ok("kt10001", order)
    sell = sim.control.account()["fills"][1]
    sold = sell["price"] * 10
    assert (sell["fee"], sell["tax"]) == (FEES.commission(sold), FEES.tax(sold, True))
    deposit = rest.ok("kt00001", {"qry_tp": "3"})
    expected = 10_000_000 - bought - buy_fee + sold - FEES.commission(sold) - FEES.tax(sold, True)
    assert amount(deposit["entr"]) == expected
    assert (
        rest.ok("kt00018", {"qry_tp": "1", "dmst_stex_tp": "KRX"})["acnt_evlt_remn_indv_tot"] == []
    )


def test_session_flag_moves_the_krx_clock_and_its_order_rules(sim_factory: SimFactory) -> None:
    """With the closing auction moved to 15:30-15:40, 15:25 is continuous trading (an IOC
    order is accepted) and 15:31 the closing auction (IOC refused with RC4036). The default
    schedule's 15:20 auction is covered in-process by test_clock.py."""
    day = krx.latest_business_day(dt.datetime.now(krx.KST).date())
    ioc = {"dmst_stex_tp": "KRX", "stk_cd": CODE, "ord_qty": "1", "trde_tp": "13", "ord_uv": ""}
    sim = sim_factory(
        "--clock", "krx", "--start", f"{day:%Y%m%d} 15:25", "--speed", "0",
        "--session", "08:30,09:00,15:30,15:40,16:00,18:00",
    )  # fmt: skip
    state = sim.control.state()
    assert state["phase"] == "continuous"
    assert state["schedule"] == {
        "pre_open": "08:30",
        "continuous": "09:00",
        "closing_auction": "15:30",
        "close": "15:40",
        "after_hours": "16:00",
        "end": "18:00",
    }
    rest = Rest(sim)
    accepted = rest.call("kt10000", ioc).json()
    assert accepted["return_code"] == 0 and accepted["ord_no"], accepted
    assert sim.control.advance(6 * 60) == f"{day:%Y%m%d}153100"
    assert sim.control.state()["phase"] == "closing_auction"
    refused = rest.call("kt10000", ioc).json()
    assert refused == {
        "return_code": 20,
        "return_msg": "[2000](RC4036:모의투자 동시호가 시간에는 IOC/FOK 주문을 할 수 없습니다.)",
    }
    assert [o["order_no"] for o in sim.control.account()["orders"]] == [accepted["ord_no"]]
    # A regular limit order is still taken in the auction.
    price = sim.control.quote(CODE)["price"]
    assert rest.ok("kt10000", {**ioc, "trde_tp": "0", "ord_uv": str(price)})["ord_no"]


def test_the_market_loop_turns_faster_only_when_a_turn_would_print_a_burst() -> None:
    """20 ms turns idle and at the automatic rate (≤ 500 ticks/s: at most 10 ticks a turn);
    5 ms turns once 20 ms would hold more than one slice of crowd ticks."""
    sim = Simulator(SimConfig())
    assert sim.tick_rate is None and sim._loop_interval() == 0.02
    sim.tick_rate = TURN_SLICE_TICKS / 0.02  # exactly one slice a turn: no burst yet
    assert sim._loop_interval() == 0.02
    sim.tick_rate = 5_000
    assert sim._loop_interval() == 0.005
    sim.tick_rate = 0
    assert sim._loop_interval() == 0.02
