"""The status bar: server mode, each worker's connection, throttling, server clock and
session phase, auto-trade, last snapshot, and the latest notice. Takes plain values."""

from __future__ import annotations

import datetime as dt

from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from kiwoom_terminal.constants import ConnectionState, Mode
from kiwoom_terminal.krx import KST, SessionPhase, is_business_day
from ui import labels

# Worker names as `EngineStatus.connections` keys them (`WorkerKind` values), with their
# Korean labels.
WORKER_LABELS = {"tr": "조회", "order": "주문", "websocket": "실시간"}
_GOOD = {ConnectionState.CONNECTED}
_WAIT = {ConnectionState.STARTING, ConnectionState.RECONNECTING, ConnectionState.THROTTLING}
NOTICE_MS = 15_000  # how long a notice stays when nothing replaces it


class TerminalStatusBar(QStatusBar):
    """Permanent fields on the right, notices (bad input, rejections) on the left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("status_bar")
        self._business_day: tuple[dt.date, bool] | None = None  # (day, KRX trades that day)
        self.mode_label = self._field("mode_label", "모드")
        self.worker_labels: dict[str, QLabel] = {}
        for name in WORKER_LABELS:
            self.worker_labels[name] = self._field(
                f"worker_{name}_label", "작업 프로세스 연결 상태"
            )
        self.throttle_label = self._field("throttle_label", "요청 제한(초당 횟수)으로 대기 중인지")
        self.clock_label = self._field("clock_label", "서버 시각과 장 구분")
        self.engine_label = self._field(
            "engine_label", "계좌 확인(시작 시 대사) 상태, 관리 종목 수, 당일 손익(실현+평가)"
        )
        self.auto_trade_label = self._field("auto_trade_label", "자동매매 상태")
        self.snapshot_label = self._field("snapshot_label", "마지막 상태 저장 시각")
        self.notice_label = QLabel(self)
        self.notice_label.setObjectName("notice_label")
        # The notice takes the room that is left and is cut there (the tooltip has all of
        # it): a long message must not make the window wider, or change the size the user
        # saved (the status bar's minimum width is the window's).
        self.notice_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.addWidget(self.notice_label, 1)
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(self.notice_label.clear)
        self.set_mode(Mode.SIM)
        for name in WORKER_LABELS:
            self.set_connection(name, ConnectionState.STARTING)
        self.set_throttling(False)
        self.set_clock(None, SessionPhase.CLOSED)
        self.set_engine_state(False, 0, 0, ())
        self.set_auto_trade(False)
        self.set_snapshot_time(None)

    def _field(self, name: str, tooltip: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setToolTip(tooltip)
        self.addPermanentWidget(label)
        return label

    def set_mode(self, mode: Mode) -> None:
        """SIM / MOCK / REAL; REAL is shown in red."""
        self.mode_label.setText(f" {labels.label(labels.MODE, mode)} ")
        _set_property(self.mode_label, "mode", mode.value)

    def set_connection(self, worker: str, state: ConnectionState) -> None:
        """One worker's state (`general`, `order`, `websocket`); unknown names get a field."""
        label = self.worker_labels.get(worker)
        if label is None:
            label = self.worker_labels[worker] = self._field(f"worker_{worker}_label", worker)
        colour = "#1f8f3a" if state in _GOOD else "#b45f06" if state in _WAIT else "#c0001a"
        name = WORKER_LABELS.get(worker, worker)
        label.setText(
            f"{name} <span style='color:{colour}'>●</span> {labels.label(labels.CONNECTION, state)}"
        )
        label.setProperty("state", state.value)

    def set_throttling(self, throttling: bool) -> None:
        self.throttle_label.setText(
            "<span style='color:#b45f06'><b>요청 제한 대기</b></span>"
            if throttling
            else "요청 정상"  # requests go out at once (not "limits off")
        )
        self.throttle_label.setProperty("throttling", throttling)

    def set_clock(self, server_time: dt.datetime | None, phase: SessionPhase) -> None:
        """Server clock (HH:MM:SS) and the KRX session phase in Korean: closed hours of a
        trading day are 장 운영시간 외, a weekend or KRX holiday is 휴장."""
        local = server_time.astimezone(KST) if server_time and server_time.tzinfo else server_time
        clock = local.strftime("%H:%M:%S") if local else "--:--:--"
        text = labels.label(labels.SESSION_PHASE, phase)
        closed = phase is SessionPhase.CLOSED
        if closed and local is not None and not self._is_business_day(local.date()):
            text = labels.HOLIDAY
        self.clock_label.setText(f"{clock} {text}")

    def _is_business_day(self, day: dt.date) -> bool:
        """`krx.is_business_day`, asked once per day (the clock updates every second)."""
        if self._business_day is None or self._business_day[0] != day:
            self._business_day = (day, is_business_day(day))
        return self._business_day[1]

    def set_engine_state(
        self, ready: bool, positions: int, day_pnl: int, blocked: tuple[str, ...] = ()
    ) -> None:
        """Whether the start-up account check is done (no order before), the number of
        managed positions, today's P&L (realised + open), and stocks held back while an order's
        outcome is being checked."""
        if not ready:
            text = "<span style='color:#b45f06'><b>계좌 확인 중…</b></span>"
        else:
            colour = "#d3192c" if day_pnl > 0 else "#1a56c4" if day_pnl < 0 else "#222222"
            text = (
                f"관리 {positions}종목 · 당일손익 <span style='color:{colour}'>{day_pnl:+,}</span>"
            )
        if blocked:
            text += f" · <span style='color:#c0001a'>확인 대기 {', '.join(blocked)}</span>"
        self.engine_label.setText(text)
        self.engine_label.setProperty("ready", ready)

    def set_auto_trade(self, on: bool) -> None:
        self.auto_trade_label.setText("자동매매 ON" if on else "자동매매 OFF")
        _set_property(self.auto_trade_label, "on", "true" if on else "false")

    def set_snapshot_time(self, when: dt.datetime | None, now: dt.datetime | None = None) -> None:
        """How long ago the state was last saved ("저장 3초 전"), the moment in the tooltip:
        an age reads the same in every mode, where a clock time would not (the simulator's
        session clock is not this PC's), and a save that stopped shows as a growing age."""
        if when is None:
            self.snapshot_label.setText("저장 —")
            return
        now = now or dt.datetime.now(when.tzinfo)
        age = max(0, int((now - when).total_seconds()))
        if age < 60:
            text = f"저장 {age}초 전"
        elif age < 3600:
            text = f"저장 {age // 60}분 전"
        else:
            text = f"저장 {when.strftime('%H:%M')}"
        self.snapshot_label.setText(text)
        self.snapshot_label.setToolTip(f"마지막 상태 저장: {when.strftime('%Y-%m-%d %H:%M:%S')}")

    def show_notice(self, text: str, *, error: bool = True, timeout_ms: int = NOTICE_MS) -> None:
        """A message the user must see now (bad input, rejected order, disconnect)."""
        colour = "#c0001a" if error else "#15305c"
        self.notice_label.setText(f"<span style='color:{colour}'>{text}</span>")
        self.notice_label.setToolTip(text)
        self._notice_timer.start(timeout_ms)

    def notice(self) -> str:
        """The notice shown now, as plain text."""
        return self.notice_label.toolTip() if self.notice_label.text() else ""


def _set_property(widget: QWidget, name: str, value: object) -> None:
    if widget.property(name) != value:
        widget.setProperty(name, value)
        style = widget.style()
        if style is not None:
            style.unpolish(widget)
            style.polish(widget)
