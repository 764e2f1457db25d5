"""End to end through the window: a trader at the keyboard, the real engine, real worker
processes and the real simulator.

One terminal boot serves the whole story (boots cost seconds): pick a stock by typing its
code, step the price across the 50,000 grid boundary, have bad input and fat fingers
stopped in the panel, place a resting buy and see it in 미체결 and in the simulator's
account, cancel it with F9, buy at the ask and see the fill in 체결, 잔고, on the chart and
in the account, check every table model with real rows, switch stocks by moving to a row of
잔고, refuse an order while the order worker is down, and flatten everything with the
emergency key.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication

from kiwoom_terminal.constants import ConnectionState, OrderType, Side
from kiwoom_terminal.messages import WorkerKind
from tests.gui.conftest import DEADLINE_MS, launch_for, press, type_text
from ui.dialogs import EmergencyDialog, OrderConfirmDialog

CODE = "302440"  # SK바이오사이언스: base 50,000 in the seeded simulator, band 35,000–65,000
NAME = "SK바이오사이언스"
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def sim_orders(control: Any, **match: Any) -> list[dict[str, Any]]:
    return [
        o
        for o in control.account()["orders"]
        if o["code"] == CODE and all(o[k] == v for k, v in match.items())
    ]


def held(control: Any) -> int:
    return sum(int(p["qty"]) for p in control.account()["positions"] if p["code"] == CODE)


def back_to(qtbot: Any, window: Any) -> None:
    """A dialog closed: the offscreen platform has no window manager to re-activate."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=DEADLINE_MS)


def choose_stock(qtbot: Any, window: Any, text: str) -> None:
    """F2, type, Enter. The completion list is a window of its own for the offscreen
    platform, which has no window manager to give the activation back when it closes."""
    press(qtbot, Qt.Key.Key_F2)
    type_text(qtbot, text)
    press(qtbot, Qt.Key.Key_Return)
    back_to(qtbot, window)


def confirm_dialog(qtbot: Any, kind: type) -> Any:
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), kind), timeout=DEADLINE_MS)
    return QApplication.activeWindow()


def send_order(qtbot: Any, window: Any, price: str, quantity: str) -> OrderConfirmDialog:
    """F3 price, F4 quantity, Enter; returns the confirmation dialog (still open)."""
    press(qtbot, Qt.Key.Key_F3)
    type_text(qtbot, price)
    press(qtbot, Qt.Key.Key_F4)
    type_text(qtbot, quantity)
    press(qtbot, Qt.Key.Key_Return)
    return confirm_dialog(qtbot, OrderConfirmDialog)


