"""The signals table keeps one signal per day (default) or per bar, code, strategy and
side, also across restarts (and reads the version-1 file), and remembers what became of
each."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from kiwoom_terminal.constants import Side
from kiwoom_terminal.scanner.signals import SIGNALS, SignalBook, SignalData, SignalStatus

DAY = dt.date(2025, 10, 2)
BUY_31 = "20251002:005930:sma_cross:buy:0931"
SELL_40 = "20251002:005930:sma_cross:sell:0940"


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


def test_one_signal_per_day_code_strategy_and_side_by_default(tmp_path: Path) -> None:
    path = tmp_path / "signals.sqlite"
    book = SignalBook(path, today=DAY)
    assert book.dedup == "day"
    assert book.add(signal()) and book.add(signal(Side.SELL, minute=40))
    assert not book.add(signal(minute=45))  # a later bar's BUY: the day already has one
    assert not book.add(signal(Side.SELL, minute=50))
    assert book.add(signal(code="000660", minute=45))  # another code is another signal
    book.close()
    again = SignalBook(path, today=DAY)  # restart: still today's signals
    assert not again.add(signal(minute=55))
    assert list(again.table().index) == [BUY_31, SELL_40, "20251002:000660:sma_cross:buy:0945"]
    again.dedup = "bar"  # [scanner] signal_dedup=bar, applied while running
    assert again.add(signal(minute=55))
    again.close()


def test_one_signal_per_bar_code_strategy_and_side_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "signals.sqlite"
    book = SignalBook(path, today=DAY, dedup="bar")
    assert book.add(signal()) and book.add(signal(Side.SELL, minute=40))
    assert not book.add(signal())  # the same bar again (a late reply): duplicate
    assert book.add(signal(minute=45))  # a later bar's BUY is another signal
    assert list(book.table().columns) == list(SIGNALS.column_names)
    assert book.table().loc[BUY_31, "bar_time"] == "2025-10-02 09:31"
    book.set_status(BUY_31, SignalStatus.SKIPPED, "이미 보유")
    book.close()

    again = SignalBook(path, today=DAY, dedup="bar")  # restart
    assert not again.add(signal()) and not again.add(signal(Side.SELL, minute=40))
    table = again.table()
    assert list(table.index) == [BUY_31, SELL_40, "20251002:005930:sma_cross:buy:0945"]
    assert table.loc[BUY_31, ["status", "note"]].tolist() == ["skipped", "이미 보유"]
    assert table["price"].dtype == "int64"
    assert again.add(signal(code="000660"))  # another code is another signal
    with pytest.raises(KeyError):
        again.set_status("nope", SignalStatus.BOUGHT)
    again.close()

    later = SignalBook(path, today=DAY + dt.timedelta(days=10), keep_days=5)
    assert later.table().empty  # old days are dropped at start
    assert later.add(signal())


def test_a_version_1_file_is_migrated_with_its_rows(tmp_path: Path) -> None:
    """Phase-1 files keyed signals by day, code, strategy and side only."""
    path = tmp_path / "signals.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE signals (
            signal_id TEXT PRIMARY KEY, day TEXT NOT NULL, bar_time TEXT NOT NULL,
            detected_at TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
            strategy TEXT NOT NULL, params TEXT NOT NULL DEFAULT '', side TEXT NOT NULL,
            price INTEGER NOT NULL, status TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
            UNIQUE (day, code, strategy, side));
        CREATE INDEX signals_day ON signals (day);
        INSERT INTO signals VALUES ('20251002:005930:sma_cross:buy', '20251002',
            '2025-10-02 09:31', '09:32:03', '005930', '삼성전자', 'sma_cross', '', 'buy',
            70100, 'bought', '주문');
        """
    )
    db.close()
    book = SignalBook(path, today=DAY, dedup="bar")
    assert list(book.table().index) == [BUY_31]
    assert book.table().loc[BUY_31, ["status", "note"]].tolist() == ["bought", "주문"]
    assert not book.add(signal())  # still the same signal
    assert book.add(signal(minute=45))  # the new key allows a later bar
    book.close()
    assert SignalBook(path, today=DAY).table().shape[0] == 2
