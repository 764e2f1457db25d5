"""Dialogs a trader answers from the keyboard: order confirmation, emergency flatten, F1 help.

All of them are opened with `open()` (window-modal, non-blocking) and report through
`accepted` / `finished`, so the event loop keeps running (ticks keep arriving) while they are
up. Enter presses the focused default button, Esc cancels. The emergency flatten is the
exception: Enter cancels it too, and only its own key (Alt+Y) or a click runs it.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiwoom_terminal.constants import Side
from kiwoom_terminal.objects import OrderRequest
from ui import labels
from ui.keymap import KeyMap
from ui.qt import hheader, vheader
from ui.theme import DOWN, UP


def _confirm_buttons(
    dialog: QDialog, confirm_text: str, cancel_text: str, confirm_name: str
) -> tuple[QPushButton, QPushButton, QDialogButtonBox]:
    """The Enter-confirms / Esc-cancels button pair every confirmation dialog ends with."""
    confirm = QPushButton(confirm_text)
    confirm.setObjectName(confirm_name)
    confirm.setDefault(True)
    confirm.setAutoDefault(True)
    cancel = QPushButton(cancel_text)
    cancel.setAutoDefault(False)
    return confirm, cancel, _button_row(dialog, confirm, cancel)


def _button_row(dialog: QDialog, confirm: QPushButton, cancel: QPushButton) -> QDialogButtonBox:
    """`confirm` accepts the dialog, `cancel` rejects it."""
    buttons = QDialogButtonBox()
    buttons.addButton(confirm, QDialogButtonBox.ButtonRole.AcceptRole)
    buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class OrderConfirmDialog(QDialog):
    """'Send this order?' with every field spelled out; Enter sends, Esc goes back."""

    def __init__(self, request: OrderRequest, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.setObjectName("order_confirm_dialog")
        side = labels.label(labels.SIDE, request.side)
        colour = (UP if request.side == Side.BUY else DOWN).name()
        self.setWindowTitle(f"{side} 주문 확인")
        self.setWindowModality(Qt.WindowModality.WindowModal)

        title = QLabel(
            f"<span style='color:{colour}; font-size:14pt; font-weight:bold'>{side}</span>"
            f" &nbsp;<b>{name}</b> ({request.code})"
        )
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        priced = request.order_type.needs_price
        price_text = f"{request.price:,}원" if priced else "시장가"
        form.addRow("주문유형", QLabel(labels.label(labels.ORDER_TYPE, request.order_type)))
        form.addRow("가격", QLabel(f"<b>{price_text}</b>"))
        form.addRow("수량", QLabel(f"<b>{request.quantity:,}주</b>"))
        if priced:
            form.addRow("주문금액", QLabel(f"<b>{request.price * request.quantity:,}원</b>"))
        form.addRow("거래소", QLabel(request.venue.value))

        self.confirm_button, self.cancel_button, buttons = _confirm_buttons(
            self, f"{side} 확인 (Enter)", "취소 (Esc)", "send_button"
        )
        self.confirm_button.setProperty("side", request.side.value)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.confirm_button.setFocus(Qt.FocusReason.OtherFocusReason)


EMERGENCY_CONFIRM_KEY = "Alt+Y"


class EmergencyDialog(QDialog):
    """Confirmation of the emergency flatten: auto-trade off, cancel all, sell all at market.

    Enter is the order-send key, so a trader presses it by habit: here it cancels. 취소 is
    the default and focused button; running the flatten takes a deliberate act, its own key
    (`EMERGENCY_CONFIRM_KEY`, written on the button) or a click on the button.
    """

    def __init__(self, holdings: int, open_orders: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emergency_dialog")
        self.setWindowTitle("비상 정리")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        text = QLabel(
            "<p style='color:#c0001a; font-size:13pt; font-weight:bold'>비상 정리를 실행할까요?</p>"
            "<ol>"
            "<li>자동매매를 끕니다</li>"
            f"<li>미체결 주문 <b>{open_orders}건</b>을 모두 취소합니다</li>"
            f"<li>보유 종목 <b>{holdings}개</b>를 전량 <b>시장가로 매도</b>합니다</li>"
            "</ol><p>되돌릴 수 없습니다.</p>"
            f"<p>실행하려면 <b>{EMERGENCY_CONFIRM_KEY}</b> 를 누르거나 실행 버튼을 클릭하세요. "
            "Enter 는 취소입니다.</p>"
        )
        text.setTextFormat(Qt.TextFormat.RichText)
        self.text = text
        self.confirm_button = QPushButton(f"비상 정리 실행 ({EMERGENCY_CONFIRM_KEY})")
        self.confirm_button.setObjectName("emergency_confirm")
        self.confirm_button.setShortcut(QKeySequence(EMERGENCY_CONFIRM_KEY))
        # Never the default, even when focused by Tab: Enter must not reach it.
        self.confirm_button.setAutoDefault(False)
        self.cancel_button = QPushButton("취소 (Enter/Esc)")
        self.cancel_button.setObjectName("emergency_cancel")
        self.cancel_button.setAutoDefault(True)
        buttons = _button_row(self, self.confirm_button, self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
        # Only now that the button is inside the dialog does this make it the dialog's main
        # default, the one Enter returns to whichever button has the focus.
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus(Qt.FocusReason.OtherFocusReason)


class CloseConfirmDialog(QDialog):
    """Asked before the window closes while the terminal is still responsible for something:
    auto-trade on (its stops stop being watched) or orders still open at the broker."""

    def __init__(
        self, auto_trade: bool, open_orders: int, tracked: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("close_confirm_dialog")
        self.setWindowTitle("터미널 종료")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        items = []
        if auto_trade:
            items.append(
                "<li>자동매매가 <b>켜져 있습니다</b>. 종료하면 추적 중인 "
                f"<b>{tracked}종목</b>의 손절·익절·트레일링 스탑을 더 이상 감시하지 않습니다</li>"
            )
        if open_orders:
            items.append(
                f"<li>미체결 주문 <b>{open_orders}건</b>은 취소되지 않고 증권사에 남습니다</li>"
            )
        text = QLabel(
            "<p style='font-size:12pt; font-weight:bold'>터미널을 종료할까요?</p>"
            f"<ul>{''.join(items)}</ul>"
            "<p>다시 시작하면 계좌를 확인한 뒤 추적을 이어갑니다.</p>"
        )
        text.setTextFormat(Qt.TextFormat.RichText)
        self.text = text
        self.confirm_button, self.cancel_button, buttons = _confirm_buttons(
            self, "종료 (Enter)", "계속 실행 (Esc)", "close_confirm"
        )
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)


class KeyHelpDialog(QDialog):
    """F1: every configured key and what it does, as set in `[keys]` of settings.ini."""

    def __init__(self, keymap: KeyMap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("key_help_dialog")
        self.setWindowTitle("단축키 도움말")
        bindings = list(keymap.bindings.values())
        self.table = QTableWidget(len(bindings), 2, self)
        self.table.setHorizontalHeaderLabels(["기능", "단축키"])
        vheader(self.table).setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        vheader(self.table).setDefaultSectionSize(self.fontMetrics().height() + 6)
        for row, binding in enumerate(bindings):
            meaning = QTableWidgetItem(binding.meaning)
            meaning.setToolTip(f"[keys] {binding.action}")
            key = QTableWidgetItem(binding.display() or "(없음)")
            key.setTextAlignment(int(Qt.AlignmentFlag.AlignCenter))
            self.table.setItem(row, 0, meaning)
            self.table.setItem(row, 1, key)
        header = hheader(self.table)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        note = QLabel(
            "단축키는 settings.ini 의 [keys] 에서 바꿀 수 있습니다. "
            "주문 창 안의 키(Enter, Esc, ↑/↓, PgUp/PgDn)는 주문 창에 포커스가 있을 때만 동작합니다."
        )
        note.setWordWrap(True)
        note.setProperty("role", "hint")
        problems = QLabel("\n".join(keymap.problems))
        problems.setProperty("role", "error")
        problems.setWordWrap(True)
        problems.setVisible(bool(keymap.problems))
        close = QDialogButtonBox()
        close_button = QPushButton("닫기 (Esc)")
        close.addButton(close_button, QDialogButtonBox.ButtonRole.RejectRole)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addWidget(problems)
        layout.addWidget(close)
        self.resize(520, 640)

    def shown_keys(self) -> dict[str, str]:
        """Meaning -> key text as listed (for tests and the README)."""
        out: dict[str, str] = {}
        for row in range(self.table.rowCount()):
            meaning = self.table.item(row, 0)
            key = self.table.item(row, 1)
            if meaning is not None and key is not None:
                out[meaning.text()] = key.text()
        return out


class RealModeDialog(QDialog):
    """Start-up confirmation of real-money mode: the user types the confirmation word.

    The start button stays disabled until the word is typed exactly, so Enter alone (or a
    stray click) cannot start trading real money.
    """

    def __init__(self, word: str, prompt: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.word = word
        self.setObjectName("real_mode_dialog")
        self.setWindowTitle("실거래 모드 확인")
        text = QLabel(
            "<p style='color:#c0001a; font-size:14pt; font-weight:bold'>실거래(REAL) 모드</p>"
            "<p>키움증권 실서버에 <b>실제 돈으로</b> 주문합니다.</p>"
            f"<p>계속하려면 아래 칸에 <b>{word}</b> 를 입력하세요.</p>"
        )
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setToolTip(prompt)
        self.answer = QLineEdit(self)
        self.answer.setObjectName("real_mode_answer")
        self.answer.setPlaceholderText(word)
        self.confirm_button, self.cancel_button, buttons = _confirm_buttons(
            self, "실거래로 시작", "종료 (Esc)", "real_mode_confirm"
        )
        self.confirm_button.setEnabled(False)
        self.answer.textChanged.connect(
            lambda typed: self.confirm_button.setEnabled(typed.strip() == word)
        )
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.answer)
        layout.addWidget(buttons)
        self.answer.setFocus(Qt.FocusReason.OtherFocusReason)

    def typed(self) -> str:
        """What the user typed when the dialog was accepted, else ""."""
        return self.answer.text().strip() if self.result() == QDialog.DialogCode.Accepted else ""
