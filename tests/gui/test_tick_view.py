"""Last prices and the chart's live bar follow the engine's `ticks` signal through
`EngineLink`, which gathers the batches that arrive within `TICK_VIEW_MS` of the last
showing (hundreds a second at 5k ticks/s) and shows them together: the real window, engine,
workers and simulator, Qt offscreen."""

from __future__ import annotations

from kiwoom_terminal.decisions.ticks import TickSummary
from tests.gui.conftest import DEADLINE_MS, launch_for

CODE = "302440"  # base 50,000 in the seeded simulator
OTHER = "005930"


def test_gathered_tick_batches_keep_the_last_price_and_every_high_and_low(
    gui_sim, open_terminal, qtbot, tmp_path
) -> None:
    terminal = open_terminal(launch_for(gui_sim, tmp_path))
    window, link = terminal.window, terminal.link
    assert window.order_entry.select_stock(CODE)  # as a click in a table does
    qtbot.waitUntil(
        lambda: window.chart.code == CODE and len(window.chart.series) > 100, timeout=DEADLINE_MS
    )
    gui_sim.control.set_price(CODE, 50_000, pause=True)  # no more trades of it meanwhile
    qtbot.waitUntil(lambda: window.orderbook.model.last_price == 50_000, timeout=DEADLINE_MS)
    chart = window.chart
    hhmmss = chart.series.time_at(len(chart.series) - 1).strftime("%H%M%S")

    # Three batches in a row: the first may show at once, the others wait for the timer
    # and are shown together. The spike of the middle one must survive the gathering.
    link.on_ticks({CODE: TickSummary(50_100, 50_100, 50_000, 1_000, hhmmss)})
    link.on_ticks(
        {
            CODE: TickSummary(50_200, 58_000, 41_000, 1_100, hhmmss),
            OTHER: TickSummary(71_000, 71_000, 71_000, 10, hhmmss),
        }
    )
    link.on_ticks({CODE: TickSummary(50_300, 50_300, 50_200, 1_200, hhmmss)})

    last = len(chart.series) - 1
    qtbot.waitUntil(lambda: chart.series.close[last] == 50_300, timeout=DEADLINE_MS)
    assert chart.series.high[last] >= 58_000
    assert chart.series.low[last] <= 41_000
    qtbot.waitUntil(lambda: window.orderbook.model.last_price == 50_300, timeout=DEADLINE_MS)
    assert window.order_entry.last_price_of(OTHER) == 71_000
    assert not link.tick_throttle.waiting and link._pending_ticks == {}
