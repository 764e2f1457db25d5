"""Keyboard shortcuts from the `[keys]` settings section, checked once at start.

Every action's key is declared in `kiwoom_terminal.settings.KeySettings` with its meaning;
this module turns the text into `QKeySequence`s, reports keys that do not parse or are bound
twice, and matches key events for the keys handled inside a widget (price steps, Enter, Esc).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeyEvent, QKeySequence

from kiwoom_terminal.settings import AppSettings, iter_settings

_MODIFIER_MASK = int(
    Qt.KeyboardModifier.ShiftModifier
    | Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


@dataclass(frozen=True)
class KeyBinding:
    """One action's key: the setting name, its meaning (for F1) and the parsed sequence."""

    action: str
    meaning: str
    text: str
    sequence: QKeySequence

    @property
    def bound(self) -> bool:
        return not self.sequence.isEmpty()

    def display(self) -> str:
        """How the key is written on this platform (e.g. "Ctrl+Shift+F12"; Return as Enter)."""
        text = str(self.sequence.toString(QKeySequence.SequenceFormat.NativeText))
        return "Enter" if text == "Return" else text


class KeyMap:
    """All bindings by action name, plus the problems found while parsing them."""

    def __init__(self, settings: AppSettings) -> None:
        self.bindings: dict[str, KeyBinding] = {}
        self.problems: list[str] = []
        meanings = {i.name: i.meaning for i in iter_settings() if i.section == "keys"}
        values = dataclasses.asdict(settings.keys)
        seen: dict[str, str] = {}  # one action per key, panel keys included
        for action, text in values.items():
            sequence = _parse(text)
            if text.strip() and sequence.isEmpty():
                self.problems.append(
                    f"[keys] {action}: '{text}' 은(는) 알 수 없는 단축키입니다 "
                    "(예: F7, Ctrl+Shift+A, PgUp) — 이 기능은 단축키 없이 둡니다"
                )
            elif sequence.count() > 1:
                self.problems.append(
                    f"[keys] {action}: '{text}' — 키 하나(조합 포함)만 지정하세요 "
                    "— 이 기능은 단축키 없이 둡니다"
                )
                sequence = QKeySequence()
            if not sequence.isEmpty():
                name = sequence.toString()
                if name in seen:
                    self.problems.append(
                        f"[keys] {action}: '{text}' 은(는) 이미 {seen[name]} 에 쓰입니다 "
                        "— 이 기능은 단축키 없이 둡니다"
                    )
                    sequence = QKeySequence()
                else:
                    seen[name] = action
            self.bindings[action] = KeyBinding(action, meanings.get(action, ""), text, sequence)

    def sequence(self, action: str) -> QKeySequence:
        """The key of `action` (empty when unbound or invalid)."""
        return self.bindings[action].sequence

    def display(self, action: str) -> str:
        return self.bindings[action].display()

    def matches(self, action: str, event: QKeyEvent) -> bool:
        """True when the key event is `action`'s key. Keypad Enter counts as Return."""
        sequence = self.bindings[action].sequence
        if sequence.isEmpty():
            return False
        return event_sequence(event) == sequence[0]


def event_sequence(event: QKeyEvent) -> int:
    """A key event as the int a one-key QKeySequence holds (keypad modifier dropped)."""
    key = event.key()
    if key == Qt.Key.Key_Enter:
        key = Qt.Key.Key_Return
    return int(event.modifiers()) & _MODIFIER_MASK | key


def _parse(text: str) -> QKeySequence:
    text = text.strip()
    if not text:
        return QKeySequence()
    sequence = QKeySequence.fromString(text, QKeySequence.SequenceFormat.PortableText)
    if not sequence.toString():  # Qt's way of saying "unknown key name"
        return QKeySequence()
    if text.lower() == "enter":  # keypad Enter and Return are the same key to a trader
        return QKeySequence(Qt.Key.Key_Return)
    return sequence
