"""The 자동매매 설정 dock: a form generated from the settings declarations.

One editor per setting of the chosen sections, picked by type (spin boxes, check boxes, time
edits, combos, text), labelled with the setting's `meaning`. A committed edit is validated
with `replace_setting` (value range, choices, relations between keys): a bad value shows the
reason next to the field and is not emitted; a good one emits `setting_changed(key, raw)`
for the engine to apply. Spin boxes accept any number so the declared range is explained by
a message rather than silently clamped; they commit on Enter, focus change or an arrow step
(keyboard tracking is off, so typing alone commits nothing).
"""

from __future__ import annotations

import datetime as dt
import enum
import typing
from typing import Any

from PyQt5.QtCore import QTime, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from kiwoom_terminal.settings import (
    AppSettings,
    SettingInfo,
    SettingsError,
    format_value,
    iter_settings,
    replace_setting,
)
from ui.qt import ALIGN_RIGHT, repolish

DEFAULT_SECTIONS = ("trading", "amend", "risk", "order_entry")
SECTION_TITLES = {
    "trading": "자동매매",
    "amend": "미체결 정정",
    "risk": "위험 한도",
    "order_entry": "주문 입력",
    "chart": "차트",
}
_SPIN_LIMIT = 2_000_000_000
# Korean text for choice values; the stored value stays the INI code.
CHOICE_LABELS = {
    "limit": "지정가",
    "market": "시장가",
    "cancel": "취소",
    "day": "일봉",
    "minute": "1분봉",
    "sim": "시뮬레이터",
    "mock": "모의투자",
    "real": "실거래",
}


