"""The watchlist: adding by code or name with clear refusals, condition sync, and a file that
survives restarts and damage."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kiwoom_terminal.scanner.watchlist import MANUAL, Watchlist, WatchlistError

NAMES = {"005930": "삼성전자", "000660": "SK하이닉스", "035720": "카카오", "00104K": "CJ우"}
CLOCK = lambda: dt.datetime(2025, 10, 2, 9, 30)  # noqa: E731


def make(path: Path | None = None) -> Watchlist:
    return Watchlist(path, names=NAMES, clock=CLOCK)


def test_add_by_code_or_name_and_refuse_bad_input(tmp_path: Path) -> None:
    wl = make(tmp_path / "w.json")
    assert wl.add("005930").name == "삼성전자"
    assert wl.add("SK하이닉스").code == "000660"
    assert wl.add(" a035720 ").code == "035720"  # HTS style with the A prefix
    assert wl.add("00104k").code == "00104K"  # preferred shares carry a letter
    item = wl.get("005930")
    assert item is not None and item.source == MANUAL and item.added_at == "2025-10-02T09:30:00"
    with pytest.raises(WatchlistError, match="이미 관심종목에"):
        wl.add("005930")
    with pytest.raises(WatchlistError, match="상장 종목 목록에 없는"):
        wl.add("999999")
    with pytest.raises(WatchlistError, match="비슷한 이름: 삼성전자"):
        wl.add("삼성")
    with pytest.raises(WatchlistError, match="입력하세요"):
        wl.add("  ")
    assert wl.codes() == ["005930", "000660", "035720", "00104K"]
    wl.remove("000660")
    with pytest.raises(WatchlistError, match="관심종목에 없습니다"):
        wl.remove("000660")
    assert wl.codes() == ["005930", "035720", "00104K"]


def test_without_a_stock_list_only_codes_are_accepted() -> None:
    wl = Watchlist(None, clock=CLOCK)
    assert wl.add("005930").name == ""
    with pytest.raises(WatchlistError, match="6자리"):
        wl.add("삼성전자")
    wl.set_names(NAMES)  # the engine loaded the listings: names are filled in
    assert wl.get("005930").name == "삼성전자"  # type: ignore[union-attr]


def test_sync_from_condition_merges_or_replaces_but_keeps_manual_entries() -> None:
    wl = make()
    wl.add("005930")
    added, removed = wl.sync_from_condition("급등주", ["000660", "005930", "035720", "123456"])
    assert (added, removed) == (["000660", "035720"], [])  # 123456 is not listed: skipped
    assert wl.get("005930").source == MANUAL  # type: ignore[union-attr]
    assert wl.get("000660").source == "급등주"  # type: ignore[union-attr]
    wl.sync_from_condition("거래량", ["00104K"])
    # merge keeps members that left; replace drops them, only for that condition
    assert wl.sync_from_condition("급등주", ["000660"]) == ([], [])
    added, removed = wl.sync_from_condition("급등주", ["000660", "005930"], replace=True)
    assert (added, removed) == ([], ["035720"])
    assert wl.codes() == ["005930", "000660", "00104K"]  # manual 005930 and 거래량's stay
    assert wl.sync_from_condition("급등주", [], replace=True) == ([], ["000660"])


def test_the_file_survives_restarts_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "data" / "watchlist.json"
    wl = make(path)
    wl.add("005930")
    wl.sync_from_condition("급등주", ["000660"])
    again = make(path)
    assert [(i.code, i.name, i.source) for i in again.items()] == [
        ("005930", "삼성전자", MANUAL),
        ("000660", "SK하이닉스", "급등주"),
    ]
    assert json.loads(path.read_text(encoding="utf-8"))["items"][0]["name"] == "삼성전자"
    assert not list(path.parent.glob("*.tmp"))  # written through a temporary file, renamed
    path.write_text('{"version": 1, "items": [{"code": "12', encoding="utf-8")
    damaged = make(path)
    assert len(damaged) == 0 and path.with_name("watchlist.json.bad").exists()
    damaged.add("035720")  # and it keeps working
    assert make(path).codes() == ["035720"]
