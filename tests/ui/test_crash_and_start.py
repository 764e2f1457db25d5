"""The last-resort excepthook (GUI thread and background threads: logged with secrets
masked, shown in one dialog at a time, the terminal keeps running) and the start-up pieces
of the window path: the real-mode confirmation dialog and the platform choice."""

from __future__ import annotations

import logging
import sys
import threading

import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication

from kiwoom_terminal.secrets import register_secret
from ui import app as app_module
from ui.crash import install_excepthook
from ui.dialogs import RealModeDialog

SECRET = "TOPSECRET-appkey-123456"


@pytest.fixture
def reporter(qtbot, monkeypatch):
    # Keep the process-wide hooks of the test run; install them only inside the test.
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    reporter = install_excepthook()
    yield reporter
    if reporter.box is not None:
        reporter.box.close()


def test_an_exception_in_a_background_thread_is_logged_and_shown(reporter, qtbot, caplog) -> None:
    register_secret(SECRET)
    assert threading.excepthook == reporter.thread_excepthook

    def fail() -> None:
        raise RuntimeError(f"token {SECRET} rejected")

    with caplog.at_level(logging.CRITICAL, logger="kiwoom_terminal.crash"):
        thread = threading.Thread(target=fail, name="feeder")
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: reporter.box is not None and reporter.box.isVisible())
    box = reporter.box
    assert box is not None
    assert "RuntimeError" in box.informativeText() and "feeder" in box.informativeText()
    assert "Traceback" in box.detailedText()
    assert SECRET not in box.detailedText() + box.informativeText()
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)


def test_errors_while_a_dialog_is_open_are_counted_not_stacked(reporter, qtbot) -> None:
    for n in range(3):
        try:
            raise ValueError(f"bad {n}")
        except ValueError:
            reporter.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: reporter.suppressed == 2)
    assert reporter.count == 3
    assert len([w for w in QApplication.topLevelWidgets() if w.objectName() == "error_dialog" and w.isVisible()]) == 1
    assert "2건" in reporter.box.informativeText()


def test_real_mode_dialog_needs_the_exact_word(qtbot) -> None:
    dialog = RealModeDialog("실거래")
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.confirm_button.isEnabled()
    # QTest can only type ASCII; an input method would insert the Hangul syllables.
    dialog.answer.insert("실거")
    assert not dialog.confirm_button.isEnabled()
    dialog.answer.insert("래")
    assert dialog.confirm_button.isEnabled()
    qtbot.keyClick(dialog.answer, Qt.Key.Key_Return)
    assert dialog.typed() == "실거래"


def test_real_mode_dialog_refused_gives_nothing(qtbot) -> None:
    dialog = RealModeDialog("실거래")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.answer.insert("실거래")
    qtbot.keyClick(dialog.answer, Qt.Key.Key_Escape)
    assert dialog.typed() == ""


def test_no_display_is_an_error_unless_offscreen(monkeypatch) -> None:
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    problem = app_module.choose_platform(offscreen=False)
    assert problem is not None and "--headless" in problem
    assert app_module.choose_platform(offscreen=True) is None
    assert app_module.os.environ["QT_QPA_PLATFORM"] == "offscreen"
