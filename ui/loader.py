"""Loads Qt Designer `.ui` files from `ui/` and composes them into a widget as `ui`.

Composition (`self.ui = load_ui(self, "main_window.ui")`, then `self.ui.some_action`) keeps
the generated names in one namespace instead of mixing them into the widget class; the
form classes are compiled once per process.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from PyQt5 import uic
from PyQt5.QtWidgets import QWidget

UI_DIR = Path(__file__).resolve().parent


@functools.cache
def form_class(name: str) -> type:
    """The form class Designer file `name` compiles to (cached)."""
    path = UI_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"Designer file {path} is missing from the installation")
    form, _base = uic.loadUiType(str(path))
    return form


def load_ui(widget: QWidget, name: str) -> Any:
    """Build the Designer form `name` into `widget` and return the form object.

    The form object holds every named child (actions, docks, menus) as an attribute; callers
    keep it as `widget.ui`.
    """
    form = form_class(name)()
    form.setupUi(widget)
    return form