class SettingsPanel(QWidget):
    """Editable form over `settings` for `sections`; emits only valid changes."""

    setting_changed = pyqtSignal(str, str)  # "section/name", raw INI text

    def __init__(
        self,
        settings: AppSettings,
        sections: tuple[str, ...] = DEFAULT_SECTIONS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settings_panel")
        self.settings = settings
        self.infos: dict[str, SettingInfo] = {}
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self._loading = False

        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(4, 4, 4, 4)
        body_layout.setSpacing(6)
        for section in sections:
            infos = [i for i in iter_settings() if i.section == section]
            if not infos:
                continue
            group = QGroupBox(f"{SECTION_TITLES.get(section, section)} [{section}]", body)
            grid = QGridLayout(group)
            grid.setHorizontalSpacing(8)
            grid.setVerticalSpacing(2)
            grid.setColumnStretch(0, 3)
            grid.setColumnStretch(1, 2)
            row = 0
            for info in infos:
                label = QLabel(info.meaning, group)
                label.setWordWrap(True)
                label.setToolTip(f"[{info.section}] {info.name}")
                editor = self._make_editor(info, group)
                error = QLabel(group)
                error.setObjectName(f"error_{info.section}_{info.name}")
                error.setProperty("role", "error")
                error.setWordWrap(True)
                error.hide()
                label.setBuddy(editor)
                grid.addWidget(label, row, 0)
                grid.addWidget(editor, row, 1)
                grid.addWidget(error, row + 1, 0, 1, 2)
                row += 2
                self.infos[info.key] = info
                self.editors[info.key] = editor
                self.errors[info.key] = error
            body_layout.addWidget(group)
        body_layout.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.set_settings(settings)

    # --- Public -------------------------------------------------------------------------

    def set_settings(self, settings: AppSettings) -> None:
        """Show `settings` (e.g. after the engine applied a change) without emitting."""
        self.settings = settings
        self._loading = True
        try:
            for key, editor in self.editors.items():
                info = self.infos[key]
                value = getattr(getattr(settings, info.section), info.name)
                _set_editor_value(editor, value)
                self._show_error(key, "")
        finally:
            self._loading = False

    def show_error(self, key: str, message: str, settings: AppSettings | None = None) -> None:
        """Show a message next to a field (e.g. the engine refused the value).

        `settings` are the ones really in force (the engine's): the refused value stays in
        the editor for the user to fix, but entering the old value again counts as no change.
        """
        if settings is not None:
            self.settings = settings
        self._show_error(key, message)

    def error_text(self, key: str) -> str:
        label = self.errors[key]
        return label.text() if not label.isHidden() else ""

    def commit(self, key: str) -> bool:
        """Validate the editor's current value; emit `setting_changed` when valid."""
        if self._loading:
            return False
        info = self.infos[key]
        raw = _editor_raw(self.editors[key], info)
        current = format_value(getattr(getattr(self.settings, info.section), info.name))
        if raw == current:
            self._show_error(key, "")
            return False
        try:
            updated = replace_setting(self.settings, key, raw)
        except SettingsError as exc:
            self._show_error(key, message_for(key, exc))
            return False
        self.settings = updated
        self._show_error(key, "")
        self.setting_changed.emit(key, raw)
        return True

    # --- Internals ----------------------------------------------------------------------

    def _make_editor(self, info: SettingInfo, parent: QWidget) -> QWidget:
        kind = info.type
        key = info.key
        name = f"edit_{info.section}_{info.name}"
        editor: QWidget
        if kind is bool:
            check = QCheckBox(parent)
            check.toggled.connect(lambda _checked, k=key: self._on_edited(k))
            editor = check
        elif kind is int:
            spin = QSpinBox(parent)
            spin.setRange(-_SPIN_LIMIT, _SPIN_LIMIT)
            spin.setGroupSeparatorShown(True)
            spin.setKeyboardTracking(False)
            spin.setAlignment(ALIGN_RIGHT)
            spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
            spin.editingFinished.connect(lambda k=key: self._on_edited(k))
            spin.valueChanged.connect(lambda _v, k=key: self._on_edited(k))
            editor = spin
        elif kind is float:
            dspin = QDoubleSpinBox(parent)
            dspin.setRange(-1e9, 1e9)
            dspin.setDecimals(_decimals(info))
            dspin.setSingleStep(0.1 if dspin.decimals() <= 2 else 10 ** -dspin.decimals())
            dspin.setKeyboardTracking(False)
            dspin.setAlignment(ALIGN_RIGHT)
            dspin.editingFinished.connect(lambda k=key: self._on_edited(k))
            dspin.valueChanged.connect(lambda _v, k=key: self._on_edited(k))
            editor = dspin
        elif kind is dt.time:
            time_edit = QTimeEdit(parent)
            time_edit.setDisplayFormat("HH:mm")
            time_edit.setKeyboardTracking(False)
            time_edit.editingFinished.connect(lambda k=key: self._on_edited(k))
            time_edit.timeChanged.connect(lambda _t, k=key: self._on_edited(k))
            editor = time_edit
        elif info.choices or (isinstance(kind, type) and issubclass(kind, enum.Enum)):
            combo = QComboBox(parent)
            choices = info.choices or tuple(str(m.value) for m in kind)
            for choice in choices:
                text = CHOICE_LABELS.get(choice)
                combo.addItem(f"{text} ({choice})" if text else choice, choice)
            combo.currentIndexChanged.connect(lambda _i, k=key: self._on_edited(k))
            editor = combo
        else:
            line = QLineEdit(parent)
            if typing.get_origin(kind) is tuple:
                line.setPlaceholderText("쉼표로 구분")
            line.editingFinished.connect(lambda k=key: self._on_edited(k))
            editor = line
        editor.setObjectName(name)
        editor.setToolTip(f"[{info.section}] {info.name} — {info.meaning}")
        return editor

    def _on_edited(self, key: str) -> None:
        self.commit(key)

    def _show_error(self, key: str, message: str) -> None:
        label = self.errors[key]
        label.setText(message)
        label.setVisible(bool(message))
        editor = self.editors[key]
        invalid = bool(message)
        if editor.property("invalid") != invalid:
            editor.setProperty("invalid", invalid)
            repolish(editor)


def _set_editor_value(editor: QWidget, value: Any) -> None:
    editor.blockSignals(True)
    try:
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value))
        elif isinstance(editor, QTimeEdit):
            editor.setTime(QTime(value.hour, value.minute, value.second))
        elif isinstance(editor, QComboBox):
            index = editor.findData(format_value(value))
            editor.setCurrentIndex(max(index, 0))
        elif isinstance(editor, QLineEdit):
            editor.setText(format_value(value))
    finally:
        editor.blockSignals(False)


def _editor_raw(editor: QWidget, info: SettingInfo) -> str:
    if isinstance(editor, QCheckBox):
        return "true" if editor.isChecked() else "false"
    if isinstance(editor, QSpinBox):
        return str(editor.value())
    if isinstance(editor, QDoubleSpinBox):
        return format_value(round(editor.value(), editor.decimals()))
    if isinstance(editor, QTimeEdit):
        return str(editor.time().toString("HH:mm"))
    if isinstance(editor, QComboBox):
        return str(editor.currentData())
    if isinstance(editor, QLineEdit):
        return editor.text().strip()
    raise TypeError(f"no editor for {info.key}")


def _decimals(info: SettingInfo) -> int:
    """Enough decimals to show the default exactly (rates like 0.00015 need five)."""
    text = repr(float(info.default))
    if "e" in text:
        return 6
    return min(6, max(2, len(text.split(".")[1])))


def message_for(key: str, exc: SettingsError) -> str:
    """The problem line about `key` ("section/name"), without its "[section] name:" or
    "section/name:" prefix; all problems when none names the key."""
    section, _, name = key.partition("/")
    for problem in exc.problems:
        for prefix in (f"[{section}] {name}: ", f"{key}: "):
            if problem.startswith(prefix):
                return problem[len(prefix) :].split(" — ")[0]
    return "; ".join(exc.problems)
