"""The market turn prints its crowd ticks in slices (network served in between)."""

from __future__ import annotations

from kiwoom_terminal.sim.server import _slices


def test_slices_keep_every_tick_in_order_and_never_split_a_code() -> None:
    budget = {f"{i:06d}": 1 + i % 3 for i in range(100)}  # 199 ticks over 100 codes
    parts = _slices(budget, 50)
    merged: dict[str, int] = {}
    for part in parts:
        merged.update(part)
    assert list(merged.items()) == list(budget.items())
    assert all(sum(p.values()) >= 50 for p in parts[:-1])
    assert all(sum(p.values()) < 50 + 3 for p in parts)  # one code's ticks past the size
    assert len(parts) == 4


def test_slices_of_a_small_or_empty_budget() -> None:
    assert _slices({}, 50) == []
    assert _slices({"005930": 3}, 50) == [{"005930": 3}]
    assert _slices({"005930": 80, "000660": 1}, 50) == [{"005930": 80}, {"000660": 1}]
