"""Resources: icon, style sheet, Hangul font choice, the desktop launcher installer."""

from __future__ import annotations

import configparser
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from PyQt5.QtGui import QImage

from ui import theme

REPO = Path(__file__).resolve().parents[2]


def _installer():
    spec = importlib.util.spec_from_file_location(
        "install_desktop", REPO / "resources" / "install_desktop.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_icon_files_load(qtbot) -> None:
    assert not theme.app_icon().isNull()
    image = QImage(str(theme.ICON_PNG))
    assert (image.width(), image.height()) == (256, 256)


def test_style_sheet_points_at_existing_images() -> None:
    sheet = theme.style_sheet()
    assert "@RESOURCES@" not in sheet
    for name in ("arrow-up.svg", "arrow-down.svg"):
        assert f"url({theme.RESOURCES.as_posix()}/{name})" in sheet
        assert (theme.RESOURCES / name).exists()


def test_a_hangul_font_is_chosen() -> None:
    assert theme.korean_font_family(["DejaVu Sans", "NanumGothic"]) == "NanumGothic"
    assert theme.korean_font_family(["Malgun Gothic", "NanumGothic"]) == "Malgun Gothic"
    assert theme.korean_font_family(["DejaVu Sans"]) is None
    # On this machine (fonts-nanum from scripts/bootstrap.sh) the app font renders Hangul.
    assert theme.korean_font_family() is not None
    assert theme.app_font().family() == theme.korean_font_family()


def test_desktop_launcher_sets_up_first_and_installs_nothing_if_that_fails(
    tmp_path, monkeypatch
) -> None:
    installer = _installer()
    calls: list[list[str]] = []
    for code in (1, 0):
        monkeypatch.setattr(
            installer.subprocess,
            "run",
            lambda cmd, code=code, **kw: (
                calls.append(cmd) or subprocess.CompletedProcess(cmd, code)
            ),
        )
        result = installer.main(["--dir", str(tmp_path)])
        assert result == code and (tmp_path / "kiwoom-terminal.desktop").exists() == (code == 0)
    setup = ["bash", str(REPO / "scripts" / "bootstrap.sh"), "runtime"]
    assert [c for c in calls if c[0] == "bash"] == [setup, setup]  # (then the menu refresh)


def test_desktop_launcher_install_and_remove(tmp_path, capsys) -> None:
    installer = _installer()
    assert installer.main(["--dir", str(tmp_path), "--no-setup"]) == 0
    path = tmp_path / "kiwoom-terminal.desktop"
    assert os.access(path, os.X_OK)
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read(path, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"] == f'"{REPO / "run.sh"}"'
    assert entry["Path"] == str(REPO)
    assert Path(entry["Icon"]).exists()
    assert entry["Name[ko]"] == "키움 트레이딩 터미널"
    assert "@" not in path.read_text(encoding="utf-8")
    assert installer.main(["--dir", str(tmp_path), "--remove"]) == 0
    assert not path.exists()


def test_exec_paths_with_spaces_are_quoted() -> None:
    installer = _installer()
    assert installer._quote_exec(Path("/home/a b/run.sh")) == '"/home/a b/run.sh"'
    assert installer._quote_exec(Path('/x/"$y/run.sh')) == '"/x/\\"\\$y/run.sh"'
    assert sys.executable  # the installer itself needs only the standard library


def test_readme_lists_the_default_keys(settings) -> None:
    """The README's key table must follow the declarations in settings.py: each `[keys]`
    name sits in a row with its default key, in the same position of a "a / b" list."""
    import dataclasses

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The window and keyboard") :]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| `")]
    table = {}
    for row in rows:
        keys = [k.strip().strip("`") for k in row[1].split(" / ")]
        names = [n.strip().strip("`") for n in row[2].split(" / ")]
        table.update(zip(names, keys))
    for name, key in dataclasses.asdict(settings.keys).items():
        shown = {"Return": "Enter", "Escape": "Esc"}.get(key, key)
        assert table.get(name) == shown, (name, key)


def test_the_app_font_has_hangul_glyphs(qtbot) -> None:
    from PyQt5.QtGui import QFontInfo, QFontMetrics

    font = theme.app_font()
    metrics = QFontMetrics(font)
    for text in "가매수잔고호가체결":
        assert metrics.inFontUcs4(ord(text)), text
    assert QFontInfo(font).family() == theme.korean_font_family()


def test_windows_icon_and_pyw_start_file() -> None:
    image = QImage(str(REPO / "resources" / "kiwoom-terminal.ico"))
    assert not image.isNull() and image.width() >= 64
    # The .pyw runs main.py's argument parser (here with the normal interpreter).
    proc = subprocess.run(
        [sys.executable, str(REPO / "kiwoom-terminal.pyw"), "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--screenshot" in proc.stdout and "--headless" in proc.stdout


def test_missing_hangul_font_is_a_warning_that_says_how_to_fix_it(
    qtbot, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(theme, "korean_font_family", lambda available=None: None)
    with caplog.at_level("WARNING", logger="ui.theme"):
        font = theme.app_font()
    assert font.pointSize() == theme.FONT_POINT_SIZE  # the window still opens
    assert any("fonts-nanum" in r.getMessage() for r in caplog.records)
