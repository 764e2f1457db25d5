"""The engine's busy byte (read by the WebSocket worker, workers/ws_worker.py): set while the
engine handles what the workers delivered — where exits are decided and orders sent — and
clear the rest of the time, e.g. while views are told about new prices."""

from __future__ import annotations

from typing import Any

from kiwoom_terminal.sim.control import SimControl
from tests.engine.conftest import DEADLINE_MS, EngineFactory, ticks_registered

CODE = "035720"


def test_the_busy_byte_is_set_during_a_drain_only(
    make_engine: EngineFactory, control: SimControl, qtbot: Any
) -> None:
    engine = make_engine(auto_trade=False)
    busy = engine.supervisor.engine_busy
    in_drain: list[int] = []  # the byte when an order book is handled (inside a drain)
    in_publish: list[int] = []  # the byte when views hear of new ticks (after it)
    engine.order_book.connect(lambda _book: in_drain.append(busy.value))
    engine.ticks.connect(lambda _summaries: in_publish.append(busy.value))
    price = int(control.quote(CODE)["base"])
    control.set_price(CODE, price, pause=True)
    engine.select_stock(CODE)
    qtbot.waitUntil(lambda: bool(in_drain), timeout=DEADLINE_MS)
    # The order book can come before the simulator has read the ticks' REG: a price set
    # then, with the walk paused, would never reach the engine.
    qtbot.waitUntil(lambda: ticks_registered(control, CODE), timeout=DEADLINE_MS)
    control.set_price(CODE, price + 100, pause=True)
    qtbot.waitUntil(lambda: bool(in_publish), timeout=DEADLINE_MS)
    assert set(in_drain) == {1}
    assert set(in_publish) == {0}
    assert busy.value == 0
