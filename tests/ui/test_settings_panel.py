"""The settings form: one editor per declared setting, valid edits emitted, bad ones
explained next to the field and not emitted."""

from __future__ import annotations

import pytest
from PyQt5.QtCore import QTime
from PyQt5.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QTimeEdit

from kiwoom_terminal.settings import iter_settings, replace_setting
from ui.settings_panel import DEFAULT_SECTIONS, SettingsPanel


@pytest.fixture
def panel(qtbot, settings) -> SettingsPanel:
    widget = SettingsPanel(settings)
    qtbot.addWidget(widget)
    return widget


def test_an_editor_of_the_right_kind_for_every_setting(panel) -> None:
    expected = [i.key for i in iter_settings() if i.section in DEFAULT_SECTIONS]
    assert list(panel.editors) == expected
    kinds = {
        "trading/buy_amount": QSpinBox,
        "trading/stop_loss_pct": QDoubleSpinBox,
        "trading/rebuy_block": QCheckBox,
        "trading/trading_start": QTimeEdit,
        "trading/buy_order_type": QComboBox,
        "amend/after_last": QComboBox,
        "trading/buy_conditions": QLineEdit,
    }
    for key, kind in kinds.items():
        assert isinstance(panel.editors[key], kind), key
    amount = panel.editors["trading/buy_amount"]
    assert isinstance(amount, QSpinBox) and amount.value() == 1_000_000
    assert panel.editors["trading/buy_amount"].toolTip().startswith("[trading] buy_amount")


def test_a_valid_edit_is_emitted(qtbot, panel) -> None:
    spin = panel.editors["trading/stop_loss_pct"]
    assert isinstance(spin, QDoubleSpinBox)
    with qtbot.waitSignal(panel.setting_changed) as changed:
        spin.setValue(-2.5)
    assert changed.args == ["trading/stop_loss_pct", "-2.5"]
    assert panel.settings.trading.stop_loss_pct == -2.5
    combo = panel.editors["trading/sell_order_type"]
    assert isinstance(combo, QComboBox)
    with qtbot.waitSignal(panel.setting_changed) as changed:
        combo.setCurrentIndex(combo.findData("limit"))
    assert changed.args == ["trading/sell_order_type", "limit"]


def test_out_of_range_value_is_explained_and_not_emitted(panel) -> None:
    emitted: list[tuple[str, str]] = []
    panel.setting_changed.connect(lambda k, v: emitted.append((k, v)))
    spin = panel.editors["trading/stop_loss_pct"]
    assert isinstance(spin, QDoubleSpinBox)
    spin.setValue(5.0)
    assert emitted == []
    assert panel.error_text("trading/stop_loss_pct") == "5.0 은(는) 최댓값 0 보다 큽니다"
    assert spin.property("invalid") is True
    spin.setValue(-1.0)
    assert emitted == [("trading/stop_loss_pct", "-1.0")]
    assert panel.error_text("trading/stop_loss_pct") == ""


def test_relation_between_keys_is_checked(panel) -> None:
    emitted: list[tuple[str, str]] = []
    panel.setting_changed.connect(lambda k, v: emitted.append((k, v)))
    start = panel.editors["trading/trading_start"]
    assert isinstance(start, QTimeEdit)
    start.setTime(QTime(16, 0))
    assert emitted == []
    assert "시작 시각이 종료 시각보다 앞서야 합니다" in panel.error_text("trading/trading_start")


def test_comma_list_and_engine_refresh(panel, settings) -> None:
    emitted: list[tuple[str, str]] = []
    panel.setting_changed.connect(lambda k, v: emitted.append((k, v)))
    line = panel.editors["trading/buy_conditions"]
    assert isinstance(line, QLineEdit)
    line.setText("상승률 3% 이상, 거래량 급증")
    line.editingFinished.emit()
    assert emitted == [("trading/buy_conditions", "상승률 3% 이상, 거래량 급증")]
    # The engine applied another change: the form shows it and emits nothing.
    emitted.clear()
    panel.set_settings(replace_setting(settings, "risk/max_orders_per_minute", "12"))
    spin = panel.editors["risk/max_orders_per_minute"]
    assert isinstance(spin, QSpinBox) and spin.value() == 12
    assert emitted == []
