"""Double-click start of the terminal on Windows (see README, "The window and keyboard").

`.pyw` files run with `pythonw.exe`, which opens no console window. Start it with the
virtual environment's interpreter (a shortcut to `.venv\\Scripts\\pythonw.exe
kiwoom-terminal.pyw`), so the terminal finds its packages; command-line options pass
through, e.g. `--mode mock`. Messages go to the window, start-up errors to a dialog, and
everything is logged to `<data folder>\\logs\\kiwoom-terminal.log`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _message_box(text: str) -> None:
    """A dialog without Qt (used when Qt itself cannot be imported)."""
    if sys.platform == "win32":
        import ctypes

        ctypes.windll.user32.MessageBoxW(None, text, "키움 트레이딩 터미널", 0x10)


def run() -> int:
    os.chdir(HERE)
    sys.path.insert(0, str(HERE))
    for name in ("stdout", "stderr"):  # pythonw has none; some libraries write there anyway
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    try:
        from main import main
    except ImportError as exc:
        _message_box(
            f"필요한 패키지를 찾을 수 없습니다 ({exc.name}).\n"
            "가상환경의 pythonw.exe 로 실행하세요: .venv\\Scripts\\pythonw.exe kiwoom-terminal.pyw"
        )
        return 2
    return main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(run())
