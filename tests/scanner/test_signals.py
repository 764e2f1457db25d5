"""The signals table keeps one signal per day, code, strategy and side, also across
restarts, and remembers what became of each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kiwoom_terminal.constants import Side
from kiwoom_terminal.scanner.signals import SIGNALS, SignalBook, SignalData, SignalStatus

DAY = dt.date(2025, 10, 2)


def signal(side: Side = Side.BUY, code: str = "005930", minute: int = 31) -> SignalData:
    bar = dt.datetime(2025, 10, 2, 9, minute)
    return SignalData(
        DAY,
        bar,
        bar + dt.timedelta(minutes=1, seconds=3),
        code,
        "삼성전자",
        "sma_cross",
        "sma_cross(fast=2, slow=4)",
        side,
        70_100,
    )


def test_one_signal_per_day_code_strategy_and_side_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "signals.sqlite"
    book = SignalBook(path, today=DAY)
    assert book.add(signal()) and book.add(signal(Side.SELL, minute=40))
    assert not book.add(signal(minute=45))  # a later BUY the same day: duplicate
    assert list(book.table().columns) == list(SIGNALS.column_names)
    assert book.table().loc["20251002:005930:sma_cross:buy", "bar_time"] == "2025-10-02 09:31"
    book.set_status("20251002:005930:sma_cross:buy", SignalStatus.SKIPPED, "이미 보유")
    book.close()

    again = SignalBook(path, today=DAY)  # restart
    assert not again.add(signal(minute=50))
    table = again.table()
    assert list(table.index) == ["20251002:005930:sma_cross:buy", "20251002:005930:sma_cross:sell"]
    assert table.loc["20251002:005930:sma_cross:buy", ["status", "note"]].tolist() == [
        "skipped",
        "이미 보유",
    ]
    assert table["price"].dtype == "int64"
    assert again.add(signal(code="000660"))  # another code is another signal
    with pytest.raises(KeyError):
        again.set_status("nope", SignalStatus.BOUGHT)
    again.close()

    later = SignalBook(path, today=DAY + dt.timedelta(days=10), keep_days=5)
    assert later.table().empty  # old days are dropped at start
    assert later.add(signal())
