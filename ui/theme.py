"""Look of the terminal: a Hangul-capable font, the HTS colour scheme, style sheet and icon.

Korean HTS convention: rises and buys are red, falls and sells are blue. Every widget takes
its colours from here so the whole window agrees.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt5.QtGui import QColor, QFont, QFontDatabase, QIcon
from PyQt5.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
STYLE_SHEET = RESOURCES / "style.qss"
ICON_SVG = RESOURCES / "kiwoom-terminal.svg"
ICON_PNG = RESOURCES / "kiwoom-terminal.png"

log = logging.getLogger(__name__)

# Preferred Hangul fonts, best first: Windows ships Malgun Gothic, macOS Apple SD Gothic Neo,
# Debian's fonts-nanum (installed by scripts/bootstrap.sh) NanumGothic.
KOREAN_FONT_FAMILIES = (
    "Malgun Gothic",
    "맑은 고딕",
    "Apple SD Gothic Neo",
    "NanumGothic",
    "나눔고딕",
    "NanumBarunGothic",
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Source Han Sans KR",
    "UnDotum",
    "Baekmuk Gulim",
)
FONT_POINT_SIZE = 9

UP = QColor("#d3192c")  # rise / buy (Korean HTS red)
DOWN = QColor("#1a56c4")  # fall / sell (Korean HTS blue)
FLAT = QColor("#222222")
MUTED = QColor("#7a7f87")
WARNING = QColor("#b45f06")
ERROR = QColor("#c0001a")
UP_LIGHT = QColor("#fde8ea")  # order book bid side, buy panel tint
DOWN_LIGHT = QColor("#e6eefc")  # order book ask side, sell panel tint
HIGHLIGHT = QColor("#fff3b0")  # current price in the order book


def direction_colour(sign: float) -> QColor:
    """Red above zero, blue below, neutral at zero."""
    if sign > 0:
        return UP
    if sign < 0:
        return DOWN
    return FLAT


def korean_font_family(available: list[str] | None = None) -> str | None:
    """The first installed family that renders Hangul, or None when there is none.

    Falls back to any family whose writing systems include Korean, so an unusual install
    still shows Hangul instead of empty boxes.
    """
    db = QFontDatabase()
    families = available if available is not None else db.families()
    present = {f.lower(): f for f in families}
    for name in KOREAN_FONT_FAMILIES:
        if name.lower() in present:
            return present[name.lower()]
    if available is None:
        korean = db.families(QFontDatabase.WritingSystem.Korean)
        if korean:
            return str(korean[0])
    return None


NO_KOREAN_FONT = (
    "한글 글꼴을 찾지 못했습니다: 한글이 네모(□)로 보일 수 있습니다. "
    "Debian/Ubuntu 는 'sudo apt-get install fonts-nanum' (scripts/bootstrap.sh 가 설치), "
    "Windows 는 맑은 고딕이 기본으로 있습니다."
)


def app_font() -> QFont:
    """The application font: a Hangul family at a dense HTS size. Without any Hangul font
    the window still opens, with a warning that says how to install one."""
    font = QFont()
    family = korean_font_family()
    if family:
        font.setFamily(family)
    else:
        log.warning(NO_KOREAN_FONT)
    font.setPointSize(FONT_POINT_SIZE)
    return font


def app_icon() -> QIcon:
    """The window / launcher icon (SVG, with the PNG as fallback where SVG is unsupported)."""
    icon = QIcon(str(ICON_SVG))
    if icon.isNull() or not icon.availableSizes():
        icon = QIcon(str(ICON_PNG))
    return icon


def apply_theme(app: QApplication) -> None:
    """Fusion style, font, style sheet and icon for the whole application (call once)."""
    app.setStyle("Fusion")  # the same look on Windows and Linux; the sheet builds on it
    app.setFont(app_font())
    app.setWindowIcon(app_icon())
    app.setStyleSheet(style_sheet())


def style_sheet() -> str:
    """The style sheet with `@RESOURCES@` pointing at the resources folder (image urls)."""
    if not STYLE_SHEET.exists():
        return ""
    return STYLE_SHEET.read_text(encoding="utf-8").replace("@RESOURCES@", RESOURCES.as_posix())
