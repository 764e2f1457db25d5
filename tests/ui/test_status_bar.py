"""Status bar: mode (REAL in red), connections, throttling, clock and Korean session phase."""

import datetime as dt

import pytest
from PyQt5.QtWidgets import QApplication

from kiwoom_terminal.constants import ConnectionState, Mode
from kiwoom_terminal.krx import SessionPhase
from ui.status_bar import TerminalStatusBar


@pytest.fixture
def bar(qtbot) -> TerminalStatusBar:
    widget = TerminalStatusBar()
    qtbot.addWidget(widget)
    return widget


def test_real_mode_is_marked_red(bar) -> None:
    bar.set_mode(Mode.REAL)
    assert "REAL" in bar.mode_label.text()
    assert bar.mode_label.property("mode") == "real"
    bar.show()
    assert bar.mode_label.palette().window().color().name() == "#c0001a"
    bar.set_mode(Mode.SIM)
    assert "SIM" in bar.mode_label.text()


@pytest.mark.parametrize(
    ("phase", "text"),
    [
        (SessionPhase.PRE_OPEN, "장전 동시호가"),
        (SessionPhase.CONTINUOUS, "정규장"),
        (SessionPhase.CLOSING_AUCTION, "장마감 동시호가"),
        (SessionPhase.POST_CLOSE, "장 종료"),
        (SessionPhase.AFTER_HOURS, "시간외 단일가"),
        (SessionPhase.CLOSED, "장 운영시간 외"),
    ],
)
def test_clock_and_session_phase_in_korean(bar, phase, text) -> None:
    bar.set_clock(dt.datetime(2025, 3, 4, 9, 30, 15), phase)
    assert bar.clock_label.text() == f"09:30:15 {text}"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (dt.datetime(2025, 3, 4, 20, 0, 0), "20:00:00 장 운영시간 외"),  # a Tuesday evening
        (dt.datetime(2025, 3, 5, 7, 59, 0), "07:59:00 장 운영시간 외"),  # before the open
        (dt.datetime(2025, 3, 3, 10, 0, 0), "10:00:00 휴장"),  # 삼일절 대체공휴일
        (dt.datetime(2025, 10, 3, 10, 0, 0), "10:00:00 휴장"),  # 개천절
        (dt.datetime(2025, 3, 8, 10, 0, 0), "10:00:00 휴장"),  # Saturday
        # An aware time is shown in KST: 2025-03-02 23:00 UTC is Monday 03-03 08:00 in Seoul.
        (dt.datetime(2025, 3, 2, 23, 0, 0, tzinfo=dt.timezone.utc), "08:00:00 휴장"),
    ],
)
def test_closed_hours_and_holidays_read_differently(bar, moment, text) -> None:
    bar.set_clock(moment, SessionPhase.CLOSED)
    assert bar.clock_label.text() == text
    bar.set_clock(None, SessionPhase.CLOSED)  # time not known yet: no claim of a holiday
    assert bar.clock_label.text() == "--:--:-- 장 운영시간 외"


def test_connections_throttling_auto_trade_snapshot_and_notice(bar) -> None:
    bar.set_connection("order", ConnectionState.CONNECTED)
    bar.set_connection("websocket", ConnectionState.RECONNECTING)
    assert "주문" in bar.worker_labels["order"].text()
    assert "연결됨" in bar.worker_labels["order"].text()
    assert "재연결중" in bar.worker_labels["websocket"].text()
    bar.set_connection("scanner", ConnectionState.DEAD)  # a new worker gets its own field
    assert "중단" in bar.worker_labels["scanner"].text()
    assert bar.throttle_label.text() == "요청 정상"  # requests go out, limits still on
    bar.set_throttling(True)
    assert "요청 제한 대기" in bar.throttle_label.text()
    bar.set_auto_trade(True)
    assert bar.auto_trade_label.text() == "자동매매 ON"
    saved = dt.datetime(2025, 3, 4, 9, 31, 0)
    bar.set_snapshot_time(saved, now=saved + dt.timedelta(seconds=3))
    assert bar.snapshot_label.text() == "저장 3초 전"
    assert "2025-03-04 09:31:00" in bar.snapshot_label.toolTip()
    bar.set_snapshot_time(saved, now=saved + dt.timedelta(minutes=5, seconds=2))
    assert bar.snapshot_label.text() == "저장 5분 전"  # saving stopped: the age says so
    bar.set_snapshot_time(saved, now=saved + dt.timedelta(hours=2))
    assert bar.snapshot_label.text() == "저장 09:31"
    bar.show_notice("수량을 1주 이상 입력하세요")
    assert bar.notice() == "수량을 1주 이상 입력하세요"


def test_a_long_notice_does_not_widen_the_window(bar) -> None:
    bar.show()
    width = bar.minimumSizeHint().width()
    long = "주문 거부: " + "주문가능금액이 부족합니다 " * 20
    bar.show_notice(long)
    QApplication.processEvents()  # the layout takes the new text in
    assert bar.notice_label.sizeHint().width() > 1_000  # it would need this much
    assert bar.minimumSizeHint().width() == width
    assert bar.notice() == long  # all of it in the tooltip
