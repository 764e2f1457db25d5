"""The 주문 panel, driven entirely from the keyboard: completion, KRX grid stepping,
quantity keys, max by cash, validation messages, fat-finger limits and confirmation."""

from __future__ import annotations

import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QInputMethodEvent
from PyQt5.QtWidgets import QApplication, QWidget

from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.objects import OrderRequest
from kiwoom_terminal.settings import AppSettings, replace_setting
from ui.order_entry import OrderEntryPanel


def make_panel(qtbot, settings: AppSettings, stocks) -> OrderEntryPanel:
    panel = OrderEntryPanel(settings, stocks=stocks)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel)
    return panel


def no_confirm(settings: AppSettings) -> AppSettings:
    return replace_setting(settings, "order_entry/confirm_orders", "false")


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def key(qtbot, k: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focused(), k, modifier)


def type_text(qtbot, widget: QWidget, text: str) -> None:
    """Type like a user: ASCII as key presses, Hangul as input-method commits (how a Korean
    IME delivers it; QTest cannot synthesise key events for Hangul)."""
    if text.isascii():
        qtbot.keyClicks(widget, text)
        return
    for ch in text:
        event = QInputMethodEvent()
        event.setCommitString(ch)
        QApplication.sendEvent(widget, event)


def pick(qtbot, panel: OrderEntryPanel, text: str) -> None:
    key(qtbot, Qt.Key.Key_F2)
    assert focused() is panel.stock_edit
    type_text(qtbot, panel.stock_edit, text)
    key(qtbot, Qt.Key.Key_Return)


def test_a_buy_placed_entirely_with_keys(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, settings, stocks)
    with qtbot.waitSignal(panel.stock_selected) as selected:
        pick(qtbot, panel, "005930")
    assert selected.args == ["005930"]
    assert focused() is panel.price_spin
    assert panel.price_spin.value() == 71_000  # pre-filled with the last close
    key(qtbot, Qt.Key.Key_Up)
    assert panel.price_spin.value() == 71_100
    key(qtbot, Qt.Key.Key_F4)
    assert focused() is panel.qty_spin
    qtbot.keyClicks(panel.qty_spin, "12")
    key(qtbot, Qt.Key.Key_F8)  # sell …
    key(qtbot, Qt.Key.Key_F7)  # … no, buy
    assert panel.side == Side.BUY
    key(qtbot, Qt.Key.Key_Return)
    dialog = panel.confirm_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    assert focused() is dialog.confirm_button
    with qtbot.waitSignal(panel.order_requested) as sent:
        key(qtbot, Qt.Key.Key_Return)
    assert sent.args == [OrderRequest("005930", Side.BUY, 12, 71_100, OrderType.LIMIT)]
    assert "매수 주문 전송" in panel.message_label.text()


def test_escape_in_the_confirmation_sends_nothing(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, settings, stocks)
    sent: list[object] = []
    panel.order_requested.connect(sent.append)
    pick(qtbot, panel, "005930")
    panel.qty_spin.setValue(1)
    key(qtbot, Qt.Key.Key_Return)
    dialog = panel.confirm_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    key(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: panel.confirm_dialog is None)
    assert sent == []


@pytest.mark.parametrize(
    ("start", "keys", "expected"),
    [
        (49_950, [Qt.Key.Key_Up, Qt.Key.Key_Up], [50_000, 50_100]),
        (50_100, [Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Down], [50_000, 49_950, 49_900]),
        (49_950, [Qt.Key.Key_PageUp], [50_400]),  # 50,000 50,100 50,200 50,300 50,400
        (50_100, [Qt.Key.Key_PageDown], [49_800]),  # 50,000 49,950 49,900 49,850 49,800
    ],
    ids=["up-across-50000", "down-across-50000", "pgup-5-ticks", "pgdn-5-ticks"],
)
def test_arrow_keys_step_the_price_on_the_krx_grid(
    qtbot, settings, stocks, start, keys, expected
) -> None:
    panel = make_panel(qtbot, settings, stocks)
    pick(qtbot, panel, "NAVER")
    assert panel.price_spin.value() == 49_950
    panel.price_spin.setValue(start)
    seen = []
    for k in keys:
        key(qtbot, k)
        seen.append(panel.price_spin.value())
    assert seen == expected


def test_price_keys_work_from_the_stock_box_too(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, settings, stocks)
    pick(qtbot, panel, "NAVER")
    panel.stock_edit.setFocus()
    key(qtbot, Qt.Key.Key_Up)
    assert panel.price_spin.value() == 50_000
    key(qtbot, Qt.Key.Key_Down)
    assert panel.price_spin.value() == 49_950


def test_etf_prices_step_by_five_won(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, settings, stocks)
    pick(qtbot, panel, "069500")
    assert panel.price_spin.value() == 35_120
    key(qtbot, Qt.Key.Key_Up)
    assert panel.price_spin.value() == 35_125


def test_korean_name_completion(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, settings, stocks)
    key(qtbot, Qt.Key.Key_F2)
    type_text(qtbot, panel.stock_edit, "하이닉")
    model = panel.completer.completionModel()
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["000660 SK하이닉스"]
    key(qtbot, Qt.Key.Key_Return)
    assert panel.stock_edit.text() == "000660 SK하이닉스"
    assert panel.price_spin.value() == 182_000


