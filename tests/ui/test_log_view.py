"""The log dock: level colours, capped rows, level and text filters."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from PyQt5.QtCore import Qt

from kiwoom_terminal.krx import KST, now_kst
from ui.log_view import LEVEL_ROLE, LogModel, LogView
from ui.theme import ERROR, WARNING


def test_log_model_passes_qtmodeltester(qtbot, qtmodeltester) -> None:
    model = LogModel(100)
    model.append("INFO", "자동매매를 시작했습니다", dt.datetime(2025, 3, 4, 9, 0, 1))
    model.append("ERROR", "주문 거부: 주문가능금액 부족")
    qtmodeltester.check(model)
    assert model.index(0, 0).data() == "09:00:01"
    assert model.index(0, 1).data() == "정보"
    assert model.index(1, 2).data(Qt.ItemDataRole.ForegroundRole).color() == ERROR


def test_every_role_of_a_line_as_the_view_asks_for_it(qtbot) -> None:
    # The cells are built once when a line is added (a paint asks for every visible cell and
    # role); what the view gets must not change because of it.
    model = LogModel(100)
    when = dt.datetime(2025, 3, 4, 15, 19, 59)
    model.append("INFO", "정보 줄", when)
    model.append("WARNING", "경고 줄", when)
    model.append("ERROR", "오류 줄", when)
    role = Qt.ItemDataRole
    assert [model.index(r, 0).data() for r in range(3)] == ["15:19:59"] * 3
    assert [model.index(r, 1).data() for r in range(3)] == ["정보", "경고", "오류"]
    assert [model.index(r, 2).data() for r in range(3)] == ["정보 줄", "경고 줄", "오류 줄"]
    assert model.index(0, 2).data(role.ForegroundRole) is None  # the palette's text colour
    assert model.index(1, 0).data(role.ForegroundRole).color() == WARNING
    assert model.index(2, 1).data(role.ForegroundRole).color() == ERROR
    assert model.index(0, 2).data(role.FontRole) is None
    assert model.index(2, 2).data(role.FontRole).bold()
    assert model.index(1, 2).data(role.ToolTipRole) == "경고 줄"
    assert model.index(1, 0).data(role.ToolTipRole) is None
    assert [model.index(r, 2).data(LEVEL_ROLE) for r in range(3)] == [20, 30, 40]
    assert model.index(0, 0).data(role.BackgroundRole) is None
    assert model.entry(2).message == "오류 줄" and model.entry(2).time == when


def test_rows_are_capped_dropping_the_oldest_in_batches(qtbot) -> None:
    model = LogModel(100)
    removals: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _p, first, last: removals.append((first, last)))
    for i in range(250):
        model.append("INFO", f"line {i}")
    assert model.rowCount() <= 100
    assert model.index(model.rowCount() - 1, 2).data() == "line 249"
    assert len(removals) < 20  # about a tenth at a time, not one removal per line
    with pytest.raises(ValueError):
        LogModel(5)


def test_level_and_text_filters(qtbot) -> None:
    view = LogView(100)
    qtbot.addWidget(view)
    view.append("DEBUG", "tick batch 12")
    view.append("INFO", "005930 매수 주문 접수")
    view.append("WARNING", "요청 제한 대기")
    assert view.proxy.rowCount() == 2  # INFO and up by default
    assert view.proxy.index(1, 2).data(Qt.ItemDataRole.ForegroundRole).color() == WARNING
    view.level_combo.setCurrentIndex(0)
    assert view.proxy.rowCount() == 3
    view.filter_edit.setText("005930")
    assert view.proxy.rowCount() == 1


@pytest.fixture
def new_york_pc(monkeypatch):
    """The PC's local zone 13-14 hours away from Korea (POSIX: TZ + tzset)."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset to change the local zone")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _seconds(hhmmss: str) -> int:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return h * 3600 + m * 60 + s


def test_times_are_korean_whatever_the_pcs_zone(qtbot, new_york_pc) -> None:
    assert dt.datetime.now().hour != now_kst().hour  # the zone change took
    model = LogModel(100)
    before = now_kst()
    model.append("INFO", "자동매매를 시작했습니다")
    after = now_kst()
    shown = _seconds(model.index(0, 0).data())
    lo, hi = (_seconds(t.strftime("%H:%M:%S")) for t in (before, after))
    assert lo <= shown <= hi or (hi < lo and (shown >= lo or shown <= hi))  # midnight
    # A time in another zone is shown in KST.
    model.append("INFO", "체결", dt.datetime(2025, 3, 4, 0, 30, 5, tzinfo=dt.timezone.utc))
    assert model.index(1, 0).data() == "09:30:05"


def test_lines_take_the_engines_server_clock(qtbot) -> None:
    view = LogView(100)
    qtbot.addWidget(view)
    view.set_clock(lambda: dt.datetime(2025, 3, 4, 15, 29, 58, tzinfo=KST))  # the simulator's
    view.append("WARNING", "요청 제한 대기")
    assert view.model.index(0, 0).data() == "15:29:58"
