"""Loads the recorded Kiwoom replies kept under tests/data/kiwoom/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "kiwoom"


def recorded(name: str) -> Any:
    """The parsed JSON of tests/data/kiwoom/<name>.json."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def recorded_text(name: str) -> str:
    return (DATA / f"{name}.json").read_text(encoding="utf-8")
