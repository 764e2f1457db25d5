"""The last line of defence: a process-wide excepthook for the GUI and background threads.

An exception nobody caught — in a slot, a timer, a paint event, or a Python thread — is
logged with its traceback (secrets masked by the log handlers' `RedactingFilter`) and shown
in a dialog, and the terminal keeps running: the engine's state is intact, and an order
that may be in flight is reconciled by the engine, not by closing the window. Without the
hook PyQt5 would abort the whole process on an exception in a slot.

Background threads do not touch widgets: their reports travel to the GUI thread through a
queued signal. While one dialog is open, further errors are only logged and counted, so a
failing paint event cannot bury the window under dialogs.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType

from PyQt5.QtCore import QObject, Qt, pyqtSignal
from PyQt5.QtWidgets import QApplication, QMessageBox, QWidget

from kiwoom_terminal.secrets import redact

log = logging.getLogger("kiwoom_terminal.crash")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class ErrorReporter(QObject):
    """Receives uncaught exceptions from any thread and shows them in the GUI thread."""

    reported = pyqtSignal(str, str)  # one-line summary, full traceback (redacted)

    def __init__(self, parent_widget: Callable[[], QWidget | None] = lambda: None) -> None:
        super().__init__()
        self._parent_widget = parent_widget
        self.box: QMessageBox | None = None
        self.count = 0  # every report, shown or not
        self.suppressed = 0  # reports that arrived while a dialog was open
        # Queued even from the GUI thread: the dialog never opens inside a paint event.
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)  # type: ignore[call-arg]

    def report(self, info: ExcInfo, where: str = "") -> None:
        """Log the exception and ask the GUI thread to show it (safe from any thread)."""
        exc_type, exc, tb = info
        self.count += 1
        place = f" ({where})" if where else ""
        log.critical("처리되지 않은 오류%s", place, exc_info=(exc_type, exc, tb))
        text = redact("".join(traceback.format_exception(exc_type, exc, tb)))
        summary = redact(f"{exc_type.__name__}: {exc}{place}")
        self.reported.emit(summary, text)

    def excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        """`sys.excepthook`: the GUI thread (slots, timers, events)."""
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.report((exc_type, exc, tb))

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        """`threading.excepthook`: background threads."""
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        self.report((args.exc_type, args.exc_value, args.exc_traceback), f"스레드 {name}")

    def _show(self, summary: str, text: str) -> None:
        if QApplication.instance() is None:
            return
        if self.box is not None and self.box.isVisible():
            self.suppressed += 1
            self.box.setInformativeText(
                f"{summary}\n\n(이후 오류 {self.suppressed}건은 로그에만 기록했습니다)"
            )
            return
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "예상하지 못한 오류",
            "프로그램에서 처리하지 못한 오류가 났습니다. 터미널은 계속 동작합니다.\n"
            "미체결 주문과 잔고는 엔진이 계좌와 다시 맞춥니다. 내용은 로그 파일에도 남았습니다.",
            QMessageBox.StandardButton.Ok,
            self._parent_widget(),
        )
        box.setObjectName("error_dialog")
        box.setInformativeText(summary)
        box.setDetailedText(text)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._forget_box)
        self.box = box
        self.suppressed = 0
        box.open()

    def _forget_box(self) -> None:
        self.box = None


def install_excepthook(parent_widget: Callable[[], QWidget | None] = lambda: None) -> ErrorReporter:
    """Route uncaught exceptions of every thread to an `ErrorReporter` (kept alive by the
    hooks); returns it."""
    reporter = ErrorReporter(parent_widget)
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.thread_excepthook
    return reporter