def test_a_trader_at_the_keyboard(gui_sim, open_terminal, qtbot, check_model, tmp_path) -> None:
    control = gui_sim.control
    terminal = open_terminal(launch_for(gui_sim, tmp_path))
    window, engine = terminal.window, terminal.engine
    entry = window.order_entry

    # --- F2, type the code, Enter: the stock is chosen, subscribed and charted ----------
    choose_stock(qtbot, window, CODE)
    assert entry.stock is not None and entry.stock.name == NAME
    assert QApplication.focusWidget() is entry.price_spin
    qtbot.waitUntil(
        lambda: window.chart.code == CODE and len(window.chart.series) > 100, timeout=DEADLINE_MS
    )
    assert window.orderbook.code == CODE
    control.set_crowd(CODE, 50)  # a fixed book: 50 shares at every level
    price = control.set_price(CODE, 49_950, pause=True)
    assert price == 49_950
    qtbot.waitUntil(lambda: engine.last_price(CODE) == 49_950, timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: window.orderbook.model.last_price == 49_950, timeout=DEADLINE_MS)

    # --- ↑/↓ on the KRX grid across 50,000 (tick 50 below, 100 above) -------------------
    press(qtbot, Qt.Key.Key_F3)
    type_text(qtbot, "49950")
    steps = []
    for key in (Qt.Key.Key_Up, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Down):
        press(qtbot, key)
        steps.append(entry.price_spin.value())
    assert steps == [50_000, 50_100, 50_000, 49_950, 49_900]

    # --- Bad input and fat fingers: a message next to the field, nothing sent -----------
    before = len(control.account()["orders"])
    press(qtbot, Qt.Key.Key_F4)
    type_text(qtbot, "0")
    press(qtbot, Qt.Key.Key_Return)
    assert "1주 이상" in entry.quantity_error.text() and entry.quantity_error.isVisible()
    press(qtbot, Qt.Key.Key_F4)
    type_text(qtbot, "20000")  # over [order_entry] max_quantity (10,000)
    press(qtbot, Qt.Key.Key_Return)
    assert "10,000" in entry.quantity_error.text()
    press(qtbot, Qt.Key.Key_F4)
    type_text(qtbot, "10")
    press(qtbot, Qt.Key.Key_F3)
    type_text(qtbot, "49960")  # off the 50-won grid
    press(qtbot, Qt.Key.Key_Return)
    assert "49,950" in entry.price_error.text() and "50,000" in entry.price_error.text()
    press(qtbot, Qt.Key.Key_F3)
    type_text(qtbot, "70000")  # above the upper limit 65,000
    press(qtbot, Qt.Key.Key_Return)
    assert "65,000" in entry.price_error.text()
    press(qtbot, Qt.Key.Key_F3)
    type_text(qtbot, "56000")  # inside the band, but 12 % from the last price 49,950
    press(qtbot, Qt.Key.Key_Return)
    assert "%" in entry.price_error.text()
    choose_stock(qtbot, window, "99999X")
    assert entry.stock_error.isVisible() and entry.stock_error.text()
    assert entry.confirm_dialog is None
    assert len(control.account()["orders"]) == before

    # --- A resting buy: 미체결 and the simulator's book -------------------------------
    choose_stock(qtbot, window, CODE)
    assert entry.stock_error.isHidden()
    press(qtbot, Qt.Key.Key_F7)
    dialog = send_order(qtbot, window, "49850", "7")
    assert dialog.request.side is Side.BUY and dialog.request.price == 49_850
    assert dialog.request.order_type is OrderType.LIMIT and dialog.request.quantity == 7
    press(qtbot, Qt.Key.Key_Return)
    back_to(qtbot, window)
    qtbot.waitUntil(
        lambda: len(sim_orders(control, side="buy", price=49_850)) == 1, timeout=DEADLINE_MS
    )
    resting = sim_orders(control, side="buy", price=49_850)[0]
    assert resting["qty"] == 7 and resting["remaining"] == 7
    open_orders = window.open_orders
    qtbot.waitUntil(
        lambda: open_orders.model.row_of(resting["order_no"]) is not None, timeout=DEADLINE_MS
    )
    row = open_orders.model.row_values(resting["order_no"])
    assert row is not None and (row["code"], row["side"], row["remaining"]) == (CODE, "buy", 7)
    check_model(open_orders.model)
    check_model(open_orders.proxy)

    # --- Ctrl+3 to 미체결, F9 cancels the order under the cursor -----------------------
    press(qtbot, Qt.Key.Key_3, CTRL)
    assert QApplication.focusWidget() is open_orders.table
    assert open_orders.current_key() == resting["order_no"]
    press(qtbot, Qt.Key.Key_F9)
    qtbot.waitUntil(
        lambda: sim_orders(control, order_no=resting["order_no"])[0]["remaining"] == 0,
        timeout=DEADLINE_MS,
    )
    assert len(sim_orders(control, kind="cancel")) == 1
    qtbot.waitUntil(lambda: open_orders.model.rowCount() == 0, timeout=DEADLINE_MS)

    # --- A buy at the ask fills: 체결, 잔고, 실시간 추적, the chart and the account ------
    press(qtbot, Qt.Key.Key_F2)  # back to the 주문 panel by key
    press(qtbot, Qt.Key.Key_Return)
    ask = control.quote(CODE)["best_ask"]
    send_order(qtbot, window, str(ask), "12")
    press(qtbot, Qt.Key.Key_Return)
    back_to(qtbot, window)
    qtbot.waitUntil(lambda: held(control) == 12, timeout=DEADLINE_MS)
    fills = window.views["fills"]
    qtbot.waitUntil(lambda: fills.model.rowCount() >= 1, timeout=DEADLINE_MS)
    fill = fills.model.row_values(fills.model.key_at(0))
    assert fill is not None and (fill["code"], fill["side"], fill["price"]) == (CODE, "buy", ask)
    holdings, tracking = window.views["holdings"], window.views["tracking"]
    qtbot.waitUntil(lambda: holdings.model.row_of(CODE) is not None, timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: tracking.model.row_of(CODE) is not None, timeout=DEADLINE_MS)
    assert holdings.model.row_values(CODE)["quantity"] == 12
    qtbot.waitUntil(lambda: len(window.chart.fills) == 1, timeout=DEADLINE_MS)
    assert window.chart.fills[0].side is Side.BUY and window.chart.fills[0].price == ask
    qtbot.waitUntil(lambda: window.chart.level_lines["avg_price"].isVisible(), timeout=DEADLINE_MS)
    assert (
        window.chart.level_lines["stop_loss"].value()
        < ask
        < window.chart.level_lines["take_profit"].value()
    )
    chart = window.chart
    chart.request_interval("minute")  # the 1분봉 button: today's minute bars, the fill on its bar
    qtbot.waitUntil(
        lambda: chart.interval == "minute" and len(chart.series) > 10, timeout=DEADLINE_MS
    )
    qtbot.waitUntil(lambda: len(chart.fills) == 1, timeout=DEADLINE_MS)
    bar = chart.series.index_at(chart.fills[0].time)
    assert bar is not None and bar >= len(chart.series) - 3  # bought a moment ago
    chart.request_interval("day")
    qtbot.waitUntil(
        lambda: chart.interval == "day" and len(chart.series) > 100, timeout=DEADLINE_MS
    )
    for name in ("holdings", "tracking", "fills", "conditions"):
        check_model(window.views[name].model)
    check_model(window.orderbook.model)
    check_model(window.log_view.model)

    # --- Another stock, then back by moving to its row in 잔고 (Ctrl+1) -----------------
    choose_stock(qtbot, window, "005930")
    qtbot.waitUntil(lambda: window.chart.code == "005930", timeout=DEADLINE_MS)
    press(qtbot, Qt.Key.Key_1, CTRL)
    assert QApplication.focusWidget() is holdings.table
    qtbot.waitUntil(lambda: window.chart.code == CODE, timeout=DEADLINE_MS)
    assert entry.stock is not None and entry.stock.code == CODE
    assert window.orderbook.code == CODE
    assert QApplication.focusWidget() is holdings.table  # the rows stay under the keys
    qtbot.waitUntil(lambda: len(window.chart.fills) == 1, timeout=DEADLINE_MS)

    # --- The order worker is down: a clear message, nothing sent --------------------------
    supervisor = engine.supervisor
    restarts = supervisor.restarts(WorkerKind.ORDER)
    os.kill(supervisor.pid(WorkerKind.ORDER), signal.SIGKILL)
    bar = window.status_bar
    qtbot.waitUntil(
        lambda: engine.status.connections["order"] is not ConnectionState.CONNECTED,
        timeout=DEADLINE_MS,
    )
    sent = len(control.account()["orders"])
    press(qtbot, Qt.Key.Key_F2)
    press(qtbot, Qt.Key.Key_Return)
    send_order(qtbot, window, str(ask), "1")
    press(qtbot, Qt.Key.Key_Return)
    back_to(qtbot, window)
    assert "주문 서버" in entry.message_label.text()
    assert "주문 서버" in bar.notice()
    assert len(control.account()["orders"]) == sent
    qtbot.waitUntil(lambda: supervisor.restarts(WorkerKind.ORDER) > restarts, timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: engine.status.connected(WorkerKind.ORDER), timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: "연결됨" in bar.worker_labels["order"].text(), timeout=DEADLINE_MS)

    # --- Ctrl+Shift+F12, Alt+Y: auto-trade off, cancel all, sell everything at market ----
    # (Enter alone cancels the dialog: tests/ui/test_main_window.py)
    press(qtbot, Qt.Key.Key_A, CTRL | SHIFT)
    qtbot.waitUntil(lambda: engine.status.auto_trade, timeout=DEADLINE_MS)
    assert window.ui.action_auto_trade.isChecked()
    press(qtbot, Qt.Key.Key_F12, CTRL | SHIFT)
    confirm_dialog(qtbot, EmergencyDialog)
    press(qtbot, Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(  # the button's shortcut clicks it after a short press animation
        lambda: not any(d.isVisible() for d in window.findChildren(EmergencyDialog)),
        timeout=DEADLINE_MS,
    )
    back_to(qtbot, window)
    qtbot.waitUntil(lambda: held(control) == 0, timeout=DEADLINE_MS)
    assert not engine.status.auto_trade and not window.ui.action_auto_trade.isChecked()
    sells = sim_orders(control, side="sell", kind="new")
    assert len(sells) == 1 and sells[0]["qty"] == 12 and sells[0]["trde_tp"] == "3"  # market
    qtbot.waitUntil(lambda: holdings.model.row_of(CODE) is None, timeout=DEADLINE_MS)
    assert "긴급 청산" in bar.notice()
