"""The 주문 panel's price box: a spin box that steps on the KRX tick grid."""

from __future__ import annotations

from PyQt5.QtWidgets import QAbstractSpinBox, QSpinBox, QWidget

from kiwoom_terminal import krx
from ui.qt import ALIGN_RIGHT

MAX_PRICE = 99_999_999


class GridPriceSpinBox(QSpinBox):
    """Price box whose steps follow the KRX tick grid (49,950 → 50,000 → 50,100)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.etf = False
        self.setRange(0, MAX_PRICE)
        self.setGroupSeparatorShown(True)
        self.setSuffix(" 원")
        self.setAlignment(ALIGN_RIGHT)
        self.setSpecialValueText(" ")  # 0 shows blank: no price yet
        self.setAccelerated(True)

    def stepBy(self, steps: int) -> None:
        """Move `steps` ticks; an off-grid value first snaps in the direction of travel."""
        value = self.value()
        if value <= 0:
            return
        self.setValue(max(1, krx.step_price(value, steps, etf=self.etf)))

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabled:
        flags = QAbstractSpinBox.StepEnabled(QAbstractSpinBox.StepEnabledFlag.StepNone)
        if self.value() <= 0:
            return flags
        return (
            flags
            | QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
            | QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        )
