"""The auto-trading loop end to end: real workers, the real simulator, scripted prices.

Each test pins a stock's price (the random walk paused), forces it into the buy condition,
and moves the price through the control API; assertions are on what the simulator received
and on the engine's journal.
"""

from __future__ import annotations

from typing import Any

from kiwoom_terminal.constants import ExitReason, Side
from kiwoom_terminal.engine.journal import JournalKind
from tests.engine.conftest import (
    DEADLINE_MS,
    at_least,
    at_most,
    buy_via_condition,
    held_quantity,
    journal_entries,
    orders_for,
    position,
)


def _sold(control: Any, code: str) -> bool:
    return held_quantity(control, code) == 0 and all(
        o["remaining"] == 0 for o in orders_for(control, code)
    )


def test_buy_arm_trailing_and_sell_with_reasons(make_engine, control, qtbot) -> None:
    code = "005930"
    engine = make_engine()
    pos = buy_via_condition(engine, control, qtbot, code, 70_000)
    avg = pos.avg_price
    assert pos.quantity == held_quantity(control, code) > 0
    high = at_least(avg, 4.0)
    control.set_price(code, high, pause=True)
    qtbot.waitUntil(lambda: position(engine, code).exit_state.armed, timeout=DEADLINE_MS)
    assert position(engine, code).exit_state.high_since_arm == high
    assert not position(engine, code).sell_pending
    control.set_price(code, at_most(high, -1.6) , pause=True)
    qtbot.waitUntil(lambda: _sold(control, code), timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: position(engine, code) is None, timeout=DEADLINE_MS)
    sells = [o for o in orders_for(control, code) if o["side"] == "sell"]
    assert len(sells) == 1
    decisions = journal_entries(engine, code, JournalKind.DECISION)
    assert [d.side for d in decisions] == [Side.BUY.value, Side.SELL.value]
    sell = decisions[-1]
    assert sell.detail["purpose"] == ExitReason.TRAILING_STOP.value
    assert sell.detail["high_since_arm"] == high
    assert "트레일링" in sell.reason
    kinds = [e.kind for e in journal_entries(engine, code)]
    # The request is journaled before the acknowledgement and the fill.
    assert kinds.index(JournalKind.ORDER_REQUEST) < kinds.index(JournalKind.ORDER_ACK)
    assert kinds.count(JournalKind.FILL) >= 2
