"""Per-code coalescing of a drained tick batch."""

from __future__ import annotations

from kiwoom_terminal.constants import Venue
from kiwoom_terminal.decisions.ticks import TickSummary, coalesce_ticks
from kiwoom_terminal.objects import TickData


def tick(code: str, price: int, cum: int, time: str) -> TickData:
    return TickData(code, Venue.KRX, time, price, 0, 0.0, 1, cum, 0, 0, 0, 0, 0)


def test_last_high_low_per_code_in_arrival_order() -> None:
    batch = [
        tick("005930", 70_000, 10, "090001"),
        tick("000660", 150_000, 5, "090001"),
        tick("005930", 71_000, 11, "090002"),  # the spike
        tick("005930", 0, 11, "090002"),  # malformed: skipped
        tick("005930", 69_800, 12, "090003"),
        tick("005930", 70_100, 13, "090004"),
    ]
    out = coalesce_ticks(batch)
    assert out["005930"] == TickSummary(70_100, 71_000, 69_800, 13, "090004")
    assert out["000660"] == TickSummary(150_000, 150_000, 150_000, 5, "090001")
    assert coalesce_ticks([]) == {}
