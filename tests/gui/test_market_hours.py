"""The market closes while the window is open: the status bar says so and a keyboard order
after 15:30 is refused with a clear message, nothing sent. The log shows the server's time,
as the status bar does, not the PC's.

The simulator runs the KRX session clock, frozen at 15:29:58 of a business day until the
terminal is up and has seen a trade (the engine follows the server's time stamps in sim
mode); then the clock runs and the closing bell rings two seconds later.
"""

from __future__ import annotations

import datetime as dt

from PyQt5.QtCore import Qt

from kiwoom_terminal import krx
from tests.gui.conftest import DEADLINE_MS, launch_for, press
from tests.gui.test_trading_by_keyboard import back_to, choose_stock, send_order

CODE = "005930"


def test_an_order_after_the_close_is_refused(sim_factory, open_terminal, qtbot, tmp_path) -> None:
    day = krx.latest_business_day(dt.datetime.now(krx.KST).date())
    sim = sim_factory(
        "--clock", "krx", "--start", f"{day:%Y%m%d} 15:29:58", "--speed", "0",
        "--faults", "rate=200,global_rate=400",
    )  # fmt: skip
    control = sim.control
    terminal = open_terminal(launch_for(sim, tmp_path))
    window, engine = terminal.window, terminal.engine
    bar = window.status_bar

    choose_stock(qtbot, window, CODE)
    qtbot.waitUntil(lambda: engine.last_price(CODE) is not None, timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: "장마감 동시호가" in bar.clock_label.text(), timeout=DEADLINE_MS)

    control.set_speed(1.0)
    qtbot.waitUntil(lambda: "장 종료" in bar.clock_label.text(), timeout=DEADLINE_MS)
    assert engine.status.session_phase is krx.SessionPhase.POST_CLOSE
    # The simulator's clock is hours away from the PC's: a new log line has its time.
    window.show_log("INFO", "장 종료 확인")
    log = window.log_view.model
    stamp = log.index(log.rowCount() - 1, 0).data()
    assert stamp.startswith("15:3"), stamp  # the status bar's clock reads 15:3x too
    orders = len(control.account()["orders"])
    price = engine.last_price(CODE)
    assert price is not None
    press(qtbot, Qt.Key.Key_F7)
    send_order(qtbot, window, str(price), "1")
    press(qtbot, Qt.Key.Key_Return)
    back_to(qtbot, window)
    message = window.order_entry.message_label.text()
    assert "정규장 주문 시간이 아닙니다" in message
    assert message in bar.notice()
    assert len(control.account()["orders"]) == orders