def test_unknown_code_shows_a_message_and_sends_nothing(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, no_confirm(settings), stocks)
    sent: list[object] = []
    panel.order_requested.connect(sent.append)
    pick(qtbot, panel, "999999")
    assert panel.stock_error.isVisible()
    assert "'999999' 종목을 찾을 수 없습니다" in panel.stock_error.text()
    panel.qty_spin.setValue(1)
    panel.price_spin.setValue(10_000)
    assert panel.submit() is None
    assert sent == []
    assert panel.stock_edit.property("invalid") is True


@pytest.mark.parametrize(
    ("price", "qty", "field", "text"),
    [
        (71_000, 0, "quantity", "수량을 1주 이상 입력하세요"),
        (71_050, 1, "price", "호가 단위(100원)에 맞지 않습니다. 71,000원 또는 71,100원"),
        (92_400, 1, "price", "가격제한폭 밖입니다 (하한가 49,700원 ~ 상한가 92,300원)"),
        (71_000, 10_001, "quantity", "수량 10,001주가 한도 10,000주를 넘습니다"),
        (71_000, 71, "quantity", "주문 금액 5,041,000원이 한도 5,000,000원을 넘습니다"),
        (80_000, 1, "price", "현재가 71,000원보다 12.7% 높습니다 (한도 10%"),
    ],
    ids=["zero-qty", "off-grid", "out-of-band", "fat-qty", "fat-value", "fat-distance"],
)
def test_bad_input_is_blocked_with_a_message_next_to_the_field(
    qtbot, settings, stocks, price, qty, field, text
) -> None:
    panel = make_panel(qtbot, no_confirm(settings), stocks)
    panel.set_last_price("005930", 71_000)
    sent: list[object] = []
    panel.order_requested.connect(sent.append)
    pick(qtbot, panel, "005930")
    panel.price_spin.setValue(price)
    panel.qty_spin.setValue(qty)
    key(qtbot, Qt.Key.Key_Return)
    label = panel.quantity_error if field == "quantity" else panel.price_error
    assert label.isVisible()
    assert text in label.text()
    assert sent == []
    assert focused() is (panel.qty_spin if field == "quantity" else panel.price_spin)


def test_without_confirmation_enter_sends_at_once(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, no_confirm(settings), stocks)
    pick(qtbot, panel, "카카오")
    key(qtbot, Qt.Key.Key_F8)
    panel.qty_spin.setValue(3)
    with qtbot.waitSignal(panel.order_requested) as sent:
        key(qtbot, Qt.Key.Key_Return)
    assert sent.args == [OrderRequest("035720", Side.SELL, 3, 41_200, OrderType.LIMIT)]
    assert panel.confirm_dialog is None


def test_market_order_sends_price_zero(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, no_confirm(settings), stocks)
    pick(qtbot, panel, "005930")
    key(qtbot, Qt.Key.Key_F6)
    assert panel.order_type() == OrderType.MARKET
    assert not panel.price_spin.isEnabled()
    panel.qty_spin.setValue(2)
    panel.qty_spin.setFocus()
    with qtbot.waitSignal(panel.order_requested) as sent:
        key(qtbot, Qt.Key.Key_Return)
    assert sent.args == [OrderRequest("005930", Side.BUY, 2, 0, OrderType.MARKET)]


def test_quantity_keys_presets_and_max(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, settings, stocks)
    pick(qtbot, panel, "005930")
    key(qtbot, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert panel.qty_spin.value() == 10
    key(qtbot, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert panel.qty_spin.value() == 11
    key(qtbot, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    key(qtbot, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert panel.qty_spin.value() == 9
    # Max by cash: 1,000,000 at 71,000 with 0.015 % commission -> 14 shares.
    key(qtbot, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert "주문가능금액을 아직 받지 못했습니다" in panel.quantity_error.text()
    panel.set_account(1_000_000, {"005930": 37})
    key(qtbot, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert panel.qty_spin.value() == 14
    key(qtbot, Qt.Key.Key_F8)
    key(qtbot, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert panel.qty_spin.value() == 37  # sell: the sellable quantity


def test_escape_clears_the_ticket_but_keeps_the_stock(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, settings, stocks)
    pick(qtbot, panel, "005930")
    panel.price_spin.setValue(72_000)
    panel.qty_spin.setValue(0)
    key(qtbot, Qt.Key.Key_Return)  # qty 0 -> error shown
    assert panel.quantity_error.isVisible()
    panel.qty_spin.setValue(5)
    key(qtbot, Qt.Key.Key_Escape)
    assert panel.qty_spin.value() == 0
    assert panel.price_spin.value() == 71_000
    assert not panel.quantity_error.isVisible()
    assert panel.stock_edit.text() == "005930 삼성전자"


def test_a_clicked_book_price_fills_the_box_and_switches_to_limit(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, settings, stocks)
    pick(qtbot, panel, "005930")
    panel.set_order_type(OrderType.MARKET)
    panel.set_price(70_800)
    assert panel.order_type() == OrderType.LIMIT
    assert panel.price_spin.value() == 70_800


def test_engine_rejection_is_shown_in_the_panel(qtbot, settings, stocks) -> None:
    panel = make_panel(qtbot, settings, stocks)
    panel.show_rejection("장 운영 시간이 아닙니다 (장 종료)")
    assert panel.message_label.text() == "장 운영 시간이 아닙니다 (장 종료)"
    assert panel.message_label.property("role") == "error"
