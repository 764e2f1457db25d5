"""Coalescing a drained batch of trade ticks per code.

The engine drains the WebSocket queue every few milliseconds and gets many ticks at once.
Evaluating exits once per code per batch (not per tick) keeps up with any tick rate; keeping
the batch's high and low as well as the last price means no spike inside the batch is lost
(see `exits.evaluate_exit` for how the three are used).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from kiwoom_terminal.objects import TickData


class TickSummary(NamedTuple):
    """One code's ticks in one batch: last price, highest and lowest trade, the last
    cumulative volume and the last tick's time (HHmmss)."""

    last: int
    high: int
    low: int
    cum_volume: int
    time: str


def coalesce_ticks(ticks: Iterable[TickData]) -> dict[str, TickSummary]:
    """Per code, in arrival order: last = the last tick's price, high / low over the batch.

    Ticks with a non-positive price (malformed pushes) are skipped.
    """
    out: dict[str, TickSummary] = {}
    for tick in ticks:
        price = tick.price
        if price <= 0:
            continue
        prev = out.get(tick.code)
        if prev is None:
            out[tick.code] = TickSummary(price, price, price, tick.cum_volume, tick.time)
        else:
            out[tick.code] = TickSummary(
                price,
                price if price > prev.high else prev.high,
                price if price < prev.low else prev.low,
                tick.cum_volume,
                tick.time,
            )
    return out
