"""`python main.py` as a user starts it: the offscreen screenshot run (simulator started and
stopped by the terminal, exit 0, a PNG of the window) and real mode refused without an
explicit confirmation (nothing started, the keys never printed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from PyQt5.QtGui import QImage

from tests.gui.conftest import write_settings

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 180


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


def test_screenshot_run_trades_saves_a_png_and_exits_0(tmp_path: Path) -> None:
    settings = write_settings(tmp_path / "settings.ini")
    before = settings.read_bytes()
    shot = tmp_path / "shots" / "terminal.png"
    data = tmp_path / "data"
    proc = run_main(
        "--screenshot", str(shot), "--quit-after", "6",
        "--settings", str(settings), "--data-dir", str(data),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    image = QImage(str(shot))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1600, 950)
    colours = {image.pixel(x, y) for x in range(0, 1600, 40) for y in range(0, 950, 40)}
    assert len(colours) > 20, "the picture is (nearly) blank"
    assert "자동매매를 켰습니다" in proc.stderr  # the showcase trades
    assert (data / "logs" / "kiwoom-terminal.log").exists()
    assert settings.read_bytes() == before  # the showcase settings were never saved
    # The simulator the run started is gone with it.
    url = re.search(r"내장 시뮬레이터 시작: (http://127\.0\.0\.1:\d+)", proc.stderr)
    assert url is not None, proc.stderr[-3000:]
    with pytest.raises(requests.ConnectionError):
        requests.get(url.group(1) + "/_sim/state", timeout=5)


def test_real_mode_is_refused_without_confirmation(tmp_path: Path) -> None:
    settings = write_settings(tmp_path / "settings.ini")
    key, secret = "REALKEY-do-not-print-1234", "REALSECRET-do-not-print-5678"
    proc = run_main(
        "--mode", "real", "--settings", str(settings), "--data-dir", str(tmp_path / "data"),
        env={
            "QT_QPA_PLATFORM": "offscreen",  # nobody can answer the dialog
            "KIWOOM_REAL_APPKEY": key,
            "KIWOOM_REAL_SECRETKEY": secret,
        },
    )  # fmt: skip
    assert proc.returncode == 2
    assert "실거래 모드를 확인하지 않아" in proc.stderr
    assert key not in proc.stderr + proc.stdout and secret not in proc.stderr + proc.stdout
    assert not (tmp_path / "data").exists()  # nothing was started or written
